"""Tests for reportgen.figures: SVG contract, determinism, escaping, decimation, size at 1M
rows and the numbers each figure reports (checked against independent computations)."""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest

import reportgen.figures as F
from reportgen.figures import classification as C
from reportgen.figures import core

SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<b>x</b>", "--><script>alert(1)</script>", "a\"b' & $x$ onload=1 javascript:x()", "cost $5"]


# --- fixtures -----------------------------------------------------------------------------------
def _binary(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 1.5 * y)))
    return y, p


def _multiclass(n=3000, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += 2.0
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, p


def _regression(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    yt = rng.normal(10, 3, n)
    return yt, yt + rng.normal(0, 1, n)


def _cases():
    """(id, zero-argument callable) for every public figure function, small inputs."""
    yb, pb = _binary()
    ym, pm = _multiclass()
    labels2 = ["neg", "pos"]
    labels4 = ["a", "b", "c", "d"]
    cm = np.array([[50, 10], [5, 35]])
    yt, yp = _regression()
    t = np.datetime64("2024-01-01") + np.arange(200).astype("timedelta64[D]")
    series = np.sin(np.arange(200) / 7.0)
    hist = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6],
            "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.6, 0.7]}
    return [
        ("bar", lambda: F.bar_svg(["l1", "l2", "l3"], [1.0, 2.0, 0.5], "grad_norms", "layer", "norm")),
        ("bar_many_log", lambda: F.bar_svg([f"layer_{i}" for i in range(30)], np.logspace(-3, 2, 30),
                                           "drift", "feature", "PSI", log=True, highlight=[i % 7 == 0 for i in range(30)])),
        ("confusion", lambda: F.confusion_matrix_svg(cm, labels2)),
        ("confusion_large", lambda: F.confusion_matrix_svg(np.arange(400).reshape(20, 20), [f"c{i}" for i in range(20)])),
        ("roc_binary", lambda: F.roc_svg(yb, pb, labels2)),
        ("roc_multi", lambda: F.roc_svg(ym, pm, labels4)),
        ("pr_binary", lambda: F.pr_svg(yb, pb, labels2)),
        ("pr_multi", lambda: F.pr_svg(ym, pm, labels4)),
        ("reliability_binary", lambda: F.reliability_svg(yb, pb, labels2)),
        ("reliability_multi", lambda: F.reliability_svg(ym, pm, labels4)),
        ("scores_binary", lambda: F.score_distribution_svg(yb, pb, labels2)),
        ("scores_multi", lambda: F.score_distribution_svg(ym, pm, labels4)),
        ("threshold", lambda: F.threshold_svg(yb, pb, 0.5)),
        ("balance", lambda: F.class_balance_svg({"train": {"neg": 70, "pos": 30}, "test": {"neg": 60, "pos": 40}})),
        ("pred_vs_actual", lambda: F.predicted_vs_actual_svg(yt, yp)),
        ("residual_hist", lambda: F.residual_hist_svg(yt, yp)),
        ("residuals_vs_pred", lambda: F.residuals_vs_prediction_svg(yt, yp)),
        ("forecast_dt", lambda: F.forecast_svg(t, series, series + 0.1, np.r_[np.nan, series[:-1]])),
        ("forecast_num", lambda: F.forecast_svg(np.arange(200), series, series + 0.1)),
        ("error_by_position", lambda: F.error_by_position_svg(np.abs(series))),
        ("learning_curves", lambda: F.learning_curves_svg(hist)),
        ("placeholder", lambda: F.placeholder_svg("empty", "no data")),
    ]


CASES = _cases()


@pytest.fixture(scope="module")
def rendered():
    return {name: fn() for name, fn in CASES}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


# --- SVG contract -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_svg_contract(rendered, name):
    svg = rendered[name]
    assert isinstance(svg, str) and svg.startswith("<svg")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<!--" not in svg
    assert "<metadata" not in svg and "<style" not in svg  # no page-global CSS
    root = _parse(svg)
    assert root.tag == SVG_NS + "svg"
    vb = [float(v) for v in root.get("viewBox").split()]
    assert len(vb) == 4 and vb[2] > 100 and vb[3] > 50
    assert root.get("width") == "100%" and root.get("height") is None
    assert f"max-width:{vb[2]:g}pt" in root.get("style")
    assert root.get("role") == "img"
    title = root.find(SVG_NS + "title")
    assert title is not None and title.text and root.get("aria-label") == title.text
    assert list(root)[0] is title  # first child, as screen readers expect
    # ids: unique, figure-prefixed, and every in-document reference resolves.
    ids = re.findall(r'\sid="([^"]*)"', svg)
    assert len(ids) == len(set(ids))
    assert all(i.startswith("rg-") for i in ids)
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
    assert refs <= set(ids)
    # no absolute sizes left: the figure scales with its container
    assert not re.search(r'<svg[^>]*\sheight="[\d.]+pt"', svg)


# A representative subset (vector + raster layers, datetime axis, many texts) keeps this fast.
DETERMINISM = {"bar_many_log", "confusion", "roc_multi", "pr_binary", "threshold",
               "residuals_vs_pred", "forecast_dt", "learning_curves"}


@pytest.mark.parametrize("name,fn", [c for c in CASES if c[0] in DETERMINISM],
                         ids=[c[0] for c in CASES if c[0] in DETERMINISM])
def test_deterministic_bytes(rendered, name, fn):
    again = fn()
    assert again == rendered[name]
    if name == "residuals_vs_pred":
        assert "data:image/png" in again  # the raster layer is deterministic too


def test_figures_on_one_page_share_no_ids(rendered):
    seen: dict[str, str] = {}
    for name, svg in rendered.items():
        for i in re.findall(r'\sid="([^"]*)"', svg):
            assert i not in seen, f"id {i} in both {seen.get(i)} and {name}"
            seen[i] = name


def test_no_pyplot_or_heavy_imports_and_no_rc_leak():
    before = dict(matplotlib.rcParams)
    F.roc_svg(*_binary(200), ["a", "b"])
    F.learning_curves_svg({"loss": [1.0, 0.5]})
    assert dict(matplotlib.rcParams) == before
    code = (
        "import sys, hashlib, numpy as np, reportgen.figures as F\n"
        "a = F.roc_svg(np.array([0, 1, 0, 1]), np.array([.1, .8, .4, .6]), ['a', 'b'])\n"
        "b = F.predicted_vs_actual_svg(np.arange(3000.0), np.arange(3000.0) % 7)\n"
        "bad = [m for m in ('matplotlib.pyplot', 'tensorflow', 'sklearn', 'pandas') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print(hashlib.sha256((a + b).encode()).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, timeout=60, capture_output=True, text=True)
    # byte-identical across processes, not only within one
    here = (F.roc_svg(np.array([0, 1, 0, 1]), np.array([.1, .8, .4, .6]), ["a", "b"])
            + F.predicted_vs_actual_svg(np.arange(3000.0), np.arange(3000.0) % 7))
    assert out.stdout.strip() == hashlib.sha256(here.encode()).hexdigest()


# --- escaping -----------------------------------------------------------------------------------
def _assert_inert(svg: str):
    low = svg.lower()
    assert "<script" not in low and "<b>" not in low and "-->" not in svg
    assert "onload=" not in low and "javascript:" not in low
    _parse(svg)  # still well-formed XML


def test_hostile_labels_cannot_break_out():
    y, p = _binary(500)
    ym, pm = _multiclass(600, k=4)
    labels4 = HOSTILE
    svgs = [
        F.confusion_matrix_svg(np.array([[5, 1], [2, 7]]), HOSTILE[:2]),
        F.confusion_matrix_svg(np.eye(4, dtype=int) * 10 + 1, labels4),
        F.roc_svg(y, p, HOSTILE[1:3]),
        F.roc_svg(ym, pm, labels4),
        F.pr_svg(y, p, HOSTILE[:2]),
        F.reliability_svg(y, p, HOSTILE[2:4]),
        F.score_distribution_svg(y, p, HOSTILE[:2]),
        F.score_distribution_svg(ym, pm, labels4),
        F.class_balance_svg({HOSTILE[1]: {h: 3 for h in HOSTILE}, "test": {HOSTILE[0]: 4}}),
        F.bar_svg(HOSTILE, [1, 2, 3, 4], "bars --><script>", xlabel=HOSTILE[0], ylabel=HOSTILE[1],
                  highlight=[True, False, True, False]),
        F.learning_curves_svg({HOSTILE[1]: [1.0, 0.5], "val_" + HOSTILE[1]: [1.2, 0.9]}),
        F.placeholder_svg("x", HOSTILE[1], title=HOSTILE[2]),
    ]
    for svg in svgs:
        _assert_inert(svg)


def test_hostile_title_is_escaped_and_passes_the_html_filter():
    fig_svg = F.placeholder_svg("x", "msg", title='--><script>alert(1)</script> " onclick=x() url(javascript:y)')
    root = _parse(fig_svg)
    assert root.get("aria-label") == '--><script>alert(1)</script> " onclick=x() url(javascript:y)'
    _assert_inert(fig_svg)
    filters = pytest.importorskip("reportgen.render.filters")
    for svg in (fig_svg, F.roc_svg(*_binary(300), HOSTILE[:2]), F.predicted_vs_actual_svg(*_regression(6000))):
        html = str(filters.inline_svg(svg))
        assert html.startswith("<svg"), html[:200]


def test_dollar_signs_are_literal_not_mathtext():
    # Unbalanced / odd '$' would raise in mathtext if labels were parsed as math.
    svg = F.bar_svg(["$", "a $b", "$$", r"\$x$"], [1, 2, 3, 4], "dollars")
    _parse(svg)
    assert core.plain_text("$x$") == r"\$x\$"
    assert core.short_label("a\nb " + "x" * 40, 10) == "a b xxxxx\u2026"


# --- decimation / subsampling --------------------------------------------------------------------
def test_decimate_keeps_endpoints_shape_and_budget():
    x = np.linspace(0, 1, 1_000_000)
    y = x ** 0.1  # ROC-like: steep start, flat end
    xd, yd = F.decimate_curve(x, y, max_points=2000)
    assert len(xd) == len(yd) <= 2000
    assert xd[0] == 0.0 and xd[-1] == 1.0 and yd[0] == y[0] and yd[-1] == y[-1]
    assert np.all(np.diff(xd) > 0)  # original order, no duplicates
    # the thinned curve, linearly interpolated, stays within 1% of the original everywhere
    assert np.max(np.abs(np.interp(x, xd, yd) - y)) < 0.01
    # kept points are points of the original curve
    idx = np.searchsorted(x, xd)
    np.testing.assert_array_equal(y[idx], yd)


def test_decimate_keeps_spikes_gaps_and_small_inputs():
    n = 500_000
    x = np.arange(n)
    y = np.zeros(n)
    y[123_457] = 50.0
    y[300_000:300_010] = np.nan
    xd, yd = F.decimate_curve(x, y, max_points=500)
    assert len(xd) <= 500
    assert np.nanmax(yd) == 50.0  # the single spike survives
    assert np.isnan(yd).any() and 300_000 in xd and 300_009 in xd  # gap edges kept
    small_x, small_y = F.decimate_curve([1, 2, 3], [4.0, 5.0, 6.0], max_points=10)
    np.testing.assert_array_equal(small_y, [4.0, 5.0, 6.0])
    t = np.datetime64("2024-01-01") + np.arange(10_000).astype("timedelta64[m]")
    td, vd = F.decimate_curve(t, np.sin(np.arange(10_000) / 100), max_points=300)
    assert td.dtype == t.dtype and len(td) <= 300 and td[0] == t[0] and td[-1] == t[-1]
    with pytest.raises(ValueError):
        F.decimate_curve([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        F.decimate_curve([1, 2, 3], [1, 2, 3], max_points=1)


def test_subsample_indices_deterministic():
    np.testing.assert_array_equal(F.subsample_indices(10, 5000), np.arange(10))
    a = F.subsample_indices(1_000_000, 5000, seed=0)
    b = F.subsample_indices(1_000_000, 5000, seed=0)
    np.testing.assert_array_equal(a, b)
    assert a.size == 5000 and np.unique(a).size == 5000 and np.all(np.diff(a) > 0)
    assert a.min() >= 0 and a.max() < 1_000_000
    assert not np.array_equal(a, F.subsample_indices(1_000_000, 5000, seed=1))


# --- size at 1M rows ---------------------------------------------------------------------------
def test_million_row_roc_and_scatter_are_small():
    rng = np.random.default_rng(7)
    n = 1_000_000
    y = (rng.random(n) < 0.2).astype(np.int8)
    p = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 2 * y)))
    roc = F.roc_svg(y, p, ["no", "yes"])
    assert len(roc.encode()) < 150_000
    # AUC reported equals the exact Mann-Whitney statistic (computed here independently)
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(n)
    ranks[order] = np.arange(1, n + 1)  # continuous scores: no ties
    npos = int(y.sum())
    auc = (ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * (n - npos))
    assert f"yes AUC {auc:.4f}" in _parse(roc).find(SVG_NS + "desc").text
    yt = rng.normal(0, 1, n)
    for svg in (F.predicted_vs_actual_svg(yt, yt + rng.normal(0, 0.3, n)),
                F.residuals_vs_prediction_svg(yt, yt + rng.normal(0, 0.3, n))):
        assert len(svg.encode()) < 150_000
        assert svg.count("data:image/png") == 1  # dense layer rasterized, not 5,000 vector markers


# --- values ------------------------------------------------------------------------------------
def _desc(svg: str) -> str:
    d = _parse(svg).find(SVG_NS + "desc")
    assert d is not None
    return d.text


def _num(text: str, pattern: str) -> float:
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return float(m.group(1))


def test_curve_counts_match_sklearn_with_ties():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y = rng.random(5000) < 0.35
    s = np.round(rng.random(5000) * 0.6 + 0.4 * y, 2)  # many ties
    thr, tps, fps = C._binary_clf_curve(y, s)
    fpr, tpr, auc = C._roc_from_counts(tps, fps)
    sk_fpr, sk_tpr, _ = metrics.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    assert auc == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)
    _r, _p, ap = C._pr_from_counts(tps, fps)
    assert ap == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)
    # the figures report the same numbers
    yi = y.astype(int)
    assert _num(_desc(F.roc_svg(yi, s, ["n", "p"])), r"p AUC ([\d.]+)") == pytest.approx(
        metrics.roc_auc_score(y, s), abs=5e-5)
    assert _num(_desc(F.pr_svg(yi, s, ["n", "p"])), r"p AP ([\d.]+)") == pytest.approx(
        metrics.average_precision_score(y, s), abs=5e-5)


