"""model.* checks on real Keras models: each fault injected into a real model trained on real
data must be named with its numbers; healthy models must get no claim (warning/critical).

Faulty models come from tests/models.py:fault_case (trained once per session, shared with
test_checks_training.py); a few measurement paths use constructed models (weights set by hand)
that need no training at all."""
from __future__ import annotations

import time

import numpy as np
import pytest

import models
from reportgen.checks import model as M
from reportgen.checks import training as T
from reportgen.context import AuditContext
from reportgen.findings import Severity
from reportgen.inputs import build_inputs
from findings_helpers import claims, one  # noqa: E402

pytestmark = pytest.mark.slow

MINE = ("model.", "training.", "data.too_few_samples")


def ctx_for(case, *, model=None, history="case", predictions=None):
    hist = case.history if history == "case" else history
    kw = {"predictions": predictions} if predictions is not None else {"model": model or case.model}
    return AuditContext(build_inputs(train=case.train, test=case.test, target=case.target, history=hist or None,
                                     time_column=case.time_column, **kw), strict=True)


def run(check, ctx):
    return [f for f in check(ctx)]


def all_mine(ctx):
    out = []
    for fn in M.CHECKS + T.CHECKS:
        out.extend(fn(ctx))
    return [f for f in out if f.code.startswith(MINE)]


# -- healthy models: no claims at all -----------------------------------------------------------
@pytest.mark.parametrize("fixture", ["healthy_binary", "healthy_multiclass", "healthy_regression", "healthy_forecast"])
def test_healthy_models_get_no_model_or_training_claims(fixture, request):
    case = request.getfixturevalue(fixture)
    ctx = ctx_for(case)
    found = all_mine(ctx)
    assert claims(found) == [], [(f.code, f.severity.value, f.title, f.evidence) for f in claims(found)]
    st = ctx.cache["layer_stats"]
    assert st["layers"] and all(d["finite"] for d in st["layers"])


def test_measurement_is_fast_cached_and_feeds_the_section(healthy_binary):
    ctx = ctx_for(healthy_binary)
    started = time.perf_counter()
    for fn in M.CHECKS + T.CHECKS:
        fn(ctx)
    assert time.perf_counter() - started < 3.0
    st = ctx.cache["layer_stats"]
    assert M.layer_stats(ctx) is st  # computed once
    assert st["rows"] == min(len(healthy_binary.train), M.MAX_ROWS) and st["source"] == "training"
    assert [d["name"] for d in st["layers"]] == [l.name for l in healthy_binary.model.layers if M._kernels(l)]
    sec = M.build_section(ctx)
    assert sec.key == "diagnostics" and sec.title == "Model diagnostics"
    table = sec.tables[0]
    assert {"gradient norm", "dead share", "saturated share"} <= set(table.columns)
    assert len(table.rows) == len(st["layers"])
    assert [f.key for f in sec.figures] == ["gradient_norms", "unit_health"]
    assert all(f.svg.startswith("<svg") for f in sec.figures)


def test_predictions_only_audit_has_no_model_checks(healthy_binary):
    preds = healthy_binary.model.predict(healthy_binary.xy(healthy_binary.test)[0], verbose=0).reshape(-1)
    ctx = ctx_for(healthy_binary, predictions=preds)
    for fn in M.CHECKS:
        assert fn(ctx) == []
    assert M.build_section(ctx) is None
    assert "layer_stats" not in ctx.cache


# -- vanishing gradients and saturation -----------------------------------------------------------
def test_deep_sigmoid_network_has_vanishing_gradients_and_saturating_activations():
    ctx = ctx_for(models.fault_case("deep_sigmoid"))
    f = one(M.check_vanishing_gradients(ctx), "model.vanishing_gradients")
    assert f.severity is Severity.CRITICAL  # measured ratio + a loss that never left the trivial level
    assert f.evidence["ratio"] < 1e-3 and f.evidence["median_ratio_early_to_late"] < 1e-2
    assert f.evidence["kernel_layers"] == 9 and f.evidence["history_best_over_trivial"] >= 0.8
    s = one(M.check_saturating_activation(ctx), "model.saturating_activation")
    assert s.severity in (Severity.WARNING, Severity.CRITICAL)
    assert s.evidence["saturating_hidden_layers"] == 8 and s.evidence["gradient_ratio_first_to_last"] < 1e-3
    # the stalled loss is a symptom of the vanishing gradients, not a separate claim
    assert claims(T.check_slow_convergence(ctx)) == []
    u = T.check_underfitting(ctx)
    assert all(x.severity is Severity.INFO for x in u) and u[0].evidence["explained_by"] == "model.vanishing_gradients"


def _sigmoid_stack(case, scale: float):
    model = models.build_mlp(case, hidden=(16, 16, 16, 16), activation="sigmoid")
    for layer in model.layers[2:-1]:  # hidden Dense layers: blow the kernels up -> saturated units
        k, b = layer.get_weights()
        layer.set_weights([k * scale, b])
    return model


