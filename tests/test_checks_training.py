"""training.* checks and data.too_few_samples: faults injected into real training runs must be
named with their numbers; healthy runs and early stopping must stay silent.

Real runs come from tests/models.py:fault_case (shared with test_checks_model.py); the shapes
that are hard to provoke deterministically (oscillation, a late blow-up) are given as histories
next to a real trained model."""
from __future__ import annotations

import numpy as np
import pytest

import models
from reportgen.checks import training as T
from reportgen.context import AuditContext
from reportgen.findings import Severity
from reportgen.inputs import build_inputs
from findings_helpers import claims, one  # noqa: E402

pytestmark = pytest.mark.slow


def ctx_for(case, *, history="case", predictions=None, train=None):
    hist = case.history if history == "case" else history
    kw = {"predictions": predictions} if predictions is not None else {"model": case.model}
    return AuditContext(build_inputs(train=case.train if train is None else train, test=case.test, target=case.target,
                                     history=hist or None, time_column=case.time_column, **kw), strict=True)


def curve(start, end, n, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    v = start * (end / start) ** (np.arange(n) / max(n - 1, 1))
    return list(v * (1 + noise * rng.standard_normal(n)))


# -- slow convergence -----------------------------------------------------------------------------
def test_learning_rate_1e6_barely_moves_the_loss():
    ctx = ctx_for(models.fault_case("lr_1e-6"))
    f = one(T.check_slow_convergence(ctx), "training.slow_convergence")
    assert f.severity is Severity.CRITICAL  # a flat curve + a learning rate far too low
    assert f.evidence["total_relative_decrease"] < 0.1 and f.evidence["learning_rate"] == pytest.approx(1e-6)
    assert f.evidence["reference_loss_over_trivial"] < 0.5  # the data is learnable
    assert claims(T.check_underfitting(ctx)) == []  # the symptom is context only
    assert claims(T.check_unstable(ctx) + T.check_overfitting(ctx)) == []


def test_three_epochs_stop_while_the_loss_still_falls():
    ctx = ctx_for(models.fault_case("three_epochs"))
    f = one(T.check_slow_convergence(ctx), "training.slow_convergence")
    assert f.severity is Severity.WARNING
    assert f.evidence["epochs"] == 3 and f.evidence["train_loss_drop_in_last_epochs"] >= 0.05
    assert f.evidence["val_loss_drop_in_last_epochs"] >= 0.05


def test_converged_curve_is_not_slow(healthy_binary):
    ctx = ctx_for(healthy_binary)
    sig = T.slow_signal(ctx)
    assert not sig["barely_moved"] and not sig["still_falling"]


# -- instability ----------------------------------------------------------------------------------
def test_sgd_learning_rate_5_blows_up():
    ctx = ctx_for(models.fault_case("sgd_lr5"))
    f = one(T.check_unstable(ctx), "training.unstable")
    assert f.severity is Severity.CRITICAL  # the blow-up + lr 5 + exploded weights
    assert f.evidence["peak_over_untrained"] >= 10 and f.evidence["learning_rate"] == 5.0
    assert f.evidence["max_weight_growth"] >= 20
    assert claims(T.check_overfitting(ctx)) == []  # the rising val loss is the collapse, not memorising


def test_nan_loss_is_critical():
    ctx = ctx_for(models.fault_case("nan_regression"))
    f = one(T.check_unstable(ctx), "training.unstable")
    assert f.severity is Severity.CRITICAL and f.evidence["first_nonfinite_epoch"] == 1


def test_oscillating_and_diverging_histories(healthy_binary):
    base = curve(0.6, 0.1, 30)
    osc = [v * (1.6 if i % 3 == 1 else 1.0) for i, v in enumerate(base)]
    f = one(T.check_unstable(ctx_for(healthy_binary, history={"loss": osc})), "training.unstable")
    assert f.severity is Severity.WARNING and "oscillated" in f.title  # lr 1e-2 Adam: not corroborated
    assert f.evidence["share_of_epochs_with_jumps"] >= 0.2
    div = curve(0.6, 0.1, 15) + curve(0.12, 0.5, 10)
    f = one(T.check_unstable(ctx_for(healthy_binary, history={"loss": div})), "training.unstable")
    assert "diverged" in f.title and f.evidence["end_over_min"] >= 1.5 and f.evidence["min_epoch"] == 15


def test_jumpy_loss_defers_to_unscaled_inputs_claimed_by_the_data_checks(healthy_binary):
    base = curve(0.6, 0.1, 30)
    osc = [v * (1.6 if i % 3 == 1 else 1.0) for i, v in enumerate(base)]
    ctx = ctx_for(healthy_binary, history={"loss": osc})
    ctx.cache["data.claims"] = {"data.feature_scale"}  # what the data family records when it claims
    f = one(T.check_unstable(ctx), "training.unstable")
    assert f.severity is Severity.INFO and f.evidence["explained_by"] == "data.feature_scale"


def test_small_jitter_of_a_near_zero_loss_is_not_instability(healthy_binary):
    jitter = curve(0.6, 0.001, 40, noise=0.3, seed=1)
    assert claims(T.check_unstable(ctx_for(healthy_binary, history={"loss": jitter}))) == []


# -- underfitting ---------------------------------------------------------------------------------
def test_tiny_unscaled_network_underfits():
    ctx = ctx_for(models.fault_case("tiny_unscaled_wine"))
    f = one(T.check_underfitting(ctx), "training.underfitting")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert f.evidence["train_loss_over_reference"] >= 2 and f.evidence["reference_heldout_accuracy"] >= 0.85
    assert f.evidence["model_train_accuracy"] < 0.85


def test_no_underfitting_when_the_data_has_no_signal(healthy_binary):
    # labels shuffled: nothing can beat the trivial predictor, so a high loss is no fault of the model
    train = healthy_binary.train.copy()
    train[healthy_binary.target] = np.random.default_rng(0).permutation(train[healthy_binary.target].to_numpy())
    flat = {"loss": curve(0.7, 0.66, 20), "val_loss": curve(0.7, 0.67, 20)}
    ctx = ctx_for(healthy_binary, history=flat, train=train)
    assert claims(T.check_underfitting(ctx)) == []


# -- overfitting ----------------------------------------------------------------------------------
def test_huge_model_on_60_rows_overfits():
    ctx = ctx_for(models.fault_case("huge_on_60_rows"))
    f = one(T.check_overfitting(ctx), "training.overfitting")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert f.evidence["val_loss_end_over_min"] >= 1.3 and f.evidence["epochs_after_min"] >= 25
    assert f.evidence["train_loss_end"] < f.evidence["train_loss_at_val_min"]


def test_early_stopping_rise_is_context_only(healthy_binary, healthy_forecast):
    # the forecast fixture ends 8 epochs (the patience) after its validation minimum
    assert claims(T.check_overfitting(ctx_for(healthy_forecast))) == []
    es = {"loss": curve(0.6, 0.02, 30), "val_loss": curve(0.6, 0.08, 22) + curve(0.085, 0.11, 8)}
    found = T.check_overfitting(ctx_for(healthy_binary, history=es))
    assert all(f.severity is Severity.INFO for f in found)


def test_long_validation_climb_is_overfitting_even_from_predictions_alone(healthy_binary):
    preds = healthy_binary.model.predict(healthy_binary.xy(healthy_binary.test)[0], verbose=0).reshape(-1)
    hist = {"loss": curve(0.6, 0.002, 120), "val_loss": curve(0.6, 0.1, 20) + curve(0.1, 0.35, 100)}
    ctx = ctx_for(healthy_binary, history=hist, predictions=preds)
    f = one(T.check_overfitting(ctx), "training.overfitting")
    assert f.severity is Severity.WARNING and f.evidence["val_loss_min_epoch"] == 20
    assert f.evidence["val_loss_end_over_min"] >= 3
    for fn in T.CHECKS:  # every training check runs without a model
        fn(ctx)


def test_short_histories_and_missing_validation(healthy_binary):
    for hist in ({"loss": [0.7, 0.5]}, {"loss": [0.7]}, {"loss": curve(0.7, 0.05, 12)}):
        ctx = ctx_for(healthy_binary, history=hist)
        found = [f for fn in T.CHECKS for f in fn(ctx)]
        assert T.check_overfitting(ctx) == []
        assert all(f.code != "training.unstable" for f in found)


# -- too few samples ------------------------------------------------------------------------------
def test_60_rows_are_too_few_for_the_model():
    ctx = ctx_for(models.fault_case("huge_on_60_rows"))
    f = one(T.check_too_few_samples(ctx), "data.too_few_samples")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert f.evidence["training_rows"] == 60 and f.evidence["rows_in_smallest_class"] < 30
    assert f.evidence["parameters_per_row"] >= 10 and "validation loss rising" in f.evidence["evidence_of_variance"]


def test_row_count_alone_never_fires(healthy_binary):
    # a well-generalising model audited with only 50 training rows: small data, but no sign of it
    small = models.subsample(healthy_binary, 50)
    ctx = ctx_for(healthy_binary, train=small.train)
    assert T.check_too_few_samples(ctx) == []
