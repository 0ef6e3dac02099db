"""A small regression tree in numpy, for the weak-segment search (data.weak_segment).

It grows the tree sklearn's ``DecisionTreeRegressor(max_depth=d, min_samples_leaf=m)`` grows with
the squared-error criterion and the "best" splitter, without importing sklearn (about 1 s of
import time, more than the whole search costs):

* inputs are cast to float32 as sklearn does; thresholds are midpoints (in float64) between
  consecutive distinct sorted values; values closer than 1e-7 count as ties;
* a split maximises the variance reduction, i.e. sum_left**2 / n_left + sum_right**2 / n_right;
  each child keeps at least ``min_samples_leaf`` rows; a node is not split at ``max_depth``,
  below ``2 * min_samples_leaf`` rows or when its error is constant;
* NaN inputs are handled as sklearn handles them: every candidate threshold is tried with the
  missing rows sent left and sent right, plus the split "non-missing left, missing right"
  (threshold +inf); a node that saw no missing value sends them, at apply time, to the child
  that got more rows;
* ties between equally good splits go to the first feature (in column order), then to the
  missing-right pass, then to the lowest threshold. sklearn visits features in a random order,
  so on exact ties (duplicated columns) the two trees can pick different, equally good splits.

Node ids are numbered depth-first, left child first, like sklearn's, so ``apply`` returns the
same ids. Each feature is argsorted once (``presort``, reusable across fits on the same rows,
e.g. for a permutation null) and every node evaluates all split points of all features at once
with cumulative sums.
"""
from __future__ import annotations

import numpy as np

FEATURE_THRESHOLD = 1e-7             # sklearn's: sorted values closer than this are ties
EPSILON = np.finfo(np.float64).eps   # sklearn's: impurity <= EPSILON counts as a pure node
_F32_MAX = float(np.finfo(np.float32).max)


def _as_f32(X) -> np.ndarray:
    """X as sklearn sees it: float32 (values beyond its range clipped, NaN kept), held as float64."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    return np.clip(X, -_F32_MAX, _F32_MAX).astype(np.float32).astype(np.float64)


def _mse(y: np.ndarray) -> float:
    """Node impurity as sklearn's squared-error criterion computes it."""
    m = float(y.sum()) / len(y)
    return float(np.dot(y, y)) / len(y) - m * m


class Presorted:
    """X (float32 values held as float64) with each feature's row order (NaN last), computed
    once and reusable by every fit on the same rows (a permutation null refits on the same X)."""

    def __init__(self, X):
        self.X = _as_f32(X)
        n, k = self.X.shape
        self.XT = np.ascontiguousarray(self.X.T)                       # (k, n)
        self.order = np.argsort(self.XT, axis=1, kind="stable")         # (k, n) rows, sorted
        self.offsets = (np.arange(k, dtype=np.int64) * n)[:, None]     # row f of XT in XT.ravel()
        self.sorted_values = self.XT.ravel()[self.order + self.offsets]
        # where consecutive sorted values differ (a threshold can go there), for the root
        self.root_gap = self.sorted_values[:, 1:] > self.sorted_values[:, :-1] + FEATURE_THRESHOLD
        self.has_nan = bool(np.isnan(self.sorted_values[:, -1]).any())


def presort(X) -> Presorted:
    return Presorted(X)


