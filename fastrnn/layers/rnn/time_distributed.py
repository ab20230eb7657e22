"""TimeDistributed: applies a layer to every timestep of a sequence (Keras 3)."""
import numpy as np

from ... import _validation as V
from ..base import Context, Layer

__all__ = ["TimeDistributed"]


class TimeDistributed(Layer):
    """Applies ``layer`` to every temporal slice of an input.

    The input is (batch, timesteps, ...); the layer sees (batch * timesteps, ...) and its
    output is reshaped back to (batch, timesteps, ...). Weights are shared across time,
    so gradients are summed over timesteps.

    Args:
        layer: a fastrnn layer (Dense, or any layer taking (batch, ...) inputs).

    Call arguments:
        inputs: (batch, timesteps, ...). mask: optional (batch, timesteps) booleans, checked
        against the input and passed on unchanged (Keras 3.15's ``supports_masking``).

    Example:
    >>> from fastrnn.layers import Dense
    >>> TimeDistributed(Dense(2))(np.ones((4, 5, 3), "float32")).shape
    (4, 5, 2)
    """

    supports_masking = True
    consumes_mask = True

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            from .. import deserialize
            layer = deserialize(layer)
        if not isinstance(layer, Layer):
            raise ValueError("Argument `layer` of TimeDistributed must be a fastrnn layer, got "
                             f"{layer!r}.")
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape):
        input_shape = V.shape_tuple(input_shape, "input_shape")
        if len(input_shape) < 3:
            raise ValueError(f"Layer `{self.name}` (TimeDistributed) expects inputs of rank "
                             f">= 3 (batch, timesteps, ...), got shape "
                             f"{V.format_shape(input_shape)}.")
        return (None,) + input_shape[2:]

    def build(self, input_shape):
        self.layer.build_or_check(self._child_shape(input_shape))
        self.input_shape = tuple(input_shape)
        self.built = True

    def check_input_shape(self, input_shape):
        self.layer.check_input_shape(self._child_shape(input_shape))

    @property
    def weights(self):
        return self.layer.weights

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    def weight_regularizers(self):
        return self.layer.weight_regularizers()

    def weight_constraints(self):
        return self.layer.weight_constraints()

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (input_shape[0], input_shape[1]) + tuple(child[1:])


    def forward(self, inputs, *, training=False, mask=None):
        x = self._input_array(inputs)
        if x.ndim < 3:
            raise ValueError(f"Layer `{self.name}` (TimeDistributed) expects inputs of rank "
                             f">= 3 (batch, timesteps, ...), got shape {x.shape}.")
        self.check_mask(x, mask)
        self.build_or_check((None,) + x.shape[1:])
        B, T = x.shape[:2]
        flat = x.reshape((B * T,) + x.shape[2:])
        out, ctx = self.layer.forward(flat, training=training)
        return out.reshape((B, T) + out.shape[1:]), Context(inner=ctx, B=B, T=T,
                                                             x_shape=x.shape)

    def backward(self, ctx, d_output):
        d = np.asarray(d_output)
        d = d.reshape((ctx.B * ctx.T,) + d.shape[2:])
        (dx, *_), d_weights = self.layer.backward(ctx.inner, d)
        dx = None if dx is None else dx.reshape(ctx.x_shape)
        return (dx,), d_weights

    def get_config(self):
        from .. import serialize
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    def __repr__(self):
        return f"<TimeDistributed name={self.name}, layer={self.layer.name}>"
