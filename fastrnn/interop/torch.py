"""PyTorch <-> fastrnn: ``from_torch`` and ``to_torch``.

Weight layouts (PyTorch stores ``(out, in)``, Keras ``(in, out)``)::

    nn.RNN   weight_ih_l{k}[_reverse] (H, D)   <->  SimpleRNN kernel           (D, H)  transposed
             weight_hh_l{k}[_reverse] (H, H)   <->  SimpleRNN recurrent_kernel (H, H)  transposed
             bias_ih + bias_hh        (H,)     <->  SimpleRNN bias             (H,)    summed
    nn.LSTM  the same per gate block; PyTorch's i, f, g, o is Keras's i, f, c, o; biases summed
    nn.GRU   blocks r, z, n <-> Keras z, r, h; b_ih, b_hh <-> GRU(reset_after=True) bias
             rows 0 and 1 (2, 3U), kept apart (b_hn sits inside r * (.))
    nn.Linear    weight (out, in), bias        <->  Dense kernel (in, out), bias
    nn.Embedding weight (num, dim)             <->  Embedding embeddings (input_dim, output_dim)

PyTorch's RNN recurrence ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` is Keras's
``h_t = act(x_t kernel + h_{t-1} recurrent_kernel + bias)`` with the two biases summed
(torch.nn.RNN's documentation; keras/src/layers/rnn/simple_rnn.py), so the outputs agree
to rounding; fastrnn/interop/_torch_rnn.py gives the LSTM and GRU equations. PyTorch is
imported only inside these functions.
"""
import numpy as np

from ._torch_rnn import (check_convertible, fastrnn_weights, layer_kwargs, settings,
                         torch_kind, torch_weights)

__all__ = ["from_torch", "to_torch"]

_TORCH_ACTS = {"Tanh": "tanh", "ReLU": "relu", "Sigmoid": "sigmoid"}
_DTYPES = ("float32", "float64")


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("fastrnn.interop's PyTorch conversion needs PyTorch: "
                          "pip install torch") from None
    return torch


# ---------------------------------------------------------------------- torch -> fastrnn
def _numpy(param, dtype):
    return param.detach().cpu().numpy().astype(dtype)


def _module_dtype(module, dtype):
    if dtype is not None:
        dtype = np.dtype(dtype).name
        if dtype not in _DTYPES:
            raise ValueError("Received an invalid value for argument `dtype`, expected "
                             f"'float32' or 'float64', got {dtype!r}.")
        return dtype
    for p in module.parameters():
        name = str(p.dtype).replace("torch.", "")
        if name not in _DTYPES:
            raise ValueError(f"Module {type(module).__name__} has parameters of dtype {name}; "
                             "fastrnn computes in float32 or float64: pass "
                             "`dtype='float32'` (or 'float64') to convert them.")
        return name
    return "float32"


def _rnn_layers(rnn, dtype, go_backwards=False, return_sequences=True, return_state=False,
                merge_mode="concat"):
    """fastrnn layers for the stack of an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (one per
    torch layer, with Dropout(rnn.dropout) between them when dropout > 0)."""
    from .. import layers as L
    kind = torch_kind(rnn)
    cls_name, cell = layer_kwargs(rnn, kind)
    cls = getattr(L, cls_name)
    params = {name: _numpy(p, dtype) for name, p in rnn.named_parameters()}
    H, n_layers = rnn.hidden_size, rnn.num_layers
    layers, features = [], rnn.input_size
    for k in range(n_layers):
        last = k == n_layers - 1
        flags = dict(units=H, use_bias=rnn.bias, dtype=dtype,
                     return_sequences=return_sequences or not last,
                     return_state=return_state and last,
                     go_backwards=go_backwards and k == 0, **cell)
        weights = []
        for suffix in (("", "_reverse") if rnn.bidirectional else ("",)):
            names = [f"{w}_l{k}{suffix}" for w in ("weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh")]
            weights += fastrnn_weights(kind, [params.get(n) for n in names], dtype, rnn.bias)
        layer = cls(**flags)
        if rnn.bidirectional:
            layer = L.Bidirectional(layer, merge_mode=merge_mode if last else "concat")
        layer.build((None, None, features))
        layer.set_weights(weights)
        layers.append(layer)
        features = H * (2 if rnn.bidirectional else 1)
        if not last and rnn.dropout > 0:
            layers.append(L.Dropout(rnn.dropout, dtype=dtype))
    return layers


