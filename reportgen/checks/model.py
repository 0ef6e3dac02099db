"""model.* checks: measured gradients and unit activity per layer, and the fit of the output
layer to the loss and the task.

What is measured (once, cached in ``ctx.cache["layer_stats"]``, reused by the report section):
on a deterministic sample of at most 2,000 training rows (test rows when no training data is
given), one forward + backward pass with ``tf.GradientTape`` of the model's compiled loss gives

* per layer with a kernel: the norm of the loss gradient w.r.t. its kernel(s), the kernel norm and
  their ratio (the *relative* gradient: how large a step the gradient asks for, whatever the
  layer's size or scale);
* per hidden activation: the gradient w.r.t. its output (the back-propagated signal, RMS per
  entry), the share of ReLU units that never activate (dead units) and the share of
  sigmoid/tanh outputs where the derivative has fallen below ~3% of its maximum (|z| > 5 for
  sigmoid, |z| > 2.5 for tanh: saturation).

Thresholds are relative (layer to layer, gradient to weight, output to target range) so they
hold across data sets and model sizes, and a ``critical`` needs two kinds of evidence (the
measurement and the training history or the test results).
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..findings import Finding, Severity

MAX_ROWS = 2000
RELU_LIKE = {"relu", "relu6"}
# derivative below ~3% of its maximum: sigmoid |z| > 5  <=>  tanh |z| > 2.5
SAT_SIGMOID = 1.0 / (1.0 + math.exp(5.0))  # 0.0067: outputs this close to 0 or 1
SAT_TANH = math.tanh(2.5)  # 0.9866
SATURATING = {"sigmoid", "tanh", "hard_sigmoid", "hard_tanh"}
RECURRENT = {"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}
ADAM_LIKE = {"Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Lion", "Ftrl", "Lamb"}

LOSS_ALIASES = {
    "mse": "mse", "mean_squared_error": "mse", "meansquarederror": "mse",
    "mae": "mae", "mean_absolute_error": "mae", "meanabsoluteerror": "mae",
    "mape": "mape", "mean_absolute_percentage_error": "mape",
    "msle": "msle", "mean_squared_logarithmic_error": "msle",
    "binary_crossentropy": "binary_crossentropy", "bce": "binary_crossentropy",
    "binarycrossentropy": "binary_crossentropy",
    "binary_focal_crossentropy": "binary_focal_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy", "cce": "categorical_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "categorical_focal_crossentropy": "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "huber": "huber", "huber_loss": "huber", "log_cosh": "log_cosh", "logcosh": "log_cosh",
    "hinge": "hinge", "squared_hinge": "squared_hinge", "categorical_hinge": "categorical_hinge",
    "kl_divergence": "kl_divergence", "kld": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "poisson": "poisson",
}
CROSSENTROPY = {"binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
                "categorical_focal_crossentropy", "sparse_categorical_crossentropy"}
REGRESSION_LOSSES = {"mse", "mae", "mape", "msle", "huber", "log_cosh", "poisson"}


def _r(x, nd=4):
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return float(f"{x:.{nd}g}") if x != 0 else 0.0


# -- facts about the model -----------------------------------------------------------------------
def activation_name(layer) -> str | None:
    """The activation a layer applies to its output ('relu', 'sigmoid', ...), None if none."""
    kind = type(layer).__name__
    if kind == "ReLU":
        slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
        return "relu" if slope == 0 else "leaky_relu"
    if kind in ("Softmax",):
        return "softmax"
    if kind in ("LeakyReLU", "PReLU", "ELU"):
        return kind.lower()
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    name = getattr(act, "__name__", None) or type(act).__name__
    return str(name).lower()


def learning_rate(model) -> float | None:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    try:
        lr = getattr(opt, "inner_optimizer", opt).learning_rate
        val = float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr))
        # float32 storage turns 1e-4 into 9.99999975e-05: round back to what the user wrote
        return float(f"{val:.6g}") if math.isfinite(val) else None
    except Exception:
        return None


def optimizer_name(model) -> str | None:
    opt = getattr(model, "optimizer", None)
    opt = getattr(opt, "inner_optimizer", opt)  # mixed precision wraps the real optimizer
    return type(opt).__name__ if opt is not None else None


def loss_info(ctx) -> dict[str, Any]:
    """Name (normalised), from_logits and the callable of the model's compiled loss.

    Falls back to the usual loss for the task when the model is not compiled (``assumed``)."""
    if "loss_info" in ctx.cache:
        return ctx.cache["loss_info"]
    from .._tf import keras

    model = ctx.model
    obj = getattr(model, "loss", None) if model is not None else None
    if isinstance(obj, (list, tuple)) and len(obj) == 1:
        obj = obj[0]
    if isinstance(obj, dict) and len(obj) == 1:
        obj = next(iter(obj.values()))
    assumed = False
    from_logits = False
    fn = None
    name = None
    if isinstance(obj, str):
        name = obj
        try:
            fn = keras.losses.get(obj)
        except Exception:
            fn = None
    elif obj is not None and callable(obj):
        fn = obj
        name = getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__
        try:
            cfg = obj.get_config() if hasattr(obj, "get_config") else {}
            from_logits = bool(cfg.get("from_logits", False))
            inner = cfg.get("fn")
            if isinstance(inner, str) and not name:
                name = inner
        except Exception:
            pass
    if fn is None:
        assumed = True
        width = _output_width(model) if model is not None else (2 if ctx.task == "multiclass" else 1)
        if ctx.task == "binary" and width == 1:
            name = "binary_crossentropy"
        elif ctx.is_classification:
            name = "sparse_categorical_crossentropy"
        else:
            name = "mse"
        fn = keras.losses.get(name)
    key = str(name).lower().replace(" ", "")
    norm = LOSS_ALIASES.get(key) or LOSS_ALIASES.get(key.replace("_", "")) or key
    info = {"name": norm, "raw_name": str(name), "from_logits": from_logits, "fn": fn, "assumed": assumed}
    ctx.cache["loss_info"] = info
    return info


def _output_width(model) -> int:
    from ..inputs import model_output_width

    return model_output_width(model)


def _output_act(model) -> str:
    from ..inputs import output_activation

    return (output_activation(model) or "linear").lower()


def format_targets(ctx, y: np.ndarray, info: dict, width: int) -> np.ndarray | None:
    """Encoded labels in the form the compiled loss expects (sparse, one-hot or float column)."""
    name = info["name"]
    if ctx.is_classification:
        y = np.asarray(y, dtype=np.int64)
        if "sparse" in name:
            return y.astype(np.int32)
        if width > 1:
            out = np.zeros((len(y), width), dtype=np.float32)
            ok = (y >= 0) & (y < width)
            out[np.flatnonzero(ok), y[ok]] = 1.0
            return out
        return y.astype(np.float32).reshape(-1, 1)
    y = np.asarray(y, dtype=np.float32)
    if width == 1:
        return y.reshape(-1, 1)
    return np.repeat(y.reshape(-1, 1), width, axis=1)


def loss_value(ctx, y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """The compiled loss (mean over rows) of model outputs `y_pred` against encoded labels."""
    from .._tf import keras

    info = loss_info(ctx)
    width = y_pred.shape[1] if y_pred.ndim == 2 else 1
    yt = format_targets(ctx, y_true, info, width)
    if yt is None:
        return None
    yp = np.asarray(y_pred, dtype=np.float32).reshape(len(y_pred), -1)
    try:
        val = keras.ops.mean(info["fn"](yt, yp))
        return float(np.asarray(val))
    except Exception:
        return None


# -- the measurement -----------------------------------------------------------------------------
def _kernels(layer) -> list:
    out = []
    for w in getattr(layer, "trainable_weights", []):
        path = str(getattr(w, "path", None) or getattr(w, "name", ""))
        leaf = path.rsplit("/", 1)[-1].split(":")[0]
        if leaf.endswith("kernel"):
            out.append(w)
    return out


def _init_scale2(w) -> float:
    """Squared norm of a He-initialised kernel of this shape (variance 2 / fan_in)."""
    shape = tuple(int(d) for d in w.shape)
    if len(shape) < 2:
        return 0.0
    fan_in = int(np.prod(shape[:-1]))
    return float(np.prod(shape)) * 2.0 / max(fan_in, 1)


def _row_budget(model) -> int:
    """At most 2,000 rows; fewer for recurrent models on long windows (their backward pass costs
    rows x time steps), so the measurement stays around a second."""
    from ..inputs import model_input_shape

    if not any(type(l).__name__ in RECURRENT for l in model.layers):
        return MAX_ROWS
    shape = model_input_shape(model)
    steps = shape[0] if len(shape) >= 2 and shape[0] > 0 else 50
    return int(max(300, min(MAX_ROWS, 40_000 // max(steps, 1))))


def _sample(ctx) -> tuple[np.ndarray, np.ndarray, str]:
    if ctx.has_train:
        X, y, source = ctx.X_train, ctx.y_train, "training"
    else:
        X, y, source = ctx.X_test, ctx.y_test, "test"
    ok = np.isfinite(X).all(axis=1)
    X, y = X[ok], y[ok]
    idx = ctx.sample_indices(len(X), max_rows=_row_budget(ctx.model), seed_offset=21)
    return X[idx], y[idx], source


def layer_stats(ctx) -> dict[str, Any] | None:
    """Gradients and activation statistics per layer, measured once (see the module docstring)."""
    if "layer_stats" in ctx.cache:
        return ctx.cache["layer_stats"]
    if ctx.model is None:
        return None
    started = time.perf_counter()
    X, y, source = _sample(ctx)
    stats: dict[str, Any] = {"rows": int(len(X)), "source": source, "layers": [], "hidden": [],
                             "nonfinite_weight_layers": [], "nonfinite_grad_layers": []}
    ctx.cache["layer_stats"] = stats
    if len(X) == 0:
        return stats
    try:
        _measure(ctx, stats, X, y)
    except Exception as exc:  # an exotic model must not cost the user the rest of the audit
        if ctx.strict:
            raise
        stats.update({"layers": [], "hidden": []})
        ctx.note(f"gradients and activations could not be measured: {type(exc).__name__}: {str(exc)[:150]}")
    stats["seconds"] = time.perf_counter() - started
    return stats


def _measure(ctx, stats: dict[str, Any], X: np.ndarray, y: np.ndarray) -> None:
    from .._tf import keras, tf

    model = ctx.model
    info = loss_info(ctx)
    stats["loss_name"] = info["name"]
    width = _output_width(model)
    Xm = ctx.shape_for_model(X.astype(np.float32))

    # non-finite weights anywhere (trainable or not, e.g. BatchNorm moving statistics)
    bad_w = []
    for layer in model.layers:
        for w in getattr(layer, "weights", []):
            if not np.isfinite(np.asarray(w)).all():
                bad_w.append(layer.name)
                break
    stats["nonfinite_weight_layers"] = bad_w

    # probes: the output of every layer with a kernel (but the last) and of every hidden
    # relu/sigmoid/tanh activation, so one pass gives back-propagated signals and unit statistics
    kernel_layers = [l for l in model.layers if _kernels(l)]
    last_kernel_idx = max((i for i, l in enumerate(model.layers) if _kernels(l)), default=-1)
    probes = []
    for i, layer in enumerate(model.layers):
        if i >= last_kernel_idx:
            continue
        act = activation_name(layer)
        is_act = (act in RELU_LIKE or act in SATURATING) and type(layer).__name__ not in RECURRENT
        if not (is_act or _kernels(layer)):
            continue
        try:
            _ = layer.output
        except Exception:
            continue
        probes.append((layer, act if is_act else None))
    try:
        sub = keras.Model(model.inputs, [l.output for l, _ in probes] + [model.outputs[0]]) if probes else None
    except Exception:
        sub, probes = None, []
    yt = format_targets(ctx, y, info, width)
    kernels = [(l, _kernels(l)) for l in kernel_layers]
    flat_k = [w for _, ks in kernels for w in ks]
    x_t = tf.convert_to_tensor(Xm)
    with tf.GradientTape() as tape:
        if sub is not None:
            outs = sub(x_t, training=False)
            probe_out, y_pred = list(outs[:-1]), outs[-1]
        else:
            probe_out, y_pred = [], model(x_t, training=False)
        y_pred2 = tf.reshape(y_pred, (tf.shape(y_pred)[0], -1))
        loss = tf.reduce_mean(info["fn"](yt, y_pred2))
    grads = tape.gradient(loss, flat_k + probe_out)
    loss_val = float(loss.numpy())
    stats["loss"] = loss_val
    stats["sample_loss"] = loss_val
    stats["sample_pred"] = np.asarray(y_pred2, dtype=np.float64)
    stats["sample_y"] = y
    k_grads, p_grads = grads[:len(flat_k)], grads[len(flat_k):]
    rows = len(Xm)
    out_grad = {}
    for (layer, _), hg in zip(probes, p_grads):
        if hg is not None:
            gv = np.asarray(hg, dtype=np.float64)
            # d(mean loss)/d(h) scales as 1/rows: undo it so the value is per row
            out_grad[layer.name] = float(np.sqrt(np.mean(gv * gv))) * rows if np.isfinite(gv).all() else float("inf")

    pos = 0
    for layer, ks in kernels:
        g2 = w2 = ref2 = 0.0
        n = 0
        finite = True
        for w in ks:
            ref2 += _init_scale2(w)
            g = k_grads[pos]
            pos += 1
            wv = np.asarray(w, dtype=np.float64)
            gv = np.zeros_like(wv) if g is None else np.asarray(g, dtype=np.float64)
            finite &= bool(np.isfinite(gv).all() and np.isfinite(wv).all())
            g2 += float(np.sum(gv * gv)) if np.isfinite(gv).all() else float("inf")
            w2 += float(np.sum(wv * wv)) if np.isfinite(wv).all() else float("inf")
            n += wv.size
        gn, wn = math.sqrt(g2), math.sqrt(w2)
        stats["layers"].append({
            "name": layer.name, "type": type(layer).__name__, "activation": activation_name(layer) or "linear",
            "params": int(layer.count_params()), "kernel_size": int(n),
            "grad_norm": gn, "weight_norm": wn,
            "grad_rms": gn / math.sqrt(max(n, 1)),
            "relative_grad": gn / wn if wn > 0 and math.isfinite(wn) else float("nan"),
            # kernel norm relative to a He-initialised kernel of the same shape
            "weight_growth": wn / math.sqrt(ref2) if ref2 > 0 else float("nan"),
            "out_grad_rms": out_grad.get(layer.name),
            "finite": finite,
        })
    stats["nonfinite_grad_layers"] = [d["name"] for d in stats["layers"] if not math.isfinite(d["grad_norm"])]

    for (layer, act), h in zip(probes, probe_out):
        if act is None:
            continue
        hv = np.asarray(h, dtype=np.float64)
        units = hv.shape[-1] if hv.ndim > 1 else 1
        hv2 = hv.reshape(hv.shape[0], -1, units)
        entry: dict[str, Any] = {"name": layer.name, "type": type(layer).__name__, "activation": act,
                                 "units": int(units), "out_grad_rms": out_grad.get(layer.name)}
        if act in RELU_LIKE:
            active_rows = (hv2 > 0).any(axis=1).mean(axis=0)  # per unit: share of rows where it fires
            entry["dead_share"] = float(np.mean(active_rows <= 0.01))
            entry["dead_units"] = int(np.sum(active_rows <= 0.01))
            entry["zero_share"] = float(np.mean(hv2 <= 0))
        else:
            if act in ("sigmoid", "hard_sigmoid"):
                sat = (hv2 < SAT_SIGMOID) | (hv2 > 1 - SAT_SIGMOID)
            else:
                sat = np.abs(hv2) > SAT_TANH
            entry["saturated_share"] = float(np.mean(sat))  # share of entries (rows x units)
            entry["saturated_units"] = float(np.mean(sat.reshape(-1, units).mean(axis=0) >= 0.9))
        stats["hidden"].append(entry)
    # generalisation gap: the same loss on a sample of test rows
    try:
        te_idx = ctx.sample_indices(int(ctx.finite_rows.sum()), max_rows=MAX_ROWS, seed_offset=22)
        out = ctx.test_output[ctx.finite_rows][te_idx]
        out = out.reshape(len(out), -1)
        stats["test_sample_loss"] = loss_value(ctx, ctx.test_y[te_idx], out)
    except Exception:
        pass


# -- reference points: the trivial predictor and a quick simple model ----------------------------
def _labels_for_reference(ctx) -> tuple[np.ndarray, np.ndarray, str]:
    if ctx.has_train:
        X, y, which = ctx.X_train, ctx.y_train, "training"
    else:
        X, y, which = ctx.X_test, ctx.y_test, "test"
    ok = np.isfinite(X).all(axis=1)
    return X[ok], y[ok], which


def _as_model_output(ctx, proba_or_value: np.ndarray, width: int) -> np.ndarray:
    """Class probabilities (n, K) or regression values (n,) -> the model's output format."""
    info = loss_info(ctx)
    if ctx.is_classification:
        p = np.clip(np.asarray(proba_or_value, dtype=np.float64), 1e-7, 1 - 1e-7)
        if width == 1:
            p1 = p[:, 1] if p.ndim == 2 and p.shape[1] > 1 else p.reshape(-1)
            return (np.log(p1 / (1 - p1)) if info["from_logits"] else p1).reshape(-1, 1)
        if p.shape[1] < width:
            p = np.hstack([p, np.full((len(p), width - p.shape[1]), 1e-7)])
        p = p[:, :width]
        return np.log(p) if info["from_logits"] else p
    v = np.asarray(proba_or_value, dtype=np.float64).reshape(-1, 1)
    return np.repeat(v, width, axis=1) if width > 1 else v


