"""leakage.* checks: does the evaluation see information it should not?

Overlap is judged against the data's own natural repeat rate (discrete tables repeat rows by
chance), temporal leakage by how far training time reaches into the test period beyond one
window, and target leakage by single features that predict the target almost perfectly on
held-out rows (lag copies of the target in forecasts are recognised and left alone).
"""
from __future__ import annotations

import numpy as np

from ..findings import Finding, Severity
from .data import _error_contrast, _pct, _r, _sampled, row_hashes

TARGET_ROWS = 10_000


# -- leakage.train_test_overlap ------------------------------------------------------------------
def check_train_test_overlap(ctx) -> list[Finding]:
    """Test rows whose inputs also appear in the training data."""
    if not ctx.has_train:
        return []
    feats, target = list(ctx.inputs.feature_columns), ctx.inputs.target
    tr, te = ctx.inputs.train, ctx.inputs.test
    h_tr, h_te = row_hashes(tr, feats), row_hashes(te, feats)
    in_train = np.isin(h_te, h_tr)
    n_ov = int(in_train.sum())
    if n_ov == 0:
        return []
    share = n_ov / len(te)
    same_target = int(np.isin(row_hashes(te, feats + [target]), row_hashes(tr, feats + [target])).sum())
    # natural repeat rate: share of training rows whose inputs occur more than once in training
    _, inv, cnt = np.unique(h_tr, return_inverse=True, return_counts=True)
    natural = float(np.mean(cnt[inv] > 1))
    # natural level: how often a row's inputs recur among the other training rows; a split of
    # data with many repeated rows (survey answers) overlaps that much by chance
    from scipy import stats

    p_excess = float(stats.binomtest(n_ov, len(te), min(max(natural, 1e-6), 1.0), alternative="greater").pvalue)
    claim = share >= 0.02 and n_ov >= 3 and share >= 1.5 * natural and p_excess < 1e-4
    mem = None
    if claim:
        flag = in_train[ctx.finite_rows]
        if 5 <= flag.sum() < len(flag) - 5:
            # memorisation: are overlapping rows predicted better than the others?
            c = _error_contrast(ctx.test_row_error, ~flag, ctx.is_classification)
            if c is not None:
                mem = {"overlap": c["rest"], "other": c["flagged"], "p": c["p"],
                       "clear": bool(c["p"] < 0.01 and c["rest"] <= 0.5 * c["flagged"])}
    if claim and share >= 0.1 and mem is not None and mem["clear"]:
        sev = Severity.CRITICAL
    elif claim:
        sev = Severity.WARNING
    else:
        sev = Severity.INFO
    ev = {"test_rows_in_train": n_ov, "share_of_test": _r(share), "with_same_target": same_target,
          "natural_repeat_rate_in_train": _r(natural), "excess_p_value": _r(p_excess, 8)}
    if mem is not None:
        ev.update({"error_on_overlapping_rows": _r(mem["overlap"]), "error_on_other_rows": _r(mem["other"]),
                   "p_value": _r(mem["p"], 6)})
    title = f"{_pct(share)} of test rows ({n_ov:,}) also appear in the training data"
    if sev is Severity.INFO:
        title += " (about what repeated values in this data produce by chance)" if natural > 0.01 else " (a few accidental matches)"
    elif mem is not None and mem["clear"]:
        title += f"; the model's error on them is {mem['overlap']:.1%} vs {mem['other']:.1%} on the others"
    return [Finding(
        "leakage.train_test_overlap", sev, title, ev,
        "Deduplicate before splitting (or split by entity/group with GroupShuffleSplit) so that no test row was "
        "seen in training, and recompute the test metrics; the current ones overstate performance on new data.",
        impact=float(min(1.0, share)),
    )]


