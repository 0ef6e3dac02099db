"""Report -> report.json text (SPEC.md fields plus documented extensions).

JSON has no NaN or infinity: they become null. numpy scalars and arrays become Python numbers
and lists, so ``json.dumps(..., allow_nan=False)`` never fails on analysis output.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..report import Report


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dict/list/str/int/float/bool/None, floats finite.

    NaN and +-inf -> None; numpy scalars/arrays -> Python scalars/lists; Enum -> its value;
    paths -> str; dates -> ISO 8601; sets -> sorted lists; dataclasses -> dicts;
    dict keys -> str. Anything else falls back to ``str(value)``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    module = type(value).__module__
    if module == "numpy" or module.startswith("numpy."):
        if hasattr(value, "tolist"):  # ndarray and numpy scalars
            return to_jsonable(value.tolist())
        if hasattr(value, "item"):  # pragma: no cover
            return to_jsonable(value.item())
    if isinstance(value, Decimal):
        return to_jsonable(float(value))
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return to_jsonable(value.to_dict())
        return to_jsonable(dataclasses.asdict(value))
    if hasattr(value, "isoformat"):  # pandas.Timestamp and friends
        try:
            return value.isoformat()
        except Exception:  # pragma: no cover
            pass
    if hasattr(value, "tolist"):  # pandas Series / Index
        try:
            return to_jsonable(value.tolist())
        except Exception:  # pragma: no cover
            pass
    return str(value)


def _key(key: Any) -> str:
    key = to_jsonable(key)
    return key if isinstance(key, str) else json.dumps(key)


def render_json(report: "Report") -> str:
    """report.json text: ``report.to_dict()`` made JSON-safe, indented, ending in a newline."""
    data = to_jsonable(report.to_dict())
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False, ensure_ascii=False) + "\n"
