"""Stateful metrics by their Keras names, averaged over an epoch as Keras 3 averages them,
and the Keras function forms (``mean_squared_error``, ``top_k_categorical_accuracy``, ...).

Modules: ``base`` (``Metric``, ``Mean``, ``MeanMetricWrapper``: the epoch averaging),
``accuracy`` (binary, categorical, sparse, top-k), ``regression`` (means of loss values,
``RootMeanSquaredError``, ``CosineSimilarity``), ``confusion`` (``Precision``, ``Recall``,
``AUC``). ``result()`` is a Python float (an array for several thresholds).
"""
import numpy as np

from .. import losses as _losses
from .accuracy import (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, _AutoAccuracy,
                       _accuracy_for_shapes, binary_accuracy, categorical_accuracy,
                       sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                       top_k_categorical_accuracy)
from .base import Mean, MeanMetricWrapper, Metric
from .confusion import AUC, Precision, Recall
from .regression import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                         CosineSimilarity, Hinge, KLDivergence, LogCoshError,
                         MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                         MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
                         SparseCategoricalCrossentropy, SquaredHinge)

# Keras's function forms under keras.metrics (the loss functions' per-sample values)
mean_squared_error = mse = MSE = _losses.mean_squared_error
mean_absolute_error = mae = MAE = _losses.mean_absolute_error
mean_absolute_percentage_error = mape = MAPE = _losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = msle = MSLE = _losses.mean_squared_logarithmic_error
hinge = _losses.hinge
squared_hinge = _losses.squared_hinge
categorical_hinge = _losses.categorical_hinge
huber = _losses.huber
kl_divergence = kld = KLD = _losses.kl_divergence
log_cosh = logcosh = _losses.log_cosh
poisson = _losses.poisson
binary_crossentropy = _losses.binary_crossentropy
categorical_crossentropy = _losses.categorical_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
    "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "LogCoshError",
    "CosineSimilarity", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Precision", "Recall", "AUC",
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "hinge", "squared_hinge", "categorical_hinge", "huber",
    "kl_divergence", "log_cosh", "poisson", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "logcosh",
    "get",
]

_CLASSES = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, RootMeanSquaredError, Hinge, SquaredHinge,
            CategoricalHinge, KLDivergence, Poisson, LogCoshError, CosineSimilarity,
            BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, Precision, Recall, AUC,
            Mean)
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({cls.default_name: cls for cls in _CLASSES})
_BY_NAME.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError, "kld": KLDivergence, "KLD": KLDivergence,
    "log_cosh": LogCoshError, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
})
ALLOWED_NAMES = ("accuracy", "acc") + tuple(_BY_NAME)


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A metric object, named as Keras 3's ``compile(metrics=[...])`` names it.

    Args:
        identifier: a name (``"accuracy"``, ``"acc"``, ``"mae"``, ``"mse"``,
            ``"mean_absolute_error"``, ``"binary_accuracy"``, ``"auc"``, a class name ...),
            a ``Metric`` (class or instance), or a function ``(y_true, y_pred) ->
            per-sample values``. A string names the metric (``"mae"`` is reported as
            ``"mae"``, as in Keras).
        loss: accepted for compatibility; Keras 3 does not consult the loss: ``"accuracy"``
            is resolved from the shapes of ``y_true`` and ``y_pred``.
        y_true, y_pred: arrays (or shapes) of one batch; when both are given, ``"accuracy"``
            is resolved now, otherwise at the metric's first ``update_state``.

    Example:
        >>> m = get("acc"); m.update_state([[1], [0]], [[0.7], [0.7]]); (m.name, m.result())
        ('acc', 0.5)
    """
    del loss  # Keras 3 resolves "accuracy" from the shapes only.
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            if y_true is not None and y_pred is not None:
                shapes = [y if isinstance(y, tuple) else np.shape(y) for y in (y_true, y_pred)]
                return _accuracy_for_shapes(*shapes)(name=identifier)
            return _AutoAccuracy(name=identifier)
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
    elif callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"Received an invalid value for argument `metrics`, expected one of "
        f"{list(ALLOWED_NAMES)}, a fastrnn.metrics.Metric or a callable, got {identifier!r}.")
