"""Reliability curve and expected calibration error over equal-width probability bins.

Binning is scikit-learn's calibration_curve(strategy="uniform"): edges linspace(0, 1, n_bins+1),
bin i holds (edge_i, edge_i+1] (the first bin also holds 0), so the curve drawn in a report
matches the one a user gets from scikit-learn.
"""
from __future__ import annotations

import numpy as np


def calibration_curve(
    y_true_binary, prob, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted probability, observed frequency, row count) of each non-empty bin.

    For multiclass models pass y_true_binary = (pred == y) and prob = the top probability,
    which gives the top-label (confidence) reliability curve.
    """
    mean_pred, observed, count = _bin_stats(y_true_binary, prob, n_bins)
    keep = count > 0
    return mean_pred[keep], observed[keep], count[keep]


def expected_calibration_error(y_true_binary, prob, n_bins: int = 15) -> float | None:
    """sum over bins of (rows in bin / rows) * |observed frequency - mean predicted|.

    0 means predicted probabilities match observed frequencies. It is biased upwards on small
    samples (a few rows per bin scatter by chance), so compare it with care below ~1000 rows.
    None for zero rows (there is nothing to measure, and JSON has no NaN).
    """
    mean_pred, observed, count = _bin_stats(y_true_binary, prob, n_bins)
    total = count.sum()
    if total == 0:
        return None
    return float(np.dot(count, np.abs(observed - mean_pred)) / total)


def _bin_stats(y_true_binary, prob, n_bins: int):
    """Per-bin mean predicted, observed frequency (0 where empty) and counts, all n_bins bins."""
    y = np.asarray(y_true_binary, dtype=np.float64).ravel()
    p = np.asarray(prob, dtype=np.float64).ravel()
    if len(y) != len(p):
        raise ValueError(f"arrays of different lengths: {len(y)} and {len(p)}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], p)
    count = np.bincount(bins, minlength=n_bins)
    safe = np.maximum(count, 1)
    mean_pred = np.bincount(bins, weights=p, minlength=n_bins) / safe
    observed = np.bincount(bins, weights=y, minlength=n_bins) / safe
    return mean_pred, observed, count