def _linear(module, dtype, activation=None):
    from ..layers import Dense
    layer = Dense(module.out_features, activation=activation, use_bias=module.bias is not None,
                  dtype=dtype)
    layer.build((None, module.in_features))
    layer.set_weights([_numpy(module.weight, dtype).T]
                      + ([_numpy(module.bias, dtype)] if module.bias is not None else []))
    return layer


def _embedding(module, dtype):
    from ..layers import Embedding
    if module.max_norm is not None:
        raise NotImplementedError(f"Module {module!r}: max_norm renormalises rows at lookup, "
                                  "which fastrnn's Embedding does not do; pass max_norm=None.")
    layer = Embedding(module.num_embeddings, module.embedding_dim, dtype=dtype)
    layer.build()
    layer.set_weights([_numpy(module.weight, dtype)])
    return layer


def _activation_name(module):
    """Keras name of a torch activation module, or None if it is not one."""
    name = type(module).__name__
    if name in _TORCH_ACTS:
        return _TORCH_ACTS[name]
    if name == "Softmax":
        if module.dim not in (-1,):
            raise NotImplementedError(f"Module {module!r}: fastrnn's softmax runs over the "
                                      f"last axis; use nn.Softmax(dim=-1), got dim={module.dim}.")
        return "softmax"
    return None


def _sequence_layers(modules, dtype):
    """fastrnn layers for the modules of an nn.Sequential, in order."""
    from ..layers import Activation, Dropout, Flatten
    from ._torch_modules import FastrnnSequential, KerasRNN
    nn = _torch().nn
    layers, i = [], 0
    while i < len(modules):
        m = modules[i]
        if isinstance(m, nn.Linear):
            act = _activation_name(modules[i + 1]) if i + 1 < len(modules) else None
            layers.append(_linear(m, dtype, act))
            i += 2 if act else 1
            continue
        act = _activation_name(m)
        if act:
            layers.append(Activation(act, dtype=dtype))
        elif torch_kind(m):
            layers += _rnn_layers(m, dtype)  # torch's (output, h_n): output feeds on
        elif isinstance(m, KerasRNN):
            layers += _keras_rnn_layers(m, dtype)
        elif isinstance(m, nn.Embedding):
            layers.append(_embedding(m, dtype))
        elif isinstance(m, nn.Dropout):
            if m.p > 0:
                layers.append(Dropout(m.p, dtype=dtype))
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise NotImplementedError(f"Module {m!r}: fastrnn's Flatten keeps only the "
                                          "batch axis (start_dim=1, end_dim=-1).")
            layers.append(Flatten(dtype=dtype))
        elif isinstance(m, (nn.Sequential, FastrnnSequential)):
            inner = m.steps if isinstance(m, FastrnnSequential) else m
            layers += _sequence_layers(list(inner), dtype)
        elif not isinstance(m, nn.Identity):
            raise NotImplementedError(
                f"from_torch cannot convert module {i} ({type(m).__name__}) of the sequence; "
                "it converts nn.RNN, nn.LSTM, nn.GRU, nn.Linear, nn.Embedding, nn.Dropout, "
                "nn.Flatten, nn.Identity, nn.Tanh/ReLU/Sigmoid/Softmax(dim=-1) and nested "
                "nn.Sequential.")
        i += 1
    return layers


def _keras_rnn_layers(module, dtype):
    return _rnn_layers(module.rnn, dtype, module.go_backwards, module.return_sequences,
                       module.return_state, module.merge_mode)


def _input_shape(layers):
    from ..layers import Dense, Embedding
    for layer in layers:
        if isinstance(layer, Embedding):
            return (None, None)
        if _is_rnn(layer):
            return (None, None, layer.weights[0].shape[0])
        if isinstance(layer, Dense):
            later = layers[layers.index(layer):]
            rank3 = any(_is_rnn(x) for x in later)
            return (None, None, layer.kernel.shape[0]) if rank3 else (None,
                                                                       layer.kernel.shape[0])
    return None


