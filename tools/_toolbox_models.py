"""Model-based cases of ``tools/make_keras_toolbox_fixtures.py`` (its docstring is the
contract for every file written here): optimizers, fit, regularizers, constraints,
callbacks and sparse Embedding updates. Needs Keras 3 (TensorFlow backend)."""

import json

import numpy as np

SEED = 20251115
B, T, D = 6, 4, 2


def rnn(units=3, **config):
    return {"class": "SimpleRNN", "config": dict({"units": units}, **config)}


def dense(units, activation=None, **config):
    return {"class": "Dense", "config": dict({"units": units, "activation": activation}, **config)}


def obj(cls, **config):
    return {"class": cls, "config": config}


def _resolve(keras, key, value):
    if not isinstance(value, dict) or "class" not in value:
        return value
    if key.endswith("_regularizer"):
        module = keras.regularizers
    elif key.endswith("_constraint"):
        module = keras.constraints
    elif key == "learning_rate":
        module = keras.optimizers.schedules
    else:
        raise ValueError(key)
    return getattr(module, value["class"])(**value["config"])


def keras_layer(keras, ls):
    cfg = {k: _resolve(keras, k, v) for k, v in ls.get("config", {}).items()}
    return getattr(keras.layers, ls["class"])(**cfg)


def keras_optimizer(keras, os_):
    cfg = {k: _resolve(keras, k, v) for k, v in os_.get("config", {}).items()}
    return getattr(keras.optimizers, os_["class"])(**cfg)


