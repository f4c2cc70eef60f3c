#!/usr/bin/python3
"""Final-iterate noise: sklearn's exact training (numpy replica, sklearn init), test accuracy
every 39 batches (12 points per epoch) during epochs 9-10, for sklearn's and torch's batch orders."""
import os, sys, json
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib
X, y, Xt, yt = lib.data(); n = X.shape[0]


def train_traj(Ws, bs, orders, every=39, watch_from=8):
    Ws = [w.copy() for w in Ws]; bs = [b.copy() for b in bs]
    Y = np.zeros((n, 10), dtype=bool); Y[np.arange(n), y] = 1
    traj = []
    for e, order in enumerate(orders):
        for k, s in enumerate(range(0, n, 128)):
            ib = order[s:s + 128]; xb, yb = X[ib], Y[ib]; nb = len(ib)
            acts = [xb]
            for i in range(3):
                a = acts[i] @ Ws[i]; a += bs[i]
                if i != 2: lib.relu_(a)
                acts.append(a)
            lib.softmax_(acts[-1]); d = acts[-1] - yb
            gW, gb = [None] * 3, [None] * 3
            for i in range(2, -1, -1):
                gW[i] = acts[i].T @ d; gW[i] /= nb; gb[i] = np.mean(d, 0)
                if i > 0:
                    d = d @ Ws[i].T; d[acts[i] == 0] = 0
            for i in range(3):
                Ws[i] -= 0.1 * gW[i]; bs[i] -= 0.1 * gb[i]
            if e >= watch_from and (k % every == every - 1 or s + 128 >= n):
                traj.append(round(lib.accuracy(Ws, bs, Xt, yt), 4))
    return traj


for src in ["sk", "torch"]:
    for seed in [1, 2, 3, 4, 5]:
        Ws, bs, osk = lib.sk_stream(seed, 10, n)
        orders = osk if src == "sk" else lib.torch_orders(seed, 10, n)
        t = train_traj(Ws, bs, orders)
        print(json.dumps({"order": src, "seed": seed, "final": t[-1], "mean_last2ep": round(float(np.mean(t)), 4),
                          "std_last2ep": round(float(np.std(t)), 4), "min": min(t), "max": max(t), "traj": t}), flush=True)
