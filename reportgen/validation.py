"""Cross-validation by retraining fresh copies of the user's model: `cross_validate(ctx)`.

What a fold does: a fresh copy of the model (same architecture, new initial weights from
`keras.models.clone_model`, the optimizer class and settings, loss and metrics as compiled in
the model file) is trained on the fold's training rows and scored on its held-out rows with the
same metric set as the test metrics. Adapted `Normalization` layers are re-adapted on the fold's
training rows, as the user's own pipeline would do (copying the original statistics would leak
the held-out rows into the fold's model).

Splits (`make_splits`):
- "stratified": classification; shuffled stratified K-fold (class shares kept in every fold).
- "kfold": regression; shuffled K-fold.
- "time": whenever a time column is present or the task is forecast: expanding-window splits
  in time order, like scikit-learn's `TimeSeriesSplit`. The rows are sorted by time (file order
  without a time column), the last K blocks of n // (K + 1) rows are the test folds, and each
  fold trains on all rows before its test block, minus a gap of `w` rows when the model reads
  windows of `w` steps (input shape (w, c)): the last training rows' windows would otherwise
  overlap the test rows' windows. Never shuffled.

Why worker processes: Keras trains one model per process efficiently on one or two cores, so
folds run in parallel `spawn`ed processes (`--jobs`, default the number of cores), each with
its own TensorFlow limited to cores // jobs threads. The model travels as a `.keras` file and
the arrays as `.npy` files in a temporary folder, read once per worker.

Reproducible: the fold assignment depends only on `seed`, and each fold starts from a cleared
Keras session seeded with `keras.utils.set_random_seed(seed + fold)`, so the fold scores do not
depend on which worker ran the fold, nor on the order the folds finish.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from typing import Any

import numpy as np

from .errors import InputError

DEFAULT_EPOCHS = 20  # when there is neither a training history nor --cv-epochs
HEADLINE_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "mae", "forecast": "mae"}
LOWER_IS_BETTER = {"mae", "rmse", "mape", "mase", "median_ae", "max_error", "log_loss", "brier", "naive_mae"}


# -- split logic ---------------------------------------------------------------------------------
def split_kind(task: str, has_time_column: bool) -> str:
    """'time' when rows are ordered in time, 'stratified' for classification, else 'kfold'."""
    if has_time_column or task == "forecast":
        return "time"
    if task in ("binary", "multiclass"):
        return "stratified"
    return "kfold"


def window_gap(input_shape: tuple[int, ...]) -> int:
    """Rows to leave out between training and test rows in time splits.

    A model whose input is a window of steps, shape (w, channels...), reads w rows of history
    per prediction: w rows of gap keep the training windows from overlapping the test windows.
    A flat input (features) needs no gap.
    """
    if len(input_shape) >= 2 and input_shape[0] and input_shape[0] > 1:
        return int(input_shape[0])
    return 0


def make_splits(kind: str, n: int, k: int, *, y: np.ndarray | None = None, seed: int = 0,
                gap: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K (train, test) index pairs over positions 0..n-1.

    For "time" the positions must already be in time order: every training position is below
    every test position of its fold by more than `gap`. Raises InputError when n is too small.

    >>> [(tr.tolist(), te.tolist()) for tr, te in make_splits("time", 8, 3, gap=1)]
    [([0], [2, 3]), ([0, 1, 2], [4, 5]), ([0, 1, 2, 3, 4], [6, 7])]
    """
    if k < 2:
        raise InputError(f"--cv: need at least 2 folds, got {k}")
    if kind == "time":
        test_size = n // (k + 1)
        first_test = n - k * test_size
        if test_size < 1 or first_test - gap < 1:
            need = (k + 1) + gap
            raise InputError(
                f"--cv {k}: {n} training rows are too few for {k} time-ordered folds"
                + (f" with a gap of {gap} rows (the model's window)" if gap else "")
                + f"; need at least {need}, or use fewer folds")
        out = []
        for i in range(k):
            start = first_test + i * test_size
            out.append((np.arange(0, start - gap), np.arange(start, start + test_size)))
        return out
    if n < k:
        raise InputError(f"--cv {k}: only {n} training rows, fewer than the {k} folds")
    import warnings

    from sklearn.model_selection import KFold, StratifiedKFold

    idx = np.arange(n)
    if kind == "stratified":
        if y is None:
            raise ValueError("stratified splits need y")
        counts = np.bincount(np.asarray(y, dtype=np.int64))
        if counts[counts > 0].max() < k:
            raise InputError(f"--cv {k}: every class has fewer than {k} training rows; use fewer folds")
        with warnings.catch_warnings():  # "least populated class has only m members": noted by the caller
            warnings.simplefilter("ignore")
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
            return [(tr, te) for tr, te in splitter.split(idx, y)]
    if kind == "kfold":
        return [(tr, te) for tr, te in KFold(n_splits=k, shuffle=True, random_state=seed).split(idx)]
    raise ValueError(f"unknown split kind {kind!r}")