def make_model(keras, spec, rng, shape=(T, D)):
    keras.backend.clear_session()
    inp = keras.Input(shape, dtype=spec.get("input_dtype"))
    model = keras.Sequential([inp] + [keras_layer(keras, ls) for ls in spec["layers"]])
    weights = [rng.uniform(-0.7, 0.7, w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    comp = spec["compile"]
    model.compile(optimizer=keras_optimizer(keras, comp["optimizer"]), loss=comp["loss"],
                  metrics=comp.get("metrics") or None,
                  weighted_metrics=comp.get("weighted_metrics") or None)
    return model, {f"weights_{i}": w for i, w in enumerate(weights)}


def data(rng, n=B, kind="regression"):
    x = rng.uniform(-1, 1, (n, T, D)).astype("float32")
    if kind == "regression":
        y = rng.uniform(-1, 1, (n, 1)).astype("float32")
    else:
        y = rng.integers(0, 2, (n, 1)).astype("float32")
    return x, y


def spec_of(layers, optimizer, loss="mse", metrics=(), **extra):
    return dict({"kind": "sequential", "dtype": "float32", "layers": layers,
                 "compile": {"optimizer": optimizer, "loss": loss, "metrics": list(metrics)}},
                **extra)


def train_steps(model, arrays, spec, x, y, steps):
    rows = []
    for s in range(steps):
        rows.append(np.atleast_1d(np.asarray(model.train_on_batch(x, y), dtype="float64")))
        for i, w in enumerate(model.get_weights()):
            arrays[f"step{s}_{i}"] = w
    arrays["returns"] = np.stack(rows)
    spec["returns"] = ["loss"] + list(spec["compile"]["metrics"])
    spec["train"] = {"method": "train_on_batch", "steps": steps}
    for i, w in enumerate(model.get_weights()):
        arrays[f"after_{i}"] = w


def record_history(hist, arrays, spec):
    spec["history_keys"] = sorted(hist.history)
    for key, values in hist.history.items():
        arrays[f"hist_{key}"] = np.asarray(values, dtype="float64")
    arrays["epochs_run"] = np.asarray(hist.epoch, dtype="int64")
    for i, w in enumerate(hist.model.get_weights()):
        arrays[f"after_{i}"] = w


# --------------------------------------------------------------------------
def optimizer_cases(keras, tmp, selected):
    sched = obj("ExponentialDecay", initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5,
                staircase=True)
    warm = obj("CosineDecay", initial_learning_rate=0.001, decay_steps=4, alpha=0.1,
               warmup_target=0.02, warmup_steps=2)
    opts = [("sgd_weight_decay", "SGD", dict(learning_rate=0.1, weight_decay=0.05)),
            ("sgd_momentum_global_clipnorm", "SGD", dict(learning_rate=0.1, momentum=0.9,
                                                         global_clipnorm=0.05)),
            ("sgd_clipvalue", "SGD", dict(learning_rate=0.1, clipvalue=0.02)),
            ("adam_weight_decay", "Adam", dict(learning_rate=0.01, weight_decay=0.1)),
            ("adam_global_clipnorm", "Adam", dict(learning_rate=0.01, global_clipnorm=0.05)),
            ("adam_amsgrad", "Adam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95,
                                          epsilon=1e-4, amsgrad=True)),
            ("rmsprop_weight_decay", "RMSprop", dict(learning_rate=0.01, rho=0.8,
                                                     weight_decay=0.05)),
            ("rmsprop_centered_momentum_gcn", "RMSprop", dict(learning_rate=0.01, momentum=0.5,
                                                              centered=True, global_clipnorm=0.1)),
            ("rmsprop_decay", "RMSprop", dict(learning_rate=0.01, decay=0.01)),
            ("adagrad", "Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.2,
                                        epsilon=1e-6)),
            ("adagrad_default", "Adagrad", dict()),
            ("adadelta", "Adadelta", dict(learning_rate=1.0, rho=0.9, epsilon=1e-5)),
            ("adadelta_default", "Adadelta", dict()),
            ("adamax", "Adamax", dict(learning_rate=0.02, beta_1=0.8, beta_2=0.9)),
            ("nadam", "Nadam", dict(learning_rate=0.01, beta_1=0.85, beta_2=0.99)),
            ("adamw", "AdamW", dict(learning_rate=0.01, weight_decay=0.1, beta_2=0.99)),
            ("adamw_default", "AdamW", dict(learning_rate=0.01)),
            ("sgd_schedule_exp_stair", "SGD", dict(learning_rate=sched)),
            ("adam_schedule_cosine_warmup", "Adam", dict(learning_rate=warm))]
    for k, (key, cls, cfg) in enumerate(opts):
        name = f"tool_opt_{key}"
        if not selected(name):
            yield name, None, None
            continue
        rng = np.random.default_rng([SEED, k])
        spec = spec_of([rnn(3), dense(1)], obj(cls, **cfg))
        model, arrays = make_model(keras, spec, rng)
        x, y = data(rng)
        arrays.update(x=x, y=y)
        train_steps(model, arrays, spec, x, y, 3)
        opt = model.optimizer
        spec["optimizer_variables"] = [v.path for v in opt.variables]
        for i, v in enumerate(opt.variables):
            arrays[f"optvars_{i}"] = np.asarray(v)
        if key == "rmsprop_decay":
            spec["decay_behaviour"] = _decay_behaviour(keras)
            ref = spec_of([rnn(3), dense(1)], obj("RMSprop", learning_rate=0.01))
            m2, _ = make_model(keras, ref, np.random.default_rng([SEED, k]))
            for _ in range(3):
                m2.train_on_batch(x, y)
            for w1, w2 in zip(model.get_weights(), m2.get_weights()):
                np.testing.assert_array_equal(w1, w2)
            spec["decay_behaviour"]["same_as_without_decay"] = True
        yield name, spec, arrays


def _decay_behaviour(keras):
    import warnings
    out = {}
    for d in (0.0, 0.01):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                o = keras.optimizers.RMSprop(learning_rate=0.01, decay=d)
                out[str(d)] = {"raises": False, "learning_rate": float(o.learning_rate),
                               "config_has_decay": "decay" in o.get_config(),
                               "warnings": [str(w.message) for w in caught]}
            except Exception as e:
                out[str(d)] = {"raises": True, "error": f"{type(e).__name__}: {e}"}
    return out


