#!/usr/bin/python3
"""One variant, seeds 1..5: python3 variants.py NAME [seeds] [epochs].
init source x batch-order source x training loop, each either sklearn's or torch's."""
import os, sys, time, json
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib

X, y, Xt, yt = lib.data()
n = X.shape[0]


def run(name, seed, epochs):
    init, order, loop = name.split("/")[:3]
    opts = name.split("/")[3:]
    Wsk, bsk, osk = lib.sk_stream(seed, epochs, n, zero_bias=(init == "skzb"))
    if init in ("sk", "skzb"):
        Ws, bs = Wsk, bsk
    elif init == "torch":
        Ws, bs = lib.torch_init(seed)
    else:
        raise SystemExit(init)
    if order == "sk":
        orders = osk
    elif order == "torch":
        orders = lib.torch_orders(seed, epochs, n)
    elif order.startswith("npperm"):   # plain RandomState(seed+1000).permutation per epoch
        rs = np.random.RandomState(seed + 1000)
        orders = [rs.permutation(n) for _ in range(epochs)]
    else:
        raise SystemExit(order)
    if loop == "np":
        W2, b2 = lib.train_np(Ws, bs, orders, X, y)
    elif loop == "torch":
        W2, b2 = lib.train_torch(Ws, bs, orders, X, y, dtype="float64" if "f64" in opts else "float32")
    return lib.accuracy(W2, b2, Xt, yt)


name = sys.argv[1]
seeds = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1, 2, 3, 4, 5]
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
accs = []
t0 = time.time()
for s in seeds:
    accs.append(run(name, s, epochs))
    print("  %s seed %d acc %.4f" % (name, s, accs[-1]), flush=True)
print(json.dumps({"variant": name, "epochs": epochs, "seeds": seeds, "accs": accs, "mean": round(float(np.mean(accs)), 4),
                  "min": min(accs), "max": max(accs), "sec": round(time.time() - t0, 1)}), flush=True)
