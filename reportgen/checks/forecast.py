"""Forecast audit extras: the seasonal-naive baseline and the "Forecast" report section.

The naive last-value baseline and MASE against it are part of the test metrics (metrics.test
"mase", "naive_mae"), and evaluation.check_below_baseline claims a forecast that does not beat
it. This module adds the seasonal-naive baseline: the value one season earlier, with the season
detected from the autocorrelation of the training target. A model that beats the last value but
not the seasonal-naive forecast has not learned the seasonality that a one-line rule captures;
that is claimed here as evaluation.below_baseline (never both claims for the same model).

Season detection (`detect_season`): remove a linear trend, compute the autocorrelation up to a
third of the series (at least three full seasons) or 5,000 steps, and keep the lags that are peaks with
autocorrelation >= 0.3 (and above the 99% white-noise bound 2.58 / sqrt(n)), rising at least
0.3 above the trough before them and highest from half to 1.5 times their lag; the season is
the shortest such lag whose peak is within 0.1 of the highest (12 rather than 24 or 36).
"""
from __future__ import annotations

import numpy as np

from ..findings import Finding, Severity
from ..report import FigureBlock, Section, Table

MIN_ACF = 0.3
MIN_PROMINENCE = 0.3
PEAK_TOLERANCE = 0.1
MAX_SEGMENTS = 10
MAX_SEASON = 5000  # longest season looked for (e.g. a year of hourly data has 8,760 steps: use daily data)
MIN_ROWS = 10


def _r(x, nd=4):
    return None if x is None else round(float(x), nd)