def test_binned_multiclass_curves_close_to_exact():
    rng = np.random.default_rng(5)
    n = 200_000
    y = rng.random(n) < 0.1
    p = 1 / (1 + np.exp(-(rng.normal(0, 1.5, n) + 2 * y)))
    _t, tps, fps = C._binary_clf_curve(y, p)
    _t2, btps, bfps = C._binned_clf_curve(y, p)
    assert btps[-1] == tps[-1] and bfps[-1] == fps[-1]
    assert C._roc_from_counts(btps, bfps)[2] == pytest.approx(C._roc_from_counts(tps, fps)[2], abs=1e-3)
    assert C._pr_from_counts(btps, bfps)[2] == pytest.approx(C._pr_from_counts(tps, fps)[2], abs=2e-3)


def test_multiclass_roc_draws_ten_largest_classes():
    ym, pm = _multiclass(6000, k=12, seed=2)
    ym[:600] = 11  # make class 11 clearly the largest
    desc = _desc(F.roc_svg(ym, pm, [f"k{i}" for i in range(12)]))
    assert desc.count("AUC") == 10 and desc.startswith("k11 AUC")


def test_threshold_best_f1_matches_brute_force():
    y, p = _binary(3000, seed=4)
    desc = _desc(F.threshold_svg(y, p, current_threshold=0.5))
    best_f1 = max(
        2 * np.sum((p >= t) & (y == 1)) / (np.sum(p >= t) + np.sum(y == 1)) for t in np.unique(p)
    )
    assert _num(desc, r"best F1 ([\d.]+)") == pytest.approx(best_f1, abs=5e-5)
    pred = p >= 0.5
    tp = np.sum(pred & (y == 1))
    assert _num(desc, r"precision ([\d.]+)") == pytest.approx(tp / pred.sum(), abs=5e-5)
    assert _num(desc, r"recall ([\d.]+)") == pytest.approx(tp / np.sum(y == 1), abs=5e-5)


