#!/usr/bin/python3
"""scikit-learn peer: MLPClassifier on Fashion-MNIST (workload fmnist-mlp) with
the same settings as deepnet: 784-256-128-10 relu/softmax, plain SGD (no
momentum, no L2), learning rate 0.1, batches of 128, 10 epochs, shuffled, no
early stop. Initialisation: Glorot uniform, the only one MLPClassifier has
(deepnet and PyTorch use the same scheme here: deepnet's glorot, xavier_uniform_). Seeds 1..--seeds (random_state): median time, mean accuracy.
Threads: the BLAS library's (threadpoolctl). One JSON line (see common.py).
"""
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import common as c

SYSTEM = "scikit-learn"


def fmnist_mlp(args):
    X, y = c.fashion_mnist("train")
    Xtest, ytest = c.fashion_mnist("test")
    m = 2000 if args.quick else X.shape[0]
    epochs = 1 if args.quick else 10
    X, y = X[:m], y[:m]
    fitted = {}

    def train_one(seed):
        clf = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="sgd",
                            learning_rate="constant", learning_rate_init=0.1, batch_size=128,
                            max_iter=epochs, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                            shuffle=True, tol=0.0, n_iter_no_change=epochs + 1,  # never stops early
                            early_stopping=False, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: the point
            t0 = c.now()
            clf.fit(X, y)
            sec = c.now() - t0
        fitted["clf"] = clf
        return sec, float(clf.score(Xtest, ytest)), float(clf.loss_)

    sec, acc, seeds = c.over_seeds(args, train_one)
    clf = fitted["clf"]
    dtype = c.dtype_name(clf.coefs_[0].dtype)
    sizes = [784, 256, 128, 10]
    c.emit("fmnist-mlp", "float32", SYSTEM,
           "MLPClassifier sgd lr 0.1, %s, batch 128, %d ep on %d, momentum 0, alpha 0, glorot init, %d thr"
           % (dtype, clf.n_iter_, m, args.threads),
           dtype, args.threads, sec, m * clf.n_iter_, 6 * c.weights_of(sizes) * m * clf.n_iter_,
           "test_accuracy", acc, epochs=int(clf.n_iter_),
           init="glorot (uniform, sqrt(6 / (fan_in + fan_out)); MLPClassifier has no other)", blas=c.blas_info(),
           **seeds)


def main():
    args = c.parse_args(__doc__, ["fmnist-mlp"])
    c.limit_blas_threads(args.threads)
    if c.wants(args, "fmnist-mlp"):
        fmnist_mlp(args)


if __name__ == "__main__":
    main()
