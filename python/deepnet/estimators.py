"""scikit-learn estimators on deepnet's training pipeline (docs/python.md).

The estimators only translate: their parameters become the library's
FitSettings, numpy arrays go to deepnet._core, and the library decides,
trains and scores (deepnet::fit, deepnet::partial_fit, deepnet::predict).
"""

import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import _core

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sklearn_validate_data
except ImportError:  # pragma: no cover - older scikit-learn (Debian 12 has 1.2)
    _sklearn_validate_data = None


def _validate(estimator, X, y="no_validation", reset=True, **params):
    if _sklearn_validate_data is not None:
        return _sklearn_validate_data(estimator, X, y, reset=reset, **params)
    return estimator._validate_data(X, y, reset=reset, **params)


def _items(value, scalar):
    """A parameter given as "1,2", a single value, or a sequence: its items."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")]
    if isinstance(value, scalar):
        return [value]
    return list(value)


def _int_list(value, name):
    try:
        items = _items(value, numbers.Integral)
    except TypeError:
        raise ValueError(f"{name}: expected whole numbers (a tuple such as (64, 32), or \"64,32\"), "
                         f"got {value!r}") from None
    result = []
    for position, item in enumerate(items, 1):
        try:
            number = int(item)
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(item, bool) or (not isinstance(item, str) and number != item):
            raise ValueError(f"{name}: hidden layer {position}: expected a positive number of units, got {item!r}")
        result.append(number)
    return result


def _float_list(value, name):
    try:
        return [float(item) for item in _items(value, numbers.Real)]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers (one, or one per layer or class), got {value!r}") from None


def _name_list(value, name):
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")]
    try:
        return [str(item) for item in value]
    except TypeError:
        raise ValueError(f"{name}: expected a name or a list of names, got {value!r}") from None


def _optional_int(value, name, low):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected a whole number >= {low}, got {value!r}")
    return int(value)


def _target_name(y):
    """The label's name in the model file (the CLI finds the label column of a
    CSV file by it): a pandas Series' name, else "y"."""
    name = getattr(y, "name", None)
    return str(name) if isinstance(name, (str, numbers.Integral)) and str(name) else "y"


def _store_parameters(estimator, values):
    """What scikit-learn asks of __init__: every parameter stored unchanged
    under its own name, nothing else."""
    for name, value in values.items():
        if name != "self":
            setattr(estimator, name, value)


