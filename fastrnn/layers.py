"""Keras-shaped layers: SimpleRNN, Bidirectional, Dense, Embedding, Dropout,
Activation and Flatten.

A layer owns its config and weights and calls ``fastrnn.functional``; the
numerics live there and below. Keras 2 input spellings (``input_shape``,
``batch_input_shape``, ``input_dim``/``input_length``, ``batch_size``) are
accepted as well as Keras 3's.
"""
import copy

import numpy as np

from . import activations, functional, initializers
from .utils import make_rng, snake_case, unique_name

__all__ = ["Layer", "SimpleRNN", "Bidirectional", "Dense", "Input", "InputSpec", "Embedding",
           "Dropout", "Activation", "Flatten"]

# Keras arguments fastrnn does not implement: accepted only at their default.
_UNSUPPORTED = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint")
_DTYPES = {"float32": np.float32, "float64": np.float64}


def _dtype(value):
    name = np.dtype(value).name if value is not None and not isinstance(value, str) else value
    if name is None:
        name = "float32"
    if name not in _DTYPES:
        raise ValueError("Received an invalid value for argument `dtype`, expected "
                         f"'float32' or 'float64', got {value!r}.")
    return name


def _positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected a "
                         f"positive integer, got {value!r}.")
    return int(value)


def _rate(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not 0 <= value < 1:
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected a "
                         f"float in [0, 1), got {value!r}.")
    return float(value)


def _shape_tuple(value, argument):
    try:
        shape = tuple(None if d is None else int(d) for d in value)
    except TypeError:
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected a "
                         f"tuple of dimensions, got {value!r}.") from None
    if any(d is not None and d < 0 for d in shape):
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected "
                         f"non-negative dimensions, got {value!r}.")
    return shape


def _batch_input_shape(input_shape, batch_input_shape, batch_size, input_dim, input_length):
    """Resolve Keras 2's ways of declaring the input into one batch shape (or None)."""
    if batch_input_shape is not None:
        return _shape_tuple(batch_input_shape, "batch_input_shape")
    if input_shape is None and (input_dim is not None or input_length is not None):
        input_shape = (input_length, input_dim)
    if input_shape is not None:
        return (batch_size,) + _shape_tuple(input_shape, "input_shape")
    return None


class InputSpec:
    """What ``fastrnn.Input`` returns: a declared input shape for Sequential."""

    def __init__(self, batch_shape, dtype="float32", name=None):
        self.shape = tuple(batch_shape)
        self.dtype = dtype
        self.name = name or unique_name("input_layer")

    def __repr__(self):
        return f"<InputSpec shape={self.shape} dtype={self.dtype}>"


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):
    """Declare a model's input, as ``keras.Input``: shape excludes the batch axis."""
    if shape is None and batch_shape is None:
        raise ValueError("`Input` needs `shape` or `batch_shape`, got neither.")
    if batch_shape is not None:
        if shape is not None:
            raise ValueError("`Input` takes `shape` or `batch_shape`, not both.")
        return InputSpec(_shape_tuple(batch_shape, "batch_shape"), _dtype(dtype), name)
    return InputSpec((batch_size,) + _shape_tuple(shape, "shape"), _dtype(dtype), name)


