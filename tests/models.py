"""Real data and real, small Keras models for tests (seconds each, deterministic).

Factories, not fixtures, so any test module can build a variant with one fault injected
(e.g. `train_model(case, normalize=False)` for unscaled inputs). conftest.py caches the
healthy ones per session.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd


@dataclass
class Case:
    """A data set split into train/test frames, plus (after training) a model and history."""

    name: str
    task: str
    target: str
    train: pd.DataFrame
    test: pd.DataFrame
    time_column: str | None = None
    window: int | None = None  # forecast: number of lag columns read as (window, 1)
    model: object = None
    history: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [c for c in self.train.columns if c not in (self.target, self.time_column)]

    def xy(self, df: pd.DataFrame):
        X = df[self.features].to_numpy(dtype="float32")
        if self.window:
            X = X.reshape(len(X), self.window, 1)
        y = df[self.target].to_numpy()
        return X, y


def _split(df: pd.DataFrame, target: str, seed: int, stratify: bool, test_size: float = 0.25):
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(df, test_size=test_size, random_state=seed,
                              stratify=df[target] if stratify else None)
    return tr.reset_index(drop=True), te.reset_index(drop=True)


def breast_cancer(seed: int = 0) -> Case:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer(as_frame=True)
    df = d.frame.rename(columns=lambda c: c.replace(" ", "_"))
    df["target"] = 1 - df["target"]  # 1 = malignant
    tr, te = _split(df, "target", seed, True)
    return Case("breast_cancer", "binary", "target", tr, te)


def wine(seed: int = 0) -> Case:
    from sklearn.datasets import load_wine

    d = load_wine(as_frame=True)
    df = d.frame.copy()
    df["target"] = df["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    tr, te = _split(df, "target", seed, True, 0.3)
    return Case("wine", "multiclass", "target", tr, te)


def diabetes(seed: int = 0) -> Case:
    from sklearn.datasets import load_diabetes

    d = load_diabetes(as_frame=True, scaled=False)
    tr, te = _split(d.frame, "target", seed, False)
    return Case("diabetes", "regression", "target", tr, te)


def seasonal_series(n: int = 600, window: int = 12, seed: int = 0) -> Case:
    """A noisy seasonal series with trend, as lag windows; split in time order."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + window)
    y = 50 + 0.05 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1.0, len(t))
    rows = [list(y[i:i + window]) + [y[i + window], i + window] for i in range(n)]
    cols = [f"lag_{window - j}" for j in range(window)] + ["y", "step"]
    df = pd.DataFrame(rows, columns=cols)
    cut = int(n * 0.8)
    return Case("seasonal", "forecast", "y", df.iloc[:cut].reset_index(drop=True),
                df.iloc[cut:].reset_index(drop=True), time_column="step", window=window)


def build_model(case: Case, *, normalize: bool = True, hidden=(16, 8), activation: str = "relu",
                output_activation: str | None = None, loss: str | None = None, lr: float = 1e-2,
                optimizer: str = "adam", seed: int = 0):
    """A small MLP (or window MLP for forecasts) for the case's task, compiled."""
    import keras

    keras.utils.set_random_seed(seed)
    X, y = case.xy(case.train)
    inputs = keras.Input(shape=X.shape[1:])
    x = inputs
    if case.window:
        x = keras.layers.Flatten()(x)
    if normalize:
        norm = keras.layers.Normalization()
        norm.adapt(X.reshape(len(X), -1) if case.window else X)
        x = norm(x)
    for units in hidden:
        x = keras.layers.Dense(units, activation=activation)(x)
    if case.task == "binary":
        out = keras.layers.Dense(1, activation=output_activation or "sigmoid")(x)
        loss = loss or "binary_crossentropy"
        metrics = ["accuracy"]
    elif case.task == "multiclass":
        k = case.train[case.target].nunique()
        out = keras.layers.Dense(k, activation=output_activation or "softmax")(x)
        loss = loss or "sparse_categorical_crossentropy"
        metrics = ["accuracy"]
    else:
        out = keras.layers.Dense(1, activation=output_activation)(x)
        loss = loss or "mse"
        metrics = ["mae"]
    model = keras.Model(inputs, out)
    opt = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[optimizer](learning_rate=lr)
    model.compile(optimizer=opt, loss=loss, metrics=metrics)
    return model


def encoded_y(case: Case, df: pd.DataFrame) -> np.ndarray:
    y = df[case.target]
    if case.task == "multiclass":
        labels = sorted(pd.concat([case.train[case.target], case.test[case.target]]).unique())
        return y.map({lab: i for i, lab in enumerate(labels)}).to_numpy()
    if case.task in ("regression", "forecast"):
        return y.to_numpy(dtype="float32")
    return y.to_numpy()


def train_model(case: Case, *, epochs: int = 40, batch_size: int = 32, early_stopping: bool = True,
                target_scale: float | None = None, seed: int = 0, **model_kwargs) -> Case:
    """Train a model on the case (validation = last 20% of train) and return a copy with it."""
    import keras

    model = build_model(case, seed=seed, **model_kwargs)
    X, _ = case.xy(case.train)
    y = encoded_y(case, case.train)
    callbacks = []
    if early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True))
    h = model.fit(X, y, epochs=epochs, batch_size=batch_size, validation_split=0.2, verbose=0,
                  callbacks=callbacks, shuffle=True)
    return Case(case.name, case.task, case.target, case.train, case.test, case.time_column, case.window,
                model, {k: [float(v) for v in vals] for k, vals in h.history.items()})
