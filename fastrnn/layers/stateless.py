"""Layers without weights: Dropout, Activation, Flatten, Reshape, RepeatVector, Permute,
Masking and Lambda (Keras 3 semantics)."""
import numpy as np

from .. import _validation as V
from .. import activations
from .base import Context, Layer
from .core import activation_backward

__all__ = ["Dropout", "Activation", "Flatten", "Reshape", "RepeatVector", "Permute",
           "Masking", "Lambda"]


class _Stateless(Layer):
    """A layer with no weights, built from any input shape."""

    def build(self, input_shape=None):
        if input_shape is not None:
            self.input_shape = input_shape
        self.built = True

    def count_params(self):
        return 0


class Dropout(_Stateless):
    """Sets a fraction ``rate`` of the inputs to 0 while training, scaling the rest by
    ``1 / (1 - rate)``; the identity at inference. Masks pass through.

    Args:
        rate: float in [0, 1), the fraction of the inputs to drop.
        noise_shape: must be None (one independent draw per element).
        seed: seed of the layer's generator (a fresh mask is drawn at every call).

    Example:
    >>> float(Dropout(0.5)(np.ones((2, 3), "float32")).sum())
    6.0
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = V.rate(rate, "rate")
        if noise_shape is not None:
            raise NotImplementedError("fastrnn's Dropout does not implement `noise_shape`; "
                                      f"got {noise_shape!r}. Pass None.")
        self.noise_shape = None
        self.seed = seed
        self._rng = self._make_rng(seed)

    def forward(self, inputs, *, training=False, mask=None):
        x = self._float_input(inputs)
        if not training or self.rate == 0:
            return x, Context(keep=None)
        keep = self._rng.random(x.shape) >= self.rate
        scaled = keep.astype(x.dtype) / x.dtype.type(1.0 - self.rate)
        return x * scaled, Context(keep=scaled)

    def backward(self, ctx, d_output):
        d = np.asarray(d_output)
        return (d if ctx.keep is None else d * ctx.keep,), ()

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config

    def __repr__(self):
        return f"<Dropout name={self.name}, rate={self.rate}>"


class Activation(_Stateless):
    """Applies an activation function: "tanh", "relu", "sigmoid", "linear", "softmax" or
    another of Keras 3's elementwise activations (as ``Dense``'s ``activation``).

    Example:
    >>> Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation, "activation")

    def forward(self, inputs, *, training=False, mask=None):
        z = self._float_input(inputs)
        y = activations.apply(self.activation, z)
        return y, Context(logits=z, y=y, activation=self.activation)

    def backward(self, ctx, d_output):
        return (activation_backward(ctx, np.asarray(d_output)),), ()

    def get_config(self):
        config = super().get_config()
        config.update(activation=self.activation)
        return config

    def __repr__(self):
        return f"<Activation name={self.name}, activation={self.activation}>"


class _Reshaping(_Stateless):
    """Shape-only layers: forward maps x, backward maps d back to x's shape."""

    def _map(self, x):
        raise NotImplementedError

    def _unmap(self, d, x_shape):
        raise NotImplementedError

    def forward(self, inputs, *, training=False, mask=None):
        x = self._float_input(inputs)
        return self._map(x), Context(shape=x.shape)

    def backward(self, ctx, d_output):
        return (self._unmap(np.asarray(d_output), ctx.shape),), ()