class _DeepNetBase(BaseEstimator):
    """What DeepNetClassifier and DeepNetRegressor share."""

    _task = "auto"

    # ------------------------------------------------------------ settings
    def _settings(self):
        """The library's FitSettings (by its names) from the parameters."""
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype: expected float32 or float64, got {self.dtype!r}")
        full_batch = self.iterations is not None
        settings = {
            "task": self._task,
            "hidden_layers": _int_list(self.layers, "layers"),
            "hidden_activations": _name_list(self.hidden_activation, "hidden_activation"),
            "output": self.output,
            "leaky_slope": float(self.leaky_slope),
            "init": None if self.init == "auto" else self.init,
            "init_scale": float(self.init_scale),
            "rng": self.rng,
            "seed": _optional_int(self.seed, "seed", 0),
            "float64": self.dtype == "float64",
            "float_products": self.precision,
            "normalization": None if self.normalize == "auto" else self.normalize,
            "validation_fraction": 0.0 if self.val_split is None else float(self.val_split),
            "full_batch_gd": full_batch,
            "learning_rate": 0.0 if self.learning_rate is None else float(self.learning_rate),
            "epochs": _optional_int(self.epochs, "epochs", 1) or 0,
            "max_epochs": _optional_int(self.max_epochs, "max_epochs", 1),
            "tolerance": float(self.tol),
            "n_iter_no_change": _optional_int(self.n_iter_no_change, "n_iter_no_change", 1),
            "drop_last": bool(self.drop_last),
            "optimizer": self.optimizer,
            "momentum": float(self.momentum),
            "rho": float(self.rho),
            "beta1": float(self.beta1),
            "beta2": float(self.beta2),
            "epsilon": float(self.epsilon),
            "weight_decay": float(self.weight_decay),
            "schedule": self.schedule,
            "lr_gamma": float(self.lr_gamma),
            "lr_step": _optional_int(self.lr_step, "lr_step", 1),
            "lr_decay": float(self.lr_decay),
            "min_lr": float(self.min_lr),
            "warmup": _optional_int(self.warmup, "warmup", 0),
            "l2": float(self.l2),
            "dropout": _float_list(self.dropout, "dropout"),
            "clip_norm": float(self.clip_norm),
            "patience": _optional_int(self.patience, "patience", 0),
            "min_delta": float(self.min_delta),
            "record_every": _optional_int(self.print_every, "print_every", 1),
            "diagnose": bool(self.diagnose),
        }
        if full_batch:
            settings["iterations"] = _optional_int(self.iterations, "iterations", 1)
        batch = self.batch_size
        if isinstance(batch, str) and batch in ("auto", "full"):
            settings["batch_size"] = -1 if batch == "auto" else 0
        elif isinstance(batch, numbers.Integral) and not isinstance(batch, bool) and batch >= 0:
            settings["batch_size"] = int(batch)
        else:
            raise ValueError(f"batch_size: expected a number of examples, 0 or 'full', or 'auto', got {batch!r}")
        return settings

    # ------------------------------------------------------------ data
    def _feature_names(self, feature_names, n_features):
        if feature_names is not None:
            names = [str(name) for name in feature_names]
            if len(names) != n_features:
                raise ValueError(f"feature_names: {len(names)} names for {n_features} features")
            self.feature_names_in_ = np.asarray(names, dtype=object)
        names = getattr(self, "feature_names_in_", None)
        return [] if names is None else [str(name) for name in names]

    def _check_X(self, X):
        check_is_fitted(self, "model_")
        return _validate(self, X, reset=False, dtype=[np.float64, np.float32])

    # ------------------------------------------------------------ results
    def _take_result(self, result):
        self.model_ = result["model"]
        self._state = result["state"]
        self.loss_curve_ = list(result["loss_curve"])
        self.validation_loss_curve_ = [v for v in result["validation_loss"] if v == v]
        self.n_iter_ = int(result["n_iter"])
        self.best_epoch_ = int(result["best_epoch"])
        self.converged_ = bool(result["converged"])
        self.warnings_ = list(result["warnings"])
        diagnostics = result["diagnostics"]
        self.diagnostics_ = None if diagnostics is None else {k: np.asarray(v) for k, v in diagnostics.items()}
        self.task_reason_ = result["task_reason"]
        layers = self.model_.weights()
        self.coefs_ = [W for W, _ in layers]
        self.intercepts_ = [b for _, b in layers]
        if self.verbose:
            for warning in self.warnings_:
                print(f"deepnet: warning: {warning}")
        return self

    def _fit_core(self, X, y_values, class_names, feature_names, target_name, partial, extra_settings=None):
        if partial and hasattr(self, "model_") and getattr(self, "_state", None) is None:
            raise ValueError("partial_fit continues mini-batch training, but this estimator's model has no training "
                             "state to continue (it was trained by the course's full-batch loop, iterations=, or "
                             "read from a model file); call fit, or partial_fit on a new estimator")
        settings = self._settings()
        if extra_settings:
            settings.update(extra_settings)
        names = self._feature_names(feature_names, X.shape[1])
        # X as validated: float64 (copied once by the binding) or float32 (C-ordered: borrowed, not copied).
        if partial:
            return _core.partial_fit(X, y_values, class_names, names, target_name, settings, None,
                                     bool(self.verbose), getattr(self, "_state", None))
        return _core.fit(X, y_values, class_names, names, target_name, settings, None, bool(self.verbose))

    def save(self, path):
        """Writes the model file (the same format as `deepnet train --out`), atomically."""
        check_is_fitted(self, "model_")
        self.model_.save(os.fspath(path))

    # ------------------------------------------------------------ pickling
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the estimator keeps its model
        if "model_" in state:
            # The model file's bytes: magic, version and CRC-32C, checked on load.
            state["model_"] = state["model_"].to_bytes()
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state = dict(state)
            state["model_"] = _core.Model.from_bytes(state["model_"], "the pickled estimator")
        super().__setstate__(state)

    def _more_tags(self):
        return {"multioutput": False, "requires_y": True}


