"""Tests of the Python module deepnet (run by ctest with Debian's /usr/bin/python3;
PYTHONPATH holds BUILD/python, DEEPNET_CLI the deepnet binary)."""

import copy
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, load_iris, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import deepnet
from deepnet import DeepNetClassifier, DeepNetRegressor

CLI = os.environ.get("DEEPNET_CLI", "deepnet")

# The start of a script run in a fresh process to measure its memory: X, 40000 x 500
# float32 (80 MB), made 2000 rows at a time; y; kb(field) reads /proc/self/status.
BIG_FLOAT32_X = textwrap.dedent("""
    import numpy as np
    from deepnet import DeepNetClassifier
    m, n = 40000, 500
    X = np.empty((m, n), dtype=np.float32)
    rng = np.random.default_rng(0)
    for i in range(0, m, 2000):
        X[i:i + 2000] = rng.random((2000, n), dtype=np.float32)
    y = (X[:, 0] > 0.5).astype(np.int64)
    def kb(field):
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(field + ":"))
""")


def write_csv(path, X, y, names, label="y"):
    """A CSV file with a header; the label column last unless y is None."""
    with open(path, "w") as f:
        f.write(",".join(list(names) + ([label] if y is not None else [])) + "\n")
        for j, row in enumerate(X):
            f.write(",".join(repr(float(v)) for v in row) + ("," + str(y[j]) if y is not None else "") + "\n")