class Flatten(_Reshaping):
    """Flattens every axis but the batch one: (batch, d1, d2, ...) -> (batch, d1*d2*...).

    Example:
    >>> Flatten()(np.ones((2, 3, 4), "float32")).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise V.invalid("data_format", "'channels_last' or 'channels_first'",
                            data_format)
        if data_format == "channels_first":
            raise NotImplementedError("fastrnn's Flatten implements only "
                                      "data_format='channels_last'.")
        self.data_format = "channels_last"

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def _map(self, x):
        return x.reshape(x.shape[0], -1)

    def _unmap(self, d, x_shape):
        return d.reshape(x_shape)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format)
        return config


class Reshape(_Reshaping):
    """Reshapes every sample to ``target_shape`` (batch axis kept); one entry may be -1.

    Example:
    >>> Reshape((2, 6))(np.ones((4, 3, 4), "float32")).shape
    (4, 2, 6)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise V.invalid("target_shape", "a tuple of integers", target_shape) from None
        if sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise V.invalid("target_shape", "positive integers and at most one -1",
                            target_shape)
        self.target_shape = target

    def _resolve(self, input_shape):
        rest = tuple(input_shape)[1:]
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = int(np.prod(rest, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if -1 in self.target_shape:
            if known == 0 or total % known:
                raise ValueError(f"Layer `{self.name}` cannot reshape input of shape "
                                 f"{V.format_shape(tuple(input_shape))} to target_shape "
                                 f"{self.target_shape}.")
            return tuple(total // known if d == -1 else d for d in self.target_shape)
        if known != total:
            raise ValueError(f"Layer `{self.name}`: the total size of the new array must be "
                             f"unchanged, input_shape = {V.format_shape(tuple(input_shape))}, "
                             f"target_shape = {self.target_shape}.")
        return self.target_shape

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    def check_input_shape(self, input_shape):
        self._resolve(input_shape)

    def _map(self, x):
        return x.reshape((x.shape[0],) + self._resolve(x.shape))

    def _unmap(self, d, x_shape):
        return d.reshape(x_shape)

    def get_config(self):
        config = super().get_config()
        config.update(target_shape=self.target_shape)
        return config


class RepeatVector(_Reshaping):
    """Repeats a (batch, features) input ``n`` times: (batch, n, features).

    Example:
    >>> RepeatVector(3)(np.ones((2, 4), "float32")).shape
    (2, 3, 4)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = V.positive_int(n, "n")

    def check_input_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=2 (batch, features), found ndim="
                             f"{len(input_shape)}. Full shape received: "
                             f"{V.format_shape(tuple(input_shape))}")

    def build(self, input_shape=None):
        if input_shape is not None:
            self.check_input_shape(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def _map(self, x):
        self.check_input_shape(x.shape)
        return np.repeat(x[:, None, :], self.n, axis=1)

    def _unmap(self, d, x_shape):
        return d.sum(axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(n=self.n)
        return config


class Permute(_Reshaping):
    """Permutes the non-batch axes: ``dims`` is 1-based, e.g. (2, 1) swaps the two.

    Example:
    >>> Permute((2, 1))(np.ones((4, 3, 5), "float32")).shape
    (4, 5, 3)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            raise V.invalid("dims", "a tuple of axis indices starting at 1", dims) from None
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise V.invalid("dims", f"a permutation of {tuple(range(1, len(dims) + 1))}",
                            dims)
        self.dims = dims

    def check_input_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim={len(self.dims) + 1}, found ndim="
                             f"{len(input_shape)}.")

    def build(self, input_shape=None):
        if input_shape is not None:
            self.check_input_shape(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def _map(self, x):
        self.check_input_shape(x.shape)
        return np.transpose(x, (0,) + self.dims)

    def _unmap(self, d, x_shape):
        return np.transpose(d, np.argsort((0,) + self.dims))

    def get_config(self):
        config = super().get_config()
        config.update(dims=self.dims)
        return config


class Masking(_Stateless):
    """Masks timesteps whose features all equal ``mask_value``: the mask is
    ``any(inputs != mask_value, axis=-1)`` and masked timesteps' outputs are zeroed
    (Keras 3).

    Example:
    >>> x = np.array([[[1.0], [0.0]]], "float32")
    >>> Masking(0.0).compute_mask(x).tolist()
    [[True, False]]
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        return np.any(np.asarray(inputs) != self.mask_value, axis=-1)

    def forward(self, inputs, *, training=False, mask=None):
        x = self._float_input(inputs)
        keep = np.any(x != self.mask_value, axis=-1, keepdims=True).astype(x.dtype)
        return x * keep, Context(keep=keep)

    def backward(self, ctx, d_output):
        return (np.asarray(d_output) * ctx.keep,), ()

    def get_config(self):
        config = super().get_config()
        config.update(mask_value=self.mask_value)
        return config


class Lambda(_Stateless):
    """Wraps a NumPy function of the inputs as a layer (inference only).

    ``fit`` cannot differentiate through it: a Lambda on the gradient path raises a
    ValueError naming the layer. Models holding a Lambda are never loaded from files
    (its code would have to be executed).

    Args:
        function: ``f(inputs) -> outputs`` on NumPy arrays.
        output_shape: the output shape without the batch axis, or a function of the
            input shape; by default found by calling ``function`` on zeros.
        arguments: optional dict of keyword arguments passed to ``function``.

    Example:
    >>> Lambda(lambda x: x * 2)(np.ones((1, 2), "float32")).tolist()
    [[2.0, 2.0]]
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise V.invalid("function", "a callable", function)
        if mask is not None:
            raise NotImplementedError("fastrnn's Lambda does not take `mask`.")
        self.function = function
        self.output_shape = output_shape
        self.arguments = dict(arguments or {})

    def compute_output_shape(self, input_shape):
        if callable(self.output_shape):
            return tuple(self.output_shape(input_shape))
        if self.output_shape is not None:
            return (input_shape[0],) + tuple(self.output_shape)
        probe = np.zeros(tuple(1 if d is None else d for d in input_shape),
                         V.DTYPES[self.dtype])
        out = np.asarray(self.function(probe, **self.arguments))
        rest = list(out.shape[1:])
        if len(rest) == len(input_shape) - 1:  # unknown input axes stay unknown
            rest = [None if i is None else o for i, o in zip(input_shape[1:], rest)]
        return (input_shape[0],) + tuple(rest)

    def forward(self, inputs, *, training=False, mask=None):
        if isinstance(inputs, (list, tuple)):
            x = [self._input_array(v) for v in inputs]
        else:
            x = self._input_array(inputs)
        return np.asarray(self.function(x, **self.arguments)), Context()

    def backward(self, ctx, d_output):
        raise ValueError(f"Layer `{self.name}` (Lambda) is on the gradient path of the loss, "
                         "and fastrnn cannot differentiate a Python function. Make it "
                         "non-trainable territory (nothing trainable before it), or replace "
                         "it with fastrnn layers.")

    def get_config(self):
        config = super().get_config()
        config.update(function=getattr(self.function, "__name__", repr(self.function)),
                      output_shape=None if callable(self.output_shape) else
                      self.output_shape, arguments=self.arguments)
        return config

    @classmethod
    def from_config(cls, config):
        raise ValueError(f"Layer `{config.get('name')}` is a Lambda: fastrnn never rebuilds "
                         "one from a config, since that would execute code. Rebuild it in "
                         "Python and pass it in `custom_objects`.")