_COMMON_DOC = """
    Parameters are the flags of `deepnet train`, with underscores for dashes
    and the same defaults; `None` means the flag is not given.

    layers : tuple of int, default=()
        Hidden layer sizes n[1], ..., n[L-1]; () is logistic regression.
    hidden_activation : str, default="relu"
        sigmoid, tanh, relu, leaky_relu or linear; one for all hidden layers,
        or one per layer ("relu,tanh" or a list).
    output : str or None
        sigmoid, softmax or linear; default from the labels.
    iterations : int or None
        The course's loop: full-batch gradient descent for this many
        iterations (no normalisation unless `normalize` says so).
    epochs : int or None
        Exactly this many mini-batch epochs; None trains until the training
        cost converges (tol, n_iter_no_change), at most max_epochs.
    seed : int, default=1
        Initialisation, shuffling, dropout and the validation split: the same
        seed, data and thread count give the same bits.
    val_split, patience, min_delta
        Early stopping on a held-out part of the training data.
    learning_rate, batch_size, optimizer, momentum, rho, beta1, beta2,
    epsilon, weight_decay, schedule, lr_gamma, lr_step, lr_decay, min_lr,
    warmup, l2, dropout, clip_norm, drop_last, max_epochs, tol,
    n_iter_no_change, normalize, init, init_scale, rng, dtype, leaky_slope,
    print_every
        As `deepnet train --help` describes them.
    diagnose : bool, default=False
        Gather per-layer training-health statistics every epoch (full-batch:
        every print_every iterations) into diagnostics_, and check the rules
        that need them (dead ReLUs, saturated units, update/weight ratio);
        `deepnet train --diagnose`. The trained weights are the same bits.
    verbose : bool, default=False
        Print the cost every epoch (or every print_every iterations).

    Attributes
    ----------
    model_ : deepnet.Model
        The trained model (what `save` writes).
    coefs_ : list of ndarray
        W[l] for l = 1..L in the course's shape (n[l], n[l-1]): the transpose
        of scikit-learn's MLP coefs_, which are (n[l-1], n[l]).
    intercepts_ : list of ndarray
        b[l] in the course's shape (n[l], 1).
    loss_curve_ : list of float
        The training cost per epoch (full-batch: every print_every iterations).
    validation_loss_curve_ : list of float
        The validation cost per epoch (with val_split).
    n_iter_ : int
        Epochs (or iterations) trained.
    n_features_in_, feature_names_in_
        As scikit-learn's; feature names also come from `feature_names=` in fit.
    converged_, warnings_, task_reason_, best_epoch_
        What the library reported: convergence, warnings, why the task.
    diagnostics_ : dict of ndarray or None
        With diagnose=True: columns epoch (full-batch: iteration), layer,
        dead, saturated, a_mean, a_std, dw_norm, w_norm, update_ratio, one
        row per record and layer (NaN where a quantity does not apply);
        None otherwise.
"""


