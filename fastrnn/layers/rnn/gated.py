"""What LSTM and GRU share on top of ``BaseRNN``: activations, initializers, named weight
checks and Keras 3's dropout masks (one per gate whenever ``recurrent_dropout > 0``)."""
import numpy as np

from ... import _validation as V
from ... import activations, functional, initializers
from .base import BaseRNN

__all__ = ["GatedRNN", "GATE_ACTIVATIONS"]

# What the gate kernel computes in C (fastrnn._gates.ACTIVATIONS); "hard_sigmoid" is
# Keras 3's clip(x / 6 + 0.5, 0, 1).
GATE_ACTIVATIONS = activations.RECURRENT + ("hard_sigmoid",)

_WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")


class GatedRNN(BaseRNN):
    """Base of the gated cells; a subclass sets ``n_gates`` and ``n_states`` and supplies
    ``_bias_shape()``, ``_bias_init(shape, dtype)``, ``_cell_forward``, ``_cell_backward``.

    Dropout (Keras 3.15.1, keras/src/layers/rnn/lstm.py / gru.py): ``implementation=2``
    (the default) draws one input mask (batch, features) shared by every gate;
    ``implementation=1`` (which Keras forces whenever ``recurrent_dropout > 0``) draws one
    mask per gate for the inputs and for the state, (gates, batch, width). Masks are drawn
    once per call and reused at every timestep.
    """

    n_gates = 4
    _weight_roles = ("kernel", "recurrent", "bias")  # <role>_regularizer / _constraint

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 implementation=2, use_cudnn="auto", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = activations.get(activation, "activation", GATE_ACTIVATIONS)
        self.recurrent_activation = activations.get(recurrent_activation,
                                                    "recurrent_activation", GATE_ACTIVATIONS)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = initializers.get(recurrent_initializer,
                                                      "recurrent_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        if implementation not in (1, 2) or isinstance(implementation, bool):
            raise ValueError("Received an invalid value for argument `implementation` of "
                             f"layer `{self.name}`, expected 1 or 2, got {implementation!r}.")
        self.implementation = int(implementation)
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Received an invalid value for argument `use_cudnn` of layer "
                             f"`{self.name}`, expected one of 'auto', True, False, got "
                             f"{use_cudnn!r}.")
        # use_cudnn: accepted for Keras code; fastrnn runs on the CPU kernel either way.
        self.kernel = self.recurrent_kernel = self.bias = None
        self._fast = None  # Bidirectional's lean path is SimpleRNN's: the general one here
        self._lean = None  # the lean compiled forward (see call), and the weights it holds
        self._lean_weights = None
        self._workspace = {}  # backward's scratch buffers, reused across training steps

    # ------------------------------------------------------------------ weights
    def _build_cell(self, features):
        dtype = V.DTYPES[self.dtype]
        G, U = self.n_gates, self.units
        # C-contiguous (orthogonal gives a transposed view), as the lean path holds them
        self.kernel = np.ascontiguousarray(initializers.initialize(
            self.kernel_initializer, (features, G * U), dtype, self._rng))
        self.recurrent_kernel = np.ascontiguousarray(initializers.initialize(
            self.recurrent_initializer, (U, G * U), dtype, self._rng))
        self.bias = (np.ascontiguousarray(self._bias_init(self._bias_shape(), dtype))
                     if self.use_bias else None)

    def _bias_init(self, shape, dtype):
        return initializers.initialize(self.bias_initializer, shape, dtype, self._rng)

    def _bias_shape(self):
        return (self.n_gates * self.units,)

    @property
    def weights(self):
        if not self.built:
            return []
        return [self.kernel, self.recurrent_kernel] + ([self.bias] if self.use_bias else [])

    def set_weights(self, weights):
        """Keras's ``get_weights()`` order: kernel (features, gates * units),
        recurrent_kernel (units, gates * units), bias (unless ``use_bias=False``).

        Raises:
            ValueError: a wrong count or shape, naming the layer and the weight.
        """
        self._build_declared()
        weights = list(weights)
        own = self.weights
        names = _WEIGHT_NAMES[:len(own)]
        if len(weights) != len(own):
            raise ValueError(f"Layer `{self.name}` ({type(self).__name__}) expects "
                             f"{len(own)} weight arrays {list(names)} with shapes "
                             f"{[w.shape for w in own]}, got {len(weights)}.")
        for i, (name, w, new) in enumerate(zip(names, own, weights)):
            shape = np.shape(new)
            if shape != w.shape:
                raise ValueError(f"Layer `{self.name}` ({type(self).__name__}) weight {i} "
                                 f"(`{name}`) must have shape {w.shape}, got {shape}."
                                 + self._shape_hint(name, shape))
        super().set_weights(weights)

    def _shape_hint(self, name, shape):
        return ""

    # ------------------------------------------------------------------ dropout
    def _dropout_masks(self, x, training):
        if not training or not (self.dropout or self.recurrent_dropout):
            return None, None
        B, _, D = x.shape
        dtype = V.DTYPES[self.dtype]
        per_gate = self.implementation == 1 or self.recurrent_dropout > 0
        masks = []
        for rate, width in ((self.dropout, D), (self.recurrent_dropout, self.units)):
            if rate > 0:
                shape = (self.n_gates, B, width) if per_gate else (B, width)
                keep = self._rng.random(shape) >= rate
                masks.append(keep.astype(dtype) / dtype(1 - rate))
            else:
                masks.append(None)
        return masks

    # ------------------------------------------------------------------ calls
    def call(self, inputs, training=False, mask=None, initial_state=None):
        if (initial_state is None and mask is None and not self.stateful
                and not (training and (self.dropout or self.recurrent_dropout))):
            # the lean path: checks, allocation and the kernel in one compiled call
            lean = self._lean_forward()
            res = lean and lean(inputs, functional.get_num_threads(),
                                -1 if self.return_sequences else functional.CHUNK_BYTES)
            if res:
                out = self._user_output(res[0])
                if not self.return_sequences:
                    out = np.ascontiguousarray(out)
                return [out] + list(res[1:]) if self.return_state else out
        return self.forward(inputs, training=bool(training), mask=mask,
                            initial_state=initial_state, keep=False)[0]

    def _lean_forward(self):
        """The compiled forward for the current weight arrays (remade when an array was
        replaced rather than updated in place), or None."""
        if not self.built:
            return None
        weights = (self.kernel, self.recurrent_kernel, self.bias)
        old = self._lean_weights
        if old is None or any(a is not b for a, b in zip(old, weights)):
            try:
                self._lean = functional.compile_gated_forward(
                    "lstm" if self.n_states == 2 else "gru", *weights,
                    activation=self.activation,
                    recurrent_activation=self.recurrent_activation,
                    go_backwards=self.go_backwards,
                    reset_after=getattr(self, "reset_after", True))
            except (TypeError, ValueError):  # weights the lean path cannot hold
                self._lean = None
            self._lean_weights = weights
        return self._lean

    def _cell_kwargs(self):
        return dict(activation=self.activation,
                    recurrent_activation=self.recurrent_activation,
                    go_backwards=self.go_backwards,
                    zero_output_for_mask=self.zero_output_for_mask, positions=True)

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(activation=self.activation,
                      recurrent_activation=self.recurrent_activation, use_bias=self.use_bias,
                      kernel_initializer=self.kernel_initializer,
                      recurrent_initializer=self.recurrent_initializer,
                      bias_initializer=self.bias_initializer)
        if self.implementation != 2:  # Keras leaves it out of its configs (default 2)
            config["implementation"] = self.implementation
        return config

    def __repr__(self):
        return (f"<{type(self).__name__} name={self.name}, units={self.units}, "
                f"activation={self.activation}, "
                f"recurrent_activation={self.recurrent_activation}, built={self.built}>")