# -- the parent side ---------------------------------------------------------------------------
def _settings(ctx) -> dict[str, Any]:
    s = dict(ctx.cache.get("cv_settings") or {})
    k = s.get("k")
    if not k:
        raise InputError("--cv: the number of folds is not set")
    hist = ctx.inputs.history or {}
    epochs = s.get("epochs")
    epochs_from = "--cv-epochs"
    if epochs is None:
        if hist.get("loss"):
            epochs, epochs_from = len(hist["loss"]), "the training history"
        else:
            epochs, epochs_from = DEFAULT_EPOCHS, "the default (no training history given)"
    batch = s.get("batch_size") or 32
    jobs = s.get("jobs") or os.cpu_count() or 1
    for name, v in (("--cv-epochs", epochs), ("--cv-batch-size", batch), ("--jobs", jobs)):
        if int(v) < 1:
            raise InputError(f"{name}: must be at least 1, got {v}")
    return {"k": int(k), "epochs": int(epochs), "epochs_from": epochs_from, "batch_size": int(batch),
            "jobs": int(jobs)}


def _compile_facts(model) -> dict[str, Any]:
    """The compile config of the user's model; InputError when it cannot be retrained."""
    cfg = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if not cfg or not cfg.get("loss") or not cfg.get("optimizer"):
        raise InputError(
            "--cv: the model has no compiled optimizer and loss to retrain it with; save it after "
            "model.compile(...) (model.save('model.keras')) or leave out --cv")
    opt = cfg["optimizer"]
    opt_name = opt.get("class_name", str(opt)) if isinstance(opt, dict) else str(opt)
    return {"config": cfg, "optimizer": opt_name, "loss": _name_of(cfg["loss"]),
            "metrics": [_name_of(m) for m in (cfg.get("metrics") or [])]}


def _name_of(obj) -> str:
    if isinstance(obj, dict):
        return str(obj.get("class_name") or obj.get("config", {}).get("name") or obj)
    if isinstance(obj, (list, tuple)):
        return ", ".join(_name_of(o) for o in obj)
    return str(getattr(obj, "name", obj))


def _preflight_clone(model) -> None:
    """Fail early, in the parent, when the model cannot be cloned (e.g. a subclassed model)."""
    from ._tf import keras

    try:
        keras.models.clone_model(model)
    except Exception as exc:
        raise InputError(f"--cv: cannot make a fresh copy of this model to retrain it "
                         f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})") from None


def _time_labels(ctx, rows: np.ndarray) -> tuple[np.ndarray, str, bool]:
    """Time values of the given training rows (JSON-ready) + unit + whether datetimes."""
    col = ctx.inputs.time_column
    if not col:
        return rows.astype(np.int64), "row", False
    import pandas as pd

    s = ctx.inputs.train[col].iloc[rows]
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64), col, False
    return pd.to_datetime(s).to_numpy(dtype="datetime64[ns]"), col, True


def _json_time(v, is_dt: bool):
    if is_dt:
        import pandas as pd

        return pd.Timestamp(v).isoformat()
    v = float(v)
    return int(v) if v.is_integer() else v


def plan(ctx, k: int) -> dict[str, Any]:
    """The rows each fold trains and tests on (indices into the training data) and why."""
    from .inputs import model_input_shape, time_values

    X = ctx.X_train
    finite = np.isfinite(X).all(axis=1)
    rows = np.flatnonzero(finite)
    kind = split_kind(ctx.task, bool(ctx.inputs.time_column))
    gap = 0
    if kind == "time":
        if ctx.inputs.time_column:
            t = time_values(ctx.inputs.train, ctx.inputs.time_column)[rows]
            rows = rows[np.argsort(t, kind="stable")]
        gap = window_gap(model_input_shape(ctx.model))
    y = ctx.y_train[rows]
    pos_splits = make_splits(kind, len(rows), k, y=y if kind == "stratified" else None, seed=ctx.seed, gap=gap)
    notes = []
    if len(rows) < len(X):
        notes.append(f"{len(X) - len(rows):,} training row(s) with missing inputs were left out of cross-validation.")
    if kind == "stratified":
        counts = np.bincount(y, minlength=len(ctx.labels))
        rare = [ctx.labels[i] for i, c in enumerate(counts) if 0 < c < k]
        if rare:
            notes.append(f"Class(es) {', '.join(rare)} have fewer training rows than folds: some folds test without them.")
    return {"kind": kind, "gap": gap, "rows": rows, "splits": pos_splits, "notes": notes}