class DeepNetClassifier(ClassifierMixin, _DeepNetBase):
    __doc__ = ("A fully connected network classifier trained by deepnet's C++ library.\n" + _COMMON_DOC +
               """    classes_ : ndarray
        The class labels, sorted.
    validation_scores_ : list of float
        The validation accuracy per epoch (with val_split).

    class_weight : None, "balanced", dict or list
        Per-class weights on the cost ("balanced": m / (K count_c)).
""")

    _task = "classify"

    def __init__(self, layers=(), hidden_activation="relu", output=None, leaky_slope=0.01, init="auto",
                 init_scale=0.01, rng="portable", seed=1, dtype="float32", precision="float32", learning_rate=None, iterations=None,
                 epochs=None, max_epochs=200, tol=1e-4, n_iter_no_change=10, batch_size="auto", drop_last=False,
                 optimizer=None, momentum=0.9, rho=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01,
                 schedule="constant", lr_gamma=0.5, lr_step=10, lr_decay=0.1, min_lr=0.0, warmup=0, l2=0.0,
                 dropout=None, clip_norm=0.0, class_weight=None, patience=0, min_delta=0.0, val_split=None,
                 normalize="auto", print_every=100, diagnose=False, verbose=False):
        _store_parameters(self, locals())

    def _targets(self, y, classes):
        """The labels as the library takes them: values for numeric classes,
        indices into the class names otherwise."""
        if self._numeric_classes(classes):
            return np.asarray(y, dtype=np.float64), []
        index = {c: k for k, c in enumerate(classes.tolist())}
        try:
            values = np.array([index[c] for c in y.tolist()], dtype=np.float64)
        except KeyError as missing:
            raise ValueError(f"y: label {missing.args[0]!r} is not one of the classes {classes.tolist()}") from None
        return values, [str(c) for c in classes]

    @staticmethod
    def _numeric_classes(classes):
        return classes.dtype.kind in "biuf"

    def _class_weight_settings(self, classes):
        cw = self.class_weight
        if cw is None:
            return {}
        if isinstance(cw, str):
            if cw != "balanced":
                raise ValueError(f"class_weight: expected 'balanced', a dict or one weight per class, got {cw!r}")
            return {"balanced_class_weights": True}
        if isinstance(cw, dict):
            return {"class_weights": [float(cw.get(c, 1.0)) for c in classes.tolist()]}
        return {"class_weights": _float_list(cw, "class_weight")}

    def fit(self, X, y, feature_names=None):
        """Trains on X (m, n) and labels y (m,) with deepnet::fit; returns self.

        feature_names: names of the columns of X (otherwise a DataFrame's
        columns); stored in the model, so that the CLI matches CSV columns
        to them by name.
        """
        target = _target_name(y)
        X, y = _validate(self, X, y, reset=True, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"y has one class ({classes[0]!r}); a classifier needs at least 2 classes")
        values, names = self._targets(y, classes)
        result = self._fit_core(X, values, names, feature_names, target, partial=False,
                                extra_settings=self._class_weight_settings(classes))
        self.classes_ = classes
        self._take_result(result)
        self.validation_scores_ = [v for v in result["validation_accuracy"] if v == v]
        return self

    def partial_fit(self, X, y, classes=None, feature_names=None):
        """One more epoch of mini-batch training over (X, y) (deepnet::partial_fit).

        classes: every class, required on the first call (later parts may lack some).
        """
        first = not hasattr(self, "model_")
        target = _target_name(y)
        X, y = _validate(self, X, y, reset=first, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes: the first call to partial_fit needs every class (classes=...)")
            classes = np.unique(np.asarray(classes))
            if len(classes) < 2:
                raise ValueError("classes: a classifier needs at least 2 classes")
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes: {np.unique(classes).tolist()} differ from the first call's "
                             f"{self.classes_.tolist()}")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"y: label {unknown[0]!r} is not one of the classes {self.classes_.tolist()}")
        values, names = self._targets(y, self.classes_)
        extra = self._class_weight_settings(self.classes_)
        if self._numeric_classes(self.classes_):
            extra["class_values"] = [float(c) for c in self.classes_]
        else:
            extra["class_values"] = [float(k) for k in range(len(self.classes_))]
            extra["class_names"] = [str(c) for c in self.classes_]
        result = self._fit_core(X, values, names, feature_names, target, partial=True, extra_settings=extra)
        curve = getattr(self, "loss_curve_", [])
        self._take_result(result)
        self.loss_curve_ = list(result["loss_curve"]) if not curve else curve + [result["loss_curve"][-1]]
        self.validation_scores_ = []
        return self

    def predict_proba(self, X):
        """Class probabilities (m, K), columns in the order of classes_."""
        X = self._check_X(X)
        outputs, _ = self.model_.predict(X)
        return outputs

    def predict(self, X):
        """The most probable class of each row of X."""
        X = self._check_X(X)
        _, labels = self.model_.predict(X)
        return self.classes_[labels.astype(np.intp)]


