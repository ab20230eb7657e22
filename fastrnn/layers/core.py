"""Dense and Embedding."""
import numpy as np

from .. import _kernel
from .. import _validation as V
from .. import activations, initializers
from .base import Context, Layer

_KERNEL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

__all__ = ["Dense", "Embedding", "activation_backward"]


def activation_backward(ctx, d_output):
    """d loss / d pre-activation from d loss / d output, for a layer whose context holds
    ``activation``, the output ``y`` and the pre-activation ``logits``. When the trainer
    computed a crossentropy from the logits it sets ``ctx.d_wrt_logits``, and
    ``d_output`` is then already d loss / d logits."""
    if getattr(ctx, "d_wrt_logits", False):
        return d_output
    y = ctx.y
    if ctx.activation == "softmax":
        return y * (d_output - np.sum(d_output * y, axis=-1, keepdims=True))
    if ctx.activation == "linear":
        return d_output
    return d_output * activations.derivative(ctx.activation, getattr(ctx, "logits", None), y)


def _add_bias(z, bias):
    """``z += bias`` in place (z (..., units) fresh from a product), through the
    kernel's broadcast add when both are C-contiguous of one float dtype (the same
    sums, without NumPy's broadcasting machinery)."""
    if (z.dtype == bias.dtype and z.dtype in _KERNEL_FLOATS and z.flags.c_contiguous
            and bias.flags.c_contiguous and z.ndim >= 1):
        _kernel.add_rows(z, bias)
    else:
        z += bias


