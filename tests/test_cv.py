"""Cross-validation (--cv): split logic, retraining fresh model copies in worker processes,
metrics.cv in report.json, reproducibility, evaluation.unstable_cv and the report section.

The end-to-end tests train real small Keras models (tests/models.py) with few epochs per fold
(cv_epochs=3) and one worker (jobs=1), except one test that runs the folds in parallel.
"""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import models  # noqa: E402  (tests/ is on sys.path, see conftest.py)

from reportgen.errors import InputError  # noqa: E402
from reportgen.validation import make_splits, split_kind, summarize, window_gap  # noqa: E402


def make_ctx(case, *, model=None, cv=3, cv_epochs=3, jobs=1, seed=0, task=None):
    """An AuditContext built the way reportgen.audit builds it, with the CV settings set."""
    from reportgen.context import AuditContext
    from reportgen.inputs import build_inputs

    inputs = build_inputs(test=case.test, target=case.target, model=model or case.model, train=case.train,
                          history=case.history or None, task=task or case.task, time_column=case.time_column)
    ctx = AuditContext(inputs, seed=seed, strict=True)
    ctx.cache["cv_settings"] = {"k": cv, "epochs": cv_epochs, "batch_size": 32, "jobs": jobs}
    return ctx


def audit_cv(case, **kw):
    import reportgen

    return reportgen.audit(model=case.model, train=case.train, test=case.test, target=case.target,
                           history=case.history, task=case.task, time_column=case.time_column, strict=True,
                           **{"cv": 3, "cv_epochs": 3, "jobs": 1, **kw})


def fold_keys(report) -> set[str]:
    return {k for k in report.metrics["test"] if k != "per_class"}


# -- split logic (no TensorFlow) ---------------------------------------------------------------
def test_split_kind_follows_task_and_time_column():
    assert split_kind("binary", False) == "stratified"
    assert split_kind("multiclass", False) == "stratified"
    assert split_kind("regression", False) == "kfold"
    assert split_kind("forecast", False) == "time"
    assert split_kind("regression", True) == "time"
    assert split_kind("binary", True) == "time"
    assert window_gap((12, 1)) == 12 and window_gap((20,)) == 0 and window_gap((1, 5)) == 0


@pytest.mark.parametrize("n,k,gap", [(100, 3, 0), (100, 5, 12), (37, 4, 3)])
def test_time_splits_are_ordered_expanding_and_match_timeseriessplit(n, k, gap):
    from sklearn.model_selection import TimeSeriesSplit

    splits = make_splits("time", n, k, gap=gap)
    assert len(splits) == k
    ref = list(TimeSeriesSplit(n_splits=k, gap=gap).split(np.arange(n)))
    for (tr, te), (rtr, rte) in zip(splits, ref):
        assert tr.max() + gap < te.min()  # every training row is before every test row, with the gap
        assert np.array_equal(tr, np.arange(tr.max() + 1))  # expanding window from the start
        assert np.array_equal(tr, rtr) and np.array_equal(te, rte)
    starts = [te.min() for _, te in splits]
    assert starts == sorted(starts) and splits[-1][1].max() == n - 1


def test_stratified_splits_partition_rows_and_keep_class_shares():
    y = np.r_[np.zeros(90, int), np.ones(30, int)]
    splits = make_splits("stratified", len(y), 3, y=y, seed=0)
    tests = np.concatenate([te for _, te in splits])
    assert sorted(tests.tolist()) == list(range(len(y)))
    for tr, te in splits:
        assert not set(tr) & set(te)
        assert np.mean(y[te]) == pytest.approx(0.25, abs=0.02)
    again = make_splits("stratified", len(y), 3, y=y, seed=0)
    other = make_splits("stratified", len(y), 3, y=y, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(splits, other))


def test_kfold_is_shuffled_with_the_seed():
    a = make_splits("kfold", 50, 5, seed=3)
    b = make_splits("kfold", 50, 5, seed=3)
    assert [te.tolist() for _, te in a] == [te.tolist() for _, te in b]
    assert a[0][1].tolist() != list(range(10))  # shuffled, not blocks


def test_too_few_rows_is_an_input_error():
    with pytest.raises(InputError, match="too few"):
        make_splits("time", 20, 5, gap=12)
    with pytest.raises(InputError, match="fewer than"):
        make_splits("kfold", 3, 5)


def test_summarize_uses_sample_std_and_skips_undefined():
    mean, std = summarize([{"a": 1.0, "b": None}, {"a": 3.0, "b": 2.0}])
    assert mean == {"a": 2.0, "b": 2.0}
    assert std["a"] == pytest.approx(np.sqrt(2.0)) and std["b"] is None


