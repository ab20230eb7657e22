"""Keras 3 optimizers over NumPy arrays, updated in place.

``SGD``, ``RMSprop``, ``Adam``, ``AdamW``, ``Adagrad``, ``Adadelta``, ``Adamax``, ``Nadam``
(Keras 3's update rules), their common arguments (``Optimizer``), learning-rate schedules
(``fastrnn.optimizers.schedules``) and row-sparse gradients (``SparseGradient``, the
``tf.IndexedSlices`` an ``Embedding`` produces), applied with the semantics of Keras 3's
TensorFlow backend: see each optimizer's docstring for which rows and slots change.
"""
from . import schedules
from .adam import Adam, Adamax, AdamW, Nadam
from .base import Optimizer
from .rmsprop import Adadelta, Adagrad, RMSprop
from .sgd import SGD
from .sparse import SparseGradient

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad",
           "Adadelta", "SparseGradient", "schedules", "get", "serialize", "deserialize"]

_CLASSES = (SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta)
_BY_NAME = {cls.__name__.lower(): cls for cls in _CLASSES}


def get(identifier):
    """An optimizer from a name (``"sgd"``, ``"adam"``, ``"rmsprop"``, ``"adamw"``,
    ``"adagrad"``, ``"adadelta"``, ``"adamax"``, ``"nadam"``; any case; Keras's defaults), a
    ``{"class_name": ..., "config": {...}}`` dict, a class or an instance.

    Example:
        >>> get("adam").get_config()["learning_rate"]  # float32-rounded 0.001
        0.0010000000474974513
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        cls = _BY_NAME.get(identifier["class_name"].lower())
        if cls is not None:
            return cls.from_config(dict(identifier.get("config", {})))
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        "Received an invalid value for argument `optimizer`, expected one of "
        f"{sorted(_BY_NAME)} (any case), a fastrnn.optimizers.Optimizer or its config dict, "
        f"got {identifier!r}.")


def serialize(optimizer):
    """``{"class_name": ..., "config": ...}`` of an optimizer, as Keras writes it."""
    optimizer = get(optimizer)
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


deserialize = get