class ScikitLearnContract(unittest.TestCase):
    def test_check_estimator_classifier(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_estimator(DeepNetClassifier())
            check_estimator(DeepNetClassifier(layers=(8,), dtype="float64", learning_rate=0.01))

    def test_check_estimator_regressor(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_estimator(DeepNetRegressor())
            check_estimator(DeepNetRegressor(layers=(8, 4)))

    def test_pipeline_grid_search_cross_val(self):
        X, y = load_iris(return_X_y=True)
        pipe = make_pipeline(StandardScaler(), DeepNetClassifier(layers=(16,), normalize="none"))
        scores = cross_val_score(pipe, X, y, cv=3)
        self.assertGreater(scores.mean(), 0.85)
        grid = GridSearchCV(DeepNetClassifier(layers=(16,)), {"learning_rate": [1e-3, 1e-2]}, cv=3)
        grid.fit(X, y)
        self.assertIn(grid.best_params_["learning_rate"], (1e-3, 1e-2))
        self.assertGreater(grid.best_score_, 0.85)

    def test_string_labels_and_params(self):
        X, y = load_iris(return_X_y=True)
        names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
        clf = DeepNetClassifier(layers=(8,)).fit(X, names)
        self.assertEqual(list(clf.classes_), ["setosa", "versicolor", "virginica"])
        self.assertGreater(clf.score(X, names), 0.9)
        params = clf.get_params()
        self.assertEqual(params["layers"], (8,))
        self.assertEqual(params["seed"], 1)
        self.assertEqual(params["batch_size"], "auto")
        clf.set_params(layers=(4,))
        self.assertEqual(clf.layers, (4,))


class Shapes(unittest.TestCase):
    def test_coefs_are_course_shapes_and_reproduce_predict_proba(self):
        X, y = load_iris(return_X_y=True)
        clf = DeepNetClassifier(layers=(5, 4), hidden_activation="tanh", dtype="float64", normalize="none").fit(X, y)
        self.assertEqual([W.shape for W in clf.coefs_], [(5, 4), (4, 5), (3, 4)])
        self.assertEqual([b.shape for b in clf.intercepts_], [(5, 1), (4, 1), (3, 1)])
        A = X.T  # the course's layout: examples are columns
        for l, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
            Z = W @ A + b
            if l < len(clf.coefs_) - 1:
                A = np.tanh(Z)
        Z = Z - Z.max(axis=0)
        P = np.exp(Z) / np.exp(Z).sum(axis=0)
        np.testing.assert_allclose(P.T, clf.predict_proba(X), rtol=1e-10, atol=1e-12)

    def test_history_attributes(self):
        X, y = load_digits(return_X_y=True)
        clf = DeepNetClassifier(layers=(32,), epochs=7, val_split=0.2).fit(X, y)
        self.assertEqual(clf.n_iter_, 7)
        self.assertEqual(len(clf.loss_curve_), 7)
        self.assertEqual(len(clf.validation_scores_), 7)
        self.assertEqual(len(clf.validation_loss_curve_), 7)
        self.assertTrue(all(0 <= s <= 1 for s in clf.validation_scores_))
        self.assertEqual(clf.n_features_in_, 64)

    def test_input_layouts_give_the_same_bits(self):
        X, y = load_iris(return_X_y=True)
        clf = DeepNetClassifier(layers=(8,)).fit(X, y)
        reference = clf.predict_proba(X)
        for variant in (np.asfortranarray(X), X.copy(), X.tolist()):
            np.testing.assert_array_equal(clf.predict_proba(variant), reference)
        X32 = X.astype(np.float32)  # converted to float64: the values of X32, not of X
        np.testing.assert_array_equal(clf.predict_proba(X32), clf.predict_proba(X32.astype(np.float64)))
        strided = np.repeat(X, 2, axis=0)[::2]
        np.testing.assert_array_equal(clf.predict_proba(strided), reference)
        refit = DeepNetClassifier(layers=(8,)).fit(np.asfortranarray(X), y)
        np.testing.assert_array_equal(refit.predict_proba(X), reference)
        # float32 X is kept as float32 by the library (half the memory), with the bits of its float64 values.
        fit32 = DeepNetClassifier(layers=(8,)).fit(X32, y)
        fit64 = DeepNetClassifier(layers=(8,)).fit(X32.astype(np.float64), y)
        np.testing.assert_array_equal(fit32.predict_proba(X), fit64.predict_proba(X))

    def test_fit_borrows_a_float32_array_instead_of_copying_it(self):
        # A C-ordered float32 X is read where it lies: fit's peak memory grows by
        # the library's one normalised training matrix (the size of X), not by
        # a second copy of X as well; not normalised, by nothing of X's size
        # (float32 training reads X itself). Measured in a fresh process: its
        # peak resident memory (VmHWM) reset just before each fit.
        script = BIG_FLOAT32_X + textwrap.dedent("""
            for normalize in ("standard", "none"):
                clf = DeepNetClassifier(layers=(4,), epochs=1, batch_size=512, normalize=normalize, dtype="float32")
                clf.fit(X[:1000], y[:1000])  # the library's code and threads in memory first
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # resets VmHWM to the current resident size
                before = kb("VmRSS")
                clf.fit(X, y)
                print(X.nbytes // 1024, kb("VmHWM") - before)
        """)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                             env=dict(os.environ))
        self.assertEqual(out.returncode, 0, out.stderr)
        (data_kb, standard_kb), (_, none_kb) = ([int(v) for v in line.split()] for line in out.stdout.splitlines())
        self.assertGreater(standard_kb, 0.8 * data_kb)  # the training matrix: the measurement sees real memory
        self.assertLess(standard_kb, 1.4 * data_kb)     # a copy of X besides it would make this 2x
        self.assertLess(none_kb, 0.3 * data_kb)         # no copy of X at all

    def test_predict_reads_a_float32_array_as_it_lies(self):
        # The same bits as the array's float64 values, for float32 and float64
        # models, one example and several chunks of examples (4096 a chunk) ...
        rng = np.random.default_rng(3)
        X = rng.normal(size=(9000, 6)).astype(np.float32)
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        for dtype in ("float32", "float64"):
            clf = DeepNetClassifier(layers=(8,), epochs=2, dtype=dtype).fit(X[:2000], y[:2000])
            for rows in (slice(0, 1), slice(0, 9000), slice(17, 4200)):
                part = np.ascontiguousarray(X[rows])
                np.testing.assert_array_equal(clf.predict_proba(part), clf.predict_proba(part.astype(np.float64)))
                np.testing.assert_array_equal(clf.predict(part), clf.predict(part.astype(np.float64)))
        # ... and without a copy: predicting on 80 MB of float32 features adds
        # a chunk's worth and the outputs to the peak, not a float64 copy (160 MB).
        script = BIG_FLOAT32_X + textwrap.dedent("""
            clf = DeepNetClassifier(layers=(4,), epochs=1, dtype="float32").fit(X[:1000], y[:1000])
            clf.predict_proba(X[:5000])  # the prepared model and its workspaces in memory first
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current resident size
            before = kb("VmRSS")
            clf.predict_proba(X)
            print(X.nbytes // 1024, kb("VmHWM") - before)
        """)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                             env=dict(os.environ))
        self.assertEqual(out.returncode, 0, out.stderr)
        data_kb, grown_kb = (int(v) for v in out.stdout.split())
        self.assertLess(grown_kb, 0.3 * data_kb)  # a float64 copy of X would be 2x

    def test_training_health_warnings_reach_warnings_(self):
        X, y = load_iris(return_X_y=True)
        healthy = DeepNetClassifier(layers=(8,), epochs=20).fit(X, y)
        self.assertEqual(healthy.warnings_, [])
        zeros = DeepNetClassifier(layers=(8,), epochs=5, init="zeros").fit(X, y)
        self.assertTrue(any("identical" in w or "symmetr" in w for w in zeros.warnings_), zeros.warnings_)

    def test_diagnose_fills_diagnostics_and_keeps_the_bits(self):
        X, y = load_digits(return_X_y=True)
        plain = DeepNetClassifier(layers=(32, 16), epochs=4, seed=3).fit(X, y)
        self.assertIsNone(plain.diagnostics_)
        clf = DeepNetClassifier(layers=(32, 16), epochs=4, seed=3, diagnose=True).fit(X, y)
        d = clf.diagnostics_
        self.assertEqual(sorted(d), sorted(["epoch", "layer", "dead", "saturated", "a_mean", "a_std", "dw_norm",
                                            "w_norm", "update_ratio"]))
        # One row per epoch and layer, in that order.
        np.testing.assert_array_equal(d["epoch"], np.repeat(np.arange(1, 5), 3))
        np.testing.assert_array_equal(d["layer"], np.tile([1, 2, 3], 4))
        hidden = d["layer"] < 3
        self.assertTrue(np.all((d["dead"][hidden] >= 0) & (d["dead"][hidden] <= 1)))  # ReLU layers
        self.assertTrue(np.all(np.isnan(d["dead"][~hidden])))  # the softmax layer has no dead share
        self.assertTrue(np.all(np.isnan(d["saturated"])))  # no sigmoid/tanh hidden layer
        self.assertTrue(np.all(d["w_norm"] > 0) and np.all(d["dw_norm"] > 0) and np.all(d["update_ratio"] > 0))
        # Gathering only reads: the same weights, bit for bit.
        for a, b in zip(plain.coefs_ + plain.intercepts_, clf.coefs_ + clf.intercepts_):
            np.testing.assert_array_equal(a, b)
        # Full-batch: a record at the iterations the cost is recorded (every print_every, counted from
        # 0, and the last, 29), for each of the 2 layers; the column is named for iterations.
        full = DeepNetClassifier(layers=(8,), iterations=30, print_every=10, diagnose=True).fit(X, y)
        self.assertNotIn("epoch", full.diagnostics_)
        np.testing.assert_array_equal(full.diagnostics_["iteration"], np.repeat([0, 10, 20, 29], 2))
        self.assertEqual(len(full.loss_curve_), 4)

    def test_one_example_goes_through_the_prepared_single_example_path(self):
        X, y = load_digits(return_X_y=True)
        clf = DeepNetClassifier(layers=(64, 32), epochs=3).fit(X, y)
        batch = clf.predict_proba(X[:20])
        # One example at a time: the prepared model's single-example path
        # (deepnet::PreparedModel), which may sum in another order than the
        # batch: within the library's documented 1e-5 (1 + |p|) of it, the
        # same labels, and the same bits on every call and from 4 threads.
        ones = np.vstack([clf.predict_proba(X[j:j + 1]) for j in range(20)])
        np.testing.assert_allclose(ones, batch, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(ones.argmax(axis=1), batch.argmax(axis=1))
        np.testing.assert_array_equal(np.vstack([clf.predict_proba(X[j:j + 1]) for j in range(20)]), ones)

        def predict_many(out, k):
            out[k] = np.vstack([clf.predict_proba(X[j:j + 1]) for j in range(20)])

        results = [None] * 4
        threads = [threading.Thread(target=predict_many, args=(results, k)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for result in results:
            np.testing.assert_array_equal(result, ones)

    def test_partial_fit(self):
        X, y = load_digits(return_X_y=True)
        clf = DeepNetClassifier(layers=(32,))
        with self.assertRaisesRegex(ValueError, "classes"):
            clf.partial_fit(X[:100], y[:100])
        first = y < 5
        clf.partial_fit(X[first], y[first], classes=np.arange(10))
        self.assertEqual(clf.n_iter_, 1)
        for _ in range(20):
            clf.partial_fit(X, y)
        self.assertEqual(clf.n_iter_, 21)
        self.assertEqual(len(clf.loss_curve_), 21)
        self.assertGreater(clf.score(X, y), 0.9)
        with self.assertRaisesRegex(ValueError, "features"):
            clf.partial_fit(X[:, :10], y)
        # A model without a training state is not silently started afresh.
        course = DeepNetClassifier(iterations=50).fit(X[:200], y[:200])
        with self.assertRaisesRegex(ValueError, "no training state"):
            course.partial_fit(X[:200], y[:200])
        reg = DeepNetRegressor(layers=(16,))
        Xd, yd = load_diabetes(return_X_y=True)
        for _ in range(30):
            reg.partial_fit(Xd, yd)
        self.assertEqual(reg.n_iter_, 30)
        self.assertGreater(reg.score(Xd, yd), 0.3)


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="deepnet-python-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_pickle_and_deepcopy_keep_the_bits(self):
        X, y = load_digits(return_X_y=True)
        clf = DeepNetClassifier(layers=(16,), epochs=5).fit(X, y)
        for other in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
            np.testing.assert_array_equal(other.predict_proba(X), clf.predict_proba(X))
            self.assertEqual(other.get_params(), clf.get_params())
            self.assertEqual(other.loss_curve_, clf.loss_curve_)

    def test_pickle_is_checksummed(self):
        X, y = load_iris(return_X_y=True)
        clf = DeepNetClassifier(layers=(4,), epochs=3).fit(X, y)
        state = clf.__getstate__()
        model = bytearray(state["model_"])
        model[len(model) // 2] ^= 0x01  # one flipped bit in the parameters
        state["model_"] = bytes(model)
        with self.assertRaisesRegex(ValueError, "the pickled estimator.*checksum"):
            DeepNetClassifier().__setstate__(state)

    def test_save_load_and_the_cli_predict_the_same_bits(self):
        X, y = load_iris(return_X_y=True)
        names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        clf = DeepNetClassifier(layers=(8,), epochs=20).fit(X, y, feature_names=names)
        clf.save(self.path("py.dnn"))
        loaded = deepnet.load(self.path("py.dnn"))
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        self.assertEqual(list(loaded.feature_names_in_), names)
        # The CLI reads the columns by name: give them in another order.
        order = [2, 0, 3, 1]
        write_csv(self.path("iris.csv"), X[:, order], y, [names[k] for k in order])
        out = subprocess.run([CLI, "predict", "--model", self.path("py.dnn"), "--data", self.path("iris.csv"),
                              "--proba"], capture_output=True, text=True, check=True).stdout.splitlines()
        self.assertEqual(out[0], "prediction,proba_0,proba_1,proba_2")
        proba = clf.predict_proba(X)
        predicted = clf.predict(X)
        for j, line in enumerate(out[1:]):
            fields = line.split(",")
            self.assertEqual(fields[0], str(predicted[j]))
            self.assertEqual(fields[1:], ["%.9g" % p for p in proba[j]])  # float32 outputs: 9 digits are every bit

    def test_a_cli_model_predicts_the_same_bits_in_python(self):
        subprocess.run([CLI, "train", "--data", "wine", "--layers", "8", "--epochs", "15", "--out",
                        self.path("cli.dnn"), "--quiet"], check=True, capture_output=True)
        out = subprocess.run([CLI, "predict", "--model", self.path("cli.dnn"), "--data", "wine", "--proba"],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        model = deepnet.load(self.path("cli.dnn"))
        self.assertIsInstance(model, DeepNetClassifier)
        from sklearn.datasets import load_wine
        X, _ = load_wine(return_X_y=True)  # the built-in wine set is scikit-learn's
        proba = model.predict_proba(X)
        predicted = model.predict(X)
        self.assertEqual(len(out) - 1, len(X))
        for j, line in enumerate(out[1:]):
            fields = line.split(",")
            self.assertEqual(fields[0], str(predicted[j]))
            self.assertEqual(fields[1:], ["%.9g" % p for p in proba[j]])

    def test_regression_round_trip(self):
        X, y = load_diabetes(return_X_y=True)
        reg = DeepNetRegressor(layers=(16,), epochs=30).fit(X, y)
        reg.save(self.path("reg.dnn"))
        loaded = deepnet.load(self.path("reg.dnn"))
        self.assertIsInstance(loaded, DeepNetRegressor)
        np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
        # A model fitted without feature names takes the columns by position: features only.
        write_csv(self.path("diabetes.csv"), X, None, [f"f{k}" for k in range(X.shape[1])])
        out = subprocess.run([CLI, "predict", "--model", self.path("reg.dnn"), "--data", self.path("diabetes.csv")],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        self.assertEqual(out[1:], ["%.9g" % v for v in reg.predict(X)])


class Errors(unittest.TestCase):
    def test_error_classes_and_messages(self):
        X, y = load_iris(return_X_y=True)
        with self.assertRaises(NotFittedError):
            DeepNetClassifier().predict(X)
        with self.assertRaisesRegex(FileNotFoundError, "nope.dnn"):
            deepnet.load("/nonexistent/nope.dnn")
        bad = tempfile.NamedTemporaryFile(suffix=".dnn", delete=False)
        bad.write(b"not a model")
        bad.close()
        with self.assertRaisesRegex(ValueError, "not a deepnet model file"):
            deepnet.load(bad.name)
        with self.assertRaisesRegex(ValueError, "^learning_rate: expected a finite learning rate > 0"):
            DeepNetClassifier(learning_rate=-1).fit(X, y)
        with self.assertRaisesRegex(ValueError, "^layers: hidden layer 2: expected"):
            DeepNetClassifier(layers=(4, 0)).fit(X, y)
        with self.assertRaisesRegex(ValueError, "^hidden_activation: activation: expected one of"):
            DeepNetClassifier(layers=(4,), hidden_activation="swish").fit(X, y)
        with self.assertRaisesRegex(ValueError, "^tol"):
            DeepNetClassifier(tol=-1).fit(X, y)
        with self.assertRaisesRegex(ValueError, "^patience: early stopping needs validation data"):
            DeepNetClassifier(patience=3).fit(X, y)
        with self.assertRaisesRegex(ValueError, "one class"):
            DeepNetClassifier().fit(X, np.zeros(len(X)))
        with self.assertRaisesRegex(ValueError, "Unknown label type"):
            DeepNetClassifier().fit(X, X[:, 0])
        clf = DeepNetClassifier(epochs=2).fit(X, y)
        with self.assertRaisesRegex(ValueError, "4 features"):
            clf.predict(X[:, :3])
        with self.assertRaisesRegex(ValueError, "^precision: expected float32 or bf16"):
            DeepNetClassifier(precision="half").fit(X, y)
        with self.assertRaisesRegex(ValueError, "^precision: bf16 products are for float32 networks"):
            DeepNetClassifier(precision="bf16", dtype="float64").fit(X, y)

    def test_bf16_precision_trains_or_is_refused(self):
        X, y = load_iris(return_X_y=True)
        clf = DeepNetClassifier(layers=(16,), epochs=40, learning_rate=0.01, normalize="standard", precision="bf16")
        if deepnet._core.bf16_products_available():
            self.assertGreaterEqual(clf.fit(X, y).score(X, y), 0.9)
            plain = DeepNetClassifier(layers=(16,), epochs=40, learning_rate=0.01, normalize="standard").fit(X, y)
            self.assertFalse(np.array_equal(clf.coefs_[0], plain.coefs_[0]))
        else:
            with self.assertRaisesRegex(ValueError, "^precision: bf16 products are not available"):
                clf.fit(X, y)

    def test_divergence_is_an_exception(self):
        X, y = load_diabetes(return_X_y=True)
        with self.assertRaises(deepnet.TrainingDiverged):
            DeepNetRegressor(layers=(16,), learning_rate=1e12, optimizer="sgd", scale_target="no", epochs=50).fit(X, y * 1e30)


class Threads(unittest.TestCase):
    def test_training_releases_the_gil(self):
        X, y = make_classification(n_samples=4000, n_features=40, n_informative=20, random_state=0)
        ticks = [0]
        done = threading.Event()

        def count():
            while not done.is_set():
                ticks[0] += 1

        counter = threading.Thread(target=count)
        counter.start()
        # The counting thread's pace while this one sleeps (the GIL free) ...
        start, t0 = ticks[0], time.perf_counter()
        time.sleep(0.3)
        free_rate = (ticks[0] - start) / (time.perf_counter() - t0)
        # ... and while this one trains. With the GIL held through training the
        # counter would only run in fit's few milliseconds of Python.
        start, t0 = ticks[0], time.perf_counter()
        DeepNetClassifier(layers=(128,), epochs=40, batch_size=32).fit(np.vstack([X, X]), np.concatenate([y, y]))
        seconds = time.perf_counter() - t0
        training_rate = (ticks[0] - start) / seconds
        done.set()
        counter.join()
        self.assertGreater(seconds, 0.1)
        self.assertGreater(training_rate, 0.25 * free_rate, (training_rate, free_rate, seconds))

    def test_two_estimators_in_two_threads_give_the_sequential_bits(self):
        X, y = load_digits(return_X_y=True)
        settings = [dict(layers=(32,), epochs=10, seed=1), dict(layers=(16, 16), epochs=10, seed=2)]
        sequential = [DeepNetClassifier(**s).fit(X, y).predict_proba(X) for s in settings]
        results = [None, None]

        def train(k):
            results[k] = DeepNetClassifier(**settings[k]).fit(X, y).predict_proba(X)

        threads = [threading.Thread(target=train, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in range(2):
            np.testing.assert_array_equal(results[k], sequential[k])


class Interrupt(unittest.TestCase):
    def test_ctrl_c_stops_fit_within_a_second(self):
        script = textwrap.dedent("""
            import os, signal, threading, time
            import numpy as np
            from deepnet import DeepNetClassifier
            from sklearn.exceptions import NotFittedError
            rng = np.random.default_rng(0)
            X = rng.normal(size=(20000, 100)); y = (X[:, 0] > 0).astype(int)
            clf = DeepNetClassifier(layers=(256, 256), epochs=100000)
            sent = []
            def interrupt():
                sent.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)
            threading.Timer(1.0, interrupt).start()
            try:
                clf.fit(X, y)
                print("finished")
            except KeyboardInterrupt:
                print("interrupted after %.3f s" % (time.monotonic() - sent[0]))
            try:
                clf.predict(X)
            except NotFittedError:
                print("not fitted")
            clf.set_params(epochs=1, layers=(4,)).fit(X[:100], y[:100])
            print("usable", clf.n_iter_)
        """)
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ))
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertTrue(lines[0].startswith("interrupted after"), out.stdout)
        self.assertLess(float(lines[0].split()[2]), 1.0)
        self.assertEqual(lines[1:], ["not fitted", "usable 1"])
        self.assertLess(time.monotonic() - start, 60)


class Readme(unittest.TestCase):
    def test_the_readme_python_example_runs_as_written(self):
        readme = os.environ.get("DEEPNET_README")
        if not readme:
            self.fail("DEEPNET_README is not set (ctest sets it)")
        text = open(readme).read()
        start = text.index("```python\n", text.index("<!-- python-example -->")) + len("```python\n")
        code = text[start:text.index("```", start)]
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                             cwd=tempfile.mkdtemp())
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"0\.9\d")


if __name__ == "__main__":
    unittest.main()
