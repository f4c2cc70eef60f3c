"""deepnet: fully connected neural networks in the notation of the classic
deep-learning course, trained by deepnet's C++ library.

    from deepnet import DeepNetClassifier
    clf = DeepNetClassifier(layers=(64,)).fit(X_train, y_train)
    clf.score(X_test, y_test)

DeepNetClassifier and DeepNetRegressor are scikit-learn estimators; their
parameters are the flags of `deepnet train` (same names, underscores for
dashes, same defaults). `deepnet.load(path)` reads a model file written by
`deepnet train --out` or by `estimator.save(path)` and returns a fitted
estimator. See docs/python.md.
"""

from ._core import Model, TrainingDiverged, set_threads, threads, __version__
from .estimators import DeepNetClassifier, DeepNetRegressor, load

__all__ = [
    "DeepNetClassifier",
    "DeepNetRegressor",
    "Model",
    "TrainingDiverged",
    "load",
    "set_threads",
    "threads",
    "__version__",
]
