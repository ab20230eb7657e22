"""Rebuild a Keras 3 parity fixture's model with fastrnn (no TensorFlow needed).

The fixtures in ``tests/fixtures/`` are written by ``tools/make_keras_fixtures.py``
and, for LSTM/GRU, ``tools/make_keras_rnn_fixtures.py`` (run by hand with Keras 3).
Each ``.npz`` holds a JSON ``spec``::

    {"kind": "layer" | "sequential", "dtype": "float32" | "float64",
     "layers": [{"class": "SimpleRNN", "config": {"units": 3, ...}},
                {"class": "Bidirectional", "config": {"merge_mode": "concat"},
                 "layer": {"class": "SimpleRNN", "config": {...}}},
                {"class": "Dense", "config": {"units": 2, "activation": None}},
                {"class": "Embedding", "config": {"input_dim": 50, "output_dim": 8}},
                {"class": "Dropout", "config": {"rate": 0.5}},
                {"class": "Activation", "config": {"activation": "softmax"}},
                {"class": "Flatten", "config": {}},
                {"class": "LSTM" | "GRU", "config": {...}}, {"class": "Masking", ...},
                {"class": "TimeDistributed", "config": {}, "layer": {...}}],
     "input_dtype": "int32",          # optional: x holds integer indices (batch, timesteps)
                                      # for a first Embedding layer; else x is float
                                      # (batch, timesteps, features) of ``dtype``
     "call": {"initial_state": bool, "mask": bool},
     "calls": 2,                      # optional: stateful, called on x then x2
     "stateful": true,                # optional, sequential: fixed batch size
     "compile": {...}, "train": {...}} # training fixtures only

Configs hold only the arguments that differ from Keras's defaults, under Keras's
names, so they are passed to fastrnn's constructors unchanged.
"""

import json
import pathlib

import numpy as np

from tolerances import KERAS_ATOL as ATOL  # noqa: E402,F401  (the tests import them here)
from tolerances import KERAS_RTOL as RTOL  # noqa: E402,F401

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"


def fixture_paths(prefix):
    """Sorted fixture files ``tests/fixtures/<prefix>*.npz``; fails loudly when none."""
    paths = sorted(FIXTURES.glob(f"{prefix}*.npz"))
    assert paths, f"no fixtures {FIXTURES}/{prefix}*.npz: run tools/make_keras_fixtures.py"
    return paths


def load(path):
    """Return ``(spec, arrays)``: the parsed spec and a dict of the npz's arrays."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    spec = json.loads(str(arrays.pop("spec")))
    return spec, arrays


def numbered(arrays, prefix):
    """``[arrays[prefix + "0"], arrays[prefix + "1"], ...]`` up to the first missing index."""
    out = []
    while f"{prefix}{len(out)}" in arrays:
        out.append(arrays[f"{prefix}{len(out)}"])
    return out


def build_layer(layer_spec, dtype):
    """A fastrnn layer from one entry of ``spec["layers"]``."""
    from fastrnn.layers import (GRU, LSTM, Activation, Bidirectional, Dense, Dropout,
                                Embedding, Flatten, Masking, SimpleRNN, TimeDistributed)

    cls = layer_spec["class"]
    config = dict(layer_spec.get("config", {}))
    if cls == "SimpleRNN":
        return SimpleRNN(dtype=dtype, **config)
    if cls == "LSTM":
        return LSTM(dtype=dtype, **config)
    if cls == "GRU":
        return GRU(dtype=dtype, **config)
    if cls == "Masking":  # config: mask_value
        return Masking(dtype=dtype, **config)
    if cls == "TimeDistributed":
        return TimeDistributed(build_layer(layer_spec["layer"], dtype), **config)
    if cls == "Dense":
        return Dense(dtype=dtype, **config)
    if cls == "Bidirectional":
        return Bidirectional(build_layer(layer_spec["layer"], dtype), **config)
    if cls == "Embedding":  # config: input_dim, output_dim
        return Embedding(dtype=dtype, **config)
    if cls == "Dropout":  # config: rate (the identity at inference)
        return Dropout(dtype=dtype, **config)
    if cls == "Activation":  # config: activation
        return Activation(dtype=dtype, **config)
    if cls == "Flatten":
        return Flatten(dtype=dtype, **config)
    raise ValueError(f"unknown layer class in fixture spec: {cls!r}")


def build(spec, x_shape):
    """The fastrnn layer or Sequential model described by ``spec``, built, weights unset.

    Args:
        spec: the fixture's spec dict.
        x_shape: shape of the fixture's ``x``, (batch, timesteps, features), or
            (batch, timesteps) for integer inputs (``spec["input_dtype"]``).
    """
    dtype = spec["dtype"]
    stateful = spec.get("stateful", False) or any(
        ls.get("config", {}).get("stateful", False) for ls in spec["layers"])
    input_shape = tuple(x_shape) if stateful else (None,) + tuple(x_shape[1:])
    if spec["kind"] == "layer":
        (layer_spec,) = spec["layers"]
        layer = build_layer(layer_spec, dtype)
        layer.build(input_shape)
        return layer
    if spec["kind"] == "sequential":
        from fastrnn.models import Sequential

        model = Sequential()
        for layer_spec in spec["layers"]:
            model.add(build_layer(layer_spec, dtype))
        # A first layer given ``input_shape`` (Keras 2 spelling) builds the model itself.
        if "input_shape" not in spec["layers"][0].get("config", {}):
            model.build(input_shape)
        return model
    raise ValueError(f"unknown spec kind: {spec['kind']!r}")


def build_optimizer(opt_spec):
    """A fastrnn optimizer from ``{"class": "Adam", "config": {...}}``."""
    import fastrnn.optimizers

    cls = getattr(fastrnn.optimizers, opt_spec["class"])
    return cls(**opt_spec.get("config", {}))


def as_list(result):
    """A call's result as a list of arrays (one element when it is a single array)."""
    if isinstance(result, (list, tuple)):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]
