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


def train_lstm(case: Case, *, units: int = 16, epochs: int = 30, batch_size: int = 32, lr: float = 1e-2,
               seed: int = 0) -> Case:
    """An LSTM forecaster reading the lag columns as one window (window, 1).

    It forecasts the change from the last value: the window minus its last value (scaled by the
    spread of one-step changes) goes through LSTM -> Dense(1), scaled back and added to the last
    value, so it follows a trend beyond the training range. Standard layers only (Cropping1D,
    Subtract, Rescaling, Add): it saves, loads in safe mode and clones.
    """
    import keras

    assert case.window, "train_lstm needs a case with lag windows (e.g. seasonal_series())"
    keras.utils.set_random_seed(seed)
    w = case.window
    X, _ = case.xy(case.train)
    y = encoded_y(case, case.train)
    step = float(np.std(np.diff(y))) or 1.0
    inputs = keras.Input(shape=(w, 1))
    last = keras.layers.Cropping1D((w - 1, 0))(inputs)
    x = keras.layers.Rescaling(1.0 / step)(keras.layers.Subtract()([inputs, last]))
    x = keras.layers.LSTM(units)(x)
    x = keras.layers.Rescaling(step)(keras.layers.Dense(1)(x))
    out = keras.layers.Add()([keras.layers.Flatten()(last), x])
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mse", metrics=["mae"])
    h = model.fit(X, y, epochs=epochs, batch_size=batch_size, validation_split=0.2, verbose=0, shuffle=True)
    return Case(case.name, case.task, case.target, case.train, case.test, case.time_column, case.window,
                model, {k: [float(v) for v in vals] for k, vals in h.history.items()})


# -- fault-injection factories (model and training diagnostics) ------------------------------------
def subsample(case: Case, n: int, seed: int = 0) -> Case:
    """The case with only `n` training rows (stratified for classification); test rows unchanged."""
    from sklearn.model_selection import train_test_split

    strat = case.train[case.target] if case.task in ("binary", "multiclass") else None
    part, _ = train_test_split(case.train, train_size=n, random_state=seed, stratify=strat)
    return Case(case.name, case.task, case.target, part.reset_index(drop=True), case.test, case.time_column, case.window)


def build_mlp(case: Case, *, hidden=(16, 8), activation: str = "relu", normalize: bool = True,
              bias_init: float | None = None, output_activation: str | None = None, output_width: int | None = None,
              loss=None, lr: float = 1e-2, optimizer: str = "adam", seed: int = 0):
    """Like build_model, plus the faults build_model cannot express: a constant hidden bias
    initialisation (negative -> dead ReLUs), any output width, and a loss object."""
    import keras

    keras.utils.set_random_seed(seed)
    X, _ = case.xy(case.train)
    inputs = keras.Input(shape=X.shape[1:])
    x = keras.layers.Flatten()(inputs) if case.window else inputs
    if normalize:
        norm = keras.layers.Normalization()
        norm.adapt(X.reshape(len(X), -1) if case.window else X)
        x = norm(x)
    for units in hidden:
        kw = {} if bias_init is None else {"bias_initializer": keras.initializers.Constant(bias_init)}
        x = keras.layers.Dense(units, activation=activation, **kw)(x)
    if case.task == "binary":
        width, act, default_loss, metrics = 1, "sigmoid", "binary_crossentropy", ["accuracy"]
    elif case.task == "multiclass":
        width, act, default_loss, metrics = case.train[case.target].nunique(), "softmax", "sparse_categorical_crossentropy", ["accuracy"]
    else:
        width, act, default_loss, metrics = 1, None, "mse", ["mae"]
    out = keras.layers.Dense(output_width or width,
                             activation=output_activation if output_activation is not None else act)(x)
    model = keras.Model(inputs, out)
    opt = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
           "rmsprop": keras.optimizers.RMSprop}[optimizer](learning_rate=lr)
    model.compile(optimizer=opt, loss=loss or default_loss, metrics=metrics)
    return model


