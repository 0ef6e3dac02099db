"""Load and validate everything the user hands us -> AuditInputs.

Every user mistake becomes an InputError whose message names the file, column or value at
fault, so the CLI can exit 2 with one line. Nothing here imports TensorFlow unless a model is
actually loaded: a predictions-only audit must stay light.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .report import SourceInfo

TASKS = ("binary", "multiclass", "regression", "forecast")
TABLE_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class AuditInputs:
    """Everything an audit reads, validated. Arrays are aligned with `test` rows."""

    test: pd.DataFrame
    target: str
    task: str
    feature_columns: list[str]
    class_labels: list[Any] | None = None  # classification: sorted labels; index = encoded class
    train: pd.DataFrame | None = None
    history: dict[str, list[float]] | None = None
    model: Any = None  # a keras.Model
    model_name: str | None = None
    predictions: np.ndarray | None = None  # raw outputs from --predictions: (n,) or (n, K)
    time_column: str | None = None
    sources: list[SourceInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def labels_str(self) -> list[str]:
        return [str(c) for c in (self.class_labels or [])]


# -- files -------------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: {what} file not found")
    if p.is_dir():
        raise InputError(f"{p}: {what} is a directory, expected a file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: {what} file is not readable (permission denied)")
    return p


def load_table(path: str | os.PathLike, role: str) -> tuple[pd.DataFrame, SourceInfo]:
    """Read a CSV or Parquet table (chosen by extension) and describe it."""
    p = _existing_file(path, f"{role} data")
    kind = TABLE_EXTENSIONS.get(p.suffix.lower())
    if kind is None:
        raise InputError(f"{p}: unsupported {role} data format '{p.suffix or '(none)'}'; expected .csv or .parquet")
    try:
        if kind == "parquet":
            df = pd.read_parquet(p)
        else:
            sep = "\t" if p.suffix.lower() == ".tsv" else ","
            try:
                df = pd.read_csv(p, sep=sep, engine="pyarrow")
            except Exception:  # pyarrow is strict about ragged rows; pandas' own parser explains better
                df = pd.read_csv(p, sep=sep)
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: {role} data is empty") from None
    except Exception as exc:
        raise InputError(f"{p}: cannot read {role} data as {kind}: {_first_line(exc)}") from None
    if df.shape[1] == 0 or len(df) == 0:
        raise InputError(f"{p}: {role} data has no rows")
    df.columns = [str(c) for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise InputError(f"{p}: duplicate column name(s) {', '.join(map(repr, dupes))}")
    return df, SourceInfo(role=role, name=p.name, sha256=sha256_of(p), rows=len(df), columns=df.shape[1])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# -- history -----------------------------------------------------------------------------------
def load_history(source: Any) -> tuple[dict[str, list[float]], SourceInfo | None]:
    """Accept a CSVLogger CSV, a JSON of History.history, a dict, or a keras History."""
    if source is None:
        return {}, None
    if hasattr(source, "history") and isinstance(getattr(source, "history"), dict):
        return _clean_history(source.history, "history"), None
    if isinstance(source, dict):
        return _clean_history(source, "history"), None
    p = _existing_file(source, "history")
    info = SourceInfo(role="history", name=p.name, sha256=sha256_of(p))
    if p.suffix.lower() == ".json":
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{p}: history is not valid JSON: {_first_line(exc)}") from None
        if isinstance(raw, dict) and "history" in raw and isinstance(raw["history"], dict):
            raw = raw["history"]
        if not isinstance(raw, dict):
            raise InputError(f'{p}: history JSON must be an object like {{"loss": [...], "val_loss": [...]}}')
        hist = _clean_history(raw, p.name)
    else:
        try:
            df = pd.read_csv(p)
        except Exception as exc:
            raise InputError(f"{p}: cannot read history CSV: {_first_line(exc)}") from None
        df = df.drop(columns=[c for c in df.columns if str(c).strip().lower() == "epoch"])
        hist = _clean_history({str(c): df[c].tolist() for c in df.columns}, p.name)
    info.rows = len(next(iter(hist.values())))
    info.columns = len(hist)
    return hist, info


def _clean_history(raw: dict, name: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for key, values in raw.items():
        if not isinstance(values, (list, tuple, np.ndarray, pd.Series)):
            raise InputError(f"{name}: history entry '{key}' must be a list of numbers per epoch")
        try:
            out[str(key)] = [float(v) if v is not None else float("nan") for v in values]
        except (TypeError, ValueError):
            raise InputError(f"{name}: history entry '{key}' has a non-numeric value") from None
    if not out or not any(out.values()):
        raise InputError(f"{name}: history has no epochs")
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise InputError(f"{name}: history entries have different lengths {sorted(lengths)}")
    if "loss" not in out:
        raise InputError(f"{name}: history has no 'loss' entry (found: {', '.join(sorted(out))})")
    # learning-rate columns from CSVLogger/ReduceLROnPlateau are kept: checks read them
    return out


# -- model -------------------------------------------------------------------------------------
def load_model(source: Any, safe_mode: bool = True) -> tuple[Any, SourceInfo | None]:
    """Load a .keras / .h5 model with safe_mode (no arbitrary code) unless the user opted out."""
    if source is None:
        return None, None
    if not isinstance(source, (str, os.PathLike)):
        if not hasattr(source, "predict") or not hasattr(source, "layers"):
            raise InputError(f"model must be a path or a keras.Model, got {type(source).__name__}")
        return source, SourceInfo(role="model", name=getattr(source, "name", "model"), detail="in-memory keras.Model")
    p = _existing_file(source, "model")
    suffix = p.suffix.lower()
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise InputError(f"{p}: unsupported model format '{suffix or '(none)'}'; expected a .keras (Keras 3) or .h5 file")
    from ._tf import keras  # heavy import, only here

    try:
        model = keras.saving.load_model(p, safe_mode=safe_mode, compile=True)
    except Exception as exc:
        msg = _first_line(exc)
        if "safe_mode" in msg or "unsafe" in msg.lower() or "lambda" in msg.lower():
            raise InputError(
                f"{p}: refused to load: the model contains code (e.g. a Lambda layer) that safe mode "
                "will not run; pass --unsafe-load-model only if you trust this file"
            ) from None
        raise InputError(f"{p}: cannot load Keras model: {msg}") from None
    if len(getattr(model, "inputs", []) or []) > 1:
        raise InputError(f"{p}: models with {len(model.inputs)} inputs are not supported; expected one input")
    if len(getattr(model, "outputs", []) or []) > 1:
        raise InputError(f"{p}: models with {len(model.outputs)} outputs are not supported; expected one output")
    info = SourceInfo(role="model", name=p.name, sha256=sha256_of(p), detail=f"{model.count_params():,} parameters")
    return model, info


def model_input_shape(model: Any) -> tuple[int, ...]:
    shape = tuple(model.inputs[0].shape)[1:]
    return tuple(int(s) if s is not None else -1 for s in shape)


def model_output_width(model: Any) -> int:
    shape = tuple(model.outputs[0].shape)
    return int(shape[-1]) if len(shape) > 1 and shape[-1] is not None else 1


def output_activation(model: Any) -> str | None:
    """Name of the activation that produces the model output, looking through Activation/Softmax layers."""
    for layer in reversed(model.layers):
        name = type(layer).__name__
        if name in ("Softmax",):
            return "softmax"
        if name == "Activation":
            return getattr(layer.activation, "__name__", None)
        act = getattr(layer, "activation", None)
        if act is not None:
            return getattr(act, "__name__", None)
        if name in ("Dense", "Conv1D", "Conv2D", "LSTM", "GRU", "SimpleRNN"):
            return None
    return None


# -- features ----------------------------------------------------------------------------------
def feature_columns(df: pd.DataFrame, name: str, target: str, time_column: str | None, ignore: list[str]) -> list[str]:
    for col in [target] + ([time_column] if time_column else []) + list(ignore):
        if col not in df.columns:
            raise InputError(f"{name}: column '{col}' not found (columns: {_cols(df)})")
    skip = {target, time_column, *ignore}
    cols = [c for c in df.columns if c not in skip]
    if not cols:
        raise InputError(f"{name}: no feature columns left after removing the target/time/ignored columns")
    for c in cols:
        s = df[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            bad = s[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
            example = bad.iloc[0] if len(bad) else s.iloc[0]
            raise InputError(
                f"{name}: column '{c}' is not numeric (e.g. value {str(example)[:40]!r}); "
                "encode it before training, or pass --ignore-columns"
            )
    return cols


def _cols(df: pd.DataFrame, limit: int = 12) -> str:
    cols = list(map(str, df.columns))
    return ", ".join(cols[:limit]) + (f", ... ({len(cols)} in all)" if len(cols) > limit else "")


def feature_matrix(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return df[cols].to_numpy(dtype=np.float64, na_value=np.nan)


# -- task & labels -----------------------------------------------------------------------------
def _sorted_labels(values: pd.Series) -> list[Any]:
    uniq = pd.unique(values.dropna())
    try:
        return sorted(uniq.tolist())
    except TypeError:
        return sorted(uniq.tolist(), key=str)


def infer_task(
    y_all: pd.Series,
    explicit: str | None,
    output_width: int | None,
    time_column: str | None,
    target: str,
) -> str:
    """Decide the task from --task, the model's output width and the target's values."""
    if explicit:
        if explicit not in TASKS:
            raise InputError(f"--task: unknown task '{explicit}' (choose from {', '.join(TASKS)})")
        return explicit
    numeric = pd.api.types.is_numeric_dtype(y_all) and not pd.api.types.is_bool_dtype(y_all)
    n_unique = y_all.nunique(dropna=True)
    if output_width is not None and output_width > 2:
        return "multiclass"
    if output_width == 2:
        return "binary" if n_unique <= 2 else "multiclass"
    if n_unique <= 2:
        return "binary"
    if not numeric:
        return "multiclass" if output_width is None else "binary"
    if output_width is None and n_unique <= 20 and np.allclose(y_all.dropna() % 1, 0):
        # integer targets with few values and no model to tell us: a predictions file decides later
        return "regression"
    return "forecast" if time_column else "regression"


def encode_target(y: pd.Series, task: str, labels: list[Any] | None, name: str, target: str) -> np.ndarray:
    if y.isna().any():
        rows = np.flatnonzero(y.isna().to_numpy())
        raise InputError(
            f"{name}: target column '{target}' has {len(rows)} missing value(s) (first at row {rows[0] + 2} "
            "counting the header); the target must be complete"
        )
    if task in ("regression", "forecast"):
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            bad = y[pd.to_numeric(y, errors="coerce").isna()]
            raise InputError(f"{name}: target column '{target}' is not numeric (e.g. {str(bad.iloc[0])[:40]!r}) for a {task} task")
        arr = y.to_numpy(dtype=np.float64)
        if not np.isfinite(arr).all():
            raise InputError(f"{name}: target column '{target}' has infinite values")
        return arr
    index = {lab: i for i, lab in enumerate(labels or [])}
    index_str = {str(lab): i for i, lab in enumerate(labels or [])}
    out = np.empty(len(y), dtype=np.int64)
    for i, v in enumerate(y.tolist()):
        j = index.get(v, index_str.get(str(v)))
        if j is None:
            raise InputError(f"{name}: target column '{target}' has label {str(v)[:40]!r} that the model does not know")
        out[i] = j
    return out


# -- assembling the inputs ---------------------------------------------------------------------
def _as_table(obj: Any, role: str) -> tuple[pd.DataFrame, SourceInfo]:
    if isinstance(obj, pd.DataFrame):
        if len(obj) == 0:
            raise InputError(f"{role} DataFrame has no rows")
        df = obj.copy()
        df.columns = [str(c) for c in df.columns]
        digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()).hexdigest()
        return df, SourceInfo(role=role, name=f"<{role} DataFrame>", sha256=digest, rows=len(df), columns=df.shape[1])
    if obj is None:
        raise InputError(f"{role} data is required")
    return load_table(obj, role)


def _labels_for(task: str, y_all: pd.Series, width: int | None, target: str) -> list[Any] | None:
    if task in ("regression", "forecast"):
        return None
    labels = _sorted_labels(y_all)
    numeric = pd.api.types.is_numeric_dtype(y_all) and not pd.api.types.is_bool_dtype(y_all)
    if task == "binary":
        if len(labels) > 2:
            raise InputError(f"target column '{target}' has {len(labels)} classes, too many for a binary task")
        if len(labels) < 2:
            if numeric and set(labels) <= {0, 1}:
                return [0, 1]
            if labels and isinstance(labels[0], (bool, np.bool_)):
                return [False, True]
            raise InputError(
                f"target column '{target}' has only one class ({str(labels[0])[:40]!r}); "
                "need both classes to know which one the model's output scores"
            )
        return labels
    k = width or len(labels)
    if len(labels) < 2 and width is None:
        raise InputError(f"target column '{target}' has only one class ({str(labels[0])[:40]!r})")
    if width is not None and len(labels) != width:
        if numeric and all(float(v).is_integer() and 0 <= v < width for v in labels):
            return list(range(width))
        raise InputError(
            f"the model outputs {width} class scores but target column '{target}' has {len(labels)} "
            f"classes ({', '.join(str(x)[:20] for x in labels[:8])})"
        )
    return labels[:k]


def _load_predictions(obj: Any, test_rows: int, target: str) -> tuple[pd.DataFrame, SourceInfo]:
    if isinstance(obj, np.ndarray):
        arr = obj.reshape(len(obj), -1)
        cols = ["score"] if arr.shape[1] == 1 else [str(i) for i in range(arr.shape[1])]
        df = pd.DataFrame(arr, columns=cols)
        info = SourceInfo(role="predictions", name="<array>", rows=len(df), columns=df.shape[1])
    else:
        df, info = _as_table(obj, "predictions")
    if len(df) != test_rows:
        raise InputError(f"{info.name}: predictions have {len(df)} rows but the test data has {test_rows}; they must be row-aligned")
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise InputError(f"{info.name}: predictions column '{c}' is not numeric")
    return df, info


def build_inputs(
    *,
    test: Any,
    target: str,
    model: Any = None,
    predictions: Any = None,
    train: Any = None,
    history: Any = None,
    task: str | None = None,
    time_column: str | None = None,
    ignore_columns: list[str] | tuple[str, ...] = (),
    safe_mode: bool = True,
    progress=None,
) -> AuditInputs:
    """Load and validate all inputs, infer the task and class labels."""
    say = progress or (lambda msg: None)
    if model is None and predictions is None:
        raise InputError("give either a model (--model) or its predictions (--predictions)")
    if model is not None and predictions is not None:
        raise InputError("give a model (--model) or predictions (--predictions), not both")
    if not target:
        raise InputError("--target: the target column name is required")
    test_df, test_info = _as_table(test, "test")
    sources = [test_info]
    feats = feature_columns(test_df, test_info.name, target, time_column, list(ignore_columns))
    train_df = None
    if train is not None:
        train_df, train_info = _as_table(train, "train")
        sources.append(train_info)
        for col in [target] + feats + ([time_column] if time_column else []):
            if col not in train_df.columns:
                raise InputError(f"{train_info.name}: column '{col}' not found (the test data has it; columns: {_cols(train_df)})")
        feature_columns(train_df[feats + [target]], train_info.name, target, None, [])
    hist, hist_info = load_history(history)
    if hist_info:
        sources.append(hist_info)

    pred_df = None
    width: int | None = None
    keras_model = None
    if model is not None:
        say("loading the Keras model (TensorFlow start-up takes a few seconds)")
        keras_model, model_info = load_model(model, safe_mode=safe_mode)
        sources.insert(0, model_info)
        width = model_output_width(keras_model)
        in_shape = model_input_shape(keras_model)
        need = int(np.prod([s for s in in_shape if s > 0])) if in_shape else 1
        if -1 in in_shape[1:] or (in_shape and in_shape[0] == -1 and len(in_shape) > 1):
            pass  # variable-length sequences: reshaped at prediction time
        elif need != len(feats):
            raise InputError(
                f"{model_info.name}: the model expects {need} input values per row (input shape {in_shape}) "
                f"but {test_info.name} has {len(feats)} feature columns ({', '.join(feats[:6])}{', ...' if len(feats) > 6 else ''})"
            )
    else:
        pred_df, pred_info = _load_predictions(predictions, len(test_df), target)
        sources.insert(0, pred_info)
        width = None if list(pred_df.columns) == ["score"] else pred_df.shape[1]
        if width is None and "score" not in pred_df.columns:
            raise InputError(f"{pred_info.name}: expected a 'score' column (binary/regression) or one column per class label")

    y_frames = [test_df[target]] + ([train_df[target]] if train_df is not None else [])
    y_all = pd.concat(y_frames, ignore_index=True)
    task_name = infer_task(y_all, task, width, time_column, target)
    if pred_df is not None and task_name in ("binary", "regression", "forecast") and "score" not in pred_df.columns:
        if task_name == "binary" and pred_df.shape[1] == 2:
            pass
        else:
            raise InputError(f"{sources[0].name}: a {task_name} task needs one 'score' column")

    if pred_df is not None and task_name == "multiclass":
        labels = list(pred_df.columns)
        known = set(labels)
        missing = sorted({str(v) for v in y_all.dropna().unique()} - known)
        if missing:
            raise InputError(f"{sources[0].name}: no predictions column for class label(s) {', '.join(map(repr, missing[:5]))}")
        class_labels: list[Any] | None = labels
    else:
        class_labels = _labels_for(task_name, y_all, width if model is not None else None, target)
    if task_name == "binary" and pred_df is not None and pred_df.shape[1] == 2 and "score" not in pred_df.columns:
        cols = [str(c) for c in pred_df.columns]
        pos = str(class_labels[1])
        if pos not in cols:
            raise InputError(f"{sources[0].name}: expected a 'score' column or columns named by the class labels")
        pred_df = pred_df[[pos]].rename(columns={pos: "score"})

    preds = None
    if pred_df is not None:
        preds = pred_df["score"].to_numpy(dtype=np.float64) if task_name != "multiclass" else pred_df.to_numpy(dtype=np.float64)
        if task_name == "binary":
            finite = preds[np.isfinite(preds)]
            if finite.size and (finite.min() < 0 or finite.max() > 1):
                bad = finite[(finite < 0) | (finite > 1)][0]
                raise InputError(f"{sources[0].name}: column 'score' has value {bad:g} outside [0, 1]; a binary task needs the probability of class {class_labels[1]!r}")
    if time_column:
        for df, info in ((test_df, test_info),) + (((train_df, sources[1]),) if train_df is not None else ()):
            _check_time_column(df, time_column, info.name)
    return AuditInputs(
        test=test_df,
        target=target,
        task=task_name,
        feature_columns=feats,
        class_labels=class_labels,
        train=train_df,
        history=hist or None,
        model=keras_model,
        model_name=sources[0].name if keras_model is not None else None,
        predictions=preds,
        time_column=time_column,
        sources=sources,
    )


def _check_time_column(df: pd.DataFrame, col: str, name: str) -> None:
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return
    parsed = pd.to_datetime(s, errors="coerce")
    if parsed.isna().any():
        bad = s[parsed.isna()].iloc[0]
        raise InputError(f"{name}: time column '{col}' has a value that is not a date or number: {str(bad)[:40]!r}")


def time_values(df: pd.DataFrame, col: str) -> np.ndarray:
    """The time column as sortable numbers (datetimes become int64 nanoseconds)."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64)
    return pd.to_datetime(s).to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
