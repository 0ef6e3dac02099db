"""AuditCallback: "a report after every training" in one line of user code.

    model.fit(X, y, validation_split=0.2,
              callbacks=[reportgen.AuditCallback(test_data=(X_test, y_test), out="report/")])

Why a callback: it sees the real training history and the final weights, so the report needs
no files at all. It records the epoch logs itself, so it works whatever other callbacks run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._tf import keras


def _frame(data: Any, target: str):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if target not in data.columns:
            from .errors import InputError

            raise InputError(f"AuditCallback: column '{target}' not found in the DataFrame")
        return data
    X, y = data
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot labels
        y = y.argmax(axis=1)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df[target] = y.reshape(len(y))
    return df


class AuditCallback(keras.callbacks.Callback):
    def __init__(self, test_data: Any, out: str | Path = "report", train_data: Any = None, target: str = "target",
                 formats: tuple[str, ...] = ("html", "pdf", "json"), task: str | None = None,
                 title: str | None = None, verbose: bool = True):
        super().__init__()
        self.test_data, self.train_data, self.target = test_data, train_data, target
        self.out, self.formats, self.task, self.title, self.verbose = Path(out), formats, task, title, verbose
        self.logs: dict[str, list[float]] = {}
        self.report = None
        self.paths: dict[str, Path] = {}

    def on_train_begin(self, logs=None):
        self.logs = {}

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            try:
                self.logs.setdefault(k, []).append(float(v))
            except (TypeError, ValueError):
                continue

    def on_train_end(self, logs=None):
        from .pipeline import audit

        history = {k: v for k, v in self.logs.items() if len(v) == len(self.logs.get("loss", []))} or None
        self.report = audit(
            model=self.model, test=_frame(self.test_data, self.target),
            train=_frame(self.train_data, self.target) if self.train_data is not None else None,
            target=self.target, history=history, task=self.task, title=self.title or f"Training audit: {self.model.name}",
        )
        self.paths = self.report.save(self.out, self.formats)
        if self.verbose:
            print("reportgen: report written to " + ", ".join(str(p) for p in self.paths.values()))
