"""Speed and memory of whole `reportgen audit` runs, each in a fresh process (as a user runs it).

    python benchmarks/bench_report.py            # all scenarios
    python benchmarks/bench_report.py --quick    # skip the 1M-row and 100k-model scenarios

Prints wall time, peak RSS of the child process and output sizes. Targets (issues 2 and 3):
predictions-only binary 1M rows HTML+JSON < 4 s, HTML < 400 KB, RSS < 1 GB; model audit on
1k test rows with history, all formats < 20 s; full audit 100k train + 100k test x 20 features
< 40 s.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_binary(d: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10)).astype(np.float32)
    logit = X[:, 0] * 1.5 - X[:, 1] + 0.5 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    p = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.3, n))))
    test = d / f"test_{n}.csv"
    pred = d / f"pred_{n}.csv"
    pd.DataFrame(X, columns=[f"f{i}" for i in range(10)]).assign(label=y).to_csv(test, index=False, float_format="%.5g")
    pd.DataFrame({"score": p}).to_csv(pred, index=False, float_format="%.6g")
    return test, pred


def make_model_case(d: Path, n_train: int, n_test: int, n_features: int, epochs: int) -> dict[str, Path]:
    from reportgen._tf import keras  # quiet TensorFlow import

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    n = n_train + n_test
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    w = rng.normal(size=n_features)
    y = ((X @ w + rng.normal(0, 1.0, n)) > 0).astype(np.int8)
    cols = [f"f{i}" for i in range(n_features)]
    train = pd.DataFrame(X[:n_train], columns=cols).assign(label=y[:n_train])
    test = pd.DataFrame(X[n_train:], columns=cols).assign(label=y[n_train:])
    norm = keras.layers.Normalization()
    norm.adapt(X[:n_train])
    model = keras.Sequential([keras.Input((n_features,)), norm, keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    tag = f"{n_train}_{n_test}"
    paths = {k: d / f"{k}_{tag}.{ext}" for k, ext in (("model", "keras"), ("train", "csv"), ("test", "csv"), ("history", "csv"))}
    model.fit(X[:n_train], y[:n_train], epochs=epochs, batch_size=256, validation_split=0.2, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(paths["history"]))])
    model.save(paths["model"])
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    return paths


def run(label: str, args: list[str], out: Path) -> None:
    cmd = [sys.executable, "-m", "reportgen", "audit", "--quiet", "--out", str(out)] + args
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over children so far, KiB
    if p.returncode not in (0, 1):
        print(f"{label}: FAILED rc={p.returncode}: {p.stderr.strip()[-300:]}")
        return
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 1024:.0f} KB" for f in sorted(out.glob("report.*")))
    peak = f"{rss / 1024:.0f} MB" if rss > before else f"<= {rss / 1024:.0f} MB"
    print(f"{label:<58} {wall:6.2f} s   peak RSS {peak:>9}   {sizes}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rg-bench-") as tmp:
        d = Path(tmp)
        sizes = [100_000] if opts.quick else [100_000, 1_000_000]
        for n in sizes:
            test, pred = make_binary(d, n)
            base = ["--predictions", str(pred), "--test", str(test), "--target", "label"]
            run(f"predictions-only binary, {n:,} rows, html+json", base + ["--format", "html,json"], d / f"p{n}")
            run(f"predictions-only binary, {n:,} rows, html+json+pdf", base, d / f"q{n}")
        m = make_model_case(d, 4000, 1000, 20, 15)
        run("model audit, 1k test rows + history, all formats", ["--model", str(m["model"]), "--test", str(m["test"]),
            "--history", str(m["history"]), "--target", "label"], d / "m1k")
        run("model audit, 1k test + 4k train + history, all formats", ["--model", str(m["model"]), "--test", str(m["test"]),
            "--train", str(m["train"]), "--history", str(m["history"]), "--target", "label"], d / "m1kt")
        if not opts.quick:
            m = make_model_case(d, 100_000, 100_000, 20, 3)
            run("full audit, 100k train + 100k test x 20, all formats", ["--model", str(m["model"]), "--test", str(m["test"]),
                "--train", str(m["train"]), "--history", str(m["history"]), "--target", "label"], d / "m100k")


if __name__ == "__main__":
    main()
