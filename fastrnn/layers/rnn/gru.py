"""GRU: Keras 3's gated recurrent unit layer on the compiled gate kernel."""
from ... import functional
from .gated import GatedRNN

__all__ = ["GRU"]


class GRU(GatedRNN):
    """Gated Recurrent Unit (Cho et al., 2014), as Keras 3's ``keras.layers.GRU``
    (keras/src/layers/rnn/gru.py)::

        z = recurrent_activation(x_t @ W_z + b_z + h_{t-1} @ U_z [+ rb_z])
        r = recurrent_activation(x_t @ W_r + b_r + h_{t-1} @ U_r [+ rb_r])
        reset_after=True:  hh = activation(x_t @ W_h + b_h + r * (h_{t-1} @ U_h + rb_h))
        reset_after=False: hh = activation(x_t @ W_h + b_h + (r * h_{t-1}) @ U_h)
        h_t = z * h_{t-1} + (1 - z) * hh

    Weights, in Keras's layout and ``get_weights()`` order (gate blocks z, r, h):
    ``kernel`` (features, 3 * units), ``recurrent_kernel`` (units, 3 * units), ``bias``
    (2, 3 * units) with ``reset_after=True`` (row 0 the input bias, row 1 the recurrent
    bias ``rb``) or (3 * units,) with ``reset_after=False``.

    Args:
        units: positive integer, dimensionality of the output space.
        reset_after: True (Keras 3's default, cuDNN's and PyTorch's convention): the reset
            gate multiplies the recurrent product; False: it multiplies the state first.
        The other arguments as ``LSTM`` (without ``unit_forget_bias``).

    Call arguments:
        inputs: (batch, timesteps, features) array.
        initial_state: (batch, units) array, or a one-element list of it.
        mask: (batch, timesteps) booleans; a masked step keeps the state and repeats the
            previous output (zeros before the first unmasked step).
        training: apply dropout.

    Returns the output, or with ``return_state`` ``[output, h]``.

    Raises:
        ValueError: a bad argument (named), input shape, initial-state count or weight
        shape (a bias of the other ``reset_after`` is named as such).

    Example:
    >>> gru = GRU(4, return_state=True)
    >>> last, h = gru(np.ones((2, 5, 3), "float32"))
    >>> last.shape, h.shape, gru.bias.shape
    ((2, 4), (2, 4), (2, 12))
    """

    n_gates = 3
    n_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        U3 = self.n_gates * self.units
        return (2, U3) if self.reset_after else (U3,)

    def _shape_hint(self, name, shape):
        U3 = self.n_gates * self.units
        if name == "bias" and shape == ((U3,) if self.reset_after else (2, U3)):
            return (f" That is the bias of a GRU with reset_after={not self.reset_after}; "
                    f"this layer has reset_after={self.reset_after}.")
        return ""

    def _cell_forward(self, x, h0, mask, drop, rec_drop, keep):
        res = functional.gru_forward(
            x, self.kernel, self.recurrent_kernel, self.bias,
            None if h0 is None else h0[0], mask=mask, reset_after=self.reset_after,
            return_sequences=self.return_sequences or keep, dropout_mask=drop,
            recurrent_dropout_mask=rec_drop, return_cache=keep, **self._cell_kwargs())
        return (res[0], [res[1]]) + tuple(res[2:])

    def _cell_backward(self, ctx, d_seq, d_states):
        g = functional.gru_backward(
            d_seq, d_states[0], ctx.x, self.kernel, self.recurrent_kernel, self.bias,
            None if ctx.h0 is None else ctx.h0[0], mask=ctx.mask,
            reset_after=self.reset_after, dropout_mask=ctx.drop,
            recurrent_dropout_mask=ctx.rec_drop, cache=ctx.cache, workspace=self._workspace,
            **self._cell_kwargs())
        weights = (g.kernel, g.recurrent_kernel) + ((g.bias,) if self.use_bias else ())
        return g.x, [g.initial_state], weights

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
