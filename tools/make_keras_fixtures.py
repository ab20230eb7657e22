"""Generate Keras 3 parity fixtures for fastrnn's tests.

Run by hand, in a separate environment that has TensorFlow/Keras 3
(never in fastrnn's own environment)::

    python -m venv /work/kvenv && /work/kvenv/bin/pip install tensorflow-cpu
    /work/kvenv/bin/python tools/make_keras_fixtures.py [--out tests/fixtures] [--only PREFIX]

``--only PREFIX`` (repeatable) writes just the cases whose name starts with
PREFIX and leaves every other fixture file untouched.

Each case is described by a JSON ``spec``; this script builds the Keras model
from the spec, sets seeded random weights, runs it and writes
``tests/fixtures/<name>.npz`` holding:

- ``spec``: the JSON spec (a str array; load with ``str(npz["spec"])``).
- ``keras_version``, ``tf_version``.
- ``x`` (batch, timesteps, features), or integer indices (batch, timesteps)
  when ``spec["input_dtype"]`` is set (a first Embedding layer); optional ``mask``
  (batch, timesteps) bool;
  optional ``initial_state`` (forward) and ``initial_state_1`` (Bidirectional's
  backward state); ``x2`` for the second call of a stateful layer.
- ``weights_0``, ``weights_1``, ... in Keras's ``get_weights()`` order.
- forward cases (``fwd_*``): ``out_0``, ``out_1``, ... the call's outputs in
  order (``[output, state]`` with ``return_state``; Bidirectional:
  ``[merged, fwd_h, bwd_h]``, or ``[fwd, bwd, (fwd_h, bwd_h)]`` when
  ``merge_mode`` is None); ``out2_0``, ... for the second stateful call.
- training cases (``train_*``): ``y``; ``returns`` (steps, k), what each
  ``train_on_batch`` returned, flattened as ``[loss, metric...]`` (names in
  ``spec["returns"]``); or ``hist_<key>`` arrays (one value per epoch) for
  ``fit``; ``after_0``, ``after_1``, ... the weights after training.

The spec is the contract with ``tests/keras_spec.py``, which rebuilds the
same model with fastrnn.
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SEED = 20240521


# --------------------------------------------------------------------------
# spec -> Keras
# --------------------------------------------------------------------------
def _rnn_kwargs(config):
    cfg = dict(config)
    cfg.pop("input_shape", None)
    return cfg


def _keras_layer(keras, layer_spec):
    cls = layer_spec["class"]
    cfg = dict(layer_spec.get("config", {}))
    if cls == "SimpleRNN":
        return keras.layers.SimpleRNN(**_rnn_kwargs(cfg))
    if cls == "Dense":
        return keras.layers.Dense(**cfg)
    if cls == "Bidirectional":
        inner = _keras_layer(keras, layer_spec["layer"])
        return keras.layers.Bidirectional(inner, **cfg)
    if cls in ("Embedding", "Dropout", "Activation", "Flatten"):
        return getattr(keras.layers, cls)(**cfg)
    raise ValueError(f"unknown layer class {cls!r}")


def _keras_optimizer(keras, opt_spec):
    cls = getattr(keras.optimizers, opt_spec["class"])
    return cls(**opt_spec.get("config", {}))


def _random_weights(rng, model, dtype):
    return [rng.uniform(-0.7, 0.7, w.shape).astype(dtype) for w in model.get_weights()]


def _input_x(rng, spec, batch, timesteps, features, dtype, distinct=False):
    """The case's input: floats in [-1, 1) (batch, timesteps, features), or, when
    ``spec["input_dtype"]`` is an integer dtype (an Embedding first layer), indices
    in [0, input_dim) of shape (batch, timesteps), all different when ``distinct``."""
    input_dtype = spec.get("input_dtype")
    if input_dtype is None:
        return rng.uniform(-1, 1, (batch, timesteps, features)).astype(dtype)
    first = spec["layers"][0]
    assert first["class"] == "Embedding", "integer inputs need an Embedding first layer"
    input_dim = first["config"]["input_dim"]
    if distinct:
        assert batch * timesteps <= input_dim
        idx = rng.permutation(input_dim)[: batch * timesteps].reshape(batch, timesteps)
        return idx.astype(input_dtype)
    return rng.integers(0, input_dim, (batch, timesteps)).astype(input_dtype)


def _keras_input(keras, spec, batch, timesteps, features, fixed_batch=False):
    input_dtype = spec.get("input_dtype")
    shape = (timesteps,) if input_dtype else (timesteps, features)
    if fixed_batch:
        return keras.Input(batch_shape=(batch,) + shape, dtype=input_dtype)
    return keras.Input(shape, dtype=input_dtype)


def _as_list(result):
    if isinstance(result, (list, tuple)):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]


# --------------------------------------------------------------------------
# forward cases
# --------------------------------------------------------------------------
def run_forward(
    keras, name, spec, batch, timesteps, features, mask=None, initial_state=False, seed=0
):
    """Build the case described by ``spec``, run it, return the npz dict."""
    rng = np.random.default_rng([SEED, seed])
    dtype = spec["dtype"]
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        x = _input_x(rng, spec, batch, timesteps, features, dtype)
        arrays = {"x": x}
        call = spec.setdefault("call", {})
        call.setdefault("initial_state", bool(initial_state))
        call.setdefault("mask", mask is not None)
        kwargs = {}
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            assert mask.shape == (batch, timesteps), (name, mask.shape)
            arrays["mask"] = mask
            kwargs["mask"] = mask

        if spec["kind"] == "layer":
            (layer_spec,) = spec["layers"]
            model = _keras_layer(keras, layer_spec)
            model.build((batch, timesteps, features))
            rnn = layer_spec if layer_spec["class"] == "SimpleRNN" else layer_spec["layer"]
            units = rnn["config"]["units"]
            if initial_state:
                h0 = rng.uniform(-1, 1, (batch, units)).astype(dtype)
                arrays["initial_state"] = h0
                if layer_spec["class"] == "Bidirectional":
                    h1 = rng.uniform(-1, 1, (batch, units)).astype(dtype)
                    arrays["initial_state_1"] = h1
                    kwargs["initial_state"] = [h0, h1]
                else:
                    kwargs["initial_state"] = [h0]
        else:
            assert not kwargs, "sequential cases take neither mask nor initial_state"
            first = spec["layers"][0]["config"]
            if "input_shape" in first:
                assert tuple(first["input_shape"]) == (timesteps, features)
            inp = _keras_input(
                keras, spec, batch, timesteps, features, fixed_batch=bool(spec.get("stateful"))
            )
            model = keras.Sequential([inp] + [_keras_layer(keras, ls) for ls in spec["layers"]])

        weights = _random_weights(rng, model, dtype)
        model.set_weights(weights)
        for i, w in enumerate(weights):
            arrays[f"weights_{i}"] = w

        outs = _as_list(model(x, **kwargs))
        for i, o in enumerate(outs):
            assert o.dtype == np.dtype(dtype), (name, o.dtype)
            arrays[f"out_{i}"] = o
        if spec.get("calls", 1) == 2:
            x2 = _input_x(rng, spec, batch, timesteps, features, dtype)
            arrays["x2"] = x2
            for i, o in enumerate(_as_list(model(x2))):
                arrays[f"out2_{i}"] = o
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
    return arrays


def rnn(units=3, **config):
    cfg = {"units": units}
    cfg.update(config)
    return {"class": "SimpleRNN", "config": cfg}


def bidir(inner, merge_mode="concat"):
    return {"class": "Bidirectional", "config": {"merge_mode": merge_mode}, "layer": inner}


def dense(units, activation=None, **config):
    cfg = {"units": units, "activation": activation}
    cfg.update(config)
    return {"class": "Dense", "config": cfg}


def embedding(input_dim, output_dim):
    return {"class": "Embedding", "config": {"input_dim": input_dim, "output_dim": output_dim}}


def dropout(rate):
    return {"class": "Dropout", "config": {"rate": rate}}


def activation(name):
    return {"class": "Activation", "config": {"activation": name}}


def flatten():
    return {"class": "Flatten", "config": {}}


def layer_case(layer, dtype="float32", **extra):
    spec = {"kind": "layer", "dtype": dtype, "layers": [layer]}
    spec.update(extra)
    return spec


def seq_case(layers, dtype="float32", **extra):
    spec = {"kind": "sequential", "dtype": dtype, "layers": layers}
    spec.update(extra)
    return spec


# A mask with masked steps at the start, in the middle and at the end,
# a row whose first two steps are masked, a row fully unmasked.
MASK_6 = [
    [0, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 1, 1],
    [1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1],
    [0, 0, 1, 0, 1, 0],
]


def forward_cases():
    """Yield (name, spec, kwargs for run_forward)."""
    B, T, D = 2, 5, 4
    shape = dict(batch=B, timesteps=T, features=D)
    for act in ["tanh", "relu", "sigmoid", "linear"]:
        yield (f"fwd_act_{act}", layer_case(rnn(3, activation=act, return_sequences=True)), shape)
    yield "fwd_act_relu_last", layer_case(rnn(3, activation="relu")), shape
    yield "fwd_nobias_seq", layer_case(rnn(3, use_bias=False, return_sequences=True)), shape
    yield "fwd_nobias_last", layer_case(rnn(3, use_bias=False)), shape
    yield "fwd_last", layer_case(rnn(3)), shape
    yield (
        "fwd_one_unit_one_step",
        layer_case(rnn(1, return_sequences=True, return_state=True)),
        dict(batch=1, timesteps=1, features=2),
    )
    yield "fwd_state_seq", layer_case(rnn(3, return_sequences=True, return_state=True)), shape
    yield "fwd_state_last", layer_case(rnn(3, return_state=True)), shape
    yield (
        "fwd_backwards_seq",
        layer_case(rnn(3, go_backwards=True, return_sequences=True, return_state=True)),
        shape,
    )
    yield "fwd_backwards_last", layer_case(rnn(3, go_backwards=True)), shape
    yield (
        "fwd_initial_state_seq",
        layer_case(rnn(3, return_sequences=True, return_state=True)),
        dict(shape, initial_state=True),
    )
    yield "fwd_initial_state_last", layer_case(rnn(3)), dict(shape, initial_state=True)
    yield (
        "fwd_initial_state_backwards",
        layer_case(rnn(3, go_backwards=True, return_sequences=True, return_state=True)),
        dict(shape, initial_state=True),
    )

    mshape = dict(batch=5, timesteps=6, features=3)
    yield (
        "fwd_mask_seq_h0",
        layer_case(rnn(3, return_sequences=True, return_state=True)),
        dict(mshape, mask=MASK_6, initial_state=True),
    )
    yield (
        "fwd_mask_seq",
        layer_case(rnn(3, return_sequences=True, return_state=True)),
        dict(mshape, mask=MASK_6),
    )
    yield (
        "fwd_mask_last_h0",
        layer_case(rnn(3, return_state=True)),
        dict(mshape, mask=MASK_6, initial_state=True),
    )
    yield (
        "fwd_mask_backwards_h0",
        layer_case(rnn(3, go_backwards=True, return_sequences=True, return_state=True)),
        dict(mshape, mask=MASK_6, initial_state=True),
    )
    yield (
        "fwd_mask_relu_nobias",
        layer_case(
            rnn(3, activation="relu", use_bias=False, return_sequences=True, return_state=True)
        ),
        dict(mshape, mask=MASK_6, initial_state=True),
    )
    # Row 1 is masked at every step: output stays zero, state stays h0.
    yield (
        "fwd_mask_all_masked_row",
        layer_case(rnn(2, return_sequences=True, return_state=True)),
        dict(
            batch=3,
            timesteps=3,
            features=2,
            initial_state=True,
            mask=[[1, 0, 1], [0, 0, 0], [1, 1, 1]],
        ),
    )

    yield (
        "fwd_stateful_two_calls",
        layer_case(rnn(3, stateful=True, return_sequences=True, return_state=True), calls=2),
        shape,
    )
    yield (
        "fwd_stateful_sequential",
        seq_case([rnn(3, stateful=True), dense(2)], stateful=True, calls=2),
        shape,
    )

    # float64 versions
    yield (
        "fwd_f64_tanh_seq",
        layer_case(rnn(3, return_sequences=True, return_state=True), dtype="float64"),
        shape,
    )
    yield (
        "fwd_f64_mask_h0",
        layer_case(rnn(3, return_sequences=True, return_state=True), dtype="float64"),
        dict(mshape, mask=MASK_6, initial_state=True),
    )
    yield (
        "fwd_f64_backwards_relu",
        layer_case(
            rnn(3, activation="relu", go_backwards=True, return_sequences=True), dtype="float64"
        ),
        shape,
    )
    yield (
        "fwd_f64_bidir_concat_seq",
        layer_case(bidir(rnn(3, return_sequences=True)), dtype="float64"),
        shape,
    )
    yield (
        "fwd_f64_stack",
        seq_case(
            [rnn(4, return_sequences=True), rnn(3, return_sequences=True), rnn(2)], dtype="float64"
        ),
        shape,
    )
    yield (
        "fwd_f64_bidir_rnn_dense",
        seq_case([bidir(rnn(4, return_sequences=True)), rnn(3), dense(2)], dtype="float64"),
        shape,
    )

    # the seed's examples
    yield (
        "fwd_seed_1x4x5_seq_state",
        layer_case(rnn(3, return_sequences=True, return_state=True)),
        dict(batch=1, timesteps=4, features=5),
    )
    yield (
        "fwd_seed_input_2x10",
        seq_case([rnn(3, input_shape=[2, 10])]),
        dict(batch=3, timesteps=2, features=10),
    )

    # deep stacks
    yield (
        "fwd_stack2",
        seq_case([rnn(4, return_sequences=True), rnn(3, return_sequences=True)]),
        shape,
    )
    yield (
        "fwd_stack3",
        seq_case(
            [
                rnn(4, return_sequences=True),
                rnn(3, return_sequences=True),
                rnn(2, return_sequences=True),
            ]
        ),
        shape,
    )
    yield (
        "fwd_stack3_last",
        seq_case(
            [
                rnn(4, return_sequences=True),
                rnn(3, activation="relu", return_sequences=True),
                rnn(2),
            ]
        ),
        shape,
    )

    # Bidirectional
    for mode in ["concat", "sum", "mul", "ave", None]:
        tag = "none" if mode is None else mode
        yield f"fwd_bidir_{tag}_seq", layer_case(bidir(rnn(3, return_sequences=True), mode)), shape
        yield f"fwd_bidir_{tag}_last", layer_case(bidir(rnn(3), mode)), shape
    yield (
        "fwd_bidir_concat_state_seq",
        layer_case(bidir(rnn(3, return_sequences=True, return_state=True))),
        shape,
    )
    yield "fwd_bidir_sum_state_last", layer_case(bidir(rnn(3, return_state=True), "sum")), shape
    yield (
        "fwd_bidir_none_state_seq",
        layer_case(bidir(rnn(3, return_sequences=True, return_state=True), None)),
        shape,
    )
    yield (
        "fwd_bidir_concat_mask_seq",
        layer_case(bidir(rnn(3, return_sequences=True))),
        dict(mshape, mask=MASK_6),
    )
    yield "fwd_bidir_sum_mask_last", layer_case(bidir(rnn(3), "sum")), dict(mshape, mask=MASK_6)
    yield (
        "fwd_bidir_none_mask_state_seq",
        layer_case(bidir(rnn(3, return_sequences=True, return_state=True), None)),
        dict(mshape, mask=MASK_6),
    )
    yield (
        "fwd_bidir_initial_state",
        layer_case(bidir(rnn(3, return_sequences=True, return_state=True))),
        dict(shape, initial_state=True),
    )
    # Bidirectional(SimpleRNN(go_backwards=True)) raises ValueError in Keras 3
    # (its backward copy is forced to go_backwards=True too), so no case for it.

    # Sequential mixes
    yield (
        "fwd_bidir_rnn_dense",
        seq_case([bidir(rnn(4, return_sequences=True)), rnn(3), dense(2)]),
        shape,
    )
    yield (
        "fwd_bidir_sum_rnn_dense_relu",
        seq_case(
            [
                bidir(rnn(4, return_sequences=True), "sum"),
                rnn(3, return_sequences=True),
                rnn(3),
                dense(2, activation="relu"),
            ]
        ),
        shape,
    )
    yield (
        "fwd_rnn_seq_dense3d",
        seq_case([rnn(4, return_sequences=True), dense(2, activation="sigmoid")]),
        shape,
    )
    yield (
        "fwd_rnn_dense_nobias",
        seq_case([rnn(4), dense(3, activation="tanh", use_bias=False)]),
        shape,
    )

    # Embedding (integer inputs), Dropout (identity at inference), Activation, Flatten.
    # Appended last: each case's seed is its index here, so earlier cases keep theirs.
    yield (
        "fwd_embed_rnn_dense",
        seq_case([embedding(50, 8), rnn(6), dense(2)], input_dtype="int32"),
        dict(batch=4, timesteps=7, features=None),
    )
    yield (
        "fwd_embed_rnn_seq_flatten_act",
        seq_case(
            [
                embedding(30, 5),
                rnn(4, return_sequences=True),
                flatten(),
                dense(3),
                activation("softmax"),
            ],
            input_dtype="int32",
        ),
        dict(batch=3, timesteps=6, features=None),
    )
    yield (
        "fwd_embed_dropout_bidir",
        seq_case(
            [
                embedding(20, 4),
                dropout(0.5),
                bidir(rnn(3, return_sequences=True)),
                dense(1, activation="sigmoid"),
            ],
            input_dtype="int32",
        ),
        dict(batch=2, timesteps=5, features=None),
    )


# --------------------------------------------------------------------------
# training cases
# --------------------------------------------------------------------------
def _targets(rng, kind, batch):
    if kind == "regression":
        return rng.uniform(-1, 1, (batch, 1)).astype("float32")
    if kind == "binary":
        return rng.integers(0, 2, (batch, 1)).astype("float32")
    if kind == "sparse3":
        return rng.integers(0, 3, (batch,)).astype("int64")
    if kind == "onehot3":
        return np.eye(3, dtype="float32")[rng.integers(0, 3, batch)]
    raise ValueError(kind)


def run_training(
    keras, name, spec, batch, timesteps, features, targets, seed=0, distinct_indices=False
):
    rng = np.random.default_rng([SEED, 1000 + seed])
    keras.config.set_floatx("float32")
    x = _input_x(rng, spec, batch, timesteps, features, "float32", distinct=distinct_indices)
    y = _targets(rng, targets, batch)
    model = keras.Sequential(
        [_keras_input(keras, spec, batch, timesteps, features)]
        + [_keras_layer(keras, ls) for ls in spec["layers"]]
    )
    weights = _random_weights(rng, model, "float32")
    model.set_weights(weights)
    comp = spec["compile"]
    model.compile(
        optimizer=_keras_optimizer(keras, comp["optimizer"]),
        loss=comp["loss"],
        metrics=comp.get("metrics") or None,
    )
    arrays = {"x": x, "y": y}
    for i, w in enumerate(weights):
        arrays[f"weights_{i}"] = w

    train = spec["train"]
    if train["method"] == "train_on_batch":
        rows = []
        for step in range(train["steps"]):
            if step == 0:
                # Evidence for the report: the loss train_on_batch returns is
                # computed on the weights *before* the update.
                pre = model.evaluate(x, y, batch_size=batch, verbose=0)
            ret = model.train_on_batch(x, y)
            rows.append(np.atleast_1d(np.asarray(ret, dtype="float64")))
            if step == 0:
                np.testing.assert_allclose(np.atleast_1d(pre), rows[0], rtol=1e-5, atol=1e-6)
        arrays["returns"] = np.stack(rows)
        spec["returns"] = ["loss"] + [m for m in comp.get("metrics", [])]
    elif train["method"] == "fit":
        hist = model.fit(
            x,
            y,
            batch_size=train["batch_size"],
            epochs=train["epochs"],
            shuffle=train["shuffle"],
            verbose=0,
            validation_split=train.get("validation_split", 0.0),
        )
        spec["history_keys"] = sorted(hist.history)
        for key, values in hist.history.items():
            arrays[f"hist_{key}"] = np.asarray(values, dtype="float64")
    else:
        raise ValueError(train["method"])
    for i, w in enumerate(model.get_weights()):
        arrays[f"after_{i}"] = w
    return arrays


def opt(cls, **config):
    return {"class": cls, "config": config}


def train_case(layers, optimizer, loss, metrics=(), method="train_on_batch", **train):
    spec = {
        "kind": "sequential",
        "dtype": "float32",
        "layers": layers,
        "call": {"initial_state": False, "mask": False},
        "compile": {"optimizer": optimizer, "loss": loss, "metrics": list(metrics)},
        "train": {"method": method},
    }
    if method == "train_on_batch":
        spec["train"]["steps"] = train.pop("steps", 3)
    spec["train"].update(train)
    return spec


def training_cases():
    """Yield (name, spec, kwargs for run_training)."""
    shape = dict(batch=8, timesteps=5, features=3)
    reg = [rnn(4), dense(1)]
    yield (
        "train_sgd_mse_1step",
        train_case(reg, opt("SGD", learning_rate=0.1), "mse", steps=1),
        dict(shape, targets="regression"),
    )
    yield (
        "train_adam_mse_3steps",
        train_case(reg, opt("Adam", learning_rate=0.01), "mse"),
        dict(shape, targets="regression"),
    )
    yield (
        "train_sgd_nesterov_mse",
        train_case(reg, opt("SGD", learning_rate=0.05, momentum=0.9, nesterov=True), "mse"),
        dict(shape, targets="regression"),
    )
    yield (
        "train_sgd_momentum_mse",
        train_case(reg, opt("SGD", learning_rate=0.05, momentum=0.9), "mse"),
        dict(shape, targets="regression"),
    )
    yield (
        "train_rmsprop_mse",
        train_case(reg, opt("RMSprop", learning_rate=0.01), "mse"),
        dict(shape, targets="regression"),
    )
    yield (
        "train_adam_clipnorm_mse",
        train_case(reg, opt("Adam", learning_rate=0.01, clipnorm=1.0), "mse"),
        dict(shape, targets="regression"),
    )
    # clipnorm small enough that clipping is active on every variable
    yield (
        "train_sgd_clipnorm_active",
        train_case(reg, opt("SGD", learning_rate=0.1, clipnorm=0.05), "mse"),
        dict(shape, targets="regression"),
    )
    yield (
        "train_adam_mae",
        train_case(reg, opt("Adam", learning_rate=0.01), "mae"),
        dict(shape, targets="regression"),
    )
    yield (
        "train_adam_sparse_cce_acc",
        train_case(
            [rnn(4), dense(3, activation="softmax")],
            opt("Adam", learning_rate=0.01),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        ),
        dict(shape, targets="sparse3"),
    )
    yield (
        "train_adam_cce_acc",
        train_case(
            [rnn(4), dense(3, activation="softmax")],
            opt("Adam", learning_rate=0.01),
            "categorical_crossentropy",
            metrics=["accuracy"],
        ),
        dict(shape, targets="onehot3"),
    )
    yield (
        "train_adam_bce_acc",
        train_case(
            [rnn(4), dense(1, activation="sigmoid")],
            opt("Adam", learning_rate=0.01),
            "binary_crossentropy",
            metrics=["accuracy"],
        ),
        dict(shape, targets="binary"),
    )
    yield (
        "train_rmsprop_mse_mae_metric",
        train_case(
            [rnn(4, return_sequences=True), rnn(3), dense(1)],
            opt("RMSprop", learning_rate=0.01),
            "mse",
            metrics=["mae"],
        ),
        dict(shape, targets="regression"),
    )

    deep = [bidir(rnn(4, return_sequences=True)), rnn(3), dense(1)]
    fshape = dict(batch=20, timesteps=5, features=3, targets="regression")
    yield (
        "train_fit_bidir_partial_batch",
        train_case(
            deep,
            opt("Adam", learning_rate=0.01),
            "mse",
            metrics=["mae"],
            method="fit",
            batch_size=8,
            epochs=2,
            shuffle=False,
        ),
        fshape,
    )
    yield (
        "train_fit_bidir_validation_split",
        train_case(
            deep,
            opt("Adam", learning_rate=0.01),
            "mse",
            metrics=["mae"],
            method="fit",
            batch_size=8,
            epochs=2,
            shuffle=False,
            validation_split=0.2,
        ),
        fshape,
    )
    # validation_split=0.25 on 20 samples: 15 train (8 + 7), 5 validation (last 5)
    yield (
        "train_fit_sgd_validation_partial",
        train_case(
            [rnn(4), dense(1)],
            opt("SGD", learning_rate=0.1),
            "mse",
            metrics=["mae"],
            method="fit",
            batch_size=8,
            epochs=3,
            shuffle=False,
            validation_split=0.25,
        ),
        fshape,
    )

    # Appended last (seeds are indices, see forward_cases).
    # Every index in x is distinct (18 of the 20 rows, two never looked up): with the
    # TensorFlow backend the Embedding's gradient is an IndexedSlices, and Keras 3's
    # Adam does not sum duplicate indices before squaring, so a row looked up k > 1
    # times gets v += (1 - beta_2) * sum(g_i ** 2) instead of (sum g_i) ** 2 (checked
    # with Keras 3.15.1 / TF 2.21). A dense Adam matches Keras only without repeats.
    spec = train_case(
        [embedding(20, 4), rnn(5), dense(1, activation="sigmoid")],
        opt("Adam", learning_rate=0.01),
        "binary_crossentropy",
    )
    spec["input_dtype"] = "int32"
    yield (
        "train_embed_adam",
        spec,
        dict(batch=3, timesteps=6, features=None, targets="binary", distinct_indices=True),
    )


# --------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", default=str(root / "tests" / "fixtures"))
    parser.add_argument(
        "--only",
        action="append",
        metavar="PREFIX",
        help="write only the cases whose name starts with PREFIX (repeatable); "
        "other fixture files are left untouched",
    )
    args = parser.parse_args()

    def selected(name):
        return not args.only or any(name.startswith(p) for p in args.only)

    import keras
    import tensorflow as tf

    assert keras.backend.backend() == "tensorflow", keras.backend.backend()
    keras.utils.set_random_seed(SEED)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("fwd_*.npz")) + list(out.glob("train_*.npz")):
        if selected(old.stem):
            old.unlink()

    versions = {
        "keras_version": np.array(keras.__version__),
        "tf_version": np.array(tf.__version__),
    }
    names = set()
    written = 0
    jobs = [(run_forward, forward_cases()), (run_training, training_cases())]
    for runner, cases in jobs:
        for seed, (name, spec, kwargs) in enumerate(cases):
            assert name not in names, name
            names.add(name)
            if not selected(name):
                continue  # still enumerated, so every case keeps its seed
            written += 1
            arrays = runner(keras, name, spec, seed=seed, **kwargs)
            arrays["spec"] = np.array(json.dumps(spec, sort_keys=True))
            arrays.update(versions)
            np.savez_compressed(out / f"{name}.npz", **arrays)
    total = sum(p.stat().st_size for p in out.glob("*.npz"))
    print(
        f"wrote {written} of {len(names)} fixtures to {out} ({total / 1024:.1f} KiB), "
        f"keras {keras.__version__}, tensorflow {tf.__version__}"
    )


if __name__ == "__main__":
    main()
