"""Evaluation metrics as pure functions on numpy arrays.

Why not scikit-learn: importing it costs most of a second, and a predictions-only report of a
million rows has a budget of a few seconds in total. The functions here reproduce scikit-learn's
definitions (ties in ROC AUC, step-wise average precision, zero_division=0) with numpy alone,
and the tests check them against scikit-learn on the same arrays.

Every number handed out is a plain Python float (or None when the metric is undefined, with a
one-line reason in `MetricSet.undefined`), so a `MetricSet` goes to JSON without conversion.
"""
from __future__ import annotations

import math

import numpy as np
from dataclasses import dataclass, field


@dataclass
class MetricSet:
    """The metrics of one evaluation, as plain data.

    values:     flat headline metrics; None when undefined.
    per_class:  classification only: label -> {precision, recall, f1, support}.
    undefined:  metric -> one-line reason why it is None, or a caveat on how it was computed
                (e.g. precision 0.0 because nothing was predicted positive).
    confusion:  classification only: rows = true class, columns = predicted class.
    intervals:  bootstrap 95% confidence intervals of the headline metrics.
    """

    values: dict[str, float | None]
    per_class: dict[str, dict[str, float | None]] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)
    confusion: list[list[int]] | None = None
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)


def as_float(x) -> float | None:
    """A plain Python float, or None for None / NaN / inf (JSON has no NaN)."""
    if x is None:
        return None
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)  # counts (n, support) stay integers
    x = float(x)
    return x if math.isfinite(x) else None


# Submodules import MetricSet and as_float from this partially initialised package, so these
# imports must stay below the definitions above.
from .bootstrap import bootstrap_intervals  # noqa: E402
from .calibration import calibration_curve, expected_calibration_error  # noqa: E402
from .classification import (  # noqa: E402
    binary_metrics,
    confusion_matrix,
    multiclass_metrics,
    threshold_sweep,
)
from .regression import forecast_metrics, regression_metrics  # noqa: E402

__all__ = [
    "MetricSet",
    "as_float",
    "binary_metrics",
    "multiclass_metrics",
    "regression_metrics",
    "forecast_metrics",
    "confusion_matrix",
    "calibration_curve",
    "expected_calibration_error",
    "threshold_sweep",
    "bootstrap_intervals",
]
