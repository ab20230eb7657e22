"""Global pooling over time, as Keras 3 (keras/src/layers/pooling/global_*_pooling1d.py).

Text classifiers often end an RNN stack with ``Bidirectional(LSTM(..., return_sequences=True))``
followed by ``GlobalMaxPooling1D()`` or ``GlobalAveragePooling1D()``.

- ``GlobalAveragePooling1D``: the mean over the steps axis; with a mask, the mean over the
  unmasked steps only (``sum(where(mask, x, 0)) / sum(mask)``; a fully masked row gives
  0/0 = nan, as in Keras). Its output carries no mask.
- ``GlobalMaxPooling1D``: the max over the steps axis; Keras 3 ignores masks here (padded
  steps take part, and the mask is dropped with Keras's warning). Its gradient goes to the
  maximal entries, shared equally between ties (TensorFlow's ``reduce_max`` gradient).
"""
import numpy as np

from .. import _validation as V
from .base import Context
from .stateless import _Stateless

__all__ = ["GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAvgPool1D", "GlobalMaxPool1D"]


class _GlobalPooling1D(_Stateless):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise V.invalid("data_format", "'channels_last' or 'channels_first'", data_format)
        self.data_format = data_format or "channels_last"
        self.keepdims = bool(keepdims)

    @property
    def _axis(self):
        return 1 if self.data_format == "channels_last" else 2

    def _input3d(self, inputs):
        x = self._float_input(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` ({type(self).__name__}) must be "
                             f"3D (batch, steps, features), got shape {x.shape}.")
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.keepdims:
            return shape[:self._axis] + (1,) + shape[self._axis + 1:]
        return shape[:self._axis] + shape[self._axis + 1:]

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over time: (batch, steps, features) -> (batch, features) (``keepdims``: a
    length-1 steps axis kept; ``data_format="channels_first"``: (batch, features, steps)).
    A mask (batch, steps) excludes padded steps from the mean.

    Example:
    >>> GlobalAveragePooling1D()(np.ones((2, 3, 4), "float32")).shape
    (2, 4)
    """

    supports_masking = True
    consumes_mask = True

    def forward(self, inputs, *, training=False, mask=None):
        x = self._input3d(inputs)
        a = self._axis
        if mask is None:
            return np.mean(x, axis=a, keepdims=self.keepdims), Context(shape=x.shape, w=None)
        m = self.check_mask(np.swapaxes(x, 1, a) if a == 2 else x, mask)
        m = np.expand_dims(m, 2 if a == 1 else 1).astype(x.dtype)
        count = np.sum(m, axis=a, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = m / count                                   # each kept step's weight
            out = np.sum(x * m, axis=a, keepdims=True) / count
        return (out if self.keepdims else np.squeeze(out, a)), Context(shape=x.shape, w=w)

    def backward(self, ctx, d_output):
        d = np.expand_dims(np.asarray(d_output), self._axis) if not self.keepdims else \
            np.asarray(d_output)
        if ctx.w is None:
            return (np.broadcast_to(d / d.dtype.type(ctx.shape[self._axis]), ctx.shape).copy(),), ()
        with np.errstate(invalid="ignore"):
            return ((d * ctx.w).astype(d.dtype, copy=False),), ()


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over time: (batch, steps, features) -> (batch, features) (``keepdims`` and
    ``data_format`` as ``GlobalAveragePooling1D``). Masks are ignored, as in Keras 3.

    Example:
    >>> GlobalMaxPooling1D()(np.arange(6.0).reshape(1, 3, 2)).tolist()
    [[4.0, 5.0]]
    """

    def forward(self, inputs, *, training=False, mask=None):
        x = self._input3d(inputs)
        out = np.max(x, axis=self._axis, keepdims=True)
        hit = (x == out).astype(x.dtype)
        share = hit / np.sum(hit, axis=self._axis, keepdims=True)
        return (out if self.keepdims else np.squeeze(out, self._axis)), Context(share=share)

    def backward(self, ctx, d_output):
        d = np.asarray(d_output)
        if not self.keepdims:
            d = np.expand_dims(d, self._axis)
        return (d * ctx.share,), ()


GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
