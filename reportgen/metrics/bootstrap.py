"""Bootstrap confidence intervals that stay cheap on a million rows."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

MAX_ROWS = 20_000
MIN_VALID_SHARE = 0.5


def bootstrap_intervals(
    metric_fn: Callable[..., dict],
    arrays: tuple[np.ndarray, ...],
    keys: list[str],
    n_boot: int = 200,
    seed: int = 0,
    *,
    point: dict | None = None,
    prepare: Callable[..., tuple[np.ndarray, ...]] | None = None,
    max_rows: int = MAX_ROWS,
) -> dict[str, tuple[float, float]]:
    """Percentile 95% bootstrap intervals of `metric_fn(*arrays)[key]` for each key.

    `arrays` are resampled row-wise together (same rows in each), `metric_fn` is called on each
    resample and must return a dict holding (some of) `keys`.

    Large inputs: with n > `max_rows` rows (20,000), resampling all n rows 200 times would cost
    seconds, so the resamples are drawn from a random subsample of m = `max_rows` rows (without
    replacement). The sampling spread of these metrics shrinks like 1/sqrt(n), so the interval's
    lower and upper half-widths, measured around the subsample's own estimate, are scaled by
    sqrt(m/n) and placed around the full-data point estimate. This keeps the interval's
    asymmetry and costs the same at any n.

    `point` is the full-data estimate, when the caller already has it (saves one full-size
    `metric_fn` call). `prepare(*arrays) -> arrays`, when given, runs once on the rows the
    resamples are drawn from (all rows, or the subsample); its output is what gets resampled and
    passed to `metric_fn`. It lets a caller compute per-row quantities that depend on which rows
    take part, such as score ranks, once instead of in each of the n_boot calls.

    Resamples where a metric is None or not finite (e.g. ROC AUC on a resample with a single
    class) are skipped for that metric; a metric defined in fewer than half of the resamples
    gets no interval, as the rest would be a biased selection.

    A percentile interval can miss the point estimate for skewed metrics on small n; the
    half-widths are floored at 0 so every interval contains its point estimate.
    """
    n = len(arrays[0]) if arrays else 0
    if n < 2 or n_boot < 1 or not keys:
        return {}
    rng = np.random.default_rng(seed)
    if point is None:
        point = metric_fn(*(prepare(*arrays) if prepare else arrays))
    scale = 1.0
    if n > max_rows:
        sub = np.sort(rng.choice(n, size=max_rows, replace=False))
        arrays = tuple(a[sub] for a in arrays)
        scale = math.sqrt(max_rows / n)
    if prepare is not None:
        arrays = tuple(prepare(*arrays))
    centre = metric_fn(*arrays) if scale < 1.0 else point
    replicates = _replicates(metric_fn, arrays, keys, n_boot, rng)
    out = {}
    for key in keys:
        interval = _interval(point.get(key), centre.get(key), replicates[key], n_boot, scale)
        if interval is not None:
            out[key] = interval
    return out


def _replicates(metric_fn, arrays, keys, n_boot, rng) -> dict[str, list[float]]:
    """Metric values on `n_boot` resamples with replacement; undefined values are dropped."""
    m = len(arrays[0])
    values: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(n_boot):
        idx = rng.integers(0, m, size=m)
        result = metric_fn(*(a[idx] for a in arrays))
        for key in keys:
            v = result.get(key)
            if v is not None and math.isfinite(v):
                values[key].append(float(v))
    return values


def _interval(est, centre, reps, n_boot, scale) -> tuple[float, float] | None:
    """(lower, upper) around `est`, from the replicates' percentiles relative to `centre`."""
    if est is None or centre is None or len(reps) < max(2, MIN_VALID_SHARE * n_boot):
        return None
    lo, hi = np.percentile(np.asarray(reps), [2.5, 97.5])
    below = max(float(centre) - float(lo), 0.0) * scale
    above = max(float(hi) - float(centre), 0.0) * scale
    return (float(est) - below, float(est) + above)