def from_torch(module, dtype=None, input_shape=None):
    """Convert a PyTorch module to the equivalent fastrnn layer or model.

    Args:
        module: one of
            - ``nn.RNN`` (any ``num_layers``; ``bidirectional``; ``nonlinearity`` "tanh" or
              "relu"; ``bias`` True/False; any ``batch_first``; ``dropout``) -> a
              ``Sequential`` of ``SimpleRNN`` (or ``Bidirectional(SimpleRNN)``, merge
              "concat") layers with ``return_sequences=True``; ``nn.LSTM`` (``proj_size``
              0) -> ``LSTM`` layers and ``nn.GRU`` -> ``GRU(reset_after=True)`` layers
              likewise (gate blocks reordered, see the module docstring), and ``Dropout(dropout)``
              between them when dropout > 0 (identity at inference, as PyTorch's). The
              model returns torch's ``output`` (batch, timesteps, H * directions); torch's
              ``h_n`` is ``output[:, -1]`` (forward) and ``output[:, 0]`` (backward half).
              fastrnn is batch-major: for ``batch_first=False`` feed ``x.transpose(0, 1)``
              and get the output batch-major.
            - ``nn.Linear`` -> ``Dense``; ``nn.Embedding`` -> ``Embedding`` (``max_norm``
              must be None; ``padding_idx`` only affects training in PyTorch and is dropped).
            - ``nn.Sequential`` of those, ``nn.Dropout``, ``nn.Flatten()``, ``nn.Identity``,
              ``nn.Tanh``/``ReLU``/``Sigmoid``/``Softmax(dim=-1)`` -> ``Sequential``. A
              ``Linear`` followed by an activation becomes ``Dense(activation=...)``. An
              ``nn.RNN`` inside returns a tuple in PyTorch (so a plain ``nn.Sequential``
              cannot even run it); fastrnn maps it to its ``output`` (element 0) feeding the
              next layer, as a ``lambda t: t[0]`` after it would.
            - the modules ``to_torch`` returns (``KerasRNN``, ``FastrnnSequential``).
        dtype: "float32" or "float64"; default the module's parameter dtype.
        input_shape: the model's batch input shape, e.g. ``(None, None, 8)``; by default
            (None, None, features) before a recurrent layer, (None, None) before an
            Embedding, (None, in_features) for Dense-only models.

    Returns:
        A fastrnn layer (``Dense``, ``Embedding``) or a built ``Sequential`` whose
        ``predict`` agrees with the module's output to float rounding.

    Raises:
        TypeError for a non-module; NotImplementedError for modules or options fastrnn
        cannot represent (``nn.LSTM`` with ``proj_size``, Softmax over another axis, ...);
        ImportError without PyTorch.
    """
    torch = _torch()
    from ..models import Sequential
    from ._torch_modules import FastrnnSequential, KerasRNN
    nn = torch.nn
    if not isinstance(module, nn.Module):
        raise TypeError(f"Argument `module` of from_torch must be a torch.nn.Module, got "
                        f"{type(module).__name__}.")
    dtype = _module_dtype(module, dtype)
    if isinstance(module, nn.Linear):
        return _linear(module, dtype)
    if isinstance(module, nn.Embedding):
        return _embedding(module, dtype)
    if torch_kind(module):
        layers = _rnn_layers(module, dtype)
    elif isinstance(module, KerasRNN):
        layers = _keras_rnn_layers(module, dtype)
    elif isinstance(module, (nn.Sequential, FastrnnSequential)):
        layers = _sequence_layers(list(module.steps if isinstance(module, FastrnnSequential)
                                       else module), dtype)
    else:
        raise NotImplementedError(
            f"from_torch cannot convert {type(module).__name__}; it converts nn.RNN, "
            "nn.LSTM, nn.GRU, nn.Linear, nn.Embedding and nn.Sequential of those (see its "
            "docstring).")
    if not layers:
        raise ValueError(f"Module {type(module).__name__} has no layer to convert.")
    model = Sequential(layers)
    shape = input_shape if input_shape is not None else _input_shape(layers)
    if shape is None:
        raise ValueError("from_torch cannot tell the model's input shape; pass "
                         "`input_shape`, e.g. (None, None, features).")
    model.build(shape)
    return model


# ---------------------------------------------------------------------- fastrnn -> torch
def _torch_dtype(layer):
    return getattr(_torch(), layer.dtype)


