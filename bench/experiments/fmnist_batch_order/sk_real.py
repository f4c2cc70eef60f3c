#!/usr/bin/python3
"""Real MLPClassifier (peer settings), seeds from argv; also checks the numpy replica (seed 1)
against it bit-for-bit after training, and prints accuracies."""
import os, sys, time, warnings
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib
from sklearn.neural_network import MLPClassifier
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits
threadpool_limits(1)
X, y, Xt, yt = lib.data()
epochs = int(sys.argv[1]); seeds = [int(s) for s in sys.argv[2].split(",")]; check = len(sys.argv) > 3
for seed in seeds:
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="sgd",
                        learning_rate="constant", learning_rate_init=0.1, batch_size=128,
                        max_iter=epochs, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                        shuffle=True, tol=0.0, n_iter_no_change=epochs + 1,
                        early_stopping=False, random_state=seed)
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    acc = clf.score(Xt, yt)
    print("sklearn seed %d epochs %d acc %.4f (%.1fs) dtype %s" % (seed, epochs, acc, time.time() - t0, clf.coefs_[0].dtype), flush=True)
    if check:
        Ws, bs, orders = lib.sk_stream(seed, epochs, X.shape[0])
        t0 = time.time()
        W2, b2 = lib.train_np(Ws, bs, orders, X, y)
        diff = max(max(np.abs(a - b).max() for a, b in zip(W2, clf.coefs_)),
                   max(np.abs(a - b).max() for a, b in zip(b2, clf.intercepts_)))
        print("  numpy replica acc %.4f, max |param diff| vs sklearn %.3g (%.1fs)" % (lib.accuracy(W2, b2, Xt, yt), diff, time.time() - t0), flush=True)
