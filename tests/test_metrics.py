"""reportgen.metrics against scikit-learn on the same arrays, plus the degenerate cases.

scikit-learn is the reference users compare against, so most tests compute the same metric
both ways; the rest pin down behaviour scikit-learn does not have (notes in `undefined`,
None instead of a crash, bootstrap intervals, MASE, ECE).
"""
from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn import calibration as skcal
from sklearn import metrics as skm

from reportgen.metrics import (
    MetricSet,
    binary_metrics,
    bootstrap_intervals,
    calibration_curve,
    confusion_matrix,
    expected_calibration_error,
    forecast_metrics,
    multiclass_metrics,
    regression_metrics,
    threshold_sweep,
)
from reportgen.metrics.classification import _auc_from_keys, _rank_keys

TOL = dict(rel=1e-9, abs=1e-12)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _binary_data(rng, n=2000, ties=False):
    y = rng.integers(0, 2, n)
    p = np.clip(rng.random(n) * 0.7 + 0.25 * y, 0, 1)
    if ties:
        p = np.round(p, 1)  # ~11 distinct scores: ties everywhere, some exactly at 0.5
    return y, p


def _multiclass_data(rng, n=2000, k=4, ties=False):
    y = rng.integers(0, k, n)
    if ties:
        palette = rng.dirichlet(np.ones(k), size=6)
        proba = palette[rng.integers(0, 6, n)]
    else:
        proba = rng.dirichlet(np.ones(k), size=n)
        proba[np.arange(n), y] += 0.3
        proba /= proba.sum(axis=1, keepdims=True)
    return y, proba


def _sk_binary(y, p, threshold=0.5):
    pred = (p > threshold).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0),
            "f1": skm.f1_score(y, pred, zero_division=0),
            "roc_auc": skm.roc_auc_score(y, p),
            "pr_auc": skm.average_precision_score(y, p),
            "log_loss": skm.log_loss(y, p),
            "brier": skm.brier_score_loss(y, p),
            "f1_macro": skm.f1_score(y, pred, average="macro", zero_division=0),
            "f1_weighted": skm.f1_score(y, pred, average="weighted", zero_division=0),
            "precision_macro": skm.precision_score(y, pred, average="macro", zero_division=0),
            "recall_macro": skm.recall_score(y, pred, average="macro", zero_division=0),
            "precision_weighted": skm.precision_score(y, pred, average="weighted", zero_division=0),
            "recall_weighted": skm.recall_score(y, pred, average="weighted", zero_division=0),
            "mcc": skm.matthews_corrcoef(y, pred),
            "prevalence": y.mean(),
            "n": len(y),
        }


def _sk_multiclass(y, proba):
    pred = proba.argmax(axis=1)
    k = proba.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "mcc": skm.matthews_corrcoef(y, pred),
            "log_loss": skm.log_loss(y, proba, labels=range(k)),
            "brier": np.mean(np.sum((proba - np.eye(k)[y]) ** 2, axis=1)),
            "n": len(y),
        }
        for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                         ("f1", skm.f1_score)):
            out[name] = out[f"{name}_macro"] = fn(y, pred, average="macro", zero_division=0)
            out[f"{name}_weighted"] = fn(y, pred, average="weighted", zero_division=0)
        present = [c for c in range(k) if (y == c).any()]
        onehot = np.eye(k)[y]
        out["roc_auc"] = np.mean([skm.roc_auc_score(onehot[:, c], proba[:, c]) for c in present])
        out["pr_auc"] = np.mean(
            [skm.average_precision_score(onehot[:, c], proba[:, c]) for c in present]
        )
    return out


def _assert_values(ms: MetricSet, ref: dict):
    for key, want in ref.items():
        assert ms.values[key] == pytest.approx(want, **TOL), key