class DeepNetRegressor(RegressorMixin, _DeepNetBase):
    __doc__ = ("A fully connected network regressor trained by deepnet's C++ library.\n" + _COMMON_DOC +
               """    scale_target : "auto", "yes" or "no"
        Train on standardised targets (stored in the model; predictions come
        back in y's units); auto: yes in mini-batch training.
""")

    _task = "regress"

    def __init__(self, layers=(), hidden_activation="relu", output=None, leaky_slope=0.01, init="auto",
                 init_scale=0.01, rng="portable", seed=1, dtype="float32", precision="float32", learning_rate=None, iterations=None,
                 epochs=None, max_epochs=200, tol=1e-4, n_iter_no_change=10, batch_size="auto", drop_last=False,
                 optimizer=None, momentum=0.9, rho=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01,
                 schedule="constant", lr_gamma=0.5, lr_step=10, lr_decay=0.1, min_lr=0.0, warmup=0, l2=0.0,
                 dropout=None, clip_norm=0.0, patience=0, min_delta=0.0, val_split=None, normalize="auto",
                 scale_target="auto", print_every=100, diagnose=False, verbose=False):
        _store_parameters(self, locals())

    def _scale_settings(self):
        st = self.scale_target
        if st == "auto":
            return {}
        if st in ("yes", True):
            return {"scale_target": True}
        if st in ("no", False):
            return {"scale_target": False}
        raise ValueError(f"scale_target: expected yes, no or auto, got {st!r}")

    def fit(self, X, y, feature_names=None):
        """Trains on X (m, n) and targets y (m,) with deepnet::fit; returns self."""
        target = _target_name(y)
        X, y = _validate(self, X, y, reset=True, dtype=[np.float64, np.float32], y_numeric=True)
        result = self._fit_core(X, np.asarray(y, dtype=np.float64), [], feature_names, target, partial=False,
                                extra_settings=self._scale_settings())
        return self._take_result(result)

    def partial_fit(self, X, y, feature_names=None):
        """One more epoch of mini-batch training over (X, y) (deepnet::partial_fit)."""
        first = not hasattr(self, "model_")
        target = _target_name(y)
        X, y = _validate(self, X, y, reset=first, dtype=[np.float64, np.float32], y_numeric=True)
        curve = getattr(self, "loss_curve_", [])
        result = self._fit_core(X, np.asarray(y, dtype=np.float64), [], feature_names, target, partial=True,
                                extra_settings=self._scale_settings())
        self._take_result(result)
        self.loss_curve_ = list(result["loss_curve"]) if not curve else curve + [result["loss_curve"][-1]]
        return self

    def predict(self, X):
        """The predicted value of each row of X, in y's units."""
        X = self._check_X(X)
        outputs, _ = self.model_.predict(X)
        return outputs[:, 0].copy()


def _from_model(model):
    """A fitted estimator around a model read from a file."""
    if model.output == "linear":
        estimator = DeepNetRegressor()
    else:
        estimator = DeepNetClassifier()
        values, names = model.classes, model.class_names

        def numeric(name, value):
            try:
                return float(name) == value
            except ValueError:
                return False

        if all(numeric(n, v) for n, v in zip(names, values)):
            whole = all(float(v).is_integer() for v in values)
            estimator.classes_ = np.asarray(values, dtype=np.int64 if whole else np.float64)
        else:
            estimator.classes_ = np.asarray(names, dtype=object)
        estimator.validation_scores_ = []
    sizes = model.sizes
    estimator.layers = tuple(sizes[1:-1])
    settings = dict(model.settings)
    if "hidden_activations" in settings:
        estimator.hidden_activation = settings["hidden_activations"]
    estimator.dtype = "float64" if model.float64 else "float32"
    estimator.model_ = model
    estimator._state = None
    estimator.n_features_in_ = sizes[0]
    if model.feature_names:
        estimator.feature_names_in_ = np.asarray(model.feature_names, dtype=object)
    layers = model.weights()
    estimator.coefs_ = [W for W, _ in layers]
    estimator.intercepts_ = [b for _, b in layers]
    estimator.loss_curve_ = []
    estimator.validation_loss_curve_ = []
    estimator.n_iter_ = 0
    estimator.converged_ = True
    estimator.warnings_ = []
    estimator.diagnostics_ = None
    estimator.task_reason_ = "read from a model file"
    estimator.best_epoch_ = 0
    return estimator


def load(path):
    """Reads a model file (deepnet train --out, estimator.save) and returns a
    fitted DeepNetClassifier or DeepNetRegressor.

    Raises FileNotFoundError when there is no such file and ValueError naming
    the file and the field when it is not a valid model file.
    """
    return _from_model(_core.load(os.fspath(path)))


__all__ = ["DeepNetClassifier", "DeepNetRegressor", "load", "NotFittedError"]