def _width(ctx) -> int:
    if ctx.model is not None:
        return _output_width(ctx.model)
    out = ctx.test_output
    return out.shape[1] if out.ndim == 2 else 1


def trivial_loss(ctx) -> dict[str, float] | None:
    """The compiled loss of the best constant predictor (class priors / mean or median), and of an
    untrained-looking one (uniform probabilities / zero), on the training labels."""
    if "trivial_loss" in ctx.cache:
        return ctx.cache["trivial_loss"]
    res = None
    try:
        _, y, which = _labels_for_reference(ctx)
        width = _width(ctx)
        n = len(y)
        if n:
            if ctx.is_classification:
                k = max(len(ctx.labels), width, 2)
                prior = np.bincount(y, minlength=k)[:k] / n
                const = _as_model_output(ctx, np.tile(prior, (n, 1)), width)
                uniform = _as_model_output(ctx, np.full((n, k), 1.0 / k), width)
                best = loss_value(ctx, y, const)
                start = loss_value(ctx, y, uniform)
            else:
                cands = [loss_value(ctx, y, _as_model_output(ctx, np.full(n, f(y)), width)) for f in (np.mean, np.median)]
                cands = [c for c in cands if c is not None]
                best = min(cands) if cands else None
                start = loss_value(ctx, y, _as_model_output(ctx, np.zeros(n), width))
            if best is not None and math.isfinite(best) and best > 0:
                res = {"loss": float(best), "untrained_loss": float(start) if start is not None else float(best),
                       "labels": which}
    except Exception:
        res = None
    ctx.cache["trivial_loss"] = res
    return res


