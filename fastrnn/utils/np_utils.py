"""Keras 2's ``keras.utils.np_utils`` (tf_keras 2.x): ``to_categorical`` with a ``dtype``
(float32 by default) and ``normalize``. Keras 3 has them in ``keras.utils`` only."""
import numpy as np

from .numerical import normalize
from .numerical import to_categorical as _to_categorical

__all__ = ["to_categorical", "normalize"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer labels ``y`` (any shape ``S``; a trailing axis of size 1 is
    dropped) into an array of shape ``S + (num_classes,)`` and ``dtype``, as tf_keras's
    ``np_utils.to_categorical``. Labels are read as integers (Keras 2 casts with
    ``np.array(y, dtype="int")``).

    Raises:
        ValueError: negative labels, a label >= ``num_classes``, a bad ``num_classes``.
    """
    y = np.array(y, dtype="int")
    return _to_categorical(y, num_classes=num_classes).astype(dtype)
