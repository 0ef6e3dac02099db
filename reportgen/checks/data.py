"""data.* checks: is the data itself the cause of the errors?

Every rule is relative: to the other features (scale spread), to a quick reference model fitted
on the same rows (is the weak region learnable? did the network underperform what the data
supports?), to the test set (do training labels disagree with a reference model more than test
labels do?), or to what sampling noise produces (permutation nulls, size-aware KS thresholds).
Large inputs are sampled (ctx.sample_indices) and the report says so (ctx.note).

Shared helpers live here (the leakage family imports them); caches go to ctx.cache["data.*"].
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..findings import Finding, Severity

# sample sizes: enough for stable statistics, small enough for a 100k-row audit in seconds
REF_ROWS = 3000        # quick reference models (cross-validated)
STATS_ROWS = 20_000    # per-feature robust statistics
KS_ROWS = 5000         # per-side rows for the two-sample tests
DOMAIN_ROWS = 2000     # per-side rows for the train-vs-test classifier
TREE_ROWS = 5000       # weak-segment tree
TREE_PERMUTATIONS = 29

NORM_LAYERS = {"Normalization", "BatchNormalization", "LayerNormalization", "GroupNormalization",
               "UnitNormalization", "Discretization", "RMSNormalization", "SpectralNormalization"}
RESCALE_LAYERS = {"Rescaling"}
WEIGHTED_LAYERS = {"Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
                   "DepthwiseConv1D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose", "LSTM", "GRU",
                   "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "Bidirectional", "TimeDistributed", "RNN",
                   "Embedding", "MultiHeadAttention"}


def _r(x, nd=4):
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    if x != 0 and abs(x) < 10 ** (-nd):
        return float(f"{x:.3g}")
    return round(x, nd)


def _sig(x, digits=4) -> str:
    """A number for a title or a rule: 4 significant digits, no exponent for ordinary sizes."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return str(x if math.isfinite(x) else "n/a")
    if 1e-3 <= abs(x) < 1e6:
        s = f"{x:.{digits}g}"
        return s
    return f"{x:.{digits - 1}e}"


def _pct(x) -> str:
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def _finite(X: np.ndarray) -> np.ndarray:
    """Copy with inf turned into NaN (sklearn models handle NaN, not inf)."""
    X = np.array(X, dtype=np.float64, copy=True)
    X[~np.isfinite(X)] = np.nan
    return X


def _sampled(ctx, n: int, max_rows: int, offset: int, what: str) -> np.ndarray:
    idx = ctx.sample_indices(n, max_rows=max_rows, seed_offset=offset)
    if len(idx) < n:
        ctx.note(f"{what} used a random sample of {len(idx):,} of {n:,} rows.")
    return idx


def _feature_kinds(X: np.ndarray) -> dict:
    """Per column: number of distinct finite values (on up to STATS_ROWS rows) and binary flag."""
    n = len(X)
    rows = X if n <= STATS_ROWS else X[np.random.default_rng(7).choice(n, STATS_ROWS, replace=False)]
    nun = []
    for j in range(X.shape[1]):
        v = rows[:, j]
        v = v[np.isfinite(v)]
        nun.append(len(np.unique(v)) if v.size else 0)
    nun = np.asarray(nun)
    return {"n_unique": nun, "binary": nun <= 2}


def _kinds(ctx, which: str) -> dict:
    key = f"data.kinds.{which}"
    if key not in ctx.cache:
        ctx.cache[key] = _feature_kinds(ctx.X_train if which == "train" else ctx.X_test)
    return ctx.cache[key]


def _ref_X(ctx) -> tuple[np.ndarray, str]:
    """The data that defines 'normal': training rows when given, else the test rows."""
    return (ctx.X_train, "train") if ctx.has_train else (ctx.X_test, "test")


# -- quick reference models --------------------------------------------------------------------
def single_thread():
    """Quick sklearn models run single-threaded: next to TensorFlow's thread pools, OpenMP threads
    of HistGradientBoosting spin against each other (measured: 5.6 s vs 0.4 s for the same fit)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _make_model(kind: str, classification: bool, n: int, k: int):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.impute import SimpleImputer

    if kind == "linear":
        clip = FunctionTransformer(lambda z: np.clip(z, -6, 6))
        if classification:
            from sklearn.linear_model import LogisticRegression
            est = LogisticRegression(C=1.0, max_iter=400)
        else:
            from sklearn.linear_model import Ridge
            est = Ridge(alpha=1.0)
        return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(), clip, est)
    leaf = int(max(5, min(20, n // 50)))
    iters = 60 if (not classification or k <= 2) else 40
    if classification:
        from sklearn.ensemble import HistGradientBoostingClassifier
        return HistGradientBoostingClassifier(max_iter=iters, learning_rate=0.1, max_leaf_nodes=15,
                                              min_samples_leaf=leaf, early_stopping=False, random_state=0)
    from sklearn.ensemble import HistGradientBoostingRegressor
    return HistGradientBoostingRegressor(max_iter=iters, learning_rate=0.1, max_leaf_nodes=15,
                                         min_samples_leaf=leaf, early_stopping=False, random_state=0)


def _predict(model, X: np.ndarray, classification: bool, k: int) -> np.ndarray:
    if not classification:
        return model.predict(X).astype(np.float64)
    p = model.predict_proba(X)
    out = np.zeros((len(X), k))
    out[:, np.asarray(model.classes_, dtype=np.int64)] = p
    return out


def oof_predictions(X: np.ndarray, y: np.ndarray, classification: bool, k: int, seed: int = 0,
                    n_splits: int = 5, X_extra: np.ndarray | None = None) -> dict | None:
    """Out-of-fold predictions of a linear model and a gradient-boosted tree model; keeps the
    better one (lower out-of-fold log loss / MAE). `X_extra` rows get the fold models' average.

    Returns {"name", "oof" (n,) or (n, k), "extra", "loss"} or None when too few rows.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    if n < 30:
        return None
    X = _finite(X)
    Xe = _finite(X_extra) if X_extra is not None else None
    if classification:
        counts = np.bincount(y, minlength=k)
        present = counts[counts > 0]
        if len(present) < 2:
            return None
        splits = int(min(n_splits, max(2, present.min())))
        folds = (StratifiedKFold(splits, shuffle=True, random_state=seed) if present.min() >= splits
                 else KFold(splits, shuffle=True, random_state=seed))
    else:
        folds = KFold(n_splits, shuffle=True, random_state=seed)
    results = {}
    for kind in ("linear", "hgb"):
        oof = np.zeros((n, k)) if classification else np.zeros(n)
        extra = None if Xe is None else (np.zeros((len(Xe), k)) if classification else np.zeros(len(Xe)))
        n_f = 0
        with warnings.catch_warnings(), single_thread():
            warnings.simplefilter("ignore")
            for tr, te in folds.split(X, y if classification else None):
                if classification and len(np.unique(y[tr])) < 2:
                    continue
                m = _make_model(kind, classification, len(tr), k)
                m.fit(X[tr], y[tr])
                oof[te] = _predict(m, X[te], classification, k)
                if extra is not None:
                    extra += _predict(m, Xe, classification, k)
                n_f += 1
        if n_f == 0:
            continue
        if extra is not None:
            extra /= n_f
        if classification:
            p = np.clip(oof[np.arange(n), y], 1e-6, 1.0)
            loss = float(-np.mean(np.log(p)))
        else:
            loss = float(np.mean(np.abs(oof - y)))
        results[kind] = {"name": "logistic/ridge regression" if kind == "linear" else "gradient-boosted trees",
                         "oof": oof, "extra": extra, "loss": loss}
    if not results:
        return None
    return min(results.values(), key=lambda r: r["loss"])