# --------------------------------------------------------------------------
def fit_cases(keras, tmp, selected):
    base = [rnn(3), dense(1)]
    cases = ["sample_weight", "class_weight", "validation_sample_weight", "initial_epoch",
             "generator", "pydataset", "weighted_metrics"]
    for k, key in enumerate(cases):
        name = f"tool_fit_{key}"
        if not selected(name):
            yield name, None, None
            continue
        rng = np.random.default_rng([SEED, 100 + k])
        if key == "class_weight":
            spec = spec_of([rnn(3), dense(1, "sigmoid")], obj("SGD", learning_rate=0.2),
                           "binary_crossentropy", ["accuracy"])
        elif key == "weighted_metrics":
            spec = spec_of(base, obj("Adam", learning_rate=0.02), "mse", ["mae"],)
            spec["compile"]["weighted_metrics"] = ["mse"]
        else:
            spec = spec_of(base, obj("Adam", learning_rate=0.02), "mse", ["mae"])
        model, arrays = make_model(keras, spec, rng)
        x, y = data(rng, 10, "binary" if key == "class_weight" else "regression")
        arrays.update(x=x, y=y)
        fit = {"batch_size": 4, "epochs": 2, "shuffle": False}
        kw = {}
        if key in ("sample_weight", "weighted_metrics"):
            arrays["sw"] = rng.uniform(0, 2, 10).astype("float32")
            kw["sample_weight"] = arrays["sw"]
        if key == "class_weight":
            fit["class_weight"] = {"0": 0.3, "1": 2.0}
            kw["class_weight"] = {0: 0.3, 1: 2.0}
        if key == "validation_sample_weight":
            xv, yv = data(rng, 5)
            sv = np.array([1.0, 0.0, 2.0, 0.5, 1.5], "float32")
            arrays.update(x_val=xv, y_val=yv, sw_val=sv)
            kw["validation_data"] = (xv, yv, sv)
        if key == "initial_epoch":
            fit.update(epochs=4, initial_epoch=2)
        if key == "generator":
            xv, yv = data(rng, 8)
            arrays.update(x_val=xv, y_val=yv)
            fit = {"epochs": 2, "steps_per_epoch": 3, "validation_steps": 2}
            hist = model.fit(_gen(x, y, 4), validation_data=_gen(xv, yv, 4), verbose=0, **fit)
        elif key == "pydataset":
            # fit's default shuffle=True shuffles a PyDataset's batch order in Keras 3
            # (PyDatasetAdapter); shuffle=False keeps 0, 1, 2.
            fit = {"epochs": 2, "shuffle": False}
            arrays.update(x=np.concatenate([x[:8], x[:4]]), y=np.concatenate([y[:8], y[:4]]))
            spec["pydataset"] = "3 batches of 4: x[0:4], x[4:8], x[8:12] of the stored x (12 rows)"
            ds = _pydataset(keras, arrays["x"], arrays["y"])
            hist = model.fit(ds, verbose=0, **fit)
            arrays["eval"] = np.asarray(model.evaluate(ds, verbose=0), "float64")
            arrays["pred"] = model.predict(ds, verbose=0)
        else:
            plain = {k: v for k, v in fit.items() if k != "class_weight"}
            hist = model.fit(x, y, verbose=0, **plain, **kw)
        spec["fit"] = fit
        record_history(hist, arrays, spec)
        yield name, spec, arrays


def _gen(x, y, bs):
    n = -(-len(x) // bs)
    i = 0
    while True:
        yield x[i * bs:(i + 1) * bs], y[i * bs:(i + 1) * bs]
        i = (i + 1) % n


def _pydataset(keras, x, y):
    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(x) // 4

        def __getitem__(self, i):
            return x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4]

    return Batches()