def cross_validate(ctx) -> dict[str, Any]:
    """Run K-fold CV by retraining fresh model copies; returns metrics.cv (SPEC.md shape + extras).

    `{"folds": [{metric: value}, ...], "mean": {...}, "std": {...}}` plus "kind"
    ("stratified" | "kfold" | "time"), "k", "epochs", "batch_size", "seed", "jobs", "gap",
    "headline", "splits" (per fold: train_rows, test_rows, train_range, test_range in units of
    "range_unit"; the ranges are null for shuffled splits, whose folds interleave), "notes",
    and "test_vs_cv" (the test score against the CV mean, see compare_with_test).
    std is the sample standard deviation over folds (ddof=1). The result is also cached in
    ctx.cache["cv"] for the checks and the report section.
    """
    if ctx.model is None:
        raise InputError("--cv needs --model: cross-validation retrains the model, predictions alone cannot")
    if not ctx.has_train:
        raise InputError("--cv needs --train: cross-validation retrains the model on folds of the training data")
    s = _settings(ctx)
    k = s["k"]
    facts = _compile_facts(ctx.model)
    _preflight_clone(ctx.model)
    p = plan(ctx, k)
    rows, kind, gap = p["rows"], p["kind"], p["gap"]
    from .inputs import model_output_width

    width = model_output_width(ctx.model)
    X = ctx.shape_for_model(ctx.X_train[rows].astype(np.float32))
    y_enc = ctx.y_train[rows]
    one_hot = ctx.is_classification and width > 1 and "sparse" not in facts["loss"].lower()
    if one_hot:
        y_fit = np.eye(width, dtype=np.float32)[y_enc]
    elif ctx.is_classification:
        y_fit = y_enc.astype(np.float32 if width == 1 else np.int64)
    else:
        y_fit = y_enc.astype(np.float32)

    n_workers = max(1, min(s["jobs"], k))
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    ctx.progress(f"cross-validation: {k} {kind} folds, {s['epochs']} epochs each, batch {s['batch_size']}, "
                 f"{n_workers} worker process(es)")
    started = time.perf_counter()
    outputs: dict[int, dict] = {}
    headline = HEADLINE_METRIC[ctx.task]
    fold_values: dict[int, dict] = {}
    fold_se: dict[int, float | None] = {}
    nonfinite: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="reportgen-cv-") as tmp:
        model_path = os.path.join(tmp, "model.keras")
        ctx.model.save(model_path)
        np.save(os.path.join(tmp, "X.npy"), X)
        np.save(os.path.join(tmp, "y.npy"), y_fit)
        # The workers read back our own serialisation of a model this process has already loaded
        # under the user's --unsafe-load-model choice, so they need no second safe-mode gate (a
        # Lambda layer the user allowed would otherwise fail to load there).
        safe = False
        tasks = [(i, tr, te, s["epochs"], s["batch_size"], ctx.seed) for i, (tr, te) in enumerate(p["splits"])]
        for res in _run_pool(tasks, (tmp, threads, safe), n_workers):
            i = res["fold"]
            outputs[i] = res
            values, se, bad = _fold_metrics(ctx, rows, p["splits"][i][1], res["output"])
            fold_values[i], fold_se[i], nonfinite[i] = values, se, bad
            v = values.get(headline)
            ctx.progress(f"cross-validation fold {i + 1}/{k} done in {res['seconds']:.1f} s "
                         f"({len(outputs)}/{k} finished): {headline} "
                         + (f"{v:.4g}" if v is not None else "undefined"))
    folds = [fold_values[i] for i in range(k)]
    mean, std = summarize(folds)
    t_all, unit, is_dt = _time_labels(ctx, rows)
    splits = []
    for i, (tr, te) in enumerate(p["splits"]):
        entry: dict[str, Any] = {"train_rows": int(len(tr)), "test_rows": int(len(te)),
                                 "train_range": None, "test_range": None}
        if kind == "time":
            entry["train_range"] = [_json_time(t_all[tr[0]], is_dt), _json_time(t_all[tr[-1]], is_dt)]
            entry["test_range"] = [_json_time(t_all[te[0]], is_dt), _json_time(t_all[te[-1]], is_dt)]
        entry["seconds"] = round(float(outputs[i]["seconds"]), 3)
        entry["final_loss"] = outputs[i]["final_loss"]
        entry["headline_se"] = fold_se[i]
        if nonfinite[i]:
            entry["nonfinite_outputs"] = nonfinite[i]
        splits.append(entry)
    notes = list(p["notes"])
    bad_folds = [i + 1 for i in range(k) if nonfinite[i]]
    if bad_folds:
        notes.append(f"Fold(s) {', '.join(map(str, bad_folds))} produced non-finite outputs (training diverged); "
                     "those rows are left out of the fold metrics.")
    if s["epochs_from"].startswith("the default"):
        notes.append(f"No training history was given: each fold trained for {s['epochs']} epochs "
                     "(set --cv-epochs to match the original training).")
    result = {
        "folds": folds,
        "mean": mean,
        "std": std,
        "kind": kind,
        "k": k,
        "epochs": s["epochs"],
        "epochs_from": s["epochs_from"],
        "batch_size": s["batch_size"],
        "seed": int(ctx.seed),
        "jobs": n_workers,
        "gap": gap,
        "headline": headline,
        "range_unit": unit if kind == "time" else None,
        "optimizer": facts["optimizer"],
        "loss": facts["loss"],
        "splits": splits,
        "seconds": round(time.perf_counter() - started, 2),
        "notes": notes,
    }
    cmp = compare_with_test(ctx, result)
    if cmp is not None:
        result["test_vs_cv"] = cmp
    ctx.cache["cv"] = result
    return result


