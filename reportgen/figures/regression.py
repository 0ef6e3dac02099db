"""Regression and forecasting figures: predicted vs actual, residual histogram, residuals vs
prediction, forecast over time and error by position in the test period.

Residuals are ``actual - predicted`` throughout. Rows where either value is NaN/inf are left
out and counted in a note. Scatters show a deterministic random sample of at most 5,000 points
(seed 0) drawn as a raster layer; binned means and histograms always use every row.
"""
from __future__ import annotations

import numpy as np

from .core import (
    GREY,
    HIGHLIGHT,
    PALETTE,
    add_note,
    decimate_curve,
    fmt_count,
    fmt_num,
    new_figure,
    placeholder_svg,
    style,
    subsample_indices,
    to_svg,
)

__all__ = [
    "predicted_vs_actual_svg",
    "residual_hist_svg",
    "residuals_vs_prediction_svg",
    "forecast_svg",
    "error_by_position_svg",
]

MAX_SCATTER = 5000
CURVE_POINTS = 2000
_MARGINS = (0.8, 0.2, 0.5, 0.3)  # left, right, bottom, top in inches (numeric tick labels only)


def _pair(y_true, y_pred):
    """Flattened float arrays, the finite-pair mask and the count left out."""
    yt = np.asarray(y_true, dtype=float).reshape(-1)
    yp = np.asarray(y_pred, dtype=float).reshape(-1)
    if yt.shape != yp.shape:
        raise ValueError(f"y_true has {yt.size} values but y_pred has {yp.size}")
    ok = np.isfinite(yt) & np.isfinite(yp)
    return yt, yp, ok, int(ok.size - ok.sum())


def _notes(shown: int, total: int, dropped: int, extra: str = "") -> str:
    parts = []
    if shown < total:
        parts.append(f"random {shown:,} of {fmt_count(total)} shown")
    if dropped:
        parts.append(f"{fmt_count(dropped)} non-finite left out")
    if extra:
        parts.append(extra)
    return "; ".join(parts)


def _scatter(ax, x, y, n_total: int):
    dense = x.size > 1000
    ax.scatter(x, y, s=4 if dense else 9, alpha=0.35 if dense else 0.7, color=PALETTE[0],
               linewidths=0, rasterized=dense, label="rows" if x.size == n_total else "rows (sample)")


def _robust_range(values: np.ndarray, lo_q=0.005, hi_q=0.995) -> tuple[float, float]:
    """Quantile range from a fixed sample of at most 50,000 values (fast, deterministic)."""
    sample = values[subsample_indices(values.size, 50_000, seed=0)]
    lo, hi = np.quantile(sample, [lo_q, hi_q])
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    if hi <= lo:
        lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _binned_stats(x: np.ndarray, y: np.ndarray, lo: float, hi: float, bins: int = 20, min_count: int = 10):
    """Centre, mean and std of y per equal-width bin of x over [lo, hi] (bins with few rows dropped)."""
    inside = (x >= lo) & (x <= hi)
    xb, yb = x[inside], y[inside]
    idx = np.minimum(((xb - lo) / (hi - lo) * bins).astype(np.int64), bins - 1)
    cnt = np.bincount(idx, minlength=bins)
    s1 = np.bincount(idx, weights=yb, minlength=bins)
    s2 = np.bincount(idx, weights=yb * yb, minlength=bins)
    keep = cnt >= min_count
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        std = np.sqrt(np.maximum(s2 / cnt - mean**2, 0.0))
    centres = lo + (np.arange(bins) + 0.5) * (hi - lo) / bins
    return centres[keep], mean[keep], std[keep]


