#!/usr/bin/python3
"""PyTorch (CPU) peer: nn.Sequential models, for all five workloads, and the
sweeps of `scripts/bench --sweep` (examples/s against batch size and hidden width).

At its best (issue #14), each choice measured on the project's machine:
- full batch (planar-shallow, deep-fullbatch): torch.autograd.grad and one
  torch._foreach_add_ under no_grad instead of torch.optim.SGD's zero_grad /
  backward / step (the 2-4-1 planar net is all per-call overhead: about 20%
  less time); the cost is BCEWithLogitsLoss, as before;
- mini-batch (fmnist-mlp, wide-mlp, sweeps): torch.optim.SGD with shuffled index
  batches; a manual update or one gather per epoch measured no faster;
- inference: the fastest of no_grad, inference_mode and a frozen TorchScript
  trace (torch.jit.freeze), chosen by measuring all three;
- threads: torch.set_num_threads(--threads) for PyTorch's own (OpenMP) threads
  and --blas-threads for OpenBLAS's, which Debian's PyTorch calls for its
  matrix products (scripts/bench runs 1/1, all/all and 1/all and keeps the
  fastest); contiguous float tensors throughout.
Initialisation: the course's for the full-batch workloads (the same weights as
deepnet and numpy), Glorot uniform (xavier_uniform_, zero biases: deepnet's
glorot, scikit-learn's scheme) for fmnist-mlp, He (kaiming_normal_, zero biases:
deepnet's he) for the relu nets of wide-mlp and the sweeps. One JSON line per measurement
(see common.py).
"""
import numpy as np
import torch
from torch import nn

import common as c

SYSTEM = "pytorch"


def torch_dtype(dtype):
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


def sequential(sizes, hidden, dtype):
    layers = []
    for l in range(1, len(sizes)):
        layers.append(nn.Linear(sizes[l - 1], sizes[l]))
        if l < len(sizes) - 1:
            layers.append(hidden())
    return nn.Sequential(*layers).to(dtype)


def load_params(model, params, dtype):
    """Copies the course's W[l] (n[l], n[l-1]) and b[l] (n[l], 1) into the Linear layers."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for l, lin in enumerate(linears, start=1):
            lin.weight.copy_(torch.from_numpy(params["W%d" % l]).to(dtype))
            lin.bias.copy_(torch.from_numpy(params["b%d" % l].ravel()).to(dtype))


def config_tail(args):
    if args.blas_threads == args.threads:
        return "%d thr" % args.threads
    return "%d torch thr + %d BLAS thr" % (args.threads, args.blas_threads)


def full_batch(model, X, Y, lr, iterations):
    """The course's loop: full-batch gradient descent, cost before each update.
    The gradients come from torch.autograd.grad and go into the parameters in one
    foreach call (theta -= lr dtheta): no optimizer object, no .grad buffers."""
    loss_fn = nn.BCEWithLogitsLoss()
    params = list(model.parameters())
    loss = None
    for _ in range(iterations):
        loss = loss_fn(model(X), Y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            torch._foreach_add_(params, grads, alpha=-lr)
    return float(loss)


def planar_shallow(args):
    X, y = c.planar()
    sizes = [2, 4, 1]
    dt = torch.float64
    model = sequential(sizes, nn.Tanh, dt)
    load_params(model, c.course_init_small(sizes, seed=2), dt)
    Xt = torch.from_numpy(X).to(dt)
    Yt = torch.from_numpy(y.reshape(-1, 1)).to(dt)
    iterations = 50 if args.quick else 10000
    t0 = c.now()
    cost = full_batch(model, Xt, Yt, 1.2, iterations)
    sec = c.now() - t0
    with torch.no_grad():
        acc = float(((model(Xt) > 0) == (Yt > 0.5)).double().mean())
    m = X.shape[0]
    c.emit("planar-shallow", "float64", SYSTEM,
           "nn.Sequential, autograd.grad + foreach update, float64, full batch m=400, %d it, lr 1.2, %s" % (iterations, config_tail(args)),
           "float64", args.threads, sec, m * iterations, 6 * c.weights_of(sizes) * m * iterations,
           "final_cost", cost, iterations=iterations, train_accuracy=acc, init="course small (seed 2)",
           blas=c.blas_info())


def deep_fullbatch(args):
    m, sizes = 209, [12288, 20, 7, 5, 1]
    iterations = 50 if args.quick else 2500
    for dtype in c.dtypes(args):
        dt = torch_dtype(dtype)
        model = sequential(sizes, nn.ReLU, dt)
        load_params(model, c.course_init_deep(sizes, seed=1), dt)
        Xt = torch.from_numpy(c.synthetic_pixels(12288, m, dtype)).contiguous()
        Yt = torch.from_numpy(c.synthetic_labels(m, 2).reshape(-1, 1)).to(dt).contiguous()
        t0 = c.now()
        cost = full_batch(model, Xt, Yt, 0.0075, iterations)
        sec = c.now() - t0
        name = c.dtype_name(dtype)
        c.emit("deep-fullbatch", name, SYSTEM,
               "nn.Sequential, autograd.grad + foreach update, %s, full batch m=209, %d it, lr 0.0075, %s" % (name, iterations, config_tail(args)),
               name, args.threads, sec, m * iterations, 6 * c.weights_of(sizes) * m * iterations,
               "final_cost", cost, iterations=iterations, init="course deep (seed 1)", blas=c.blas_info())


def minibatch(model, X, y, lr, batch, epochs, seed):
    """A standard loop: shuffled index batches each epoch, CrossEntropyLoss, plain SGD.
    Returns the mean training loss of the last epoch."""
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    m = X.shape[0]
    last = 0.0
    for _ in range(epochs):
        perm = torch.randperm(m, generator=gen)
        total = 0.0
        for start in range(0, m, batch):
            idx = perm[start:start + batch]
            xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        last = total / m
    return last


def he_model(sizes, seed):
    """relu net with a softmax output (in the loss), He-initialised with torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return c.he_init_torch(sequential(sizes, nn.ReLU, torch.float32))