def _assert_plain(ms: MetricSet):
    """Every number a plain Python float (or None), and the whole set JSON-serialisable."""
    for key, v in ms.values.items():
        assert v is None or type(v) is float or (key in ('n', 'support') and type(v) is int), (key, type(v))
    for row in ms.per_class.values():
        for key, v in row.items():
            assert v is None or type(v) is float or (key in ('n', 'support') and type(v) is int), (key, type(v))
    for lo, hi in ms.intervals.values():
        assert type(lo) is float and type(hi) is float
    json.dumps(dataclasses.asdict(ms), allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Binary


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_binary_matches_sklearn(rng, ties, threshold):
    y, p = _binary_data(rng, ties=ties)
    ms = binary_metrics(y, p, ["neg", "pos"], threshold=threshold, ci=False)
    _assert_values(ms, _sk_binary(y, p, threshold))
    assert set(ms.values) == set(_sk_binary(y, p, threshold))
    assert ms.undefined == {}
    _assert_plain(ms)


def test_binary_confusion_and_per_class_match_sklearn(rng):
    y, p = _binary_data(rng, ties=True)
    pred = (p > 0.5).astype(int)
    ms = binary_metrics(y, p, ["neg", "pos"], ci=False)
    assert ms.confusion == skm.confusion_matrix(y, pred).tolist()
    prec, rec, f1, sup = skm.precision_recall_fscore_support(y, pred)
    for c, label in enumerate(["neg", "pos"]):
        row = ms.per_class[label]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((prec[c], rec[c], f1[c]))
        assert row["support"] == sup[c]


def test_score_at_threshold_is_negative_like_keras():
    ms = binary_metrics(np.array([0, 1, 1]), np.array([0.5, 0.5, 0.9]), ["a", "b"], ci=False)
    assert ms.confusion == [[1, 0], [1, 1]]
    assert ms.values["recall"] == 0.5


def test_binary_no_predicted_positives(rng):
    y, p = _binary_data(rng, n=500)
    ms = binary_metrics(y, p, ["neg", "pos"], threshold=1.0, ci=False)
    _assert_values(ms, _sk_binary(y, p, threshold=1.0))
    assert ms.values["precision"] == 0.0 and ms.values["recall"] == 0.0
    assert "no predicted positives" in ms.undefined["precision"]
    assert ms.values["mcc"] == 0.0 and "mcc" in ms.undefined
    assert ms.values["roc_auc"] is not None  # ranking metrics do not depend on the threshold


def test_binary_one_class_in_y_true(rng):
    p = rng.random(300)
    ms = binary_metrics(np.zeros(300, dtype=int), p, ["neg", "pos"])
    assert ms.values["roc_auc"] is None and ms.values["pr_auc"] is None
    assert ms.undefined["roc_auc"] == ms.undefined["pr_auc"] == "only one class in y_true"
    assert ms.values["recall"] == 0.0 and "no positives" in ms.undefined["recall"]
    assert ms.values["accuracy"] == pytest.approx(np.mean(p <= 0.5))
    assert ms.values["balanced_accuracy"] == pytest.approx(np.mean(p <= 0.5))
    assert ms.values["prevalence"] == 0.0
    assert "roc_auc" not in ms.intervals and "accuracy" in ms.intervals
    _assert_plain(ms)


def test_binary_log_loss_clips_hard_zeros():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.0, 1.0, 1.0, 0.0])  # two confidently wrong, two exactly right
    ms = binary_metrics(y, p, ["a", "b"], ci=False)
    top = 1 - 1e-15  # clipped p of the predicted-1 rows; 1 - top is 1e-15 up to rounding
    want = (-math.log(1e-15) - math.log(1 - top) - 2 * math.log(top)) / 4
    assert want == pytest.approx(17.269, abs=1e-3)  # finite: no inf from log(0)
    assert ms.values["log_loss"] == pytest.approx(want, rel=1e-12)


def test_binary_rejects_non_binary_labels():
    with pytest.raises(ValueError, match="0..1"):
        binary_metrics(np.array([0, 2]), np.array([0.1, 0.9]), ["a", "b"])


# ---------------------------------------------------------------------------------------------
# Multiclass


@pytest.mark.parametrize("ties", [False, True])
def test_multiclass_matches_sklearn(rng, ties):
    y, proba = _multiclass_data(rng, ties=ties)
    ms = multiclass_metrics(y, proba, list("abcd"), ci=False)
    ref = _sk_multiclass(y, proba)
    _assert_values(ms, ref)
    assert set(ms.values) == set(ref)
    # all four classes present: the OvR macro equals scikit-learn's own multiclass call
    assert ms.values["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), **TOL
    )
    _assert_plain(ms)