def test_confusion_matrix_and_reliability_numbers():
    cm = np.array([[50, 10, 0], [5, 30, 5], [0, 0, 0]])
    desc = _desc(F.confusion_matrix_svg(cm, ["a", "b", "c"]))
    assert _num(desc, r"accuracy ([\d.]+)") == pytest.approx(80 / 100, abs=1e-4)
    assert "a 0.833" in desc and "b 0.750" in desc and "c " not in desc.split("recall per class:")[1]
    with pytest.raises(ValueError):
        F.confusion_matrix_svg(cm, ["a", "b"])

    y, p = _binary(4000, seed=6)
    desc = _desc(F.reliability_svg(y, p, ["n", "p"]))
    b = np.clip((p * 10).astype(int), 0, 9)
    ece = sum(np.mean(b == i) * abs(y[b == i].mean() - p[b == i].mean()) for i in range(10) if np.any(b == i))
    assert _num(desc, r"ECE ([\d.]+)") == pytest.approx(ece, abs=5e-5)
    assert [int(v) for v in desc.split("rows per bin: ")[1].split(", ")] == np.bincount(b, minlength=10).tolist()


def test_inputs_with_nan_scores_and_single_class():
    y, p = _binary(1000)
    p = p.copy()
    p[:7] = np.nan
    svg = F.roc_svg(y, p, ["n", "p"])
    assert "n=993" in _desc(svg)
    only_neg = F.roc_svg(np.zeros(50, int), np.linspace(0, 1, 50), ["n", "p"])
    assert "undefined" in _parse(only_neg).get("aria-label") or "undefined" in _desc(only_neg)
    assert F.threshold_svg(np.ones(10, int), np.linspace(0, 1, 10)).startswith("<svg")
    # string labels are mapped through `labels`
    names = np.where(y == 1, "p", "n")
    assert _desc(F.roc_svg(names, p, ["n", "p"])) == _desc(svg)
    # (n, 1) sigmoid and (n, 2) softmax outputs are accepted for binary problems
    y2, p2 = _binary(500)
    assert _desc(F.roc_svg(y2, p2[:, None], ["n", "p"])) == _desc(F.roc_svg(y2, np.c_[1 - p2, p2], ["n", "p"]))