def _one_thread():
    """Small fits run fastest on one thread: OpenMP/BLAS thread pools spin-wait badly when the
    cores are shared (seen here: a 0.5 s tree fit taking 40 s on a busy 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1)
    except Exception:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()


def reference_fit(ctx, nonlinear: bool = False) -> dict[str, Any] | None:
    """A quick simple model (logistic/ridge regression on standardised inputs, or gradient-boosted
    trees) fitted on 70% of a training sample and scored on the other 30%, in the model's own
    loss: what the data allows without a neural network."""
    key = "reference_nonlinear" if nonlinear else "reference_linear"
    if key in ctx.cache:
        return ctx.cache[key]
    res = None
    try:
        with _one_thread():
            res = _reference_fit(ctx, nonlinear)
    except Exception as exc:  # a reference is corroboration only; never fail a check for it
        ctx.note(f"the quick reference model could not be fitted: {type(exc).__name__}")
    ctx.cache[key] = res
    return res


def _reference_fit(ctx, nonlinear: bool) -> dict[str, Any] | None:
    from sklearn.model_selection import train_test_split

    X, y, which = _labels_for_reference(ctx)
    if len(y) < 30:
        return None
    idx = ctx.sample_indices(len(y), max_rows=MAX_ROWS, seed_offset=23)
    X, y = X[idx], y[idx]
    strat = None
    if ctx.is_classification:
        counts = np.bincount(y)
        if (counts[counts > 0] >= 2).all() and (counts > 0).sum() >= 2:
            strat = y
        if (counts > 0).sum() < 2:
            return None
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.3, random_state=ctx.seed, stratify=strat)
    started = time.perf_counter()
    width = _width(ctx)
    if ctx.is_classification:
        if nonlinear:
            from sklearn.ensemble import HistGradientBoostingClassifier

            # a budget of ~120 trees in all (one per class per iteration), so 10 classes stay fast
            k_eff = len(np.unique(ya)) if len(np.unique(ya)) > 2 else 1
            iters = max(10, 120 // k_eff)
            est = HistGradientBoostingClassifier(max_iter=iters, learning_rate=0.15 if iters >= 40 else 0.3,
                                                 max_leaf_nodes=15, early_stopping=False, random_state=ctx.seed)
            kind = "gradient-boosted trees"
        else:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
            kind = "logistic regression"
        est.fit(Xa, ya)
        k = max(len(ctx.labels), width, 2)
        proba = np.full((len(Xb), k), 0.0)
        proba[:, est.classes_] = est.predict_proba(Xb)
        out = _as_model_output(ctx, proba, width)
        score = float(np.mean(np.argmax(proba, axis=1) == yb))
        metric = "accuracy"
    else:
        if nonlinear:
            from sklearn.ensemble import HistGradientBoostingRegressor

            est = HistGradientBoostingRegressor(max_iter=80, learning_rate=0.15, max_leaf_nodes=15,
                                                early_stopping=False, random_state=ctx.seed)
            kind = "gradient-boosted trees"
        else:
            from sklearn.linear_model import RidgeCV
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            est = make_pipeline(StandardScaler(), RidgeCV(alphas=(0.1, 1.0, 10.0)))
            kind = "ridge regression"
        est.fit(Xa, ya)
        pred = est.predict(Xb)
        out = _as_model_output(ctx, pred, width)
        var = float(np.var(yb))
        score = float(1 - np.mean((yb - pred) ** 2) / var) if var > 0 else None
        metric = "r2"
    loss = loss_value(ctx, yb, out)
    if loss is None or not math.isfinite(loss):
        return None
    return {"kind": kind, "loss": loss, "metric": metric, "score": score, "rows": int(len(y)),
            "heldout_rows": int(len(yb)), "labels": which, "seconds": time.perf_counter() - started}


def learning_curve(ctx) -> dict[str, Any] | None:
    """Does a simple model still gain from more rows? The linear reference fitted on half and on
    all of its 70% split, scored on the same 30%: a steep gain means the data set is small for the
    problem (high variance), whatever the network."""
    if "learning_curve" in ctx.cache:
        return ctx.cache["learning_curve"]
    res = None
    try:
        with _one_thread():
            res = _learning_curve(ctx)
    except Exception:
        res = None
    ctx.cache["learning_curve"] = res
    return res


def _learning_curve(ctx) -> dict[str, Any] | None:
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if not ctx.has_train:
        return None
    X, y, _ = _labels_for_reference(ctx)
    if len(y) < 40 or len(y) > MAX_ROWS:
        return None  # on a sample of a larger set the curve would describe the sample, not the data
    idx = ctx.sample_indices(len(y), max_rows=MAX_ROWS, seed_offset=23)
    X, y = X[idx], y[idx]
    strat = y if ctx.is_classification and (np.bincount(y)[np.bincount(y) > 0] >= 4).all() else None
    repeats = 3 if len(y) <= 1000 else 1  # small held-out sets are noisy: average a few splits
    scores = np.zeros((repeats, 2))
    for r in range(repeats):
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.3, random_state=ctx.seed + r, stratify=strat)
        for j, frac in enumerate((0.5, 1.0)):
            m = max(10, int(len(ya) * frac))
            Xs, ys = Xa[:m], ya[:m]
            if ctx.is_classification:
                from sklearn.linear_model import LogisticRegression

                if len(np.unique(ys)) < 2:
                    return None
                est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(Xs, ys)
                scores[r, j] = float(np.mean(est.predict(Xb) == yb))
            else:
                from sklearn.linear_model import RidgeCV

                est = make_pipeline(StandardScaler(), RidgeCV(alphas=(0.1, 1.0, 10.0))).fit(Xs, ys)
                var = float(np.var(yb))
                if var <= 0:
                    return None
                scores[r, j] = float(1 - np.mean((yb - est.predict(Xb)) ** 2) / var)
    half, full = scores.mean(axis=0)
    return {"metric": "accuracy" if ctx.is_classification else "r2", "half_rows": int(max(10, len(ya) // 2)),
            "all_rows": int(len(ya)), "score_half": float(half), "score_all": float(full), "gain": float(full - half),
            "repeats": repeats}


def best_reference(ctx, need_below: float | None = None) -> dict[str, Any] | None:
    """The linear reference; the tree reference too when the linear one does not get the loss
    below `need_below` (so the slower fit only runs when it can change a verdict)."""
    lin = reference_fit(ctx)
    if lin is not None and need_below is not None and lin["loss"] <= need_below:
        return lin
    tree = reference_fit(ctx, nonlinear=True)
    cands = [r for r in (lin, tree) if r is not None]
    return min(cands, key=lambda r: r["loss"]) if cands else None


def sample_metric(ctx, which: str = "train") -> float | None:
    """Accuracy (classification) or R^2 (regression) of the model on the measured training
    sample ('train') or on the test rows ('test')."""
    if which == "test":
        m = ctx.test_metrics.values
        return m.get("accuracy") if ctx.is_classification else m.get("r2")
    st = layer_stats(ctx)
    if not st or "sample_pred" not in st:
        return None
    pred, y = st["sample_pred"], st["sample_y"]
    if ctx.is_classification:
        scores = ctx.as_scores(pred[:, 0] if pred.shape[1] == 1 else pred)
        ok = np.isfinite(scores).all(axis=1) if scores.ndim == 2 else np.isfinite(scores)
        if not ok.any():
            return None
        cls = (scores[ok] >= 0.5).astype(np.int64) if scores.ndim == 1 else np.argmax(scores[ok], axis=1)
        return float(np.mean(cls == y[ok]))
    p = pred[:, 0]
    ok = np.isfinite(p)
    var = float(np.var(y[ok])) if ok.any() else 0.0
    return float(1 - np.mean((y[ok] - p[ok]) ** 2) / var) if var > 0 else None


# -- signals shared by several checks ------------------------------------------------------------
def weight_growth_signal(ctx) -> dict[str, Any] | None:
    """Hidden kernels (all but the output layer, which legitimately grows with the target's
    scale) far larger than at initialisation: the trace exploding updates leave in the weights."""
    st = layer_stats(ctx)
    if not st or len(st["layers"]) < 2:
        return None
    hidden = [d for d in st["layers"][:-1] if math.isfinite(d["weight_growth"])]
    if not hidden:
        return None
    top = max(hidden, key=lambda d: d["weight_growth"])
    return {"max_growth": top["weight_growth"], "layer": top["name"], "huge": top["weight_growth"] >= 20.0}


def vanishing_signal(ctx) -> dict[str, Any] | None:
    """Relative gradient (|grad| / |kernel|) of the early layers against the last layers."""
    if "sig_vanishing" in ctx.cache:
        return ctx.cache["sig_vanishing"]
    res = None
    st = layer_stats(ctx)
    if st and len(st["layers"]) >= 4 and not st["nonfinite_grad_layers"] and not st["nonfinite_weight_layers"]:
        rel = [d["relative_grad"] for d in st["layers"]]
        if all(math.isfinite(r) for r in rel):
            ref = max(rel[-2:])
            half = max(1, (len(rel) - 1) // 2)
            early = rel[:half]
            i_min = int(np.argmin(early))
            if ref > 0:
                ratio = early[i_min] / ref
                # the typical early layer too, so one odd layer cannot decide
                trend = float(np.median(early)) / ref
                blocked = any(h.get("dead_share", 0) >= 0.95 for h in st["hidden"])
                res = {"ratio": ratio, "trend_ratio": trend, "layer": st["layers"][i_min]["name"],
                       "early_relative_grad": early[i_min], "late_relative_grad": ref,
                       "kernel_layers": len(rel), "blocked_by_dead_units": blocked,
                       "vanishing": bool(ratio < 1e-3 and trend < 1e-2 and not blocked)}
    ctx.cache["sig_vanishing"] = res
    return res


def fit_level(ctx) -> float | None:
    """Measured loss on the training sample over the trivial predictor's loss (1 = learned nothing)."""
    st = layer_stats(ctx)
    triv = trivial_loss(ctx)
    if not st or not triv or st.get("sample_loss") is None or not math.isfinite(st["sample_loss"]):
        return None
    return st["sample_loss"] / triv["loss"]