def _rnn_directions(layer):
    """[(weight_ih, weight_hh, bias_ih, bias_hh)...] (NumPy, torch layout) per torch
    direction of one fastrnn recurrent layer, and its torch-visible settings (kind, units,
    activations, use_bias, reset_after)."""
    from ..layers import Bidirectional
    subs = [layer.forward_layer, layer.backward_layer] if isinstance(layer, Bidirectional) \
        else [layer]
    for sub in subs:
        check_convertible(layer.name, sub)
        if settings(sub) != settings(subs[0]):
            raise NotImplementedError(
                f"Layer `{layer.name}`: a bidirectional torch module needs both directions "
                "of one kind with the same units, activations and use_bias.")
    if not layer.built:
        raise ValueError(f"Layer `{layer.name}` is not built; build it (or call it once) "
                         "before to_torch so it has weights.")
    return [torch_weights(s) for s in subs], settings(subs[0])


def _is_rnn(layer):
    from ..layers import GRU, LSTM, Bidirectional, SimpleRNN
    return isinstance(layer, (SimpleRNN, LSTM, GRU, Bidirectional))


def _go_backwards(layer):
    return getattr(layer, "forward_layer", layer).go_backwards


def _rnn_module(group, dropout=0.0):
    """A KerasRNN over one nn.RNN / nn.LSTM / nn.GRU holding a stack of compatible
    fastrnn recurrent layers."""
    torch = _torch()
    from ..layers import Bidirectional
    from ._torch_modules import KerasRNN
    first, last = group[0], group[-1]
    bidir = isinstance(first, Bidirectional)
    dirs, (kind, H, act, _, use_bias, _) = _rnn_directions(first)
    extra = dict(nonlinearity=act) if kind == "RNN" else {}
    rnn = getattr(torch.nn, kind)(dirs[0][0].shape[1], H, num_layers=len(group),
                                  bias=use_bias, batch_first=True, dropout=dropout,
                                  bidirectional=bidir, **extra)
    rnn = rnn.to(_torch_dtype(first))
    params = dict(rnn.named_parameters())
    with torch.no_grad():
        for k, layer in enumerate(group):
            dirs, _ = _rnn_directions(layer)
            for suffix, arrays in zip(("", "_reverse"), dirs):
                for name, array in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                       arrays):
                    if array is not None:
                        params[f"{name}_l{k}{suffix}"].copy_(
                            torch.from_numpy(np.ascontiguousarray(array)))
    return KerasRNN(rnn, go_backwards=_go_backwards(first),
                    return_sequences=last.return_sequences, return_state=last.return_state,
                    merge_mode=getattr(last, "merge_mode", None))


def _stacks(group_head, nxt):
    """Whether fastrnn RNN layer ``nxt`` can join the torch module ending with
    ``group_head``."""
    from ..layers import Bidirectional
    same_kind = isinstance(group_head, Bidirectional) == isinstance(nxt, Bidirectional)
    if not (same_kind and group_head.return_sequences and not group_head.return_state
            and getattr(group_head, "merge_mode", "concat") == "concat"
            and not _go_backwards(nxt) and nxt.dtype == group_head.dtype):
        return False
    try:
        (_, a), (_, b) = _rnn_directions(group_head), _rnn_directions(nxt)
    except NotImplementedError:
        return False
    return a == b


def _activation_module(name):
    nn = _torch().nn
    modules = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
               "softmax": lambda: nn.Softmax(dim=-1), "linear": nn.Identity}
    if name not in modules:
        raise NotImplementedError(f"to_torch: activation {name!r} has no PyTorch module in "
                                  f"fastrnn (converted: {sorted(modules)}).")
    return modules[name]()


def _layer_modules(layer):
    """The torch modules for one non-recurrent fastrnn layer."""
    torch = _torch()
    nn = torch.nn
    from ..layers import Activation, Dense, Dropout, Embedding, Flatten
    if isinstance(layer, (Dense, Embedding)) and not layer.built:
        raise ValueError(f"Layer `{layer.name}` is not built; build it (or call it once) "
                         "before to_torch so it has weights.")
    if isinstance(layer, Dense):
        lin = nn.Linear(layer.kernel.shape[0], layer.units, bias=layer.use_bias)
        lin = lin.to(_torch_dtype(layer))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.kernel.T.copy()))
            if layer.use_bias:
                lin.bias.copy_(torch.from_numpy(layer.bias.copy()))
        return [lin] + ([] if layer.activation == "linear"
                        else [_activation_module(layer.activation)])
    if isinstance(layer, Embedding):
        emb = nn.Embedding(layer.input_dim, layer.output_dim).to(_torch_dtype(layer))
        with torch.no_grad():
            emb.weight.copy_(torch.from_numpy(layer.embeddings.copy()))
        return [emb]
    if isinstance(layer, Dropout):
        return [nn.Dropout(layer.rate)]
    if isinstance(layer, Activation):
        return [_activation_module(layer.activation)]
    if isinstance(layer, Flatten):
        return [nn.Flatten(1)]
    raise NotImplementedError(f"to_torch cannot convert layer `{layer.name}` "
                              f"({type(layer).__name__}); it converts SimpleRNN, LSTM, "
                              "GRU, Bidirectional, Dense, Embedding, Dropout, Activation, Flatten.")