def test_class_balance_shares():
    desc = _desc(F.class_balance_svg({"train": {"a": 30, "b": 10}, "test": {"b": 5, "c": 15}}))
    assert "train: a 0.7500, b 0.2500, c 0.0000" in desc
    assert "test: a 0.0000, b 0.2500, c 0.7500" in desc


def test_bar_chart_highlight_log_and_many_bars():
    desc = _desc(F.bar_svg(["a", "b", "c", "d"], [0.0, np.inf, np.nan, 2.0], "g", "layer", "norm",
                           log=True, highlight=[False, True, False, False]))
    assert desc == "4 values; 1 highlighted; 3 not plottable; max 2"
    many = F.bar_svg([f"f{i}" for i in range(200)], np.arange(200.0), "drift", "feature", "PSI")
    assert "200 values" in _desc(many)
    with pytest.raises(ValueError):
        F.bar_svg(["a"], [1.0, 2.0], "bad")
    assert F.bar_svg([], [], "empty").startswith("<svg")


def test_regression_numbers():
    yt, yp = _regression(5000, seed=9)
    yp = yp.copy()
    yp[:3] = np.nan
    ok = np.isfinite(yp)
    desc = _desc(F.predicted_vs_actual_svg(yt, yp))
    r2 = 1 - np.sum((yt[ok] - yp[ok]) ** 2) / np.sum((yt[ok] - yt[ok].mean()) ** 2)
    assert _num(desc, r"R2 ([-\d.]+)") == pytest.approx(r2, abs=5e-5)
    assert "n=4997" in desc and "left out 3" in desc
    r = yt[ok] - yp[ok]
    desc = _desc(F.residual_hist_svg(yt, yp))
    assert _num(desc, r"mean ([-\d.e]+)") == pytest.approx(r.mean(), rel=1e-5)
    assert _num(desc, r"median ([-\d.e]+)") == pytest.approx(np.median(r), rel=1e-5)
    assert F.residual_hist_svg([np.nan], [1.0]).startswith("<svg")