def compare_with_test(ctx, cv: dict[str, Any]) -> dict[str, Any] | None:
    """The test-set headline score against the CV mean: "lucky" when better than the mean by
    more than 2 x sqrt(std_cv^2 + se_test^2) (the fold spread plus the test set's own sampling
    noise), "unlucky" when worse by as much, else "consistent"."""
    import math

    name = cv["headline"]
    test = ctx.test_metrics.values.get(name)
    mean, std = cv["mean"].get(name), cv["std"].get(name)
    if test is None or mean is None:
        return None
    err = ctx.test_row_error
    se_test = float(np.std(err, ddof=1) / np.sqrt(len(err))) if len(err) > 1 else 0.0
    band = 2.0 * math.sqrt((std or 0.0) ** 2 + se_test ** 2)
    better = (test < mean) if name in LOWER_IS_BETTER else (test > mean)
    verdict = "consistent" if abs(test - mean) <= band else ("lucky" if better else "unlucky")
    return {"metric": name, "test": float(test), "cv_mean": float(mean), "cv_std": std, "test_se": se_test,
            "band": band, "verdict": verdict}


def _fold_metrics(ctx, rows: np.ndarray, test_pos: np.ndarray, output: np.ndarray):
    """Metrics of one fold (same set as the test metrics, no intervals), the standard error of
    the headline metric from the fold's rows, and the count of non-finite outputs."""
    from . import metrics as M

    out = output[:, 0] if output.ndim == 2 and output.shape[1] == 1 else output
    finite = np.isfinite(out).all(axis=1) if out.ndim == 2 else np.isfinite(out)
    y = ctx.y_train[rows[test_pos]]
    scores = ctx.as_scores(out[finite])
    yf = y[finite]
    if ctx.task == "binary":
        m = M.binary_metrics(yf, scores, ctx.labels, ci=False)
    elif ctx.task == "multiclass":
        m = M.multiclass_metrics(yf, scores, ctx.labels, ci=False)
    elif ctx.task == "forecast":
        y_all = ctx.y_train[rows].astype(np.float64)
        naive = y_all[test_pos - 1]  # previous target in time order; test_pos >= 1 in time splits
        m = M.forecast_metrics(yf, scores, naive[finite], ci=False)
    else:
        m = M.regression_metrics(yf, scores, ci=False)
    values = {key: v for key, v in m.values.items()}
    err = ctx.row_error(yf, scores) if len(yf) else np.zeros(0)
    se = float(np.std(err, ddof=1) / np.sqrt(len(err))) if len(err) > 1 else None
    return values, se, int((~finite).sum())


