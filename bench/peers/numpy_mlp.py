#!/usr/bin/python3
"""numpy peer for workloads planar-shallow, deep-fullbatch and inference: the
course's equations (examples are columns, Z = W A + b, dW = (1/m) dZ A^T, ...)
written the way a numpy user who cares about speed writes them, so that the
peer is at its best (issue #14):

- one flat loop with the arrays in local names, no per-layer caches of tuples,
  no dictionaries of gradients;
- A1 ** 2 (numpy's square) instead of np.power(A1, 2), which goes through the
  general power function and was most of the course code's extra time;
- the cost as two dot products (log(A) . Y^T) instead of element-wise products
  and a sum;
- updates in place (W -= lr dW), no new arrays for the parameters;
- no dA[0] = W[1]^T dZ[1]: the course's backward computes the input gradient,
  which nothing uses (in deep-fullbatch it is a third of the first layer's work);
- the transposed inputs X^T made contiguous once, before the loop.

Same math as the course code, so the same costs: deep-fullbatch agrees with
deepnet and PyTorch to the printed digits; the planar run (lr 1.2, chaotic late
in training) to about 3 digits, as any change of rounding moves it there.
The planar run on the project's machine, 1 thread: the course-structured
code 1.13 s, this one 0.42 s (issue #14, quiet machine; 1.42 s against 0.45 s
of CPU time measured again on a busy one). One JSON line per measurement (see
common.py).
"""
import numpy as np

import common as c

SYSTEM = "numpy"


# ---------------------------------------------------------------- the shallow net (planar)