class Dense(Layer):
    """Densely-connected layer: ``output = activation(inputs @ kernel + bias)``.

    On inputs of rank > 2 (batch, timesteps, features) it applies to every timestep, as
    Keras, and passes a (batch, timesteps) mask on.

    Args:
        units: positive integer. activation: None (linear), "tanh", "relu",
        "sigmoid", "softmax" or another of Keras 3's elementwise activations (elu, selu,
        softplus, softsign, silu/swish, gelu, exponential, hard_sigmoid, hard_silu,
        leaky_relu, relu6, mish; fastrnn.activations). use_bias, kernel_initializer,
        bias_initializer.
        kernel_regularizer, bias_regularizer: a ``fastrnn.regularizers`` object or name
        ("l1", "l2", "l1_l2"); its penalty is added to the training loss.
        activity_regularizer: penalty on the output, ``reg(output) / batch`` (Keras 3).
        kernel_constraint, bias_constraint: a ``fastrnn.constraints`` object or name,
        applied after each optimizer update.

    Call arguments:
        inputs: (batch, ..., features). Returns (batch, ..., units).

    Example:
    >>> Dense(2)(np.ones((4, 3), "float32")).shape
    (4, 2)
    """

    supports_masking = True
    _weight_roles = ("kernel", "bias")

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", seed=None,
                 lora_rank=None, **kwargs):
        if lora_rank is not None:
            raise NotImplementedError("fastrnn's Dense does not implement `lora_rank`.")
        super().__init__(**kwargs)
        self.units = V.positive_int(units, "units")
        self.activation = activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.seed = seed
        self._rng = self._make_rng(seed)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_shape = V.shape_tuple(input_shape, "input_shape")
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Layer `{self.name}` needs inputs of rank >= 2 with a known "
                             f"last axis, got input_shape={input_shape}.")
        if self.built:
            self.check_input_shape(input_shape)
            return
        dtype = V.DTYPES[self.dtype]
        self.kernel = initializers.initialize(self.kernel_initializer,
                                              (input_shape[-1], self.units), dtype, self._rng)
        self.bias = (initializers.initialize(self.bias_initializer, (self.units,), dtype,
                                             self._rng) if self.use_bias else None)
        self.input_shape = input_shape
        self.built = True

    def check_input_shape(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[0]}, but received input with shape "
                             f"{V.format_shape(tuple(input_shape))}.")

    @property
    def weights(self):
        if not self.built:
            return []
        return [self.kernel] + ([self.bias] if self.use_bias else [])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, inputs, *, training=False, mask=None):
        x = self._input_array(inputs)
        if x.ndim < 2:
            raise ValueError(f"Input 0 of layer `{self.name}` must have rank >= 2, got shape "
                             f"{x.shape}.")
        self.build_or_check((None,) + x.shape[1:])
        x = np.asarray(x, V.DTYPES[self.dtype])
        z = x @ self.kernel
        if self.use_bias:
            _add_bias(z, self.bias)
        y = activations.apply(self.activation, z)
        return y, Context(x=x, logits=z, y=y, activation=self.activation)

    def backward(self, ctx, d_output):
        dz = activation_backward(ctx, np.asarray(d_output))
        rows_x = ctx.x.reshape(-1, ctx.x.shape[-1])
        rows_dz = dz.reshape(-1, self.units)
        d_weights = (rows_x.T @ rows_dz,) + ((rows_dz.sum(axis=0),) if self.use_bias else ())
        return (dz @ self.kernel.T,), d_weights

    def lean_training(self):
        """The same products as ``forward``/``backward`` without the per-call checks (the
        plan validated this input signature once); ``need_output=False`` skips the
        activation when only the logits are used (a crossentropy computed from them)."""
        if type(self).forward is not Dense.forward or type(self).backward is not Dense.backward:
            return None  # a subclass with its own calls: the plan calls those
        dtype = V.DTYPES[self.dtype]

        def forward(x, need_output=True):
            if x.dtype != dtype:
                x = np.asarray(x, dtype)
            z = x @ self.kernel
            if self.use_bias:
                _add_bias(z, self.bias)
            y = activations.apply(self.activation, z) if need_output else None
            return y, Context(x=x, logits=z, y=y, activation=self.activation)

        def backward(ctx, d_output, need_input=True, out=None):
            dz = d_output if getattr(ctx, "d_wrt_logits", False) else \
                activation_backward(ctx, np.asarray(d_output))
            x = ctx.x
            if x.ndim == 2 and dz.ndim == 2:
                rows_x, rows_dz = x, dz
            else:
                rows_x = x.reshape(-1, x.shape[-1])
                rows_dz = dz.reshape(-1, self.units)
            # np.add.reduce(a, 0) is the reduction a.sum(axis=0) runs
            if out is None:
                d_weights = (rows_x.T @ rows_dz,) + ((np.add.reduce(rows_dz, 0),)
                                                     if self.use_bias else ())
            else:  # into the caller's arrays
                d_weights = (np.matmul(rows_x.T, rows_dz, out=out[0]),) + (
                    (np.add.reduce(rows_dz, 0, out=out[1]),) if self.use_bias else ())
            return ((dz @ self.kernel.T,) if need_input else (None,)), d_weights

        return forward, backward

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=self.activation, use_bias=self.use_bias,
                      kernel_initializer=self.kernel_initializer,
                      bias_initializer=self.bias_initializer)
        if self.seed is not None:  # not a Keras 3 argument: only when set
            config["seed"] = self.seed
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
        mask_zero: index 0 is padding: the layer makes a (batch, timesteps) mask
            ``inputs != 0`` for the layers after it (Keras 3).
        embeddings_regularizer, embeddings_constraint, activity_regularizer: as Dense's
            (a regularizer's gradient on the embeddings is dense, as in Keras).
        weights: optional initial embeddings, a (input_dim, output_dim) array or a list
            holding one (Keras 3, and the GloVe tutorials' ``weights=[embedding_matrix]``).
        input_length: Keras 2's fixed sequence length. Without it the layer declares the
            input shape (None, None), as Keras 2 did, so a Sequential model starting with
            an Embedding is built at once.
        dtype: "float32" (default) or "float64", the dtype of the outputs.

    Example:
    >>> Embedding(10, 4)(np.array([[1, 2, 3]])).shape
    (1, 3, 4)
    """

    _weight_roles = ("embeddings",)

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 input_length=None, seed=None, lora_rank=None, weights=None, **kwargs):
        if lora_rank is not None:
            raise NotImplementedError("fastrnn does not implement argument `lora_rank` of "
                                      f"Embedding; got {lora_rank!r}. Remove it, or pass None.")
        kwargs.update(embeddings_regularizer=embeddings_regularizer,
                      embeddings_constraint=embeddings_constraint)
        if input_length is not None:
            input_length = V.positive_int(input_length, "input_length")
        implicit = all(kwargs.get(k) is None for k in ("input_shape", "batch_input_shape",
                                                       "batch_shape"))
        if implicit:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        # Keras 2 declared (None, input_length) itself; a model may still need the real
        # length (Flatten -> Dense) and then builds on its first call, as Keras 3 does.
        self._implicit_input = implicit and input_length is None
        self.input_dim = V.positive_int(input_dim, "input_dim")
        self.output_dim = V.positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer,
                                                       "embeddings_initializer")
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self.seed = seed
        self._rng = self._make_rng(seed)
        self.embeddings = None
        if weights is not None:                  # Keras 3: build now, then set_weights
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if input_shape is not None:
            self.input_shape = V.shape_tuple(input_shape, "input_shape")
        if self.built:
            return
        self.embeddings = initializers.initialize(
            self.embeddings_initializer, (self.input_dim, self.output_dim),
            V.DTYPES[self.dtype], self._rng)
        self.built = True

    @property
    def weights(self):
        return [self.embeddings] if self.built else []

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    @property
    def supports_masking(self):  # Keras 3: an Embedding makes a mask only with mask_zero
        return self.mask_zero

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.asarray(inputs) != 0

    def _indices(self, x):
        x = self._input_array(x)
        if x.ndim < 1:
            raise ValueError("Received an invalid value for argument `x`, expected an array "
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

    def forward(self, inputs, *, training=False, mask=None):
        idx = self._indices(inputs)
        if not self.built:
            self.build_or_check((None,) + idx.shape[1:])
        # np.take, not self.embeddings[idx]: the same rows, ~4x faster for (128, 500)
        return np.take(self.embeddings, idx, axis=0), Context(idx=idx)

    def backward(self, ctx, d_output):
        """The embeddings' gradient as a row-sparse ``SparseGradient``: one row per lookup
        (repeats kept), as Keras's TensorFlow backend gets an ``IndexedSlices``, so the
        optimizers update only the rows looked up, per occurrence where TensorFlow does.
        Integer inputs get no gradient (None)."""
        from ..optimizers import SparseGradient
        values = np.asarray(d_output).reshape(-1, self.output_dim)
        grad = SparseGradient(ctx.idx.reshape(-1),
                              values.astype(self.embeddings.dtype, copy=False),
                              self.embeddings.shape)
        return (None,), (grad,)

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      embeddings_initializer=self.embeddings_initializer,
                      mask_zero=self.mask_zero)
        if self.seed is not None:  # not a Keras 3 argument: only when set
            config["seed"] = self.seed
        config.setdefault("activity_regularizer", None)  # Keras's Embedding always writes it
        if self.input_length is not None:
            config["input_length"] = self.input_length
        if getattr(self, "_implicit_input", False) or self.input_length is not None:
            config.pop("input_shape", None)  # Keras 2 declared it from input_length
            config.pop("batch_input_shape", None)
        return config

    def __repr__(self):
        return (f"<Embedding name={self.name}, input_dim={self.input_dim}, "
                f"output_dim={self.output_dim}>")
