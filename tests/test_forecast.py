"""Forecast audit: season detection, the seasonal-naive baseline, evaluation.below_baseline for
forecasts (one claim per model), the Forecast section, and leakage.temporal for shuffled splits.

Models are real small Keras forecasters on tests/models.seasonal_series() (period 12, trend):
an LSTM reading the 12 lags as a window, and variants that miss the season or barely trained.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import models  # noqa: E402  (tests/ is on sys.path, see conftest.py)

from reportgen.checks.forecast import detect_season  # noqa: E402


def make_ctx(case, *, model=None, predictions=None, train=True):
    from reportgen.context import AuditContext
    from reportgen.inputs import build_inputs

    inputs = build_inputs(test=case.test, target=case.target, model=None if predictions is not None else (model or case.model),
                          predictions=predictions, train=case.train if train else None, task="forecast",
                          time_column=case.time_column)
    return AuditContext(inputs, strict=True)


def below_baseline_claims(ctx) -> list:
    from reportgen.checks import evaluation, forecast

    return [f for f in evaluation.check_below_baseline(ctx) + forecast.check_seasonal_baseline(ctx)
            if f.code == "evaluation.below_baseline"]


# -- season detection --------------------------------------------------------------------------
@pytest.mark.parametrize("period", [7, 12, 24])
def test_detect_season_finds_the_period(period):
    rng = np.random.default_rng(period)
    t = np.arange(40 * period)
    y = 100 + 0.1 * t + 5 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1.5, len(t))
    m, acf = detect_season(y)
    assert m == period and acf > 0.5


def test_detect_season_on_the_test_series_training_target():
    case = models.seasonal_series()
    assert detect_season(case.train["y"].to_numpy())[0] == 12


@pytest.mark.parametrize("kind", ["white_noise", "random_walk", "trend", "constant", "short"])
def test_detect_season_silent_without_a_season(kind):
    rng = np.random.default_rng(1)
    y = {"white_noise": rng.normal(0, 1, 500), "random_walk": np.cumsum(rng.normal(0, 1, 500)),
         "trend": 3.0 * np.arange(500) + rng.normal(0, 1, 500), "constant": np.full(500, 4.0),
         "short": np.sin(np.arange(10))}[kind]
    assert detect_season(y) == (None, None)


# -- baselines and evaluation.below_baseline --------------------------------------------------
def test_good_lstm_beats_both_baselines_and_is_not_claimed():
    from reportgen.checks.forecast import build_section, forecast_extras

    case = models.healthy_lstm()
    ctx = make_ctx(case)
    fx = forecast_extras(ctx)
    assert fx["season"] == 12 and fx["season_from"] == "training"
    # the seasonal-naive forecast of each test row is the target 12 steps earlier in the whole series
    series = np.r_[case.train["y"].to_numpy(), case.test["y"].to_numpy()]
    n_tr = len(case.train)
    snaive = series[n_tr - 12: len(series) - 12]
    assert np.allclose(snaive, case.test["lag_12"].to_numpy())
    assert fx["seasonal_naive_mae"] == pytest.approx(np.mean(np.abs(case.test["y"].to_numpy() - snaive)))
    assert fx["naive_mae"] == pytest.approx(ctx.test_metrics.values["naive_mae"])
    assert fx["mase_seasonal"] < 1.0 and ctx.test_metrics.values["mase"] < 1.0
    assert below_baseline_claims(ctx) == []

    sec = build_section(ctx)
    assert sec.title == "Forecast"
    baselines = sec.tables[0]
    assert [r[0] for r in baselines.rows] == ["model", "naive (last value)", "seasonal naive (12 steps)", "training mean"]
    positions = sec.tables[1]
    assert sum(r[2] for r in positions.rows) == len(case.test) and len(positions.rows) == 10
    assert positions.rows[0][0] == str(int(case.test["step"].min()))
    assert sec.figures[0].key == "forecast_error_position" and sec.figures[0].svg.startswith("<svg")


def test_beating_last_value_but_not_seasonal_naive_is_claimed_once():
    # two lags cannot show the 12-step season: better than the last value, worse than a season ago
    case = models.train_lstm(models.seasonal_series(window=2), epochs=20)
    ctx = make_ctx(case)
    assert ctx.test_metrics.values["mase"] < 1.0
    claims = below_baseline_claims(ctx)
    assert len(claims) == 1
    (f,) = claims
    assert f.severity.value in ("warning", "critical")
    assert f.evidence["season"] == 12 and f.evidence["mae_ratio_seasonal"] >= 1.0
    assert "season" in f.title and "12" in f.recommendation


def test_worse_than_last_value_is_claimed_once():
    # barely trained: worse than repeating the last value; the seasonal claim must not repeat it
    from reportgen.checks import forecast

    case = models.train_model(models.seasonal_series(), epochs=1, lr=1e-4, early_stopping=False)
    ctx = make_ctx(case)
    assert ctx.test_metrics.values["mase"] >= 1.0
    claims = below_baseline_claims(ctx)
    assert len(claims) == 1 and "last value" in claims[0].title
    assert forecast.check_seasonal_baseline(ctx) == []


def test_no_forecast_extras_for_other_tasks():
    from reportgen.checks.forecast import build_section, check_seasonal_baseline
    from reportgen.context import AuditContext
    from reportgen.inputs import build_inputs

    c = models.diabetes()
    ctx = AuditContext(build_inputs(test=c.test, target=c.target, predictions=c.test[c.target].to_numpy() * 1.0,
                                    train=c.train, task="regression"), strict=True)
    assert check_seasonal_baseline(ctx) == [] and build_section(ctx) is None


# -- leakage.temporal --------------------------------------------------------------------------
def _predictions_case(shuffled: bool):
    case = models.seasonal_series()
    if shuffled:
        from sklearn.model_selection import train_test_split

        df = pd.concat([case.train, case.test], ignore_index=True)
        tr, te = train_test_split(df, test_size=0.2, random_state=0, shuffle=True)
        case = models.Case(case.name, case.task, case.target, tr.reset_index(drop=True), te.reset_index(drop=True),
                           case.time_column, case.window)
    preds = case.test["y"].to_numpy() + np.random.default_rng(0).normal(0, 1, len(case.test))
    return case, preds


def test_leakage_temporal_fires_for_a_shuffled_time_series_split():
    leakage = pytest.importorskip("reportgen.checks.leakage")
    case, preds = _predictions_case(shuffled=True)
    findings = [f for f in leakage.check_temporal(make_ctx(case, predictions=preds)) if f.code == "leakage.temporal"]
    assert len(findings) == 1
    f = findings[0]
    assert f.severity.value in ("warning", "critical")
    assert f.evidence["train_rows_after_first_test_time"] > 0.5 * len(case.train)
    assert "time order" in f.recommendation


def test_leakage_temporal_silent_for_an_ordered_split():
    leakage = pytest.importorskip("reportgen.checks.leakage")
    case, preds = _predictions_case(shuffled=False)
    assert [f for f in leakage.check_temporal(make_ctx(case, predictions=preds))
            if f.severity.value != "info"] == []
