"""The recurrent base class shared by every cell: input spellings, masks, go_backwards,
stateful states, dropout, return_sequences/return_state, and protocol v2's contexts.

A cell subclass supplies ``_build_cell(features)``, ``weights``, ``_cell_forward`` (which
returns ``(seq, states)``, or ``(seq, states, cache)`` to keep a cache for its backward in
``ctx.cache``) and ``_cell_backward``; sequences are kept in position order (``seq[:, t]``
is the output of the step that read ``x[:, t]``) and returned in processing order, as
Keras does.
"""
import numpy as np

from ... import _validation as V
from ..base import Context, Layer

__all__ = ["BaseRNN"]


class BaseRNN(Layer):
    """Behaviour common to SimpleRNN, LSTM and GRU.

    Call arguments:
        inputs: (batch, timesteps, features) array.
        initial_state: list of ``n_states`` arrays (batch, units) (a single array for
            one state).
        mask: (batch, timesteps) booleans; masked steps carry the state (Keras 3).
        training: apply dropout.
    """

    supports_masking = True
    consumes_mask = True
    _takes_state = True
    n_states = 1

    def __init__(self, units, dropout=0.0, recurrent_dropout=0.0, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 seed=None, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.units = V.positive_int(units, "units")
        self.dropout = V.rate(dropout, "dropout")
        self.recurrent_dropout = V.rate(recurrent_dropout, "recurrent_dropout")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # a speed hint in Keras; same numbers here
        self.seed = seed
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._rng = self._make_rng(seed)
        self.states = None

    # ------------------------------------------------------------------ shapes
    def build(self, input_shape):
        input_shape = V.shape_tuple(input_shape, "input_shape")
        if len(input_shape) != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={len(input_shape)}. Full shape received: {input_shape}")
        features = input_shape[-1]
        if features is None or features < 1:
            raise ValueError(f"Layer `{self.name}` needs a known, positive number of "
                             f"features (last axis), got input_shape={input_shape}.")
        if self.built:
            self.check_input_shape(input_shape)
            return
        self._build_cell(features)
        self.input_shape = input_shape
        self.built = True

    def check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={len(input_shape)}. Full shape received: "
                             f"{tuple(input_shape)}")
        self._check_features(input_shape[-1])

    def _check_features(self, features):
        expected = self.kernel.shape[0]
        if features != expected:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value {expected}, "
                             f"but received input with shape ending in {features}.")

    def check_initial_state_shapes(self, shapes, input_shape):
        if len(shapes) != self.n_states:
            raise ValueError(f"Layer `{self.name}` has {self.n_states} state(s) but was "
                             f"passed {len(shapes)} initial state(s).")
        for s in shapes:
            if len(s) != 2 or (s[-1] is not None and s[-1] != self.units):
                raise ValueError(f"Argument `initial_state` of layer `{self.name}` must hold "
                                 f"(batch, {self.units}) tensors, got shape "
                                 f"{V.format_shape(s)}.")

    def compute_output_shape(self, input_shape):
        input_shape = V.shape_tuple(input_shape, "input_shape")
        if len(input_shape) != 3:
            raise ValueError(f"Layer `{self.name}` expects inputs of rank 3, "
                             f"got input_shape={input_shape}.")
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * self.n_states
        return out

    def compute_mask(self, inputs, mask=None):
        out_mask = mask if self.return_sequences else None
        if self.return_state:
            return [out_mask] + [None] * self.n_states
        return out_mask

    # ------------------------------------------------------------------ state
    def reset_states(self, *args):
        """Reset a stateful layer's states to zeros (Keras 3 takes no argument; to set
        values, write into ``layer.states[i]``, a list of (batch, units) arrays). Without
        a declared batch size the next call starts new states for its own batch size."""
        if args:
            raise TypeError(f"reset_states() of layer `{self.name}` takes no states, as in "
                            "Keras 3; assign values with `layer.states[i][...] = value` "
                            "(each (batch, units)) after a call.")
        if not self.stateful:
            raise AttributeError(f"Layer `{self.name}` is not stateful; pass "
                                 "`stateful=True` to keep state across calls.")
        if self.states is None or self._declared_batch() is None:
            self.states = None
        else:
            self.states = [np.zeros_like(s) for s in self.states]

    reset_state = reset_states

    def _declared_batch(self):
        return self.batch_input_shape[0] if self.batch_input_shape else None

    def _stateful_batch(self):
        if self.states is not None:
            return self.states[0].shape[0]
        return self._declared_batch()

    def _initial_states(self, x, initial_state):
        """The call's initial states (a list, or None for zeros)."""
        B = x.shape[0]
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state]
            if len(initial_state) != self.n_states:
                raise ValueError(f"Layer `{self.name}` has {self.n_states} state(s) but was "
                                 f"passed {len(initial_state)} initial state(s).")
            return [self._input_array(s, "initial_state") for s in initial_state]
        if not self.stateful:
            return None
        batch = self._stateful_batch()
        if batch is not None and batch != B:
            if self._declared_batch() is not None:
                raise ValueError(f"Layer `{self.name}` is stateful with batch size {batch}, "
                                 "declared with its input shape (batch_input_shape or "
                                 f"Input(batch_size=...)), but received an input with batch "
                                 f"size {B}; feed batches of {batch}.")
            raise ValueError(f"Layer `{self.name}` is stateful with batch size {batch} (the "
                             f"batch its states were made for), but received an input with "
                             f"batch size {B}; feed batches of {batch}, or call "
                             "`reset_states()` to start new states for the new batch size.")
        if self.states is None:
            self.states = [np.zeros((B, self.units), V.DTYPES[self.dtype])
                           for _ in range(self.n_states)]
        return self.states

    def _dropout_masks(self, x, training):
        if not training:
            return None, None
        B, _, D = x.shape
        dtype = V.DTYPES[self.dtype]
        masks = []
        for rate, width in ((self.dropout, D), (self.recurrent_dropout, self.units)):
            if rate > 0:
                keep = self._rng.random((B, width)) >= rate
                masks.append(keep.astype(dtype) / dtype(1 - rate))
            else:
                masks.append(None)
        return masks

    def _user_output(self, seq):
        """The sequence in processing order (reversed for go_backwards, a view) or the
        last processed step's output, from a sequence in position order."""
        if self.return_sequences:
            return seq[:, ::-1] if self.go_backwards else seq
        return seq[:, 0 if self.go_backwards else -1]

    def _check_call_input(self, inputs):
        x = self._input_array(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={x.ndim}. Full shape received: {x.shape}")
        self.build_or_check((None,) + x.shape[1:])
        return x

    # ------------------------------------------------------------------ protocol v2
    def forward(self, inputs, *, training=False, mask=None, initial_state=None, keep=True):
        """Outputs (``output`` or ``[output, *states]``) and the call's context."""
        x = self._check_call_input(inputs)
        mask = self.check_mask(x, mask)
        given = initial_state is not None
        h0 = self._initial_states(x, initial_state)
        drop, rec_drop = self._dropout_masks(x, training)
        seq, states, *cache = self._cell_forward(x, h0, mask, drop, rec_drop, keep)
        if self.stateful:
            self.states = [np.array(s) for s in states]
        out = self._user_output(seq) if (keep or self.return_sequences) else seq
        ctx = Context(x=x, h0=h0, given_state=given, mask=mask, seq=seq, states=states,
                      drop=drop, rec_drop=rec_drop, cache=cache[0] if cache else None) \
            if keep else None
        outputs = [out] + list(states) if self.return_state else out
        return outputs, ctx

    def backward(self, ctx, d_outputs):
        if self.return_state:
            d_out, d_states = d_outputs[0], list(d_outputs[1:])
        else:
            d_out, d_states = d_outputs, [None] * self.n_states
        seq = ctx.seq
        d_seq = None
        if d_out is not None:
            d_out = np.asarray(d_out)
            if self.return_sequences:
                d_seq = d_out[:, ::-1] if self.go_backwards else d_out
            else:
                d_seq = np.zeros_like(seq)
                d_seq[:, 0 if self.go_backwards else -1] = d_out
        dx, d_h0, d_weights = self._cell_backward(ctx, d_seq, d_states)
        d_inputs = (dx,) + (tuple(d_h0) if ctx.given_state else ())
        return d_inputs, tuple(d_weights)

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, dropout=self.dropout,
                      recurrent_dropout=self.recurrent_dropout,
                      return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful,
                      unroll=self.unroll, seed=self.seed,
                      zero_output_for_mask=self.zero_output_for_mask)
        return config
