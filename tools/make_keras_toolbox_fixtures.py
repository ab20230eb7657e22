"""Generate Keras 3 reference fixtures for the toolbox issue (issue 9).

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_toolbox_fixtures.py [--out DIR] [--only PREFIX]

Writes ``tests/fixtures/tool_*.npz`` (Keras 3.15.1, TensorFlow 2.21.0, CPU). Every
file holds ``spec`` (JSON in a str array: ``json.loads(str(npz["spec"]))``),
``keras_version`` and ``tf_version``. All float arrays are what Keras returned
(float32 unless said); training runs in float32.

Common spec parts
=================
Model cases (``tool_opt_*``, ``tool_fit_*``, ``tool_reg_*``, ``tool_constraint_*``,
``tool_cb_*``, ``tool_embed_*``) use the layer spec of ``tests/keras_spec.py``:
``spec["layers"]`` = ``[{"class": "SimpleRNN" | "Dense" | "Embedding", "config": {...}}]``
(a Sequential; the input is ``x`` (batch, timesteps, features) float32, or int32 indices
(batch, timesteps) when ``spec["input_dtype"] == "int32"``). Configs hold Keras
arguments that differ from the defaults. An object argument is written
``{"class": C, "config": {...}}`` with C a class of ``keras.regularizers`` (L1, L2, L1L2),
``keras.constraints`` (MaxNorm, NonNeg, UnitNorm, MinMaxNorm) or
``keras.optimizers.schedules`` (as an optimizer's ``learning_rate``); the strings
"l1" / "l2" are passed through as strings. ``spec["compile"] = {"optimizer":
{"class": "Adam", "config": {...}}, "loss": "mse", "metrics": [...],
"weighted_metrics": [...]}``.
Arrays: ``x``, ``y``, ``weights_<i>`` (start weights, Keras ``get_weights()`` order,
seeded uniform(-0.7, 0.7)), ``after_<i>`` (weights at the end).
``train_on_batch`` cases also have ``returns`` (steps, 1 + n_metrics) float64 (each
call's ``[loss, metrics...]``, names in ``spec["returns"]``; the loss is computed on
the weights before the step and includes regularisation) and ``step<s>_<i>``
(weight i after step s). ``fit`` cases have ``hist_<key>`` float64 per epoch (keys
in ``spec["history_keys"]``) and ``spec["fit"]`` (the fit keyword arguments that
are plain values: batch_size, epochs, shuffle, initial_epoch, ...).

Keras 3.15.1 behaviours these files pin down (surprises included)
================================================================
- ``to_categorical`` returns float64; (n, 1) labels give (n, C) (the 1 is squeezed).
- ``pad_sequences``: default dtype int32 truncates float input (0.5 -> 0); an int dtype
  casts ``value`` (0.5 -> 0); ``maxlen=0`` raises a raw NumPy broadcast ValueError;
  bad padding/truncating raise ValueError (texts in ``spec["errors"]``).
- ``normalize`` on a NumPy array with ``axis=0`` is broken in Keras (``axis = axis or -1``
  turns 0 into -1 after the norm is taken): a broadcast error for non-square input,
  wrong values for square input (``norm1_sq`` vs the tensor path ``norm1_sq_tensor``);
  the tensor path refuses ``order=inf`` (the NumPy path takes it). Zero rows stay zero.
- ``RMSprop(learning_rate=..., decay=d)`` does not raise for 0.0 or 0.01: it warns
  "Argument `decay` is no longer supported and will be ignored." and ignores it.
- ``keras.losses.mse`` / ``mae`` / ... are not attributes in Keras 3; the strings resolve
  through ``keras.losses.get``; "logcosh" and "kullback_leibler_divergence" don't.
- Hinge converts {0, 1} labels to {-1, 1}. ``EarlyStopping(restore_best_weights=True)``
  restores the best weights at the end of training even when it never stopped.
- ``CSVLogger``: "\n" line ends, 0-based epoch column, floats as Python ``repr``, the
  keys sorted; ``append=True`` writes no second header and the epochs restart at 0.
- History has a ``learning_rate`` key only when an LR callback (ReduceLROnPlateau,
  LearningRateScheduler) is used; it is the rate in effect *during* the epoch, while
  ``lr_epoch_end`` shows ReduceLROnPlateau's change at the end of that same epoch.
  LearningRateScheduler's ``epoch`` argument counts from ``initial_epoch``.
- An activity penalty is divided by the batch size (Dense, LSTM, GRU).
- ``fit(PyDataset)`` with fit's default ``shuffle=True`` shuffles the batch order.
- A SimpleRNN's ``activity_regularizer`` is ignored (no loss, no gradient); Dense's works.
- Sparse Embedding (TensorFlow backend): rows never looked up never change, nor do their
  slots; SGD, RMSprop and Adagrad leave rows absent from a batch unchanged, while
  SGD(momentum) and Adam keep moving a row after its last lookup (slots decay densely).
  The gradient is per occurrence (g_i for each looked-up position i); a slot that holds
  a *square* sums the squares per occurrence: Adam ``v = b2 v + (1 - b2) scatter_add(g_i**2)``,
  RMSprop ``v = rho v + (1 - rho) scatter_add(g_i**2)``, Adagrad ``acc += scatter_add(g_i**2)``,
  while first moments and the step use the summed row gradient G = scatter_add(g_i)
  (Adam ``m = b1 m + (1 - b1) G``). Checked on step 0 against finite-difference
  per-occurrence gradients (within 1.2e-7); summing duplicates before squaring is off
  by up to 7.6e-3 (Adam) and 2.5e-2 (RMSprop). Note RMSprop divides by
  ``sqrt(v + epsilon)``; Adam steps ``lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) +
  epsilon)`` (the bias corrections folded into the rate, as Keras does).

Files
=====
tool_utils_to_categorical
    ``tc<i>_in`` / ``tc<i>_out`` for ``spec["cases"][i] = {"num_classes": n | None}``.
    Inputs: [0, 2, 1, 3]; same with num_classes=6; (3, 1) labels; (2, 3) labels;
    float labels [1., 0., 2.]. ``spec["cases"][i]["out_dtype"]`` is Keras's dtype.
tool_utils_pad_sequences
    ``seqs_flat`` / ``seqs_len`` (int32) encode the ragged input list
    [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], [], [11]]; ``pad<i>`` is the result of
    ``pad_sequences(seqs, **spec["cases"][i])`` (grid of maxlen None/2/4/7,
    padding, truncating, value, dtype). ``fpad<i>`` with ``spec["float_cases"]``: the
    float input ``fseqs_flat`` / ``fseqs_len`` ([[0.5, 1.5], [2.5], [3.25, 4.75, 5.5]]).
tool_utils_normalize
    ``x`` (4, 3) float32 with a zero row 2; ``norm<i>`` = ``normalize(x, **spec["cases"][i])``
    (axis -1/0/1, order 1/2/3/inf). ``x3`` (2, 3, 2) and ``norm3d`` (axis=1, order=2).
tool_utils_timeseries
    ``data`` (20, 2) float32 (= arange), ``targets`` (20,) int32 (= 100 + arange); for
    ``spec["cases"][i]`` (kwargs of ``timeseries_dataset_from_array``, shuffle=False;
    ``"targets": null`` means no targets; ``"targets_from": k`` means
    ``data=data[:-k], targets=targets[k:]``): ``ts<i>_x<b>`` and ``ts<i>_y<b>``
    for batch b < ``spec["cases"][i]["n_batches"]``.
tool_losses
    Inputs: ``reg_true``/``reg_pred`` (4, 3) positive; ``hinge_true`` (4, 3) in {-1, 1},
    ``hinge_true01`` the same in {0, 1}, ``hinge_pred`` (4, 3); ``prob_true``/``prob_pred``
    (4, 3) rows summing to 1; ``sparse_true`` (4,) int32; ``bin_true`` (4, 1) {0, 1},
    ``bin_pred`` (4, 1) probabilities; ``sw`` (4,) sample weights.
    ``spec["functions"][k] = {"name", "inputs": [true_key, pred_key]}`` → ``fn_<name>``
    (per-sample values, (4,)) from ``keras.losses.<name>``. ``spec["aliases"]``: for
    each string, whether it is an attribute of keras.losses / keras.metrics, and
    what ``keras.losses.get`` resolves it to (or the error text).
    ``spec["classes"][k] = {"key", "class", "config", "inputs"}`` → for each reduction R
    in ``spec["reductions"]``: ``cls_<key>_<R>`` (no weights) and ``cls_<key>_<R>_sw``
    (``sample_weight=sw``); reduction "none" gives (4,).
tool_metrics
    Two batches: ``bin_true_<b>`` (6, 1), ``bin_pred_<b>`` (6, 1) for b in 0, 1;
    ``cat_true_<b>`` (5, 4) one-hot, ``cat_pred_<b>`` (5, 4). ``sw_<b>`` (6,) weights.
    ``spec["metrics"][k] = {"key", "class", "config", "inputs": "bin" | "cat",
    "sample_weight": bool}`` → ``<key>_after1`` and ``<key>_after2``: ``result()``
    after the first and the second ``update_state``.
tool_opt_<name>
    SimpleRNN(3) → Dense(1), mse, x (6, 4, 2), 3 ``train_on_batch`` steps (see above).
    ``optvars_<k>`` are the optimizer's variables at the end (names in
    ``spec["optimizer_variables"]``). ``tool_opt_rmsprop_decay`` passes ``decay=0.01``:
    ``spec["decay_behaviour"]`` records what ``RMSprop(learning_rate=0.01, decay=d)``
    does for d = 0.0 and 0.01 (raises?, warning text, resulting config's
    learning_rate); its weights equal ``RMSprop(0.01)``'s (checked).
tool_schedules
    ``lr_<key>`` (21,) float64: ``schedule(step)`` for step 0..20, for
    ``spec["schedules"][k] = {"key", "class", "config"}``.
tool_fit_<name>
    fit cases; extra arrays: ``sw`` (sample weights), ``x_val``/``y_val``/``sw_val``,
    ``class_weight`` in ``spec["fit"]["class_weight"]`` (keys as str);
    ``epochs_run`` (history.epoch). ``tool_fit_generator``: the generator yields
    ``(x[i*4:(i+1)*4], y[...])`` for i = 0, 1, 2, 0, 1, 2, ... (10 samples: last
    batch 2), ``steps_per_epoch=3``, ``validation_data`` the same kind of generator
    over ``x_val``/``y_val`` with ``validation_steps=2``. ``tool_fit_pydataset``:
    a PyDataset of 3 batches of (x, y) (4, 4, 2); also ``eval`` (evaluate result
    [loss, mae]) and ``pred`` (predict) on it after fit; fitted with ``shuffle=False``
    (with fit's default ``shuffle=True`` Keras 3 shuffles a PyDataset's batch order
    each epoch, so results vary between runs).
tool_reg_<name>, tool_constraint_<name>
    SimpleRNN(3) → Dense(1) with regularizers / constraints (``tool_reg_activity_seq``:
    SimpleRNN(3, return_sequences=True, activity_regularizer=L2) → Flatten → Dense(1)),
    SGD(0.1), mse, 2 ``train_on_batch`` steps; ``eval0`` = ``evaluate(x, y)`` before
    training (Keras 3 includes regularisation losses there too); ``pred0`` =
    ``model(x)`` on the start weights; ``reg_losses0`` = ``model.losses`` after that
    call (weight regularisers layer by layer, kernel, recurrent, bias, then Dense's
    activity loss). ``spec["rnn_activity_regularizer_ignored"]`` (cases that give the
    SimpleRNN an activity_regularizer): True when a twin model without it trains to
    bit-identical weights — Keras 3.15.1 ignores a SimpleRNN's activity_regularizer
    (no loss, no gradient) while Dense's works; eval0 == mse(pred0) + sum(reg_losses0).
    Constraints are applied after each update (start weights are not constrained).
tool_cb_<name>
    fit cases with callbacks described in ``spec["callbacks"]``; ``lr_epoch_end``
    (float64, the optimizer's learning rate read at each ``on_epoch_end`` after
    every other callback ran). ``tool_cb_early_stopping*``: ``epoch_w<e>_<i>``
    (weights at the end of epoch e, read before EarlyStopping runs), ``stopped_epoch``,
    ``best_epoch``; ``after_<i>`` are the weights Keras leaves. ``tool_cb_csv_logger*``:
    ``csv_text`` (the exact file text).
tool_embed_<opt>
    Embedding(20, 4) → SimpleRNN(3) → Dense(1, sigmoid), binary crossentropy; three
    different batches ``x_step<s>`` (3, 6) int32 and ``y_step<s>`` (3, 1), one per
    ``train_on_batch`` step (tokens repeat within a batch; rows
    ``spec["never_used_rows"]`` are never looked up, row 5 only in step 0).
    ``step<s>_<i>`` weights after each step; ``slot<s>_<name>`` the optimizer's
    slot variables for the embedding matrix after step s (names in
    ``spec["slot_names"]``); ``rows_changed_step<s>`` (20,) bool: embedding rows
    that differ from the previous step (exactly). ``spec["findings"]`` summarises.
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _toolbox_models as tm  # noqa: E402

SEED = 20251114


def utils_cases(keras):
    """Yield (name, spec, arrays) for the utils fixtures."""
    u = keras.utils
    arrays, cases = {}, []
    inputs = [(np.array([0, 2, 1, 3]), None), (np.array([0, 2, 1, 3]), 6),
              (np.array([[1], [0], [2]]), None), (np.array([[0, 1, 2], [2, 1, 0]]), 4),
              (np.array([1.0, 0.0, 2.0]), None)]
    for i, (y, n) in enumerate(inputs):
        out = np.asarray(u.to_categorical(y, num_classes=n))
        arrays[f"tc{i}_in"], arrays[f"tc{i}_out"] = y, out
        cases.append({"num_classes": n, "out_dtype": str(out.dtype)})
    yield "tool_utils_to_categorical", {"cases": cases}, arrays

    seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], [], [11]]
    arrays = {"seqs_flat": np.array([v for q in seqs for v in q], "int32"),
              "seqs_len": np.array([len(s) for s in seqs], "int32")}
    cases = []
    for maxlen in [None, 2, 4, 7]:
        for padding in ["pre", "post"]:
            for truncating in ["pre", "post"]:
                if maxlen is None and truncating == "post":
                    continue
                cases.append({"maxlen": maxlen, "padding": padding, "truncating": truncating})
    cases += [{"maxlen": 4, "value": -1}, {"maxlen": 4, "padding": "post", "value": 9.0},
              {"dtype": "float32", "value": 0.5}, {"dtype": "int32", "value": 0.5},
              {"dtype": "int64", "maxlen": 3, "truncating": "post"}]
    for i, kw in enumerate(cases):
        out = u.pad_sequences(seqs, **kw)
        arrays[f"pad{i}"] = out
        kw["out_dtype"] = str(out.dtype)
    fseqs = [[0.5, 1.5], [2.5], [3.25, 4.75, 5.5]]
    arrays["fseqs_flat"] = np.array([v for q in fseqs for v in q], "float32")
    arrays["fseqs_len"] = np.array([len(s) for s in fseqs], "int32")
    fcases = [{}, {"dtype": "float32"}, {"dtype": "float32", "maxlen": 2, "padding": "post",
                                         "value": -1.0}]
    for i, kw in enumerate(fcases):
        out = u.pad_sequences(fseqs, **kw)
        arrays[f"fpad{i}"] = out
        kw["out_dtype"] = str(out.dtype)
    errors = {}
    for bad in [{"maxlen": 2, "padding": "middle"}, {"maxlen": 2, "truncating": "middle"},
                {"maxlen": 0}, {"maxlen": 0, "padding": "post"}]:
        try:
            u.pad_sequences(seqs, **bad)
            errors[json.dumps(bad)] = None
        except Exception as e:  # recorded for the spec
            errors[json.dumps(bad)] = f"{type(e).__name__}: {e}"
    yield "tool_utils_pad_sequences", {"cases": cases, "float_cases": fcases,
                                       "errors": errors}, arrays

    x = np.array([[1, -2, 2], [0.5, 0.25, -1], [0, 0, 0], [3, 4, 0]], "float32")
    arrays, cases = {"x": x}, []
    import tensorflow as tf
    sq = np.array([[3, 0, -4], [1, 2, 2], [0, 0, 1]], "float32")
    arrays["x_sq"] = sq
    for axis, order in [(-1, 2), (0, 2), (1, 1), (-1, 3), (-1, np.inf), (0, 1), (1, 2)]:
        i = len(cases)
        case = {"axis": axis, "order": "inf" if order == np.inf else order}
        for tag, inp in [("", x), ("_sq", sq)]:
            try:  # NumPy input: Keras's NumPy path
                arrays[f"norm{i}{tag}"] = np.asarray(u.normalize(inp, axis=axis, order=order))
            except Exception as e:
                case[f"numpy_error{tag}"] = f"{type(e).__name__}: {e}"
            try:  # the same values as a tf tensor: Keras's ops.nn.normalize path
                arrays[f"norm{i}{tag}_tensor"] = np.asarray(
                    u.normalize(tf.constant(inp), axis=axis, order=order))
            except Exception as e:
                case[f"tensor_error{tag}"] = f"{type(e).__name__}: {e}"
        cases.append(case)
    x3 = np.arange(12, dtype="float32").reshape(2, 3, 2) - 5
    arrays["x3"], arrays["norm3d"] = x3, np.asarray(u.normalize(x3, axis=1, order=2))
    yield "tool_utils_normalize", {"cases": cases, "order_inf_is_str": "inf",
                                   "norm3d": {"axis": 1, "order": 2}}, arrays

    data = np.arange(40, dtype="float32").reshape(20, 2)
    targets = 100 + np.arange(20, dtype="int32")
    arrays, cases = {"data": data, "targets": targets}, []
    combos = [dict(sequence_length=5, batch_size=4),
              dict(sequence_length=3, sequence_stride=2, sampling_rate=2, batch_size=3),
              dict(sequence_length=4, sequence_stride=3, batch_size=2, start_index=2, end_index=15),
              dict(sequence_length=6, batch_size=5, targets=None),
              dict(sequence_length=4, batch_size=8, targets_from=4),
              dict(sequence_length=2, sampling_rate=3, batch_size=128, start_index=5)]
    for i, kw in enumerate(combos):
        kw = dict(kw)
        d, t = data, targets
        if "targets" in kw:
            t = kw.pop("targets")
        if "targets_from" in kw:
            k = kw.pop("targets_from")
            d, t = data[:-k], targets[k:]
        ds = u.timeseries_dataset_from_array(d, t, shuffle=False, **kw)
        n = 0
        for batch in ds.as_numpy_iterator():
            if t is None:
                arrays[f"ts{i}_x{n}"] = batch
            else:
                arrays[f"ts{i}_x{n}"], arrays[f"ts{i}_y{n}"] = batch
            n += 1
        case = dict(combos[i], n_batches=n)
        cases.append(case)
    yield "tool_utils_timeseries", {"cases": cases}, arrays


def loss_cases(keras):
    rng = np.random.default_rng([SEED, 1])
    L = keras.losses
    hinge = rng.choice([-1.0, 1.0], (4, 3)).astype("float32")
    p_t = rng.uniform(0.05, 1, (4, 3)).astype("float32")
    p_p = rng.uniform(0.05, 1, (4, 3)).astype("float32")
    a = {"reg_true": rng.uniform(0.1, 2, (4, 3)).astype("float32"),
         "reg_pred": rng.uniform(0.1, 2, (4, 3)).astype("float32"),
         "hinge_true": hinge, "hinge_true01": (hinge > 0).astype("float32"),
         "hinge_pred": rng.uniform(-1.5, 1.5, (4, 3)).astype("float32"),
         "prob_true": p_t / p_t.sum(1, keepdims=True), "prob_pred": p_p / p_p.sum(1, keepdims=True),
         "sparse_true": np.array([0, 2, 1, 2], "int32"),
         "bin_true": np.array([[0], [1], [1], [0]], "float32"),
         "bin_pred": np.array([[0.2], [0.7], [0.99], [0.45]], "float32"),
         "sw": np.array([1.0, 0.5, 0.0, 2.0], "float32")}
    reg, hin = ["reg_true", "reg_pred"], ["hinge_true", "hinge_pred"]
    prob = ["prob_true", "prob_pred"]
    functions = [(n, reg) for n in ["mean_squared_error", "mean_absolute_error",
                                   "mean_absolute_percentage_error",
                                   "mean_squared_logarithmic_error", "huber", "log_cosh",
                                   "poisson", "cosine_similarity"]]
    functions += [(n, hin) for n in ["hinge", "squared_hinge", "categorical_hinge"]]
    functions += [("hinge", ["hinge_true01", "hinge_pred"]), ("kl_divergence", prob),
                  ("categorical_crossentropy", prob),
                  ("sparse_categorical_crossentropy", ["sparse_true", "prob_pred"]),
                  ("binary_crossentropy", ["bin_true", "bin_pred"])]
    spec_f = []
    for k, (name, (t, p)) in enumerate(functions):
        key = name if name not in {s["name"] for s in spec_f} else f"{name}_{k}"
        a[f"fn_{key}"] = np.asarray(getattr(L, name)(a[t], a[p]))
        spec_f.append({"name": name, "key": key, "inputs": [t, p]})
    aliases = {}
    for s in ["mse", "MSE", "mae", "mape", "msle", "kld", "KLD", "logcosh", "log_cosh", "huber",
              "mean_squared_error", "kullback_leibler_divergence", "cosine_similarity"]:
        try:
            got = getattr(L.get(s), "__name__", str(L.get(s)))
        except Exception as e:
            got = f"{type(e).__name__}: {e}"
        aliases[s] = {"keras.losses attr": hasattr(L, s), "keras.metrics attr":
                      hasattr(keras.metrics, s), "keras.losses.get": got}
    classes = [("MSE", "MeanSquaredError", {}, reg), ("MAE", "MeanAbsoluteError", {}, reg),
               ("Huber", "Huber", {}, reg), ("Huber_d05", "Huber", {"delta": 0.5}, reg),
               ("LogCosh", "LogCosh", {}, reg), ("MSLE", "MeanSquaredLogarithmicError", {}, reg),
               ("MAPE", "MeanAbsolutePercentageError", {}, reg), ("Hinge", "Hinge", {}, hin),
               ("Hinge01", "Hinge", {}, ["hinge_true01", "hinge_pred"]),
               ("SquaredHinge", "SquaredHinge", {}, hin), ("KLD", "KLDivergence", {}, prob),
               ("Cosine", "CosineSimilarity", {}, reg),
               ("Cosine_ax0", "CosineSimilarity", {"axis": 0}, reg),
               ("Poisson", "Poisson", {}, reg), ("CCE", "CategoricalCrossentropy", {}, prob),
               ("BCE", "BinaryCrossentropy", {}, ["bin_true", "bin_pred"])]
    reductions = ["sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"]
    spec_c, errors = [], {}
    for key, cls, cfg, (t, p) in classes:
        for red in reductions:
            loss = getattr(L, cls)(reduction=red, **cfg)
            a[f"cls_{key}_{red}"] = np.asarray(loss(a[t], a[p]))
            try:
                a[f"cls_{key}_{red}_sw"] = np.asarray(loss(a[t], a[p], sample_weight=a["sw"]))
            except Exception as e:  # e.g. CosineSimilarity(axis=0): (3,) values, (4,) weights
                errors[f"cls_{key}_{red}_sw"] = f"{type(e).__name__}: {str(e)[:200]}"
        spec_c.append({"key": key, "class": cls, "config": cfg, "inputs": [t, p]})
    yield "tool_losses", {"functions": spec_f, "aliases": aliases, "classes": spec_c,
                          "reductions": reductions, "errors": errors}, a

    rng = np.random.default_rng([SEED, 2])
    a = {}
    for b in range(2):
        a[f"bin_true_{b}"] = rng.integers(0, 2, (6, 1)).astype("float32")
        a[f"bin_pred_{b}"] = rng.uniform(0, 1, (6, 1)).astype("float32")
        a[f"cat_true_{b}"] = np.eye(4, dtype="float32")[rng.integers(0, 4, 5)]
        a[f"cat_pred_{b}"] = rng.uniform(0, 1, (5, 4)).astype("float32")
        a[f"sw_{b}"] = rng.uniform(0, 2, 6).astype("float32")
    metrics = [("precision", "Precision", {}, "bin", False),
               ("precision_t07", "Precision", {"thresholds": 0.7}, "bin", False),
               ("precision_sw", "Precision", {}, "bin", True),
               ("recall", "Recall", {}, "bin", False),
               ("recall_t03", "Recall", {"thresholds": 0.3}, "bin", False),
               ("auc", "AUC", {}, "bin", False), ("auc_sw", "AUC", {}, "bin", True),
               ("auc_n5", "AUC", {"num_thresholds": 5}, "bin", False),
               ("auc_pr", "AUC", {"curve": "PR"}, "bin", False),
               ("auc_pr_n7", "AUC", {"curve": "PR", "num_thresholds": 7}, "bin", False),
               ("auc_minoring", "AUC", {"summation_method": "minoring", "num_thresholds": 10},
                "bin", False),
               ("top1", "TopKCategoricalAccuracy", {"k": 1}, "cat", False),
               ("top2", "TopKCategoricalAccuracy", {"k": 2}, "cat", False),
               ("top5_default", "TopKCategoricalAccuracy", {}, "cat", False)]
    spec_m = []
    for key, cls, cfg, inp, use_sw in metrics:
        m = getattr(keras.metrics, cls)(**cfg)
        for b in range(2):
            kw = {"sample_weight": a[f"sw_{b}"]} if use_sw else {}
            m.update_state(a[f"{inp}_true_{b}"], a[f"{inp}_pred_{b}"], **kw)
            a[f"{key}_after{b + 1}"] = np.asarray(m.result())
        spec_m.append({"key": key, "class": cls, "config": cfg, "inputs": inp,
                       "sample_weight": use_sw})
    yield "tool_metrics", {"metrics": spec_m}, a


def schedule_cases(keras):
    S = keras.optimizers.schedules
    scheds = [("exp", "ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=4,
                                                decay_rate=0.5)),
              ("exp_stair", "ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=4,
                                                      decay_rate=0.5, staircase=True)),
              ("piecewise", "PiecewiseConstantDecay", dict(boundaries=[3, 8],
                                                            values=[0.1, 0.05, 0.01])),
              ("cosine", "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10)),
              ("cosine_alpha", "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10,
                                                    alpha=0.2)),
              ("cosine_warmup", "CosineDecay", dict(initial_learning_rate=0.01, decay_steps=10,
                                                     alpha=0.1, warmup_target=0.1,
                                                     warmup_steps=5)),
              ("inverse", "InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2,
                                                    decay_rate=0.5)),
              ("inverse_stair", "InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2,
                                                          decay_rate=0.5, staircase=True))]
    a, spec = {}, []
    for key, cls, cfg in scheds:
        s = getattr(S, cls)(**cfg)
        a[f"lr_{key}"] = np.array([float(s(step)) for step in range(21)])
        spec.append({"key": key, "class": cls, "config": cfg})
    yield "tool_schedules", {"schedules": spec, "steps": list(range(21))}, a


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
    keras.config.set_floatx("float32")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("tool_*.npz"):
        if selected(old.stem):
            old.unlink()
    versions = {"keras_version": np.array(keras.__version__),
                "tf_version": np.array(tf.__version__)}
    names, written = set(), 0
    gens = [utils_cases, loss_cases, schedule_cases] + tm.GENERATORS
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for gen in gens:
            for name, spec, arrays in gen(keras, tmp=tmp, selected=selected) \
                    if gen in tm.GENERATORS else gen(keras):
                assert name not in names, name
                names.add(name)
                if not selected(name):
                    continue
                arrays["spec"] = np.array(json.dumps(spec, sort_keys=True))
                arrays.update(versions)
                np.savez_compressed(out / f"{name}.npz", **arrays)
                written += 1
    total = sum(p.stat().st_size for p in out.glob("tool_*.npz"))
    print(f"wrote {written} of {len(names)} fixtures to {out} (tool_*: {total / 1024:.1f} KiB), "
          f"keras {keras.__version__}, tensorflow {tf.__version__}")


if __name__ == "__main__":
    main()
