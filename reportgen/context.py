"""AuditContext: what every analysis needs, computed once and on demand.

Why: many checks need the same predictions, encoded labels or training sample; computing
them lazily here (Deepchecks-style) keeps each check a small function of the context and
means a predictions-only audit never touches TensorFlow.
"""
from __future__ import annotations

import time
from functools import cached_property
from typing import Any, Callable

import numpy as np

from .inputs import AuditInputs, encode_target, feature_matrix

PREDICT_BATCH = 4096


class AuditContext:
    def __init__(self, inputs: AuditInputs, progress: Callable[[str], None] | None = None, seed: int = 0,
                 strict: bool = False, max_diagnostic_rows: int = 5000):
        self.inputs = inputs
        self.progress = progress or (lambda msg: None)
        self.seed = seed
        self.strict = strict
        self.max_diagnostic_rows = max_diagnostic_rows
        self.notes: list[str] = []
        self.cache: dict[str, Any] = {}  # shared scratch space for analyses (e.g. gradient stats)

    # -- basic facts ---------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.inputs.task

    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass")

    @property
    def labels(self) -> list[str]:
        return self.inputs.labels_str

    @property
    def model(self) -> Any:
        return self.inputs.model

    @property
    def has_train(self) -> bool:
        return self.inputs.train is not None

    @property
    def test_name(self) -> str:
        return next(s.name for s in self.inputs.sources if s.role == "test")

    # -- arrays --------------------------------------------------------------------------------
    @cached_property
    def X_test(self) -> np.ndarray:
        return feature_matrix(self.inputs.test, self.inputs.feature_columns)

    @cached_property
    def y_test(self) -> np.ndarray:
        return encode_target(self.inputs.test[self.inputs.target], self.task, self.inputs.class_labels,
                             self.test_name, self.inputs.target)

    @cached_property
    def X_train(self) -> np.ndarray | None:
        if not self.has_train:
            return None
        return feature_matrix(self.inputs.train, self.inputs.feature_columns)

    @cached_property
    def y_train(self) -> np.ndarray | None:
        if not self.has_train:
            return None
        name = next(s.name for s in self.inputs.sources if s.role == "train")
        return encode_target(self.inputs.train[self.inputs.target], self.task, self.inputs.class_labels,
                             name, self.inputs.target)

    def shape_for_model(self, X: np.ndarray) -> np.ndarray:
        """Reshape flat feature rows to the model's input shape (e.g. 20 lags -> (20, 1))."""
        from .inputs import model_input_shape

        shape = model_input_shape(self.model)
        if len(shape) <= 1:
            return X
        return X.reshape((len(X),) + tuple(s if s > 0 else -1 for s in shape))

    def predict(self, X: np.ndarray, label: str = "") -> np.ndarray:
        """Model outputs in batches, (n,) for one output unit or (n, K); no huge tensor at once."""
        model = self.model
        out = []
        started = time.perf_counter()
        Xm = self.shape_for_model(X.astype(np.float32))
        for start in range(0, len(Xm), PREDICT_BATCH):
            out.append(np.asarray(model(Xm[start:start + PREDICT_BATCH], training=False), dtype=np.float64))
            if time.perf_counter() - started > 1 and start == 0 and len(Xm) > 4 * PREDICT_BATCH:
                self.progress(f"predicting {len(Xm):,} {label} rows")
        res = np.concatenate(out) if out else np.zeros((0, 1))
        res = res.reshape(len(X), -1)
        return res[:, 0] if res.shape[1] == 1 else res

    @cached_property
    def test_output(self) -> np.ndarray:
        """Raw outputs for the test rows: from --predictions, or from the model."""
        if self.inputs.predictions is not None:
            return self.inputs.predictions
        self.progress(f"predicting {len(self.X_test):,} test rows")
        return self.predict(self.X_test, "test")

    @cached_property
    def finite_rows(self) -> np.ndarray:
        """Rows whose inputs and model outputs are all finite: the rows metrics are computed on."""
        out = self.test_output
        ok = np.isfinite(out).all(axis=1) if out.ndim == 2 else np.isfinite(out)
        if self.model is not None:
            ok &= np.isfinite(self.X_test).all(axis=1)
        return ok

    def as_scores(self, output: np.ndarray) -> np.ndarray:
        """Model outputs -> p(class 1) for binary, row-normalised probabilities for multiclass."""
        if self.task == "binary":
            if output.ndim == 2:
                output = output[:, -1]
            return np.clip(output, 0.0, 1.0)
        if self.task == "multiclass":
            p = np.clip(output, 0.0, None)
            s = p.sum(axis=1, keepdims=True)
            s[s == 0] = 1.0
            return p / s
        return output

    @cached_property
    def test_scores(self) -> np.ndarray:
        """Scores on the finite rows only (see finite_rows)."""
        return self.as_scores(self.test_output[self.finite_rows])

    @cached_property
    def test_y(self) -> np.ndarray:
        """Encoded targets on the finite rows only."""
        return self.y_test[self.finite_rows]

    @cached_property
    def test_pred_class(self) -> np.ndarray | None:
        if self.task == "binary":
            return (self.test_scores > 0.5).astype(np.int64)
        if self.task == "multiclass":
            return np.argmax(self.test_scores, axis=1)
        return None

    def row_error(self, y: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Per-row error: 1 - correct for classification, |error| for regression."""
        if self.task == "binary":
            return ((scores > 0.5).astype(np.int64) != y).astype(np.float64)
        if self.task == "multiclass":
            return (np.argmax(scores, axis=1) != y).astype(np.float64)
        return np.abs(y - scores)

    @cached_property
    def test_row_error(self) -> np.ndarray:
        return self.row_error(self.test_y, self.test_scores)

    def sample_indices(self, n: int, max_rows: int | None = None, seed_offset: int = 0) -> np.ndarray:
        """A deterministic sample of row indices (all rows when n is small)."""
        m = max_rows or self.max_diagnostic_rows
        if n <= m:
            return np.arange(n)
        rng = np.random.default_rng(self.seed + seed_offset)
        return np.sort(rng.choice(n, size=m, replace=False))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- metrics -------------------------------------------------------------------------------
    @cached_property
    def naive_forecast(self) -> np.ndarray | None:
        """Last-value forecast for each finite test row (the previous target in time order).

        The first test row uses the last training target when training data is given; without
        it, the first row falls back to its own lag-1 value if a column named like 'lag_1' exists,
        else it is dropped from MASE by repeating the second row's naive value.
        """
        if self.task != "forecast":
            return None
        from .inputs import time_values

        test = self.inputs.test
        y = self.y_test.astype(np.float64)
        if self.inputs.time_column:
            order = np.argsort(time_values(test, self.inputs.time_column), kind="stable")
        else:
            order = np.arange(len(y))
        naive_sorted = np.empty(len(y))
        ys = y[order]
        naive_sorted[1:] = ys[:-1]
        first = None
        if self.has_train:
            tr = self.inputs.train
            if self.inputs.time_column:
                t_order = np.argsort(time_values(tr, self.inputs.time_column), kind="stable")
                first = float(self.y_train[t_order[-1]])
            else:
                first = float(self.y_train[-1])
        if first is None:
            first = ys[0] if len(ys) == 1 else ys[0]
        naive_sorted[0] = first
        naive = np.empty(len(y))
        naive[order] = naive_sorted
        return naive[self.finite_rows]

    @cached_property
    def test_metrics(self):
        """MetricSet for the finite test rows (reportgen.metrics)."""
        from . import metrics as M

        y, s = self.test_y, self.test_scores
        if self.task == "binary":
            return M.binary_metrics(y, s, self.labels)
        if self.task == "multiclass":
            return M.multiclass_metrics(y, s, self.labels)
        if self.task == "forecast":
            return M.forecast_metrics(y, s, self.naive_forecast)
        return M.regression_metrics(y, s)