# --------------------------------------------------------------------------
def reg_constraint_cases(keras, tmp, selected):
    L1, L2, L1L2 = (obj("L1", l1=0.05), obj("L2", l2=0.1), obj("L1L2", l1=0.02, l2=0.03))
    regs = {
        "l1_all": (dict(kernel_regularizer=L1, recurrent_regularizer=L1, bias_regularizer=L1,
                        activity_regularizer=L1), dict(kernel_regularizer=L1, bias_regularizer=L1)),
        "l2_all": (dict(kernel_regularizer=L2, recurrent_regularizer=L2, bias_regularizer=L2,
                        activity_regularizer=L2),
                   dict(kernel_regularizer=L2, activity_regularizer=L2)),
        "l1l2_mixed": (dict(kernel_regularizer=L1L2, recurrent_regularizer=L2,
                            activity_regularizer=L1L2), dict(kernel_regularizer=L1,
                                                             bias_regularizer=L1L2)),
        "strings": (dict(kernel_regularizer="l1", recurrent_regularizer="l2"),
                    dict(kernel_regularizer="l2", bias_regularizer="l1")),
        "activity_seq": (dict(return_sequences=True, activity_regularizer=L2), None),
    }
    cons = {
        "maxnorm": (dict(kernel_constraint=obj("MaxNorm", max_value=0.5, axis=0)),
                    dict(kernel_constraint=obj("MaxNorm", max_value=0.3))),
        "nonneg": (dict(recurrent_constraint=obj("NonNeg"), bias_constraint=obj("NonNeg")), {}),
        "unitnorm": (dict(kernel_constraint=obj("UnitNorm", axis=0)),
                     dict(kernel_constraint=obj("UnitNorm", axis=1))),
        "minmaxnorm": (dict(recurrent_constraint=obj("MinMaxNorm", min_value=0.5, max_value=0.8,
                                                     rate=0.7, axis=0)),
                       dict(kernel_constraint=obj("MinMaxNorm", min_value=0.9, max_value=1.0))),
    }
    items = [(f"tool_reg_{k}", v) for k, v in regs.items()] + \
            [(f"tool_constraint_{k}", v) for k, v in cons.items()]
    for k, (name, (rcfg, dcfg)) in enumerate(items):
        if not selected(name):
            yield name, None, None
            continue
        rng = np.random.default_rng([SEED, 200 + k])
        layers = [rnn(3, **rcfg)]
        if dcfg is not None:
            layers.append(dense(1, **dcfg))
        else:
            layers.append({"class": "Flatten", "config": {}})
            layers.append(dense(1))
        spec = spec_of(layers, obj("SGD", learning_rate=0.1))
        model, arrays = make_model(keras, spec, rng)
        x, y = data(rng)
        arrays.update(x=x, y=y)
        arrays["eval0"] = np.asarray(model.evaluate(x, y, verbose=0), "float64")
        arrays["pred0"] = np.asarray(model(x))
        # Keras 3.15.1 lists the weight regularisers and Dense's activity loss here;
        # a SimpleRNN's activity_regularizer is ignored altogether (checked below).
        arrays["reg_losses0"] = np.array([float(v) for v in model.losses])
        train_steps(model, arrays, spec, x, y, 2)
        if any("activity_regularizer" in ls["config"] for ls in layers[:1]):
            spec["rnn_activity_regularizer_ignored"] = _rnn_activity_ignored(
                keras, spec, x, y, _numbered(arrays, "weights_"), model)
        if name == "tool_reg_activity_seq":
            assert spec["rnn_activity_regularizer_ignored"], "Keras changed: regenerate docs"

        yield name, spec, arrays


def _numbered(arrays, prefix):
    out = []
    while f"{prefix}{len(out)}" in arrays:
        out.append(arrays[f"{prefix}{len(out)}"])
    return out


def _rnn_activity_ignored(keras, spec, x, y, start, model):
    """True when the same model without the SimpleRNN's activity_regularizer trains to
    bit-identical weights (so Keras ignored that regulariser)."""
    twin = json.loads(json.dumps(spec))
    twin["layers"][0]["config"].pop("activity_regularizer")
    m2, _ = make_model(keras, twin, np.random.default_rng(0))
    m2.set_weights(start)
    for _ in range(2):
        m2.train_on_batch(x, y)
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), m2.get_weights()))