def test_forecast_and_error_by_position_numbers():
    rng = np.random.default_rng(2)
    n = 5000
    y = np.cumsum(rng.normal(0, 1, n))
    f = y + rng.normal(0, 0.5, n)
    naive = np.r_[np.nan, y[:-1]]
    t = np.datetime64("2020-01-01T00:00") + np.arange(n).astype("timedelta64[h]")
    desc = _desc(F.forecast_svg(t, y, f, naive))
    assert _num(desc, r"forecast MAE ([\d.e-]+)") == pytest.approx(np.mean(np.abs(y - f)), rel=1e-5)
    assert _num(desc, r"naive last-value MAE ([\d.e-]+)") == pytest.approx(np.mean(np.abs(np.diff(y))), rel=1e-5)
    # unsorted numeric time and datetime strings are accepted
    assert F.forecast_svg(np.arange(10)[::-1], np.arange(10.0), np.arange(10.0)).startswith("<svg")
    assert F.forecast_svg(["2024-01-01", "2024-01-02"], [1.0, 2.0], [1.5, 2.5], t_is_datetime=True).startswith("<svg")
    err = np.r_[np.ones(500), 3 * np.ones(500)]
    desc = _desc(F.error_by_position_svg(err))
    assert _num(desc, r"first 10% ([\d.]+)") == 1.0 and _num(desc, r"last 10% ([\d.]+)") == 3.0
    assert _num(desc, r"mean absolute error ([\d.]+)") == 2.0