def shallow_model(X, Y, params, learning_rate, iterations):
    """tanh hidden layer, sigmoid output, full-batch gradient descent. X (2, m), Y (1, m).
    Returns the cost of the last iteration (computed before its update) and the training accuracy."""
    W1, b1, W2, b2 = (params[k].copy() for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    XT = np.ascontiguousarray(X.T)
    YT = np.ascontiguousarray(Y.T)
    not_YT = 1 - YT
    dot, tanh, exp, log = np.dot, np.tanh, np.exp, np.log
    cost = None
    for _ in range(iterations):
        A1 = tanh(dot(W1, X) + b1)                       # A[1] = tanh(W[1] X + b[1])
        A2 = 1 / (1 + exp(-(dot(W2, A1) + b2)))          # A[2] = sigmoid(W[2] A[1] + b[2])
        cost = -(dot(log(A2), YT) + dot(log(1 - A2), not_YT)) / m
        dZ2 = A2 - Y                                     # dZ[2] = A[2] - Y
        dW2 = dot(dZ2, A1.T) / m
        db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = dot(W2.T, dZ2) * (1 - A1 ** 2)             # dZ[1] = W[2]^T dZ[2] * (1 - A[1]^2)
        dW1 = dot(dZ1, XT) / m
        db1 = dZ1.sum(axis=1, keepdims=True) / m
        W1 -= learning_rate * dW1
        b1 -= learning_rate * db1
        W2 -= learning_rate * dW2
        b2 -= learning_rate * db2
    A2 = 1 / (1 + exp(-(dot(W2, tanh(dot(W1, X) + b1)) + b2)))
    accuracy = float(np.mean((A2 > 0.5) == (Y > 0.5)))
    return float(cost), accuracy


# ---------------------------------------------------------------- the deep net (relu ..., sigmoid)

def deep_model(X, Y, params, learning_rate, iterations):
    """L-layer net, relu hidden layers, sigmoid output, full-batch gradient descent.
    X (n[0], m), Y (1, m). Returns the cost of the last iteration (before its update)."""
    L = len(params) // 2
    W = [None] + [params["W%d" % l].copy() for l in range(1, L + 1)]
    b = [None] + [params["b%d" % l].copy() for l in range(1, L + 1)]
    m = X.shape[1]
    XT = np.ascontiguousarray(X.T)
    YT = np.ascontiguousarray(Y.T)
    not_YT = 1 - YT
    dot = np.dot
    A = [X] + [None] * L
    Z = [None] * (L + 1)
    cost = None
    for _ in range(iterations):
        for l in range(1, L):
            Z[l] = dot(W[l], A[l - 1]) + b[l]            # Z[l] = W[l] A[l-1] + b[l]
            A[l] = np.maximum(Z[l], 0)
        AL = 1 / (1 + np.exp(-(dot(W[L], A[L - 1]) + b[L])))
        cost = -(dot(np.log(AL), YT) + dot(np.log(1 - AL), not_YT)) / m
        dZ = AL - Y                                      # dZ[L] = A[L] - Y
        for l in range(L, 0, -1):
            dW = dot(dZ, XT if l == 1 else A[l - 1].T) / m
            db = dZ.sum(axis=1, keepdims=True) / m
            if l > 1:                                    # dA[0] is never needed
                dA = dot(W[l].T, dZ)                     # dA[l-1] = W[l]^T dZ[l]
                dA[Z[l - 1] <= 0] = 0                    # dZ[l-1] = dA[l-1] * relu'(Z[l-1])
                dZ = dA
            W[l] -= learning_rate * dW
            b[l] -= learning_rate * db
    return float(cost)


# ---------------------------------------------------------------- workloads

def planar_shallow(args):
    X, y = c.planar()
    X, Y = X.T.copy(), y.reshape(1, -1)  # course layout (2, 400), (1, 400)
    sizes = [2, 4, 1]
    params = c.course_init_small(sizes, seed=2)
    iterations = 50 if args.quick else 10000
    t0 = c.now()
    cost, acc = shallow_model(X, Y, params, 1.2, iterations)
    sec = c.now() - t0
    m = X.shape[1]
    c.emit("planar-shallow", "float64", SYSTEM,
           "numpy loop, course math, float64, full batch m=400, %d it, lr 1.2, %d thr" % (iterations, args.threads),
           "float64", args.threads, sec, m * iterations, 6 * c.weights_of(sizes) * m * iterations,
           "final_cost", cost, iterations=iterations, train_accuracy=acc, init="course small (seed 2)",
           blas=c.blas_info())


def deep_fullbatch(args):
    m, sizes = 209, [12288, 20, 7, 5, 1]
    iterations = 50 if args.quick else 2500
    for dtype in c.dtypes(args):
        X = c.synthetic_pixels(12288, m, dtype).T.copy()  # (12288, 209)
        Y = c.synthetic_labels(m, 2).astype(dtype).reshape(1, m)
        params = {k: v.astype(dtype) for k, v in c.course_init_deep(sizes, seed=1).items()}
        t0 = c.now()
        cost = deep_model(X, Y, params, 0.0075, iterations)
        sec = c.now() - t0
        name = c.dtype_name(dtype)
        c.emit("deep-fullbatch", name, SYSTEM,
               "numpy loop, course math, %s, full batch m=209, %d it, lr 0.0075, %d thr" % (name, iterations, args.threads),
               name, args.threads, sec, m * iterations, 6 * c.weights_of(sizes) * m * iterations,
               "final_cost", cost, iterations=iterations, init="course deep (seed 1)", blas=c.blas_info())


def softmax_forward(X, params, L):
    """Forward pass of a relu net with a softmax output. X (n0, m)."""
    A = X
    for l in range(1, L):
        A = np.maximum(0, np.dot(params["W%d" % l], A) + params["b%d" % l])
    Z = np.dot(params["W%d" % L], A) + params["b%d" % L]
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def inference(args):
    sizes = [784, 256, 128, 10]
    params = {k: v.astype(np.float32) for k, v in c.he_init(sizes).items()}
    batch = 10000
    X = c.synthetic_pixels(784, batch, np.float32).T.copy()  # (784, 10000)
    w = c.weights_of(sizes)
    calls = 1000 if args.quick else 10000
    x1 = X[:, :1].copy()
    for _ in range(100):
        softmax_forward(x1, params, 3)
    times = np.empty(calls)
    for i in range(calls):
        t0 = c.now()
        softmax_forward(x1, params, 3)
        times[i] = c.now() - t0
    lat = float(np.median(times))
    c.emit("inference", "latency", SYSTEM,
           "numpy forward, float32, 1 example, median of %d calls, %d thr" % (calls, args.threads),
           "float32", args.threads, lat, 1, 2 * w, "latency_us", lat * 1e6, calls=calls, blas=c.blas_info())
    reps = 3 if args.quick else 10
    softmax_forward(X, params, 3)
    bt = []
    for _ in range(reps):
        t0 = c.now()
        softmax_forward(X, params, 3)
        bt.append(c.now() - t0)
    bt = float(np.median(bt))
    c.emit("inference", "batch", SYSTEM,
           "numpy forward, float32, batch 10000, median of %d passes, %d thr" % (reps, args.threads),
           "float32", args.threads, bt, batch, 2 * w * batch, "batch_ms", bt * 1e3, reps=reps, blas=c.blas_info())


def main():
    args = c.parse_args(__doc__, ["planar-shallow", "deep-fullbatch", "inference"])
    c.limit_blas_threads(args.threads)
    if c.wants(args, "planar-shallow"):
        planar_shallow(args)
    if c.wants(args, "deep-fullbatch"):
        deep_fullbatch(args)
    if c.wants(args, "inference"):
        inference(args)


if __name__ == "__main__":
    main()