def stalled(ctx) -> dict[str, Any]:
    """Evidence that the model did not learn: measured fit near the trivial predictor, or a history
    whose best training loss stayed near it."""
    from .training import series

    out: dict[str, Any] = {}
    fl = fit_level(ctx)
    if fl is not None:
        out["train_loss_over_trivial"] = fl
    triv = trivial_loss(ctx)
    loss = series(ctx, "loss")
    if triv and loss is not None and np.isfinite(loss).any():
        out["history_best_over_trivial"] = float(np.nanmin(np.where(np.isfinite(loss), loss, np.nan))) / triv["loss"]
    out["stalled"] = bool((fl is not None and fl >= 0.8) or out.get("history_best_over_trivial", 0) >= 0.8)
    out["poor"] = bool((fl is not None and fl >= 0.5) or out.get("history_best_over_trivial", 0) >= 0.5)
    return out


def _constant_output(ctx) -> bool:
    out = ctx.test_output[ctx.finite_rows]
    if len(out) < 2:
        return False
    out = out.reshape(len(out), -1)
    spread = float(np.max(np.std(out, axis=0)))
    if ctx.is_classification:
        return spread < 1e-3
    scale = float(np.std(ctx.test_y)) or 1.0
    return spread < 1e-3 * scale


def _stall_evidence(s: dict) -> dict[str, Any]:
    return {k: _r(v, 3) for k, v in s.items() if k in ("train_loss_over_trivial", "history_best_over_trivial")}