class Layer:
    """Base class: name, dtype, declared input shape, weights and the build protocol."""

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None, input_length=None,
                 **kwargs):
        for key, value in kwargs.items():
            if key in _UNSUPPORTED or key in ("weights",):
                if value is not None:
                    raise NotImplementedError(
                        f"fastrnn does not implement argument `{key}` of "
                        f"{type(self).__name__}; got {value!r}. Remove it, or pass None.")
            else:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword "
                                f"argument `{key}`.")
        self.name = name if name is not None else unique_name(snake_case(type(self).__name__))
        if not isinstance(self.name, str):
            raise TypeError(f"Argument `name` must be a string, got {name!r}.")
        self.dtype = _dtype(dtype)
        self.trainable = bool(trainable)
        self.built = False
        self.batch_input_shape = _batch_input_shape(input_shape, batch_input_shape,
                                                    batch_size, input_dim, input_length)
        self.input_shape = None
        self._grads = None

    # -- weights
    @property
    def weights(self):
        return []

    def get_weights(self):
        self._build_declared()
        return [w.copy() for w in self.weights]

    def _build_declared(self):
        """Build from the declared input shape, if any (Keras builds these on first use)."""
        if not self.built and self.batch_input_shape is not None:
            self.build(self.batch_input_shape)

    def set_weights(self, weights):
        self._build_declared()
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer `{self.name}` expects {len(own)} weight arrays "
                             f"{[w.shape for w in own]}, got {len(weights)}.")
        for i, (w, new) in enumerate(zip(own, weights)):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise ValueError(f"Layer `{self.name}` weight {i} must have shape {w.shape}, "
                                 f"got {new.shape}.")
        for w, new in zip(own, weights):
            w[...] = np.asarray(new, dtype=w.dtype)

    def count_params(self):
        self._build_declared()
        if not self.built:
            raise ValueError(f"Layer `{self.name}` is not built yet, so it has no weights to "
                             "count; call it on data or call `build(input_shape)` first.")
        return int(sum(w.size for w in self.weights))

    @property
    def trainable_weights(self):
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [] if self.trainable else self.weights

    # -- config
    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "trainable": self.trainable}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = self.batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _input_array(self, x):
        if isinstance(x, (list, tuple)) and len(x) and isinstance(x[0], np.ndarray) \
                and getattr(x[0], "ndim", 0) == 3:
            raise ValueError(f"Layer `{self.name}` takes one input array, got a list of "
                             f"{len(x)} arrays.")
        arr = np.asarray(x)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == np.bool_):
            raise TypeError(f"Argument `inputs` of layer `{self.name}` must be numeric, "
                            f"got dtype {arr.dtype}.")
        return arr

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class SimpleRNN(Layer):
    """Fully-connected RNN where the output is fed back as the next input.

        h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)

    Args:
        units: positive integer, dimensionality of the output space.
        activation: "tanh" (default), "relu", "sigmoid" or "linear" (None).
        use_bias: whether the layer has a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: Keras names.
        dropout: fraction of the inputs dropped while training (one mask per call,
            reused at every timestep, as Keras).
        recurrent_dropout: fraction of the recurrent state dropped while training.
        return_sequences: return the whole sequence (batch, timesteps, units)
            rather than the last output (batch, units).
        return_state: also return the last state (batch, units).
        go_backwards: process the sequence backwards; the returned sequence is
            in processing order, as Keras returns it.
        stateful: the last state of each batch is the initial state of the next.
        seed: seed for initialisation and dropout.
        dtype: "float32" (default) or "float64".
        input_shape / batch_input_shape / input_dim / input_length / batch_size:
            Keras 2's ways of declaring the input shape.

    Call arguments:
        inputs: (batch, timesteps, features) array.
        initial_state: (batch, units) array (or a one-element list of it).
        mask: (batch, timesteps) booleans; masked steps are skipped.
        training: apply dropout.

    Example:
    >>> rnn = SimpleRNN(3, return_sequences=True, return_state=True)
    >>> seq, state = rnn(np.ones((1, 4, 5), "float32"))
    >>> seq.shape, state.shape
    ((1, 4, 3), (1, 3))
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, seed=None, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.activation = activations.get(activation, "activation", activations.RECURRENT)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = initializers.get(recurrent_initializer,
                                                      "recurrent_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # a speed hint in Keras; same numbers here
        self.seed = seed
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._rng = make_rng(seed)
        self.kernel = self.recurrent_kernel = self.bias = None
        self.states = None
        self._cache = None
        self._fast = None
        self._workspace = {}  # backward's scratch buffers, reused across training steps

    # -- build
    def build(self, input_shape):
        input_shape = _shape_tuple(input_shape, "input_shape")
        if len(input_shape) != 3:
            raise ValueError(f"Layer `{self.name}` expects inputs of rank 3 (batch, timesteps,"
                             f" features), got input_shape={input_shape}.")
        features = input_shape[-1]
        if features is None or features < 1:
            raise ValueError(f"Layer `{self.name}` needs a known, positive number of "
                             f"features (last axis), got input_shape={input_shape}.")
        if self.built:
            self._check_features(features)
            return
        dtype = _DTYPES[self.dtype]
        self.kernel = initializers.initialize(self.kernel_initializer, (features, self.units),
                                              dtype, self._rng)
        self.recurrent_kernel = initializers.initialize(
            self.recurrent_initializer, (self.units, self.units), dtype, self._rng)
        self.bias = (initializers.initialize(self.bias_initializer, (self.units,), dtype,
                                             self._rng) if self.use_bias else None)
        self.input_shape = input_shape
        self.built = True
        self._fast = functional.compile_forward(self.kernel, self.recurrent_kernel, self.bias,
                                                self.activation, self.go_backwards)

    def _check_features(self, features):
        expected = self.kernel.shape[0]
        if features != expected:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value {expected}, "
                             f"but received input with shape ending in {features}.")

    @property
    def weights(self):
        if not self.built:
            return []
        return [self.kernel, self.recurrent_kernel] + ([self.bias] if self.use_bias else [])

    def compute_output_shape(self, input_shape):
        input_shape = _shape_tuple(input_shape, "input_shape")
        if len(input_shape) != 3:
            raise ValueError(f"Layer `{self.name}` expects inputs of rank 3, "
                             f"got input_shape={input_shape}.")
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out, (batch, self.units)]
        return out

    # -- state
    def reset_states(self, states=None):
        """Reset a stateful layer's state to zeros (or to the given (batch, units) array)."""
        if not self.stateful:
            raise AttributeError(f"Layer `{self.name}` is not stateful; pass "
                                 "`stateful=True` to keep state across calls.")
        if states is None:
            self.states = None if self.states is None else np.zeros_like(self.states)
            return
        states = np.asarray(states[0] if isinstance(states, (list, tuple)) else states,
                            _DTYPES[self.dtype])
        batch = self._stateful_batch()
        if states.ndim != 2 or states.shape[1] != self.units or (
                batch is not None and states.shape[0] != batch):
            raise ValueError(f"Argument `states` of layer `{self.name}` must have shape "
                             f"({batch}, {self.units}), got {states.shape}.")
        self.states = states.copy()

    reset_state = reset_states

    def _stateful_batch(self):
        if self.states is not None:
            return self.states.shape[0]
        return self.batch_input_shape[0] if self.batch_input_shape else None

    # -- call
    def __call__(self, inputs, initial_state=None, mask=None, training=False):
        if (self._fast is not None and initial_state is None and mask is None
                and not self.stateful
                and not (training and (self.dropout or self.recurrent_dropout))):
            # the lean path: checks, allocation and the kernel in one compiled call
            res = self._fast(inputs, functional.get_num_threads(),
                             -1 if self.return_sequences else functional.CHUNK_BYTES)
            if res is not None:
                out = self._user_output(res[0])
                return [out, res[1]] if self.return_state else out
        x = self._input_array(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={x.ndim}. Full shape received: {x.shape}")
        if not self.built:
            self.build((None,) + x.shape[1:])
        self._check_features(x.shape[2])
        seq_or_last, state = self._run(x, initial_state, mask, training, keep=False)
        if self.return_state:
            return [seq_or_last, state]
        return seq_or_last

    def _initial_state(self, x, initial_state):
        B = x.shape[0]
        if initial_state is not None:
            if isinstance(initial_state, (list, tuple)):
                if len(initial_state) != 1:
                    raise ValueError(f"Layer `{self.name}` has 1 state but was passed "
                                     f"{len(initial_state)} initial states.")
                initial_state = initial_state[0]
            return initial_state
        if not self.stateful:
            return None
        batch = self._stateful_batch()
        if batch is not None and batch != B:
            raise ValueError(f"Layer `{self.name}` is stateful with batch size {batch}, "
                             f"but received an input with batch size {B}; feed batches of "
                             f"{batch} or call `reset_states()` after changing it.")
        if self.states is None:
            self.states = np.zeros((B, self.units), _DTYPES[self.dtype])
        return self.states

    def _dropout_masks(self, x, training):
        if not training:
            return None, None
        B, _, D = x.shape
        dtype = _DTYPES[self.dtype]
        masks = []
        for rate, width in ((self.dropout, D), (self.recurrent_dropout, self.units)):
            if rate > 0:
                keep = self._rng.random((B, width)) >= rate
                masks.append(keep.astype(dtype) / dtype(1 - rate))
            else:
                masks.append(None)
        return masks

    def _user_output(self, seq):
        """What the layer returns from a sequence in position order: the sequence in
        processing order (reversed for go_backwards, a view), or the last step's output."""
        if self.return_sequences:
            return seq[:, ::-1] if self.go_backwards else seq
        return seq[:, 0 if self.go_backwards else -1]

    def _run(self, x, initial_state, mask, training, keep):
        """Forward pass; keep=True stores what backward needs."""
        h0 = self._initial_state(x, initial_state)
        drop, rec_drop = self._dropout_masks(x, training)
        seq, state = functional.simple_rnn_forward(
            x, self.kernel, self.recurrent_kernel, self.bias, h0, self.activation,
            self.go_backwards, mask, return_sequences=self.return_sequences or keep,
            zero_output_for_mask=self.zero_output_for_mask,
            dropout_mask=drop, recurrent_dropout_mask=rec_drop, positions=True)
        if self.stateful:
            self.states = state
        if keep:
            self._cache = (x, h0, mask, seq, drop, rec_drop)
        if self.return_sequences or keep:
            return self._user_output(seq), state
        return seq, state

    # -- training
    def forward_train(self, x, training=True):
        if not self.built:
            self.build((None,) + x.shape[1:])
        self._check_features(x.shape[2])
        return self._run(x, None, None, training, keep=True)[0]

    def backward(self, d_output):
        """Gradients for the last forward_train call: returns d inputs, stores weight grads."""
        x, h0, mask, seq, drop, rec_drop = self._cache  # seq in position order
        if self.return_sequences:
            d_seq = d_output[:, ::-1] if self.go_backwards else d_output
        else:
            d_seq = np.zeros_like(seq)
            d_seq[:, 0 if self.go_backwards else -1] = d_output
        g = functional.simple_rnn_backward(
            d_seq, None, x, self.kernel, self.recurrent_kernel, seq, h0, self.activation,
            self.go_backwards, mask, zero_output_for_mask=self.zero_output_for_mask,
            dropout_mask=drop, recurrent_dropout_mask=rec_drop, positions=True,
            workspace=self._workspace)
        self._grads = [g.kernel, g.recurrent_kernel] + ([g.bias] if self.use_bias else [])
        return g.x

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=self.activation, use_bias=self.use_bias,
                      kernel_initializer=self.kernel_initializer,
                      recurrent_initializer=self.recurrent_initializer,
                      bias_initializer=self.bias_initializer, dropout=self.dropout,
                      recurrent_dropout=self.recurrent_dropout,
                      return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful,
                      unroll=self.unroll, seed=self.seed)
        return config

    def __repr__(self):
        return (f"<SimpleRNN name={self.name}, units={self.units}, "
                f"activation={self.activation}, built={self.built}>")


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges them.

    Args:
        layer: a SimpleRNN; the forward layer is a fresh copy of it.
        merge_mode: "concat" (default), "sum", "mul", "ave" or None (a list of
            both outputs).
        backward_layer: optional SimpleRNN for the backward direction; by default
            a copy of ``layer`` with ``go_backwards`` flipped.

    Call arguments:
        inputs: (batch, timesteps, features); initial_state: [forward (batch, units),
        backward (batch, units)]; mask: (batch, timesteps), applied to both.

    Returns the merged output ((batch, timesteps, 2*units) for concat with
    return_sequences), and with return_state also the forward and backward states.

    Example:
    >>> bi = Bidirectional(SimpleRNN(4, return_sequences=True))
    >>> bi(np.ones((2, 5, 3), "float32")).shape
    (2, 5, 8)
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, SimpleRNN):
            raise ValueError("Argument `layer` of Bidirectional must be a SimpleRNN layer, "
                             f"got {layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError("Received an invalid value for argument `merge_mode`, expected "
                             f"one of {list(_MERGE_MODES)}, got {merge_mode!r}.")
        kwargs.setdefault("dtype", layer.dtype)
        if kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None:
            kwargs.setdefault("batch_input_shape", layer.batch_input_shape)
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        config = layer.get_config()
        config.pop("batch_input_shape", None)
        config["name"] = "forward_" + layer.name
        self.forward_layer = SimpleRNN.from_config(config)
        if backward_layer is None:
            config = dict(config, name="backward_" + layer.name,
                          go_backwards=not layer.go_backwards)
            self.backward_layer = SimpleRNN.from_config(config)
        else:
            if not isinstance(backward_layer, SimpleRNN):
                raise ValueError("Argument `backward_layer` must be a SimpleRNN layer, got "
                                 f"{backward_layer!r}.")
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Argument `backward_layer` must have go_backwards="
                                 f"{not layer.go_backwards} (the opposite of `layer`), got "
                                 f"{backward_layer.go_backwards}.")
            for attr in ("return_sequences", "return_state"):
                if getattr(backward_layer, attr) != getattr(layer, attr):
                    raise ValueError(f"Argument `backward_layer` must have the same `{attr}` "
                                     f"as `layer` ({getattr(layer, attr)}), got "
                                     f"{getattr(backward_layer, attr)}.")
            self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        # Keras zeroes masked outputs of both directions when sequences are returned.
        self.forward_layer.zero_output_for_mask = self.return_sequences
        self.backward_layer.zero_output_for_mask = self.return_sequences
        self._layers = (self.forward_layer, self.backward_layer)

    def build(self, input_shape):
        for sub in self._layers:
            sub.build(input_shape)
        self.input_shape = _shape_tuple(input_shape, "input_shape")
        self.built = True

    @property
    def weights(self):
        return self.forward_layer.weights + self.backward_layer.weights

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(input_shape)
        state = None
        if self.return_state:
            out, state = out
        if self.merge_mode == "concat":
            out = out[:-1] + (2 * out[-1],)
        elif self.merge_mode is None:
            out = [out, out]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + [state, state]
        return out

    def reset_states(self, states=None):
        for sub in self._layers:
            sub.reset_states(None)

    reset_state = reset_states

    def _merge(self, y_f, y_b):
        if self.merge_mode == "concat":
            return np.concatenate([y_f, y_b], axis=-1)
        if self.merge_mode == "sum":
            return y_f + y_b
        if self.merge_mode == "ave":
            return (y_f + y_b) / y_f.dtype.type(2)
        if self.merge_mode == "mul":
            return y_f * y_b
        return [y_f, y_b]

    def _lean_concat(self, inputs, training):
        """Both directions written straight into the two halves of the concatenated
        output by the lean compiled path, or None when a call needs the general one."""
        f, b = self.forward_layer, self.backward_layer
        if (self.merge_mode != "concat" or not self.return_sequences or self.stateful
                or f._fast is None or b._fast is None or type(inputs) is not np.ndarray
                or inputs.ndim != 3
                or (training and (f.dropout or f.recurrent_dropout or b.dropout
                                  or b.recurrent_dropout))):
            return None
        H = f.units
        buf = np.empty(inputs.shape[:2] + (H + b.units,), _DTYPES[f.dtype])
        threads = functional.get_num_threads()
        res_f = f._fast(inputs, threads, -1, buf[..., :H])
        res_b = res_f and b._fast(inputs, threads, -1, buf[..., H:])
        if not res_b:
            return None
        # the backward half is in position order, which is the forward time it merges in
        return [buf, res_f[1], res_b[1]] if self.return_state else buf

    def __call__(self, inputs, initial_state=None, mask=None, training=False):
        x = self._input_array(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={x.ndim}. Full shape received: {x.shape}")
        if initial_state is None and mask is None:
            merged = self._lean_concat(inputs, training)
            if merged is not None:
                return merged
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
                raise ValueError(f"Argument `initial_state` of layer `{self.name}` must be a "
                                 "list of 2 arrays [forward (batch, units), backward "
                                 f"(batch, units)], got {type(initial_state).__name__}.")
            init_f, init_b = initial_state
        else:
            init_f = init_b = None
        if not self.built:
            self.build((None,) + x.shape[1:])
        out_f = self.forward_layer(x, initial_state=init_f, mask=mask, training=training)
        out_b = self.backward_layer(x, initial_state=init_b, mask=mask, training=training)
        if self.return_state:
            (y_f, h_f), (y_b, h_b) = out_f, out_b
        else:
            y_f, y_b = out_f, out_b
        if self.return_sequences:
            y_b = y_b[:, ::-1]
        merged = self._merge(y_f, y_b)
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + [h_f, h_b]
        return merged

    def forward_train(self, x, training=True):
        if self.merge_mode is None:
            raise ValueError(f"Layer `{self.name}` with merge_mode=None returns two outputs "
                             "and cannot be trained inside Sequential; use a merge mode.")
        if not self.built:
            self.build((None,) + x.shape[1:])
        y_f = self.forward_layer.forward_train(x, training)
        y_b = self.backward_layer.forward_train(x, training)
        if self.return_sequences:
            y_b = y_b[:, ::-1]
        self._cache = (y_f, y_b)
        return self._merge(y_f, y_b)

    def backward(self, d_output):
        y_f, y_b = self._cache
        if self.merge_mode == "concat":
            H = y_f.shape[-1]
            d_f, d_b = d_output[..., :H], d_output[..., H:]
        elif self.merge_mode == "sum":
            d_f = d_b = d_output
        elif self.merge_mode == "ave":
            d_f = d_b = d_output / d_output.dtype.type(2)
        else:  # mul
            d_f, d_b = d_output * y_b, d_output * y_f
        if self.return_sequences:
            d_b = d_b[:, ::-1]
        dx = self.forward_layer.backward(d_f) + self.backward_layer.backward(d_b)
        self._grads = self.forward_layer._grads + self.backward_layer._grads
        return dx

    def get_config(self):
        config = super().get_config()
        layer_config = self.forward_layer.get_config()
        layer_config["name"] = layer_config["name"][len("forward_"):]
        config.update(layer=layer_config, merge_mode=self.merge_mode)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer = SimpleRNN.from_config(config.pop("layer"))
        return cls(layer, **config)

    def __repr__(self):
        return (f"<Bidirectional name={self.name}, layer={self.forward_layer.name}, "
                f"merge_mode={self.merge_mode!r}>")


class Dense(Layer):
    """Densely-connected layer: ``output = activation(inputs @ kernel + bias)``.

    On 3-D inputs (batch, timesteps, features) it applies to every timestep, as Keras.

    Args:
        units: positive integer. activation: None (linear), "tanh", "relu",
        "sigmoid" or "softmax". use_bias, kernel_initializer, bias_initializer.

    Example:
    >>> Dense(2)(np.ones((4, 3), "float32")).shape
    (4, 2)
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.seed = seed
        self._rng = make_rng(seed)
        self.kernel = self.bias = None
        self._cache = None

    def build(self, input_shape):
        input_shape = _shape_tuple(input_shape, "input_shape")
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Layer `{self.name}` needs inputs of rank >= 2 with a known "
                             f"last axis, got input_shape={input_shape}.")
        if self.built:
            self._check_features(input_shape[-1])
            return
        dtype = _DTYPES[self.dtype]
        self.kernel = initializers.initialize(self.kernel_initializer,
                                              (input_shape[-1], self.units), dtype, self._rng)
        self.bias = (initializers.initialize(self.bias_initializer, (self.units,), dtype,
                                             self._rng) if self.use_bias else None)
        self.input_shape = input_shape
        self.built = True

    def _check_features(self, features):
        if features != self.kernel.shape[0]:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[0]}, but received input with shape ending "
                             f"in {features}.")

    @property
    def weights(self):
        if not self.built:
            return []
        return [self.kernel] + ([self.bias] if self.use_bias else [])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _forward(self, x):
        x = self._input_array(x)
        if x.ndim < 2:
            raise ValueError(f"Input 0 of layer `{self.name}` must have rank >= 2, got shape "
                             f"{x.shape}.")
        if not self.built:
            self.build((None,) + x.shape[1:])
        self._check_features(x.shape[-1])
        x = np.asarray(x, _DTYPES[self.dtype])
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        return x, z, activations.apply(self.activation, z)

    def __call__(self, inputs, training=False):
        return self._forward(inputs)[2]

    def call_with_logits(self, inputs):
        """(logits, outputs): the pre-activation too, for losses computed from logits."""
        return self._forward(inputs)[1:]

    def forward_train(self, x, training=True):
        x, z, y = self._forward(x)
        self._cache = (x, z, y)
        return y

    @property
    def logits(self):
        """The pre-activation of the last forward_train call."""
        return self._cache[1]

    def backward(self, d_output, of_logits=False):
        """Gradients for the last forward_train call, given d loss / d output, or
        d loss / d logits with of_logits=True."""
        x, _, y = self._cache
        if of_logits:
            dz = d_output
        elif self.activation == "softmax":
            dz = y * (d_output - np.sum(d_output * y, axis=-1, keepdims=True))
        else:
            dz = d_output * activations.derivative_from_output(self.activation, y)
        rows_x = x.reshape(-1, x.shape[-1])
        rows_dz = dz.reshape(-1, self.units)
        self._grads = [rows_x.T @ rows_dz] + ([rows_dz.sum(axis=0)] if self.use_bias else [])
        return dz @ self.kernel.T

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=self.activation, use_bias=self.use_bias,
                      kernel_initializer=self.kernel_initializer,
                      bias_initializer=self.bias_initializer, seed=self.seed)
        return config

    def __repr__(self):
        return f"<Dense name={self.name}, units={self.units}, activation={self.activation}>"


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors of fixed size.

    ``output[..., :] = embeddings[inputs[...]]``: inputs (batch, timesteps) of integer
    indices in ``[0, input_dim)`` give outputs (batch, timesteps, output_dim).

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: dimension of the dense embedding.
        embeddings_initializer: Keras name; "uniform" (default) is RandomUniform(-0.05, 0.05).
        mask_zero: must be False (masks are not propagated through Sequential yet).
        input_length: Keras 2's fixed sequence length (declares the input shape
            (None, input_length)).
        dtype: "float32" (default) or "float64", the dtype of the outputs.

    Example:
    >>> Embedding(10, 4)(np.array([[1, 2, 3]])).shape
    (1, 3, 4)
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 input_length=None, seed=None, **kwargs):
        for key, value in (("embeddings_regularizer", embeddings_regularizer),
                           ("embeddings_constraint", embeddings_constraint)):
            if value is not None:
                raise NotImplementedError(
                    f"fastrnn does not implement argument `{key}` of Embedding; got "
                    f"{value!r}. Remove it, or pass None.")
        if mask_zero:
            raise NotImplementedError(
                "Embedding(mask_zero=True) is not supported by fastrnn: masks are not "
                "propagated through Sequential yet. Pass mask_zero=False, and give "
                "`mask=` to the recurrent layer's call directly if you need masking.")
        if input_length is not None:
            input_length = _positive_int(input_length, "input_length")
            if kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None:
                kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer,
                                                       "embeddings_initializer")
        self.mask_zero = False
        self.input_length = input_length
        self.seed = seed
        self._rng = make_rng(seed)
        self.embeddings = None
        self._cache = None

    def build(self, input_shape=None):
        if input_shape is not None:
            input_shape = _shape_tuple(input_shape, "input_shape")
            self.input_shape = input_shape
        if self.built:
            return
        self.embeddings = initializers.initialize(
            self.embeddings_initializer, (self.input_dim, self.output_dim),
            _DTYPES[self.dtype], self._rng)
        self.built = True

    @property
    def weights(self):
        return [self.embeddings] if self.built else []

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _indices(self, x):
        x = self._input_array(x)
        if x.ndim < 1:
            raise ValueError(f"Received an invalid value for argument `x`, expected an array "
                             f"of indices of rank >= 1 (batch, timesteps), got shape {x.shape}.")
        if x.dtype == np.bool_:
            x = x.astype(np.int64)
        if not np.issubdtype(x.dtype, np.integer):
            if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
                raise ValueError("Received an invalid value for argument `x`, expected integer "
                                 f"indices in [0, {self.input_dim}), got non-integer values "
                                 f"(dtype {x.dtype}).")
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            raise ValueError("Received an invalid value for argument `x`, expected integer "
                             f"indices in [0, {self.input_dim}) (input_dim={self.input_dim}), "
                             f"got min {x.min()} and max {x.max()}.")
        return x.astype(np.intp, copy=False)

    def __call__(self, inputs, training=False, mask=None):
        if mask is not None:
            raise NotImplementedError(f"Layer `{self.name}` (Embedding) does not take a "
                                      "`mask`; got one.")
        idx = self._indices(inputs)
        if not self.built:
            self.build((None,) + idx.shape[1:])
        return self.embeddings[idx]

    def forward_train(self, x, training=True):
        idx = self._indices(x)
        if not self.built:
            self.build((None,) + idx.shape[1:])
        self._cache = idx
        return self.embeddings[idx]

    def backward(self, d_output):
        """Scatter-adds d loss / d output into the embeddings' gradient; integer inputs
        get no gradient, so this returns None (Sequential ignores its first layer's)."""
        idx = self._cache
        d_output = np.asarray(d_output)
        grad = np.zeros_like(self.embeddings)
        np.add.at(grad, idx.reshape(-1),
                  d_output.reshape(-1, self.output_dim).astype(grad.dtype, copy=False))
        self._grads = [grad]
        return None

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      embeddings_initializer=self.embeddings_initializer,
                      mask_zero=self.mask_zero, seed=self.seed)
        return config

    def __repr__(self):
        return (f"<Embedding name={self.name}, input_dim={self.input_dim}, "
                f"output_dim={self.output_dim}>")


class _Stateless(Layer):
    """A layer with no weights, built from any input shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._grads = []

    def build(self, input_shape=None):
        if input_shape is not None:
            self.input_shape = _shape_tuple(input_shape, "input_shape")
        self.built = True

    def count_params(self):
        return 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _float_input(self, x):
        x = self._input_array(x)
        if not self.built:
            self.build((None,) + x.shape[1:])
        return np.asarray(x, _DTYPES[self.dtype])


class Dropout(_Stateless):
    """Sets a fraction ``rate`` of the inputs to 0 while training, scaling the rest by
    ``1 / (1 - rate)``; the identity at inference.

    Args:
        rate: float in [0, 1), the fraction of the inputs to drop.
        noise_shape: must be None (one independent draw per element).
        seed: seed of the layer's generator (a fresh mask is drawn at every call).

    Example:
    >>> float(Dropout(0.5)(np.ones((2, 3), "float32")).sum())
    6.0
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _rate(rate, "rate")
        if noise_shape is not None:
            raise NotImplementedError("fastrnn's Dropout does not implement `noise_shape`; "
                                      f"got {noise_shape!r}. Pass None.")
        self.noise_shape = None
        self.seed = seed
        self._rng = make_rng(seed)
        self._mask = None

    def _scaled_mask(self, x):
        keep = self._rng.random(x.shape) >= self.rate
        return keep.astype(x.dtype) / x.dtype.type(1.0 - self.rate)

    def __call__(self, inputs, training=False, mask=None):
        x = self._float_input(inputs)
        if not training or self.rate == 0:
            return x
        return x * self._scaled_mask(x)

    def forward_train(self, x, training=True):
        x = self._float_input(x)
        if not training or self.rate == 0:
            self._mask = None
            return x
        self._mask = self._scaled_mask(x)
        return x * self._mask

    def backward(self, d_output):
        self._grads = []
        d_output = np.asarray(d_output)
        return d_output if self._mask is None else d_output * self._mask

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config

    def __repr__(self):
        return f"<Dropout name={self.name}, rate={self.rate}>"


class Activation(_Stateless):
    """Applies an activation function: "tanh", "relu", "sigmoid", "linear" or "softmax".

    Example:
    >>> Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation, "activation")
        self._y = None

    def __call__(self, inputs, training=False, mask=None):
        return activations.apply(self.activation, self._float_input(inputs))

    def forward_train(self, x, training=True):
        self._y = activations.apply(self.activation, self._float_input(x))
        return self._y

    def backward(self, d_output):
        self._grads = []
        y = self._y
        if self.activation == "softmax":
            return y * (d_output - np.sum(d_output * y, axis=-1, keepdims=True))
        return d_output * activations.derivative_from_output(self.activation, y)

    def get_config(self):
        config = super().get_config()
        config.update(activation=self.activation)
        return config

    def __repr__(self):
        return f"<Activation name={self.name}, activation={self.activation}>"


class Flatten(_Stateless):
    """Flattens every axis but the batch one: (batch, d1, d2, ...) -> (batch, d1*d2*...).

    Example:
    >>> Flatten()(np.ones((2, 3, 4), "float32")).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError("Received an invalid value for argument `data_format`, expected "
                             f"'channels_last' or 'channels_first', got {data_format!r}.")
        if data_format == "channels_first":
            raise NotImplementedError("fastrnn's Flatten implements only "
                                      "data_format='channels_last'.")
        self.data_format = "channels_last"
        self._shape = None

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def _flatten(self, x):
        x = self._float_input(x)
        if x.ndim < 1:
            raise ValueError("Received an invalid value for argument `x`, expected an array "
                             f"with a batch axis, got shape {x.shape}.")
        return x, x.reshape(x.shape[0], -1)

    def __call__(self, inputs, training=False, mask=None):
        return self._flatten(inputs)[1]

    def forward_train(self, x, training=True):
        x, y = self._flatten(x)
        self._shape = x.shape
        return y

    def backward(self, d_output):
        self._grads = []
        return np.asarray(d_output).reshape(self._shape)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format)
        return config

    def __repr__(self):
        return f"<Flatten name={self.name}>"
