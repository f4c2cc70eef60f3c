#!/usr/bin/python3
"""deepnet's defaults against scikit-learn's on small tabular data, side by side.

For breast cancer, iris, wine, digits and two-moons: a stratified 75/25 split
(random_state 0) written to CSV files with a header, then
  deepnet train --data train.csv --layers 100 --test test.csv --json
(nothing else: the defaults) and scikit-learn's MLPClassifier with its defaults
(hidden_layer_sizes=(100,), adam, lr 1e-3, batch min(200, m), max_iter 200,
tol 1e-4, n_iter_no_change 10) on standardised features (StandardScaler fitted
on the training part), random_state 0..4 for both (deepnet's --seed 1..5).
Prints a Markdown table: mean test accuracy over the 5 seeds, the mean
epochs, and the wall time of the whole run per seed.

Usage: bench/defaults_vs_sklearn.py [--deepnet build/release/deepnet] [--seeds 5]
Needs Debian's python3-numpy and python3-sklearn (scripts name /usr/bin/python3).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def datasets():
    for name, loader in [("breast-cancer", load_breast_cancer), ("iris", load_iris), ("wine", load_wine),
                         ("digits", load_digits)]:
        d = loader()
        yield name, d.data, d.target, [str(f).replace(",", " ") for f in d.feature_names]
    X, y = make_moons(n_samples=1000, noise=0.2, random_state=0)
    yield "two-moons", X, y, ["x1", "x2"]


def write_csv(path, X, y, names):
    with open(path, "w") as f:
        f.write(",".join(names + ["target"]) + "\n")
        for row, label in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deepnet", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "deepnet"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--layers", default="100")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, X, y, names in datasets():
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
            train_csv, test_csv = os.path.join(tmp, name + "-train.csv"), os.path.join(tmp, name + "-test.csv")
            write_csv(train_csv, X_train, y_train, names)
            write_csv(test_csv, X_test, y_test, names)
            d_acc, d_epochs, d_time, s_acc, s_epochs, s_time, d_warn, s_warn = [], [], [], [], [], [], 0, 0
            for seed in range(args.seeds):
                start = time.perf_counter()
                out = subprocess.run([args.deepnet, "train", "--data", train_csv, "--layers", args.layers, "--test",
                                      test_csv, "--json", "--seed", str(seed + 1)],
                                     capture_output=True, text=True, check=True)
                d_time.append(time.perf_counter() - start)
                result = json.loads(out.stdout)
                d_acc.append(result["test"]["accuracy"])
                d_epochs.append(result["epochs"])
                d_warn += "did not converge" in out.stderr

                start = time.perf_counter()
                scaler = StandardScaler().fit(X_train)
                clf = MLPClassifier(hidden_layer_sizes=tuple(int(n) for n in args.layers.split(",")), random_state=seed)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    clf.fit(scaler.transform(X_train), y_train)
                s_warn += any(issubclass(w.category, ConvergenceWarning) for w in caught)
                s_acc.append(clf.score(scaler.transform(X_test), y_test))
                s_time.append(time.perf_counter() - start)
                s_epochs.append(clf.n_iter_)
            rows.append((name, len(y_train), len(y_test), np.mean(d_acc), np.mean(s_acc), np.mean(d_epochs),
                         np.mean(s_epochs), np.mean(d_time), np.mean(s_time), d_warn, s_warn))
    print(f"deepnet train --data TRAIN.csv --layers {args.layers} --test TEST.csv  vs  "
          f"StandardScaler + MLPClassifier(hidden_layer_sizes=({args.layers},)), {args.seeds} seeds each\n")
    print("| data | train/test | deepnet test acc | sklearn test acc | difference (points) | deepnet epochs | sklearn epochs "
          "| deepnet s (whole command) | sklearn s (fit) | not converged (deepnet/sklearn) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for (name, m_train, m_test, da, sa, de, se, dt, st, dw, sw) in rows:
        worst = max(worst, (sa - da) * 100)
        print(f"| {name} | {m_train}/{m_test} | {da:.4f} | {sa:.4f} | {100 * (da - sa):+.1f} | {de:.0f} | {se:.0f} "
              f"| {dt:.2f} | {st:.2f} | {dw}/{sw} of {args.seeds} |")
    print(f"\nlargest shortfall of deepnet against scikit-learn: {worst:.1f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