# --------------------------------------------------------------------------
def callback_cases(keras, tmp, selected):
    import os
    cbs = ["reduce_lr", "reduce_lr_cooldown", "lr_scheduler", "lr_scheduler_initial_epoch",
           "early_stopping", "early_stopping_no_stop", "csv_logger", "csv_logger_append_sep"]
    for k, key in enumerate(cbs):
        name = f"tool_cb_{key}"
        if not selected(name):
            yield name, None, None
            continue
        # Both EarlyStopping cases share data and start weights (val_loss rises from epoch 0).
        rng = np.random.default_rng([SEED, 300 + (5 if key.startswith("early") else k)])
        spec = spec_of([rnn(3), dense(1)], obj("SGD", learning_rate=0.1), "mse", ["mae"])
        model, arrays = make_model(keras, spec, rng)
        x, y = data(rng, 10)
        arrays.update(x=x, y=y)
        fit = {"batch_size": 4, "epochs": 6, "shuffle": False}
        callbacks, desc = [], []
        lrs, epoch_w = [], []
        lr_fn = "lambda epoch, lr: lr * 0.5 if epoch >= 2 else 0.1 / (epoch + 1)"
        if key.startswith("reduce_lr"):
            cfg = dict(monitor="loss", factor=0.5, patience=1, min_delta=1.0, min_lr=0.02)
            if key == "reduce_lr_cooldown":
                cfg = dict(monitor="loss", factor=0.2, patience=0, cooldown=2, min_delta=1.0,
                           min_lr=0.001)
            callbacks.append(keras.callbacks.ReduceLROnPlateau(**cfg))
            desc.append({"class": "ReduceLROnPlateau", "config": cfg,
                         "note": "min_delta=1.0 is larger than any loss change: every epoch "
                                 "after the first is a plateau epoch"})
        elif key.startswith("lr_scheduler"):
            callbacks.append(keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: lr * 0.5 if epoch >= 2 else 0.1 / (epoch + 1)))
            desc.append({"class": "LearningRateScheduler",
                         "schedule": lr_fn})
            if key.endswith("initial_epoch"):
                fit.update(initial_epoch=1, epochs=4)
        elif key.startswith("early_stopping"):
            xv, yv = data(rng, 5)
            yv = -yv
            arrays.update(x_val=xv, y_val=yv)
            fit.update(epochs=8)
            cfg = dict(monitor="val_loss", patience=2, restore_best_weights=True)
            if key.endswith("no_stop"):
                cfg["patience"] = 100
            es = keras.callbacks.EarlyStopping(**cfg)
            desc.append({"class": "EarlyStopping", "config": cfg})
        else:
            path = os.path.join(tmp, f"{key}.csv")
            cfg = {"append": False, "separator": ","}
            if key.endswith("append_sep"):
                cfg = {"append": True, "separator": ";"}
            desc.append({"class": "CSVLogger", "config": cfg,
                         "note": "append case: two fits of 2 epochs each into one file"})
            callbacks.append(keras.callbacks.CSVLogger(path, **cfg))
            fit["epochs"] = 2 if cfg["append"] else 3
        def on_epoch_end(epoch, logs, model=model, lrs=lrs, epoch_w=epoch_w):
            lrs.append(float(model.optimizer.learning_rate))
            epoch_w.append(model.get_weights())

        probe = keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)
        kw = {}
        if "x_val" in arrays:
            kw["validation_data"] = (arrays["x_val"], arrays["y_val"])
            callbacks = [probe, es]
        else:
            callbacks = callbacks + [probe]
        if key.startswith("csv_logger"):
            fit["validation_split"] = 0.2
        hist = model.fit(x, y, verbose=0, callbacks=callbacks, **fit, **kw)
        if key == "csv_logger_append_sep":
            hist2 = model.fit(x, y, verbose=0, callbacks=callbacks, **fit, **kw)
            for hk, values in hist2.history.items():
                arrays[f"hist2_{hk}"] = np.asarray(values, "float64")
            spec["note"] = "fit called twice with the same callbacks; hist2_* the second"
        if key.startswith("csv_logger"):
            with open(path) as f:
                arrays["csv_text"] = np.array(f.read())
        if key.startswith("early_stopping"):
            arrays["stopped_epoch"] = np.array(es.stopped_epoch)
            arrays["best_epoch"] = np.array(es.best_epoch)
            for e, ws in enumerate(epoch_w):
                for i, w in enumerate(ws):
                    arrays[f"epoch_w{e}_{i}"] = w
        arrays["lr_epoch_end"] = np.asarray(lrs, "float64")
        spec["fit"] = fit
        spec["callbacks"] = desc
        record_history(hist, arrays, spec)
        yield name, spec, arrays


