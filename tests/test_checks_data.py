"""data.* checks: each cause injected into real data (and, where the model matters, a real trained
Keras model) must be named with its numbers; healthy models on clean data must stay silent.

Faults are injected here from tests/models.py cases; models that must be retrained on faulty
data are module fixtures (a few seconds each)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import models
from reportgen.checks import data as D
from reportgen.checks import leakage as L
from reportgen.context import AuditContext
from reportgen.findings import Severity
from reportgen.inputs import build_inputs
from findings_helpers import claims, one  # noqa: E402

pytestmark = pytest.mark.slow

ALL = D.CHECKS + L.CHECKS


def ctx_for(case, *, train="case", test=None, predictions=None):
    kw = {"predictions": predictions} if predictions is not None else {"model": case.model}
    return AuditContext(build_inputs(train=case.train if isinstance(train, str) else train,
                                     test=case.test if test is None else test, target=case.target,
                                     time_column=case.time_column, **kw), strict=True)


def model_scores(case, df=None):
    X, _ = case.xy(case.test if df is None else df)
    out = case.model.predict(X, verbose=0)
    return out.ravel() if out.shape[1] == 1 else out


def run_all(ctx):
    return [f for check in ALL for f in check(ctx)]


def by_name(name):
    return next(c for c in D.CHECKS if c.__name__ == name)


# -- faulty models (retrained on faulty data) ------------------------------------------------------
@pytest.fixture(scope="module")
def unscaled_bc():
    return models.train_model(models.breast_cancer(), normalize=False)


@pytest.fixture(scope="module")
def rare_class_wine():
    w = models.wine()
    tr = w.train
    train = pd.concat([tr[tr["target"] != "barbera"], tr[tr["target"] == "barbera"].iloc[:2]], ignore_index=True)
    return models.train_model(models.Case(w.name, w.task, w.target, train, w.test), epochs=60)


@pytest.fixture(scope="module")
def noisy_bc():
    base = models.breast_cancer()
    train = base.train.copy()
    flip = np.random.default_rng(3).permutation(len(train))[: int(0.2 * len(train))]
    train.loc[flip, "target"] = 1 - train.loc[flip, "target"]
    return models.train_model(models.Case(base.name, base.task, base.target, train, base.test))


@pytest.fixture(scope="module")
def region_flipped_bc():
    """Training labels inverted where worst_texture is in its top 30%: the model learns that
    region backwards."""
    base = models.breast_cancer()
    train = base.train.copy()
    region = train["worst_texture"] > train["worst_texture"].quantile(0.7)
    train.loc[region, "target"] = 1 - train.loc[region, "target"]
    return models.train_model(models.Case(base.name, base.task, base.target, train, base.test))


# -- healthy: silent -------------------------------------------------------------------------------
@pytest.mark.parametrize("fixture", ["healthy_binary", "healthy_multiclass", "healthy_regression", "healthy_forecast"])
def test_healthy_models_get_no_data_or_leakage_claims(fixture, request):
    case = request.getfixturevalue(fixture)
    found = run_all(ctx_for(case))
    assert claims(found) == [], [(f.code, f.severity.value, f.title) for f in claims(found)]


def test_healthy_predictions_only_and_no_train_are_silent(healthy_binary):
    c = healthy_binary
    p = model_scores(c)
    assert claims(run_all(ctx_for(c, predictions=p))) == []
    ctx = ctx_for(c, predictions=p, train=None)
    assert claims(run_all(ctx)) == []
    # checks that compare with training data have nothing to say without it
    for check in (D.check_label_noise, D.check_drift, L.check_train_test_overlap, L.check_temporal):
        assert check(ctx) == []


def test_heavy_tailed_clean_features_are_not_outliers():
    """Log-normal areas, Pareto amounts, t(3) noise, Poisson counts: legitimate tails."""
    rng = np.random.default_rng(0)
    n = 3000
    X = np.c_[rng.lognormal(3, 1.2, n), rng.standard_t(3, n), rng.pareto(2.5, n), rng.poisson(2, n), rng.exponential(1, n)]
    y = ((np.log(X[:, 0]) + 0.5 * X[:, 1] + rng.normal(0, 1, n)) > 3).astype(int)
    df = pd.DataFrame(X, columns=["area", "t3", "amount", "count", "wait"]).assign(target=y)
    tr, te = df.iloc[:2250], df.iloc[2250:].reset_index(drop=True)
    p = 1 / (1 + np.exp(-(np.log(te["area"]) + 0.5 * te["t3"] - 3)))
    ctx = AuditContext(build_inputs(predictions=p.to_numpy(), train=tr, test=te, target="target"), strict=True)
    assert claims(run_all(ctx)) == []


# -- data.class_imbalance --------------------------------------------------------------------------
def test_rare_class_that_the_model_misses_is_critical(rare_class_wine):
    f = one(D.check_class_imbalance(ctx_for(rare_class_wine)), "data.class_imbalance")
    assert f.severity is Severity.CRITICAL
    ev = f.evidence
    assert ev["class"] == "barbera" and ev["rows"] == 2 and ev["ratio_to_fair_share"] < 0.1
    assert ev["test_recall"] < 0.5 and ev["other_classes_recall"] > 0.8


def test_rare_training_class_is_claimed_without_model_evidence(healthy_binary):
    base = healthy_binary
    tr = base.train
    train = pd.concat([tr[tr["target"] == 0], tr[tr["target"] == 1].iloc[:8]], ignore_index=True)
    # a model trained on all the data still recognises the class: context only
    p = model_scores(base)
    f = one(D.check_class_imbalance(ctx_for(base, train=train, predictions=p)), "data.class_imbalance")
    assert f.severity is Severity.INFO and f.evidence["ratio_to_fair_share"] < 0.1
    # a model that rarely predicts it: the imbalance is claimed
    p_rare = np.where(np.arange(len(p)) % 2 == 0, p * 0.3, p)
    f = one(D.check_class_imbalance(ctx_for(base, train=train, predictions=p_rare)), "data.class_imbalance")
    assert f.severity is not Severity.INFO


def test_mild_imbalance_is_silent(healthy_binary):
    assert D.check_class_imbalance(ctx_for(healthy_binary)) == []  # 37% / 63%


# -- data.feature_scale ----------------------------------------------------------------------------
def test_unnormalised_breast_cancer_is_named(unscaled_bc):
    f = one(D.check_feature_scale(ctx_for(unscaled_bc)), "data.feature_scale")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    ev = f.evidence
    assert ev["scale_ratio"] > 1000 and ev["largest_scale_feature"] == "worst_area"
    assert ev["largest_typical_magnitude"] > 100
    assert "Normalization" in f.recommendation and f.figure and f.figure.startswith("<svg")


def test_normalisation_layer_silences_scale(healthy_binary):
    assert D.check_feature_scale(ctx_for(healthy_binary)) == []


def test_scale_in_predictions_only_mode_is_info(healthy_binary):
    found = D.check_feature_scale(ctx_for(healthy_binary, predictions=model_scores(healthy_binary)))
    assert [f.severity for f in found] == [Severity.INFO]


def test_input_preprocessing_sees_normalisation_before_first_dense():
    import keras

    inp = keras.Input((4,))
    m1 = keras.Model(inp, keras.layers.Dense(1)(keras.layers.BatchNormalization()(keras.layers.Flatten()(inp))))
    assert D.input_preprocessing(m1)["normalised"] == "BatchNormalization"
    m2 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.LayerNormalization(), keras.layers.Dense(1)])
    assert D.input_preprocessing(m2)["normalised"] is None
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Rescaling(0.5), keras.layers.Dense(2)])
    m3 = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(1)])
    assert D.input_preprocessing(m3)["rescale"] == (0.5, 0.0)


# -- data.outliers ---------------------------------------------------------------------------------
def _times_100(df, features, share, seed):
    df = df.copy()
    rows = np.random.default_rng(seed).choice(len(df), int(round(share * len(df))), replace=False)
    df.loc[rows, features] = df.loc[rows, features] * 100
    return df, rows


def test_corrupt_test_rows_are_outliers_that_carry_the_errors(healthy_binary):
    c = healthy_binary
    test, rows = _times_100(c.test, c.features, 0.05, 0)
    f = one(D.check_outliers(ctx_for(c, test=test)), "data.outliers")
    assert f.severity is Severity.CRITICAL
    ev = f.evidence
    assert ev["rows_with_extreme_values"]["test"] == len(rows) == 7
    assert ev["error_ratio"] >= 2 and ev["error_p_value"] < 0.01


def test_corrupt_training_rows_are_outliers(healthy_binary):
    c = healthy_binary
    train, rows = _times_100(c.train, c.features, 0.05, 1)
    f = one(D.check_outliers(ctx_for(c, train=train, predictions=model_scores(c))), "data.outliers")
    assert f.severity is Severity.WARNING
    assert f.evidence["rows_with_extreme_values"]["train"] == len(rows)
    assert abs(f.evidence["share_of_rows"]["train"] - 0.05) < 0.005


# -- data.missing_values ---------------------------------------------------------------------------
def test_missing_inputs_are_named_per_column(healthy_binary):
    c = healthy_binary
    test = c.test.copy()
    test.loc[np.arange(0, len(test), 10), "mean_radius"] = np.nan  # 15 of 143 rows
    train = c.train.copy()
    train.loc[:3, "worst_area"] = np.inf
    f = one(D.check_missing_values(ctx_for(c, train=train, test=test)), "data.missing_values")
    assert f.severity is Severity.CRITICAL
    ev = f.evidence
    assert ev["rows_with_missing_inputs"] == {"test": 15, "train": 4}
    assert ev["missing_per_column"]["test"] == {"mean_radius": 15}
    assert ev["missing_per_column"]["train"] == {"worst_area": 4}


def test_nonfinite_predictions_without_missing_inputs(healthy_binary):
    c = healthy_binary
    p = model_scores(c).astype(float)
    p[:5] = np.nan
    f = one(D.check_missing_values(ctx_for(c, predictions=p)), "data.missing_values")
    assert f.severity is Severity.WARNING and f.evidence["nonfinite_model_outputs"] == 5


def test_complete_data_has_no_missing_values(healthy_regression):
    assert D.check_missing_values(ctx_for(healthy_regression)) == []


# -- data.label_noise ------------------------------------------------------------------------------
def test_flipped_training_labels_are_found(noisy_bc):
    f = one(D.check_label_noise(ctx_for(noisy_bc)), "data.label_noise")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    ev = f.evidence
    assert 0.1 <= ev["estimated_wrong_labels_share"] <= 0.3
    assert ev["train_disagreement"] - ev["test_disagreement"] >= 0.1 and ev["p_value"] < 0.01
    assert ev["audited_model_contradicts_flagged_labels"] >= 0.5 and len(ev["example_train_rows"]) == 10


def test_clean_labels_are_not_noise(healthy_binary, healthy_multiclass):
    assert claims(D.check_label_noise(ctx_for(healthy_binary))) == []
    assert claims(D.check_label_noise(ctx_for(healthy_multiclass))) == []


# -- data.duplicates -------------------------------------------------------------------------------
def test_duplicated_training_rows(healthy_binary):
    c = healthy_binary
    train = pd.concat([c.train, c.train.sample(frac=0.3, random_state=0)], ignore_index=True)
    f = one(D.check_duplicates(ctx_for(c, train=train, predictions=model_scores(c))), "data.duplicates")
    assert f.severity is Severity.WARNING
    assert f.evidence["duplicate_rows"] == {"test": 0, "train": 128}


def test_identical_inputs_with_conflicting_labels(healthy_binary):
    c = healthy_binary
    copies = c.train.iloc[:20].copy()
    copies["target"] = 1 - copies["target"]
    train = pd.concat([c.train, copies], ignore_index=True)
    f = one(D.check_duplicates(ctx_for(c, train=train, predictions=model_scores(c))), "data.duplicates")
    assert f.severity is Severity.WARNING
    assert f.evidence["conflicting_label_rows"]["train"] == 40 and "different label" in f.title


def test_natural_duplicates_of_a_discrete_table_are_context():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(2000, 4))
    df = pd.DataFrame(X, columns=list("abcd")).assign(target=(X.sum(axis=1) + rng.integers(0, 2, 2000) > 4).astype(int))
    tr, te = df.iloc[:1500], df.iloc[1500:].reset_index(drop=True)
    ctx = AuditContext(build_inputs(predictions=np.full(len(te), 0.5), train=tr, test=te, target="target"), strict=True)
    found = D.check_duplicates(ctx) + L.check_train_test_overlap(ctx)
    assert found and claims(found) == []


# -- data.weak_segment -----------------------------------------------------------------------------
def test_region_learned_backwards_is_a_weak_segment(region_flipped_bc):
    f = one(by_name("check_weak_segment")(ctx_for(region_flipped_bc)), "data.weak_segment")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    ev = f.evidence
    assert "worst_texture" in ev["segment"] and ev["ratio"] >= 2 and ev["rows"] >= 20
    assert ev["reference_model_error_in_segment"] < 0.5 * ev["segment_error_rate"]
    assert ev["permutation_p_value"] <= 0.05


def test_undertrained_model_is_not_a_data_segment():
    ctx = ctx_for(models.fault_case("three_epochs"))
    assert claims(run_all(ctx), "data.weak_segment") == []


# -- data.drift ------------------------------------------------------------------------------------
def test_shifted_feature_is_drift(healthy_binary):
    c = healthy_binary
    test = c.test.copy()
    test["worst_perimeter"] += 2 * c.train["worst_perimeter"].std()
    f = one(D.check_drift(ctx_for(c, test=test)), "data.drift")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    ev = f.evidence
    assert ev["drifted_features"] == ["worst_perimeter"]
    assert ev["ks_statistic"]["worst_perimeter"] > 0.5 and ev["train_vs_test_classifier_auc"] >= 0.9
    assert f.figure and f.figure.startswith("<svg")


def test_data_section_lists_drift_and_weak_segments(healthy_binary, region_flipped_bc):
    c = healthy_binary
    test = c.test.copy()
    test["worst_perimeter"] += 2 * c.train["worst_perimeter"].std()
    ctx = ctx_for(c, test=test)
    assert D.build_section(ctx) is None  # nothing computed yet
    D.check_drift(ctx)
    sec = D.build_section(ctx)
    drift = sec.tables[0]
    assert drift.rows[0][0] == "worst_perimeter" and drift.rows[0][3] == "yes"
    ctx = ctx_for(region_flipped_bc)
    by_name("check_weak_segment")(ctx)
    titles = [t.title for t in D.build_section(ctx).tables]
    assert "Weak segments" in titles


def test_class_mix_change_is_not_feature_drift(rare_class_wine):
    assert claims(D.check_drift(ctx_for(rare_class_wine))) == []


# -- predictions-only mode never loads TensorFlow --------------------------------------------------
def test_predictions_only_checks_do_not_import_tensorflow(tmp_path):
    c = models.breast_cancer()
    c.train.to_csv(tmp_path / "train.csv", index=False)
    c.test.to_csv(tmp_path / "test.csv", index=False)
    code = f"""
import sys, numpy as np, pandas as pd
from reportgen.checks import data as D, leakage as L
from reportgen.context import AuditContext
from reportgen.inputs import build_inputs
te = pd.read_csv({str(tmp_path / 'test.csv')!r})
p = np.clip(0.5 + 0.001 * (te['worst_area'] - 700), 0, 1).to_numpy()
ctx = AuditContext(build_inputs(predictions=p, train={str(tmp_path / 'train.csv')!r}, test=te, target='target'), strict=True)
found = [f for c in D.CHECKS + L.CHECKS for f in c(ctx)]
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'
print(len(found))
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
