"""reportgen.segments: the numpy regression tree behind data.weak_segment must grow the tree
sklearn's DecisionTreeRegressor(max_depth=3, min_samples_leaf=m) grows, without importing sklearn."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from reportgen.checks.data import _leaf_rules
from reportgen.segments import SegmentTree, presort


def _sk_tree(X, y, msl, depth=3):
    tree = pytest.importorskip("sklearn.tree")
    return tree.DecisionTreeRegressor(max_depth=depth, min_samples_leaf=msl, random_state=0).fit(X, y)


def assert_same_tree(X, y, msl, depth=3):
    """Same nodes (ids, features, thresholds, sizes, means), same leaf for every row."""
    sk = _sk_tree(X, y, msl, depth)
    me = SegmentTree(max_depth=depth, min_samples_leaf=msl).fit(X, y)
    t = sk.tree_
    assert t.node_count == len(me.feature)
    np.testing.assert_array_equal(t.children_left, me.left)
    np.testing.assert_array_equal(t.children_right, me.right)
    inner = t.children_left >= 0
    np.testing.assert_array_equal(t.feature[inner], me.feature[inner])
    np.testing.assert_allclose(t.threshold[inner], me.threshold[inner], rtol=0, atol=0)
    np.testing.assert_array_equal(t.missing_go_to_left[inner].astype(bool), me.missing_left[inner])
    np.testing.assert_array_equal(t.n_node_samples, me.n_samples)
    np.testing.assert_allclose(t.value.ravel(), me.value, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(sk.apply(X), me.apply(X))
    # rows never seen in the fit, missing values included, land in the same leaves too
    rng = np.random.default_rng(99)
    Xn = X[rng.integers(0, len(X), 500)] + rng.normal(0, 0.5, (500, X.shape[1]))
    Xn[rng.random(Xn.shape) < 0.1] = np.nan
    np.testing.assert_array_equal(sk.apply(Xn), me.apply(Xn))
    return me


def planted(n=4000, k=8, seed=0):
    """Per-row absolute errors, much larger where x0 > 0.8 and x2 <= 0.3."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    region = (X[:, 0] > 0.8) & (X[:, 2] <= 0.3)
    err = np.abs(rng.normal(0, 0.3, n)) + np.where(region, np.abs(rng.normal(1.5, 0.5, n)), 0.0)
    return X, err, region


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_on_a_planted_region(seed):
    X, err, region = planted(seed=seed)
    msl = int(max(20, 0.03 * len(err)))
    me = assert_same_tree(X, err, msl)
    leaves = me.apply(X)
    # the worst leaf is (mostly) the planted region
    worst = max(me.leaves, key=lambda l: me.value[l])
    inside = leaves == worst
    assert (region & inside).sum() >= 0.8 * inside.sum()
    paths = me.leaf_paths()
    assert {f for f, _, _ in paths[int(worst)]} >= {0, 2}


def test_matches_sklearn_with_ties_and_integer_features():
    rng = np.random.default_rng(3)
    n = 3000
    X = np.column_stack([rng.integers(0, 5, n), rng.integers(0, 2, n), rng.integers(-3, 3, n),
                         np.round(rng.normal(size=n), 1), rng.normal(size=n)]).astype(float)
    y = np.abs(rng.normal(size=n)) + 2.0 * ((X[:, 0] >= 3) & (X[:, 1] == 1))
    for msl in (1, 20, 90):
        assert_same_tree(X, y, msl)
    assert_same_tree(X, y, 20, depth=2)


def test_matches_sklearn_on_a_0_1_error():
    """Classification errors are 0/1: many equal values, a binary target for the tree."""
    rng = np.random.default_rng(4)
    n = 5000
    X = rng.normal(size=(n, 10))
    p = np.where((X[:, 3] > 1.0) & (X[:, 7] < 0.5), 0.7, 0.1)
    y = (rng.random(n) < p).astype(float)
    assert_same_tree(X, y, 150)