# -- checks --------------------------------------------------------------------------------------
def check_exploding_gradients(ctx) -> list[Finding]:
    """Non-finite weights or gradients, or hidden weights far beyond their initial scale after a
    loss blow-up or with a very high learning rate."""
    st = layer_stats(ctx)
    if not st or not st["layers"]:
        return []
    from .training import lr_info, unstable_signal

    lr = lr_info(ctx)
    ev: dict[str, Any] = {"rows_measured": st["rows"]}
    if lr.get("lr") is not None:
        ev["learning_rate"] = _r(lr["lr"])
    rec = ("Lower the learning rate, clip gradients (e.g. clipnorm=1.0), normalise inputs and targets, "
           "and check the initialisation; use batch normalisation in deep networks.")
    bad_w, bad_g = st["nonfinite_weight_layers"], st["nonfinite_grad_layers"]
    if bad_w or bad_g or not math.isfinite(st.get("sample_loss", 0.0)):
        ev.update({"layers_with_nonfinite_weights": bad_w, "layers_with_nonfinite_gradients": bad_g,
                   "loss_on_sample": _r(st.get("sample_loss"))})
        what = "weights" if bad_w else ("gradients" if bad_g else "loss")
        return [Finding("model.exploding_gradients", Severity.CRITICAL,
                        f"The model's {what} are NaN/inf: training blew up", ev, rec, impact=1.0)]
    growth = weight_growth_signal(ctx)
    if not growth:
        return []
    un = unstable_signal(ctx) or {}
    blow = bool(un.get("blowup") or un.get("nonfinite_epoch"))
    layers = st["layers"]
    rel_first, rel_last = layers[0]["relative_grad"], layers[-1]["relative_grad"]
    grad_ratio = rel_first / rel_last if rel_last > 0 else float("inf")
    ev.update({"max_weight_growth": _r(growth["max_growth"]), "layer": growth["layer"],
               "first_to_last_relative_gradient": _r(grad_ratio)})
    if blow:
        ev["loss_peak_over_untrained"] = _r(un["peak_loss"] / un["reference_loss"])
    if not growth["huge"]:
        return []
    if not (blow or lr["high"] or growth["max_growth"] >= 100):
        return [Finding("model.exploding_gradients", Severity.INFO,
                        f"Hidden weights are {growth['max_growth']:.0f}x their initial scale in layer {growth['layer']}",
                        ev, rec)]
    sev = Severity.CRITICAL if (blow and (lr["high"] or growth["max_growth"] >= 100)) else Severity.WARNING
    return [Finding("model.exploding_gradients", sev,
                    f"Exploding updates: hidden weights grew to {growth['max_growth']:.0f}x their initial scale "
                    f"(layer {growth['layer']})", ev, rec, impact=0.8 if sev is Severity.CRITICAL else 0.5)]


