"""The part of ``keras.backend`` that tutorials call: ``floatx`` / ``set_floatx`` /
``epsilon`` (the same as ``fastrnn.config``) and ``clear_session``."""
from .config import epsilon, floatx, set_floatx

__all__ = ["floatx", "set_floatx", "epsilon", "clear_session"]


def clear_session(free_memory=True):
    """Restart automatic layer and model names ("lstm", "lstm_1", ... begin again), as Keras's
    ``clear_session`` does. fastrnn keeps no other global graph state, so nothing else is reset."""
    from .utils import _name_counts
    _name_counts.clear()
