"""LSTM: Keras 3's long short-term memory layer on the compiled gate kernel."""
import numpy as np

from ... import functional
from .gated import GatedRNN

__all__ = ["LSTM"]


class LSTM(GatedRNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997), as Keras 3's
    ``keras.layers.LSTM`` (keras/src/layers/rnn/lstm.py)::

        [i, f, g, o] = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias   (4 blocks of units)
        i, f, o = recurrent_activation(.);  g = activation(.)
        c_t = f * c_{t-1} + i * g;          h_t = o * activation(c_t)

    Weights, in Keras's layout and ``get_weights()`` order (gate blocks i, f, c, o):
    ``kernel`` (features, 4 * units), ``recurrent_kernel`` (units, 4 * units), ``bias``
    (4 * units,), so ``set_weights(keras_layer.get_weights())`` carries a Keras layer over.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: "tanh" (default), "relu", "sigmoid", "hard_sigmoid" or "linear"
            (None): the cell input and the output squashing.
        recurrent_activation: "sigmoid" (default) or one of the above: the i, f, o gates.
        use_bias: whether the layer has a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: Keras names or
            initializer configs ("glorot_uniform", "orthogonal", "zeros" by default).
        unit_forget_bias: add 1 to the forget gate's bias at initialisation (the bias
            is then ``bias_initializer`` with the block [units:2 units] set to ones).
        dropout: fraction of the inputs dropped while training.
        recurrent_dropout: fraction of the recurrent state dropped while training
            (with it, one dropout mask per gate, as Keras's implementation 1).
        return_sequences: return the whole sequence (batch, timesteps, units) rather
            than the last output (batch, units).
        return_state: also return the last states ``h`` and ``c``, each (batch, units).
        go_backwards: process the sequence backwards; a returned sequence is in
            processing order, as Keras returns it.
        stateful: the last states of a batch are the initial states of the next.
        seed: seed for initialisation and dropout.
        unroll, use_cudnn, implementation: Keras arguments; the same numbers here.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint: Keras's, where
            fastrnn's layer base supports them.
        dtype: "float32" (default) or "float64".
        input_shape / batch_input_shape / input_dim / input_length / batch_size:
            Keras 2's ways of declaring the input shape.

    Call arguments:
        inputs: (batch, timesteps, features) array.
        initial_state: ``[h, c]``, each (batch, units).
        mask: (batch, timesteps) booleans; a masked step keeps ``h`` and ``c`` and
            repeats the previous output (zeros before the first unmasked step).
        training: apply dropout.

    Returns the output, or with ``return_state`` ``[output, h, c]``.

    Raises:
        ValueError: a bad argument (named), input shape, initial-state count (two, h and
        c) or weight shape.

    Example:
    >>> lstm = LSTM(4, return_sequences=True, return_state=True)
    >>> seq, h, c = lstm(np.ones((2, 5, 3), "float32"))
    >>> seq.shape, h.shape, c.shape
    ((2, 5, 4), (2, 4), (2, 4))
    """

    n_gates = 4
    n_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self, shape, dtype):
        if not self.unit_forget_bias:
            return super()._bias_init(shape, dtype)
        # Keras: concatenate(init((U,)), ones((U,)), init((2U,)))
        U = self.units
        return np.concatenate([super()._bias_init((U,), dtype), np.ones(U, dtype),
                               super()._bias_init((2 * U,), dtype)])

    def _cell_forward(self, x, h0, mask, drop, rec_drop, keep):
        res = functional.lstm_forward(
            x, self.kernel, self.recurrent_kernel, self.bias, h0, mask=mask,
            return_sequences=self.return_sequences or keep, dropout_mask=drop,
            recurrent_dropout_mask=rec_drop, return_cache=keep, **self._cell_kwargs())
        return (res[0], [res[1], res[2]]) + tuple(res[3:])

    def _cell_backward(self, ctx, d_seq, d_states):
        g = functional.lstm_backward(
            d_seq, d_states[0], d_states[1], ctx.x, self.kernel, self.recurrent_kernel,
            self.bias, ctx.h0, mask=ctx.mask, dropout_mask=ctx.drop,
            recurrent_dropout_mask=ctx.rec_drop, cache=ctx.cache, workspace=self._workspace,
            **self._cell_kwargs())
        weights = (g.kernel, g.recurrent_kernel) + ((g.bias,) if self.use_bias else ())
        return g.x, [g.initial_h, g.initial_c], weights

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config
