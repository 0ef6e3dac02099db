"""Cross-validation speed: serial (one worker process) against parallel (one per core).

    python benchmarks/bench_cv.py [--rows 10000] [--features 20] [--folds 5] [--epochs 20]

The issue's budget: 5-fold CV of a two-layer MLP on 10k rows x 20 features, 20 epochs, under
90 s on this machine. Prints the wall time of `reportgen.validation.cross_validate` for each
--jobs setting (worker start-up included), the mean time per fold, the speed-up, and checks
that both runs gave the same fold scores.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def build_context(rows: int, features: int, seed: int = 0):
    import pandas as pd
    from sklearn.datasets import make_classification

    from reportgen._tf import keras
    from reportgen.context import AuditContext
    from reportgen.inputs import build_inputs

    X, y = make_classification(n_samples=rows + 2000, n_features=features, n_informative=features // 2,
                               random_state=seed)
    cols = [f"x{i}" for i in range(features)]
    df = pd.DataFrame(X, columns=cols)
    df["label"] = y
    train, test = df.iloc[:rows].reset_index(drop=True), df.iloc[rows:].reset_index(drop=True)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(train[cols].to_numpy("float32"), train["label"].to_numpy(), epochs=1, batch_size=256, verbose=0)
    inputs = build_inputs(test=test, target="label", model=model, train=train)
    return AuditContext(inputs, progress=lambda m: print("  " + m, file=sys.stderr), seed=seed)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--jobs", default=f"1,{os.cpu_count() or 1}", help="comma-separated --jobs values to time")
    args = ap.parse_args(argv)

    from reportgen.validation import cross_validate

    ctx = build_context(args.rows, args.features)
    results = {}
    for jobs in [int(j) for j in args.jobs.split(",")]:
        ctx.cache["cv_settings"] = {"k": args.folds, "epochs": args.epochs, "batch_size": args.batch_size, "jobs": jobs}
        print(f"jobs={jobs}:", file=sys.stderr)
        started = time.perf_counter()
        cv = cross_validate(ctx)
        wall = time.perf_counter() - started
        fold_s = [s["seconds"] for s in cv["splits"]]
        results[jobs] = (wall, cv)
        print(f"jobs={jobs:<2} workers={cv['jobs']:<2} wall {wall:6.1f} s   per fold {sum(fold_s) / len(fold_s):5.1f} s "
              f"(train + predict)   accuracy {cv['mean']['accuracy']:.4f} +- {cv['std']['accuracy']:.4f}")
    print(f"{args.folds}-fold CV, {args.rows:,} rows x {args.features} features, two-layer MLP (64, 32), "
          f"{args.epochs} epochs, batch {args.batch_size}, {os.cpu_count()} cores")
    if len(results) > 1:
        (j0, (w0, cv0)), *rest = sorted(results.items())
        for j, (w, cv) in rest:
            same = all(a == b for a, b in zip(cv0["folds"], cv["folds"]))
            print(f"speed-up jobs={j} vs jobs={j0}: {w0 / w:.2f}x; identical fold scores: {same}")
    worst = max(w for w, _ in results.values())
    print(f"budget 90 s: {'met' if worst < 90 else 'MISSED'} (slowest setting {worst:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
