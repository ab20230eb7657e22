"""Keras's cell API: ``RNN(LSTMCell(units))`` and friends, run by the fused layers.

Keras 3 (keras/src/layers/rnn/rnn.py) lets a program build a recurrent layer from a cell:
``keras.layers.RNN(keras.layers.LSTMCell(64), return_sequences=True)``. The Keras guide
"Working with RNNs" uses it next to ``LSTM(64)`` and copies weights between the two, which
have the same layout. Here a built-in cell holds the per-step arguments (units, activations,
initializers, regularizers, constraints, dropout, ``reset_after``), and ``RNN(cell, ...)``
returns the fused layer with those arguments plus the sequence ones (``return_sequences``,
``return_state``, ``go_backwards``, ``stateful``, ``unroll``, ``zero_output_for_mask``): an
``LSTM``, ``GRU`` or ``SimpleRNN`` (named ``rnn``, ``rnn_1``, ... as Keras names it), so it
computes, trains and saves exactly as that layer.

A cell called on one step, ``cell(x_t, states)``, returns ``(output, new_states)`` as in
Keras; it runs a one-step fused layer that owns the cell's weights.

Not supported (a clear error is raised): lists of cells / ``StackedRNNCells`` and custom
cell classes (a Python ``call`` per step is what fastrnn's kernel replaces).
"""
import numpy as np

from ...utils import unique_name
from .gru import GRU
from .lstm import LSTM
from .simple_rnn import SimpleRNN

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "RNN", "CELLS"]

# the arguments that belong to the sequence layer, not to a cell (Keras's RNN signature)
_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")


class _Cell:
    """Per-step arguments of a fused layer class; ``units`` plus that layer's keyword
    arguments (validated by building the layer once)."""

    layer_class = None

    def __init__(self, units, **kwargs):
        for key in _RNN_ARGS:
            if key in kwargs:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                                f"`{key}` (it is an argument of `RNN`).")
        self.name = kwargs.pop("name", None) or unique_name(
            type(self).__name__.replace("RNNCell", "_rnn_cell").replace("Cell", "_cell").lower())
        # one-step layer: checks every argument now, and holds the weights of cell(...) calls
        self._layer = self.layer_class(units, return_state=True, name=self.name, **kwargs)
        self.units = self._layer.units
        self._kwargs = dict(kwargs)

    @property
    def state_size(self):
        """``units`` (GRU, SimpleRNN) or ``[units, units]`` (LSTM: h and c), as Keras."""
        return [self.units, self.units] if self.layer_class is LSTM else self.units

    @property
    def output_size(self):
        return self.units

    def layer_config(self):
        """The keyword arguments of the fused layer this cell stands for."""
        return {"units": self.units, **self._kwargs}

    def get_config(self):
        config = {k: v for k, v in self._layer.get_config().items() if k not in _RNN_ARGS}
        config["name"] = self.name
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in _RNN_ARGS + ("time_major",):
            config.pop(key, None)
        return cls(**config)

    def __call__(self, inputs, states, training=False):
        """One step: ``inputs`` (batch, features), ``states`` a list of (batch, units)
        arrays (LSTM: [h, c]). Returns ``(output, new_states)``."""
        x = np.asarray(inputs)
        if x.ndim != 2:
            raise ValueError(f"Cell `{self.name}` expects inputs of shape (batch, features), "
                             f"got shape {x.shape}.")
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        out = self._layer(x[:, None, :], initial_state=states, training=training)
        return out[0], list(out[1:])

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, units={self.units}>"


class SimpleRNNCell(_Cell):
    """``keras.layers.SimpleRNNCell(units, activation="tanh", use_bias=True, ...)``: the
    arguments of ``SimpleRNN`` without the sequence ones."""
    layer_class = SimpleRNN


class LSTMCell(_Cell):
    """``keras.layers.LSTMCell(units, activation="tanh", recurrent_activation="sigmoid",
    unit_forget_bias=True, ...)``: the arguments of ``LSTM`` without the sequence ones."""
    layer_class = LSTM


class GRUCell(_Cell):
    """``keras.layers.GRUCell(units, ..., reset_after=True)``: the arguments of ``GRU``
    without the sequence ones."""
    layer_class = GRU


CELLS = {cls.__name__: cls for cls in (SimpleRNNCell, LSTMCell, GRUCell)}


class RNN:
    """``keras.layers.RNN(cell, return_sequences=False, return_state=False,
    go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False, **kwargs)``
    for a built-in cell: returns the equivalent fused layer (``LSTM`` for an ``LSTMCell``,
    ``GRU`` for a ``GRUCell``, ``SimpleRNN`` for a ``SimpleRNNCell``), named ``rnn``,
    ``rnn_1``, ... unless ``name`` is given. Its weights have Keras's layout, so
    ``set_weights`` moves them between ``RNN(LSTMCell(n))`` and ``LSTM(n)`` models.

    Args:
        cell: a ``SimpleRNNCell``, ``LSTMCell`` or ``GRUCell``.
        **kwargs: the sequence arguments above and the common layer arguments (``name``,
            ``input_shape``, ``dtype``, ...).

    Raises:
        NotImplementedError: a list of cells (``StackedRNNCells``) or a custom cell class.

    Example:
        >>> layer = RNN(LSTMCell(4), return_sequences=True)
        >>> type(layer).__name__, layer(np.ones((2, 5, 3), "float32")).shape
        ('LSTM', (2, 5, 4))
    """

    def __new__(cls, cell, **kwargs):
        if isinstance(cell, (list, tuple)) or type(cell).__name__ == "StackedRNNCells":
            raise NotImplementedError(
                "fastrnn's RNN takes one built-in cell; a list of cells (StackedRNNCells) is "
                "not supported: stack RNN layers with return_sequences=True instead.")
        if not isinstance(cell, _Cell):
            raise NotImplementedError(
                f"fastrnn's RNN runs the built-in cells {sorted(CELLS)} on its compiled "
                f"kernel; got {cell!r}. Custom cell classes are not supported.")
        unknown = set(kwargs) & {"constants", "time_major"}
        if unknown:
            raise NotImplementedError(f"fastrnn's RNN does not take {sorted(unknown)}.")
        config = cell.layer_config()
        config.update(kwargs)
        if config.get("name") is None:
            config["name"] = unique_name("rnn")
        return cell.layer_class(**config)

    @classmethod
    def from_config(cls, config):
        """A Keras ``RNN`` config (``{"cell": {"class_name": "LSTMCell", "config": {...}},
        ...}``) -> the fused layer."""
        config = dict(config)
        spec = config.pop("cell", None)
        if not isinstance(spec, dict) or spec.get("class_name") not in CELLS:
            name = spec.get("class_name") if isinstance(spec, dict) else spec
            raise ValueError(f"RNN config: expected a cell among {sorted(CELLS)}, got {name!r}.")
        cell = CELLS[spec["class_name"]].from_config(spec.get("config", {}))
        return cls(cell, **config)