def predicted_vs_actual_svg(y_true, y_pred) -> str:
    """Predicted (y) against actual (x) with the y = x line and the mean prediction per bin of
    the actual value (all rows)."""
    yt, yp, ok, dropped = _pair(y_true, y_pred)
    if not ok.any():
        return placeholder_svg("predicted_vs_actual", "no finite (actual, predicted) pairs",
                               title="Predicted vs actual")
    t, p = yt[ok], yp[ok]
    n = t.size
    idx = subsample_indices(n, MAX_SCATTER, seed=0)
    lo = float(min(t.min(), p.min()))
    hi = float(max(t.max(), p.max()))
    pad = 0.03 * (hi - lo or 1.0)
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    mae = float(np.mean(np.abs(t - p)))
    with style():
        fig = new_figure(4.6, 3.6, margins=_MARGINS)
        ax = fig.add_subplot()
        ax.set_anchor("W")
        _scatter(ax, t[idx], p[idx], n)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color=GREY, linestyle=":", linewidth=1.2,
                label="perfect (y = x)")
        if n >= 50:
            blo, bhi = _robust_range(t)
            cx, my, _sd = _binned_stats(t, p, blo, bhi)
            if cx.size:
                ax.plot(cx, my, color=HIGHLIGHT, linewidth=1.6, marker="o", markersize=2.5,
                        label="mean prediction per bin")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("Actual")
        ax.set_ylabel("Predicted")
        ax.legend(loc="upper left", fontsize=7)
        note = _notes(idx.size, n, dropped)
        if note:
            add_note(ax, note)
    desc = f"n={n}; R2 {r2:.4f}; MAE {mae:.6g}; non-finite rows left out {dropped}"
    return to_svg(fig, "predicted_vs_actual", title="Predicted vs actual", desc=desc)


def residual_hist_svg(y_true, y_pred) -> str:
    """Histogram of residuals (actual - predicted) over the central 99.8% (counts beyond are
    noted), with zero, mean and median marked."""
    yt, yp, ok, dropped = _pair(y_true, y_pred)
    if not ok.any():
        return placeholder_svg("residual_hist", "no finite (actual, predicted) pairs",
                               title="Residual distribution")
    r = yt[ok] - yp[ok]
    n = r.size
    lo, hi = _robust_range(r, 0.001, 0.999)
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # keep zero in view
    pad = 0.02 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    counts, edges = np.histogram(r, bins=60, range=(lo, hi))
    below, above = int(np.count_nonzero(r < lo)), int(np.count_nonzero(r > hi))
    mean, median, std = float(r.mean()), float(np.median(r)), float(r.std())
    with style():
        fig = new_figure(margins=_MARGINS)
        ax = fig.add_subplot()
        ax.stairs(counts, edges, fill=True, color=PALETTE[5], alpha=0.6)
        ax.stairs(counts, edges, color=PALETTE[0], linewidth=1.0)
        ax.axvline(0, color=GREY, linestyle=":", linewidth=1.2, label="zero")
        ax.axvline(mean, color=HIGHLIGHT, linestyle="--", linewidth=1.2, label=f"mean {fmt_num(mean)}")
        ax.axvline(median, color=PALETTE[2], linestyle="-.", linewidth=1.2, label=f"median {fmt_num(median)}")
        ax.plot([], [], " ", label=f"std {fmt_num(std)}")
        ax.set_xlim(lo, hi)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Residual (actual \u2212 predicted)")
        ax.set_ylabel("Rows")
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_count(v)))
        ax.legend(loc="upper right")
        extra = f"{fmt_count(below + above)} beyond x-range" if below + above else ""
        note = _notes(n, n, dropped, extra)
        if note:
            add_note(ax, note)
    desc = (f"n={n}; mean {mean:.6g}; median {median:.6g}; std {std:.6g}; "
            f"{below} below and {above} above the shown range")
    return to_svg(fig, "residual_hist", title="Residual distribution", desc=desc)