class SegmentTree:
    """Depth-limited least-squares regression tree (see the module docstring).

    After ``fit``, per node (ids 0..n_nodes-1, leaves included): ``feature`` and ``threshold``
    (-1 and nan on leaves), ``left`` and ``right`` (-1 on leaves), ``missing_left``, ``value``
    (mean of y), ``n_samples``, ``impurity``. ``apply(X)`` gives each row's leaf id,
    ``leaf_paths()`` the conditions that lead to each leaf.
    """

    def __init__(self, max_depth: int = 3, min_samples_leaf: int = 1):
        if max_depth < 0 or min_samples_leaf < 1:
            raise ValueError("max_depth must be >= 0 and min_samples_leaf >= 1")
        self.max_depth = int(max_depth)
        self.min_samples_leaf = int(min_samples_leaf)

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X, y, presorted: Presorted | None = None) -> "SegmentTree":
        """Fit on X (n, k) and y (n,); ``presorted`` (= presort(X)) skips sorting X again."""
        P = presorted if presorted is not None else Presorted(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        n, k = P.X.shape
        if len(y) != n:
            raise ValueError(f"X has {n} rows, y has {len(y)}")
        if n == 0 or k == 0:
            raise ValueError("cannot fit a tree on an empty X")
        if not np.isfinite(y).all():
            raise ValueError("y must be finite")
        self.n_features_in_ = k
        self._P, self._y, self._n_total = P, y, n
        self._nodes: list[dict] = []
        self._grow(P.order, np.arange(n), 0)
        nodes = self._nodes
        self.feature = np.array([d["feature"] for d in nodes], dtype=np.int64)
        self.threshold = np.array([d["threshold"] for d in nodes], dtype=np.float64)
        self.left = np.array([d["left"] for d in nodes], dtype=np.int64)
        self.right = np.array([d["right"] for d in nodes], dtype=np.int64)
        self.missing_left = np.array([d["missing_left"] for d in nodes], dtype=bool)
        self.value = np.array([d["value"] for d in nodes], dtype=np.float64)
        self.n_samples = np.array([d["n"] for d in nodes], dtype=np.int64)
        self.impurity = np.array([d["impurity"] for d in nodes], dtype=np.float64)
        del self._nodes, self._P, self._y
        return self

    def _grow(self, S: np.ndarray | None, rows: np.ndarray, depth: int) -> int:
        """Add the node holding ``rows`` and its subtree; returns its id (depth-first, left child
        first, as sklearn numbers nodes). S: (k, len(rows)) each feature's rows in sorted order
        (None when the node cannot be split)."""
        n = len(rows)
        yn = self._y[rows]
        impurity = _mse(yn)
        node = {"feature": -1, "threshold": np.nan, "left": -1, "right": -1, "missing_left": False,
                "value": float(yn.mean()), "n": n, "impurity": impurity}
        node_id = len(self._nodes)
        self._nodes.append(node)
        msl = self.min_samples_leaf
        if S is None or depth >= self.max_depth or n < 2 or n < 2 * msl or impurity <= EPSILON:
            return node_id
        split = self._best_split(S, n, root=depth == 0)
        if split is None:
            return node_id
        f, thr, miss_left = split
        x = self._P.X[rows, f]
        go_left = np.where(np.isnan(x), miss_left, x <= thr)
        n_left = int(go_left.sum())
        imp_l, imp_r = _mse(yn[go_left]), _mse(yn[~go_left])
        improvement = (n / self._n_total) * (impurity - n_left / n * imp_l - (n - n_left) / n * imp_r)
        if improvement + EPSILON < 0.0:  # sklearn's min_impurity_decrease=0 test
            return node_id
        # each feature's sorted rows, split between the children in order (skipped when the
        # children are leaves anyway)
        S_left = S_right = None
        if depth + 1 < self.max_depth and max(n_left, n - n_left) >= 2 * msl:
            in_left = np.zeros(self._n_total, dtype=bool)
            in_left[rows[go_left]] = True
            gl = in_left[S].ravel()
            k = S.shape[0]
            S_left = np.compress(gl, S.ravel()).reshape(k, n_left)
            S_right = np.compress(~gl, S.ravel()).reshape(k, n - n_left)
        node.update(feature=int(f), threshold=float(thr), missing_left=bool(miss_left))
        node["left"] = self._grow(S_left, rows[go_left], depth + 1)
        node["right"] = self._grow(S_right, rows[~go_left], depth + 1)
        return node_id

    def _best_split(self, S: np.ndarray, n: int, root: bool = False):
        """(feature, threshold, missing_go_left) of the best split of this node, or None.

        A split is scored by sum_left**2 / n_left + sum_right**2 / n_right (sklearn's proxy for
        the variance reduction). Candidates are taken in sklearn's order within a feature
        (missing rows right, then left; increasing threshold), features in column order; the
        first best one wins."""
        P, msl = self._P, self.min_samples_leaf
        lo, hi = msl, n - msl                       # allowed numbers of rows on the left
        if lo > hi:
            return None
        k = S.shape[0]
        if root:
            xv, gap = P.sorted_values, P.root_gap
        else:
            xv = P.XT.ravel()[S + P.offsets]        # (k, n) each feature's sorted values, NaN last
            gap = None
        cs = np.cumsum(self._y[S], axis=1)          # (k, n) running sums of y in that order
        tot = cs[:, -1:]
        # pass 0 (missing rows, if any, on the right): p = lo..hi rows on the left, at p - lo
        nl = np.arange(lo, hi + 1, dtype=np.float64)
        sl = cs[:, lo - 1:hi]
        sr = tot - sl
        v0 = sl * sl
        v0 *= 1.0 / nl
        sr *= sr
        sr *= 1.0 / (n - nl)
        v0 += sr
        valid = (gap[:, lo - 1:hi].copy() if gap is not None
                 else xv[:, lo:hi + 1] > xv[:, lo - 1:hi] + FEATURE_THRESHOLD)   # False at NaN
        n_miss = nm = sub = v1 = None
        if P.has_nan:
            n_miss = np.isnan(xv).sum(axis=1)
            if n_miss.any():
                nm = n - n_miss
                # the split "all non-missing left, missing right" (threshold +inf)
                kk = np.nonzero((n_miss > 0) & (nm >= lo) & (nm <= hi))[0]
                valid[kk, nm[kk] - lo] = True
            else:
                n_miss = None
        np.putmask(v0, ~valid, -np.inf)
        best = np.full((k, 2), -np.inf)
        best[:, 0] = v0.max(axis=1)
        if n_miss is not None:
            # pass 1, features with missing rows: those on the left, followed by the first j
            # non-missing rows, j = 1..nm-1 (at j - 1)
            sub = np.nonzero(n_miss > 0)[0]
            nms = nm[sub][:, None]
            ts = tot[sub]
            s_miss = ts - np.take_along_axis(cs[sub], np.maximum(nms - 1, 0), axis=1)
            s_miss = np.where(nms >= 1, s_miss, ts)
            nl1 = n_miss[sub][:, None] + np.arange(1, n)
            sl1 = s_miss + cs[sub, :-1]
            sr1 = ts - sl1
            with np.errstate(divide="ignore", invalid="ignore"):
                v1 = sl1 * sl1 / nl1 + sr1 * sr1 / (n - nl1)
            ok = (xv[sub, 1:] > xv[sub, :-1] + FEATURE_THRESHOLD) & (nl1 >= lo) & (nl1 <= hi)
            np.putmask(v1, ~ok, -np.inf)
            best[sub, 1] = v1.max(axis=1)
        i = int(np.argmax(best))                    # first best: feature, then pass
        if not best.flat[i] > -np.inf:
            return None
        f, pas = divmod(i, 2)
        if pas == 0:
            p = lo + int(np.argmax(v0[f]))          # rows on the left
            if n_miss is not None and n_miss[f] > 0:
                if p == nm[f]:
                    return f, np.inf, False
                return f, float(xv[f, p - 1] / 2.0 + xv[f, p] / 2.0), False
            # no missing value seen here: at apply time they follow the larger child
            return f, float(xv[f, p - 1] / 2.0 + xv[f, p] / 2.0), p > n - p
        p = 1 + int(np.argmax(v1[int(np.searchsorted(sub, f))]))   # non-missing rows on the left
        return f, float(xv[f, p - 1] / 2.0 + xv[f, p] / 2.0), True

    # -- using the tree ----------------------------------------------------------------------
    def apply(self, X) -> np.ndarray:
        """Leaf id of each row of X."""
        X = _as_f32(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the tree was fitted on {self.n_features_in_}")
        out = np.zeros(len(X), dtype=np.int64)
        for node in range(len(self.feature)):   # parents come before their children
            if self.left[node] < 0:
                continue
            at = np.nonzero(out == node)[0]
            if at.size == 0:
                continue
            x = X[at, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            out[at] = np.where(go_left, self.left[node], self.right[node])
        return out

    def predict(self, X) -> np.ndarray:
        return self.value[self.apply(X)]

    @property
    def leaves(self) -> np.ndarray:
        return np.nonzero(self.left < 0)[0]

    def leaf_paths(self) -> dict[int, list[tuple[int, str, float]]]:
        """leaf id -> [(feature, "<=" or ">", threshold), ...] from the root down.

        A threshold of +inf is the split "non-missing (<= inf) vs missing (> inf)"; otherwise
        missing values follow ``missing_left`` of the node and are not part of the conditions.
        """
        paths: dict[int, list[tuple[int, str, float]]] = {}

        def walk(node, path):
            if self.left[node] < 0:
                paths[int(node)] = path
                return
            f, t = int(self.feature[node]), float(self.threshold[node])
            walk(self.left[node], path + [(f, "<=", t)])
            walk(self.right[node], path + [(f, ">", t)])

        walk(0, [])
        return paths