def test_learning_curves_with_nan_inf_and_odd_histories():
    hist = {
        "loss": [2.0, 1.0, float("nan"), 0.5, float("inf"), 0.01],
        "val_loss": [2.1, 1.5, 1.2, None, 0.9, 1.0],
        "accuracy": [0.1, 0.5, 0.6, 0.7, 0.8, 0.9],
        "val_accuracy": [0.1, 0.4, 0.5, 0.6, 0.6, 0.6],
        "learning_rate": [1e-3] * 6,
        "notes": "not a metric",
    }
    svg = F.learning_curves_svg(hist)
    desc = _desc(svg)
    assert "train loss: 6 epochs, last finite 0.01, 2 non-finite" in desc
    assert "validation loss: 6 epochs, last finite 1, 1 non-finite" in desc
    assert "lowest val_loss 0.9 at epoch 5" in desc
    assert desc.index("loss") < desc.index("accuracy") < desc.index("learning_rate")
    assert "notes" not in desc
    assert F.learning_curves_svg({}).startswith("<svg")
    assert "all non-finite" in _desc(F.learning_curves_svg({"loss": [float("nan")] * 3}))
    assert "1 epochs" in _desc(F.learning_curves_svg({"val_loss": [0.3]}))
    # many metrics: at most 4 panels per row -> 5 panels are 2 rows
    big = {f"m{i}": list(np.linspace(1, 0, 50)) for i in range(5)}
    root = _parse(F.learning_curves_svg(big))
    w, h = (float(v) for v in root.get("viewBox").split()[2:])
    assert w == pytest.approx(4 * 2.45 * 72) and h > 2 * 2.4 * 72