def test_multiclass_brier_matches_sklearn_multiclass(rng):
    y, proba = _multiclass_data(rng, n=500)
    ms = multiclass_metrics(y, proba, list("abcd"), ci=False)
    assert ms.values["brier"] == pytest.approx(skm.brier_score_loss(y, proba), **TOL)


def test_multiclass_confusion_and_per_class_match_sklearn(rng):
    y, proba = _multiclass_data(rng)
    pred = proba.argmax(axis=1)
    ms = multiclass_metrics(y, proba, list("abcd"), ci=False)
    assert ms.confusion == skm.confusion_matrix(y, pred, labels=range(4)).tolist()
    assert confusion_matrix(y, pred, 4).tolist() == ms.confusion
    prec, rec, f1, sup = skm.precision_recall_fscore_support(y, pred, labels=range(4))
    for c, label in enumerate("abcd"):
        row = ms.per_class[label]
        assert [row["precision"], row["recall"], row["f1"], row["support"]] == pytest.approx(
            [prec[c], rec[c], f1[c], sup[c]]
        )


def test_multiclass_class_never_predicted(rng):
    y, proba = _multiclass_data(rng, n=1500)
    proba[:, 3] = 0.001  # class "d" is in y_true but never the argmax
    proba /= proba.sum(axis=1, keepdims=True)
    ms = multiclass_metrics(y, proba, list("abcd"), ci=False)
    _assert_values(ms, _sk_multiclass(y, proba))
    assert ms.per_class["d"]["precision"] == 0.0 and ms.per_class["d"]["recall"] == 0.0
    assert ms.per_class["d"]["support"] == np.sum(y == 3)
    assert "never predicted: d" in ms.undefined["precision"]
    assert [row[3] for row in ms.confusion] == [0, 0, 0, 0]


def test_multiclass_class_absent_from_y_true(rng):
    y, proba = _multiclass_data(rng, n=1500)
    y[y == 2] = 0  # class "c" appears in the predictions but never in y_true
    ms = multiclass_metrics(y, proba, list("abcd"), ci=False)
    _assert_values(ms, _sk_multiclass(y, proba))  # macro over a, b, d, as scikit-learn
    assert "3 of 4 classes" in ms.undefined["roc_auc"] and "c" in ms.undefined["roc_auc"]
    assert ms.per_class["c"]["support"] == 0.0 and ms.per_class["c"]["recall"] == 0.0


def test_multiclass_class_absent_everywhere(rng):
    y, proba = _multiclass_data(rng, n=1500)
    y[y == 3] = 0
    proba[:, 3] = 0.001  # "d": neither in y_true nor predicted
    proba /= proba.sum(axis=1, keepdims=True)
    ms = multiclass_metrics(y, proba, list("abcd"), ci=False)
    _assert_values(ms, _sk_multiclass(y, proba))  # macro over a, b, c, as scikit-learn
    assert ms.per_class["d"] == {"precision": None, "recall": None, "f1": None, "support": 0.0}


def test_multiclass_one_class_in_y_true(rng):
    _, proba = _multiclass_data(rng, n=200)
    ms = multiclass_metrics(np.full(200, 1), proba, list("abcd"))
    assert ms.values["roc_auc"] is None and ms.values["pr_auc"] is None
    assert ms.undefined["roc_auc"] == "only one class in y_true"
    assert ms.values["accuracy"] == pytest.approx(np.mean(proba.argmax(axis=1) == 1))
    _assert_plain(ms)


def test_multiclass_log_loss_renormalises_rows(rng):
    y, proba = _multiclass_data(rng, n=300)
    scaled = proba * rng.uniform(0.3, 1.0, size=(300, 1))  # rows no longer sum to 1
    a = multiclass_metrics(y, proba, list("abcd"), ci=False).values["log_loss"]
    b = multiclass_metrics(y, scaled, list("abcd"), ci=False).values["log_loss"]
    assert b == pytest.approx(a, rel=1e-12)


