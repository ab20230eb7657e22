"""Keras-shaped layers.

A layer owns its config and weights and calls ``fastrnn.functional``; the numerics live
there and below. Keras 2 input spellings (``input_shape``, ``batch_input_shape``,
``input_dim``/``input_length``, ``batch_size``) are accepted as well as Keras 3's.
"""
from .base import Context, Layer
from .core import Dense, Embedding
from .input_layer import Input, InputLayer, KerasTensor, Node
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, maximum, minimum, multiply, subtract)
from .pooling import (GlobalAveragePooling1D, GlobalAvgPool1D, GlobalMaxPool1D,
                      GlobalMaxPooling1D)
from .rnn.bidirectional import Bidirectional
from .rnn.cells import RNN, GRUCell, LSTMCell, SimpleRNNCell
from .rnn.gru import GRU
from .rnn.lstm import LSTM
from .rnn.simple_rnn import SimpleRNN
from .rnn.time_distributed import TimeDistributed
from .stateless import (Activation, Dropout, Flatten, Lambda, Masking, Permute, RepeatVector,
                        Reshape)

__all__ = ["Layer", "Context", "Input", "InputLayer", "KerasTensor", "Node", "SimpleRNN",
           "LSTM", "GRU", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "Bidirectional",
           "TimeDistributed", "Dense", "Embedding", "Dropout",
           "Activation", "Flatten", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
           "GlobalAvgPool1D", "GlobalMaxPool1D",
           "Reshape", "RepeatVector", "Permute", "Masking", "Lambda", "Concatenate", "Add",
           "Subtract", "Multiply", "Average", "Maximum", "Minimum", "concatenate", "add",
           "subtract", "multiply", "average", "maximum", "minimum", "serialize",
           "deserialize"]

# Classes a config may name: never looked up anywhere else, so a config cannot reach code
# outside this table (custom_objects extends it per call).
LAYERS = {cls.__name__: cls for cls in (
    InputLayer, SimpleRNN, LSTM, GRU, RNN,
    Bidirectional, TimeDistributed, Dense, Embedding, Dropout, Activation, Flatten,
    Reshape, RepeatVector, Permute, Masking, Concatenate, Add, Subtract, Multiply, Average,
    Maximum, Minimum, GlobalAveragePooling1D, GlobalMaxPooling1D)}


def serialize(layer):
    """``{"module", "class_name", "config", "registered_name"}`` with the config Keras 3
    writes for the layer (fastrnn.saving.serialization; files add ``build_config``)."""
    from ..saving.serialization import serialize_layer
    return serialize_layer(layer, build=False)


def deserialize(spec, custom_objects=None):
    """A layer from ``serialize``'s dict; the class must be a fastrnn layer or in
    ``custom_objects``.

    Raises:
        ValueError: unknown class (named), or a Lambda (its code would have to run).
    """
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ValueError(f"Expected a layer config dict with `class_name` and `config`, got "
                         f"{spec!r}.")
    name = spec["class_name"]
    custom = dict(custom_objects or {})
    if name in custom:
        cls = custom[name]
    elif name in LAYERS:
        cls = LAYERS[name]
    else:
        from ..models import MODELS
        if name in MODELS:
            cls = MODELS[name]
        elif name == "Lambda":
            raise ValueError(f"Layer `{spec.get('config', {}).get('name')}` is a Lambda: "
                             "fastrnn never rebuilds one from a config, since that would "
                             "execute code. Pass the layer in `custom_objects`.")
        else:
            raise ValueError(f"Unknown layer class `{name}`: fastrnn has no such layer. Pass "
                             "it in `custom_objects` if it is your own.")
    from ..models import MODELS
    from ..saving.serialization import normalize_spec  # Keras 2 / Keras 3 spellings
    config = dict(normalize_spec(spec).get("config", {}))
    if any(cls is m for m in MODELS.values()):  # nested layers may be custom too
        return cls.from_config(config, custom_objects)
    return cls.from_config(config)
