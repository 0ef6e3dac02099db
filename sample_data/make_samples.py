"""Regenerate the sample data that ``reportgen demo`` audits.

Run from anywhere::

    python sample_data/make_samples.py

It rewrites, next to this file:

``breast_cancer/``  train.csv, test.csv, model.keras, history.csv
``co2/``            train.csv, test.csv, model.keras, history.csv

Data sources and provenance
---------------------------
* **Breast cancer** -- the Wisconsin Diagnostic Breast Cancer (WDBC) data set
  (W.N. Street, W.H. Wolberg and O.L. Mangasarian, University of Wisconsin,
  1995), distributed by the UCI Machine Learning Repository
  (https://archive.ics.uci.edu/dataset/17, licensed CC BY 4.0) and shipped
  inside scikit-learn as ``sklearn.datasets.load_breast_cancer`` (no download).
  569 fine-needle-aspirate samples, 30 numeric features, 212 malignant /
  357 benign.
* **CO2** -- the Mauna Loa atmospheric CO2 record (C.D. Keeling and T.P. Whorf,
  Scripps Institution of Oceanography; weekly flask samples, March 1958 to
  December 2001), shipped inside statsmodels as ``statsmodels.datasets.co2``
  (no download).  statsmodels states "This is public domain." and cites:
  Keeling, C.D. and T.P. Whorf. 2004. Atmospheric CO2 concentrations derived
  from flask air samples at sites in the SIO network. In Trends: A Compendium
  of Data on Global Change. CDIAC, Oak Ridge National Laboratory, U.S.
  Department of Energy.

statsmodels is needed only by this script (``pip install statsmodels``); it is
not a dependency of reportgen.

Label encoding (breast cancer)
------------------------------
reportgen encodes string labels in sorted order, so for ``benign``/``malignant``
index 0 = ``benign`` and index 1 = ``malignant``.  The model is trained on
``y = (diagnosis == "malignant")`` and its single sigmoid output is therefore
P(malignant), i.e. the probability of class index 1.  (Note this is the
opposite of scikit-learn's own integer target, where 0 = malignant.)

Everything is seeded (``keras.utils.set_random_seed(0)``, numpy, the split
``random_state``) and TensorFlow op determinism is switched on, so a rerun on
the same software versions reproduces the same files.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # bit-reproducible CPU maths
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import keras  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 0


def _seed() -> None:
    keras.utils.set_random_seed(SEED)  # python, numpy and backend RNGs
    np.random.seed(SEED)
    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - other backends / already enabled
        pass


# ---------------------------------------------------------------------------
# Breast cancer: binary classification, healthy MLP
# ---------------------------------------------------------------------------
def make_breast_cancer(out: Path) -> dict:
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import (
        accuracy_score,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )
    from sklearn.model_selection import train_test_split

    _seed()
    out.mkdir(parents=True, exist_ok=True)

    raw = load_breast_cancer()
    cols = [name.replace(" ", "_") for name in raw.feature_names]
    df = pd.DataFrame(raw.data, columns=cols)
    # sklearn: 0 = malignant, 1 = benign -> readable strings
    df["diagnosis"] = np.asarray(raw.target_names)[raw.target]

    train, test = train_test_split(
        df, test_size=0.25, stratify=df["diagnosis"], random_state=SEED
    )
    train = train.reset_index(drop=True)
    test = test.reset_index(drop=True)
    train.to_csv(out / "train.csv", index=False)
    test.to_csv(out / "test.csv", index=False)

    x_train = train[cols].to_numpy("float32")
    y_train = (train["diagnosis"] == "malignant").to_numpy("float32")
    x_test = test[cols].to_numpy("float32")
    y_test = (test["diagnosis"] == "malignant").to_numpy("float32")

    norm = keras.layers.Normalization(name="standardize")
    norm.adapt(x_train)
    # A light L2 penalty on the hidden layers keeps the net from memorising
    # the 341 fitting rows (without it train loss goes to ~0 and the test
    # probabilities become over-confident); train and val loss stay level.
    l2 = keras.regularizers.L2(1e-2)
    model = keras.Sequential(
        [
            keras.Input(shape=(len(cols),), name="features"),
            norm,
            keras.layers.Dense(
                16, activation="relu", kernel_regularizer=l2, name="hidden_1"
            ),
            keras.layers.Dense(
                8, activation="relu", kernel_regularizer=l2, name="hidden_2"
            ),
            keras.layers.Dense(1, activation="sigmoid", name="p_malignant"),
        ],
        name="wdbc_mlp",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="binary_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="auc")],
    )
    history_path = out / "history.csv"
    model.fit(
        x_train,
        y_train,
        validation_split=0.2,  # last 20% of the (already shuffled) train rows
        epochs=300,
        batch_size=32,
        shuffle=True,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=10, restore_best_weights=True
            ),
            keras.callbacks.CSVLogger(str(history_path)),
        ],
    )
    model.save(out / "model.keras")

    p = model.predict(x_test, verbose=0).ravel().astype("float64")
    p_train = model.predict(x_train, verbose=0).ravel().astype("float64")
    bins = np.minimum((p * 10).astype(int), 9)  # 10 equal-width bins
    ece = sum(
        (bins == b).mean() * abs(p[bins == b].mean() - y_test[bins == b].mean())
        for b in range(10)
        if (bins == b).any()
    )
    hist = pd.read_csv(history_path)
    metrics = {
        "n_train": len(train),
        "n_test": len(test),
        "accuracy": float(accuracy_score(y_test, p >= 0.5)),
        "auc": float(roc_auc_score(y_test, p)),
        "log_loss": float(log_loss(y_test, p)),
        "brier": float(brier_score_loss(y_test, p)),
        "ece_10bins": float(ece),
        "train_accuracy": float(accuracy_score(y_train, p_train >= 0.5)),
        "epochs": len(hist),
        "best_epoch": int(hist["val_loss"].idxmin()) + 1,
    }
    return metrics


# ---------------------------------------------------------------------------
# CO2: one-step-ahead forecasting from a 12-month window
# ---------------------------------------------------------------------------
WINDOW = 12
CO2_TARGET = "co2_next"  # the value at `date` (reportgen demo must use this name)


def _co2_monthly() -> pd.Series:
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data["co2"]
    weekly.index = pd.DatetimeIndex(weekly.index)
    monthly = weekly.resample("MS").mean().interpolate(method="linear")
    return monthly.round(3).dropna()


def _co2_table(series: pd.Series) -> pd.DataFrame:
    values = series.to_numpy()
    rows = {
        "date": [d.strftime("%Y-%m-%d") for d in series.index[WINDOW:]],
    }
    for lag in range(WINDOW, 0, -1):  # lag_12 (oldest) ... lag_1 (newest)
        rows[f"lag_{lag}"] = values[WINDOW - lag : len(values) - lag]
    rows[CO2_TARGET] = values[WINDOW:]  # the value at `date`
    return pd.DataFrame(rows)


def _windows(frame: pd.DataFrame) -> np.ndarray:
    lag_cols = [f"lag_{lag}" for lag in range(WINDOW, 0, -1)]
    return frame[lag_cols].to_numpy("float32").reshape(-1, WINDOW, 1)


def make_co2(out: Path) -> dict:
    _seed()
    out.mkdir(parents=True, exist_ok=True)

    table = _co2_table(_co2_monthly())
    n_test = int(round(0.2 * len(table)))
    train = table.iloc[: len(table) - n_test].reset_index(drop=True)
    test = table.iloc[len(table) - n_test :].reset_index(drop=True)
    train.to_csv(out / "train.csv", index=False)
    test.to_csv(out / "test.csv", index=False)

    # Validation = the last 15% of the training rows, in time order.
    n_val = int(round(0.15 * len(train)))
    fit_part, val_part = train.iloc[:-n_val], train.iloc[-n_val:]
    x_fit, y_fit = _windows(fit_part), fit_part[CO2_TARGET].to_numpy("float32")
    x_val, y_val = _windows(val_part), val_part[CO2_TARGET].to_numpy("float32")

    # The network works on the window *relative to its last value* and
    # predicts the change from lag_1, so it is level-free and extrapolates
    # past the rising trend.  Only built-in layers: loads with safe_mode=True.
    rel_fit = x_fit - x_fit[:, -1:, :]
    delta_scale = float(np.std(y_fit - x_fit[:, -1, 0]))

    inputs = keras.Input(shape=(WINDOW, 1), name="window_ppm")
    last = keras.layers.Cropping1D((WINDOW - 1, 0), name="last_value")(inputs)
    last_rep = keras.layers.UpSampling1D(WINDOW, name="repeat_last")(last)
    rel = keras.layers.Subtract(name="relative_to_last")([inputs, last_rep])
    norm = keras.layers.Normalization(axis=None, name="standardize")
    norm.adapt(rel_fit)
    h = norm(rel)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(16, activation="relu", name="hidden")(h)
    delta = keras.layers.Dense(1, name="delta_scaled")(h)
    delta = keras.layers.Rescaling(delta_scale, name="delta_ppm")(delta)
    last_flat = keras.layers.Flatten(name="last_ppm")(last)
    outputs = keras.layers.Add(name="co2_ppm")([last_flat, delta])
    model = keras.Model(inputs, outputs, name="co2_forecaster")

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=3e-3),
        loss="mse",
        metrics=["mae"],
    )
    history_path = out / "history.csv"
    model.fit(
        x_fit,
        y_fit,
        validation_data=(x_val, y_val),
        epochs=500,
        batch_size=32,
        shuffle=True,  # shuffles windows within the fit part only
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=15, restore_best_weights=True
            ),
            keras.callbacks.CSVLogger(str(history_path)),
        ],
    )
    model.save(out / "model.keras")

    x_test, y_test = _windows(test), test[CO2_TARGET].to_numpy("float64")
    pred = model.predict(x_test, verbose=0).ravel().astype("float64")
    naive = test["lag_1"].to_numpy("float64")
    mae = float(np.mean(np.abs(y_test - pred)))
    mae_naive = float(np.mean(np.abs(y_test - naive)))
    hist = pd.read_csv(history_path)
    return {
        "n_train": len(train),
        "n_test": len(test),
        "train_dates": f"{train['date'].iloc[0]} .. {train['date'].iloc[-1]}",
        "test_dates": f"{test['date'].iloc[0]} .. {test['date'].iloc[-1]}",
        "mae": mae,
        "rmse": float(np.sqrt(np.mean((y_test - pred) ** 2))),
        "mae_naive": mae_naive,
        "mase": mae / mae_naive,
        "epochs": len(hist),
        "best_epoch": int(hist["val_loss"].idxmin()) + 1,
    }


def main() -> None:
    bc = make_breast_cancer(HERE / "breast_cancer")
    print("breast_cancer:", {k: round(v, 4) if isinstance(v, float) else v for k, v in bc.items()})
    co = make_co2(HERE / "co2")
    print("co2:", {k: round(v, 4) if isinstance(v, float) else v for k, v in co.items()})
    if co["mase"] >= 0.8:
        raise SystemExit(f"co2 model not better than naive enough: MASE={co['mase']:.3f}")


if __name__ == "__main__":
    main()