def autocorrelation(y: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags 0..max_lag (FFT; biased estimator, acf[0] = 1)."""
    x = np.asarray(y, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size)
    acf = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    return acf / acf[0] if acf[0] > 0 else np.zeros(max_lag + 1)


def detect_season(y: np.ndarray, max_lag: int | None = None) -> tuple[int | None, float | None]:
    """(season length in steps, its autocorrelation) or (None, None) when there is no clear season.

    >>> t = np.arange(240); detect_season(np.sin(2 * np.pi * t / 12) + 0.01 * t)[0]
    12
    """
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    n = len(y)
    if n < 12:
        return None, None
    t = np.arange(n, dtype=np.float64)
    detrended = y - np.polyval(np.polyfit(t, y, 1), t)
    if not np.std(detrended) > 0:
        return None, None
    max_lag = min(max_lag or MAX_SEASON, n // 3)
    if max_lag < 3:
        return None, None
    acf = autocorrelation(detrended, min(n - 1, max_lag + max_lag // 2 + 1))
    floor = max(MIN_ACF, 2.58 / np.sqrt(n))
    lags = np.arange(2, max_lag + 1)
    trough = np.minimum.accumulate(acf[1:max_lag])  # lowest autocorrelation before each lag
    peak = ((acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1]) & (acf[lags] >= floor)
            & (acf[lags] - trough[lags - 2] >= MIN_PROMINENCE))
    # a season's peak is the highest autocorrelation from half to one and a half times its lag:
    # this drops noise wiggles on the flanks of a broad peak
    peaks = np.array([m for m in lags[peak] if acf[m] >= acf[(m + 1) // 2: m + m // 2 + 1].max()], dtype=np.int64)
    if peaks.size == 0:
        return None, None
    best = acf[peaks].max()
    m = int(peaks[np.argmax(acf[peaks] >= best - PEAK_TOLERANCE)])
    return m, float(acf[m])


def _order(df, col) -> np.ndarray:
    from ..inputs import time_values

    if col:
        return np.argsort(time_values(df, col), kind="stable")
    return np.arange(len(df))


def forecast_extras(ctx) -> dict | None:
    """Seasonal-naive baseline, MAE/RMSE of every forecaster and errors by test position.

    Cached in ctx.cache["forecast"]. Values are on the finite test rows, like the test metrics;
    the comparisons with the seasonal-naive forecast use the rows that have a value one season
    earlier.
    """
    if ctx.task != "forecast":
        return None
    if "forecast" in ctx.cache:
        return ctx.cache["forecast"]
    from ..inputs import time_values

    inp = ctx.inputs
    col = inp.time_column
    y_test = ctx.y_test.astype(np.float64)
    fin = ctx.finite_rows
    if fin.sum() < 2:
        ctx.cache["forecast"] = None
        return None
    # the whole series: training rows then test rows, in time order
    if ctx.has_train:
        y_tr = ctx.y_train.astype(np.float64)
        if col:
            t_all = np.concatenate([time_values(inp.train, col), time_values(inp.test, col)])
        else:
            t_all = np.arange(len(y_tr) + len(y_test), dtype=np.float64)
        y_all = np.concatenate([y_tr, y_test])
        is_test = np.r_[np.zeros(len(y_tr), bool), np.ones(len(y_test), bool)]
        season_source = "training"
        season_series = y_tr[_order(inp.train, col)]
    else:
        t_all = time_values(inp.test, col) if col else np.arange(len(y_test), dtype=np.float64)
        y_all, is_test = y_test, np.ones(len(y_test), bool)
        season_source = "test"
        season_series = y_test[_order(inp.test, col)]
    period, acf = detect_season(season_series)
    order = np.argsort(t_all, kind="stable")
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    test_pos = pos[is_test]  # position of each test row (original order) in the whole series
    ys = y_all[order]
    snaive = np.full(len(y_test), np.nan)
    if period is not None:
        ok = test_pos - period >= 0
        snaive[ok] = ys[test_pos[ok] - period]
    snaive = snaive[fin]
    y, pred, naive = ctx.test_y, ctx.test_scores, ctx.naive_forecast
    mean_base = float(np.mean(ctx.y_train)) if ctx.has_train else float(np.mean(y))
    have = np.isfinite(snaive)

    def score(p, rows=None):
        rows = np.ones(len(y), bool) if rows is None else rows
        if rows.sum() == 0:
            return None, None
        e = y[rows] - p[rows]
        return float(np.mean(np.abs(e))), float(np.sqrt(np.mean(e ** 2)))

    model_mae, model_rmse = score(pred)
    naive_mae, naive_rmse = score(naive)
    mean_mae, mean_rmse = score(np.full(len(y), mean_base))
    sn_mae, sn_rmse = score(snaive, have) if period is not None else (None, None)
    model_mae_sn = score(pred, have)[0] if period is not None else None
    mase_seasonal = (model_mae_sn / sn_mae) if (sn_mae and model_mae_sn is not None) else None
    # error by position in the test period (time order)
    t_test = t_all[is_test][fin]
    order_t = np.argsort(t_test, kind="stable")
    n_seg = int(min(MAX_SEGMENTS, max(1, len(y) // MIN_ROWS)))
    segments = []
    for part in np.array_split(order_t, n_seg):
        if len(part) == 0:
            continue
        sn_part = part[have[part]]
        segments.append({
            "rows": int(len(part)),
            "start": _label_time(ctx, inp.test, col, t_test[part[0]]),
            "end": _label_time(ctx, inp.test, col, t_test[part[-1]]),
            "model_mae": float(np.mean(np.abs(y[part] - pred[part]))),
            "naive_mae": float(np.mean(np.abs(y[part] - naive[part]))),
            "seasonal_naive_mae": float(np.mean(np.abs(y[sn_part] - snaive[sn_part]))) if len(sn_part) else None,
        })
    out = {
        "season": period, "season_acf": acf, "season_from": season_source,
        "rows": int(len(y)), "rows_compared_seasonal": int(have.sum()) if period is not None else 0,
        "model_mae": model_mae, "model_rmse": model_rmse,
        "naive_mae": naive_mae, "naive_rmse": naive_rmse,
        "seasonal_naive_mae": sn_mae, "seasonal_naive_rmse": sn_rmse,
        "model_mae_on_seasonal_rows": model_mae_sn,
        "mase_seasonal": mase_seasonal,
        "mean_mae": mean_mae, "mean_rmse": mean_rmse, "mean_value": mean_base,
        "segments": segments,
    }
    ctx.cache["forecast"] = out
    return out


def _label_time(ctx, df, col, value) -> str:
    if not col:
        return f"{int(value)}"
    import pandas as pd

    if pd.api.types.is_numeric_dtype(df[col]):
        v = float(value)
        return f"{int(v)}" if v.is_integer() else f"{v:.4g}"
    ts = pd.Timestamp(int(value))
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else str(ts)


def check_seasonal_baseline(ctx) -> list[Finding]:
    """evaluation.below_baseline: the forecast beats the last value but not the seasonal-naive one.

    Silent when the model does not beat the last value either: evaluation.check_below_baseline
    already claims that, and one claim per cause is enough.
    """
    fx = forecast_extras(ctx)
    if not fx or fx["season"] is None or fx["rows_compared_seasonal"] < MIN_ROWS:
        return []
    mase = ctx.test_metrics.values.get("mase")
    if mase is not None and mase >= 1.0:
        return []
    ratio = fx["mase_seasonal"]
    if ratio is None or ratio < 1.0:
        return []
    m = fx["season"]
    sev = Severity.CRITICAL if ratio >= 1.25 else Severity.WARNING
    return [Finding(
        "evaluation.below_baseline", sev,
        f"The forecast is no better than repeating the value from one season ({m} steps) earlier "
        f"(MAE ratio {ratio:.2f})",
        {"baseline": f"seasonal naive, season {m} steps", "season": m, "season_autocorrelation": _r(fx["season_acf"], 3),
         "season_detected_from": fx["season_from"], "mae": _r(fx["model_mae_on_seasonal_rows"]),
         "seasonal_naive_mae": _r(fx["seasonal_naive_mae"]), "mae_ratio_seasonal": _r(ratio),
         "mase": _r(mase), "rows": fx["rows_compared_seasonal"]},
        f"The series repeats every {m} steps and the model does not exploit it: give it at least one full season "
        f"of history (window or lag features up to lag {m}), add calendar/season features, or model the seasonal "
        "difference (y[t] - y[t-season]); compare every forecast with seasonal-naive.",
        impact=float(min(1.0, ratio - 1.0 + 0.5)),
    )]


CHECKS = [check_seasonal_baseline]


def build_section(ctx) -> Section | None:
    fx = forecast_extras(ctx)
    if not fx:
        return None
    from ..figures.validation import error_by_position_baselines_svg

    sec = Section("forecast", "Forecast")
    m = fx["season"]
    if m is not None:
        sec.paragraphs.append(
            f"Season detected from the autocorrelation of the {fx['season_from']} target: {m} steps "
            f"(autocorrelation {fx['season_acf']:.2f} at lag {m}, after removing a linear trend). The seasonal-naive "
            f"forecast repeats the value from {m} steps earlier; it is compared on the "
            f"{fx['rows_compared_seasonal']:,} test rows that have such a value.")
    else:
        sec.paragraphs.append(
            f"No clear season in the autocorrelation of the {fx['season_from']} target (no peak of at least "
            f"{MIN_ACF} up to a third of the series), so there is no seasonal-naive baseline.")
    sec.paragraphs.append("All forecasts are one step ahead: the naive forecast repeats the previous actual value. "
                          "MAE ratio below 1 means the model beats that baseline (against the last value it is MASE).")
    rows = [["model", fx["model_mae"], fx["model_rmse"], "", fx["rows"]],
            ["naive (last value)", fx["naive_mae"], fx["naive_rmse"],
             _ratio(fx["model_mae"], fx["naive_mae"]), fx["rows"]]]
    if m is not None:
        rows.append([f"seasonal naive ({m} steps)", fx["seasonal_naive_mae"], fx["seasonal_naive_rmse"],
                     fx["mase_seasonal"], fx["rows_compared_seasonal"]])
    rows.append([f"{'training' if ctx.has_train else 'test'} mean", fx["mean_mae"], fx["mean_rmse"],
                 _ratio(fx["model_mae"], fx["mean_mae"]), fx["rows"]])
    sec.tables.append(Table("Model against baselines", ["forecaster", "MAE", "RMSE", "model MAE / baseline MAE", "rows"],
                            rows))
    segs = fx["segments"]
    if segs:
        sec.tables.append(Table(
            "Error by position in the test period",
            ["from", "to", "rows", "model MAE", "naive MAE"] + (["seasonal naive MAE"] if m is not None else []),
            [[s["start"], s["end"], s["rows"], s["model_mae"], s["naive_mae"]]
             + ([s["seasonal_naive_mae"]] if m is not None else []) for s in segs],
            "Consecutive blocks of the test period, earliest first. Errors that grow along the period suggest the "
            "model is drifting away from the series (retrain more often) or that it relies on stale inputs."))
        series = {"model": [s["model_mae"] for s in segs], "naive (last value)": [s["naive_mae"] for s in segs]}
        if m is not None:
            series[f"seasonal naive ({m})"] = [s["seasonal_naive_mae"] for s in segs]
        unit = ctx.inputs.time_column or "row"
        sec.figures.append(FigureBlock(
            "forecast_error_position", "Error by position in the test period, against the baselines",
            error_by_position_baselines_svg([s["start"] for s in segs], series,
                                            xlabel=f"start of block ({unit})"),
            "Mean absolute error in consecutive blocks of the test period."))
    return sec


def _ratio(a, b):
    return None if a is None or not b else a / b