def residuals_vs_prediction_svg(y_true, y_pred) -> str:
    """Residual (actual - predicted) against the prediction, with the mean residual per
    prediction bin and a +/- 1 std band (all rows). The y-range covers the central 99%."""
    yt, yp, ok, dropped = _pair(y_true, y_pred)
    if not ok.any():
        return placeholder_svg("residuals_vs_prediction", "no finite (actual, predicted) pairs",
                               title="Residuals vs prediction")
    p = yp[ok]
    r = yt[ok] - p
    n = r.size
    idx = subsample_indices(n, MAX_SCATTER, seed=0)
    rlo, rhi = _robust_range(r, 0.005, 0.995)
    span = rhi - rlo
    rlo, rhi = min(rlo, 0.0) - 0.1 * span, max(rhi, 0.0) + 0.1 * span
    outside = int(np.count_nonzero((r < rlo) | (r > rhi)))
    with style():
        fig = new_figure(margins=_MARGINS)
        ax = fig.add_subplot()
        _scatter(ax, p[idx], r[idx], n)
        ax.axhline(0, color=GREY, linestyle=":", linewidth=1.2)
        if n >= 50:
            plo, phi = _robust_range(p)
            cx, mr, sd = _binned_stats(p, r, plo, phi)
            if cx.size:
                ax.fill_between(cx, mr - sd, mr + sd, color=HIGHLIGHT, alpha=0.15, linewidth=0,
                                label="\u00b11 std per bin")
                ax.plot(cx, mr, color=HIGHLIGHT, linewidth=1.6, marker="o", markersize=2.5,
                        label="mean residual per bin")
        ax.set_ylim(rlo, rhi)
        ax.set_xlabel("Predicted")
        ax.set_ylabel("Residual (actual \u2212 predicted)")
        ax.legend(loc="upper right", fontsize=7)
        extra = f"{fmt_count(outside)} beyond y-range" if outside else ""
        note = _notes(idx.size, n, dropped, extra)
        if note:
            add_note(ax, note)
    desc = f"n={n}; {outside} rows outside the shown residual range; non-finite rows left out {dropped}"
    return to_svg(fig, "residuals_vs_prediction", title="Residuals vs prediction", desc=desc)


def _time_axis(t, t_is_datetime: bool) -> tuple[np.ndarray, bool]:
    t = np.asarray(t)
    if np.issubdtype(t.dtype, np.datetime64):
        return t.astype("datetime64[ns]"), True
    if t_is_datetime:
        return np.asarray(t, dtype="datetime64[ns]"), True
    return t.astype(float), False


def forecast_svg(t: np.ndarray, y_true, y_pred, y_naive=None, t_is_datetime: bool = False) -> str:
    """Actual vs forecast over time, optionally with the naive last-value forecast; MAE of
    each forecast (over rows where both values are finite) is in the legend."""
    tt, is_dt = _time_axis(t, t_is_datetime)
    yt = np.asarray(y_true, dtype=float).reshape(-1)
    yp = np.asarray(y_pred, dtype=float).reshape(-1)
    yn = None if y_naive is None else np.asarray(y_naive, dtype=float).reshape(-1)
    n = tt.size
    if yt.size != n or yp.size != n or (yn is not None and yn.size != n):
        raise ValueError("forecast_svg: t, y_true, y_pred (and y_naive) must have the same length")
    if n == 0:
        return placeholder_svg("forecast", "no test period to show", title="Forecast vs actual")
    order = np.argsort(tt, kind="stable")
    if not np.all(order == np.arange(n)):
        tt, yt, yp = tt[order], yt[order], yp[order]
        yn = None if yn is None else yn[order]

    def mae(pred):
        ok = np.isfinite(yt) & np.isfinite(pred)
        return float(np.mean(np.abs(yt[ok] - pred[ok]))) if ok.any() else float("nan")

    # (values, label, colour, linestyle, linewidth, zorder): actual drawn on top.
    series = [(yt, "actual", "#000000", "-", 1.1, 4)]
    m_model = mae(yp)
    series.append((yp, f"forecast (MAE {fmt_num(m_model)})", PALETTE[0], "-", 1.4, 3))
    m_naive = None
    if yn is not None:
        m_naive = mae(yn)
        series.append((yn, f"naive last value (MAE {fmt_num(m_naive)})", PALETTE[1], "--", 1.1, 2))

    with style():
        fig = new_figure(6.0, 3.4, margins=(0.8, 0.2, 0.6, 0.45))
        ax = fig.add_subplot()
        for vals, lab, color, ls, lw, z in series:
            vv = np.where(np.isfinite(vals), vals, np.nan)
            xs, ys = decimate_curve(tt, vv, CURVE_POINTS)
            ax.plot(xs, ys, color=color, linestyle=ls, linewidth=lw, label=lab, zorder=z,
                    marker="o" if n <= 60 else None, markersize=2.5)
        if is_dt:
            from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

            loc = AutoDateLocator(minticks=3, maxticks=8)
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
            ax.set_xlabel("Time")
        else:
            ax.set_xlabel("Time step")
        ax.set_ylabel("Value")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(series), fontsize=7,
                  borderaxespad=0.2)
    desc = f"{n} steps; forecast MAE {m_model:.6g}"
    if n > CURVE_POINTS:
        desc += f"; curves drawn with at most {CURVE_POINTS} points each"
    if m_naive is not None:
        desc += f"; naive last-value MAE {m_naive:.6g}"
    return to_svg(fig, "forecast", title="Forecast vs actual over the test period", desc=desc)