# -- leakage.temporal ----------------------------------------------------------------------------
def check_temporal(ctx) -> list[Finding]:
    """Training rows later than test rows (a random or reversed split of time-ordered data)."""
    tc = ctx.inputs.time_column
    if not tc or not ctx.has_train:
        return []
    from ..inputs import time_values

    t_tr = time_values(ctx.inputs.train, tc)
    t_te = time_values(ctx.inputs.test, tc)
    t_tr, t_te = t_tr[np.isfinite(t_tr)], t_te[np.isfinite(t_te)]
    if len(t_tr) == 0 or len(t_te) == 0:
        return []
    t0, t1 = float(t_te.min()), float(t_tr.max())
    if t1 <= t0:
        return []
    n_tr, n_te = len(t_tr), len(t_te)
    after = int(np.sum(t_tr > t0))
    before = int(np.sum(t_te < t1))
    span_all = float(max(t_tr.max(), t_te.max()) - min(t_tr.min(), t_te.min())) or 1.0
    inter_lo, inter_hi = max(t_tr.min(), t_te.min()), min(t_tr.max(), t_te.max())
    te_span = float(t_te.max() - t_te.min()) or 1.0
    shared_time = max(0.0, float(inter_hi - inter_lo)) / te_span
    window = len(ctx.inputs.feature_columns)
    boundary_only = after <= max(window, 0.005 * n_tr) and before <= max(window, 0.02 * n_te)
    share_after, share_before = after / n_tr, before / n_te
    interleaved = share_after >= 0.2 and share_before >= 0.2 and shared_time >= 0.5
    if boundary_only:
        sev = Severity.INFO
    elif interleaved:
        sev = Severity.CRITICAL
    else:
        sev = Severity.WARNING
    reversed_split = float(np.median(t_tr)) > float(np.median(t_te))
    ev = {"train_rows_after_first_test_time": after, "share_of_train": _r(share_after),
          "test_rows_before_last_train_time": before, "share_of_test": _r(share_before),
          "shared_time_share_of_test_period": _r(min(1.0, shared_time)),
          "overlap_time_share_of_all": _r((t1 - t0) / span_all), "time_column": tc, "window_tolerance_rows": window}
    if interleaved:
        title = (f"Training and test rows are interleaved in time: {_pct(share_after)} of training rows are later "
                 f"than the first test row (a random split of time-ordered data)")
    elif reversed_split:
        title = f"The model was trained on later data than it is tested on ({_pct(share_after)} of training rows follow the first test row)"
    elif boundary_only:
        title = f"{after:,} training row(s) overlap the start of the test period (within one window: expected for lag features)"
    else:
        title = f"{_pct(share_after)} of training rows ({after:,}) are later than the first test row"
    return [Finding(
        "leakage.temporal", sev, title, ev,
        "Split time-ordered data in time order: train on the past and test on the period after it (for example "
        "the last 20% of time), with a gap of at least one window between them when features are lagged values; "
        "use TimeSeriesSplit for cross-validation. A random split lets the model see the future and overstates "
        "its accuracy.",
        impact=float(min(1.0, share_before)),
    )]


