"""Losses by their Keras names, each with its value and its gradient side by side.

A loss object maps targets ``y_true`` and predictions ``y_pred`` to one number, as Keras 3
does with its default reduction ``"sum_over_batch_size"``::

    per_sample = fn(y_true, y_pred)            # shape y_pred.shape[:-1] (sparse: same)
    loss       = sum(per_sample * w) / per_sample.size     # w = sample_weight (and mask) or 1

and ``gradient(y_true, y_pred, sample_weight=None, mask=None)`` returns d loss / d y_pred,
of the shape and dtype of ``y_pred``. Modules: ``base`` (``Loss``, reductions, sample
weights and masks), ``crossentropy``, ``regression`` (MSE, MAE, MAPE, MSLE, Huber, LogCosh,
CosineSimilarity), ``probabilistic`` (KLDivergence, Poisson), ``hinge``.

Arrays are computed in the float dtype of ``y_pred`` (float32 when it is an integer array);
``y_true`` is cast to it. As Keras does, a target of shape ``(batch,)`` is accepted for
predictions of shape ``(batch, 1)`` and vice versa. Keras 2's aliases (``mse``, ``MSE``,
``mae``, ``mape``, ``msle``, ``kld``, ``bce``, ...) are kept.
"""
from .base import EPSILON, Loss, LossFunctionWrapper, _squeeze_or_expand
from .crossentropy import (BinaryCrossentropy, CategoricalCrossentropy,
                           SparseCategoricalCrossentropy, binary_crossentropy,
                           categorical_crossentropy, sparse_categorical_crossentropy)
from .hinge import (CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge,
                    squared_hinge)
from .probabilistic import KLDivergence, Poisson, kl_divergence, poisson
from .regression import (CosineSimilarity, Huber, LogCosh, MeanAbsoluteError,
                         MeanAbsolutePercentageError, MeanSquaredError,
                         MeanSquaredLogarithmicError, cosine_similarity, huber, log_cosh,
                         mean_absolute_error, mean_absolute_percentage_error,
                         mean_squared_error, mean_squared_logarithmic_error)

# used by fastrnn.metrics (shape rule shared with the metrics)
_PRIVATE = (EPSILON, _squeeze_or_expand)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

__all__ = [
    "Loss", "LossFunctionWrapper",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "LogCosh", "CosineSimilarity", "KLDivergence",
    "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "cosine_similarity",
    "kl_divergence", "poisson", "hinge", "squared_hinge", "categorical_hinge",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
    "logcosh", "kullback_leibler_divergence", "get", "serialize", "deserialize",
]

_CLASS_LIST = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
               MeanSquaredLogarithmicError, Huber, LogCosh, CosineSimilarity, KLDivergence,
               Poisson, Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy,
               CategoricalCrossentropy, SparseCategoricalCrossentropy)
_CLASSES = {cls.__name__: cls for cls in _CLASS_LIST}
_FUNCTION_OBJECTS = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber,
    log_cosh: LogCosh, cosine_similarity: CosineSimilarity, kl_divergence: KLDivergence,
    poisson: Poisson, hinge: Hinge, squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge, binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}
_FUNCTIONS = {fn.__name__: cls for fn, cls in _FUNCTION_OBJECTS.items()}
_FUNCTIONS.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError, "kld": KLDivergence, "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence, "logcosh": LogCosh,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
})
ALLOWED_NAMES = tuple(_FUNCTIONS) + tuple(_CLASSES)


def get(identifier):
    """Return a ``Loss`` object for a Keras loss name, a ``Loss`` (class or instance), a
    ``{"class_name", "config"}`` dict or a callable.

    Names are resolved as ``model.compile(loss=...)`` does in Keras 3: a function name or
    alias (``"mse"``, ``"binary_crossentropy"``) gives a loss named by that string, a class
    name (``"MeanSquaredError"``) gives the class's default name. A plain callable
    ``fn(y_true, y_pred) -> per-sample losses`` is wrapped (``LossFunctionWrapper``, whose
    ``gradient`` is unavailable) unless it is one of this module's functions.

    Example:
        >>> get("mse")
        <MeanSquaredError name='mse'>
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(
            dict(identifier.get("config", {})))
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
    elif callable(identifier):
        for fn, cls in _FUNCTION_OBJECTS.items():
            if identifier is fn:
                return cls(name=fn.__name__)
        if getattr(identifier, "__module__", "").split(".")[0] == "keras":
            return _from_keras(identifier)
        return LossFunctionWrapper(identifier)
    raise ValueError(
        f"Received an invalid value for argument `loss`, expected one of "
        f"{list(ALLOWED_NAMES)}, a fastrnn.losses.Loss or a callable, got {identifier!r}.")


deserialize = get


def _from_keras(obj):
    """Our equivalent of a Keras loss function or Loss instance of the same name."""
    fn_name = getattr(obj, "__name__", None)
    if fn_name in _FUNCTIONS:
        return _FUNCTIONS[fn_name](name=fn_name)
    cls = _CLASSES.get(type(obj).__name__)
    if cls is None:
        raise ValueError(f"Received an invalid value for argument `loss`, expected one of "
                         f"{list(ALLOWED_NAMES)}, got the Keras object {obj!r}.")
    config = obj.get_config() if hasattr(obj, "get_config") else {}
    keep = set(cls().get_config())
    return cls(**{k: v for k, v in config.items() if k in keep})


def serialize(loss):
    """The Keras name of a loss object (for configs): its ``name``."""
    return get(loss).name
