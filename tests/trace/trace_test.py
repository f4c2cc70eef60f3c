#!/usr/bin/python3
"""deepnet trace against a plain numpy implementation of the course's equations.

    trace_test.py DEEPNET WORKDIR CASE      CASE: numpy | same-bits | compare

numpy      every array of `deepnet trace` (iterations 0 and 1) equals the
           course's forward and backward propagation written here in numpy
           (from README's "The math", independently of deepnet) to 1e-12, for
           every hidden activation, a sigmoid and a softmax output, L = 1, 2, 3.
same-bits  the parameters after the traced step (W1_next, ...) are the bits
           `deepnet train` has after K + 1 steps (full batch and mini-batch).
compare    --compare finds planted mistakes (arrays of the numpy reference,
           deliberately broken) and names them; a correct set exits 0; bad
           files give one line naming the file and the array.
"""
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np

DEEPNET, WORK, CASE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def run(args, expect=None):
    p = subprocess.run([DEEPNET] + args, cwd=WORK, capture_output=True, text=True, timeout=300)
    if expect is not None and p.returncode != expect:
        failures.append("exit %d (expected %d): deepnet %s\n%s%s" % (p.returncode, expect, " ".join(args), p.stdout, p.stderr))
        print("FAIL:", failures[-1])
    return p


# ---------------------------------------------------------------- data, read from the repository's files

def planar():
    rows = np.loadtxt(os.path.join(DATA, "planar_flower.csv"), delimiter=",", skiprows=1)
    return rows[:, :2].T.copy(), rows[:, 2:].T.copy()  # X (2, 400), Y (1, 400)