def test_measured_saturation_in_a_deep_sigmoid_stack(healthy_binary):
    ctx = ctx_for(healthy_binary, model=_sigmoid_stack(healthy_binary, 25.0), history=None)
    f = one(M.check_saturating_activation(ctx), "model.saturating_activation")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert f.evidence["max_saturated_share"] > 0.5 and f.evidence["saturating_hidden_layers"] == 4
    sat = [h["saturated_share"] for h in ctx.cache["layer_stats"]["hidden"]]
    assert len(sat) == 4 and max(sat) > 0.5


def test_unscaled_sigmoid_stack_is_not_saturated(healthy_binary):
    ctx = ctx_for(healthy_binary, model=_sigmoid_stack(healthy_binary, 1.0), history=None)
    assert claims(M.check_saturating_activation(ctx)) == []
    assert max(h["saturated_share"] for h in ctx.cache["layer_stats"]["hidden"]) < 0.5


# -- dead units -----------------------------------------------------------------------------------
def test_negative_bias_init_kills_relu_units():
    ctx = ctx_for(models.fault_case("dead_relu"))
    f = one(M.check_dead_units(ctx), "model.dead_units")
    assert f.severity is Severity.CRITICAL
    assert f.evidence["dead_share"] >= 0.95 and f.evidence["dead_units"] == f.evidence["units"] == 32
    assert f.evidence["overall_dead_share"] >= 0.8
    # the dead network is the cause; the high training loss is reported as context only
    assert all(x.severity is Severity.INFO for x in T.check_underfitting(ctx))


def test_some_dead_units_in_a_healthy_network_stay_silent(healthy_regression):
    ctx = ctx_for(healthy_regression)
    shares = [h["dead_share"] for h in M.layer_stats(ctx)["hidden"]]
    assert max(shares) < 0.7
    assert claims(M.check_dead_units(ctx)) == []


# -- exploding gradients --------------------------------------------------------------------------
def test_sgd_learning_rate_5_leaves_exploded_weights():
    ctx = ctx_for(models.fault_case("sgd_lr5"))
    f = one(M.check_exploding_gradients(ctx), "model.exploding_gradients")
    assert f.severity is Severity.CRITICAL  # huge weights + a loss blow-up in the history
    assert f.evidence["max_weight_growth"] >= 20 and f.evidence["learning_rate"] == 5.0
    assert f.evidence["loss_peak_over_untrained"] >= 10


def test_nan_weights_are_critical_and_silence_unit_statistics():
    ctx = ctx_for(models.fault_case("nan_regression"))
    f = one(M.check_exploding_gradients(ctx), "model.exploding_gradients")
    assert f.severity is Severity.CRITICAL
    assert f.evidence["layers_with_nonfinite_weights"]
    assert M.check_dead_units(ctx) == [] and M.check_saturating_activation(ctx) == []
    assert M.check_vanishing_gradients(ctx) == []


def test_healthy_weights_do_not_look_exploded(healthy_binary):
    ctx = ctx_for(healthy_binary)
    assert M.weight_growth_signal(ctx)["max_growth"] < 5
    assert M.check_exploding_gradients(ctx) == []


# -- output layer vs loss and task ----------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
def test_softmax_over_one_unit():
    ctx = ctx_for(models.fault_case("softmax_width1"))
    f = one(M.check_output_loss_mismatch(ctx), "model.output_loss_mismatch")
    assert f.severity is Severity.CRITICAL
    assert f.evidence["output_activation"] == "softmax" and f.evidence["output_width"] == 1
    assert f.evidence["outputs_all_one"] is True


def test_linear_output_with_binary_crossentropy():
    ctx = ctx_for(models.fault_case("linear_bce"))
    f = one(M.check_output_loss_mismatch(ctx), "model.output_loss_mismatch")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert f.evidence["loss"] == "binary_crossentropy" and f.evidence["from_logits"] is False
    assert f.evidence["share_of_outputs_outside_0_1"] > 0.05


def test_sigmoid_output_on_a_regression_target():
    ctx = ctx_for(models.fault_case("sigmoid_regression"))
    f = one(M.check_output_loss_mismatch(ctx), "model.output_loss_mismatch")
    assert f.severity is Severity.CRITICAL
    assert f.evidence["share_of_targets_out_of_range"] == 1.0 and f.evidence["target_min"] == 25.0
    # the flat, high loss is the mismatch's symptom: no separate claims for it
    assert claims(T.check_underfitting(ctx) + T.check_slow_convergence(ctx)) == []