def check_vanishing_gradients(ctx) -> list[Finding]:
    """Early layers' gradients orders of magnitude below the last layers' (relative to weights)."""
    sig = vanishing_signal(ctx)
    if not sig or not sig["vanishing"]:
        return []
    s = stalled(ctx)
    ev = {"first_layers_relative_gradient": _r(sig["early_relative_grad"]), "layer": sig["layer"],
          "last_layers_relative_gradient": _r(sig["late_relative_grad"]), "ratio": _r(sig["ratio"]),
          "median_ratio_early_to_late": _r(sig["trend_ratio"]), "kernel_layers": sig["kernel_layers"],
          **_stall_evidence(s)}
    sev = Severity.CRITICAL if s["stalled"] else Severity.WARNING
    return [Finding(
        "model.vanishing_gradients", sev,
        f"Vanishing gradients: layer {sig['layer']} receives {sig['ratio']:.1e} of the last layers' relative gradient"
        + (" and the loss stayed near that of a constant prediction" if s["stalled"] else ""),
        ev,
        "Use ReLU-family activations with He initialisation in hidden layers, add batch normalisation or "
        "residual connections, or make the network shallower.",
        impact=0.9 if sev is Severity.CRITICAL else 0.5)]


def check_saturating_activation(ctx) -> list[Finding]:
    """Sigmoid/tanh hidden layers that saturate (derivative < ~3% of its maximum) in a deep network."""
    st = layer_stats(ctx)
    if not st or st.get("nonfinite_weight_layers"):
        return []  # NaN weights: exploding_gradients says it; unit statistics mean nothing
    sat = [h for h in st["hidden"] if "saturated_share" in h and h["type"] not in RECURRENT]
    if not sat:
        return []
    top = max(sat, key=lambda h: h["saturated_share"])
    share = top["saturated_share"]
    van = vanishing_signal(ctx) or {}
    s = stalled(ctx)
    deep = len(sat) >= 3
    measured = share > 0.5
    ev = {"saturating_hidden_layers": len(sat), "max_saturated_share": _r(share, 3), "layer": top["name"],
          "activation": top["activation"], "mean_saturated_share": _r(np.mean([h["saturated_share"] for h in sat]), 3),
          **_stall_evidence(s)}
    if van:
        ev["gradient_ratio_first_to_last"] = _r(van["ratio"])
    rec = ("Use ReLU-family activations (with He initialisation) in hidden layers, normalise the inputs, "
           "add batch normalisation, or lower the learning rate if weights grew large.")
    if deep and (measured or van.get("vanishing")):
        sev = Severity.CRITICAL if (measured and (van.get("vanishing") or s["stalled"])) or (
            van.get("vanishing") and s["stalled"]) else Severity.WARNING
        if measured:
            title = (f"{len(sat)} sigmoid/tanh hidden layers; {share:.0%} of the outputs of {top['name']} are "
                     "saturated (near-zero derivative)")
        else:
            title = (f"{len(sat)} stacked sigmoid/tanh hidden layers shrink the gradient "
                     f"({van['ratio']:.1e} reaches the first layers)")
        return [Finding("model.saturating_activation", sev, title, ev, rec,
                        impact=0.8 if sev is Severity.CRITICAL else 0.5)]
    if measured and share > 0.8 and s["stalled"]:
        return [Finding("model.saturating_activation", Severity.WARNING,
                        f"{share:.0%} of the outputs of {top['name']} are saturated and the model did not learn",
                        ev, rec, impact=0.5)]
    if measured:
        return [Finding("model.saturating_activation", Severity.INFO,
                        f"{share:.0%} of the outputs of {top['name']} are saturated", ev, rec)]
    return []


def check_dead_units(ctx) -> list[Finding]:
    """A large share of ReLU units that output zero for (almost) every row."""
    st = layer_stats(ctx)
    if not st or st.get("nonfinite_weight_layers"):
        return []  # NaN weights: exploding_gradients says it; unit statistics mean nothing
    relu = [h for h in st["hidden"] if "dead_share" in h]
    if not relu:
        return []
    top = max(relu, key=lambda h: h["dead_share"])
    d = top["dead_share"]
    total_units = sum(h["units"] for h in relu)
    overall = sum(h["dead_units"] for h in relu) / max(total_units, 1)
    alive = top["units"] - top["dead_units"]
    s = stalled(ctx)
    const = _constant_output(ctx)
    ev = {"layer": top["name"], "dead_share": _r(d, 3), "dead_units": top["dead_units"], "units": top["units"],
          "overall_dead_share": _r(overall, 3), "relu_layers": len(relu), "rows_measured": st["rows"],
          "constant_output": const, **_stall_evidence(s)}
    rec = ("Lower the learning rate, use He initialisation and zero (not negative) biases, or switch to "
           "LeakyReLU/ELU; normalise the inputs; batch normalisation before the activation also helps.")
    strong = d >= 0.85 or (d >= 0.7 and alive <= 3) or (overall >= 0.6 and len(relu) >= 2)
    if strong or (d >= 0.7 and s["poor"]):
        crit = (d >= 0.95 or overall >= 0.8) and (s["stalled"] or const or s["poor"])
        sev = Severity.CRITICAL if crit else Severity.WARNING
        upstream = data_cause(ctx)
        if upstream and not crit:
            # unscaled inputs push pre-activations far below zero: the data cause comes first
            sev, ev["explained_by"] = Severity.INFO, upstream
        return [Finding("model.dead_units", sev,
                        f"{top['dead_units']} of {top['units']} ReLU units in layer {top['name']} never activate ({d:.0%})",
                        ev, rec, impact=0.9 if crit else 0.5)]
    if d >= 0.4:
        return [Finding("model.dead_units", Severity.INFO,
                        f"{d:.0%} of the ReLU units in layer {top['name']} never activate", ev, rec)]
    return []


