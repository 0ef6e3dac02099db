"""Figures for the data checks: feature scales and train-vs-test shift per feature."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .core import bar_svg


def feature_scale_svg(columns: Sequence[str], scales: Sequence[float], highlight: Sequence[str] = ()) -> str:
    """Robust scale (IQR / 1.349) per feature on a log axis; the extremes highlighted."""
    vals = np.asarray(list(scales), dtype=float)
    keep = np.isfinite(vals) & (vals > 0)
    names = [str(c) for c, k in zip(columns, keep) if k]
    vals = vals[keep]
    hl = [n in set(map(str, highlight)) for n in names]
    return bar_svg(names, vals, "feature_scales", xlabel="feature", ylabel="robust scale (log)", log=True,
                   highlight=hl)


def drift_svg(columns: Sequence[str], ks: Sequence[float], drifted: Sequence[bool]) -> str:
    """Kolmogorov-Smirnov statistic (train vs test) per feature; shifted features highlighted."""
    return bar_svg([str(c) for c in columns], np.asarray(list(ks), dtype=float), "feature_drift",
                   xlabel="feature", ylabel="KS statistic, train vs test", highlight=list(map(bool, drifted)))