# -- fresh copies ------------------------------------------------------------------------------
def test_fresh_copy_has_new_weights_same_compile_and_readapted_normalization(healthy_binary):
    from reportgen._tf import keras
    from reportgen.validation import fresh_copy

    model = healthy_binary.model
    X, _ = healthy_binary.xy(healthy_binary.train)
    half = X[: len(X) // 2] * 2.0 + 1.0
    keras.utils.set_random_seed(5)
    clone = fresh_copy(model, keras, half)
    assert type(clone.optimizer) is type(model.optimizer)
    assert float(clone.optimizer.learning_rate) == pytest.approx(float(model.optimizer.learning_rate))
    assert clone.get_compile_config()["loss"] == model.get_compile_config()["loss"]
    dense_o = [l for l in model.layers if isinstance(l, keras.layers.Dense)][0]
    dense_c = [l for l in clone.layers if isinstance(l, keras.layers.Dense)][0]
    assert not np.allclose(dense_o.get_weights()[0], dense_c.get_weights()[0])  # fresh initial weights
    norm_c = [l for l in clone.layers if isinstance(l, keras.layers.Normalization)][0]
    assert np.allclose(norm_c.get_weights()[0].ravel(), half.mean(axis=0), rtol=1e-3, atol=1e-3)
    assert clone.optimizer.iterations.numpy() == 0


def test_uncompiled_model_is_an_input_error(healthy_binary):
    from reportgen._tf import keras
    from reportgen.validation import cross_validate

    bare = keras.Model.from_config(healthy_binary.model.get_config())  # not compiled
    assert not bare.get_compile_config()
    ctx = make_ctx(healthy_binary, model=bare)
    with pytest.raises(InputError, match="compiled"):
        cross_validate(ctx)


# -- end to end, one split kind each ------------------------------------------------------------
@pytest.fixture(scope="module")
def binary_report(healthy_binary):
    return audit_cv(healthy_binary)


def test_binary_cv_json_fields(binary_report, healthy_binary):
    data = json.loads(binary_report.to_json())
    cv = data["metrics"]["cv"]
    assert len(cv["folds"]) == 3
    assert set(cv["folds"][0]) == fold_keys(binary_report)  # the same metric set as the test metrics
    for name in ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"):
        assert cv["mean"][name] == pytest.approx(np.mean([f[name] for f in cv["folds"]]))
        assert cv["std"][name] == pytest.approx(np.std([f[name] for f in cv["folds"]], ddof=1))
    assert cv["kind"] == "stratified" and cv["k"] == 3 and cv["epochs"] == 3 and cv["batch_size"] == 32
    assert cv["seed"] == 0 and cv["jobs"] == 1
    n = len(healthy_binary.train)
    assert sum(s["test_rows"] for s in cv["splits"]) == n
    assert all(s["train_rows"] + s["test_rows"] == n for s in cv["splits"])
    assert all(s["train_range"] is None for s in cv["splits"])  # shuffled folds have no period
    assert cv["test_vs_cv"]["verdict"] in ("consistent", "lucky", "unlucky")
    assert cv["mean"]["accuracy"] > 0.85  # fresh copies trained for 3 epochs still learn


def test_binary_cv_section_and_no_instability_claim(binary_report):
    sec = next(s for s in binary_report.sections if s.key == "cross_validation")
    table = sec.tables[0]
    assert len(table.rows) == 3 + 3  # folds, mean, std, test set
    assert [f.key for f in sec.figures] == ["cv_fold_scores"]
    assert sec.figures[0].svg.startswith("<svg")
    assert any("test-set accuracy" in p for p in sec.paragraphs)
    assert "evaluation.unstable_cv" not in {f.code for f in binary_report.findings}


def test_cv_is_reproducible_serial_and_parallel(binary_report, healthy_binary):
    from reportgen.validation import cross_validate

    ctx = make_ctx(healthy_binary, jobs=2)
    again = cross_validate(ctx)
    assert again["jobs"] == 2
    first = binary_report.metrics["cv"]["folds"]
    assert [f["accuracy"] for f in again["folds"]] == [f["accuracy"] for f in first]
    for a, b in zip(again["folds"], first):
        for key in a:
            if a[key] is not None:
                assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9)
    assert ctx.cache["cv"] is again


def test_multiclass_cv(healthy_multiclass):
    report = audit_cv(healthy_multiclass)
    cv = report.metrics["cv"]
    assert cv["kind"] == "stratified" and len(cv["folds"]) == 3
    assert set(cv["folds"][0]) == fold_keys(report)
    assert {"f1_macro", "roc_auc", "balanced_accuracy"} <= set(cv["mean"])
    assert "evaluation.unstable_cv" not in {f.code for f in report.findings}


def test_regression_cv(healthy_regression):
    report = audit_cv(healthy_regression, cv_epochs=10)
    cv = report.metrics["cv"]
    assert cv["kind"] == "kfold" and len(cv["folds"]) == 3 and cv["gap"] == 0
    assert set(cv["folds"][0]) == fold_keys(report)
    assert {"mae", "rmse", "r2"} <= set(cv["std"])
    assert cv["headline"] == "mae"
    assert "evaluation.unstable_cv" not in {f.code for f in report.findings}