def check_output_loss_mismatch(ctx) -> list[Finding]:
    """Output activation or width that does not fit the compiled loss or the task."""
    model = ctx.model
    if model is None:
        return []
    info = loss_info(ctx)
    act = _output_act(model)
    width = _output_width(model)
    k = len(ctx.labels) if ctx.is_classification else None
    loss, logits = info["name"], info["from_logits"]
    known_loss = not info["assumed"]
    base = {"output_activation": act, "output_width": width, "loss": info["raw_name"] if known_loss else None,
            "from_logits": logits, "task": ctx.task}
    if k:
        base["classes"] = k
    out = ctx.test_output[ctx.finite_rows]
    out2 = out.reshape(len(out), -1) if len(out) else out
    issues: list[tuple[Severity, str, dict, str]] = []
    prob_acts = {"sigmoid", "softmax", "hard_sigmoid"}
    if ctx.is_classification:
        if act == "softmax" and width == 1:
            const = bool(len(out) and np.allclose(out2, 1.0))
            issues.append((Severity.CRITICAL if const or known_loss else Severity.WARNING,
                           "Softmax over a single output unit always returns 1.0: the model cannot separate the classes",
                           {"outputs_all_one": const},
                           "Use one sigmoid unit with binary_crossentropy, or softmax over one unit per class "
                           "with (sparse_)categorical_crossentropy."))
        if known_loss and loss in ("binary_crossentropy", "binary_focal_crossentropy"):
            if act not in prob_acts and not logits:
                outside = float(np.mean((out2 < 0) | (out2 > 1))) if len(out) else 0.0
                issues.append((Severity.CRITICAL if outside >= 0.05 else Severity.WARNING,
                               f"A {act} output with binary cross-entropy expecting probabilities (from_logits=False): "
                               "outputs outside [0, 1] are clipped and get no gradient",
                               {"share_of_outputs_outside_0_1": _r(outside, 3)},
                               "Use a sigmoid output, or keep the linear output and compile with "
                               "BinaryCrossentropy(from_logits=True)."))
            elif act == "softmax" and width > 1 and ctx.task == "multiclass":
                issues.append((Severity.WARNING,
                               "Softmax output trained with binary cross-entropy: each class is scored as an "
                               "independent yes/no, which does not fit single-label classes",
                               {}, "Use categorical_crossentropy (one-hot labels) or "
                               "sparse_categorical_crossentropy (integer labels) with the softmax output."))
        if known_loss and loss in ("categorical_crossentropy", "sparse_categorical_crossentropy",
                                   "categorical_focal_crossentropy"):
            if width == 1:
                issues.append((Severity.CRITICAL,
                               f"{info['raw_name']} on a single output unit: the loss cannot tell the classes apart",
                               {}, "Give the output one unit per class with softmax, or use one sigmoid unit with "
                               "binary_crossentropy."))
            elif act not in prob_acts and not logits:
                neg = float(np.mean(out2 < 0)) if len(out) else 0.0
                issues.append((Severity.CRITICAL if neg >= 0.05 else Severity.WARNING,
                               f"A {act} output with {info['raw_name']} expecting probabilities (from_logits=False)",
                               {"share_of_negative_outputs": _r(neg, 3)},
                               "Use a softmax output, or compile the loss with from_logits=True."))
        if known_loss and logits and act in prob_acts:
            issues.append((Severity.WARNING,
                           f"The loss expects logits (from_logits=True) but the output already applies {act}",
                           {}, "Drop the output activation (linear output) or set from_logits=False."))
        if known_loss and loss in REGRESSION_LOSSES:
            issues.append((Severity.INFO,
                           f"A regression loss ({info['raw_name']}) on a classification task",
                           {}, "Cross-entropy usually trains classifiers faster and gives better-calibrated "
                           "probabilities."))
        ys = [ctx.y_test] + ([ctx.y_train] if ctx.has_train else [])
        present = np.unique(np.concatenate(ys))
        n_present = len(present)
        if width > 1 and n_present >= 2 and width > n_present and not (ctx.task == "binary" and width == 2):
            # outputs for classes that never occur: harmful when they still take probability mass
            absent = np.setdiff1d(np.arange(width), present)
            mass = 0.0
            if len(out) and out2.shape[1] == width and absent.size:
                p = ctx.as_scores(out2)
                mass = float(np.mean(p[:, absent].sum(axis=1)))
            issues.append((Severity.WARNING if mass >= 0.05 else Severity.INFO,
                           f"The model has {width} outputs but the data have {n_present} classes",
                           {"classes_in_data": n_present, "mean_probability_on_absent_classes": _r(mass, 3)},
                           "Match the output width to the number of classes (and the label encoding to 0..K-1)."))
    else:
        y = ctx.y_train if ctx.has_train else ctx.y_test
        rng_checks = []
        if act == "softmax":
            issues.append((Severity.CRITICAL, "A softmax output on a regression target: outputs are shares that sum to 1",
                           {}, "Use a linear output for regression."))
        elif act in ("sigmoid", "hard_sigmoid"):
            rng_checks.append(((y < 0) | (y > 1), "[0, 1]"))
        elif act == "tanh":
            rng_checks.append(((y < -1) | (y > 1), "[-1, 1]"))
        elif act in ("relu", "relu6", "softplus", "exponential", "elu", "selu"):
            low = {"elu": -1.0, "selu": -1.7581}.get(act, 0.0)
            rng_checks.append(((y < low), f"[{low:g}, inf)"))
        for mask, interval in rng_checks:
            share = float(np.mean(mask))
            if share >= 0.05:
                issues.append((Severity.CRITICAL if share >= 0.3 else Severity.WARNING,
                               f"A {act} output can only produce values in {interval}, but {share:.0%} of the targets lie outside",
                               {"share_of_targets_out_of_range": _r(share, 3),
                                "target_min": _r(float(np.min(y))), "target_max": _r(float(np.max(y)))},
                               "Use a linear output for regression (or scale the target into the output's range)."))
        if known_loss and loss in CROSSENTROPY:
            outside = float(np.mean((y < 0) | (y > 1)))
            issues.append((Severity.CRITICAL if outside >= 0.05 else Severity.WARNING,
                           f"A cross-entropy loss ({info['raw_name']}) on a regression target",
                           {"share_of_targets_outside_0_1": _r(outside, 3)},
                           "Use mse, mae or huber for regression."))
    return [Finding("model.output_loss_mismatch", sev, title, {**base, **extra}, rec,
                    impact=0.9 if sev is Severity.CRITICAL else (0.5 if sev is Severity.WARNING else None))
            for sev, title, extra, rec in issues]


def data_cause(ctx) -> str | None:
    """A data cause already claimed by the data checks (they run before this family) that
    explains training symptoms: unscaled inputs make ReLUs die, the loss surface ill-conditioned
    and training slow or jumpy."""
    claimed = ctx.cache.get("data.claims") or set()
    return "data.feature_scale" if "data.feature_scale" in claimed else None


def output_mismatch_severe(ctx) -> bool:
    """True when the output layer cannot fit the loss/target at all (a critical mismatch): the
    high or flat loss that follows is its symptom, not a separate cause."""
    if "output_mismatch_severe" not in ctx.cache:
        try:
            found = check_output_loss_mismatch(ctx)
        except Exception:
            found = []
        ctx.cache["output_mismatch_severe"] = any(f.severity is Severity.CRITICAL for f in found)
    return ctx.cache["output_mismatch_severe"]


def _hidden_widths(model) -> list[int]:
    widths = []
    layers = [l for l in model.layers if _kernels(l)]
    for layer in layers[:-1]:
        try:
            shape = layer.output.shape
            widths.append(int(shape[-1]))
        except Exception:
            continue
    return widths


