"""Model files: safe loading, legacy .h5, corrupt files, shape checks, window reshaping."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import models
from reportgen.cli import main

keras = pytest.importorskip("keras")


def _cli(args, capsys):
    code = main(["audit", "--quiet", "--format", "json"] + args)
    err = capsys.readouterr().err
    return code, [l for l in err.splitlines() if l.strip()]


@pytest.fixture(scope="module")
def saved_binary(healthy_binary, tmp_path_factory):
    d = tmp_path_factory.mktemp("bin")
    case = healthy_binary
    case.model.save(d / "model.keras")
    case.train.to_csv(d / "train.csv", index=False)
    case.test.to_csv(d / "test.csv", index=False)
    pd.DataFrame(case.history).to_csv(d / "history.csv", index_label="epoch")
    return d


def test_keras_and_h5_models_give_same_metrics(saved_binary, healthy_binary, capsys):
    d = saved_binary
    healthy_binary.model.save(d / "model.h5")
    scores = {}
    for name in ("model.keras", "model.h5"):
        code, err = _cli(["--model", str(d / name), "--test", str(d / "test.csv"), "--train", str(d / "train.csv"),
                          "--history", str(d / "history.csv"), "--target", "target", "--out", str(d / name[-2:])], capsys)
        assert code == 0, err
        scores[name] = json.loads((d / name[-2:] / "report.json").read_text())["metrics"]["test"]
    assert scores["model.keras"]["accuracy"] == pytest.approx(scores["model.h5"]["accuracy"])
    assert scores["model.keras"]["accuracy"] > 0.9


def test_corrupt_model_file(saved_binary, capsys):
    d = saved_binary
    (d / "broken.keras").write_bytes(b"PK\x03\x04 definitely not a zip")
    code, err = _cli(["--model", str(d / "broken.keras"), "--test", str(d / "test.csv"), "--target", "target",
                      "--out", str(d / "x")], capsys)
    assert code == 2 and len(err) == 1 and "broken.keras" in err[0] and "Traceback" not in err[0]
    assert not (d / "x").exists()


def test_unsafe_lambda_model_refused_unless_opted_in(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    inp = keras.Input((3,))
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Lambda(lambda t: t * 2.0)(inp))
    model = keras.Model(inp, out)
    model.compile("adam", "binary_crossentropy")
    model.fit(X, y, epochs=2, verbose=0)
    model.save(tmp_path / "lambda.keras")
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y).to_csv(tmp_path / "t.csv", index=False)
    args = ["--model", str(tmp_path / "lambda.keras"), "--test", str(tmp_path / "t.csv"), "--target", "y"]
    code, err = _cli(args + ["--out", str(tmp_path / "r1")], capsys)
    assert code == 2 and len(err) == 1 and "lambda.keras" in err[0] and "--unsafe-load-model" in err[0]
    assert not (tmp_path / "r1").exists()
    code, err = _cli(args + ["--out", str(tmp_path / "r2"), "--unsafe-load-model"], capsys)
    assert code == 0, err


def test_wrong_feature_count_names_both_sides(saved_binary, capsys):
    d = saved_binary
    t = pd.read_csv(d / "test.csv").iloc[:, 3:]
    t.to_csv(d / "fewer.csv", index=False)
    code, err = _cli(["--model", str(d / "model.keras"), "--test", str(d / "fewer.csv"), "--target", "target",
                      "--out", str(d / "y")], capsys)
    assert code == 2 and len(err) == 1 and "30 input values" in err[0] and "27 feature columns" in err[0]


def test_nan_inputs_still_report_with_excluded_rows(saved_binary, capsys):
    d = saved_binary
    t = pd.read_csv(d / "test.csv")
    t.iloc[:7, 0] = np.nan
    t.to_csv(d / "nan.csv", index=False)
    code, err = _cli(["--model", str(d / "model.keras"), "--test", str(d / "nan.csv"), "--target", "target",
                      "--out", str(d / "n")], capsys)
    assert code == 0, err
    j = json.loads((d / "n" / "report.json").read_text())
    assert j["metrics"]["test"]["n"] == len(t) - 7
    assert any("7 test row" in n for n in j["notes"])


def test_window_model_reads_lag_columns(tmp_path, capsys):
    case = models.seasonal_series(n=300)
    inp = keras.Input((12, 1))
    x = keras.layers.Flatten()(inp)
    out = keras.layers.Dense(1)(x)
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    X, y = case.xy(case.train)
    model.fit(X, y, epochs=5, verbose=0)
    model.save(tmp_path / "w.keras")
    case.test.to_csv(tmp_path / "test.csv", index=False)
    code, err = _cli(["--model", str(tmp_path / "w.keras"), "--test", str(tmp_path / "test.csv"), "--target", "y",
                      "--time-column", "step", "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    j = json.loads((tmp_path / "r" / "report.json").read_text())
    assert j["task"] == "forecast"
    Xt, yt = case.xy(case.test)
    expected_mae = float(np.mean(np.abs(model.predict(Xt, verbose=0).ravel() - yt)))
    assert j["metrics"]["test"]["mae"] == pytest.approx(expected_mae, rel=1e-4)
    assert "mase" in j["metrics"]["test"]
