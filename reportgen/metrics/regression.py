"""Regression and forecast metrics, in numpy only."""
from __future__ import annotations

import numpy as np

from . import MetricSet, as_float
from .bootstrap import bootstrap_intervals

HEADLINE = ["mae", "rmse", "r2"]
REGRESSION_KEYS = ["mae", "rmse", "r2", "mape", "median_ae", "max_error", "n"]
FORECAST_KEYS = REGRESSION_KEYS + ["mase", "naive_mae"]


def regression_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    ci: bool = True,
    n_boot: int = 200,
    seed: int = 0,
) -> MetricSet:
    """mae, rmse, r2, mape, median_ae, max_error, n; bootstrap CIs of mae, rmse, r2.

    mape is a fraction (0.1 = 10%), like scikit-learn's mean_absolute_percentage_error, but
    rows with y_true == 0 are skipped instead of dividing by machine epsilon (which turns one
    zero target into a MAPE of 1e15); `undefined["mape"]` says how many were skipped.
    r2 is None when y_true is constant: 1 - SS_res / 0 has no meaning, and scikit-learn's
    substitute (0 or 1) would read as a verdict on the model.
    """
    y, pred = _as_pair(y_true, y_pred)
    if len(y) == 0:
        return _empty(REGRESSION_KEYS)
    undefined: dict[str, str] = {}
    values = _regression_values(y, pred, undefined)
    values = {k: as_float(values.get(k)) for k in REGRESSION_KEYS}
    intervals = {}
    if ci:
        intervals = bootstrap_intervals(_headline, (y, pred), HEADLINE, n_boot, seed, point=values)
    return MetricSet(values, undefined=undefined, intervals=intervals)


def forecast_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_naive: np.ndarray,
    *,
    ci: bool = True,
    n_boot: int = 200,
    seed: int = 0,
) -> MetricSet:
    """Regression metrics plus MASE against the naive last-value forecast `y_naive`.

    mase = MAE(model) / MAE(naive) on the same rows: below 1 the model beats carrying the last
    value forward. It is None when the naive forecast is exact (MAE 0), e.g. a constant series.
    """
    y, pred = _as_pair(y_true, y_pred)
    _, naive = _as_pair(y_true, y_naive)
    if len(y) == 0:
        return _empty(FORECAST_KEYS)
    undefined: dict[str, str] = {}
    values = _regression_values(y, pred, undefined)
    values["naive_mae"] = float(np.mean(np.abs(y - naive)))
    values["mase"] = _mase(values["mae"], values["naive_mae"])
    if values["mase"] is None:
        undefined["mase"] = "the naive last-value forecast is exact on every row (naive MAE 0)"
    values = {k: as_float(values.get(k)) for k in FORECAST_KEYS}
    intervals = {}
    if ci:
        intervals = bootstrap_intervals(
            _forecast_headline, (y, pred, naive), HEADLINE + ["mase"], n_boot, seed, point=values
        )
    return MetricSet(values, undefined=undefined, intervals=intervals)


def _as_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if len(y) != len(pred):
        raise ValueError(f"arrays of different lengths: {len(y)} and {len(pred)}")
    return y, pred


def _empty(keys: list[str]) -> MetricSet:
    return MetricSet({k: None for k in keys}, undefined={k: "no rows to evaluate" for k in keys})


def _regression_values(y: np.ndarray, pred: np.ndarray, undefined: dict[str, str]) -> dict:
    abs_err = np.abs(pred - y)
    values = {
        "mae": np.mean(abs_err),
        "rmse": np.sqrt(np.mean(np.square(abs_err))),
        "r2": _r2(y, pred),
        "mape": _mape(y, abs_err, undefined),
        "median_ae": np.median(abs_err),
        "max_error": np.max(abs_err),
        "n": len(y),
    }
    if values["r2"] is None:
        undefined["r2"] = "y_true is constant (zero variance)"
    return values


def _r2(y: np.ndarray, pred: np.ndarray) -> float | None:
    """1 - SS_res / SS_tot; None for constant y (checked exactly, not via a rounded variance)."""
    if y.min() == y.max():
        return None
    ss_tot = np.sum(np.square(y - y.mean()))
    return float(1.0 - np.sum(np.square(y - pred)) / ss_tot)


def _mape(y: np.ndarray, abs_err: np.ndarray, undefined: dict[str, str]) -> float | None:
    """mean |err| / |y| over rows with y != 0, as a fraction; notes skipped rows."""
    nonzero = y != 0
    kept = int(np.count_nonzero(nonzero))
    if kept == 0:
        undefined["mape"] = "y_true is 0 on every row"
        return None
    if kept < len(y):
        undefined["mape"] = f"{len(y) - kept} of {len(y)} rows with y_true == 0 skipped"
        return float(np.mean(abs_err[nonzero] / np.abs(y[nonzero])))
    return float(np.mean(abs_err / np.abs(y)))


def _mase(mae: float, naive_mae: float) -> float | None:
    return float(mae / naive_mae) if naive_mae > 0 else None


def _headline(y: np.ndarray, pred: np.ndarray) -> dict:
    abs_err = np.abs(pred - y)
    return {
        "mae": float(np.mean(abs_err)),
        "rmse": float(np.sqrt(np.mean(np.square(abs_err)))),
        "r2": _r2(y, pred),
    }


def _forecast_headline(y: np.ndarray, pred: np.ndarray, naive: np.ndarray) -> dict:
    out = _headline(y, pred)
    out["mase"] = _mase(out["mae"], float(np.mean(np.abs(y - naive))))
    return out