def check_capacity(ctx) -> list[Finding]:
    """A model far too large for the data (and overfitting), or too small (and underfitting)."""
    model = ctx.model
    if model is None or not ctx.has_train:
        return []
    from .training import generalisation_gap, overfit_signal, slow_signal, underfit_signal, unstable_signal

    params = int(model.count_params())
    rows = int(len(ctx.inputs.train))
    n_feat = len(ctx.inputs.feature_columns)
    k = len(ctx.labels) if ctx.is_classification else 1
    outputs = _output_width(model)
    linear_params = (n_feat + 1) * max(1, outputs)
    widths = _hidden_widths(model)
    ev: dict[str, Any] = {"parameters": params, "training_rows": rows, "parameters_per_row": _r(params / max(rows, 1), 3),
                          "hidden_widths": widths[:20], "linear_model_parameters": linear_params}
    findings = []
    # too large: parameters >> rows, and the model memorises (history and/or measured gap)
    of = overfit_signal(ctx) or {}
    gap = generalisation_gap(ctx)
    hist_over = bool(of.get("claimed"))
    big_gap = bool(gap and gap["gap"] >= (0.1 if ctx.is_classification else 0.25))
    # validation curves, when given, decide; the measured gap alone counts only without them
    if params >= 20 * rows and (hist_over or (big_gap and not of)):
        e = dict(ev)
        if of:
            e["val_loss_end_over_min"] = _r(of.get("rise"), 3)
        if gap:
            e[f"train_{gap['metric']}"] = _r(gap["train"], 3)
            e[f"test_{gap['metric']}"] = _r(gap["test"], 3)
        sev = Severity.CRITICAL if (hist_over and big_gap) else Severity.WARNING
        findings.append(Finding(
            "model.capacity", sev,
            f"The model is far too large for the data: {params:,} parameters for {rows:,} training rows, and it overfits",
            e, "Use a smaller network (fewer/narrower layers), add dropout or weight decay, stop early, "
               "or collect more data.", impact=0.8 if sev is Severity.CRITICAL else 0.5))
        return findings
    # too small: underfits although the data is learnable, on a plateau, with a narrow model
    uf = underfit_signal(ctx) or {}
    if not uf.get("underfit"):
        return findings
    slow = slow_signal(ctx) or {}
    un = unstable_signal(ctx) or {}
    if slow.get("still_falling") or slow.get("barely_moved") or un.get("diverging") or un.get("oscillating") \
            or un.get("nonfinite_epoch"):
        return findings
    bottleneck = min(widths) if widths else None
    narrow = bottleneck is not None and (bottleneck < max(3, k if k > 2 else 0) or bottleneck <= 2)
    tiny = params <= 3 * linear_params
    if not widths:
        lin, tree = reference_fit(ctx), reference_fit(ctx, nonlinear=True)
        tiny = bool(lin and tree and tree["loss"] <= 0.7 * lin["loss"])
    if not (narrow or tiny):
        return findings
    ev.update({"narrowest_hidden_layer": bottleneck, "train_loss_over_trivial": _r(uf.get("ratio_to_trivial"), 3)})
    if uf.get("reference"):
        ev["train_loss_over_reference"] = _r(uf.get("train_over_reference"), 3)
        ev["reference_model"] = uf["reference"]["kind"]
    sev = Severity.CRITICAL if (uf.get("stays_near_trivial") and uf.get("worse_than_reference")) else Severity.WARNING
    what = f"a {bottleneck}-unit hidden layer" if narrow else f"only {params:,} parameters"
    findings.append(Finding(
        "model.capacity", sev, f"The model is too small for the problem ({what}) and underfits",
        ev, "Widen the narrow layer(s) or add a layer; check the model fits the training data before regularising.",
        impact=0.7 if sev is Severity.CRITICAL else 0.5))
    return findings


CHECKS = [
    check_exploding_gradients,
    check_vanishing_gradients,
    check_saturating_activation,
    check_dead_units,
    check_output_loss_mismatch,
    check_capacity,
]



# -- report section --------------------------------------------------------------------------------
def build_section(ctx):
    """'Model diagnostics': per-layer gradient norms and unit activity, with two figures."""
    if ctx.model is None:
        return None
    st = layer_stats(ctx)
    if not st or not st.get("layers"):
        return None
    from ..figures.diagnostics import gradient_norms_svg, unit_health_svg
    from ..report import FigureBlock, Section, Table

    sec = Section("diagnostics", "Model diagnostics")
    info = loss_info(ctx)
    sec.paragraphs.append(
        f"Measured with one forward and backward pass of the {'assumed ' if info['assumed'] else ''}loss "
        f"({info['raw_name']}) on {st['rows']:,} {st['source']} rows. The relative gradient is the gradient "
        "norm divided by the kernel norm; weight growth compares the kernel with a freshly initialised one. "
        "A ReLU unit is dead when it outputs zero for at least 99% of the rows; a sigmoid/tanh output is "
        "saturated when its derivative is below ~3% of its maximum.")
    kern = {d["name"]: d for d in st["layers"]}
    hid = {h["name"]: h for h in st["hidden"]}
    rows = []
    for layer in ctx.model.layers:
        d, h = kern.get(layer.name), hid.get(layer.name)
        if d is None and h is None:
            continue
        rows.append([
            layer.name, type(layer).__name__, (d or h)["activation"], int(layer.count_params()),
            None if d is None else _r(d["grad_norm"]), None if d is None else _r(d["relative_grad"]),
            None if d is None else _r(d["weight_growth"], 3),
            None if h is None or "dead_share" not in h else _r(h["dead_share"], 3),
            None if h is None or "saturated_share" not in h else _r(h["saturated_share"], 3),
        ])
    sec.tables.append(Table("Per-layer measurements",
                            ["layer", "type", "activation", "parameters", "gradient norm", "relative gradient",
                             "weight growth", "dead share", "saturated share"], rows,
                            "Gradients of the loss with respect to each layer's kernel(s); shares over the measured rows."))
    van = vanishing_signal(ctx) or {}
    names = [d["name"] for d in st["layers"]]
    norms = [d["grad_norm"] for d in st["layers"]]
    hl = [bool(van.get("vanishing") and n == van.get("layer")) or not math.isfinite(v) for n, v in zip(names, norms)]
    sec.figures.append(FigureBlock("gradient_norms", "Gradient norm per layer", gradient_norms_svg(names, norms, hl),
                                   "Norm of the loss gradient for each layer's kernel, input side first (log scale). "
                                   "Early layers orders of magnitude below the last ones mean vanishing gradients."))
    if st["hidden"]:
        sec.figures.append(FigureBlock(
            "unit_health", "Dead and saturated units per layer",
            unit_health_svg([h["name"] for h in st["hidden"]], [h.get("dead_share") for h in st["hidden"]],
                            [h.get("saturated_share") for h in st["hidden"]]),
            "Share of ReLU units that never activate, and of sigmoid/tanh outputs in the flat tails, per hidden layer."))
    return sec