def _rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling mean ignoring NaN (NaN where a window has no finite value)."""
    finite = np.isfinite(x)
    v = np.where(finite, x, 0.0)
    c1 = np.concatenate([[0.0], np.cumsum(v)])
    c0 = np.concatenate([[0], np.cumsum(finite)])
    n = x.size
    half = window // 2
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) - half + window, 0, n)
    cnt = c0[hi] - c0[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (c1[hi] - c1[lo]) / np.maximum(cnt, 1), np.nan)


def error_by_position_svg(abs_error: np.ndarray) -> str:
    """|error| against the position in the test period, with a centred rolling mean and the
    overall mean: does the error grow as the forecast horizon or time moves on?"""
    e = np.abs(np.asarray(abs_error, dtype=float).reshape(-1))
    n = e.size
    finite = np.isfinite(e)
    if not finite.any():
        return placeholder_svg("error_by_position", "no finite errors to show",
                               title="Absolute error by position")
    window = int(np.clip(n // 20, 1, 10_000))
    roll = _rolling_mean(e, window)
    pos = np.arange(n)
    overall = float(e[finite].mean())
    k = max(1, n // 10)
    head = e[:k][np.isfinite(e[:k])]
    tail = e[-k:][np.isfinite(e[-k:])]
    head_m = float(head.mean()) if head.size else float("nan")
    tail_m = float(tail.mean()) if tail.size else float("nan")
    with style():
        fig = new_figure(6.0, 3.2, margins=_MARGINS)
        ax = fig.add_subplot()
        xs, ys = decimate_curve(pos, np.where(finite, e, np.nan), CURVE_POINTS)
        ax.plot(xs, ys, color=PALETTE[5], linewidth=0.7, alpha=0.7, label="|error|")
        if window > 1:
            xr, yr = decimate_curve(pos, roll, CURVE_POINTS)
            ax.plot(xr, yr, color=PALETTE[0], linewidth=1.8, label=f"rolling mean ({window} steps)")
        ax.axhline(overall, color=HIGHLIGHT, linestyle="--", linewidth=1.1, label=f"overall mean {fmt_num(overall)}")
        ax.set_xlim(0, max(n - 1, 1))
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Position in the test period (step)")
        ax.set_ylabel("Absolute error")
        ax.legend(loc="upper left", fontsize=7)
        n_bad = int(n - finite.sum())
        if n_bad:
            add_note(ax, f"{n_bad:,} non-finite errors left out")
    desc = (f"{n} steps; mean absolute error {overall:.6g}; first 10% {head_m:.6g}; "
            f"last 10% {tail_m:.6g}")
    return to_svg(fig, "error_by_position", title="Absolute error by position in the test period", desc=desc)
