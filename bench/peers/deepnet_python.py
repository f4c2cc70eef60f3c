#!/usr/bin/python3
"""deepnet through its Python API: DeepNetClassifier (the scikit-learn
estimator of the module `deepnet`, trained by the C++ library) on the
workloads of the scikit-learn peer, with the same settings as
sklearn_mlp.py, so that its row sits beside MLPClassifier's.

fmnist-mlp: 784-256-128-10 relu/softmax, float32, plain SGD (no momentum, no
L2), learning rate 0.1, batches of 128, exactly 10 epochs (1 on 2000 examples
with --quick), shuffled every epoch, glorot init (the scheme scikit-learn's MLPClassifier uses),
inputs divided by 255 here (normalize='none': the estimator scales nothing
more). The timed part is `fit` itself, including what the Python layer does
(validation, the copy of X to float64 for the library). Threads: deepnet's
own (deepnet.set_threads). Seeds 1..--seeds: median time, mean accuracy. One
JSON line (see common.py).

Needs the module on PYTHONPATH (build/PRESET/python; scripts/bench sets it).
"""
import common as c

SYSTEM = "deepnet (Python)"


def module_path(deepnet):
    """Where the module came from, relative to the repository (no machine path in the results)."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.abspath(deepnet.__file__)
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else os.path.basename(os.path.dirname(path))


def fmnist_mlp(args, deepnet):
    X, y = c.fashion_mnist("train")
    Xtest, ytest = c.fashion_mnist("test")
    m = 2000 if args.quick else X.shape[0]
    epochs = 1 if args.quick else 10
    X, y = X[:m], y[:m]
    fitted = {}

    def train_one(seed):
        clf = deepnet.DeepNetClassifier(layers=(256, 128), hidden_activation="relu", output="softmax", init="glorot",
                                        dtype="float32", optimizer="sgd", learning_rate=0.1, batch_size=128,
                                        epochs=epochs, l2=0.0, normalize="none", seed=seed)
        t0 = c.now()
        clf.fit(X, y)
        sec = c.now() - t0
        fitted["clf"] = clf
        return sec, float(clf.score(Xtest, ytest)), float(clf.loss_curve_[-1]) if clf.loss_curve_ else float("nan")

    sec, acc, seeds = c.over_seeds(args, train_one)
    clf = fitted["clf"]
    sizes = [784, 256, 128, 10]
    c.emit("fmnist-mlp", "float32", SYSTEM,
           "DeepNetClassifier sgd lr 0.1, float32, batch 128, %d ep on %d, glorot init, l2 0, %d thr"
           % (clf.n_iter_, m, deepnet.threads()),
           "float32", args.threads, sec, m * clf.n_iter_, 6 * c.weights_of(sizes) * m * clf.n_iter_,
           "test_accuracy", acc, epochs=int(clf.n_iter_), init="glorot",
           deepnet_version=deepnet.__version__, deepnet_module=module_path(deepnet), **seeds)


def main():
    args = c.parse_args(__doc__, ["fmnist-mlp"])
    try:
        import deepnet
    except ImportError as e:
        raise SystemExit("deepnet_python.py: cannot import the module deepnet (%s); build the target deepnet_python "
                         "and put build/PRESET/python on PYTHONPATH" % e)
    deepnet.set_threads(args.threads)
    if c.wants(args, "fmnist-mlp"):
        fmnist_mlp(args, deepnet)


if __name__ == "__main__":
    main()