def iris():
    rows = np.loadtxt(os.path.join(DATA, "iris.csv"), delimiter=",", skiprows=1)
    X = rows[:, :4].T.copy()
    labels = rows[:, 4].astype(int)
    Y = np.zeros((3, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0  # one-hot columns
    return X, Y


# ---------------------------------------------------------------- the course's equations

def g(name, Z):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(0, Z)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "linear":
        return Z
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        return E / E.sum(axis=0, keepdims=True)
    raise ValueError(name)


def g_prime(name, Z, A):
    if name == "sigmoid":
        return A * (1 - A)
    if name == "tanh":
        return 1 - A ** 2
    if name == "relu":
        return (Z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(Z > 0, 1.0, 0.01)
    if name == "linear":
        return np.ones_like(Z)
    raise ValueError(name)


def initialize(sizes, seed):
    np.random.seed(seed)
    p = {}
    for l in range(1, len(sizes)):
        p["W%d" % l] = np.random.randn(sizes[l], sizes[l - 1]) * 0.01
        p["b%d" % l] = np.zeros((sizes[l], 1))
    return p


def step(p, X, Y, hidden, output, lr):
    """One iteration of gradient descent; returns every named value."""
    L = len(p) // 2
    m = X.shape[1]
    v = {"X": X, "Y": Y}
    v.update({k: a.copy() for k, a in p.items()})
    A = X
    for l in range(1, L + 1):
        Z = p["W%d" % l] @ A + p["b%d" % l]
        A = g(output if l == L else hidden, Z)
        v["Z%d" % l], v["A%d" % l] = Z, A
    AL = A
    if output == "sigmoid":
        v["cost"] = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
        v["dA%d" % L] = -(Y / AL - (1 - Y) / (1 - AL))
    else:
        v["cost"] = -np.sum(Y * np.log(AL)) / m
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev = X if l == 1 else v["A%d" % (l - 1)]
        v["dZ%d" % l] = dZ
        v["dW%d" % l] = dZ @ A_prev.T / m
        v["db%d" % l] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            dA = p["W%d" % l].T @ dZ
            v["dA%d" % (l - 1)] = dA
            dZ = dA * g_prime(hidden, v["Z%d" % (l - 1)], v["A%d" % (l - 1)])
    nxt = {}
    for l in range(1, L + 1):
        nxt["W%d" % l] = p["W%d" % l] - lr * v["dW%d" % l]
        nxt["b%d" % l] = p["b%d" % l] - lr * v["db%d" % l]
        v["W%d_next" % l], v["b%d_next" % l] = nxt["W%d" % l], nxt["b%d" % l]
    return v, nxt


def reference(X, Y, sizes, hidden, output, lr, seed, iterations):
    p = initialize(sizes, seed)
    out = []
    for _ in range(iterations):
        v, p = step(p, X, Y, hidden, output, lr)
        out.append(v)
    return out


def trace_args(data, layers, hidden, lr, seed, iteration, out, extra=()):
    return ["trace", "--data", data, "--layers", layers, "--hidden-activation", hidden, "--lr", str(lr),
            "--iterations", "100", "--init", "small", "--init-scale", "0.01", "--rng", "numpy", "--seed", str(seed),
            "--dtype", "float64", "--iteration", str(iteration), "--out", out, "--quiet"] + list(extra)


def case_numpy():
    ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
    runs = []
    Xp, Yp = planar()
    Xi, Yi = iris()
    for a in ACTIVATIONS:
        runs.append(("planar", "4", a, "sigmoid", [2, 4, 1], Xp, Yp, 1.2, 2))
        runs.append(("iris", "5,3", a, "softmax", [4, 5, 3, 3], Xi, Yi, 0.1, 1))
    runs.append(("planar", "", "relu", "sigmoid", [2, 1], Xp, Yp, 1.2, 2))  # logistic regression, L = 1
    compared = 0
    for data, layers, hidden, output, sizes, X, Y, lr, seed in runs:
        ref = reference(X, Y, sizes, hidden, output, lr, seed, 2)
        for k in (0, 1):
            path = "%s-%s-%s-%d.npz" % (data, layers.replace(",", "_") or "none", hidden, k)
            p = run(trace_args(data, layers, hidden, lr, seed, k, path), expect=0)
            if p.returncode != 0:
                continue
            got = np.load(os.path.join(WORK, path))
            want = ref[k]
            what = "%s --layers '%s' %s/%s iteration %d" % (data, layers, hidden, output, k)
            check(sorted(got.files) == sorted(want.keys()),
                  "%s: names %s, expected %s" % (what, sorted(got.files), sorted(want.keys())))
            for name in want:
                if name not in got.files:
                    continue
                a, b = got[name], np.asarray(want[name], dtype=float)
                check(a.dtype == np.float64, "%s: %s is %s, expected float64" % (what, name, a.dtype))
                check(a.shape == b.shape, "%s: %s has shape %s, expected %s" % (what, name, a.shape, b.shape))
                if a.shape == b.shape:
                    err = float(np.max(np.abs(a - b))) if a.size else 0.0
                    scale = max(1.0, float(np.max(np.abs(b))))
                    check(err <= 1e-12 * scale, "%s: %s differs from numpy by %.3g" % (what, name, err))
                    compared += 1
    print("compared %d arrays with the numpy reference" % compared)
    check(compared > 300, "too few arrays compared: %d" % compared)
    # float32 runs write float32.
    p = run(["trace", "--data", "planar", "--layers", "4", "--iterations", "5", "--dtype", "float32", "--quiet",
             "--out", "f32.npz"], expect=0)
    if p.returncode == 0:
        got = np.load(os.path.join(WORK, "f32.npz"))
        check(all(got[k].dtype == np.float32 for k in got.files), "a float32 run wrote %s" %
              sorted({str(got[k].dtype) for k in got.files}))


# ---------------------------------------------------------------- same bits as train

def model_parameters(model):
    npz = model + ".npz"
    run(["export", "--model", model, "--npz", npz], expect=0)
    return np.load(os.path.join(WORK, npz))


def case_same_bits():
    common = ["--data", "planar", "--layers", "4", "--hidden-activation", "tanh", "--lr", "1.2", "--init", "small",
              "--rng", "numpy", "--seed", "2", "--dtype", "float64", "--quiet"]
    for K in (0, 5):
        run(["trace"] + common + ["--iterations", "100", "--iteration", str(K), "--out", "t%d.npz" % K], expect=0)
        run(["train"] + common + ["--iterations", str(K + 1), "--out", "m%d.dnn" % K], expect=0)
        t = np.load(os.path.join(WORK, "t%d.npz" % K))
        m = model_parameters("m%d.dnn" % K)
        for name in ("W1", "b1", "W2", "b2"):
            check(np.array_equal(t[name + "_next"], m[name]),
                  "full batch K=%d: %s_next is not train's %s after %d iterations" % (K, name, name, K + 1))
        check(not np.array_equal(t["W1_next"], t["W1"]), "K=%d: the update changed nothing" % K)
    # Mini-batch (float32, adam, 4 steps an epoch): step 7 is the last step of epoch 2.
    mb = ["--data", "planar", "--layers", "6", "--batch-size", "100", "--seed", "3", "--quiet", "--l2", "0.01"]
    run(["trace"] + mb + ["--epochs", "5", "--iteration", "7", "--out", "mb.npz"], expect=0)
    run(["train"] + mb + ["--epochs", "2", "--out", "mb.dnn"], expect=0)
    t = np.load(os.path.join(WORK, "mb.npz"))
    m = model_parameters("mb.dnn")
    for name in ("W1", "b1", "W2", "b2"):
        check(t[name + "_next"].dtype == np.float32, "mini-batch: %s_next is %s" % (name, t[name + "_next"].dtype))
        check(np.array_equal(t[name + "_next"], m[name].astype(np.float32)),
              "mini-batch: %s_next is not train's %s after 2 epochs" % (name, name))
    check(t["X"].shape == (2, 100), "mini-batch: X is %s, expected the batch (2, 100)" % (t["X"].shape,))
    # The batch's columns are examples of the (standardised) data: 100 distinct ones.
    check(len({tuple(c) for c in t["X"].T}) == 100, "mini-batch: the batch's columns are not 100 distinct examples")
    # A step past the end of the run is refused, naming --iteration.
    p = run(["trace"] + mb + ["--epochs", "2", "--iteration", "8"], expect=2)
    check("--iteration" in p.stderr and p.stderr.count("\n") == 1, "past the end: %r" % p.stderr)
    p = run(["trace"] + common + ["--iterations", "3", "--iteration", "3"], expect=2)
    check("--iteration" in p.stderr and "3 iterations" in p.stderr, "past the end (full batch): %r" % p.stderr)
    check(not os.path.exists(os.path.join(WORK, "none.npz")), "a refused trace left a file")


# ---------------------------------------------------------------- --compare and its hints

def case_compare():
    X, Y = planar()
    m = X.shape[1]
    ref = reference(X, Y, [2, 4, 1], "tanh", "sigmoid", 1.2, 2, 2)
    base = ["trace", "--data", "planar", "--layers", "4", "--hidden-activation", "tanh", "--lr", "1.2",
            "--iterations", "10", "--init", "small", "--rng", "numpy", "--seed", "2", "--dtype", "float64", "--quiet"]

    def compare(arrays, k=0, expect=1, name="mine.npz"):
        np.savez(os.path.join(WORK, name), **arrays)
        return run(base + ["--iteration", str(k), "--compare", name], expect=expect)

    def planted(what, arrays, first, hints, k=0):
        p = compare(arrays, k)
        line = p.stdout
        check(("%s differs" % first) in line, "%s: expected '%s differs', got %r" % (what, first, line + p.stderr))
        for h in hints:
            check(h in line, "%s: expected the hint %r in %r" % (what, h, line))

    v = ref[0]
    good = dict(v)
    p = compare(good, expect=0)
    check("all %d arrays match" % len(good) in p.stdout, "the reference itself: %r" % p.stdout)
    p = compare({"dW1": v["dW1"], "cost": np.array(v["cost"])}, expect=0)  # any subset
    check("all 2 arrays match" in p.stdout, "a subset: %r" % p.stdout)
    p = compare(dict(ref[1]), k=1, expect=0)
    check("match" in p.stdout, "iteration 1: %r" % p.stdout)

    planted("missing 1/m", {"dW2": v["dZ2"] @ v["A1"].T}, "dW2", ["factor of 400 = m", "1/m is missing"])
    planted("1/m twice", {"dW2": v["dW2"] / m}, "dW2", ["1/m", "divide by m twice"])
    planted("factor 2", {"dW1": 2 * v["dW1"]}, "dW1", ["factor of 2", "largest at ["])
    planted("missing transpose (shape)", {"dW1": v["dW1"].T}, "dW1", ["(2, 4)", "(4, 2)", "transpose"])
    planted("X transposed", {"X": v["X"].T}, "X", ["(400, 2)", "transpose"])
    planted("sigmoid' for tanh", {"dZ1": v["dA1"] * v["A1"] * (1 - v["A1"])}, "dZ1",
            ["sigmoid's derivative", "layer 1 is tanh", "1 - A1**2"])
    planted("Z for A in tanh'", {"dZ1": v["dA1"] * (1 - v["Z1"] ** 2)}, "dZ1", ["uses Z where A belongs"])
    planted("db over the wrong axis", {"db1": np.sum(v["dZ1"], axis=0, keepdims=True) / m}, "db1",
            ["(1, 400)", "wrong axis"])
    planted("db not summed", {"db1": v["dZ1"] / m}, "db1", ["(4, 400)", "not summed"])
    planted("b broadcast over the wrong axis", {"b1": np.zeros((1, m))}, "b1", ["(1, 400)", "wrong axis"])
    planted("b a row", {"b1": v["b1"].T}, "b1", ["(1, 4)", "transpose"])
    planted("np.dot vs *", {"dW2": v["dZ2"] * v["A1"] / m}, "dW2", ["(4, 400)", "np.dot vs *"])
    planted("wrong shape", {"dW1": np.zeros((3, 2))}, "dW1", ["(3, 2)", "(n[1], n[0])", "wrong shape"])
    planted("rank-1", {"b1": np.zeros(4)}, "b1", ["(4,)", "rank-1"])
    planted("sign flipped", {"dZ2": Y - v["A2"]}, "dZ2", ["sign is flipped"])
    planted("no b", {"Z1": ref[1]["W1"] @ X}, "Z1", ["lacks + b1"], k=1)
    planted("NaN", {"cost": np.array(np.nan)}, "cost", ["NaN"])
    planted("cost without 1/m", {"cost": np.array(v["cost"] * m)}, "cost", ["1/m is missing"])
    # The first difference in forward-then-backward order is the one reported.
    both = dict(good)
    both["dW1"] = 2 * v["dW1"]
    both["dW2"] = 2 * v["dW2"]
    p = compare(both)
    check("dW2 differs" in p.stdout and "dW1 differs" not in p.stdout, "order (backward): %r" % p.stdout)
    check("not compared after it: " in p.stdout and "dW1" in p.stdout.split("not compared after it: ")[-1],
          "the rest is named: %r" % p.stdout)
    fwd = dict(good)
    fwd["Z1"] = v["Z1"] + 1
    fwd["dW2"] = 2 * v["dW2"]
    p = compare(fwd)
    check("Z1 differs" in p.stdout and "dW2 differs" not in p.stdout, "order (forward first): %r" % p.stdout)
    # Aliases of the course's L-layer code.
    p = compare({"AL": v["A2"], "dAL": v["dA2"]}, expect=0)
    check("all 2 arrays match" in p.stdout, "aliases: %r" % p.stdout)

    # Bad files: one line naming the file (and the array), exit 3, before training.
    with open(os.path.join(WORK, "garbage.npz"), "wb") as f:
        f.write(b"not a zip file at all")
    p = run(base + ["--compare", "garbage.npz"], expect=3)
    check(p.stderr.count("\n") == 1 and "garbage.npz" in p.stderr, "garbage: %r" % p.stderr)
    p = run(base + ["--compare", "missing.npz"], expect=3)
    check(p.stderr.count("\n") == 1 and "missing.npz" in p.stderr, "missing: %r" % p.stderr)
    with zipfile.ZipFile(os.path.join(WORK, "bad-member.npz"), "w") as z:
        z.writestr("W1.npy", b"\x93NUMPY\x01\x00garbage")
    p = run(base + ["--compare", "bad-member.npz"], expect=3)
    check(p.stderr.count("\n") == 1 and "bad-member.npz" in p.stderr and "W1" in p.stderr, "bad member: %r" % p.stderr)
    np.savez(os.path.join(WORK, "names.npz"), weights=np.zeros(3))
    p = run(base + ["--compare", "names.npz"], expect=3)
    check(p.stderr.count("\n") == 1 and "names.npz" in p.stderr and "weights" in p.stderr, "unknown names: %r" % p.stderr)
    p = run(base + ["--compare", "mine.npz", "--history", "h.csv"], expect=2)
    check("--history" in p.stderr, "--history is refused: %r" % p.stderr)
    p = run(base + ["--train-score", "pass"], expect=2)
    check("--train-score" in p.stderr and p.stderr.count("\n") == 1, "--train-score is refused: %r" % p.stderr)
    # Runs whose steps the course's equations do not describe are refused, naming the flag.
    for extra, flag in [(["--class-weight", "balanced"], "--class-weight"), (["--dropout", "0.2"], "--dropout"),
                        (["--clip-norm", "1"], "--clip-norm")]:
        p = run(["trace", "--data", "iris", "--layers", "5", "--epochs", "2", "--batch-size", "16", "--iteration", "0"]
                + extra, expect=2)
        check(p.stderr.count("\n") == 1 and flag in p.stderr, "%s is refused: %r" % (flag, p.stderr))
    with open(os.path.join(WORK, "weighted.csv"), "w") as f:
        f.write("a,b,w,y\n1,2,1,0\n2,3,2,1\n3,1,1,0\n4,4,2,1\n")
    p = run(["trace", "--data", "weighted.csv", "--sample-weight-column", "w", "--layers", "2", "--epochs", "1",
             "--iteration", "0"], expect=3)
    check(p.stderr.count("\n") == 1 and "weighted.csv" in p.stderr and "weights" in p.stderr,
          "example weights are refused: %r" % p.stderr)


if __name__ == "__main__":
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    {"numpy": case_numpy, "same-bits": case_same_bits, "compare": case_compare}[CASE]()
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")