def row_error_of(ctx, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-row error of a reference prediction, defined as ctx.row_error defines it for the model."""
    if ctx.task == "binary":
        return ctx.row_error(y, pred[:, 1] if pred.ndim == 2 else pred)
    return ctx.row_error(y, pred)


def test_reference(ctx) -> dict | None:
    """A quick model cross-validated on the (finite) test rows: what the test data supports.

    Returns {"rows": indices into the finite test rows, "error": per-row reference error,
    "model_error": the audited model's per-row error on the same rows, "name"} or None.
    """
    key = "data.test_reference"
    if key in ctx.cache:
        return ctx.cache[key]
    res = None
    y = ctx.test_y
    n = len(y)
    if n >= 60:
        rows = _sampled(ctx, n, REF_ROWS, 21, "The reference model for the data checks")
        X = ctx.X_test[ctx.finite_rows][rows]
        yy = y[rows]
        k = len(ctx.labels) if ctx.is_classification else 1
        ref = oof_predictions(X, yy, ctx.is_classification, k, seed=ctx.seed)
        if ref is not None:
            res = {"rows": rows, "error": row_error_of(ctx, yy, ref["oof"]),
                   "model_error": ctx.test_row_error[rows], "name": ref["name"]}
    ctx.cache[key] = res
    return res


def compare_errors(model_err: np.ndarray, ref_err: np.ndarray, classification: bool) -> dict:
    """Is the model's per-row error clearly larger than the reference's on the same rows?

    Classification: exact McNemar test on the discordant rows; regression: Wilcoxon signed-rank
    on the absolute errors. Returns ratio, one-sided p-value and the two mean errors.
    """
    from scipy import stats

    me, re_ = float(np.mean(model_err)), float(np.mean(ref_err))
    p = 1.0
    if classification:
        b = int(np.sum((model_err > 0) & (ref_err == 0)))
        c = int(np.sum((model_err == 0) & (ref_err > 0)))
        if b + c > 0:
            p = float(stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue)
    else:
        d = model_err - ref_err
        if np.any(d != 0) and len(d) >= 10:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = float(stats.wilcoxon(d, alternative="greater", zero_method="zsplit").pvalue)
    return {"model": me, "reference": re_, "ratio": me / re_ if re_ > 0 else (math.inf if me > 0 else 1.0), "p": p}


def _near_trivial(ctx) -> bool:
    """The model does no better than the majority class / the mean (on the finite test rows)."""
    m = ctx.test_metrics.values
    if ctx.is_classification:
        bal = m.get("balanced_accuracy")
        return bal is not None and bal <= 1.0 / len(ctx.labels) + 0.05
    r2 = m.get("r2")
    return r2 is not None and r2 <= 0.05


def _model_harmed(ctx) -> dict | None:
    """The audited model against a reference fitted on the test rows: clearly worse?

    Without enough rows for a reference, a model no better than the trivial baseline counts as
    harmed."""
    ref = test_reference(ctx)
    if ref is None:
        if len(ctx.test_y) >= 20 and _near_trivial(ctx):
            err = float(np.mean(ctx.test_row_error))
            return {"model": err, "reference": None, "ratio": None, "p": None, "harmed": True,
                    "name": "trivial baseline"}
        return None
    cmp = compare_errors(ref["model_error"], ref["error"], ctx.is_classification)
    margin = 0.02 if ctx.is_classification else 0.0
    cmp["harmed"] = bool(cmp["p"] < 0.01 and cmp["model"] >= 1.5 * cmp["reference"] + margin)
    cmp["name"] = ref["name"]
    return cmp


# -- data.class_imbalance ------------------------------------------------------------------------
def check_class_imbalance(ctx) -> list[Finding]:
    """The rarest class far below its fair share (cleanlab: < 0.1 x 1/K), judged with its recall."""
    if not ctx.is_classification:
        return []
    k = len(ctx.labels)
    which = "training" if ctx.has_train else "test"
    y_ref = ctx.y_train if ctx.has_train else ctx.y_test
    counts = np.bincount(y_ref, minlength=k)
    n = int(counts.sum())
    if n == 0 or k < 2:
        return []
    shares = counts / n
    j = int(np.argmin(shares))
    ratio = float(shares[j] * k)
    if ratio >= 0.5:
        return []
    # does the model suffer on the rare class? (test recall vs the other classes)
    yt, pred = ctx.test_y, ctx.test_pred_class
    support = int(np.sum(yt == j))
    recall = float(np.mean(pred[yt == j] == j)) if support else None
    other = [float(np.mean(pred[yt == c] == c)) for c in range(k) if c != j and np.sum(yt == c) >= 5]
    other_recall = float(np.mean(other)) if other else None
    judged = recall is not None and support >= 8 and other_recall is not None
    suffers = judged and recall < 0.5 and other_recall - recall >= 0.3
    fine = judged and support >= 10 and recall >= 0.8 and other_recall - recall < 0.1
    if ratio < 0.1:
        sev = Severity.CRITICAL if suffers else (Severity.INFO if fine else Severity.WARNING)
    elif ratio < 0.3 and suffers:
        sev = Severity.WARNING
    elif ratio < 0.2 or suffers:
        sev = Severity.INFO
    else:
        return []
    label = ctx.labels[j]
    misses = int(np.sum((yt == j) & (pred != j)))
    n_err = int(np.sum(ctx.test_row_error > 0))
    impact = misses / n_err if (n_err and suffers) else min(0.3, misses / max(n_err, 1))
    top = np.argsort(counts)[:10]
    ev = {"class": str(label), "rows": int(counts[j]), "share": _r(shares[j]), "fair_share": _r(1.0 / k),
          "ratio_to_fair_share": _r(ratio), "measured_on": which,
          "class_counts": {str(ctx.labels[c]): int(counts[c]) for c in sorted(top)},
          "test_support": support, "test_recall": _r(recall), "other_classes_recall": _r(other_recall)}
    if sev is Severity.INFO:
        how = "and the model still recognises it well" if fine else "the model's recall on it is not clearly hurt"
        title = f"Class {label} is under-represented ({_pct(shares[j])} of {which} rows); {how}"
    elif suffers:
        title = (f"Class {label} is rare ({_pct(shares[j])} of {which} rows, {ratio:.2f}x its fair share) and the "
                 f"model recognises only {recall:.0%} of it (other classes {other_recall:.0%})")
    else:
        title = f"Class {label} is rare: {_pct(shares[j])} of {which} rows ({ratio:.2f}x its fair share of {1 / k:.0%})"
    return [Finding(
        "data.class_imbalance", sev, title, ev,
        "Give the rare class more weight (class_weight in model.fit), resample (oversample it or undersample the "
        "others), collect more examples of it, and tune the decision threshold on validation data; judge the model "
        "by balanced accuracy, per-class recall or PR AUC rather than accuracy.",
        impact=float(max(0.0, min(1.0, impact))),
    )]


# -- data.feature_scale --------------------------------------------------------------------------
def _flat_layers(model) -> list:
    out = []
    for layer in getattr(model, "layers", None) or []:
        inner = getattr(layer, "layers", None)
        if isinstance(inner, list) and inner and type(layer).__name__ not in WEIGHTED_LAYERS:
            out.extend(_flat_layers(layer))  # a nested Sequential / Functional model
        else:
            out.append(layer)
    return out


def input_preprocessing(model) -> dict:
    """What the model does to its inputs before the first weighted layer.

    {"normalised": layer name or None, "layer": the layer object, "rescale": (scale, offset) or None}
    """
    info = {"normalised": None, "layer": None, "rescale": None}
    for layer in _flat_layers(model):
        name = type(layer).__name__
        if name in NORM_LAYERS:
            info["normalised"], info["layer"] = name, layer
            return info
        if name in RESCALE_LAYERS:
            try:
                info["rescale"] = (float(np.asarray(layer.scale)), float(np.asarray(layer.offset)))
            except Exception:
                info["normalised"], info["layer"] = name, layer
                return info
            continue
        if name in WEIGHTED_LAYERS or (getattr(layer, "weights", None) and name not in ("InputLayer",)):
            return info
    return info


def _scale_stats(X: np.ndarray, binary: np.ndarray) -> dict:
    """Robust scale (IQR/1.349, else std) and typical magnitude (median |x|) per non-binary column."""
    scales = np.full(X.shape[1], np.nan)
    mags = np.full(X.shape[1], np.nan)
    for j in range(X.shape[1]):
        v = X[:, j]
        v = v[np.isfinite(v)]
        if v.size < 5:
            continue
        mags[j] = float(np.median(np.abs(v)))
        if binary[j]:
            continue
        q1, q3 = np.percentile(v, [25, 75])
        s = (q3 - q1) / 1.349
        if s <= 0:
            s = float(np.std(v))
        if s > 0:
            scales[j] = s
    return {"scales": scales, "mags": mags}


def _scale_summary(X: np.ndarray, binary: np.ndarray, cols: list[str]) -> dict | None:
    st = _scale_stats(X, binary)
    sc, mg = st["scales"], st["mags"]
    ok = np.isfinite(sc) & (sc > 0)
    if ok.sum() == 0:
        return None
    i_max = int(np.nanargmax(np.where(ok, sc, -np.inf)))
    i_min = int(np.nanargmin(np.where(ok, sc, np.inf)))
    i_mag = int(np.nanargmax(np.where(np.isfinite(mg), mg, -np.inf)))
    spread = float(sc[i_max] / sc[i_min]) if ok.sum() >= 2 else 1.0
    return {"spread": spread, "largest": cols[i_max], "largest_scale": float(sc[i_max]), "smallest": cols[i_min],
            "smallest_scale": float(sc[i_min]), "magnitude": float(mg[i_mag]), "magnitude_feature": cols[i_mag],
            "scales": sc, "mags": mg}


def check_feature_scale(ctx) -> list[Finding]:
    """Features on very different scales (or far outside [-1, 1]) with no normalisation layer."""
    X_all, which = _ref_X(ctx)
    idx = _sampled(ctx, len(X_all), STATS_ROWS, 31, "The feature-scale check")
    X = X_all[idx]
    cols = list(ctx.inputs.feature_columns)
    kinds = _kinds(ctx, which)
    summ = _scale_summary(X, kinds["binary"], cols)
    if summ is None:
        return []
    prep = input_preprocessing(ctx.model) if ctx.model is not None else None
    layer_note = None
    if prep is not None and prep["normalised"]:
        layer = prep["layer"]
        if prep["normalised"] != "Normalization":
            return []
        # check what the Normalization layer actually does (not adapted = identity)
        try:
            mean = np.asarray(layer.mean, dtype=np.float64).reshape(-1)
            var = np.asarray(layer.variance, dtype=np.float64).reshape(-1)
        except Exception:
            return []
        if mean.size not in (1, X.shape[1]) or bool(getattr(layer, "invert", False)):
            return []
        Xn = (X - mean) / np.sqrt(np.maximum(var, 1e-12))
        summ = _scale_summary(Xn, kinds["binary"], cols)
        if summ is None:
            return []
        layer_note = "Normalization layer present but its statistics do not match the data (not adapted?)"
    elif prep is not None and prep["rescale"] is not None:
        s, o = prep["rescale"]
        summ = _scale_summary(X * s + o, kinds["binary"], cols)
        if summ is None:
            return []
        layer_note = "Rescaling layer present (one factor for all features cannot equalise their scales)"
    spread, mag = summ["spread"], summ["magnitude"]
    problem = spread >= 100 or mag >= 100
    if not problem:
        return []
    extreme = spread >= 1000 or mag >= 1000
    harm = _model_harmed(ctx) if ctx.model is not None else None
    harmed = bool(harm and harm["harmed"])
    if ctx.model is None:
        sev = Severity.INFO
    elif extreme and harmed:
        sev = Severity.CRITICAL
    elif extreme or harmed:
        sev = Severity.WARNING
    else:
        sev = Severity.INFO
    ev = {"scale_ratio": _r(spread, 1), "largest_scale_feature": summ["largest"], "largest_scale": _r(summ["largest_scale"]),
          "smallest_scale_feature": summ["smallest"], "smallest_scale": _r(summ["smallest_scale"], 6),
          "largest_typical_magnitude": _r(mag, 3), "magnitude_feature": summ["magnitude_feature"],
          "scale_measure": "IQR / 1.349 (std when the IQR is 0), binary columns excluded", "measured_on": which,
          "normalisation_layer": None if ctx.model is not None else "unknown (predictions only)"}
    if layer_note:
        ev["note"] = layer_note
    if harm is not None and harm["reference"] is not None:
        ev.update({"model_error": _r(harm["model"]), "reference_error": _r(harm["reference"]),
                   "reference_model": harm["name"] + " cross-validated on the test rows (scaled inputs)",
                   "model_worse_p_value": _r(harm["p"], 6)})
    elif harm is not None:
        ev.update({"model_error": _r(harm["model"]), "model_no_better_than_trivial_baseline": True})
    if ctx.model is None:
        title = (f"Input features span very different scales (ratio {spread:,.0f}); if the model has no "
                 "normalisation layer this slows or stalls training")
    else:
        title = (f"Unnormalised inputs: feature scales differ {spread:,.0f}x ({summ['smallest']} vs {summ['largest']}) "
                 f"and the model has no normalisation layer")
        if spread < 100:
            title = (f"Unnormalised inputs: values around {_sig(mag, 3)} ({summ['magnitude_feature']}), far outside "
                     "[-1, 1], and the model has no normalisation layer")
        if harmed and harm["ratio"] is not None:
            title += f"; its error is {harm['ratio']:.1f}x that of a simple model on scaled inputs"
        elif harmed:
            title += "; the model is no better than a trivial baseline"
    impact = 0.2
    if harm is not None and harm["model"] > 0:
        if harm["reference"] is None:
            impact = 0.8
        else:
            impact = max(0.0, 1.0 - harm["reference"] / harm["model"]) if harmed else 0.1
    fig = None
    try:
        from ..figures.diagnostics_data import feature_scale_svg
        fig = feature_scale_svg(cols, summ["scales"], [summ["largest"], summ["smallest"]])
    except Exception:
        if ctx.strict:
            raise
    return [Finding(
        "data.feature_scale", sev, title, ev,
        "Add a keras.layers.Normalization() layer as the model's first layer and adapt it on the training data "
        "(norm.adapt(X_train)) before training, or standardise every feature with statistics of the training set "
        "and apply the same transform at prediction time.",
        impact=float(min(1.0, impact)), figure=fig,
    )]


# -- data.outliers -------------------------------------------------------------------------------
OUTLIER_Z = 10.0


def _robust_transform(ref: np.ndarray, binary: np.ndarray) -> list:
    """Per column: (use_log, shift, median, scale) for a robust z, or None to skip the column.

    Right-skewed non-negative columns (Kelly skewness (q90 + q10 - 2 q50) / (q90 - q10) > 0.25,
    robust to a few % of corrupt rows) are judged on log1p(x / c) so that legitimately skewed
    quantities (areas, amounts, counts) are not outliers just for being large.
    """
    params = []
    for j in range(ref.shape[1]):
        v = ref[:, j]
        v = v[np.isfinite(v)]
        if binary[j] or v.size < 20:
            params.append(None)
            continue
        use_log, c = False, 1.0
        if v.min() >= 0:
            q10, q50, q90 = np.percentile(v, [10, 50, 90])
            kelly = (q90 + q10 - 2 * q50) / (q90 - q10) if q90 > q10 else 0.0
            pos = v[v > 0]
            if kelly > 0.25 and pos.size >= 10:
                use_log, c = True, float(np.percentile(pos, 10))
        t = np.log1p(v / c) if use_log else v
        med = float(np.median(t))
        mad = float(np.median(np.abs(t - med)))
        s = 1.4826 * mad
        if s <= 0:
            off = t[t != med]
            if off.size < 5:
                params.append(None)
                continue
            s = 1.4826 * float(np.median(np.abs(off - med)))
        if s <= 0:
            params.append(None)
            continue
        params.append((use_log, c, med, s))
    return params


def _robust_z(X: np.ndarray, params: list) -> np.ndarray:
    Z = np.zeros(X.shape)
    with np.errstate(all="ignore"):
        for j, p in enumerate(params):
            if p is None:
                continue
            use_log, c, med, s = p
            v = X[:, j]
            if use_log:
                t = np.where(v >= 0, np.log1p(np.maximum(v, 0) / c), -np.log1p(np.abs(v) / c) - 10 * s)
            else:
                t = v
            Z[:, j] = np.abs(t - med) / s
    Z[~np.isfinite(Z)] = 0.0  # NaN / inf are data.missing_values' business
    return Z


def _knn_outlier_share(ref: np.ndarray, test: np.ndarray | None, params: list, seed: int) -> dict | None:
    """Multivariate view (cleanlab-style): distance to the k-th nearest training row against an IQR fence."""
    from sklearn.neighbors import NearestNeighbors

    cols = [j for j, p in enumerate(params) if p is not None]
    if not cols or len(ref) < 50:
        return None

    def tr(X):
        out = np.zeros((len(X), len(cols)))
        for i, j in enumerate(cols):
            use_log, c, med, s = params[j]
            v = np.nan_to_num(X[:, j], nan=0.0, posinf=0.0, neginf=0.0)
            t = np.log1p(np.maximum(v, 0) / c) if use_log else v
            out[:, i] = (t - med) / s
        return out

    rng = np.random.default_rng(seed)
    m = min(len(ref), 2000)
    R = tr(ref[rng.choice(len(ref), m, replace=False)] if len(ref) > m else ref)
    k = min(10, m - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(R)
    d_ref = nn.kneighbors(R)[0][:, -1]
    q1, q3 = np.percentile(d_ref, [25, 75])
    fence = q3 + 3 * (q3 - q1)
    out = {"fence": float(fence), "train_share": float(np.mean(d_ref > fence))}
    if test is not None and len(test):
        T = tr(test[rng.choice(len(test), min(len(test), 2000), replace=False)] if len(test) > 2000 else test)
        d_te = nn.kneighbors(T, n_neighbors=k)[0][:, -1]
        out["test_share"] = float(np.mean(d_te > fence))
    return out


def _error_contrast(err: np.ndarray, mask: np.ndarray, classification: bool) -> dict | None:
    """Mean error of the flagged rows vs the rest, with a one-sided test."""
    from scipy import stats

    a, b = err[mask], err[~mask]
    if len(a) < 5 or len(b) < 5:
        return None
    ea, eb = float(np.mean(a)), float(np.mean(b))
    if classification:
        table = [[int(a.sum()), int(len(a) - a.sum())], [int(b.sum()), int(len(b) - b.sum())]]
        p = float(stats.fisher_exact(table, alternative="greater")[1])
    else:
        p = float(stats.mannwhitneyu(a, b, alternative="greater").pvalue)
    return {"flagged": ea, "rest": eb, "ratio": ea / eb if eb > 0 else (math.inf if ea > 0 else 1.0), "p": p,
            "rows": int(len(a))}


def check_outliers(ctx) -> list[Finding]:
    """Extreme values (robust z > 10 per feature; log scale for wide non-negative features)."""
    # 'normal' = training and test rows together: a test set that merely differs from training
    # (another class mix, a shift) is drift, not outliers
    X_ref, which = _ref_X(ctx)
    kinds = _kinds(ctx, which)
    if ctx.has_train:
        ia = ctx.sample_indices(len(ctx.X_train), max_rows=STATS_ROWS // 2, seed_offset=41)
        ib = ctx.sample_indices(len(ctx.X_test), max_rows=STATS_ROWS // 2, seed_offset=42)
        X_ref = np.vstack([ctx.X_train[ia], ctx.X_test[ib]])
    else:
        X_ref = X_ref[ctx.sample_indices(len(X_ref), max_rows=STATS_ROWS, seed_offset=41)]
    if len(ctx.X_test) + (len(ctx.X_train) if ctx.has_train else 0) > STATS_ROWS:
        ctx.note(f"The outlier check's robust statistics used a sample of {len(X_ref):,} rows.")
    idx = np.arange(len(X_ref))
    params = _robust_transform(X_ref, kinds["binary"])
    if all(p is None for p in params):
        return []
    cols = list(ctx.inputs.feature_columns)
    sets = {}
    if ctx.has_train:
        Zt = _robust_z(ctx.X_train, params)
        sets["train"] = Zt > OUTLIER_Z
    Zs = _robust_z(ctx.X_test, params)
    sets["test"] = Zs > OUTLIER_Z
    shares, counts, per_feature = {}, {}, np.zeros(len(cols), dtype=np.int64)
    for name, M in sets.items():
        rows = M.any(axis=1)
        counts[name] = int(rows.sum())
        shares[name] = float(rows.mean())
        per_feature += M.sum(axis=0)
    worst_set = max(shares, key=lambda s: shares[s])
    share, count = shares[worst_set], counts[worst_set]
    if count < 3 or share < 0.002:
        return []
    # do the extreme test rows carry the errors?
    flagged_test = sets["test"].any(axis=1)[ctx.finite_rows]
    contrast = _error_contrast(ctx.test_row_error, flagged_test, ctx.is_classification) if flagged_test.any() else None
    err_evidence = bool(contrast and contrast["ratio"] >= 2 and contrast["p"] < 0.01)
    n_out_nonfinite = int((sets["test"].any(axis=1) & ~ctx.finite_rows).sum())
    notable = (share >= 0.01 and count >= 5) or (share >= 0.03 and count >= 3)
    err_share = None
    if contrast is not None:
        total = float(np.sum(ctx.test_row_error))
        err_share = float(np.sum(ctx.test_row_error[flagged_test]) / total) if total > 0 else 0.0
    if notable and err_evidence and (share >= 0.02 or (err_share or 0) >= 0.2):
        sev = Severity.CRITICAL
    elif notable and (share >= 0.02 or err_evidence) or n_out_nonfinite >= 5:
        sev = Severity.WARNING
    else:
        sev = Severity.INFO
    knn = None
    try:
        with single_thread():
                knn = _knn_outlier_share(X_ref[idx], ctx.X_test if ctx.has_train else None, params, ctx.seed)
    except Exception:
        if ctx.strict:
            raise
    order = np.argsort(-per_feature, kind="stable")
    top = [cols[j] for j in order[:5] if per_feature[j] > 0]
    ev = {"rows_with_extreme_values": {k: counts[k] for k in sorted(counts)},
          "share_of_rows": {k: _r(shares[k]) for k in sorted(shares)},
          "robust_z_threshold": OUTLIER_Z, "features_most_affected": top,
          "extreme_values_per_feature": {cols[j]: int(per_feature[j]) for j in order[:5] if per_feature[j] > 0}}
    if contrast is not None:
        ev.update({"error_on_extreme_test_rows": _r(contrast["flagged"]), "error_on_other_test_rows": _r(contrast["rest"]),
                   "error_ratio": _r(contrast["ratio"], 2), "error_p_value": _r(contrast["p"], 6),
                   "share_of_test_error": _r(err_share)})
    if n_out_nonfinite:
        ev["extreme_test_rows_with_nonfinite_output"] = n_out_nonfinite
    if knn is not None:
        ev["knn_distance_outlier_share"] = {k: _r(v) for k, v in knn.items() if k != "fence"}
    where = f"{_pct(share)} of {worst_set} rows ({count:,})"
    title = f"Extreme values in {where}, mostly in {', '.join(top[:3])}"
    if err_evidence:
        title += f"; the model's error on them is {contrast['ratio']:.1f}x that on other rows"
    elif sev is Severity.INFO:
        title = f"A few extreme values: {where} lie more than {OUTLIER_Z:.0f} robust standard deviations out"
    impact = 0.1
    if err_share is not None:
        impact = max(0.0, err_share - float(np.mean(flagged_test)))
    return [Finding(
        "data.outliers", sev, title, ev,
        "Inspect the flagged rows: fix unit or entry errors, drop corrupt rows, or clip / winsorise the affected "
        "features (or log-transform skewed ones) with limits taken from the training data; a RobustScaler-style "
        "normalisation keeps the remaining extremes from dominating training.",
        impact=float(min(1.0, impact)),
    )]


# -- data.missing_values -------------------------------------------------------------------------
def check_missing_values(ctx) -> list[Finding]:
    """NaN / inf in the inputs (train and test, per column) or in the model's outputs."""
    cols = list(ctx.inputs.feature_columns)
    sets = {"test": ctx.X_test}
    if ctx.has_train:
        sets["train"] = ctx.X_train
    per_col, row_share, row_count = {}, {}, {}
    total_cols = np.zeros(len(cols), dtype=np.int64)
    for name, X in sets.items():
        bad = ~np.isfinite(X)
        rows = bad.any(axis=1)
        row_count[name] = int(rows.sum())
        row_share[name] = float(rows.mean()) if len(X) else 0.0
        c = bad.sum(axis=0)
        total_cols += c
        per_col[name] = {cols[j]: int(c[j]) for j in np.argsort(-c, kind="stable")[:8] if c[j] > 0}
    out = ctx.test_output
    out_bad = ~(np.isfinite(out).all(axis=1) if out.ndim == 2 else np.isfinite(out))
    n_out = int(out_bad.sum())
    in_rows_test = ~np.isfinite(ctx.X_test).all(axis=1)
    n_out_from_inputs = int((out_bad & in_rows_test).sum())
    share = max(row_share.values())
    if share == 0 and n_out == 0:
        return []
    ev = {"rows_with_missing_inputs": {k: row_count[k] for k in sorted(row_count)},
          "share_of_rows": {k: _r(row_share[k]) for k in sorted(row_share)},
          "missing_per_column": {k: per_col[k] for k in sorted(per_col) if per_col[k]},
          "nonfinite_model_outputs": n_out}
    if share > 0:
        if n_out:
            ev["nonfinite_outputs_on_rows_with_missing_inputs"] = n_out_from_inputs
        affected = int(np.sum(total_cols > 0))
        breaks = n_out_from_inputs > 0 and n_out_from_inputs >= 0.5 * row_count["test"]
        if share >= 0.10 or (share >= 0.02 and breaks):
            sev = Severity.CRITICAL
        elif share >= 0.005 or row_count.get("test", 0) >= 5 or breaks:
            sev = Severity.WARNING
        else:
            sev = Severity.INFO
        worst = max(row_share, key=lambda s: row_share[s])
        top = sorted(((c, sum(per_col[s].get(c, 0) for s in per_col)) for c in
                      {c for s in per_col for c in per_col[s]}), key=lambda t: (-t[1], t[0]))
        title = (f"Missing or infinite input values in {_pct(share)} of {worst} rows "
                 f"({affected} column(s), e.g. {', '.join(c for c, _ in top[:3])})")
        if n_out_from_inputs:
            title += f"; the model outputs NaN for {n_out_from_inputs:,} of them"
        return [Finding(
            "data.missing_values", sev, title, ev,
            "A neural network cannot use NaN/inf inputs (they propagate, or are silently turned into arbitrary "
            "numbers). Impute them with statistics of the training data (median, or a learned value) plus a "
            "'was missing' indicator column, or drop the affected rows; replace inf at the source.",
            impact=float(min(1.0, share * 2)),
        )]
    # finite inputs, non-finite outputs: a model problem (weights/activations), unless predictions-only
    weights_bad = False
    if ctx.model is not None:
        try:
            weights_bad = any(not np.all(np.isfinite(np.asarray(w))) for w in ctx.model.get_weights())
        except Exception:
            weights_bad = False
    ev["nonfinite_weights"] = weights_bad if ctx.model is not None else None
    out_share = n_out / max(len(out), 1)
    sev = Severity.WARNING if (ctx.model is None and out_share >= 0.005) else Severity.INFO
    title = f"The model's outputs are NaN/inf for {n_out:,} test row(s) ({_pct(out_share)}) although the inputs are finite"
    rec = ("These rows are excluded from the metrics. "
           + ("The weights themselves are non-finite: training diverged (see the model and training findings); "
              "lower the learning rate, clip gradients and retrain." if weights_bad else
              "Check the predictions file for missing values, and the model for overflow (huge activations, "
              "exp/log of extreme values)."))
    return [Finding("data.missing_values", sev, title, ev, rec, impact=float(min(1.0, out_share)))]


# -- data.label_noise ----------------------------------------------------------------------------
def _train_oof(ctx) -> dict | None:
    key = "data.train_oof"
    if key in ctx.cache:
        return ctx.cache[key]
    res = None
    y = ctx.y_train
    n = len(y)
    if n >= 50:
        rows = _sampled(ctx, n, 4000, 51, "The label-noise check")
        trows = _sampled(ctx, len(ctx.test_y), 4000, 52, "The label-noise check (test side)")
        k = len(ctx.labels) if ctx.is_classification else 1
        X_test = ctx.X_test[ctx.finite_rows][trows]
        ref = oof_predictions(ctx.X_train[rows], y[rows], ctx.is_classification, k, seed=ctx.seed, X_extra=X_test)
        if ref is not None:
            # test rows that also occur in training would look 'cleaner' than they are: left out
            feats = list(ctx.inputs.feature_columns)
            h_te = row_hashes(ctx.inputs.test, feats)[np.flatnonzero(ctx.finite_rows)][trows]
            keep = ~np.isin(h_te, row_hashes(ctx.inputs.train, feats))
            res = {"rows": rows, "test_rows": trows, "test_keep": keep, "oof": ref["oof"], "test": ref["extra"],
                   "name": ref["name"]}
    ctx.cache[key] = res
    return res


def _two_prop_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided p-value that proportion 1 exceeds proportion 2 (pooled z-test)."""
    from scipy import stats

    if n1 == 0 or n2 == 0:
        return 1.0
    p = (x1 + x2) / (n1 + n2)
    se = math.sqrt(max(p * (1 - p) * (1 / n1 + 1 / n2), 1e-12))
    return float(stats.norm.sf((x1 / n1 - x2 / n2) / se))


def check_label_noise(ctx) -> list[Finding]:
    """Confident learning on out-of-fold probabilities of a quick model, compared with the test set.

    Wrong training labels make a reference model disagree with the training labels more often
    (out of fold) than with the test labels (the fold models' average predicts the test rows, so
    both sides see equally trained models); on clean data both rates agree within sampling noise,
    however hard the task is. Claimed when confident learning estimates >= 5% label issues, the
    train rate exceeds the test rate by >= 4 points and a one-sided two-proportion test gives
    p < 0.01. Test rows that also occur in training are left out (they would look too clean).
    """
    if not ctx.has_train or len(ctx.y_train) < 50 or len(ctx.test_y) < 30:
        return []
    if not ctx.is_classification:
        return _regression_label_noise(ctx)
    ref = _train_oof(ctx)
    if ref is None:
        return []
    y = ctx.y_train[ref["rows"]]
    p = np.clip(ref["oof"], 1e-9, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    keep = ref["test_keep"]
    yt = ctx.test_y[ref["test_rows"]][keep]
    pt = ref["test"][keep]
    n, nt = len(y), len(yt)
    if nt < 30:
        return []
    # confident learning (cleanlab): the estimated number of label issues
    try:
        from cleanlab.count import num_label_issues

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n_issues = int(num_label_issues(labels=y, pred_probs=p))
    except Exception:
        if ctx.strict:
            raise
        n_issues = int(np.sum(np.argmax(p, axis=1) != y))
    cl_share = n_issues / n
    # disagreement overall and among the most confident predictions, train (OOF) vs test
    pred_tr, pred_te = np.argmax(p, axis=1), np.argmax(pt, axis=1)
    conf_tr, conf_te = p.max(axis=1), pt.max(axis=1)
    d_tr, d_te = int(np.sum(pred_tr != y)), int(np.sum(pred_te != yt))
    cut = float(np.quantile(conf_tr, 0.7))
    top_tr, top_te = conf_tr >= cut, conf_te >= cut
    dt_tr = int(np.sum((pred_tr != y) & top_tr))
    dt_te = int(np.sum((pred_te != yt) & top_te))
    rate_tr, rate_te = d_tr / n, d_te / nt
    top_rate_tr = dt_tr / max(int(top_tr.sum()), 1)
    top_rate_te = dt_te / max(int(top_te.sum()), 1) if top_te.sum() >= 10 else None
    p_gap = _two_prop_p(d_tr, n, d_te, nt)
    excess = rate_tr - rate_te
    noisy_train = cl_share >= 0.05 and excess >= 0.04 and p_gap < 0.01
    ev = {"estimated_wrong_labels_share": _r(cl_share), "estimated_wrong_labels": n_issues,
          "rows_examined": n, "reference_model": ref["name"] + ", 5-fold out-of-fold",
          "train_disagreement": _r(rate_tr), "test_disagreement": _r(rate_te), "p_value": _r(p_gap, 8),
          "confident_train_disagreement": _r(top_rate_tr), "confident_test_disagreement": _r(top_rate_te)}
    if not noisy_train:
        # both sets may be noisy (not separable from a hard task); only a very strong signal is context
        if cl_share >= 0.15 and top_rate_tr >= 0.1 and abs(excess) < 0.04:
            return [Finding(
                "data.label_noise", Severity.INFO,
                f"Many labels are hard to predict ({_pct(cl_share)} flagged by confident learning) in training and test "
                "alike: either a hard task or labels that are noisy everywhere",
                ev, "Review a sample of the flagged rows by hand; if labels are wrong, relabel or use a noise-robust "
                    "loss. If the task is simply hard, more informative features are needed.", impact=0.1)]
        return []
    # the audited model: does it also contradict the flagged training labels?
    from cleanlab.filter import find_label_issues

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            issues = find_label_issues(labels=y, pred_probs=p, filter_by="prune_by_noise_rate")
        except Exception:
            issues = pred_tr != y
    model_agrees = None
    if ctx.model is not None and issues.sum() >= 5:
        Xf = ctx.X_train[ref["rows"]][issues]
        ok = np.isfinite(Xf).all(axis=1)
        if ok.sum() >= 5:
            s = ctx.as_scores(ctx.predict(Xf[ok], "training"))
            mp = (s >= 0.5).astype(np.int64) if ctx.task == "binary" else np.argmax(s, axis=1)
            model_agrees = float(np.mean(mp != y[issues][ok]))
    ev["audited_model_contradicts_flagged_labels"] = _r(model_agrees)
    strong = cl_share >= 0.1 and excess >= 0.08
    sev = Severity.CRITICAL if (strong and model_agrees is not None and model_agrees >= 0.5) else Severity.WARNING
    examples = [int(i) for i in ref["rows"][np.flatnonzero(issues)[:10]]]
    ev["example_train_rows"] = examples
    return [Finding(
        "data.label_noise", sev,
        f"About {_pct(cl_share)} of training labels look wrong: a reference model disagrees with "
        f"{rate_tr:.0%} of training labels but only {rate_te:.0%} of test labels",
        ev,
        "Review the flagged training rows (example_train_rows are 0-based row numbers) and relabel them, or remove "
        "them (cleanlab's find_label_issues gives the full list); if relabelling is impossible, train with a "
        "noise-robust loss or label smoothing.",
        impact=float(min(1.0, max(0.0, excess) / max(rate_te + excess, 1e-9))),
    )]


def _regression_label_noise(ctx) -> list[Finding]:
    """Gross target errors: out-of-fold residuals far beyond what the test residuals show."""
    ref = _train_oof(ctx)
    if ref is None:
        return []
    y = ctx.y_train[ref["rows"]]
    keep = ref["test_keep"]
    yt = ctx.test_y[ref["test_rows"]][keep]
    if len(yt) < 30:
        return []
    r_tr = np.abs(y - ref["oof"])
    r_te = np.abs(yt - ref["test"][keep])
    s = 1.4826 * float(np.median(r_te))  # robust sd of the test residuals (median |r| = 0.6745 sd)
    if s <= 0:
        return []
    fence = 4 * s
    g_tr = int(np.sum(r_tr > fence))
    g_te = int(np.sum(r_te > fence))
    share_tr, share_te = g_tr / len(y), g_te / len(yt)
    p = _two_prop_p(g_tr, len(y), g_te, len(yt))
    if not (share_tr >= 0.03 and share_tr >= 2 * share_te and share_tr - share_te >= 0.03 and p < 0.001):
        return []
    return [Finding(
        "data.label_noise", Severity.WARNING,
        f"About {_pct(share_tr - share_te)} of training targets look wrong: {_pct(share_tr)} of training rows have gross "
        f"out-of-fold errors against {_pct(share_te)} of test rows",
        {"gross_error_share_train": _r(share_tr), "gross_error_share_test": _r(share_te), "gross_threshold": _r(fence),
         "rows_examined": int(len(y)), "reference_model": ref["name"] + ", 5-fold out-of-fold", "p_value": _r(p, 8),
         "example_train_rows": [int(i) for i in ref["rows"][np.flatnonzero(r_tr > fence)[:10]]]},
        "Check the flagged training targets for entry or unit errors and fix or drop them; a robust loss "
        "(Huber / MAE) limits the damage of the ones that remain.",
        impact=float(min(1.0, share_tr)),
    )]


# -- data.duplicates -----------------------------------------------------------------------------
def row_hashes(df, cols: list[str]) -> np.ndarray:
    """A 64-bit hash per row of the given columns (NaN-safe, dtype-insensitive for numbers)."""
    import pandas as pd

    sub = df[cols]
    num = sub.apply(lambda s: pd.to_numeric(s, errors="coerce") if not pd.api.types.is_numeric_dtype(s) else s)
    num = num.astype(np.float64) if all(pd.api.types.is_numeric_dtype(num[c]) for c in cols) else sub
    return pd.util.hash_pandas_object(num, index=False).to_numpy()


def is_discrete_table(df, cols: list[str]) -> bool:
    """True when no column is high-cardinality: then identical rows can occur naturally."""
    n = len(df)
    if n == 0:
        return True
    card = df[cols].nunique(dropna=False).to_numpy()
    return bool(np.all(card < max(20, 0.2 * n)))


def _dups(df, feats: list[str], target: str, classification: bool, y: np.ndarray | None = None) -> dict:
    """Duplicate statistics from row hashes, with one sort per hash array (1M rows: ~0.3 s).

    Identical full rows share their label, so per-class counts come from the unique rows'
    first occurrences; conflicting labels are feature-hash groups holding more than one full-row
    hash, found by a single unique over a combined integer key."""
    h_full = row_hashes(df, feats + [target])
    n = len(df)
    groups = y if (classification and y is not None) else np.zeros(n, dtype=np.int64)
    h_feat = row_hashes(df, feats) if classification else None
    if not _has_repeats(h_full) and (h_feat is None or not _has_repeats(h_feat)):
        # the common case: every row distinct; skip the inverse/count machinery
        labels, sizes = np.unique(np.asarray(groups), return_counts=True)
        return {"rows": n, "duplicate_rows": 0, "share": 0.0, "pairs": 0.0, "conflict_rows": 0,
                "by_group": {int(g): (int(c), 0.0) for g, c in zip(labels, sizes)},
                **({"conflict_groups": 0} if classification else {}), "conflict_share": 0.0}
    u_full, first, inv_full, cnt = np.unique(h_full, return_index=True, return_inverse=True, return_counts=True)
    out = {"rows": n, "duplicate_rows": int(n - len(cnt)), "share": (n - len(cnt)) / n if n else 0.0,
           "pairs": float(np.sum(cnt * (cnt - 1) / 2.0)), "conflict_rows": 0}
    g_unique = np.asarray(groups)[first]
    out["by_group"] = {}
    for g in np.unique(g_unique):
        c = cnt[g_unique == g]
        out["by_group"][int(g)] = (int(c.sum()), float(np.sum(c * (c - 1) / 2.0)))
    if classification:
        uf, inv_feat = np.unique(h_feat, return_inverse=True)
        key = np.sort(inv_feat.astype(np.int64).ravel() * np.int64(len(u_full)) + inv_full.astype(np.int64).ravel())
        key = key[np.r_[True, key[1:] != key[:-1]]]  # sort-based unique: numpy's hash path is slower here
        pair_feat = key // np.int64(len(u_full))
        n_lab = np.bincount(pair_feat, minlength=len(uf))
        conflict = n_lab[inv_feat.ravel()] > 1
        out["conflict_rows"] = int(conflict.sum())
        out["conflict_groups"] = int(np.sum(n_lab > 1))
    out["conflict_share"] = out["conflict_rows"] / n if n else 0.0
    return out


def _has_repeats(h: np.ndarray) -> bool:
    s = np.sort(h)
    return bool((s[1:] == s[:-1]).any())


def _pairs_expected(this: dict, other: dict) -> float:
    """Identical pairs this set would hold at the other set's (smoothed) pair rate, class by class:
    the natural duplicate level of this data (repeated survey answers, coarse values), unaffected
    by a different class mix."""
    total = 0.0
    smooth = 1.0 / max(len(this["by_group"]), 1)  # one pseudo-pair in all
    for g, (n, _) in this["by_group"].items():
        m, pairs = other["by_group"].get(g, (0, 0.0))
        if m < 2:
            m, pairs = other["rows"], other["pairs"]
        if m < 2:
            return math.inf
        total += n * (n - 1) / 2.0 * (pairs + smooth) / (m * (m - 1) / 2.0)
    return total


def check_duplicates(ctx) -> list[Finding]:
    """Exact duplicate rows (features and target) and identical inputs with different labels.

    A set's duplicates count when they are a notable share of its rows and far above the
    natural level, estimated from the other set's rate of identical pairs (with no training data:
    when any feature is high-cardinality, i.e. duplicates cannot arise by chance)."""
    feats, target = list(ctx.inputs.feature_columns), ctx.inputs.target
    sets = {"test": ctx.inputs.test}
    if ctx.has_train:
        sets["train"] = ctx.inputs.train
    ys = {"test": ctx.y_test, "train": ctx.y_train}
    st = {k: _dups(df, feats, target, ctx.is_classification, ys[k]) for k, df in sets.items()}
    if all(v["duplicate_rows"] == 0 and v["conflict_rows"] == 0 for v in st.values()):
        return []
    discrete = is_discrete_table(ctx.inputs.train if ctx.has_train else ctx.inputs.test, feats)
    claims = {}
    for name, v in st.items():
        other = st.get("train" if name == "test" else "test") if len(st) == 2 else None
        if other is not None and other["rows"] >= 30:
            v["expected_pairs"] = _pairs_expected(v, other)
            # a high-cardinality feature makes chance duplicates negligible whatever the other set says
            excess = not discrete or v["pairs"] >= 3 * v["expected_pairs"]
        else:
            v["expected_pairs"] = None
            excess = not discrete
        # identical inputs with different labels: natural in discrete tables (and their rate moves
        # with the class mix), so only claimed when a high-cardinality feature rules chance out
        conf_excess = not discrete
        dup_claim = v["share"] >= 0.05 and v["duplicate_rows"] >= 5 and excess
        conf_claim = ctx.is_classification and v["conflict_share"] >= 0.02 and v["conflict_rows"] >= 5 and conf_excess
        claims[name] = (dup_claim, conf_claim)
    any_dup = [k for k in st if claims[k][0]]
    any_conf = [k for k in st if claims[k][1]]
    if any_conf and not any_dup and "data.label_noise" in ctx.cache.get("data.claims", set()):
        any_conf = []  # conflicting labels on identical inputs: a symptom of the label noise already named
    sev = Severity.WARNING if (any_dup or any_conf) else Severity.INFO
    worst = max(st, key=lambda k: (claims[k][0], st[k]["share"]))
    worst_c = max(st, key=lambda k: (claims[k][1], st[k]["conflict_share"]))
    ev = {"duplicate_rows": {k: st[k]["duplicate_rows"] for k in sorted(st)},
          "duplicate_share": {k: _r(st[k]["share"]) for k in sorted(st)},
          "identical_pairs": {k: int(st[k]["pairs"]) for k in sorted(st)},
          "identical_pairs_expected": {k: _r(st[k]["expected_pairs"], 1) for k in sorted(st)
                                       if st[k]["expected_pairs"] is not None},
          "conflicting_label_rows": {k: st[k]["conflict_rows"] for k in sorted(st)} if ctx.is_classification else None,
          "discrete_features_only": discrete}
    if any_conf and not any_dup:
        title = f"{_pct(st[worst_c]['conflict_share'])} of {worst_c} rows share identical inputs with rows of a different label"
    elif st[worst]["duplicate_rows"]:
        title = f"{_pct(st[worst]['share'])} of {worst} rows are exact duplicates ({st[worst]['duplicate_rows']:,} extra copies)"
        if sev is Severity.INFO:
            title += ("; about the natural level for this data" if st[worst]["expected_pairs"] is not None and
                      st[worst]["share"] >= 0.01 else "")
    else:
        title = f"{st[worst_c]['conflict_rows']:,} {worst_c} rows have identical inputs but different labels"
    conflict_share = st[worst_c]["conflict_share"]
    return [Finding(
        "data.duplicates", sev, title, ev,
        "Remove exact duplicates before splitting (pandas drop_duplicates), so that no row is counted twice in "
        "training or in the metrics; for identical inputs with different labels, check the labels (or add the "
        "missing feature that tells those rows apart).",
        impact=float(min(1.0, conflict_share + 0.1 * st[worst]["share"])),
    )]


# -- data.weak_segment ---------------------------------------------------------------------------
def _leaf_rules(tree, cols: list[str]) -> dict:
    """leaf id -> plain rule text ('worst_area > 1200 and mean_texture <= 18'), from the leaf
    paths of a reportgen.segments.SegmentTree (a threshold of +inf splits missing from present)."""
    rules = {}
    for leaf, path in tree.leaf_paths().items():
        bounds: dict = {}
        for f, op, thr in path:
            lo, hi = bounds.get(f, (None, None))
            if op == "<=":
                bounds[f] = (lo, thr if hi is None else min(hi, thr))
            else:
                bounds[f] = (thr if lo is None else max(lo, thr), hi)
        parts = []
        for f in sorted(bounds, key=lambda f: cols[f]):
            lo, hi = bounds[f]
            name = cols[f]
            if lo == math.inf:
                parts.append(f"{name} is missing")
            elif hi == math.inf:
                parts.append(f"{name} is not missing" if lo is None else f"{name} > {_sig(lo)}")
            elif lo is not None and hi is not None:
                parts.append(f"{_sig(lo)} < {name} <= {_sig(hi)}")
            elif lo is not None:
                parts.append(f"{name} > {_sig(lo)}")
            else:
                parts.append(f"{name} <= {_sig(hi)}")
        rules[leaf] = " and ".join(parts) or "all rows"
    return rules


def _label_mix_expected(err: np.ndarray, y: np.ndarray, mask: np.ndarray, classification: bool) -> float | None:
    """The segment's error if the model erred inside it as it does outside it on rows of the same
    class (classification) or the same target quintile (regression). A model that fails on a
    whole class makes 'the region of that class' look weak; this tells the two apart."""
    groups = y.astype(np.int64) if classification else np.digitize(y, np.quantile(y, [0.2, 0.4, 0.6, 0.8]))
    inside = groups[mask]
    total = 0.0
    for g in np.unique(inside):
        out = (~mask) & (groups == g)
        if out.sum() < 10:
            return None
        total += float(np.sum(inside == g)) * float(err[out].mean())
    return total / max(int(mask.sum()), 1)


def _max_leaf_z(tree, X, err, sd) -> tuple[float, np.ndarray, np.ndarray]:
    leaves = tree.apply(X)
    ids, inv = np.unique(leaves, return_inverse=True)
    cnt = np.bincount(inv)
    mean = np.bincount(inv, weights=err) / cnt
    z = (mean - err.mean()) * np.sqrt(cnt) / sd
    return float(z.max()), ids, leaves


def check_weak_segment(ctx) -> list[Finding]:
    """A region of the inputs where the error is much worse than overall (shallow tree on the error).

    The tree is reportgen.segments' numpy one (sklearn's DecisionTreeRegressor split for split,
    without the ~1 s sklearn import); sklearn is imported only by the reference model, which runs
    when a leaf passes the permutation test."""
    from ..segments import SegmentTree, presort

    err_all = ctx.test_row_error
    n_all = len(err_all)
    cls = ctx.is_classification
    if n_all < 80 or (cls and err_all.sum() < 10):
        return []
    rows = _sampled(ctx, n_all, TREE_ROWS, 61, "The weak-segment search")
    X = _finite(ctx.X_test[ctx.finite_rows][rows])
    err = err_all[rows].astype(np.float64)
    n = len(err)
    overall = float(err.mean())
    sd = float(err.std())
    if overall <= 0 or sd <= 0:
        return []
    min_leaf = int(max(20, 0.03 * n))
    cols = list(ctx.inputs.feature_columns)

    X_sorted = presort(X)  # the same rows for the fit and the permutation refits: sort once

    def fit(e):
        return SegmentTree(max_depth=3, min_samples_leaf=min_leaf).fit(X, e, presorted=X_sorted)

    tree = fit(err)
    z_obs, ids, leaves = _max_leaf_z(tree, X, err, sd)
    if z_obs <= 0:
        return []
    rng = np.random.default_rng(ctx.seed + 62)
    B = TREE_PERMUTATIONS
    exceed = 0
    for _ in range(B):
        e = rng.permutation(err)
        zb, _, _ = _max_leaf_z(fit(e), X, e, sd)
        exceed += zb >= z_obs
    p_perm = (1 + exceed) / (B + 1)
    need = min(2 * overall, (1 + overall) / 2) if cls else 2 * overall
    rules = _leaf_rules(tree, cols)
    segs = []
    for leaf in ids:
        m = leaves == leaf
        e_l = float(err[m].mean())
        if m.sum() >= min_leaf and e_l >= need:
            segs.append({"leaf": int(leaf), "mask": m, "rows": int(m.sum()), "share": float(m.mean()), "error": e_l})
    if not segs or p_perm > 0.05:
        return []
    segs.sort(key=lambda s: -(s["error"] - overall) * s["rows"])
    # is the region learnable? a reference model cross-validated on the test rows
    ref = test_reference(ctx)
    ref_leaves = None
    if ref is not None:
        Xr = _finite(ctx.X_test[ctx.finite_rows][ref["rows"]])
        ref_leaves = tree.apply(Xr)
    for s in segs:
        s["reference_error"] = s["model_error_on_ref_rows"] = s["p_learnable"] = None
        if ref_leaves is not None:
            mr = ref_leaves == s["leaf"]
            if mr.sum() >= 10:
                cmp = compare_errors(ref["model_error"][mr], ref["error"][mr], cls)
                s["reference_error"], s["model_error_on_ref_rows"], s["p_learnable"] = cmp["reference"], cmp["model"], cmp["p"]
    best = segs[0]
    mix_expected = _label_mix_expected(err, ctx.test_y[rows], best["mask"], cls)
    # explained by the label mix: the model fails on those classes / target values everywhere
    by_label_mix = mix_expected is not None and best["error"] <= 1.5 * mix_expected + (0.05 if cls else 0.0)
    # learnable: a simple model does clearly better in the segment, and about as well as the
    # audited model does overall (guards against the selection bias of picking the worst leaf)
    learnable = (best["reference_error"] is not None and best["p_learnable"] < 0.01
                 and best["reference_error"] <= 0.6 * best["model_error_on_ref_rows"]
                 and best["reference_error"] <= 1.5 * overall)
    inherent = best["reference_error"] is not None and not learnable
    n_err_total = float(err.sum())
    explains = float(err[best["mask"]].sum() / n_err_total) if n_err_total > 0 else 0.0
    excess_share = (best["error"] - overall) * best["rows"] / n_err_total if n_err_total else 0.0
    ratio = best["error"] / overall
    if learnable and ratio >= 3 and explains >= 0.3:
        sev = Severity.CRITICAL
    elif learnable or (best["reference_error"] is None and ratio >= 3 and exceed == 0):
        sev = Severity.WARNING
    else:
        sev = Severity.INFO
    # global causes (scaling, imbalance, drift, corrupt values) also make regions fail: then the
    # segment is a symptom. Label noise is not in the list: uniform noise leaves no significant
    # segment, so a segment next to it means the wrong labels are concentrated there.
    causes = sorted(c for c in ctx.cache.get("data.claims", set()) if c not in ("data.weak_segment", "data.label_noise"))
    global_failure = _near_trivial(ctx)
    # do the training data support this region? a quick model fitted on them, scored on the
    # segment's test rows: if it does well where the network fails, the network is at fault
    # (under-trained, too small), not the data; if it fails too, the region is missing or
    # mislabelled in the training data
    train_ref_err = train_supported = None
    tref = _train_oof(ctx) if ctx.has_train else None
    if tref is not None:
        mt = tree.apply(_finite(ctx.X_test[ctx.finite_rows][tref["test_rows"]])) == best["leaf"]
        if mt.sum() >= 10:
            e_ref = row_error_of(ctx, ctx.test_y[tref["test_rows"]], tref["test"])[mt]
            e_mod = ctx.test_row_error[tref["test_rows"]][mt]
            cmp_t = compare_errors(e_mod, e_ref, cls)
            train_ref_err = cmp_t["reference"]
            train_supported = bool(cmp_t["p"] < 0.01 and cmp_t["reference"] <= 0.5 * cmp_t["model"])
    if sev is not Severity.INFO and (by_label_mix or global_failure or train_supported):
        sev = Severity.INFO
    if causes and sev is not Severity.INFO:
        sev = Severity.INFO  # a symptom of a cause already named

    metric = "error rate" if cls else "mean absolute error"
    rule = rules.get(best["leaf"], "?")
    ev = {"segment": rule, "rows": best["rows"], "share_of_rows": _r(best["share"]), "segment_" + metric.replace(" ", "_"): _r(best["error"]),
          "overall_" + metric.replace(" ", "_"): _r(overall), "ratio": _r(ratio, 2), "share_of_all_errors": _r(explains),
          "permutation_p_value": _r(p_perm, 3), "reference_model_error_in_segment": _r(best["reference_error"]),
          "model_error_on_reference_rows": _r(best["model_error_on_ref_rows"]),
          "segments": [{"rule": rules.get(s["leaf"], "?"), "rows": s["rows"], metric.replace(" ", "_"): _r(s["error"]),
                        "reference_error": _r(s["reference_error"])} for s in segs[:3]]}
    title = (f"Weak segment: where {rule} ({best['rows']:,} rows, {_pct(best['share'])}) the {metric} is "
             f"{_sig(best['error'], 3)} vs {_sig(overall, 3)} overall")
    ev["error_expected_from_label_mix"] = _r(mix_expected)
    ev["reference_fitted_on_training_data_error_in_segment"] = _r(train_ref_err)
    if causes:
        ev["likely_symptom_of"] = causes
        title += f" (likely a symptom of {', '.join(causes)})"
        rec = "Fix the causes named in the other findings first, then check whether this segment is still weak."
    elif train_supported:
        title += " (a simple model trained on the same training data handles it: the network, not the data, falls short)"
        rec = ("The training data cover this region, but the network did not learn it: see the model and training "
               "findings (under-training, capacity, learning rate).")
    elif global_failure:
        title += " (the model is no better than a trivial baseline overall: a global failure, not a local one)"
        rec = "Fix the global failure named in the other findings first; this segment only reflects it."
    elif by_label_mix:
        title += (" (explained by its mix of " + ("classes" if cls else "target values")
                  + ": the model errs as much on such rows elsewhere)")
        rec = ("The weakness follows the label, not the region: look at per-class recall (class imbalance, threshold) "
               "or at the range of target values the model under-fits.")
    elif inherent:
        title += " (a reference model struggles there too: a harder region, not necessarily a fault)"
        rec = ("This region is harder for any model: more data or more informative features for it would help; "
               "report the model's performance on it separately.")
    else:
        rec = ("A simple model fitted on held-out rows does much better here, so the network failed to learn this region: "
               "check that the training data covers it (it may be missing or mislabelled there), add or up-weight "
               "such rows, and report performance on this segment separately.")
    ctx.cache["data.weak_segments"] = ev["segments"]
    return [Finding("data.weak_segment", sev, title, ev, rec, impact=float(max(0.0, min(1.0, excess_share))))]


# -- data.drift ----------------------------------------------------------------------------------
def _keras_train_error(ctx, max_rows: int = 2000) -> np.ndarray | None:
    """The audited model's per-row error on a sample of training rows (model mode only)."""
    key = "data.keras_train_error"
    if key in ctx.cache:
        return ctx.cache[key]
    res = None
    if ctx.model is not None and ctx.has_train:
        rows = ctx.sample_indices(len(ctx.y_train), max_rows=max_rows, seed_offset=71)
        X = ctx.X_train[rows]
        ok = np.isfinite(X).all(axis=1)
        if ok.sum() >= 30:
            out = ctx.predict(X[ok], "training")
            fin = np.isfinite(out).all(axis=1) if out.ndim == 2 else np.isfinite(out)
            res = ctx.row_error(ctx.y_train[rows][ok][fin], ctx.as_scores(out[fin]))
    ctx.cache[key] = res
    return res