def test_matches_sklearn_with_missing_values():
    rng = np.random.default_rng(5)
    n = 3000
    X = rng.normal(size=(n, 6))
    y = np.abs(rng.normal(size=n)) + 2.0 * (X[:, 1] > 0.5)
    X[rng.random((n, 6)) < 0.15] = np.nan
    X[:, 4] = np.nan                              # all missing
    X[: n // 3, 5] = np.nan                        # missing rows carry the signal
    y[: n // 3] += 1.0
    for msl in (5, 90):
        assert_same_tree(X, y, msl)


def test_min_samples_leaf_and_depth_are_respected():
    rng = np.random.default_rng(6)
    for trial in range(20):
        n = int(rng.integers(40, 2000))
        X = rng.normal(size=(n, 5))
        if trial % 2:
            X = np.round(X)
        y = rng.random(n) ** 3
        msl = int(rng.choice([1, 7, 25, n // 3]))
        me = SegmentTree(max_depth=3, min_samples_leaf=msl).fit(X, y)
        counts = np.bincount(me.apply(X), minlength=len(me.feature))
        for leaf in me.leaves:
            assert counts[leaf] == me.n_samples[leaf] >= msl
        assert all(len(p) <= 3 for p in me.leaf_paths().values())
    # too few rows to split at all: one leaf, every row in it
    me = SegmentTree(3, min_samples_leaf=60).fit(rng.normal(size=(100, 3)), rng.random(100))
    assert len(me.feature) == 1 and set(me.apply(rng.normal(size=(5, 3)))) == {0}
    assert me.leaf_paths() == {0: []}


def test_deterministic_and_presort_reusable():
    X, err, _ = planted(seed=7)
    a = SegmentTree(3, 120).fit(X, err)
    b = SegmentTree(3, 120).fit(X, err)
    P = presort(X)
    c = SegmentTree(3, 120).fit(X, err, presorted=P)
    perm = np.random.default_rng(0).permutation(err)
    SegmentTree(3, 120).fit(X, perm, presorted=P)       # a refit does not disturb the presort
    d = SegmentTree(3, 120).fit(X, err, presorted=P)
    for t in (b, c, d):
        for attr in ("feature", "threshold", "left", "right", "missing_left", "value", "n_samples"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(t, attr))
    # duplicated column: the tie goes to the first of the two
    X2 = np.column_stack([X[:, 0], X[:, 0], X[:, 2]])
    assert SegmentTree(1, 120).fit(X2, err).feature[0] == 0


def test_leaf_paths_describe_the_leaves():
    X, err, _ = planted(seed=8)
    me = SegmentTree(3, 100).fit(X, err)
    leaves = me.apply(X)
    for leaf, path in me.leaf_paths().items():
        m = np.ones(len(X), dtype=bool)
        for f, op, thr in path:
            m &= (X[:, f].astype(np.float32) <= thr) if op == "<=" else (X[:, f].astype(np.float32) > thr)
        np.testing.assert_array_equal(m, leaves == leaf)


def test_leaf_rules_text():
    X, err, region = planted(seed=0)
    cols = [f"x{i}" for i in range(X.shape[1])]
    me = SegmentTree(3, 120).fit(X, err)
    rules = _leaf_rules(me, cols)
    assert set(rules) == set(int(l) for l in me.leaves)
    worst = int(max(me.leaves, key=lambda l: me.value[l]))
    lo = re.search(r"\bx0 > (-?[\d.]+)", rules[worst])
    hi = re.search(r"\bx2 <= (-?[\d.]+)", rules[worst])
    assert lo and abs(float(lo.group(1)) - 0.8) < 0.05 and hi and abs(float(hi.group(1)) - 0.3) < 0.05
    # a split of missing from present values reads as such
    Xm = np.column_stack([np.where(np.arange(400) < 200, np.nan, 1.0)])
    ym = np.r_[np.ones(200), np.zeros(200)]
    tm = SegmentTree(1, 10).fit(Xm, ym)
    assert sorted(_leaf_rules(tm, ["age"]).values()) == ["age is missing", "age is not missing"]


def test_weak_segment_search_does_not_import_sklearn():
    code = textwrap.dedent("""
        import sys
        import numpy as np, pandas as pd
        from reportgen.checks import data as D
        from reportgen.context import AuditContext
        from reportgen.inputs import build_inputs
        rng = np.random.default_rng(0)
        n = 4000
        X = rng.normal(size=(n, 5))
        p = 1 / (1 + np.exp(-(1.5 * X[:, 0] - X[:, 1])))
        df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
        df["label"] = (rng.random(n) < p).astype(int)
        pred = pd.DataFrame({"score": np.clip(p + rng.normal(0, 0.05, n), 0, 1)})
        ctx = AuditContext(build_inputs(train=None, test=df, target="label", time_column=None,
                                        predictions=pred), strict=True)
        assert D.check_weak_segment(ctx) == []
        print("sklearn" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
