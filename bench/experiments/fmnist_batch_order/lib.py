#!/usr/bin/python3
"""Shared pieces of the sklearn-vs-torch accuracy experiment (float32 throughout)."""
import os, sys, tempfile, time
import numpy as np
PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "peers")
sys.path.insert(0, PEERS)

SIZES = [784, 256, 128, 10]
CACHE = os.path.join(tempfile.gettempdir(), "deepnet-fmnist-float32.npz")  # the data as float32, once


def data():
    if not os.path.exists(CACHE):
        import common as c
        X, y = c.fashion_mnist("train")
        Xt, yt = c.fashion_mnist("test")
        with open(CACHE + ".part", "wb") as f:  # complete or absent: renamed when written
            np.savez(f, X=X, y=y, Xt=Xt, yt=yt)
        os.replace(CACHE + ".part", CACHE)
    d = np.load(CACHE)
    return d["X"], d["y"], d["Xt"], d["yt"]


# ---------------------------------------------------------------- init + batch-order sources
def sk_stream(seed, epochs, n, zero_bias=False):
    """Exactly MLPClassifier's RandomState draws: per layer uniform coef (fan_in, fan_out) then
    uniform intercept (float64 -> float32); then per epoch sample_idx = shuffle(sample_idx)."""
    rs = np.random.RandomState(seed)
    Ws, bs = [], []
    for fi, fo in zip(SIZES[:-1], SIZES[1:]):
        r = np.sqrt(6.0 / (fi + fo))
        Ws.append(rs.uniform(-r, r, (fi, fo)).astype(np.float32))
        b = rs.uniform(-r, r, fo).astype(np.float32)
        bs.append(np.zeros_like(b) if zero_bias else b)
    orders, idx = [], np.arange(n, dtype=int)
    for _ in range(epochs):
        perm = np.arange(n); rs.shuffle(perm)   # sklearn.utils.resample(replace=False)
        idx = idx[perm]
        orders.append(idx.copy())
    return Ws, bs, orders


def torch_init(seed):
    """The torch peer's glorot_model: manual_seed, nn.Sequential, xavier_uniform_, zero bias.
    Returned as sklearn layout (fan_in, fan_out)."""
    import torch
    import common as c
    sys.path.insert(0, PEERS)
    import torch_mlp
    m = torch_mlp.glorot_model(SIZES, seed)
    lins = [l for l in m if isinstance(l, torch.nn.Linear)]
    return ([l.weight.detach().numpy().T.copy() for l in lins],
            [l.bias.detach().numpy().copy() for l in lins])


def torch_orders(seed, epochs, n):
    import torch
    g = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=g).numpy() for _ in range(epochs)]


# ---------------------------------------------------------------- trainers
def relu_(a):
    np.maximum(a, 0, out=a)


def softmax_(a):
    tmp = a - a.max(axis=1)[:, None]
    np.exp(tmp, out=a)
    a /= a.sum(axis=1)[:, None]


def train_np(Ws, bs, orders, X, y, lr=0.1, batch=128, grad_scale="mean", onehot_dtype=bool):
    """Mirror of MLPClassifier._fit_stochastic/_backprop/SGDOptimizer (momentum 0, alpha 0)."""
    Ws = [w.copy() for w in Ws]; bs = [b.copy() for b in bs]
    Y = np.zeros((len(y), 10), dtype=onehot_dtype); Y[np.arange(len(y)), y] = 1
    n = X.shape[0]
    L = len(Ws)
    for order in orders:
        for s in range(0, n, batch):
            ib = order[s:s + batch]
            xb, yb = X[ib], Y[ib]
            nb = xb.shape[0] if grad_scale == "mean" else batch
            acts = [xb]
            for i in range(L):
                a = acts[i] @ Ws[i]
                a += bs[i]
                if i != L - 1:
                    relu_(a)
                acts.append(a)
            softmax_(acts[-1])
            d = acts[-1] - yb
            gW, gb = [None] * L, [None] * L
            for i in range(L - 1, -1, -1):
                gW[i] = acts[i].T @ d
                gW[i] += 0.0 * Ws[i]
                gW[i] /= nb
                gb[i] = np.mean(d, 0) if grad_scale == "mean" else d.sum(0) / nb
                if i > 0:
                    d = d @ Ws[i].T
                    d[acts[i] == 0] = 0
            for i in range(L):
                Ws[i] += 0.0 * 0 - lr * gW[i]   # sklearn: momentum*velocity - lr*grad
                bs[i] += 0.0 * 0 - lr * gb[i]
    return Ws, bs


def train_torch(Ws, bs, orders, X, y, lr=0.1, batch=128, dtype="float32"):
    """The torch peer's minibatch() loop (CrossEntropyLoss, optim.SGD) from given init + orders."""
    import torch
    from torch import nn
    torch.set_num_threads(1)
    dt = torch.float32 if dtype == "float32" else torch.float64
    layers = []
    for i, (w, b) in enumerate(zip(Ws, bs)):
        lin = nn.Linear(w.shape[0], w.shape[1]).to(dt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(Ws) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    Xt = torch.from_numpy(X).to(dt); yt = torch.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    n = X.shape[0]
    for order in orders:
        perm = torch.from_numpy(np.asarray(order, dtype=np.int64))
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    lins = [l for l in model if isinstance(l, nn.Linear)]
    return ([l.weight.detach().float().numpy().T.copy() for l in lins],
            [l.bias.detach().float().numpy().copy() for l in lins])


def accuracy(Ws, bs, Xt, yt):
    a = Xt
    for i, (w, b) in enumerate(zip(Ws, bs)):
        a = a @ w + b
        if i < len(Ws) - 1:
            a = np.maximum(a, 0)
    return float((a.argmax(1) == yt).mean())