# --------------------------------------------------------------------------
def embedding_cases(keras, tmp, selected):
    opts = [("sgd", "SGD", dict(learning_rate=0.5)),
            ("sgd_momentum", "SGD", dict(learning_rate=0.2, momentum=0.9)),
            ("rmsprop", "RMSprop", dict(learning_rate=0.01)),
            ("adam", "Adam", dict(learning_rate=0.01)),
            ("adagrad", "Adagrad", dict(learning_rate=0.1))]
    # rows 0, 17, 18, 19 never looked up; row 5 only in step 0; repeats in every row
    xs = [np.array([[1, 2, 2, 5, 2, 3], [4, 4, 4, 6, 1, 5], [7, 8, 9, 7, 10, 2]]),
          np.array([[1, 1, 11, 12, 13, 1], [14, 2, 3, 3, 15, 16], [6, 6, 6, 6, 9, 4]]),
          np.array([[2, 3, 4, 6, 7, 8], [8, 8, 9, 10, 11, 12], [13, 14, 16, 16, 1, 1]])]
    ys = [np.array([[1], [0], [1]], "float32"), np.array([[0], [1], [1]], "float32"),
          np.array([[1], [1], [0]], "float32")]
    never = sorted(set(range(20)) - set(np.concatenate(xs).ravel().tolist()))
    assert never == [0, 17, 18, 19], never
    for k, (key, cls, cfg) in enumerate(opts):
        name = f"tool_embed_{key}"
        if not selected(name):
            yield name, None, None
            continue
        rng = np.random.default_rng([SEED, 400 + k])
        layers = [{"class": "Embedding", "config": {"input_dim": 20, "output_dim": 4}},
                  rnn(3), dense(1, "sigmoid")]
        spec = spec_of(layers, obj(cls, **cfg), "binary_crossentropy", input_dtype="int32")
        model, arrays = make_model(keras, spec, rng, shape=(6,))
        prev = arrays["weights_0"]
        slot_names, rows = None, []
        prev_slots = None
        findings = {"never_used_rows_unchanged": True, "never_used_slots_unchanged": True}
        for s in range(3):
            arrays[f"x_step{s}"] = xs[s].astype("int32")
            arrays[f"y_step{s}"] = ys[s]
            ret = model.train_on_batch(arrays[f"x_step{s}"], ys[s])
            rows.append(float(np.asarray(ret)))
            for i, w in enumerate(model.get_weights()):
                arrays[f"step{s}_{i}"] = w
            emb = model.get_weights()[0]
            changed = np.any(emb != prev, axis=1)
            arrays[f"rows_changed_step{s}"] = changed
            if changed[never].any():
                findings["never_used_rows_unchanged"] = False
            prev = emb
            slots = [v for v in model.optimizer.variables
                     if tuple(v.shape) == (20, 4)]
            slot_names = [v.path for v in slots]
            for v in slots:
                arrays[f"slot{s}_{v.path.replace('/', '.')}"] = np.asarray(v)
                init = prev_slots[v.path] if prev_slots else None
                if init is not None and np.any(np.asarray(v)[never] != init[never]):
                    findings["never_used_slots_unchanged"] = False
            prev_slots = {v.path: np.asarray(v) for v in slots}
            for v in slots:
                if np.any(np.asarray(v)[never] != 0) and key != "adagrad":
                    findings["never_used_slots_unchanged"] = False
        findings["rows_changed_per_step"] = [np.flatnonzero(arrays[f"rows_changed_step{s}"]
                                                            ).tolist() for s in range(3)]
        findings["row5_changed_in_steps_1_2"] = [bool(arrays[f"rows_changed_step{s}"][5])
                                                 for s in (1, 2)]
        arrays["returns"] = np.array(rows)[:, None]
        spec["returns"] = ["loss"]
        spec["train"] = {"method": "train_on_batch", "steps": 3, "batches": "x_step<s>, y_step<s>"}
        spec["slot_names"] = [p.replace("/", ".") for p in slot_names]
        spec["never_used_rows"] = never
        spec["findings"] = findings
        for i, w in enumerate(model.get_weights()):
            arrays[f"after_{i}"] = w
        yield name, spec, arrays


GENERATORS = [optimizer_cases, fit_cases, reg_constraint_cases, callback_cases, embedding_cases]
