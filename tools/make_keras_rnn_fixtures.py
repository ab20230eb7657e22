"""Generate Keras 3 LSTM / GRU parity fixtures (issue 13) for fastrnn's tests.

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_rnn_fixtures.py [--out tests/fixtures] [--only PREFIX]

It writes ``tests/fixtures/lstm_*.npz`` and ``tests/fixtures/gru_*.npz`` (made with
Keras 3.15.1, TensorFlow 2.21.0 backend, CPU). ``--only PREFIX`` (repeatable)
rewrites just the cases whose name starts with PREFIX; every case keeps its seed
(the seed is the case's index in the list, so append new cases at the end).

The spec
========
Every file holds ``spec`` (a JSON str array; ``str(npz["spec"])``) in the style of
``tools/make_keras_fixtures.py`` / ``tests/keras_spec.py``::

    {"kind": "layer" | "sequential" | "init", "dtype": "float32" | "float64",
     "layers": [LAYER, ...], "call": {"initial_state": bool, "mask": bool},
     "calls": 2,            # optional: stateful, called on x then x2
     "stateful": true,      # optional (sequential): fixed batch size = x.shape[0]
     "n_states": 2 | 1,     # states per direction of the case's RNN (LSTM 2, GRU 1)
     "weights": [{"layer": "lstm", "path": "lstm/lstm_cell/kernel", "shape": [4, 12]}, ...],
     "compile": {...}, "train": {...}, "returns": [...]}   # training cases only

``LAYER`` is ``{"class": C, "config": {...}}`` with C one of "LSTM", "GRU",
"SimpleRNN", "Dense", "Masking", or a wrapper ``{"class": "Bidirectional" |
"TimeDistributed", "config": {...}, "layer": LAYER}``. Configs hold only the
arguments that differ from Keras's defaults, under Keras 3's names (e.g.
``{"units": 3, "recurrent_activation": "hard_sigmoid", "reset_after": false}``),
so they go to the constructors unchanged. Layer names are Keras's automatic
ones in a fresh session order and are recorded only in ``spec["weights"]``.

``spec["weights"]`` lists, in Keras's ``get_weights()`` order (the order of the
``weights_<i>`` arrays), the owning layer's name, the variable path and shape.
Per layer: LSTM ``kernel (D, 4U), recurrent_kernel (U, 4U), bias (4U,)``, gate order
i, f, c, o; GRU ``kernel (D, 3U), recurrent_kernel (U, 3U), bias (2, 3U)`` with
``reset_after=True`` (row 0 input bias, row 1 recurrent bias) or ``(3U,)`` with
``reset_after=False``, gate order z, r, h; no bias entry with ``use_bias=False``;
Bidirectional: forward layer's weights then backward layer's; TimeDistributed:
the inner layer's. Weights are seeded uniform(-0.7, 0.7), not Keras's initialisers.

Arrays of forward cases (``lstm_fwd_*``, ``gru_fwd_*``)
------------------------------------------------------
- ``x`` (batch, timesteps, features) in ``dtype``, uniform(-1, 1).
- ``mask`` (batch, timesteps) bool, when ``spec["call"]["mask"]`` (passed as ``mask=``).
- ``initial_state_0``, ``initial_state_1``, ... when ``spec["call"]["initial_state"]``:
  the list passed as ``initial_state=``, in Keras order: LSTM ``[h, c]``, GRU ``[h]``;
  Bidirectional: forward states then backward states (LSTM ``[h_f, c_f, h_b, c_b]``).
- ``weights_<i>`` as above.
- ``out_0``, ``out_1``, ...: the call's outputs, flattened in Keras order:
  plain output; with ``return_state`` LSTM ``[output, h, c]``, GRU ``[output, h]``;
  Bidirectional with ``return_state`` ``[merged, fwd states..., bwd states...]``,
  and with ``merge_mode=None`` ``[fwd_out, bwd_out, fwd states..., bwd states...]``.
- stateful cases (``spec["calls"] == 2``): ``x2`` and ``out2_<i>`` for the second call
  (state carried over from the first), then ``out3_<i>``: a third call on ``x`` after
  ``reset_states()`` (equals ``out_<i>``; checks that reset zeroes the states).
- ``lstm_fwd_seq_masking_*`` (sequential with a ``Masking(0.0)`` first layer): ``x``
  has all features zero at the masked steps; ``masked_steps`` (batch, timesteps) bool
  says which (True = zeroed, i.e. masked). No ``mask`` key.

Initialiser case ``lstm_init_bias`` (``kind: "init"``)
----------------------------------------------------
``bias_ufb_true`` / ``bias_ufb_false``: the bias of ``LSTM(3)`` built on 4 features
with the default ``bias_initializer="zeros"`` and ``unit_forget_bias`` True / False
(True: ones in the forget block [U:2U]); ``gru_bias_shape_ra_true`` /
``gru_bias_shape_ra_false``: the GRU(3) bias shapes (2, 9) / (9,).

Arrays of training cases (``lstm_train_*``, ``gru_train_*``), float32 only
------------------------------------------------------------------------
``spec["kind"] == "sequential"``; ``spec["compile"] = {"optimizer": {"class": "Adam",
"config": {...}}, "loss": "mse", "metrics": [...]}``; ``spec["train"]`` is
``{"method": "train_on_batch", "steps": 3}`` or ``{"method": "fit", "batch_size": 8,
"epochs": 2, "shuffle": false, "validation_split": ...}``.

- ``x``, ``y`` (float32, y (batch, 1) or (batch, timesteps, 1) for per-step outputs);
  ``weights_<i>`` the starting weights.
- train_on_batch: ``returns`` (steps, 1 + n_metrics) float64, what each
  ``train_on_batch`` returned (``[loss, metrics...]``; names in ``spec["returns"]``;
  the loss of a step is computed on the weights before that step's update);
  ``step<s>_<i>``: weight i after step s (s = 0, 1, 2).
- fit: ``hist_<key>`` float64, one value per epoch, keys listed in
  ``spec["history_keys"]``.
- ``after_<i>``: the weights after training.
- ``*_train_sgd_regularizers``: kernel "l1", recurrent/bias/activity "l2" (Keras strings,
  factor 0.01); the returned loss is mse + weight penalties + 0.01 * sum(output**2) / batch
  (Keras divides an activity penalty by the batch size).

Keras 3.15.1 behaviours these files pin down
============================================
- Masks, plain layer: a masked step keeps the states and repeats the previous *output*;
  before the first unmasked step that output is zeros, even with ``initial_state`` (the
  returned states are then ``initial_state``). With ``go_backwards`` and
  ``return_sequences`` the sequence comes out in processing (reversed) order.
- Masks, Bidirectional with ``return_sequences``: Keras forces
  ``zero_output_for_mask=True`` on both inner layers, so masked steps output zeros in
  both directions (not the repeated output of a plain layer); the backward sequence is
  reversed back to input order before merging.
- ``hard_sigmoid`` is Keras 3's ``relu6(x + 3) / 6`` = clip(x / 6 + 0.5, 0, 1) (Keras 2:
  clip(0.2 x + 0.5)).
- Keras 3's ``Sequential`` has no ``reset_states()``; the layers have it.
- ``Bidirectional(LSTM(go_backwards=True))`` raises ValueError (both copies go backwards).
- LSTM and GRU apply ``activity_regularizer``; SimpleRNN accepts it and ignores it.

Every forward, stateful and sequential case here was re-computed with an independent
NumPy LSTM/GRU (float32 within 3e-7, float64 within 1e-12), and the first SGD step of the
``*_train_sgd*`` cases against central finite differences (3e-8).
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SEED = 20251113

# Masked steps at the start, in the middle, at the end; row 3 unmasked.
MASK_6 = [
    [0, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 1, 1],
    [1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1],
    [0, 0, 1, 0, 1, 0],
]
# Row 1 masked at every step.
MASK_ALL_ROW = [[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]]


# --------------------------------------------------------------------------
# spec helpers
# --------------------------------------------------------------------------
def lstm(units=3, **config):
    return {"class": "LSTM", "config": dict({"units": units}, **config)}


def gru(units=3, **config):
    return {"class": "GRU", "config": dict({"units": units}, **config)}


def bidir(inner, merge_mode="concat"):
    return {"class": "Bidirectional", "config": {"merge_mode": merge_mode}, "layer": inner}


def timedist(inner):
    return {"class": "TimeDistributed", "config": {}, "layer": inner}


def dense(units, activation=None, **config):
    return {"class": "Dense", "config": dict({"units": units, "activation": activation}, **config)}


def masking(value=0.0):
    return {"class": "Masking", "config": {"mask_value": value}}


def opt(cls, **config):
    return {"class": cls, "config": config}


def layer_case(layer, dtype="float32", **extra):
    return dict({"kind": "layer", "dtype": dtype, "layers": [layer]}, **extra)


def seq_case(layers, dtype="float32", **extra):
    return dict({"kind": "sequential", "dtype": dtype, "layers": layers}, **extra)


def _rnn_of(layer_spec):
    while "layer" in layer_spec:
        layer_spec = layer_spec["layer"]
    return layer_spec


def _n_states(layer_spec):
    return 2 if _rnn_of(layer_spec)["class"] == "LSTM" else 1


# --------------------------------------------------------------------------
# spec -> Keras
# --------------------------------------------------------------------------
def keras_layer(keras, layer_spec):
    cls = layer_spec["class"]
    cfg = dict(layer_spec.get("config", {}))
    if cls in ("Bidirectional", "TimeDistributed"):
        return getattr(keras.layers, cls)(keras_layer(keras, layer_spec["layer"]), **cfg)
    if cls in ("LSTM", "GRU", "SimpleRNN", "Dense", "Masking"):
        return getattr(keras.layers, cls)(**cfg)
    raise ValueError(f"unknown layer class {cls!r}")


def _random_weights(rng, model, dtype):
    return [rng.uniform(-0.7, 0.7, w.shape).astype(dtype) for w in model.get_weights()]


def _weight_layout(model):
    layers = [model] if not hasattr(model, "layers") else model.layers
    out = []
    for layer in layers:
        for v in layer.weights:
            out.append({"layer": layer.name, "path": v.path, "shape": list(v.shape)})
    assert len(out) == len(model.get_weights())
    return out


def _flat(result):
    if isinstance(result, (list, tuple)):
        out = []
        for r in result:
            out.extend(_flat(r))
        return out
    return [np.asarray(result)]


# --------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------
def run_forward(keras, name, spec, batch, timesteps, features, mask=None,
                initial_state=False, zero_steps=None, seed=0):
    rng = np.random.default_rng([SEED, seed])
    dtype = spec["dtype"]
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        x = rng.uniform(-1, 1, (batch, timesteps, features)).astype(dtype)
        arrays = {"x": x}
        call = spec.setdefault("call", {})
        call["initial_state"] = bool(initial_state)
        call["mask"] = mask is not None
        kwargs = {}
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            assert mask.shape == (batch, timesteps), (name, mask.shape)
            arrays["mask"] = mask
            kwargs["mask"] = mask
        if zero_steps is not None:
            zeroed = ~np.asarray(zero_steps, dtype=bool)
            x[zeroed] = 0.0
            arrays["masked_steps"] = zeroed
        spec["n_states"] = _n_states(spec["layers"][0] if spec["kind"] == "layer"
                                     else next(ls for ls in spec["layers"]
                                               if ls["class"] != "Masking"))
        if spec["kind"] == "layer":
            (layer_spec,) = spec["layers"]
            model = keras_layer(keras, layer_spec)
            model.build((batch, timesteps, features))
            if initial_state:
                units = _rnn_of(layer_spec)["config"]["units"]
                n = spec["n_states"] * (2 if layer_spec["class"] == "Bidirectional" else 1)
                states = [rng.uniform(-1, 1, (batch, units)).astype(dtype) for _ in range(n)]
                for i, s in enumerate(states):
                    arrays[f"initial_state_{i}"] = s
                kwargs["initial_state"] = states
        else:
            assert not kwargs, "sequential cases take neither mask nor initial_state"
            if spec.get("stateful"):
                inp = keras.Input(batch_shape=(batch, timesteps, features))
            else:
                inp = keras.Input((timesteps, features))
            model = keras.Sequential([inp] + [keras_layer(keras, ls) for ls in spec["layers"]])
        spec["weights"] = _weight_layout(model)
        weights = _random_weights(rng, model, dtype)
        model.set_weights(weights)
        for i, w in enumerate(weights):
            arrays[f"weights_{i}"] = w
        outs = _flat(model(x, **kwargs))
        for i, o in enumerate(outs):
            assert o.dtype == np.dtype(dtype), (name, o.dtype)
            arrays[f"out_{i}"] = o
        if spec.get("calls", 1) == 2:
            x2 = rng.uniform(-1, 1, (batch, timesteps, features)).astype(dtype)
            arrays["x2"] = x2
            for i, o in enumerate(_flat(model(x2))):
                arrays[f"out2_{i}"] = o
            # Keras 3.15.1's Sequential has no reset_states(); reset each layer.
            for layer in getattr(model, "layers", [model]):
                if hasattr(layer, "reset_states"):
                    layer.reset_states()
            for i, o in enumerate(_flat(model(x))):
                arrays[f"out3_{i}"] = o
                np.testing.assert_allclose(o, outs[i], rtol=1e-6, atol=1e-6)
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
    return arrays


def forward_cases():
    """Yield (name, spec, kwargs for run_forward)."""
    B, T, D = 2, 5, 4
    shape = dict(batch=B, timesteps=T, features=D)
    mshape = dict(batch=5, timesteps=6, features=3)
    cells = [("lstm", lstm, {}), ("gru", gru, {}), ("gru_ra_false", gru, {"reset_after": False})]
    for tag, cell, base in cells:
        def c(units=3, cell=cell, base=base, **cfg):
            return cell(units, **dict(base, **cfg))
        for act in ["relu", "sigmoid", "linear"]:
            yield f"{tag}_fwd_act_{act}", layer_case(
                c(activation=act, return_sequences=True)), shape
        for ract in ["hard_sigmoid", "tanh", "relu"]:
            yield f"{tag}_fwd_ract_{ract}", layer_case(
                c(recurrent_activation=ract, return_sequences=True)), shape
        yield f"{tag}_fwd_last", layer_case(c()), shape
        yield f"{tag}_fwd_seq", layer_case(c(return_sequences=True)), shape
        yield f"{tag}_fwd_nobias_seq", layer_case(c(use_bias=False, return_sequences=True)), shape
        yield f"{tag}_fwd_state_seq", layer_case(c(return_sequences=True, return_state=True)), shape
        yield f"{tag}_fwd_state_last", layer_case(c(return_state=True)), shape
        yield f"{tag}_fwd_one_unit_one_step", layer_case(
            c(1, return_sequences=True, return_state=True)), dict(batch=1, timesteps=1, features=2)
        yield f"{tag}_fwd_backwards_seq", layer_case(
            c(go_backwards=True, return_sequences=True, return_state=True)), shape
        yield f"{tag}_fwd_backwards_last", layer_case(c(go_backwards=True)), shape
        yield f"{tag}_fwd_initial_state_seq", layer_case(
            c(return_sequences=True, return_state=True)), dict(shape, initial_state=True)
        yield f"{tag}_fwd_initial_state_backwards", layer_case(
            c(go_backwards=True, return_sequences=True, return_state=True)), \
            dict(shape, initial_state=True)
        yield f"{tag}_fwd_mask_seq", layer_case(c(return_sequences=True, return_state=True)), \
            dict(mshape, mask=MASK_6)
        yield f"{tag}_fwd_mask_seq_h0", layer_case(c(return_sequences=True, return_state=True)), \
            dict(mshape, mask=MASK_6, initial_state=True)
        yield f"{tag}_fwd_mask_last_h0", layer_case(c(return_state=True)), \
            dict(mshape, mask=MASK_6, initial_state=True)
        yield f"{tag}_fwd_mask_backwards_h0", layer_case(
            c(go_backwards=True, return_sequences=True, return_state=True)), \
            dict(mshape, mask=MASK_6, initial_state=True)
        yield f"{tag}_fwd_mask_all_masked_row", layer_case(
            c(2, return_sequences=True, return_state=True)), \
            dict(batch=3, timesteps=4, features=2, initial_state=True, mask=MASK_ALL_ROW)
        yield f"{tag}_fwd_stateful_two_calls", layer_case(
            c(stateful=True, return_sequences=True, return_state=True), calls=2), shape
        yield f"{tag}_fwd_f64_state_seq", layer_case(
            c(return_sequences=True, return_state=True), dtype="float64"), shape
        yield f"{tag}_fwd_f64_mask_h0", layer_case(
            c(return_sequences=True, return_state=True), dtype="float64"), \
            dict(mshape, mask=MASK_6, initial_state=True)
        for mode in ["concat", "sum", "mul", "ave", None]:
            mtag = "none" if mode is None else mode
            yield f"{tag}_fwd_bidir_{mtag}_seq_state", layer_case(
                bidir(c(return_sequences=True, return_state=True), mode)), shape
            yield f"{tag}_fwd_bidir_{mtag}_last", layer_case(bidir(c(), mode)), shape
        yield f"{tag}_fwd_bidir_initial_state", layer_case(
            bidir(c(return_sequences=True, return_state=True))), dict(shape, initial_state=True)
        yield f"{tag}_fwd_bidir_mask_state", layer_case(
            bidir(c(return_sequences=True, return_state=True), "sum")), dict(mshape, mask=MASK_6)
        yield f"{tag}_fwd_f64_bidir_concat", layer_case(
            bidir(c(return_sequences=True, return_state=True)), dtype="float64"), shape
        yield f"{tag}_fwd_seq_stack_dense", seq_case(
            [c(4, return_sequences=True), c(3), dense(2)]), shape
        yield f"{tag}_fwd_seq_timedistributed", seq_case(
            [c(4, return_sequences=True), timedist(dense(2, activation="sigmoid"))]), shape
        yield f"{tag}_fwd_seq_bidir_stack", seq_case(
            [bidir(c(4, return_sequences=True)), c(3), dense(1)]), shape
        yield f"{tag}_fwd_seq_stateful", seq_case(
            [c(3, stateful=True), dense(2)], stateful=True, calls=2), shape
        yield f"{tag}_fwd_f64_seq_stack", seq_case(
            [c(4, return_sequences=True), c(3, go_backwards=True), dense(2)],
            dtype="float64"), shape
    # unit_forget_bias only changes the initial bias; the forward with set weights is
    # the same as the default's (a config acceptance case).
    yield "lstm_fwd_no_unit_forget_bias", layer_case(
        lstm(unit_forget_bias=False, return_sequences=True)), shape
    yield "lstm_fwd_seq_masking_stack", seq_case(
        [masking(0.0), lstm(4, return_sequences=True), gru(3), dense(2)]), \
        dict(mshape, zero_steps=MASK_6)
    yield "gru_fwd_seq_masking_bidir_td", seq_case(
        [masking(0.0), bidir(gru(3, return_sequences=True)), timedist(dense(2))]), \
        dict(mshape, zero_steps=MASK_6)
    yield "lstm_fwd_seq_mixed_stack", seq_case(
        [lstm(4, return_sequences=True), gru(3, return_sequences=True, reset_after=False),
         {"class": "SimpleRNN", "config": {"units": 2}}, dense(1)]), shape


def init_case(keras):
    keras.config.set_floatx("float32")
    out = {}
    for ufb in (True, False):
        layer = keras.layers.LSTM(3, unit_forget_bias=ufb)
        layer.build((None, 5, 4))
        out[f"bias_ufb_{str(ufb).lower()}"] = layer.get_weights()[2]
    for ra in (True, False):
        layer = keras.layers.GRU(3, reset_after=ra)
        layer.build((None, 5, 4))
        out[f"gru_bias_shape_ra_{str(ra).lower()}"] = np.array(layer.get_weights()[2].shape)
    spec = {"kind": "init", "dtype": "float32", "layers": [lstm(3), gru(3)]}
    return spec, out


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------
def run_training(keras, name, spec, batch, timesteps, features, per_step_target=False, seed=0):
    rng = np.random.default_rng([SEED, 1000 + seed])
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")
    x = rng.uniform(-1, 1, (batch, timesteps, features)).astype("float32")
    yshape = (batch, timesteps, 1) if per_step_target else (batch, 1)
    y = rng.uniform(-1, 1, yshape).astype("float32")
    spec["n_states"] = _n_states(spec["layers"][0])
    model = keras.Sequential([keras.Input((timesteps, features))]
                             + [keras_layer(keras, ls) for ls in spec["layers"]])
    spec["weights"] = _weight_layout(model)
    weights = _random_weights(rng, model, "float32")
    model.set_weights(weights)
    comp = spec["compile"]
    o = comp["optimizer"]
    model.compile(optimizer=getattr(keras.optimizers, o["class"])(**o["config"]),
                  loss=comp["loss"], metrics=comp.get("metrics") or None)
    arrays = {"x": x, "y": y}
    for i, w in enumerate(weights):
        arrays[f"weights_{i}"] = w
    train = spec["train"]
    if train["method"] == "train_on_batch":
        rows = []
        for step in range(train["steps"]):
            rows.append(np.atleast_1d(np.asarray(model.train_on_batch(x, y), dtype="float64")))
            for i, w in enumerate(model.get_weights()):
                arrays[f"step{step}_{i}"] = w
        arrays["returns"] = np.stack(rows)
        spec["returns"] = ["loss"] + list(comp.get("metrics", []))
    else:
        hist = model.fit(x, y, batch_size=train["batch_size"], epochs=train["epochs"],
                         shuffle=train["shuffle"], verbose=0,
                         validation_split=train.get("validation_split", 0.0))
        spec["history_keys"] = sorted(hist.history)
        for key, values in hist.history.items():
            arrays[f"hist_{key}"] = np.asarray(values, dtype="float64")
    for i, w in enumerate(model.get_weights()):
        arrays[f"after_{i}"] = w
    return arrays


def train_case(layers, optimizer, loss="mse", metrics=(), method="train_on_batch", **train):
    spec = {"kind": "sequential", "dtype": "float32", "layers": layers,
            "call": {"initial_state": False, "mask": False},
            "compile": {"optimizer": optimizer, "loss": loss, "metrics": list(metrics)},
            "train": {"method": method}}
    if method == "train_on_batch":
        spec["train"]["steps"] = train.pop("steps", 3)
    spec["train"].update(train)
    return spec


def training_cases():
    shape = dict(batch=8, timesteps=5, features=3)
    fshape = dict(batch=20, timesteps=5, features=3)
    cells = [("lstm", lstm, {}), ("gru", gru, {}), ("gru_ra_false", gru, {"reset_after": False})]
    for tag, cell, base in cells:
        def c(units=4, cell=cell, base=base, **cfg):
            return cell(units, **dict(base, **cfg))
        yield f"{tag}_train_sgd", train_case([c(), dense(1)], opt("SGD", learning_rate=0.1)), shape
        yield f"{tag}_train_adam", train_case([c(), dense(1)], opt("Adam", learning_rate=0.01),
                                              metrics=["mae"]), shape
        yield f"{tag}_train_adam_bidir_seq", train_case(
            [bidir(c(3, return_sequences=True)), timedist(dense(1))],
            opt("Adam", learning_rate=0.01)), dict(shape, per_step_target=True)
        yield f"{tag}_train_fit", train_case(
            [c(return_sequences=True), c(3), dense(1)], opt("Adam", learning_rate=0.01),
            metrics=["mae"], method="fit", batch_size=8, epochs=2, shuffle=False,
            validation_split=0.2), fshape
    yield "lstm_train_sgd_momentum_nobias_backwards", train_case(
        [lstm(4, use_bias=False, go_backwards=True), dense(1)],
        opt("SGD", learning_rate=0.05, momentum=0.9)), shape
    # Regularisers as Keras strings ("l1" / "l2": factor 0.01). Unlike SimpleRNN (whose
    # activity_regularizer Keras 3.15.1 drops), LSTM and GRU apply activity_regularizer.
    regs = dict(kernel_regularizer="l1", recurrent_regularizer="l2", bias_regularizer="l2",
                activity_regularizer="l2")
    yield "lstm_train_sgd_regularizers", train_case([lstm(4, **regs), dense(1)],
                                                     opt("SGD", learning_rate=0.1)), shape
    yield "gru_train_sgd_regularizers", train_case([gru(4, **regs), dense(1)],
                                                    opt("SGD", learning_rate=0.1)), shape


# --------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", default=str(root / "tests" / "fixtures"))
    parser.add_argument("--only", action="append", metavar="PREFIX")
    args = parser.parse_args()

    def selected(name):
        return not args.only or any(name.startswith(p) for p in args.only)

    import keras
    import tensorflow as tf

    assert keras.backend.backend() == "tensorflow", keras.backend.backend()
    keras.utils.set_random_seed(SEED)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("lstm_*.npz")) + list(out.glob("gru_*.npz")):
        if selected(old.stem):
            old.unlink()
    versions = {"keras_version": np.array(keras.__version__),
                "tf_version": np.array(tf.__version__)}

    def save(name, spec, arrays):
        arrays["spec"] = np.array(json.dumps(spec, sort_keys=True))
        arrays.update(versions)
        np.savez_compressed(out / f"{name}.npz", **arrays)

    names = set()
    written = 0
    if selected("lstm_init_bias"):
        save("lstm_init_bias", *init_case(keras))
        written += 1
    names.add("lstm_init_bias")
    for runner, cases in [(run_forward, forward_cases()), (run_training, training_cases())]:
        for seed, (name, spec, kwargs) in enumerate(cases):
            assert name not in names, name
            names.add(name)
            if not selected(name):
                continue
            keras.backend.clear_session()  # fresh automatic layer names per case
            save(name, spec, runner(keras, name, spec, seed=seed, **kwargs))
            written += 1
    files = list(out.glob("lstm_*.npz")) + list(out.glob("gru_*.npz"))
    total = sum(p.stat().st_size for p in files)
    print(f"wrote {written} of {len(names)} fixtures to {out} ({len(files)} lstm/gru files, "
          f"{total / 1024:.1f} KiB), keras {keras.__version__}, tensorflow {tf.__version__}")


if __name__ == "__main__":
    main()
