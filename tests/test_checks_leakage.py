"""leakage.* checks on real data: overlap between the sets, time order, and features that give
the target away. Most run in predictions-only mode (the leak is in the data, not the model)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import models
from reportgen.checks import leakage as L
from reportgen.context import AuditContext
from reportgen.findings import Severity
from reportgen.inputs import build_inputs
from findings_helpers import one  # noqa: E402

pytestmark = pytest.mark.slow


def ctx_of(train, test, target, predictions, time_column=None, task=None):
    return AuditContext(build_inputs(predictions=predictions, train=train, test=test, target=target,
                                     time_column=time_column, task=task), strict=True)


def scores(case, df):
    X, _ = case.xy(df)
    return case.model.predict(X, verbose=0).ravel()


# -- leakage.train_test_overlap ----------------------------------------------------------------------
def test_test_rows_copied_from_train(healthy_binary):
    c = healthy_binary
    test = pd.concat([c.test.iloc[:70], c.train.iloc[:70]], ignore_index=True)
    ctx = AuditContext(build_inputs(model=c.model, train=c.train, test=test, target=c.target), strict=True)
    f = one(L.check_train_test_overlap(ctx), "leakage.train_test_overlap")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    ev = f.evidence
    assert ev["test_rows_in_train"] == 70 and ev["with_same_target"] == 70 and ev["share_of_test"] == pytest.approx(0.5)
    assert ev["natural_repeat_rate_in_train"] == 0


def test_disjoint_sets_have_no_overlap(healthy_binary):
    c = healthy_binary
    assert L.check_train_test_overlap(ctx_of(c.train, c.test, c.target, scores(c, c.test))) == []


def test_one_accidental_match_is_context(healthy_binary):
    c = healthy_binary
    test = pd.concat([c.test, c.train.iloc[:1]], ignore_index=True)
    f = one(L.check_train_test_overlap(ctx_of(c.train, test, c.target, scores(c, test))), "leakage.train_test_overlap")
    assert f.severity is Severity.INFO and f.evidence["test_rows_in_train"] == 1


# -- leakage.temporal --------------------------------------------------------------------------------
def _series():
    s = models.seasonal_series()
    return pd.concat([s.train, s.test], ignore_index=True), s


def test_random_split_of_a_time_series_is_critical():
    df, _ = _series()
    tr = df.sample(frac=0.8, random_state=0)
    te = df.drop(tr.index).reset_index(drop=True)
    f = one(L.check_temporal(ctx_of(tr.reset_index(drop=True), te, "y", te["lag_1"].to_numpy(), "step", "forecast")),
            "leakage.temporal")
    assert f.severity is Severity.CRITICAL
    ev = f.evidence
    assert ev["share_of_train"] > 0.9 and ev["share_of_test"] > 0.9 and ev["time_column"] == "step"
    assert "time order" in f.recommendation


def test_time_ordered_split_is_silent():
    _, s = _series()
    ctx = ctx_of(s.train, s.test, "y", s.test["lag_1"].to_numpy(), "step", "forecast")
    assert L.check_temporal(ctx) == []


def test_training_on_the_later_period_is_a_warning():
    df, _ = _series()
    te, tr = df.iloc[:120].reset_index(drop=True), df.iloc[120:].reset_index(drop=True)
    f = one(L.check_temporal(ctx_of(tr, te, "y", te["lag_1"].to_numpy(), "step", "forecast")), "leakage.temporal")
    assert f.severity is Severity.WARNING and f.evidence["share_of_train"] == 1.0


def test_overlap_of_less_than_one_window_is_context():
    df, _ = _series()
    tr, te = df.iloc[:485].reset_index(drop=True), df.iloc[480:].reset_index(drop=True)  # 5 rows shared
    f = one(L.check_temporal(ctx_of(tr, te, "y", te["lag_1"].to_numpy(), "step", "forecast")), "leakage.temporal")
    assert f.severity is Severity.INFO and f.evidence["train_rows_after_first_test_time"] == 4


# -- leakage.target ----------------------------------------------------------------------------------
def test_label_plus_noise_column_gives_the_target_away(healthy_binary):
    c = healthy_binary
    rng = np.random.default_rng(0)
    p = scores(c, c.test)
    tr, te = c.train.copy(), c.test.copy()
    for df in (tr, te):
        df.insert(3, "review_outcome", df["target"] + rng.normal(0, 0.1, len(df)))
    f = one(L.check_target(ctx_of(tr, te, "target", p)), "leakage.target")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    ev = f.evidence
    assert ev["feature"] == "review_outcome" and ev["single_feature_score"] >= 0.99
    assert ev["score_on_test"] >= 0.99 and ev["next_best_feature_score"] < 0.98


def test_leak_only_in_training_data_is_a_shortcut(healthy_binary):
    c = healthy_binary
    rng = np.random.default_rng(1)
    tr, te = c.train.copy(), c.test.copy()
    tr.insert(0, "flag", tr["target"] + rng.normal(0, 0.05, len(tr)))
    te.insert(0, "flag", rng.normal(0.5, 0.3, len(te)))  # not available (noise) at test time
    p = np.full(len(te), 0.4)  # a model that learned the shortcut is lost on test
    f = one(L.check_target(ctx_of(tr, te, "target", p)), "leakage.target")
    assert f.severity is Severity.CRITICAL and f.evidence["score_on_test"] < 0.8 and "shortcut" in f.title


def test_regression_leak(healthy_regression):
    c = healthy_regression
    rng = np.random.default_rng(2)
    tr, te = c.train.copy(), c.test.copy()
    sd = tr["target"].std()
    for df in (tr, te):
        df["target_estimate"] = df["target"] + rng.normal(0, 0.05 * sd, len(df))
    f = one(L.check_target(ctx_of(tr, te, "target", scores(c, c.test))), "leakage.target")
    assert f.evidence["feature"] == "target_estimate" and f.evidence["single_feature_r2"] >= 0.98


def test_real_features_do_not_give_the_target_away(healthy_binary, healthy_multiclass, healthy_regression):
    for c in (healthy_binary, healthy_multiclass, healthy_regression):
        ctx = AuditContext(build_inputs(model=c.model, train=c.train, test=c.test, target=c.target), strict=True)
        assert L.check_target(ctx) == []


def _random_walk_windows(n=600, window=5, seed=0):
    """A smooth random walk as lag windows: lag_1 alone explains ~99.9% of the target."""
    y = 500 + np.cumsum(np.random.default_rng(seed).normal(0, 1, n + window))
    rows = [list(y[i:i + window]) + [y[i + window], i + window] for i in range(n)]
    df = pd.DataFrame(rows, columns=[f"lag_{window - j}" for j in range(window)] + ["y", "step"])
    return df.iloc[:480].reset_index(drop=True), df.iloc[480:].reset_index(drop=True)


def test_forecast_lags_are_not_leaks_but_the_current_value_is():
    _, s = _series()
    ctx = ctx_of(s.train, s.test, "y", s.test["lag_1"].to_numpy(), "step", "forecast")
    assert L.check_target(ctx) == []  # lag_12 alone has R2 ~0.98 on this seasonal series
    tr, te = _random_walk_windows()
    ctx = ctx_of(tr, te, "y", te["lag_1"].to_numpy(), "step", "forecast")
    assert L.check_target(ctx) == []  # lag_1 of a random walk: R2 ~0.999, but a lag
    rng = np.random.default_rng(3)
    for df in (tr, te):
        df.insert(0, "y_measured", df["y"] + rng.normal(0, 0.05, len(df)))
    f = one(L.check_target(ctx_of(tr, te, "y", te["lag_1"].to_numpy(), "step", "forecast")), "leakage.target")
    assert f.evidence["feature"] == "y_measured"
    assert f.evidence["lag_features_ignored"]["lag_1"] == "lag 1 of the target"


def test_lag_detection():
    y = np.arange(100, dtype=float) ** 1.5
    assert L._is_lag_of_target(np.r_[np.nan, y[:-1]] * 2 + 3, y, 10) == 1  # scaled lag 1
    assert L._is_lag_of_target(np.r_[[np.nan] * 4, y[:-4]], y, 10) == 4
    assert L._is_lag_of_target(y + np.random.default_rng(0).normal(0, 0.5, 100), y, 10) is None  # a leak


def test_without_training_data_the_test_rows_are_used(healthy_binary):
    c = healthy_binary
    te = c.test.copy()
    te.insert(0, "leak", te["target"] * 2.0)
    ctx = AuditContext(build_inputs(predictions=scores(c, c.test), test=te, target="target"), strict=True)
    f = one(L.check_target(ctx), "leakage.target")
    assert f.severity is Severity.WARNING and f.evidence["score_on_test"] is None
    assert L.check_train_test_overlap(ctx) == [] and L.check_temporal(ctx) == []
