"""SimpleRNN: the Elman recurrence on the compiled kernel (Keras 3's SimpleRNN)."""
import numpy as np

from ... import _validation as V
from ... import activations, functional, initializers
from .base import BaseRNN

__all__ = ["SimpleRNN"]


class _Lean:
    """The context cache of a forward call that ran the compiled forward (``_fast``):
    its backward runs the compiled backward on the same arrays."""

    def __repr__(self):
        return "<lean SimpleRNN call>"


_LEAN = _Lean()


class SimpleRNN(BaseRNN):
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
        kernel_regularizer, recurrent_regularizer, bias_regularizer: a
            ``fastrnn.regularizers`` object or name ("l1", "l2", "l1_l2"), added to the
            training loss with its gradient.
        kernel_constraint, recurrent_constraint, bias_constraint: a ``fastrnn.constraints``
            object or name, applied after each optimizer update.
        activity_regularizer: accepted and ignored, as Keras 3.15's SimpleRNN does (it
            never reaches the layer: no loss, no gradient; its config says None).
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

    _weight_roles = ("kernel", "recurrent", "bias")

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", activity_regularizer=None, **kwargs):
        super().__init__(units, **kwargs)
        from ... import regularizers
        try:  # checked, then dropped: Keras 3.15's SimpleRNN never applies it (measured)
            regularizers.get(activity_regularizer)
        except ValueError as e:
            raise ValueError("Received an invalid value for argument `activity_regularizer` "
                             f"of layer SimpleRNN: {e}") from None
        self.activation = activations.get(activation, "activation", activations.RECURRENT)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = initializers.get(recurrent_initializer,
                                                      "recurrent_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel = self.recurrent_kernel = self.bias = None
        self._fast = None
        self._workspace = {}  # backward's scratch buffers, reused across training steps

    def _build_cell(self, features):
        dtype = V.DTYPES[self.dtype]
        self.kernel = initializers.initialize(self.kernel_initializer, (features, self.units),
                                              dtype, self._rng)
        self.recurrent_kernel = initializers.initialize(
            self.recurrent_initializer, (self.units, self.units), dtype, self._rng)
        self.bias = (initializers.initialize(self.bias_initializer, (self.units,), dtype,
                                             self._rng) if self.use_bias else None)
        self._fast = functional.compile_forward(self.kernel, self.recurrent_kernel, self.bias,
                                                self.activation, self.go_backwards)

    @property
    def weights(self):
        if not self.built:
            return []
        return [self.kernel, self.recurrent_kernel] + ([self.bias] if self.use_bias else [])

    # ------------------------------------------------------------------ calls
    def call(self, inputs, training=False, mask=None, initial_state=None):
        if (self._fast is not None and initial_state is None and mask is None
                and not self.stateful
                and not (training and (self.dropout or self.recurrent_dropout))):
            # the lean path: checks, allocation and the kernel in one compiled call
            res = self._fast(inputs, functional.get_num_threads(),
                             -1 if self.return_sequences else functional.CHUNK_BYTES)
            if res is not None:
                out = self._user_output(res[0])
                return [out, res[1]] if self.return_state else out
        return self.forward(inputs, training=bool(training), mask=mask,
                            initial_state=initial_state, keep=False)[0]

    def lean_training(self):
        """Forward and backward for a training plan (``Layer.lean_training``): the
        compiled forward kept whole for the backward and the kernel's backward called
        directly, for calls without mask, initial state, dropout or stateful states and
        with a C-contiguous input of the weights' dtype (else None: the general call)."""
        cls = type(self)
        if (self._fast is None or self.return_state
                or any(getattr(cls, name) is not getattr(SimpleRNN, name) for name in
                       ("forward", "backward", "_cell_forward", "_cell_backward",
                        "_user_output"))):
            return None  # a subclass with its own calls: the plan calls those
        lean_backward = functional.compile_backward(
            self.kernel, self.recurrent_kernel, self.activation, self.go_backwards,
            self.zero_output_for_mask)
        fast = self._fast

        def forward(x, need_output=True):
            if self.stateful or self.dropout or self.recurrent_dropout:
                return None
            res = fast(x, functional.get_num_threads(), -1)
            if res is None:
                return None
            seq = res[0]
            return self._user_output(seq), (x, seq)

        def backward(ctx, d_output, need_input=True, out=None):
            x, seq = ctx
            d_out = np.asarray(d_output)
            if self.return_sequences:
                d_seq = d_out[:, ::-1] if self.go_backwards else d_out
                dx, dk, dr, db = lean_backward(d_seq, x, seq, out, need_input)
            else:  # the gradient of the last state processed
                dx, dk, dr, db = lean_backward(None, x, seq, out, need_input, d_out)
            return ((dx if need_input else None),), \
                ((dk, dr, db) if self.use_bias else (dk, dr))

        return forward, backward

    def _cell_forward(self, x, h0, mask, drop, rec_drop, keep):
        if (h0 is None and mask is None and drop is None and rec_drop is None
                and self._fast is not None and (keep or self.return_sequences)):
            # the compiled forward (the same kernel call as simple_rnn_forward's for
            # a C-contiguous native x; None otherwise), marked for _cell_backward
            res = self._fast(x, functional.get_num_threads(), -1)
            if res is not None:
                return res[0], [res[1]], _LEAN
        seq, state = functional.simple_rnn_forward(
            x, self.kernel, self.recurrent_kernel, self.bias, None if h0 is None else h0[0],
            self.activation, self.go_backwards, mask,
            return_sequences=self.return_sequences or keep,
            zero_output_for_mask=self.zero_output_for_mask,
            dropout_mask=drop, recurrent_dropout_mask=rec_drop, positions=True)
        return seq, [state]

    def _cell_backward(self, ctx, d_seq, d_states):
        if ctx.cache is _LEAN:  # no initial state, mask or dropout; x native contiguous
            dx, dk, dr, db = self._lean_backward()(d_seq, ctx.x, ctx.seq, None, True,
                                                   d_states[0])
            # the initial state's gradient is not wanted without an initial state
            return dx, [None], (dk, dr) + ((db,) if self.use_bias else ())
        g = functional.simple_rnn_backward(
            d_seq, d_states[0], ctx.x, self.kernel, self.recurrent_kernel, ctx.seq,
            None if ctx.h0 is None else ctx.h0[0], self.activation, self.go_backwards,
            ctx.mask, zero_output_for_mask=self.zero_output_for_mask,
            dropout_mask=ctx.drop, recurrent_dropout_mask=ctx.rec_drop, positions=True,
            workspace=self._workspace)
        weights = (g.kernel, g.recurrent_kernel) + ((g.bias,) if self.use_bias else ())
        return g.x, [g.initial_state], weights

    def _lean_backward(self):
        """``functional.compile_backward`` for the current weights (made again when a
        weight array or a flag it holds was replaced)."""
        key = (self.kernel, self.recurrent_kernel, self.activation, self.go_backwards,
               self.zero_output_for_mask)
        cached = self.__dict__.get("_lean_backward_cache")
        if cached is None or any(a is not b for a, b in zip(cached[0], key)):
            cached = self._lean_backward_cache = (key, functional.compile_backward(
                self.kernel, self.recurrent_kernel, self.activation, self.go_backwards,
                self.zero_output_for_mask))
        return cached[1]

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(activation=self.activation, use_bias=self.use_bias,
                      kernel_initializer=self.kernel_initializer,
                      recurrent_initializer=self.recurrent_initializer,
                      bias_initializer=self.bias_initializer, activity_regularizer=None)
        return config

    def __repr__(self):
        return (f"<SimpleRNN name={self.name}, units={self.units}, "
                f"activation={self.activation}, built={self.built}>")