def _weighted_ks(a: np.ndarray, wa: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic with weights on the first sample; asymptotic p-value with the
    first sample's effective size (sum w)^2 / sum w^2."""
    from scipy import stats

    ok = np.isfinite(a)
    a, wa = a[ok], wa[ok]
    b = b[np.isfinite(b)]
    if len(a) < 5 or len(b) < 5 or wa.sum() <= 0:
        return 0.0, 1.0
    if np.allclose(wa, wa[0]):
        r = stats.ks_2samp(a, b, method="asymp")
        return float(r.statistic), float(r.pvalue)
    grid = np.union1d(a, b)
    oa = np.argsort(a, kind="stable")
    ca = np.cumsum(wa[oa]) / wa.sum()
    Fa = np.concatenate([[0.0], ca])[np.searchsorted(a[oa], grid, side="right")]
    Fb = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    d = float(np.max(np.abs(Fa - Fb)))
    n_eff = wa.sum() ** 2 / np.sum(wa ** 2)
    en = math.sqrt(n_eff * len(b) / (n_eff + len(b)))
    return d, float(stats.kstwobign.sf(d * en))


def drift_stats(ctx) -> dict | None:
    """Per-feature KS train vs test and a cross-validated train-vs-test classifier AUC (cached).

    For classification, training rows are weighted so that the class mix matches the test set:
    a different class mix (label shift, e.g. from an imbalanced training set) is reported by
    data.class_imbalance, and must not show up here as feature drift.
    """
    key = "data.drift"
    if key in ctx.cache:
        return ctx.cache[key]
    if not ctx.has_train:
        ctx.cache[key] = None
        return None
    Xtr, Xte = ctx.X_train, ctx.X_test
    w_all = np.ones(len(Xtr))
    class_tv = None
    if ctx.is_classification:
        k = len(ctx.labels)
        p_tr = np.bincount(ctx.y_train, minlength=k) / len(ctx.y_train)
        p_te = np.bincount(ctx.y_test, minlength=k) / len(ctx.y_test)
        class_tv = float(0.5 * np.abs(p_tr - p_te).sum())
        if class_tv >= 0.05:  # weights only when the mix really differs (weighted fits are slower)
            ratio = np.where(p_tr > 0, p_te / np.where(p_tr > 0, p_tr, 1.0), 0.0)
            w_all = ratio[ctx.y_train]
            if w_all.sum() <= 0:
                w_all = np.ones(len(Xtr))
    ia_ks = _sampled(ctx, len(Xtr), KS_ROWS, 81, "The drift check")
    a, wa = Xtr[ia_ks], w_all[ia_ks]
    b = Xte[_sampled(ctx, len(Xte), KS_ROWS, 82, "The drift check")]
    p_feat = Xtr.shape[1]
    alpha = 0.001 / max(p_feat, 1)
    ks, pv = np.zeros(p_feat), np.ones(p_feat)
    for j in range(p_feat):
        ks[j], pv[j] = _weighted_ks(a[:, j], wa, b[:, j])
    auc, auc_thr, m = None, None, min(len(Xtr), len(Xte), DOMAIN_ROWS)
    if m >= 30:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        rng = np.random.default_rng(ctx.seed + 83)
        ia = rng.choice(len(Xtr), m, replace=False)
        ib = rng.choice(len(Xte), m, replace=False)
        Xd = _finite(np.vstack([Xtr[ia], Xte[ib]]))
        yd = np.r_[np.zeros(m, dtype=np.int64), np.ones(m, dtype=np.int64)]
        wd = np.r_[w_all[ia] * (m / max(w_all[ia].sum(), 1e-12)), np.ones(m)]
        clf = HistGradientBoostingClassifier(max_iter=50, learning_rate=0.1, max_leaf_nodes=15,
                                             min_samples_leaf=int(max(10, min(40, m // 25))), early_stopping=False,
                                             random_state=0)
        weighted = not np.allclose(wd, 1.0)
        with warnings.catch_warnings(), single_thread():
            warnings.simplefilter("ignore")
            pr = cross_val_predict(clf, Xd, yd, cv=StratifiedKFold(5, shuffle=True, random_state=ctx.seed),
                                   method="predict_proba", params={"sample_weight": wd} if weighted else None)[:, 1]
        auc = float(roc_auc_score(yd, pr, sample_weight=wd))
        m_eff = min(m, wd[:m].sum() ** 2 / max(np.sum(wd[:m] ** 2), 1e-12))
        sd = math.sqrt((m_eff + m + 1) / (12.0 * m_eff * m))
        auc_thr = max(0.7, 0.5 + 4 * sd)
    res = {"ks": ks, "p": pv, "alpha": alpha, "auc": auc, "auc_threshold": auc_thr, "rows_per_side": m,
           "drifted": (pv < alpha) & (ks >= 0.1), "class_mix_difference": class_tv}
    ctx.cache[key] = res
    return res


def check_drift(ctx) -> list[Finding]:
    """The test inputs come from a different distribution than the training inputs."""
    st = drift_stats(ctx)
    if st is None:
        return []
    cols = list(ctx.inputs.feature_columns)
    ks, drifted = st["ks"], st["drifted"]
    auc, thr = st["auc"], st["auc_threshold"]
    mv = auc is not None and auc >= thr
    strong_uni = bool(np.any(drifted & (ks >= 0.3)))
    detected = mv or strong_uni
    label_shift = st["class_mix_difference"] is not None and st["class_mix_difference"] >= 0.2
    if not detected and not drifted.any() and not label_shift:
        return []
    order = np.argsort(-ks, kind="stable")
    top = [cols[j] for j in order if drifted[j]][:5]
    # does the model suffer? its test error against its error on training rows
    time_ordered = bool(ctx.inputs.time_column) or ctx.task == "forecast"
    # time-ordered data drift by nature (trend, season): there only a clear loss counts
    factor = 2.0 if time_ordered else 1.5
    hurt, tr_err = None, _keras_train_error(ctx)
    te = ctx.test_row_error
    if tr_err is not None and len(tr_err) >= 30 and len(te) >= 30:
        if ctx.is_classification:
            p = _two_prop_p(int(te.sum()), len(te), int(tr_err.sum()), len(tr_err))
            hurt = bool(te.mean() >= factor * tr_err.mean() + 0.03 and p < 0.01)
        else:
            from scipy import stats
            p = float(stats.mannwhitneyu(te, tr_err, alternative="greater").pvalue)
            hurt = bool(te.mean() >= factor * tr_err.mean() and p < 0.01)
    if not detected:
        sev = Severity.INFO
    elif time_ordered:
        sev = Severity.WARNING if hurt else Severity.INFO
    else:
        sev = Severity.CRITICAL if hurt else Severity.WARNING
    ev = {"train_vs_test_classifier_auc": _r(auc), "auc_threshold": _r(thr), "rows_per_side": st["rows_per_side"],
          "drifted_features": top, "ks_statistic": {cols[j]: _r(ks[j]) for j in order[:5]},
          "ks_significance_level": _r(st["alpha"], 8), "time_ordered": time_ordered,
          "class_mix_difference": _r(st["class_mix_difference"])}
    if ctx.is_classification:
        ev["note"] = "training rows weighted to the test set's class mix before comparing features"
    if tr_err is not None:
        ev["model_error_train"] = _r(float(np.mean(tr_err)))
        ev["model_error_test"] = _r(float(np.mean(te))) if len(te) else None
    if detected:
        what = (f"a classifier tells training from test rows with AUC {auc:.2f}" if mv
                else f"{top[0]} shifted (KS {ks[order[0]]:.2f})")
        title = f"The test data differ from the training data: {what}"
        if top:
            title += f"; most shifted: {', '.join(top[:3])}"
        if hurt:
            title += " - and the model's error is higher on the test rows"
        elif time_ordered and sev is Severity.INFO:
            title += " (expected for time-ordered data; the model's error is not clearly higher)"
    elif top:
        title = f"Small distribution shifts between training and test in {len(top)} feature(s), e.g. {', '.join(top[:3])}"
    else:
        title = (f"The class mix differs between training and test (total variation {st['class_mix_difference']:.2f}); "
                 "the features do not shift beyond that")
    fig = None
    try:
        from ..figures.diagnostics_data import drift_svg
        fig = drift_svg(cols, ks, drifted)
    except Exception:
        if ctx.strict:
            raise
    return [Finding(
        "data.drift", sev, title, ev,
        "Check how the test data were collected (period, source, preprocessing) against the training data; if the "
        "shift is real, retrain on data that represent the deployment conditions (or re-weight training rows by "
        "their similarity to the test data), and monitor the shifted features.",
        impact=float(min(1.0, max(0.0, 2 * ((auc or 0.5) - 0.5)))) if detected else 0.05, figure=fig,
    )]


def _records_claims(check):
    """Remember which causes this family claimed, so a weak segment (a symptom) can defer to them."""
    import functools

    @functools.wraps(check)
    def wrapper(ctx):
        found = check(ctx)
        claims = ctx.cache.setdefault("data.claims", set())
        claims.update(f.code for f in found if f.severity is not Severity.INFO)
        return found

    return wrapper


# weak_segment last: it reads which causes the others claimed
CHECKS = [_records_claims(c) for c in (check_class_imbalance, check_feature_scale, check_outliers, check_missing_values,
                                       check_label_noise, check_duplicates, check_drift)] + [check_weak_segment]


def build_section(ctx):
    """A 'Data diagnostics' section: drift per feature and weak segments, when computed."""
    from ..report import Section, Table

    sec = Section("data_diagnostics", "Data diagnostics")
    st = ctx.cache.get("data.drift")
    cols = list(ctx.inputs.feature_columns)
    if st is not None:
        order = np.argsort(-st["ks"], kind="stable")[:15]
        sec.tables.append(Table(
            "Train vs test shift per feature", ["feature", "KS statistic", "p-value", "shifted"],
            [[cols[j], _r(st["ks"][j]), _r(st["p"][j], 6), "yes" if st["drifted"][j] else ""] for j in order],
            f"Kolmogorov-Smirnov two-sample test on up to {KS_ROWS:,} rows per side; shifted = p below "
            f"{st['alpha']:.1e} (Bonferroni) and KS >= 0.1. A classifier telling training from test rows reached "
            f"AUC {st['auc']:.2f} (0.5 = indistinguishable)." if st["auc"] is not None else ""))
    segs = ctx.cache.get("data.weak_segments")
    if segs:
        key = "error_rate" if ctx.is_classification else "mean_absolute_error"
        sec.tables.append(Table("Weak segments", ["segment", "rows", key.replace("_", " "), "reference model"],
                                [[s["rule"], s["rows"], s[key], s["reference_error"]] for s in segs],
                                "Regions found by a depth-3 tree fitted to the per-row error."))
    return sec if sec.tables else None
