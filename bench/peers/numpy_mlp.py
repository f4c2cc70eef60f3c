#!/usr/bin/python3
"""numpy peer, written the course's way (forward with caches, compute_cost,
backward with dAL, update_parameters), for workloads planar-shallow,
deep-fullbatch and inference. One JSON line per measurement (see common.py).
"""
import numpy as np

import common as c

SYSTEM = "numpy"


# ---------------------------------------------------------------- the course's shallow net

def shallow_model(X, Y, params, learning_rate, iterations):
    """nn_model of the planar week: tanh hidden layer, sigmoid output. X (2, m), Y (1, m)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    cost = None
    for i in range(iterations):
        # forward_propagation
        Z1 = np.dot(W1, X) + b1
        A1 = np.tanh(Z1)
        Z2 = np.dot(W2, A1) + b2
        A2 = 1 / (1 + np.exp(-Z2))
        # compute_cost
        logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
        cost = float(np.squeeze(-np.sum(logprobs) / m))
        # backward_propagation
        dZ2 = A2 - Y
        dW2 = np.dot(dZ2, A1.T) / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(A1, 2))
        dW1 = np.dot(dZ1, X.T) / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        # update_parameters
        W1 = W1 - learning_rate * dW1
        b1 = b1 - learning_rate * db1
        W2 = W2 - learning_rate * dW2
        b2 = b2 - learning_rate * db2
    A2 = 1 / (1 + np.exp(-(np.dot(W2, np.tanh(np.dot(W1, X) + b1)) + b2)))
    accuracy = float(np.mean((A2 > 0.5) == (Y > 0.5)))
    return cost, accuracy


# ---------------------------------------------------------------- the course's deep net

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def relu(Z):
    return np.maximum(0, Z), Z


def sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, ((A_prev, W, b), activation_cache)


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W%d" % l], parameters["b%d" % l], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W%d" % L], parameters["b%d" % L], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = (-1. / m) * np.sum(np.multiply(Y, np.log(AL)) + np.multiply(1 - Y, np.log(1 - AL)))
    return float(np.squeeze(cost))


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1. / m * np.dot(dZ, A_prev.T)
    db = 1. / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    dZ = sigmoid_backward(dA, activation_cache) if activation == "sigmoid" else relu_backward(dA, activation_cache)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads["dA%d" % (L - 1)], grads["dW%d" % L], grads["db%d" % L] = \
        linear_activation_backward(dAL, caches[L - 1], "sigmoid")
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA%d" % (l + 1)], caches[l], "relu")
        grads["dA%d" % l], grads["dW%d" % (l + 1)], grads["db%d" % (l + 1)] = dA_prev, dW, db
    return grads


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        parameters["W%d" % (l + 1)] = parameters["W%d" % (l + 1)] - learning_rate * grads["dW%d" % (l + 1)]
        parameters["b%d" % (l + 1)] = parameters["b%d" % (l + 1)] - learning_rate * grads["db%d" % (l + 1)]
    return parameters


def L_layer_model(X, Y, parameters, learning_rate, num_iterations):
    cost = None
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
    return cost


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
           "course nn_model, float64, full batch m=400, %d it, lr 1.2, %d thr" % (iterations, args.threads),
           "float64", args.threads, sec, m * iterations, 6 * c.weights_of(sizes) * m * iterations,
           "final_cost", cost, iterations=iterations, train_accuracy=acc, blas=c.blas_info())


def deep_fullbatch(args):
    m, sizes = 209, [12288, 20, 7, 5, 1]
    iterations = 50 if args.quick else 2500
    for dtype in c.dtypes(args):
        X = c.synthetic_pixels(12288, m, dtype).T.copy()  # (12288, 209)
        Y = c.synthetic_labels(m, 2).astype(dtype).reshape(1, m)
        params = {k: v.astype(dtype) for k, v in c.course_init_deep(sizes, seed=1).items()}
        t0 = c.now()
        cost = L_layer_model(X, Y, params, 0.0075, iterations)
        sec = c.now() - t0
        name = c.dtype_name(dtype)
        c.emit("deep-fullbatch", name, SYSTEM,
               "course L_layer_model, %s, full batch m=209, %d it, lr 0.0075, %d thr" % (name, iterations, args.threads),
               name, args.threads, sec, m * iterations, 6 * c.weights_of(sizes) * m * iterations,
               "final_cost", cost, iterations=iterations, blas=c.blas_info())


def softmax_forward(X, params, L):
    """The course's forward for a relu net with a softmax output. X (n0, m)."""
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
           "course forward, float32, 1 example, median of %d calls, %d thr" % (calls, args.threads),
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
           "course forward, float32, batch 10000, median of %d passes, %d thr" % (reps, args.threads),
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