def fit_model(case: Case, model, *, epochs: int = 40, batch_size: int = 32, early_stopping: bool = True,
              patience: int = 8) -> Case:
    """Train a compiled model on the case (validation = last 20% of train); a copy with it."""
    import keras

    X, _ = case.xy(case.train)
    y = encoded_y(case, case.train)
    callbacks = [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)] if early_stopping else []
    h = model.fit(X, y, epochs=epochs, batch_size=batch_size, validation_split=0.2, verbose=0,
                  callbacks=callbacks, shuffle=True)
    return Case(case.name, case.task, case.target, case.train, case.test, case.time_column, case.window,
                model, {k: [float(v) for v in vals] for k, vals in h.history.items()})


_LSTM_CACHE: dict = {}


def healthy_lstm() -> Case:
    """The healthy LSTM forecaster on seasonal_series() (30 epochs), trained once per session."""
    if "lstm" not in _LSTM_CACHE:
        _LSTM_CACHE["lstm"] = train_lstm(seasonal_series(), epochs=30)
    return _LSTM_CACHE["lstm"]


_FAULTS: dict[str, Case] = {}


def fault_case(name: str) -> Case:
    """A real model trained with one injected fault; cached per test session, so the model and
    training test modules share them. Small epochs: each trains in a few seconds."""
    if name in _FAULTS:
        return _FAULTS[name]
    bc = breast_cancer()
    if name == "deep_sigmoid":  # 8 sigmoid hidden layers, plain SGD: vanishing gradients, no learning
        case = train_model(bc, hidden=(16,) * 8, activation="sigmoid", optimizer="sgd", epochs=12)
    elif name == "dead_relu":  # hidden biases initialised at -3: most ReLUs never fire
        case = fit_model(bc, build_mlp(bc, hidden=(32, 32, 32), bias_init=-3.0), epochs=8)
    elif name == "sgd_lr5":  # learning rate 5 with SGD: a blow-up in the first epoch, then collapse
        case = train_model(bc, lr=5.0, optimizer="sgd", epochs=12, early_stopping=False)
    elif name == "nan_regression":  # SGD lr 5 on an unscaled regression target: NaN weights
        case = train_model(diabetes(), lr=5.0, optimizer="sgd", epochs=4, hidden=(16,), early_stopping=False)
    elif name == "lr_1e-6":  # learning rate 1e-6: the loss barely moves
        case = train_model(bc, lr=1e-6, epochs=12)
    elif name == "three_epochs":  # stopped after 3 epochs while still improving fast
        case = train_model(bc, lr=1e-3, epochs=3)
    elif name == "tiny_unscaled_wine":  # 2 hidden units, no normalisation: underfits
        case = train_model(wine(), epochs=60, hidden=(2,), normalize=False)
    elif name == "one_unit_wine":  # a 1-unit bottleneck for 3 classes: too small
        w = wine()
        case = fit_model(w, build_mlp(w, hidden=(1,)), epochs=80)
    elif name == "huge_on_60_rows":  # 74k parameters, 60 rows, 60 epochs without early stopping
        small = subsample(bc, 60)
        case = fit_model(small, build_mlp(small, hidden=(256, 256)), epochs=60, batch_size=16, early_stopping=False)
    elif name == "softmax_width1":  # softmax over one unit: always 1.0
        case = fit_model(bc, build_mlp(bc, output_activation="softmax"), epochs=3)
    elif name == "linear_bce":  # linear output with binary_crossentropy(from_logits=False)
        case = fit_model(bc, build_mlp(bc, output_activation="linear"), epochs=10)
    elif name == "sigmoid_regression":  # sigmoid output on a target in 25..346
        d = diabetes()
        case = fit_model(d, build_mlp(d, output_activation="sigmoid"), epochs=5)
    else:
        raise KeyError(f"unknown fault case {name!r}")
    _FAULTS[name] = case
    return case