def summarize(folds: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mean and sample standard deviation (ddof=1) of each metric over the folds where it is
    defined; None where no fold defines it (std also None with fewer than 2 values)."""
    keys: list[str] = []
    for f in folds:
        keys.extend(k for k in f if k not in keys)
    mean, std = {}, {}
    for key in keys:
        vals = np.array([f[key] for f in folds if f.get(key) is not None], dtype=np.float64)
        mean[key] = float(vals.mean()) if vals.size else None
        std[key] = float(vals.std(ddof=1)) if vals.size > 1 else None
    return mean, std


def _run_pool(tasks: list[tuple], init_args: tuple, n_workers: int):
    """Yield fold results as they finish, from `n_workers` spawned processes."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context("spawn"),
                               initializer=_init_worker, initargs=init_args)
    try:
        with _main_module_hidden():  # workers start (spawn) on submit
            futures = [pool.submit(_fit_fold, *t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    except BrokenProcessPool:
        raise RuntimeError("cross-validation: a worker process died (out of memory?); "
                           "try fewer parallel folds with --jobs 1") from None
    finally:
        # Workers exit in the background: a TensorFlow process takes a second to tear down and
        # nothing more is needed from it.
        pool.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def _main_module_hidden():
    """Spawned workers re-run the parent's main script unless it is hidden while they start.

    A user script that calls `audit(cv=...)` without an `if __name__ == "__main__":` guard
    would otherwise start the whole audit again inside every worker (and fail there). The
    workers only need reportgen and numpy, never anything from the caller's __main__.
    """
    import sys
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


# -- the worker side -----------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


@contextlib.contextmanager
def _quiet_stderr():
    """TensorFlow's C++ start-up lines go straight to file descriptor 2: hide them while importing."""
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no stderr at all
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _init_worker(folder: str, threads: int, safe_mode: bool) -> None:
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    with _quiet_stderr():
        from ._tf import keras, tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
        except RuntimeError:  # pragma: no cover - already initialised
            pass
    _WORKER.update(
        keras=keras,
        model_path=os.path.join(folder, "model.keras"),
        X=np.load(os.path.join(folder, "X.npy"), mmap_mode="r"),
        y=np.load(os.path.join(folder, "y.npy"), mmap_mode="r"),
        safe_mode=safe_mode,
    )


def fresh_copy(model, keras, X_fit: np.ndarray | None = None):
    """A fresh, compiled copy of `model`: same architecture, new initial weights (drawn from
    Keras' global seed), a new optimizer of the same class and settings, the same loss and
    metrics as compiled. Normalization layers that were adapted are re-adapted on `X_fit`."""
    clone = keras.models.clone_model(model)
    if X_fit is not None:
        _readapt(model, clone, X_fit, keras)
    clone.compile_from_config(model.get_compile_config())
    return clone


def _readapt(original, clone, X_fit: np.ndarray, keras) -> None:
    norm = keras.layers.Normalization
    pairs = [(o, c) for o, c in zip(original.layers, clone.layers) if isinstance(c, norm)]
    for o, c in pairs:
        if o.get_config().get("mean") is not None:
            continue  # fixed statistics given by the user: keep them (they are in the config)
        w = o.get_weights()
        if len(w) >= 2 and np.allclose(w[0], 0) and np.allclose(w[1], 1):
            continue  # never adapted
        try:
            feed = keras.Model(clone.inputs, c.input) if c.input is not clone.inputs[0] else None
        except Exception:
            feed = None
        try:
            data = X_fit if feed is None else feed.predict(X_fit, batch_size=4096, verbose=0)
            c.adapt(np.asarray(data))
        except Exception:  # cannot reach the layer's input: fall back to the original statistics
            c.set_weights(w)


def _fit_fold(fold: int, train_idx: np.ndarray, test_idx: np.ndarray, epochs: int, batch_size: int,
              seed: int) -> dict[str, Any]:
    keras = _WORKER["keras"]
    started = time.perf_counter()
    keras.backend.clear_session()
    original = keras.saving.load_model(_WORKER["model_path"], safe_mode=_WORKER["safe_mode"], compile=True)
    keras.utils.set_random_seed(int(seed) + int(fold))
    X, y = _WORKER["X"], _WORKER["y"]
    X_tr, y_tr = np.ascontiguousarray(X[train_idx]), np.ascontiguousarray(y[train_idx])
    model = fresh_copy(original, keras, X_tr)
    hist = model.fit(X_tr, y_tr, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    X_te = np.ascontiguousarray(X[test_idx])
    # eager calls in batches: no predict-function tracing for a model used once
    parts = [np.asarray(model(X_te[i:i + 4096], training=False), dtype=np.float64)
             for i in range(0, len(X_te), 4096)]
    out = np.concatenate(parts) if parts else np.zeros((0, 1))
    losses = hist.history.get("loss") or [None]
    last = losses[-1]
    return {"fold": fold, "output": out.reshape(len(X_te), -1), "seconds": time.perf_counter() - started,
            "final_loss": float(last) if last is not None and np.isfinite(last) else None}
