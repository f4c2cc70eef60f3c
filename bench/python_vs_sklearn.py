#!/usr/bin/python3
"""DeepNetClassifier (deepnet's Python module) against scikit-learn's
MLPClassifier, side by side in one run: fit time and test accuracy on digits
and Fashion-MNIST (docs/python.md, "Against scikit-learn's MLPClassifier").

Data (the same arrays go to both estimators):
  digits         sklearn.datasets.load_digits, 8x8 pixels 0..16 divided by 16,
                 float32; stratified 75/25 split, random_state 0
  fashion-mnist  the IDX .gz files of the Debian package dataset-fashion-mnist
                 (/usr/share/datasets/fashion-mnist), 60000 train / 10000 test,
                 pixels / 255, float32

Table 1, the same settings: one hidden layer of 128 relu units, softmax,
Adam (lr 1e-3, beta 0.9/0.999, eps 1e-8), batches of 128, shuffled every
epoch, no L2, exactly E epochs (--digits-epochs, default 50;
--fmnist-epochs, default 10). MLPClassifier: max_iter=E, tol=0,
n_iter_no_change=E+1 (it never stops early), alpha=0. DeepNetClassifier:
epochs=E, l2=0, normalize='none' (the inputs are scaled here already).

Table 2, each at its own defaults with the same hidden layer:
DeepNetClassifier(layers=(128,)) against MLPClassifier(hidden_layer_sizes=(128,)),
both training until their convergence rule stops them (or 200 epochs).

Threads: both get --threads (default: all cores): deepnet.set_threads for
deepnet, threadpoolctl's BLAS limit for scikit-learn (whose MLP does its
matrix products in the BLAS that numpy and scipy load). The BLAS that ran is
printed. Fit time is the wall time of fit() alone; each fit runs once.

Usage (the module built, e.g. by scripts/bench or cmake --build --preset release):
  PYTHONPATH=build/release/python /usr/bin/python3 bench/python_vs_sklearn.py
  ... --datasets digits --no-defaults --quick   (seconds: checks that it runs)
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in bench/peers
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import common  # noqa: E402 - bench/peers/common.py: Fashion-MNIST reader, BLAS report
from report import cpu_model  # noqa: E402 - bench/report.py (the script's own folder is on sys.path)

try:
    import deepnet
except ImportError as e:
    raise SystemExit("python_vs_sklearn.py: cannot import deepnet (%s): build the target deepnet_python and set "
                     "PYTHONPATH=build/release/python" % e)
import sklearn  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

HIDDEN = 128
BATCH = 128
LR = 1e-3


# ---------------------------------------------------------------- data

def digits_data():
    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.25, random_state=0, stratify=d.target)
    return Xtr, ytr, Xte, yte


def fashion_mnist_data():
    Xtr, ytr = common.fashion_mnist("train")  # float32, / 255
    Xte, yte = common.fashion_mnist("test")
    return Xtr, ytr, Xte, yte


# ---------------------------------------------------------------- measuring

def machine_cpu_seconds():
    """CPU seconds the whole machine has spent busy (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        ticks = sum(int(fields[i]) for i in (1, 2, 3, 6, 7, 8))  # user nice system irq softirq steal
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def timed_fit(estimator, X, y):
    """fit's wall seconds, and the cores other processes kept busy meanwhile."""
    m0, c0 = machine_cpu_seconds(), time.process_time()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: wanted in table 1
        estimator.fit(X, y)
    wall = time.perf_counter() - t0
    m1, c1 = machine_cpu_seconds(), time.process_time()
    others = None
    if m0 is not None and m1 is not None and wall > 0:
        others = max(0.0, ((m1 - m0) - (c1 - c0)) / wall)
    return wall, others


def deepnet_row(clf, wall, others, Xte, yte, settings):
    stop = "fixed" if clf.epochs is not None else ("converged" if clf.converged_ else "max_epochs")
    return {"system": "deepnet (Python)", "settings": settings, "fit_s": wall, "others_cores": others,
            "test_accuracy": float(clf.score(Xte, yte)), "epochs": int(clf.n_iter_), "stopped": stop,
            "final_loss": float(clf.loss_curve_[-1]) if clf.loss_curve_ else None}


def sklearn_row(clf, wall, others, Xte, yte, settings, fixed):
    stop = "fixed" if fixed else ("max_iter" if clf.n_iter_ >= clf.max_iter else "converged")
    return {"system": "scikit-learn", "settings": settings, "fit_s": wall, "others_cores": others,
            "test_accuracy": float(clf.score(Xte, yte)), "epochs": int(clf.n_iter_), "stopped": stop,
            "final_loss": float(clf.loss_)}


def same_settings(name, data, epochs):
    Xtr, ytr, Xte, yte = data
    rows = []
    clf = deepnet.DeepNetClassifier(layers=(HIDDEN,), hidden_activation="relu", optimizer="adam", learning_rate=LR,
                                    beta1=0.9, beta2=0.999, epsilon=1e-8, batch_size=BATCH, epochs=epochs, l2=0.0,
                                    normalize="none", dtype="float32", seed=1)
    wall, others = timed_fit(clf, Xtr, ytr)
    rows.append(deepnet_row(clf, wall, others, Xte, yte,
                            "layers=(128,), adam, lr 1e-3, batch 128, epochs=%d, l2 0, normalize none, float32, seed 1"
                            % epochs))
    mlp = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam", learning_rate_init=LR,
                        beta_1=0.9, beta_2=0.999, epsilon=1e-8, batch_size=BATCH, max_iter=epochs, tol=0.0,
                        n_iter_no_change=epochs + 1, shuffle=True, alpha=0.0, early_stopping=False, random_state=0)
    wall, others = timed_fit(mlp, Xtr, ytr)
    rows.append(sklearn_row(mlp, wall, others, Xte, yte,
                            "hidden_layer_sizes=(128,), adam, lr 1e-3, batch 128, max_iter=%d, tol 0, "
                            "n_iter_no_change %d, alpha 0, %s, random_state 0"
                            % (epochs, epochs + 1, common.dtype_name(mlp.coefs_[0].dtype)), fixed=True))
    for r in rows:
        r["dataset"] = name
    return rows