def _sequential_steps(layers):
    from ..layers import Dropout
    steps, i = [], 0
    while i < len(layers):
        layer = layers[i]
        if not _is_rnn(layer):
            steps += _layer_modules(layer)
            i += 1
            continue
        group, rate, j = [layer], None, i + 1
        while j < len(layers):
            gap = layers[j]
            step = 1
            if isinstance(gap, Dropout) and j + 1 < len(layers):
                gap_rate, gap, step = gap.rate, layers[j + 1], 2
            else:
                gap_rate = 0.0
            if not _is_rnn(gap) or not _stacks(group[-1], gap) or (
                    rate is not None and gap_rate != rate):
                break
            group.append(gap)
            rate = gap_rate
            j += step
        steps.append(_rnn_module(group, rate or 0.0))
        i = j
    return steps


def to_torch(layer_or_model):
    """Convert a fastrnn layer or Sequential model to an equivalent PyTorch module.

    - ``SimpleRNN`` (tanh or relu), ``LSTM``, ``GRU`` (reset_after=True; both with
      activation "tanh" and recurrent_activation "sigmoid", the only cells PyTorch has),
      alone or in a ``Bidirectional``: a plain ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``
      (batch_first=True) when the layer's output is exactly torch's ``output``
      (return_sequences=True, no go_backwards, no return_state, merge "concat"; note torch
      returns the tuple ``(output, h_n)``); otherwise a :class:`KerasRNN` wrapper whose
      ``.rnn`` is that module and which returns what the fastrnn layer returns.
    - ``Dense`` -> ``nn.Linear`` (followed by the activation module in an
      ``nn.Sequential`` when not linear); ``Embedding`` -> ``nn.Embedding``; ``Dropout``,
      ``Activation``, ``Flatten`` -> ``nn.Dropout``, the activation, ``nn.Flatten(1)``.
    - ``Sequential``: a :class:`FastrnnSequential` returning what ``model.predict``
      returns. Consecutive recurrent layers of one class with the same units,
      activations, use_bias and direction kind (all concat-merged, inner ones returning
      sequences, only the first going backwards), with Dropout layers of one rate between
      every pair or none, become one ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU(num_layers=k,
      dropout=rate)``; the others get a module each.

    The module has the fastrnn weights' dtype (float32 or float64) and is in training
    mode as a fresh torch module is; call ``.eval()`` to disable Dropout.

    Raises:
        NotImplementedError for what torch cannot represent (SimpleRNN with sigmoid or
        linear activations, LSTM/GRU with other activations, GRU with reset_after=False,
        stateful layers, directions with different settings) or other layers; ValueError
        for layers that are not built yet.
    """
    from ..layers import Layer
    from ..models import Sequential
    nn = _torch().nn
    if isinstance(layer_or_model, Sequential):
        return _fastrnn_sequential(layer_or_model.layers)
    if hasattr(layer_or_model, "_nodes"):
        raise NotImplementedError(
            f"to_torch converts layers and Sequential models; `{layer_or_model.name}` is a "
            "functional model. Convert its layers one by one, or export it with to_onnx.")
    if not isinstance(layer_or_model, Layer):
        raise TypeError("Argument `layer_or_model` of to_torch must be a fastrnn layer or "
                        f"Sequential model, got {type(layer_or_model).__name__}.")
    if _is_rnn(layer_or_model):
        module = _rnn_module([layer_or_model])
        plain = (module.return_sequences and not module.go_backwards
                 and not module.return_state
                 and (module.merge_mode == "concat" or not module.rnn.bidirectional))
        return module.rnn if plain else module
    modules = _layer_modules(layer_or_model)
    return modules[0] if len(modules) == 1 else nn.Sequential(*modules)


def _fastrnn_sequential(layers):
    from ._torch_modules import FastrnnSequential
    return FastrnnSequential(_sequential_steps(list(layers)))
