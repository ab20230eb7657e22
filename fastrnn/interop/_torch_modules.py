"""The ``torch.nn.Module`` classes ``fastrnn.interop.to_torch`` returns.

This module imports PyTorch at import time; ``fastrnn.interop.torch`` imports it only
inside its functions, so fastrnn itself never needs PyTorch. The classes live at module
level so ``torch.save(module)`` can pickle them by name.
"""
import torch
from torch import nn

__all__ = ["KerasRNN", "FastrnnSequential"]

_MERGES = ("concat", "sum", "mul", "ave", None)


class KerasRNN(nn.Module):
    """An ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (batch_first=True) that returns what the
    fastrnn/Keras layer returns.

    ``self.rnn`` is a plain torch module holding every weight. The wrapper adds the
    Keras semantics PyTorch's module lacks:

    - ``go_backwards``: the input is reversed in time before the RNN, so the returned
      sequence is in processing order, as Keras returns it;
    - ``return_sequences=False``: the last processed step (for a bidirectional RNN the
      forward direction's last step and the backward direction's first position, i.e.
      both directions' final states);
    - ``merge_mode`` of a Bidirectional layer ("concat", "sum", "mul", "ave" or None for
      a list ``[forward, backward]``);
    - ``return_state``: a list ``[output(s)..., state(s)...]`` with the last layer's final
      states per direction, (batch, units) each: ``h`` (RNN, GRU) or ``h, c`` (LSTM),
      forward direction first, as Keras orders them.

    Call: ``module(x, initial_state=None)`` with x (batch, timesteps, features);
    ``initial_state`` (one-layer modules only) is a list of (batch, units) tensors in
    Keras's order: per direction (forward first) ``h``, or ``h, c`` for an LSTM.
    """

    def __init__(self, rnn, go_backwards=False, return_sequences=True, return_state=False,
                 merge_mode="concat"):
        super().__init__()
        if not isinstance(rnn, (nn.RNN, nn.LSTM, nn.GRU)) or not rnn.batch_first \
                or getattr(rnn, "proj_size", 0):
            raise ValueError("Argument `rnn` of KerasRNN must be a torch.nn.RNN, LSTM "
                             f"(proj_size=0) or GRU with batch_first=True, got {rnn!r}.")
        if merge_mode not in _MERGES:
            raise ValueError("Received an invalid value for argument `merge_mode`, expected "
                             f"one of {list(_MERGES)}, got {merge_mode!r}.")
        self.rnn = rnn
        self.go_backwards = bool(go_backwards)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.merge_mode = merge_mode if rnn.bidirectional else None

    def extra_repr(self):
        return (f"go_backwards={self.go_backwards}, return_sequences={self.return_sequences}, "
                f"return_state={self.return_state}, merge_mode={self.merge_mode!r}")

    def forward(self, x, initial_state=None):
        lstm = isinstance(self.rnn, nn.LSTM)
        per_dir = 2 if lstm else 1
        h0 = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            count = per_dir * (2 if self.rnn.bidirectional else 1)
            if self.rnn.num_layers != 1 or len(states) != count:
                raise ValueError(f"Argument `initial_state` must be a list of {count} "
                                 "(batch, units) tensors for a one-layer "
                                 f"{type(self.rnn).__name__}; got {len(states)} for "
                                 f"num_layers={self.rnn.num_layers}.")
            h0 = torch.stack(states[::per_dir], dim=0).contiguous()
            if lstm:
                h0 = (h0, torch.stack(states[1::2], dim=0).contiguous())
        if self.go_backwards:
            x = torch.flip(x, dims=[1])
        out, h_n = self.rnn(x, h0)
        finals = list(h_n) if lstm else [h_n]  # (layers * dirs, B, H) each

        def final(direction):  # Keras's states of one direction of the last layer
            return [s[direction] for s in finals]

        if not self.rnn.bidirectional:
            y = out if self.return_sequences else out[:, -1]
            return [y] + final(-1) if self.return_state else y
        H = self.rnn.hidden_size
        y_f, y_b = out[..., :H], out[..., H:]
        if not self.return_sequences:
            # forward: last step processed; backward (position order): its first position
            y_f, y_b = y_f[:, -1], y_b[:, 0]
        if self.merge_mode == "concat":
            y = out if self.return_sequences else torch.cat([y_f, y_b], dim=-1)
        elif self.merge_mode == "sum":
            y = y_f + y_b
        elif self.merge_mode == "ave":
            y = (y_f + y_b) / 2
        elif self.merge_mode == "mul":
            y = y_f * y_b
        else:
            y = [y_f, y_b]
        if not self.return_state:
            return y
        return (y if isinstance(y, list) else [y]) + final(-2) + final(-1)


class FastrnnSequential(nn.Module):
    """The PyTorch twin of a fastrnn ``Sequential``: its steps run in order.

    ``self.steps`` is an ``nn.ModuleList`` (``nn.Linear``, ``nn.Embedding``,
    :class:`KerasRNN`, activations, ``nn.Dropout``, ``nn.Flatten``). When the first step
    is an ``nn.Embedding`` the input is cast to int64 indices first.
    """

    def __init__(self, steps):
        super().__init__()
        self.steps = nn.ModuleList(steps)

    def forward(self, x):
        if len(self.steps) and isinstance(self.steps[0], nn.Embedding):
            x = x.long()
        for step in self.steps:
            x = step(x)
        return x