def defaults(name, data, cap=None):
    """cap: --quick's limit on the epochs (max_epochs, max_iter), else the defaults' 200."""
    Xtr, ytr, Xte, yte = data
    rows = []
    clf = deepnet.DeepNetClassifier(layers=(HIDDEN,)) if cap is None else \
        deepnet.DeepNetClassifier(layers=(HIDDEN,), max_epochs=cap)
    wall, others = timed_fit(clf, Xtr, ytr)
    rows.append(deepnet_row(clf, wall, others, Xte, yte,
                            "DeepNetClassifier(layers=(128,)): adam lr 1e-3, batch auto (%s), tol 1e-4, "
                            "n_iter_no_change 10, max_epochs %d, normalize auto (standard), l2 0"
                            % (min(128, max(16, -(-len(ytr) // 10))), cap or 200)))
    mlp = MLPClassifier(hidden_layer_sizes=(HIDDEN,), random_state=0, **({} if cap is None else {"max_iter": cap}))
    wall, others = timed_fit(mlp, Xtr, ytr)
    rows.append(sklearn_row(mlp, wall, others, Xte, yte,
                            "MLPClassifier(hidden_layer_sizes=(128,)): adam lr 1e-3, batch %d, tol 1e-4, "
                            "n_iter_no_change 10, max_iter %d, alpha 1e-4, random_state 0" % (min(200, len(ytr)), cap or 200),
                            fixed=False))
    for r in rows:
        r["dataset"] = name
    return rows


# ---------------------------------------------------------------- report

def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def table(rows):
    out = ["| data set | system | settings | fit (s) | test accuracy | epochs run | fit time ratio | others' CPU |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for i, r in enumerate(rows):
        ratio = "—"
        if r["system"] == "deepnet (Python)" and i + 1 < len(rows) and rows[i + 1]["dataset"] == r["dataset"]:
            ratio = "%.2f× (scikit-learn / deepnet)" % (rows[i + 1]["fit_s"] / r["fit_s"])
        others = "%.2f" % r["others_cores"] if r["others_cores"] is not None else "?"
        out.append("| %s | %s | %s | %.2f | %.4f | %d (%s) | %s | %s |" % (
            r["dataset"], r["system"], r["settings"], r["fit_s"], r["test_accuracy"], r["epochs"], r["stopped"],
            ratio, others))
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="digits,fashion-mnist", help="comma-separated: digits, fashion-mnist")
    p.add_argument("--digits-epochs", type=int, default=50)
    p.add_argument("--fmnist-epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of both (default: all cores)")
    p.add_argument("--no-defaults", action="store_true", help="skip table 2 (each at its defaults)")
    p.add_argument("--quick", action="store_true",
                   help="2000 Fashion-MNIST training examples, 2 epochs (also at the defaults): a check, seconds")
    p.add_argument("--json", help="also write every row and the machine to this file")
    args = p.parse_args()
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    for n in names:
        if n not in ("digits", "fashion-mnist"):
            p.error("--datasets: unknown data set %r" % n)
    if args.quick:
        args.digits_epochs = args.fmnist_epochs = 2

    deepnet.set_threads(args.threads)
    blas_limit = common.limit_blas_threads(args.threads)
    if blas_limit is None:
        print("python_vs_sklearn.py: threadpoolctl is missing: scikit-learn's BLAS keeps its own thread count",
              file=sys.stderr)

    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = loadavg()
    fixed_rows, default_rows = [], []
    for name in names:
        data = digits_data() if name == "digits" else fashion_mnist_data()
        if args.quick and name == "fashion-mnist":
            data = (data[0][:2000], data[1][:2000], data[2], data[3])
        epochs = args.digits_epochs if name == "digits" else args.fmnist_epochs
        print("%s: %d train / %d test, same settings, %d epochs ..." % (name, len(data[1]), len(data[3]), epochs),
              file=sys.stderr, flush=True)
        fixed_rows += same_settings(name, data, epochs)
        if not args.no_defaults:
            print("%s: each at its defaults ..." % name, file=sys.stderr, flush=True)
            default_rows += defaults(name, data, cap=2 if args.quick else None)

    machine = {
        "date": started, "cpu": cpu_model(), "nproc": os.cpu_count(), "threads": args.threads,
        "deepnet_threads": deepnet.threads(), "blas": common.blas_info(), "python": platform.python_version(),
        "deepnet": deepnet.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__,
        "load_start": load_start, "load_end": loadavg(), "quick": args.quick,
    }
    print("Run of %s%s on %s (%s cores), Python %s, numpy %s, scikit-learn %s, deepnet %s." % (
        machine["date"], " (--quick: not a measurement)" if args.quick else "", machine["cpu"], machine["nproc"],
        machine["python"], machine["numpy"], machine["sklearn"], machine["deepnet"]))
    print("Threads: deepnet %d (deepnet.set_threads); scikit-learn's BLAS: %s. Load average at start %s, at end %s."
          % (machine["deepnet_threads"], machine["blas"], load_start, machine["load_end"]))
    print()
    print("Same settings:")
    print()
    print(table(fixed_rows))
    if default_rows:
        print()
        print("Each at its defaults (hidden layer 128):")
        print()
        print(table(default_rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "same_settings": fixed_rows, "defaults": default_rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
