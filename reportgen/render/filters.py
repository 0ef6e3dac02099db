"""Jinja filters: every number and evidence value reaches the page through one of these.

Templates only lay out; formatting decisions live here so HTML and PDF (the same HTML) agree.
Every filter returns a plain ``str`` (never ``Markup``), so autoescaping still applies to it:
data text can never become markup through a filter. The one exception is ``inline_svg``, which
is only ever applied to SVG produced by ``reportgen.figures`` and defangs it defensively.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import Enum
from numbers import Integral, Real
from typing import Any

from markupsafe import Markup

NA = "n/a"

# Evidence lists / dicts longer than this are shortened on the page (report.json has them all).
_MAX_ITEMS = 8
_MAX_STR = 300


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (without importing numpy)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def num(value: Any, digits: int = 3) -> str:
    """Smart number format.

    None -> "n/a"; bools -> "yes"/"no"; ints with thousands separators (12,345); floats below 1
    with ``digits`` decimals (0.873, 0.090) or, below 0.01, ``digits`` significant digits
    (0.00345); floats from 1 up with ``digits`` significant digits but never fewer than the
    integer part (1.50, 12.3, 1,235); tiny or huge magnitudes in scientific notation (1.23e-05,
    4.50e+12).
    Non-numbers are returned as text.
    """
    value = _plain(value)
    if value is None:
        return NA
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        x = float(value)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x == 0:
            return "0"
        ax = abs(x)
        if ax >= 1e9 or ax < 1e-3:
            return f"{x:.{max(digits - 1, 0)}e}"
        if ax < 0.01:  # keep `digits` significant digits: 0.00345
            decimals = digits - 1 - math.floor(math.log10(ax))
        elif ax < 1:  # metrics and shares: a fixed `digits` decimals, so columns line up
            decimals = digits
        else:  # `digits` significant digits, never dropping integer digits: 12.3, 1,235
            decimals = max(digits - (math.floor(math.log10(ax)) + 1), 0)
        return f"{x:,.{decimals}f}"
    return str(value)


def pct(value: Any, digits: int = 1) -> str:
    """A fraction (0..1) as a percentage: 0.1234 -> "12.3%". None -> "n/a"."""
    value = _plain(value)
    if value is None or isinstance(value, bool) or not isinstance(value, Real):
        return NA if value is None else str(value)
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return num(x)
    p = x * 100.0
    if p != 0 and abs(p) < 10 ** (-digits):
        return f"<{10 ** (-digits):.{digits}f}%" if p > 0 else f"−<{10 ** (-digits):.{digits}f}%"
    return f"{p:.{digits}f}%"


_SEV_LABELS = {"critical": "Critical", "warning": "Warning", "info": "Info"}


def sev_value(severity: Any) -> str:
    """'critical' | 'warning' | 'info' from a Severity or a string (for CSS classes)."""
    raw = severity.value if isinstance(severity, Enum) else str(severity)
    raw = raw.lower()
    return raw if raw in _SEV_LABELS else "info"


def sev_label(severity: Any) -> str:
    """Severity -> its human label ("Critical", "Warning", "Info")."""
    return _SEV_LABELS[sev_value(severity)]


def _short(text: str, limit: int = _MAX_STR) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence(value: Any, _depth: int = 0) -> str:
    """One evidence value as a short string: numbers via ``num``, lists and dicts inline."""
    value = _plain(value)
    if value is None or isinstance(value, (bool, Real)):
        return num(value)
    if isinstance(value, str):
        return _short(value)
    if isinstance(value, Enum):
        return str(value.value)
    if _depth >= 2:
        return "…"
    if isinstance(value, Mapping):
        items = list(value.items())
        parts = [f"{k}: {evidence(v, _depth + 1)}" for k, v in items[:_MAX_ITEMS]]
        if len(items) > _MAX_ITEMS:
            parts.append(f"… (+{len(items) - _MAX_ITEMS} more)")
        return "{" + ", ".join(parts) + "}" if _depth else ", ".join(parts)
    if isinstance(value, (list, tuple, set, frozenset)) or (
        type(value).__module__ == "numpy" and hasattr(value, "tolist")
    ):
        seq = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(seq, (set, frozenset)):
            seq = sorted(seq, key=repr)
        seq = list(seq)
        parts = [evidence(v, _depth + 1) for v in seq[:_MAX_ITEMS]]
        if len(seq) > _MAX_ITEMS:
            parts.append(f"… (+{len(seq) - _MAX_ITEMS} more)")
        return "[" + ", ".join(parts) + "]"
    return _short(str(value))


def cell(value: Any) -> str:
    """A table cell: numbers via ``num``, missing as an en dash, text unchanged."""
    value = _plain(value)
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return evidence(value)


def humanize(key: Any) -> str:
    """An evidence key as a label: 'minority_share' -> 'minority share'."""
    return str(key).replace("_", " ")


_SLUG_RE = re.compile(r"[^a-z0-9_-]+")


def slug(text: Any) -> str:
    """A safe fragment for an HTML id: lowercase ASCII letters, digits, '-' and '_'."""
    s = _SLUG_RE.sub("-", str(text).lower()).strip("-")
    return s or "x"


# --- SVG ----------------------------------------------------------------------------------
_XML_DECL_RE = re.compile(r"<\?xml[^>]*\?>", re.I)
_DOCTYPE_RE = re.compile(r"<!DOCTYPE[^>]*>", re.I)
_METADATA_RE = re.compile(r"<metadata\b.*?</metadata\s*>", re.I | re.S)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
# Things our own figure code never emits; if they show up, the SVG is not shown at all.
_UNSAFE_SVG_RE = re.compile(
    r"<\s*/?\s*(?:(?:script|foreignObject|iframe|object|embed|link)\b|style[^>]*>[^<]*@import)"
    r"|\son[a-z]+\s*="
    r"|javascript:"
    r"|(?:href|src)\s*=\s*[\"']?\s*(?!data:|#)[a-z][a-z0-9+.-]*:"
    r"|url\(\s*[\"']?\s*(?!data:|#)[a-z][a-z0-9+.-]*:",
    re.I,
)


def inline_svg(svg: Any) -> Markup:
    """SVG text from reportgen.figures, ready to inline: prolog, DOCTYPE and RDF metadata
    removed (they are invalid or useless inside HTML). SVG that contains scripts, event
    handlers or references to anything but data: URIs / in-document anchors is replaced by a
    short notice, so a page can never load or run anything through a figure.
    """
    if not svg:
        return Markup("")
    text = str(svg)
    text = _XML_DECL_RE.sub("", text)
    text = _DOCTYPE_RE.sub("", text)
    text = _METADATA_RE.sub("", text)
    text = _COMMENT_RE.sub("", text).strip()
    if not text.lower().startswith("<svg") or _UNSAFE_SVG_RE.search(text):
        return Markup('<p class="figure-omitted">Figure omitted: it contained unsupported content.</p>')
    return Markup(text)


FILTERS = {
    "num": num,
    "pct": pct,
    "sev_label": sev_label,
    "sev_value": sev_value,
    "evidence": evidence,
    "cell": cell,
    "humanize": humanize,
    "slug": slug,
    "inline_svg": inline_svg,
}