def glorot_model(sizes, seed):
    """relu net with a softmax output (in the loss), Glorot-initialised with torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return c.glorot_init_torch(sequential(sizes, nn.ReLU, torch.float32))


def fmnist_mlp(args):
    X, y = c.fashion_mnist("train")
    Xtest, ytest = c.fashion_mnist("test")
    m = 2000 if args.quick else X.shape[0]
    epochs = 1 if args.quick else 10
    Xt, yt = torch.from_numpy(X[:m].copy()), torch.from_numpy(y[:m].copy())
    Xtest_t, ytest_t = torch.from_numpy(Xtest), torch.from_numpy(ytest)
    sizes = [784, 256, 128, 10]

    def train_one(seed):
        model = glorot_model(sizes, seed)
        t0 = c.now()
        cost = minibatch(model, Xt, yt, 0.1, 128, epochs, seed=seed)
        sec = c.now() - t0
        with torch.no_grad():
            acc = float((model(Xtest_t).argmax(dim=1) == ytest_t).double().mean())
        return sec, acc, cost

    sec, acc, seeds = c.over_seeds(args, train_one)
    c.emit("fmnist-mlp", "float32", SYSTEM,
           "nn.Sequential + SGD lr 0.1, float32, batch 128, %d ep on %d, glorot init, randperm batches, %s"
           % (epochs, m, config_tail(args)),
           "float32", args.threads, sec, m * epochs, 6 * c.weights_of(sizes) * m * epochs,
           "test_accuracy", acc, epochs=epochs, init="glorot (xavier_uniform_, zero bias)", blas=c.blas_info(), **seeds)


def wide_mlp(args):
    m = 1024 if args.quick else 8192
    epochs = 1 if args.quick else 2
    sizes = [1024, 2048, 2048, 10]
    Xt = torch.from_numpy(c.synthetic_pixels(1024, m, np.float32))
    yt = torch.from_numpy(c.synthetic_labels(m, 10))

    def train_one(seed):
        model = he_model(sizes, seed)
        t0 = c.now()
        cost = minibatch(model, Xt, yt, 0.01, 512, epochs, seed=seed)
        return c.now() - t0, cost, cost

    sec, cost, seeds = c.over_seeds(args, train_one)
    c.emit("wide-mlp", "float32", SYSTEM,
           "nn.Sequential + SGD lr 0.01, float32, batch 512, %d ep on %d, he init, %s" % (epochs, m, config_tail(args)),
           "float32", args.threads, sec, m * epochs, 6 * c.weights_of(sizes) * m * epochs,
           "final_cost", cost, epochs=epochs, init="he (kaiming_normal_, zero bias)", blas=c.blas_info(), **seeds)


def fastest_forward(model, x1):
    """The fastest way to run the model without gradients: (name, callable, context).
    Tries no_grad, inference_mode and a frozen TorchScript trace on single examples."""
    with torch.no_grad():
        frozen = torch.jit.freeze(torch.jit.trace(model, x1))
    ways = [("no_grad", model, torch.no_grad), ("inference_mode", model, torch.inference_mode),
            ("jit.freeze", frozen, torch.no_grad)]
    best, best_time = None, None
    for way in ways:
        _, f, ctx = way
        with ctx():
            for _ in range(50):
                f(x1)
            times = []
            for _ in range(500):
                t0 = c.now()
                f(x1)
                times.append(c.now() - t0)
        t = float(np.median(times))
        if best_time is None or t < best_time:
            best, best_time = way, t
    return best


def inference(args):
    sizes = [784, 256, 128, 10]
    torch.manual_seed(0)
    model = nn.Sequential(*sequential(sizes, nn.ReLU, torch.float32), nn.Softmax(dim=1)).eval()
    batch = 10000
    X = torch.from_numpy(c.synthetic_pixels(784, batch, np.float32))
    w = c.weights_of(sizes)
    calls = 1000 if args.quick else 10000
    x1 = X[:1].clone()
    way, f, ctx = fastest_forward(model, x1)
    times = np.empty(calls)
    with ctx():
        for _ in range(100):
            f(x1)
        for i in range(calls):
            t0 = c.now()
            f(x1)
            times[i] = c.now() - t0
        lat = float(np.median(times))
        c.emit("inference", "latency", SYSTEM,
               "nn.Sequential, %s, float32, 1 example, median of %d calls, %s" % (way, calls, config_tail(args)),
               "float32", args.threads, lat, 1, 2 * w, "latency_us", lat * 1e6, calls=calls, forward=way,
               blas=c.blas_info())
        reps = 3 if args.quick else 10
        f(X)
        bt = []
        for _ in range(reps):
            t0 = c.now()
            f(X)
            bt.append(c.now() - t0)
    bt = float(np.median(bt))
    c.emit("inference", "batch", SYSTEM,
           "nn.Sequential, %s, float32, batch 10000, median of %d passes, %s" % (way, reps, config_tail(args)),
           "float32", args.threads, bt, batch, 2 * w * batch, "batch_ms", bt * 1e3, reps=reps, forward=way,
           blas=c.blas_info())


# ---------------------------------------------------------------- sweeps (scripts/bench --sweep)

def sweep(args):
    """Training examples/s of a 784-W-W-10 relu/softmax net (plain SGD, float32, He init) on
    synthetic data: against the batch size (W = 256 and 128: the fmnist-mlp net) or against the
    hidden width W (batch 128). Each point trains for at least --min-time seconds (see
    common.sweep_points), after a warm-up."""
    import json
    points = c.sweep_points(args.sweep, args.quick)
    M = c.SWEEP_EXAMPLES
    X = torch.from_numpy(c.synthetic_pixels(784, M, np.float32))
    y = torch.from_numpy(c.synthetic_labels(M, 10))
    for sizes, batch in points:
        model = he_model(sizes, 1)

        def run(examples, epochs):
            t0 = c.now()
            minibatch(model, X[:examples], y[:examples], 0.01, batch, epochs, seed=1)
            return c.now() - t0

        examples, epochs, seconds = c.sweep_measure(run, batch, args.min_time)
        print(json.dumps({"kind": "sweep", "sweep": args.sweep, "system": SYSTEM,
                          "threads": str(args.threads) if args.blas_threads == args.threads
                          else "%d/%d" % (args.threads, args.blas_threads), "config": config_tail(args),
                          "sizes": "-".join(map(str, sizes)), "batch": batch, "width": sizes[1],
                          "examples": examples * epochs, "seconds": seconds,
                          "examples_per_s": examples * epochs / seconds}), flush=True)


def main():
    args = c.parse_args(__doc__, c.WORKLOADS, sweeps=True)
    torch.set_num_threads(args.threads)
    c.BLAS_THREADS = args.blas_threads
    c.limit_blas_threads(args.blas_threads)
    if args.sweep:
        sweep(args)
        return
    if c.wants(args, "planar-shallow"):
        planar_shallow(args)
    if c.wants(args, "deep-fullbatch"):
        deep_fullbatch(args)
    if c.wants(args, "fmnist-mlp"):
        fmnist_mlp(args)
    if c.wants(args, "wide-mlp"):
        wide_mlp(args)
    if c.wants(args, "inference"):
        inference(args)


if __name__ == "__main__":
    main()
