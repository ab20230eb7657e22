"""Bidirectional: a recurrent layer run forwards and a copy of it backwards, merged."""
import numpy as np

from ... import _validation as V
from ... import functional
from ..base import Context, Layer
from .base import BaseRNN

__all__ = ["Bidirectional"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _layer_from_config(spec):
    from .. import deserialize
    return deserialize(spec)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges them.

    Args:
        layer: a recurrent layer (SimpleRNN, LSTM, GRU); the forward layer is a fresh
            copy of it.
        merge_mode: "concat" (default), "sum", "mul", "ave" or None (a list of
            both outputs).
        backward_layer: optional recurrent layer for the backward direction; by default
            a copy of ``layer`` with ``go_backwards`` flipped. It must have the opposite
            ``go_backwards`` and the same ``return_sequences``, ``return_state`` and
            ``stateful``.

    Call arguments:
        inputs: (batch, timesteps, features); initial_state: the forward layer's states
        then the backward layer's, each (batch, units) (LSTM: [h_f, c_f, h_b, c_b]);
        mask: (batch, timesteps), applied to both directions.

    Returns the merged output ((batch, timesteps, units_f + units_b) for concat with
    return_sequences), and with return_state also the forward then the backward states
    (Keras 3's order).

    Example:
    >>> from fastrnn.layers import SimpleRNN
    >>> bi = Bidirectional(SimpleRNN(4, return_sequences=True))
    >>> bi(np.ones((2, 5, 3), "float32")).shape
    (2, 5, 8)
    """

    supports_masking = True
    consumes_mask = True
    _takes_state = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, weights=None,
                 **kwargs):
        if isinstance(layer, dict):
            layer = _layer_from_config(layer)
        if isinstance(backward_layer, dict):
            backward_layer = _layer_from_config(backward_layer)
        if not isinstance(layer, BaseRNN):
            raise ValueError("Argument `layer` of Bidirectional must be a recurrent layer "
                             f"(SimpleRNN, LSTM or GRU), got {layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError("Received an invalid value for argument `merge_mode`, expected "
                             f"one of {list(_MERGE_MODES)}, got {merge_mode!r}.")
        if weights is not None:
            raise NotImplementedError("fastrnn's Bidirectional does not take `weights`; call "
                                      "`set_weights` after building.")
        kwargs.setdefault("dtype", layer.dtype)
        if kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None \
                and kwargs.get("batch_shape") is None:
            kwargs.setdefault("batch_input_shape", layer.batch_input_shape)
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        config = layer.get_config()
        config.pop("batch_input_shape", None)
        config["name"] = "forward_" + layer.name
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = dict(config, name="backward_" + layer.name,
                          go_backwards=not layer.go_backwards)
            self.backward_layer = type(layer).from_config(config)
            self._custom_backward = False
        else:
            if not isinstance(backward_layer, BaseRNN):
                raise ValueError("Argument `backward_layer` must be a recurrent layer, got "
                                 f"{backward_layer!r}.")
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Argument `backward_layer` must have go_backwards="
                                 f"{not layer.go_backwards} (the opposite of `layer`), got "
                                 f"{backward_layer.go_backwards}.")
            for attr in ("return_sequences", "return_state", "stateful"):
                if getattr(backward_layer, attr) != getattr(layer, attr):
                    raise ValueError(f"Argument `backward_layer` must have the same `{attr}` "
                                     f"as `layer` ({getattr(layer, attr)}), got "
                                     f"{getattr(backward_layer, attr)}.")
            self.backward_layer = backward_layer
            self._custom_backward = True
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        # Keras zeroes masked outputs of both directions when sequences are returned.
        self.forward_layer.zero_output_for_mask = self.return_sequences
        self.backward_layer.zero_output_for_mask = self.return_sequences
        self._layers = (self.forward_layer, self.backward_layer)

    def weight_regularizers(self):
        return self.forward_layer.weight_regularizers() + \
            self.backward_layer.weight_regularizers()

    def weight_constraints(self):
        return self.forward_layer.weight_constraints() + \
            self.backward_layer.weight_constraints()

    @property
    def n_states(self):
        return self.forward_layer.n_states + self.backward_layer.n_states

    def build(self, input_shape):
        for sub in self._layers:
            sub.build_or_check(input_shape)
        self.input_shape = V.shape_tuple(input_shape, "input_shape")
        self.built = True

    def check_input_shape(self, input_shape):
        for sub in self._layers:
            sub.check_input_shape(input_shape)

    def check_initial_state_shapes(self, shapes, input_shape):
        nf = self.forward_layer.n_states
        if len(shapes) != self.n_states:
            raise ValueError(f"Layer `{self.name}` has {self.n_states} states (forward then "
                             f"backward) but was passed {len(shapes)} initial state(s).")
        self.forward_layer.check_initial_state_shapes(shapes[:nf], input_shape)
        self.backward_layer.check_initial_state_shapes(shapes[nf:], input_shape)

    @property
    def weights(self):
        return self.forward_layer.weights + self.backward_layer.weights

    def compute_output_shape(self, input_shape):
        out_f = self.forward_layer.compute_output_shape(input_shape)
        out_b = self.backward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            out_f, states_f = out_f[0], out_f[1:]
            out_b, states_b = out_b[0], out_b[1:]
            states = states_f + states_b
        if self.merge_mode == "concat":
            out = out_f[:-1] + (out_f[-1] + out_b[-1],)
        elif self.merge_mode is None:
            out = [out_f, out_b]
        else:
            out = out_f
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_mask(self, inputs, mask=None):
        out_mask = mask if self.return_sequences else None
        n_out = 2 if self.merge_mode is None else 1
        if self.return_state or n_out == 2:
            return [out_mask] * n_out + [None] * (self.n_states if self.return_state else 0)
        return out_mask

    def reset_states(self, *args):
        """Reset both directions' states (Keras 3 takes no argument)."""
        if args:
            raise TypeError(f"reset_states() of layer `{self.name}` takes no states, as in "
                            "Keras 3; write into `forward_layer.states` and "
                            "`backward_layer.states` instead.")
        if not self.stateful:
            raise AttributeError(f"Layer `{self.name}` is not stateful; pass a layer with "
                                 "`stateful=True` to keep state across calls.")
        for sub in self._layers:
            sub.reset_states()

    reset_state = reset_states

    # ------------------------------------------------------------------ merging
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

    def _unmerge(self, ctx, d):
        """d merged -> (d forward output, d backward output)."""
        if self.merge_mode is None:
            return d[0], d[1]
        if d is None:
            return None, None
        d = np.asarray(d)
        if self.merge_mode == "concat":
            H = ctx.y_f.shape[-1]
            return d[..., :H], d[..., H:]
        if self.merge_mode == "sum":
            return d, d
        if self.merge_mode == "ave":
            half = d / d.dtype.type(2)
            return half, half
        return d * ctx.y_b, d * ctx.y_f  # mul

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
        buf = np.empty(inputs.shape[:2] + (H + b.units,), V.DTYPES[f.dtype])
        threads = functional.get_num_threads()
        res_f = f._fast(inputs, threads, -1, buf[..., :H])
        res_b = res_f and b._fast(inputs, threads, -1, buf[..., H:])
        if not res_b:
            return None
        # Both halves are in position order. The merge pairs the forward layer's output in
        # its processing order with the backward layer's reversed: position order when the
        # forward layer runs forwards, reversed position order when it runs backwards.
        out = buf[:, ::-1] if f.go_backwards else buf
        return [out, res_f[1], res_b[1]] if self.return_state else out

    def _split_states(self, initial_state):
        if initial_state is None:
            return None, None
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != self.n_states:
            got = len(initial_state) if isinstance(initial_state, (list, tuple)) else \
                type(initial_state).__name__
            raise ValueError(f"Argument `initial_state` of layer `{self.name}` must be a "
                             f"list of {self.n_states} arrays (forward states, then backward "
                             f"states, each (batch, units)), got {got}.")
        nf = self.forward_layer.n_states
        return list(initial_state[:nf]), list(initial_state[nf:])

    # ------------------------------------------------------------------ calls
    def call(self, inputs, training=False, mask=None, initial_state=None):
        if initial_state is None and mask is None:
            merged = self._lean_concat(inputs, training)
            if merged is not None:
                return merged
        x = self._input_array(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={x.ndim}. Full shape received: {x.shape}")
        init_f, init_b = self._split_states(initial_state)
        mask = self.check_mask(x, mask)
        self.build_or_check((None,) + x.shape[1:])
        out_f = self.forward_layer.call(x, initial_state=init_f, mask=mask, training=training)
        out_b = self.backward_layer.call(x, initial_state=init_b, mask=mask, training=training)
        return self._assemble(out_f, out_b)

    def _assemble(self, out_f, out_b):
        if self.return_state:
            y_f, s_f = out_f[0], list(out_f[1:])
            y_b, s_b = out_b[0], list(out_b[1:])
        else:
            y_f, y_b, s_f, s_b = out_f, out_b, [], []
        if self.return_sequences:
            y_b = y_b[:, ::-1]
        merged = self._merge(y_f, y_b)
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + s_f + s_b
        return merged

    def forward(self, inputs, *, training=False, mask=None, initial_state=None):
        x = self._input_array(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer `{self.name}` is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found "
                             f"ndim={x.ndim}. Full shape received: {x.shape}")
        init_f, init_b = self._split_states(initial_state)
        mask = self.check_mask(x, mask)
        self.build_or_check((None,) + x.shape[1:])
        out_f, ctx_f = self.forward_layer.forward(x, training=training, mask=mask,
                                                  initial_state=init_f)
        out_b, ctx_b = self.backward_layer.forward(x, training=training, mask=mask,
                                                   initial_state=init_b)
        y_f = out_f[0] if self.return_state else out_f
        y_b = out_b[0] if self.return_state else out_b
        if self.return_sequences:
            y_b = y_b[:, ::-1]
        ctx = Context(f=ctx_f, b=ctx_b, y_f=y_f, y_b=y_b, given_state=initial_state is not None)
        return self._assemble(out_f, out_b), ctx

    def backward(self, ctx, d_outputs):
        nf, nb = self.forward_layer.n_states, self.backward_layer.n_states
        if self.return_state:
            n_out = 2 if self.merge_mode is None else 1
            d_merged = d_outputs[:n_out] if n_out == 2 else d_outputs[0]
            d_sf, d_sb = list(d_outputs[n_out:n_out + nf]), list(d_outputs[n_out + nf:])
        else:
            d_merged, d_sf, d_sb = d_outputs, [None] * nf, [None] * nb
        d_f, d_b = self._unmerge(ctx, d_merged)
        if d_b is not None and self.return_sequences:
            d_b = np.asarray(d_b)[:, ::-1]
        rf, rb = self.forward_layer.return_state, self.backward_layer.return_state
        (dx_f, *dh_f), dw_f = self.forward_layer.backward(ctx.f, [d_f] + d_sf if rf else d_f)
        (dx_b, *dh_b), dw_b = self.backward_layer.backward(ctx.b, [d_b] + d_sb if rb else d_b)
        d_inputs = (dx_f + dx_b,) + (tuple(dh_f) + tuple(dh_b) if ctx.given_state else ())
        return d_inputs, tuple(dw_f) + tuple(dw_b)

    # ------------------------------------------------------------------ config
    def get_config(self):
        from .. import serialize
        config = super().get_config()
        layer_config = serialize(self.forward_layer)
        layer_config["config"]["name"] = layer_config["config"]["name"][len("forward_"):]
        config.update(layer=layer_config, merge_mode=self.merge_mode)
        if self._custom_backward:
            config["backward_layer"] = serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer = config.pop("layer")
        if isinstance(layer, dict) and "class_name" not in layer:  # fastrnn 0.1's flat form
            from .simple_rnn import SimpleRNN
            layer = SimpleRNN.from_config(layer)
        return cls(layer, **config)

    def __repr__(self):
        return (f"<Bidirectional name={self.name}, layer={self.forward_layer.name}, "
                f"merge_mode={self.merge_mode!r}>")
