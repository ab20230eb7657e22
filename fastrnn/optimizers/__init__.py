"""Keras 3 optimizers over NumPy arrays, updated in place.

``SGD``, ``RMSprop``, ``Adam``, ``AdamW``, ``Adagrad``, ``Adadelta``, ``Adamax``, ``Nadam``
(Keras 3's update rules), their common arguments (``Optimizer``), learning-rate schedules
(``fastrnn.optimizers.schedules``) and row-sparse gradients (``SparseGradient``, the
``tf.IndexedSlices`` an ``Embedding`` produces).

A ``SparseGradient`` is applied as Keras 3 with the TensorFlow backend applies an
``IndexedSlices`` (checked against Keras in tests/fixtures/tool_sparse_opt.npz and the
model-level tool_embed_* fixtures):

    optimizer                 variable rows not looked up   their slots     repeated row
    SGD (momentum 0)          unchanged                     -               sum of steps
    SGD (momentum > 0)        move (dense update)           decay           gradient summed
    RMSprop (momentum 0)      unchanged                     velocity decays sum of steps
    RMSprop (momentum > 0)    move (dense)                  decay           -
    Adagrad                   unchanged                     unchanged       sum of steps
    Adadelta                  unchanged                     decay           sum of steps
    Adam, AdamW, Adamax, Nadam  move (dense update)         decay           gradient summed

Wherever Keras squares (or takes ``abs`` of) the gradient it does so per occurrence before
summing a row's occurrences: a repeated row's second moment gets the sum of the squares,
not the square of the sum. ``global_clipnorm`` densifies (Keras's ``g * scale``); weight
decay is dense. Rows never looked up keep slots that stay zero, so they never move.
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