# -- leakage.target ------------------------------------------------------------------------------
def _single_feature_model(f_fit, y_fit, classification, k, n):
    """A one-feature decision tree (optimal cut points), plus a linear fit for regression."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    leaves = int(min(32, max(2 * k + 2, 8)))
    leaf = int(max(2, n // 200))
    F = f_fit.reshape(-1, 1)
    if classification:
        tree = DecisionTreeClassifier(max_leaf_nodes=leaves, min_samples_leaf=leaf, random_state=0).fit(F, y_fit)
        return {"tree": tree}
    tree = DecisionTreeRegressor(max_leaf_nodes=leaves, min_samples_leaf=leaf, random_state=0).fit(F, y_fit)
    fin = np.isfinite(f_fit)
    lin = None
    if fin.sum() >= 3 and np.std(f_fit[fin]) > 0:
        lin = np.polyfit(f_fit[fin], y_fit[fin], 1)
    return {"tree": tree, "lin": lin, "fill": float(np.mean(y_fit))}


def _predict1(model, f) -> np.ndarray:
    """Tree prediction; for regression the better (on the fitted rows) of tree and line is not
    known here, so both are kept: the score takes the better of the two."""
    p = model["tree"].predict(f.reshape(-1, 1))
    if "lin" not in model or model["lin"] is None:
        return p
    pl = np.where(np.isfinite(f), np.polyval(model["lin"], np.nan_to_num(f)), model["fill"])
    return np.stack([p, pl], axis=1)


def _score_pred(p, y, classification, k) -> float:
    """Balanced accuracy (classification) or R2 (the better of tree and linear fit)."""
    if classification:
        rec = [np.mean(p[y == c] == c) for c in range(k) if np.sum(y == c) > 0]
        return float(np.mean(rec)) if rec else 0.0
    var = float(np.var(y))
    if var <= 0:
        return 0.0
    cols = p if p.ndim == 2 else p[:, None]
    return max(1.0 - float(np.mean((y - cols[:, i]) ** 2)) / var for i in range(cols.shape[1]))


def _score(model, f, y, classification, k) -> float:
    return _score_pred(_predict1(model, f), y, classification, k)


def _clean1(f: np.ndarray) -> np.ndarray:
    f = np.array(f, dtype=np.float64, copy=True)
    f[~np.isfinite(f)] = np.nan
    return f


def _auc(f: np.ndarray, y: np.ndarray) -> float | None:
    from scipy.stats import rankdata

    fin = np.isfinite(f)
    f, y = f[fin], y[fin]
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    r = rankdata(f)
    auc = (r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    return float(max(auc, 1 - auc))


def _is_lag_of_target(f: np.ndarray, y: np.ndarray, max_lag: int) -> int | None:
    """k >= 1 when f[i] is (a linear function of) y[i - k] in time order: a lag feature.

    The shift k = 0..max_lag at which f fits the target best (1 - r^2) is found; f is a lag when
    that shift is at least 1, nearly exact, and far better than at shift 0 (a leak of the current
    value fits best at shift 0, however smooth the series)."""
    n = len(y)
    miss = []
    for k in range(0, min(max_lag, n // 3) + 1):
        a, b = (f[k:], y[:n - k]) if k else (f, y)
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 10 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
            miss.append(np.inf)
            continue
        miss.append(1.0 - float(np.corrcoef(a[ok], b[ok])[0, 1]) ** 2)
    if not miss:
        return None
    k = int(np.argmin(miss))
    if k >= 1 and miss[k] < 1e-3 and miss[k] <= 0.1 * miss[0]:
        return k
    return None


def _could_give_target_away(f: np.ndarray, y: np.ndarray, classification: bool, k: int) -> bool:
    """A cheap screen before the one-feature trees: the in-sample fit of a 64-quantile-bin step
    function (finer than the trees' 32 leaves) or a line. A feature that cannot reach 0.9
    balanced accuracy / R2 this way cannot reach the 0.98 the check needs out of fold."""
    fin = np.isfinite(f)
    f, y = f[fin], y[fin]
    if len(f) < 20:
        return len(f) > 0
    edges = np.unique(np.quantile(f, np.linspace(0.0, 1.0, 65)))
    b = np.searchsorted(edges[1:-1], f, side="right")
    nb = len(edges)
    if classification:
        yi = y.astype(np.int64)
        counts = np.zeros((nb, k))
        np.add.at(counts, (b, yi), 1.0)
        pred = counts.argmax(axis=1)[b]
        recalls = [np.mean(pred[yi == c] == c) for c in range(k) if np.any(yi == c)]
        if recalls and float(np.mean(recalls)) >= 0.9:
            return True
        if k == 2 and np.any(yi == 1) and np.any(yi == 0):
            order = np.argsort(f, kind="stable")
            ranks = np.empty(len(f))
            ranks[order] = np.arange(1, len(f) + 1)
            n1, n0 = int(yi.sum()), int(len(yi) - yi.sum())
            auc = (ranks[yi == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
            return max(auc, 1 - auc) >= 0.95
        return False
    var = float(np.var(y))
    if var <= 0:
        return False
    sums = np.bincount(b, weights=y, minlength=nb)
    cnt = np.bincount(b, minlength=nb)
    means = sums / np.maximum(cnt, 1)
    r2_bins = 1.0 - float(np.mean((y - means[b]) ** 2)) / var
    r2_line = float(np.corrcoef(f, y)[0, 1] ** 2) if np.std(f) > 0 else 0.0
    return max(r2_bins, r2_line) >= 0.9


def _model_score(ctx) -> float | None:
    m = ctx.test_metrics.values
    if ctx.task == "binary":
        return m.get("roc_auc")
    if ctx.is_classification:
        return m.get("balanced_accuracy")
    return m.get("r2")


def check_target(ctx) -> list[Finding]:
    """One feature that predicts the target almost perfectly on its own (on held-out rows)."""
    cls = ctx.is_classification
    k = len(ctx.labels) if cls else 1
    src = "training" if ctx.has_train else "test"
    X_all = ctx.X_train if ctx.has_train else ctx.X_test
    y_all = ctx.y_train if ctx.has_train else ctx.y_test
    n_all = len(y_all)
    if n_all < 40:
        return []
    ordered = bool(ctx.inputs.time_column) or ctx.task == "forecast"
    if ordered:
        # lags need contiguous rows in time order: take the first rows in time order, not a random sample
        if ctx.inputs.time_column:
            from ..inputs import time_values

            df = ctx.inputs.train if ctx.has_train else ctx.inputs.test
            order = np.argsort(time_values(df, ctx.inputs.time_column), kind="stable")
        else:
            order = np.arange(n_all)
        rows = order[-TARGET_ROWS:]
        if len(rows) < n_all:
            ctx.note(f"The target-leakage check used the last {len(rows):,} of {n_all:,} rows in time order.")
    else:
        rows = _sampled(ctx, n_all, TARGET_ROWS, 91, "The target-leakage check")
    X, y = X_all[rows], y_all[rows]
    n = len(y)
    if not any(_could_give_target_away(X[:, j], y, cls, k) for j in range(X.shape[1])):
        return []  # the common case, settled without importing scikit-learn (~1 s)
    from sklearn.model_selection import KFold

    folds = list(KFold(5, shuffle=True, random_state=ctx.seed + 92).split(np.arange(n)))
    cols = list(ctx.inputs.feature_columns)
    thr = 0.98
    scores, aucs, skipped = np.zeros(len(cols)), [None] * len(cols), {}
    for j in range(len(cols)):
        f = X[:, j]
        if np.isfinite(f).sum() < 0.5 * n or np.nanstd(np.where(np.isfinite(f), f, np.nan)) == 0:
            continue
        fc = _clean1(f)
        pred = np.zeros(n, dtype=np.int64) if cls else np.zeros((n, 2))
        for fit_i, ev_i in folds:  # pooled out-of-fold predictions: every row is held out once
            mdl = _single_feature_model(fc[fit_i], y[fit_i], cls, k, len(fit_i))
            pred[ev_i] = _predict1(mdl, fc[ev_i])
        scores[j] = _score_pred(pred, y, cls, k)
        if ctx.task == "binary":
            aucs[j] = _auc(f, y)
    cand = [j for j in range(len(cols)) if scores[j] >= thr or (aucs[j] is not None and aucs[j] >= 0.99)]
    if not cand:
        return []
    if ordered and not cls:
        keep = []
        naive_mae = float(np.mean(np.abs(np.diff(y)))) if n > 2 else 0.0
        for j in cand:
            lag = _is_lag_of_target(X[:, j], y, max_lag=max(2 * len(cols) + 5, 30))
            if lag is not None:
                skipped[cols[j]] = f"lag {lag} of the target"
                continue
            f = X[:, j]
            fin = np.isfinite(f)
            c = np.polyfit(f[fin], y[fin], 1)
            mae = float(np.mean(np.abs(np.polyval(c, f[fin]) - y[fin])))
            if naive_mae > 0 and mae <= 0.25 * naive_mae:
                keep.append(j)
            else:
                skipped[cols[j]] = "not closer to the target than the last value"
        cand = keep
        if not cand:
            return []
    j = max(cand, key=lambda i: scores[i] if aucs[i] is None else max(scores[i], aucs[i]))
    name = cols[j]
    # the same single-feature model, fitted on these rows, applied to the test rows
    test_score = None
    if ctx.has_train:
        mdl = _single_feature_model(_clean1(X[:, j]), y, cls, k, n)
        ft = _clean1(ctx.X_test[ctx.finite_rows][:, j])
        test_score = _score(mdl, ft, ctx.test_y, cls, k)
        if ctx.task == "binary":
            a = _auc(ft, ctx.test_y)
            test_score = max(test_score, a) if a is not None else test_score
    model_score = _model_score(ctx)
    best_score = max(scores[j], aucs[j] or 0.0)
    measure = "ROC AUC or balanced accuracy" if ctx.task == "binary" else ("balanced accuracy" if cls else "R2")
    second = sorted((max(scores[i], aucs[i] or 0.0) for i in range(len(cols)) if i != j), reverse=True)
    leak_in_test = test_score is not None and test_score >= thr - 0.01
    model_adds_nothing = model_score is not None and test_score is not None and test_score >= model_score - 0.01
    train_only = (test_score is not None and test_score < thr - 0.15 and model_score is not None
                  and model_score < best_score - 0.15)
    if (leak_in_test and model_adds_nothing) or train_only:
        sev = Severity.CRITICAL
    else:
        sev = Severity.WARNING
    ev = {"feature": name, "single_feature_" + ("score" if ctx.task == "binary" else measure.lower().replace(" ", "_")): _r(best_score),
          "measure": measure + " of that feature alone on held-out " + src + " rows", "next_best_feature_score": _r(second[0]) if second else None,
          "score_on_test": _r(test_score), "model_test_score": _r(model_score),
          "other_near_perfect_features": [cols[i] for i in cand if i != j][:5]}
    if skipped:
        ev["lag_features_ignored"] = dict(list(sorted(skipped.items()))[:5])
    if train_only:
        title = (f"'{name}' gives the target away in the training data ({measure} {best_score:.3f}) but not in the "
                 f"test data ({test_score:.3f}): the model learned a shortcut")
    else:
        title = f"'{name}' alone predicts the target almost perfectly ({measure} {best_score:.3f} on its own)"
        if leak_in_test and model_adds_nothing:
            title += "; the model is no better than this one feature"
    return [Finding(
        "leakage.target", sev, title, ev,
        f"Check how '{name}' is produced: if it is computed from the target or only known after the outcome, remove "
        "it from the inputs and retrain; the current metrics overstate what the model can do on new data.",
        impact=float(min(1.0, 0.5 + 0.5 * max(0.0, best_score - (second[0] if second else 0.0)))),
    )]


CHECKS = [check_train_test_overlap, check_temporal, check_target]