def test_forecast_lstm_time_ordered_cv():
    from reportgen.checks.validation_checks import build_section
    from reportgen.validation import cross_validate, plan

    case = models.healthy_lstm()
    ctx = make_ctx(case)
    p = plan(ctx, 3)
    t = case.train["step"].to_numpy()
    assert p["kind"] == "time" and p["gap"] == 12
    for tr, te in p["splits"]:  # never shuffled: all training times before all test times, with the gap
        rows_tr, rows_te = p["rows"][tr], p["rows"][te]
        assert t[rows_tr].max() + 12 < t[rows_te].min()
    cv = cross_validate(ctx)
    assert cv["kind"] == "time" and len(cv["folds"]) == 3 and cv["range_unit"] == "step"
    assert {"mae", "rmse", "mase"} <= set(cv["folds"][0])
    n = len(case.train)
    for s in cv["splits"]:
        assert s["test_rows"] == n // 4
        assert s["train_range"][1] + 12 < s["test_range"][0]
    assert cv["splits"][-1]["test_range"][1] == int(t.max())
    sec = build_section(ctx)
    assert [f.key for f in sec.figures] == ["cv_fold_scores", "cv_split_diagram"]
    assert "train period" in sec.tables[0].columns


# -- the CLI -----------------------------------------------------------------------------------
def test_cv_without_train_exits_2_and_says_why(healthy_binary, tmp_path, capsys):
    from reportgen.cli import main

    model_path = tmp_path / "model.keras"
    healthy_binary.model.save(model_path)
    test_path = tmp_path / "test.csv"
    healthy_binary.test.to_csv(test_path, index=False)
    out = tmp_path / "report"
    code = main(["audit", "--model", str(model_path), "--test", str(test_path), "--target", "target",
                 "--cv", "3", "--out", str(out), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cv needs --train" in err[0]
    assert not out.exists()


# -- evaluation.unstable_cv and the test-vs-CV comparison (cached results) ----------------------
def _cv_cache(scores, se, metric="accuracy", kind="stratified"):
    return {"folds": [{metric: s} for s in scores], "mean": {}, "std": {}, "k": len(scores), "kind": kind,
            "epochs": 3, "headline": metric, "splits": [{"headline_se": e} for e in se]}


def test_unstable_cv_fires_when_folds_spread_beyond_sampling_noise():
    from reportgen.checks.validation_checks import check_unstable_cv

    ctx = SimpleNamespace(cache={"cv": _cv_cache([0.95, 0.62, 0.93, 0.96, 0.70], [0.01] * 5)})
    (f,) = check_unstable_cv(ctx)
    assert f.code == "evaluation.unstable_cv" and f.severity.value == "critical"
    assert f.evidence["std_over_expected"] > 10
    ctx = SimpleNamespace(cache={"cv": _cv_cache([40.0, 61.0, 44.0], [1.5] * 3, metric="mae", kind="kfold")})
    (f,) = check_unstable_cv(ctx)
    assert f.severity.value == "warning" and f.evidence["metric"] == "mae"


def test_unstable_cv_silent_on_noise_sized_spread():
    from reportgen.checks.validation_checks import check_unstable_cv

    # a spread as large as sampling noise on small folds: not a claim
    ctx = SimpleNamespace(cache={"cv": _cv_cache([0.90, 0.97, 0.93], [0.035] * 3)})
    assert check_unstable_cv(ctx) == []
    # beyond noise on huge folds, but tiny in plain terms (0.6 accuracy points): not a claim either
    ctx = SimpleNamespace(cache={"cv": _cv_cache([0.950, 0.956, 0.951], [0.0005] * 3)})
    assert check_unstable_cv(ctx) == []
    assert check_unstable_cv(SimpleNamespace(cache={})) == []


def test_test_score_outside_cv_band_is_called_lucky():
    from reportgen.validation import compare_with_test

    def ctx_with(value, name="accuracy"):
        return SimpleNamespace(test_metrics=SimpleNamespace(values={name: value}),
                               test_row_error=np.r_[np.zeros(990), np.ones(10)])

    cv = {"headline": "accuracy", "mean": {"accuracy": 0.90}, "std": {"accuracy": 0.01}}
    assert compare_with_test(ctx_with(0.99), cv)["verdict"] == "lucky"
    assert compare_with_test(ctx_with(0.91), cv)["verdict"] == "consistent"
    assert compare_with_test(ctx_with(0.80), cv)["verdict"] == "unlucky"
    cv = {"headline": "mae", "mean": {"mae": 2.0}, "std": {"mae": 0.1}}
    assert compare_with_test(ctx_with(1.0, "mae"), cv)["verdict"] == "lucky"  # lower error is better
    assert compare_with_test(ctx_with(3.0, "mae"), cv)["verdict"] == "unlucky"
