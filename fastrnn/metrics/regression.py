"""Metrics that average a loss function's per-sample values (Keras's MeanMetricWrapper)."""
import numpy as np

from .. import losses as _losses
from .base import MeanMetricWrapper

__all__ = ["MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Hinge",
           "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "LogCoshError",
           "CosineSimilarity", "RootMeanSquaredError", "cosine_similarity"]


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean((y_true - y_pred)**2, axis=-1)`` over all samples seen."""
    default_name = "mean_squared_error"
    _direction = "down"

    def __init__(self, name="mean_squared_error"):
        super().__init__(_losses.mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(|y_true - y_pred|, axis=-1)`` over all samples seen."""
    default_name = "mean_absolute_error"
    _direction = "down"

    def __init__(self, name="mean_absolute_error"):
        super().__init__(_losses.mean_absolute_error, name=name)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy (per-sample as ``fastrnn.losses.binary_crossentropy``)."""
    default_name = "binary_crossentropy"
    _direction = "down"

    def __init__(self, name="binary_crossentropy", from_logits=False, label_smoothing=0.0):
        super().__init__(_losses.binary_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy (as ``fastrnn.losses.categorical_crossentropy``)."""
    default_name = "categorical_crossentropy"
    _direction = "down"

    def __init__(self, name="categorical_crossentropy", from_logits=False,
                 label_smoothing=0.0):
        super().__init__(_losses.categorical_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical crossentropy (``fastrnn.losses`` per-sample values)."""
    default_name = "sparse_categorical_crossentropy"
    _direction = "down"

    def __init__(self, name="sparse_categorical_crossentropy", from_logits=False):
        super().__init__(_losses.sparse_categorical_crossentropy, name=name,
                         from_logits=from_logits)


def _wrapper(cls_name, fn, default, direction, doc):
    def __init__(self, name=default):
        MeanMetricWrapper.__init__(self, fn, name=name)
    return type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "default_name": default, "_direction": direction,
        "__doc__": doc, "__module__": __name__})


MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", _losses.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "down",
    "Mean of ``100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)``.")
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", _losses.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "down",
    "Mean of the per-sample squared logarithmic error (``fastrnn.losses``).")
Hinge = _wrapper("Hinge", _losses.hinge, "hinge", "down",
                 "Mean of the per-sample hinge loss (0/1 targets become -1/1).")
SquaredHinge = _wrapper("SquaredHinge", _losses.squared_hinge, "squared_hinge", "down",
                        "Mean of the per-sample squared hinge loss.")
CategoricalHinge = _wrapper("CategoricalHinge", _losses.categorical_hinge,
                            "categorical_hinge", "down",
                            "Mean of the per-sample categorical hinge loss.")
KLDivergence = _wrapper("KLDivergence", _losses.kl_divergence, "kl_divergence", "down",
                        "Mean of the per-sample Kullback-Leibler divergence.")
Poisson = _wrapper("Poisson", _losses.poisson, "poisson", "down",
                   "Mean of the per-sample Poisson loss.")
LogCoshError = _wrapper("LogCoshError", _losses.log_cosh, "logcosh", "down",
                        "Mean of ``mean(log(cosh(y_pred - y_true)), axis=-1)`` (name "
                        "``logcosh``, Keras's).")


def cosine_similarity(y_true, y_pred, axis=-1):
    """Keras's metric form: ``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``
    (1 for parallel vectors; the loss is its negative)."""
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between targets and predictions along ``axis`` (default -1)."""
    default_name = "cosine_similarity"
    _direction = "up"

    def __init__(self, name="cosine_similarity", axis=-1):
        self.axis = axis
        super().__init__(cosine_similarity, name=name, axis=axis)

    def get_config(self):
        return {"name": self.name, "axis": self.axis}


class RootMeanSquaredError(MeanMetricWrapper):
    """``sqrt`` of the (weighted) mean of ``(y_pred - y_true)**2`` over all samples seen."""
    default_name = "root_mean_squared_error"
    _direction = "down"

    def __init__(self, name="root_mean_squared_error"):
        super().__init__(_losses.mean_squared_error, name=name)

    def result(self):
        return float(np.sqrt(super().result()))
