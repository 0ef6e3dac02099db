"""Report figures: pure functions from numpy arrays to inlineable, deterministic SVG text.

Every public ``*_svg`` function returns a ``str`` starting with ``<svg`` (no XML prolog), with a
``viewBox``, ``width="100%"``, ``role="img"`` and an escaped ``<title>``/``aria-label``; text is
drawn as paths, so the HTML and PDF need no fonts. See ``core`` for the shared machinery that
other figure modules build on (``style``, ``new_figure``, ``to_svg``, ``decimate_curve``...).
"""
from .classification import (
    class_balance_svg,
    confusion_matrix_svg,
    pr_svg,
    reliability_svg,
    roc_svg,
    score_distribution_svg,
    threshold_svg,
)
from .core import (
    PALETTE,
    bar_svg,
    decimate_curve,
    new_figure,
    placeholder_svg,
    style,
    subsample_indices,
    to_svg,
)
from .regression import (
    error_by_position_svg,
    forecast_svg,
    predicted_vs_actual_svg,
    residual_hist_svg,
    residuals_vs_prediction_svg,
)
from .training import learning_curves_svg

__all__ = [
    "PALETTE",
    "bar_svg",
    "class_balance_svg",
    "confusion_matrix_svg",
    "decimate_curve",
    "error_by_position_svg",
    "forecast_svg",
    "learning_curves_svg",
    "new_figure",
    "placeholder_svg",
    "pr_svg",
    "predicted_vs_actual_svg",
    "reliability_svg",
    "residual_hist_svg",
    "residuals_vs_prediction_svg",
    "roc_svg",
    "score_distribution_svg",
    "style",
    "subsample_indices",
    "threshold_svg",
    "to_svg",
]