def test_multiclass_rejects_shape_mismatch(rng):
    y, proba = _multiclass_data(rng, n=10)
    with pytest.raises(ValueError, match="shape"):
        multiclass_metrics(y, proba, list("abc"))


# ---------------------------------------------------------------------------------------------
# Regression and forecast


def test_regression_matches_sklearn(rng):
    y = rng.normal(10, 3, 2000)
    pred = y + rng.normal(0, 1, 2000)
    ms = regression_metrics(y, pred, ci=False)
    _assert_values(ms, {
        "mae": skm.mean_absolute_error(y, pred),
        "rmse": math.sqrt(skm.mean_squared_error(y, pred)),
        "r2": skm.r2_score(y, pred),
        "mape": skm.mean_absolute_percentage_error(y, pred),
        "median_ae": skm.median_absolute_error(y, pred),
        "max_error": skm.max_error(y, pred),
        "n": 2000,
    })
    assert ms.undefined == {}
    _assert_plain(ms)


def test_mape_skips_zero_targets(rng):
    y = rng.normal(5, 2, 1000)
    y[:7] = 0.0
    pred = y + rng.normal(0, 0.5, 1000)
    ms = regression_metrics(y, pred, ci=False)
    keep = y != 0
    assert ms.values["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(y[keep], pred[keep]), **TOL
    )
    assert ms.undefined["mape"] == "7 of 1000 rows with y_true == 0 skipped"
    # the other metrics still use every row
    assert ms.values["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), **TOL)


def test_regression_constant_target(rng):
    y = np.full(100, 0.1)  # 0.1 is not exact in binary: a rounded variance would not be 0
    pred = y + rng.normal(0, 0.1, 100)
    ms = regression_metrics(y, pred)
    assert ms.values["r2"] is None and "constant" in ms.undefined["r2"]
    assert ms.values["mae"] == pytest.approx(np.mean(np.abs(pred - y)))
    assert "r2" not in ms.intervals and "mae" in ms.intervals
    _assert_plain(ms)


def test_regression_all_zero_target():
    ms = regression_metrics(np.zeros(5), np.arange(5.0), ci=False)
    assert ms.values["mape"] is None and ms.undefined["mape"] == "y_true is 0 on every row"
    assert ms.values["max_error"] == 4.0 and ms.values["median_ae"] == 2.0


def _series(rng, n=1000):
    y = np.cumsum(rng.normal(0, 1, n + 1)) + 10 * np.sin(np.arange(n + 1) / 10)
    return y[1:], y[:-1]  # truth, naive last-value forecast


def test_mase_below_one_for_good_forecast(rng):
    y, naive = _series(rng)
    good = y + rng.normal(0, 0.2, len(y))
    ms = forecast_metrics(y, good, naive)
    naive_mae = np.mean(np.abs(y - naive))
    assert ms.values["naive_mae"] == pytest.approx(naive_mae, **TOL)
    assert ms.values["mase"] == pytest.approx(np.mean(np.abs(good - y)) / naive_mae, **TOL)
    assert ms.values["mase"] < 0.5
    lo, hi = ms.intervals["mase"]
    assert lo <= ms.values["mase"] <= hi < 1
    _assert_plain(ms)


def test_mase_above_one_for_bad_forecast(rng):
    y, naive = _series(rng)
    bad = naive + rng.normal(0, 3, len(y))  # the naive forecast plus noise
    ms = forecast_metrics(y, bad, naive, ci=False)
    assert ms.values["mase"] > 1.5
    assert ms.values["mae"] == pytest.approx(skm.mean_absolute_error(y, bad), **TOL)


def test_mase_undefined_when_naive_is_exact():
    y = np.full(50, 3.0)
    ms = forecast_metrics(y, y + 0.1, y.copy())
    assert ms.values["mase"] is None and "naive MAE 0" in ms.undefined["mase"]
    assert ms.values["naive_mae"] == 0.0
    assert "mase" not in ms.intervals
    _assert_plain(ms)


# ---------------------------------------------------------------------------------------------
# Empty input


@pytest.mark.parametrize("make", [
    lambda: binary_metrics(np.array([], int), np.array([]), ["a", "b"]),
    lambda: multiclass_metrics(np.array([], int), np.zeros((0, 3)), ["a", "b", "c"]),
    lambda: regression_metrics(np.array([]), np.array([])),
    lambda: forecast_metrics(np.array([]), np.array([]), np.array([])),
])
def test_empty_input_gives_none_with_reason(make):
    ms = make()
    assert ms.values and all(v is None for v in ms.values.values())
    assert set(ms.undefined) == set(ms.values)
    assert ms.intervals == {}
    _assert_plain(ms)


def test_empty_input_calibration_and_sweep():
    mean_pred, observed, count = calibration_curve(np.array([]), np.array([]))
    assert len(mean_pred) == len(observed) == len(count) == 0
    assert expected_calibration_error(np.array([]), np.array([])) is None
    sweep = threshold_sweep(np.array([], int), np.array([]), n=5)
    assert sweep["f1"].tolist() == [0.0] * 5
    assert bootstrap_intervals(lambda a: {"m": 1.0}, (np.array([]),), ["m"]) == {}


# ---------------------------------------------------------------------------------------------
# Calibration and thresholds


def test_calibration_curve_matches_sklearn(rng):
    y, p = _binary_data(rng, n=3000)
    p[:20] = np.linspace(0, 1, 11)[rng.integers(0, 11, 20)]  # values exactly on bin edges
    mean_pred, observed, count = calibration_curve(y, p, n_bins=10)
    prob_true, prob_pred = skcal.calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(mean_pred, prob_pred, rtol=1e-12)
    np.testing.assert_allclose(observed, prob_true, rtol=1e-12)
    assert count.sum() == 3000


def test_calibration_curve_drops_empty_bins():
    mean_pred, observed, count = calibration_curve(
        np.array([0, 1, 1, 1]), np.array([0.05, 0.05, 0.95, 0.91]), n_bins=10
    )
    np.testing.assert_allclose(mean_pred, [0.05, 0.93])
    np.testing.assert_allclose(observed, [0.5, 1.0])
    assert count.tolist() == [2, 2]


def test_ece_by_hand():
    # bin (0.2, 0.3]: pred 0.25, obs 0.5; bin (0.8, 0.866]: pred 0.85, obs 1
    y, p = np.array([0, 1, 1, 1]), np.array([0.25, 0.25, 0.85, 0.85])
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(0.5 * 0.25 + 0.5 * 0.15)


def test_ece_small_for_calibrated_large_for_overconfident(rng):
    p = rng.random(100_000)
    y = (rng.random(100_000) < p).astype(int)  # y ~ Bernoulli(p): calibrated by construction
    assert expected_calibration_error(y, p) < 0.01
    logit = np.log(p / (1 - p))
    overconfident = 1 / (1 + np.exp(-4 * logit))
    assert expected_calibration_error(y, overconfident) > 0.1


def test_threshold_sweep_matches_sklearn(rng):
    grid = np.linspace(0, 1, 21)
    p = grid[rng.integers(0, 21, 1000)]  # scores exactly equal to sweep thresholds
    y = (rng.random(1000) < p).astype(int)
    sweep = threshold_sweep(y, p, n=21)
    np.testing.assert_array_equal(sweep["thresholds"], grid)
    for i, t in enumerate(grid):
        pred = (p > t).astype(int)
        assert sweep["precision"][i] == pytest.approx(skm.precision_score(y, pred, zero_division=0))
        assert sweep["recall"][i] == pytest.approx(skm.recall_score(y, pred, zero_division=0))
        assert sweep["f1"][i] == pytest.approx(skm.f1_score(y, pred, zero_division=0))
        assert sweep["accuracy"][i] == pytest.approx(skm.accuracy_score(y, pred))
        assert sweep["balanced_accuracy"][i] == pytest.approx(skm.balanced_accuracy_score(y, pred))


def test_threshold_sweep_agrees_with_binary_metrics(rng):
    y, p = _binary_data(rng, n=800)
    sweep = threshold_sweep(y, p, n=11)
    ms = binary_metrics(y, p, ["a", "b"], threshold=sweep["thresholds"][3], ci=False)
    assert sweep["f1"][3] == pytest.approx(ms.values["f1"], **TOL)


# ---------------------------------------------------------------------------------------------
# Bootstrap


def test_bootstrap_auc_keys_match_sklearn_with_ties(rng):
    y, p = _binary_data(rng, n=3000, ties=True)
    assert _auc_from_keys(_rank_keys(y.astype(bool), p)) == pytest.approx(
        skm.roc_auc_score(y, p), **TOL
    )


def _width(interval):
    return interval[1] - interval[0]


def test_intervals_contain_point_estimates(rng):
    y, p = _binary_data(rng, n=3000)
    ms = binary_metrics(y, p, ["a", "b"])
    assert set(ms.intervals) == {"accuracy", "balanced_accuracy", "f1", "roc_auc"}
    yk, proba = _multiclass_data(rng, n=3000)
    mc = multiclass_metrics(yk, proba, list("abcd"))
    assert set(mc.intervals) == {"accuracy", "balanced_accuracy", "f1", "roc_auc"}
    yr = rng.normal(size=3000)
    rm = regression_metrics(yr, yr + rng.normal(0, 0.5, 3000))
    assert set(rm.intervals) == {"mae", "rmse", "r2"}
    for ms_ in (ms, mc, rm):
        for key, (lo, hi) in ms_.intervals.items():
            assert lo < ms_.values[key] < hi, key
    # accuracy: close to the normal approximation
    acc = ms.values["accuracy"]
    assert _width(ms.intervals["accuracy"]) == pytest.approx(
        2 * 1.96 * math.sqrt(acc * (1 - acc) / 3000), rel=0.2
    )


def test_intervals_shrink_with_n(rng):
    widths = []
    for n in (500, 5000, 200_000):  # the last goes through the subsample-and-scale path
        y, p = _binary_data(rng, n=n)
        ms = binary_metrics(y, p, ["a", "b"])
        lo, hi = ms.intervals["accuracy"]
        assert lo < ms.values["accuracy"] < hi
        acc = ms.values["accuracy"]
        assert _width((lo, hi)) == pytest.approx(2 * 1.96 * math.sqrt(acc * (1 - acc) / n), rel=0.25)
        widths.append(_width(ms.intervals["roc_auc"]))
    assert widths[0] > widths[1] > widths[2]


def test_bootstrap_large_n_only_resamples_a_subsample(rng):
    n = 1_000_000
    x = rng.normal(3.0, 2.0, n)
    sizes = []

    def mean(a):
        sizes.append(len(a))
        return {"mean": float(a.mean())}

    out = bootstrap_intervals(mean, (x,), ["mean"], n_boot=50, point={"mean": float(x.mean())})
    assert max(sizes) == 20_000 and len(sizes) == 51  # subsample estimate + 50 resamples
    lo, hi = out["mean"]
    assert lo < x.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * 2.0 / math.sqrt(n), rel=0.3)


def test_bootstrap_skips_undefined_resamples(rng):
    x = rng.normal(size=400)
    calls = iter(range(10_000))

    def metric(a):
        i = next(calls)
        return {"often": None if i % 4 == 0 else float(a.mean()),
                "rarely": float(a.mean()) if i % 4 == 0 else None}

    out = bootstrap_intervals(metric, (x,), ["often", "rarely"], n_boot=100, point={
        "often": float(x.mean()), "rarely": float(x.mean())})
    assert "often" in out and "rarely" not in out  # 25% defined is too few to trust
    lo, hi = out["often"]
    assert lo < x.mean() < hi


def test_bootstrap_is_deterministic_and_optional(rng):
    y, p = _binary_data(rng, n=1000)
    a = binary_metrics(y, p, ["a", "b"], seed=3).intervals
    b = binary_metrics(y, p, ["a", "b"], seed=3).intervals
    c = binary_metrics(y, p, ["a", "b"], seed=4).intervals
    assert a == b and a != c
    assert binary_metrics(y, p, ["a", "b"], ci=False).intervals == {}


# ---------------------------------------------------------------------------------------------
# Start-up cost


def test_metrics_do_not_import_sklearn():
    code = (
        "import sys, reportgen.metrics; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'sklearn']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