def test_logits_output_with_from_logits_loss_is_fine(healthy_binary):
    import keras

    ok = models.build_mlp(healthy_binary, output_activation="linear",
                          loss=keras.losses.BinaryCrossentropy(from_logits=True))
    ctx = ctx_for(healthy_binary, model=ok, history=None)
    assert M.loss_info(ctx)["from_logits"] is True
    assert claims(M.check_output_loss_mismatch(ctx)) == []
    double = models.build_mlp(healthy_binary, loss=keras.losses.BinaryCrossentropy(from_logits=True))
    f = one(M.check_output_loss_mismatch(ctx_for(healthy_binary, model=double, history=None)), "model.output_loss_mismatch")
    assert f.severity is Severity.WARNING and f.evidence["output_activation"] == "sigmoid"


def test_softmax_with_binary_crossentropy_on_multiclass(healthy_multiclass):
    model = models.build_mlp(healthy_multiclass, loss="binary_crossentropy")
    ctx = ctx_for(healthy_multiclass, model=model, history=None)
    f = one(M.check_output_loss_mismatch(ctx), "model.output_loss_mismatch")
    assert f.severity is Severity.WARNING and f.evidence["classes"] == 3 and f.evidence["output_width"] == 3
    assert M.layer_stats(ctx)["layers"]  # one-hot targets were built for the gradient pass


def test_one_hot_categorical_crossentropy_is_measured_and_fine(healthy_multiclass):
    model = models.build_mlp(healthy_multiclass, loss="categorical_crossentropy")
    ctx = ctx_for(healthy_multiclass, model=model, history=None)
    assert claims(M.check_output_loss_mismatch(ctx)) == []
    st = M.layer_stats(ctx)
    assert np.isfinite(st["sample_loss"]) and all(d["grad_norm"] > 0 for d in st["layers"])


def test_more_outputs_than_classes(healthy_binary):
    # 4 softmax outputs for labels 0/1: half the probability goes to classes that never occur
    model = models.build_mlp(healthy_binary, output_activation="softmax", output_width=4,
                             loss="sparse_categorical_crossentropy")
    ctx = ctx_for(healthy_binary, model=model, history=None)
    f = one(M.check_output_loss_mismatch(ctx), "model.output_loss_mismatch")
    assert f.severity is Severity.WARNING and f.evidence["output_width"] == 4
    assert f.evidence["classes_in_data"] == 2 and f.evidence["mean_probability_on_absent_classes"] >= 0.05


@pytest.mark.filterwarnings("ignore:The structure of `inputs`")
def test_uncompiled_model_is_measured_with_the_usual_loss(healthy_binary):
    import keras

    trained = healthy_binary.model
    bare = keras.Model(trained.inputs, trained.outputs)  # the same layers, never compiled
    assert getattr(bare, "loss", None) is None
    ctx = ctx_for(healthy_binary, model=bare, history=None)
    info = M.loss_info(ctx)
    assert info["assumed"] and info["name"] == "binary_crossentropy"
    assert np.isfinite(M.layer_stats(ctx)["sample_loss"])
    assert claims([f for fn in M.CHECKS for f in fn(ctx)]) == []


def test_healthy_outputs_match_their_losses(healthy_binary, healthy_multiclass, healthy_regression, healthy_forecast):
    for case in (healthy_binary, healthy_multiclass, healthy_regression, healthy_forecast):
        assert M.check_output_loss_mismatch(ctx_for(case, history=None)) == []


# -- capacity -------------------------------------------------------------------------------------
def test_huge_model_on_60_rows_is_too_large():
    ctx = ctx_for(models.fault_case("huge_on_60_rows"))
    f = one(M.check_capacity(ctx), "model.capacity")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert "too large" in f.title
    assert f.evidence["training_rows"] == 60 and f.evidence["parameters_per_row"] >= 20
    assert f.evidence["val_loss_end_over_min"] >= 1.3


def test_one_unit_bottleneck_is_too_small():
    ctx = ctx_for(models.fault_case("one_unit_wine"))
    f = one(M.check_capacity(ctx), "model.capacity")
    assert f.severity in (Severity.WARNING, Severity.CRITICAL)
    assert "too small" in f.title
    assert f.evidence["narrowest_hidden_layer"] == 1 and f.evidence["train_loss_over_reference"] >= 2


# -- other architectures --------------------------------------------------------------------------
def test_recurrent_and_convolutional_models_are_measured(healthy_forecast):
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input(shape=(12, 1))
    x = keras.layers.Conv1D(8, 3, activation="relu")(inp)
    x = keras.layers.LSTM(8)(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    model = keras.Model(inp, keras.layers.Dense(1)(x))
    model.compile(optimizer="adam", loss="mse")
    ctx = ctx_for(healthy_forecast, model=model, history=None)
    st = M.layer_stats(ctx)
    assert [d["type"] for d in st["layers"]] == ["Conv1D", "LSTM", "Dense", "Dense"]
    assert [h["type"] for h in st["hidden"]] == ["Conv1D", "Dense"]  # no unit statistics inside the LSTM
    assert all(np.isfinite(d["grad_norm"]) for d in st["layers"])
    assert M.build_section(ctx) is not None
