"""fastrnn: a small, fast SimpleRNN for CPU with Keras's API and a Cython kernel.

    from fastrnn.models import Sequential
    from fastrnn.layers import SimpleRNN, Bidirectional, Dense
"""
from . import _kernel  # noqa: F401  (the compiled kernel; fails loudly if the build is missing)
from . import activations, functional, initializers, layers, models, utils
from .functional import get_num_threads, set_num_threads
from .layers import (GRU, LSTM, Activation, Bidirectional, Dense, Dropout, Embedding, Flatten,
                     Input, InputLayer, SimpleRNN)
from .models import Model, Sequential
from .utils import set_random_seed

from ._version import __version__  # noqa: F401  (the one place it is written)
__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional", "Dense", "Input", "InputLayer", "Embedding",
           "Dropout", "Activation", "Flatten", "Model", "Sequential", "set_random_seed",
           "set_num_threads", "get_num_threads",
           "functional", "layers", "models", "activations", "initializers", "utils"]


def __getattr__(name):
    # losses, optimizers, metrics and callbacks load on first use
    if name in ("losses", "optimizers", "metrics", "callbacks", "reference", "regularizers",
                "constraints", "datasets", "preprocessing", "interop", "saving", "config",
                "backend"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'fastrnn' has no attribute {name!r}")
