"""fit-level wiring against Keras 3 (tests/fixtures/tool_fit_*, tool_reg_*, tool_constraint_*,
tool_cb_*.npz from tools/make_keras_toolbox_fixtures.py; models in tools/_toolbox_models.py):
sample/class weights, validation weights, initial_epoch, generators, PyDataset,
weighted_metrics, regularizers (loss and training), constraints, callbacks in a real fit."""
import numpy as np
import pytest

from keras_spec import FIXTURES, build, load, numbered

TOL = 1e-5


def _resolve(config):
    from fastrnn import constraints, regularizers
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and "class" in value:
            module = regularizers if key.endswith("_regularizer") else constraints
            value = getattr(module, value["class"])(**value["config"])
        out[key] = value
    return out


def _model(spec, arrays):
    import fastrnn.optimizers as optimizers
    spec = dict(spec, layers=[dict(ls, config=_resolve(ls.get("config", {})))
                              for ls in spec["layers"]])
    model = build(spec, arrays["x"].shape)
    model.set_weights(numbered(arrays, "weights_"))
    comp = spec["compile"]
    opt = comp["optimizer"]
    model.compile(optimizer=getattr(optimizers, opt["class"])(**opt["config"]),
                  loss=comp["loss"], metrics=comp.get("metrics") or None,
                  weighted_metrics=comp.get("weighted_metrics") or None)
    return model


def _check_history(hist, spec, arrays, prefix="hist_"):
    assert sorted(hist.history) == spec["history_keys"]
    for key in spec["history_keys"]:
        np.testing.assert_allclose(hist.history[key], arrays[prefix + key], rtol=TOL,
                                   atol=TOL, err_msg=key)
    assert hist.epoch == arrays["epochs_run"].tolist()


def _check_weights(model, arrays, prefix="after_"):
    for i, (a, e) in enumerate(zip(model.get_weights(), numbered(arrays, prefix))):
        np.testing.assert_allclose(a, e, rtol=TOL, atol=TOL, err_msg=f"weight {i}")


def _gen(x, y, bs):
    n = -(-len(x) // bs)
    i = 0
    while True:
        yield x[i * bs:(i + 1) * bs], y[i * bs:(i + 1) * bs]
        i = (i + 1) % n


@pytest.mark.parametrize("key", ["sample_weight", "class_weight", "validation_sample_weight",
                                 "initial_epoch", "weighted_metrics", "generator",
                                 "pydataset"])
def test_fit_matches_keras(key):
    from fastrnn.utils import PyDataset
    spec, arrays = load(FIXTURES / f"tool_fit_{key}.npz")
    model = _model(spec, arrays)
    x, y = arrays["x"], arrays["y"]
    fit = dict(spec["fit"])
    if "class_weight" in fit:
        fit["class_weight"] = {int(k): v for k, v in fit["class_weight"].items()}
    kw = {}
    if "sw" in arrays:
        kw["sample_weight"] = arrays["sw"]
    if key == "validation_sample_weight":
        kw["validation_data"] = (arrays["x_val"], arrays["y_val"], arrays["sw_val"])
    if key == "generator":
        hist = model.fit(_gen(x, y, 4), validation_data=_gen(arrays["x_val"],
                                                             arrays["y_val"], 4),
                         verbose=0, **fit)
    elif key == "pydataset":
        class Batches(PyDataset):
            epochs_ended = 0

            def __len__(self):
                return len(x) // 4

            def __getitem__(self, i):
                return x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4]

            def on_epoch_end(self):
                self.epochs_ended += 1

        ds = Batches()
        hist = model.fit(ds, verbose=0, **fit)
        assert ds.epochs_ended == 2
        after = model.get_weights()
        np.testing.assert_allclose(model.evaluate(ds, verbose=0), arrays["eval"], rtol=TOL,
                                   atol=TOL)
        np.testing.assert_allclose(model.predict(ds, verbose=0), arrays["pred"], rtol=TOL,
                                   atol=TOL)
        model.set_weights(after)
    else:
        hist = model.fit(x, y, verbose=0, **fit, **kw)
    _check_history(hist, spec, arrays)
    _check_weights(model, arrays)


REG = sorted(p.stem for p in FIXTURES.glob("tool_reg_*.npz")) + \
    sorted(p.stem for p in FIXTURES.glob("tool_constraint_*.npz"))


@pytest.mark.parametrize("name", REG)
def test_regularizers_and_constraints_train_like_keras(name):
    spec, arrays = load(FIXTURES / f"{name}.npz")
    model = _model(spec, arrays)
    x, y = arrays["x"], arrays["y"]
    np.testing.assert_allclose(model.predict(x, verbose=0), arrays["pred0"], rtol=TOL,
                               atol=TOL)
    np.testing.assert_allclose(np.atleast_1d(model.evaluate(x, y, verbose=0)),
                               np.atleast_1d(arrays["eval0"]), rtol=TOL, atol=TOL)
    for step in range(spec["train"]["steps"]):
        returned = model.train_on_batch(x, y)
        np.testing.assert_allclose(np.atleast_1d(returned), arrays["returns"][step],
                                   rtol=TOL, atol=TOL, err_msg=f"loss of step {step}")
        _check_weights(model, arrays, f"step{step}_")


CB = ["tool_cb_reduce_lr", "tool_cb_reduce_lr_cooldown", "tool_cb_lr_scheduler",
      "tool_cb_lr_scheduler_initial_epoch", "tool_cb_early_stopping",
      "tool_cb_early_stopping_no_stop", "tool_cb_csv_logger"]


@pytest.mark.parametrize("name", CB)
def test_callbacks_in_a_real_fit_match_keras(name, tmp_path):
    from fastrnn import callbacks
    spec, arrays = load(FIXTURES / f"{name}.npz")
    model = _model(spec, arrays)
    lrs = []
    probe = callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: lrs.append(float(model.optimizer.learning_rate)))
    desc = spec["callbacks"][0]
    cls = desc["class"]
    if cls == "LearningRateScheduler":
        cb = callbacks.LearningRateScheduler(
            lambda epoch, lr: lr * 0.5 if epoch >= 2 else 0.1 / (epoch + 1))
    elif cls == "CSVLogger":
        cb = callbacks.CSVLogger(str(tmp_path / "log.csv"), **desc["config"])
    else:
        cb = getattr(callbacks, cls)(**desc["config"])
    kw = {}
    if "x_val" in arrays:
        kw["validation_data"] = (arrays["x_val"], arrays["y_val"])
        cbs = [probe, cb]
    else:
        cbs = [cb, probe]
    hist = model.fit(arrays["x"], arrays["y"], verbose=0, callbacks=cbs, **spec["fit"], **kw)
    _check_history(hist, spec, arrays)
    np.testing.assert_allclose(lrs, arrays["lr_epoch_end"], rtol=1e-6)
    _check_weights(model, arrays)
    if cls == "CSVLogger":
        got = (tmp_path / "log.csv").read_text().splitlines()
        want = str(arrays["csv_text"]).splitlines()
        assert got[0] == want[0] and len(got) == len(want)
        for g, w in zip(got[1:], want[1:]):
            np.testing.assert_allclose([float(v) for v in g.split(",")],
                                       [float(v) for v in w.split(",")], rtol=1e-4)


EMBED = sorted(p.stem for p in FIXTURES.glob("tool_embed_*.npz"))


@pytest.mark.parametrize("name", EMBED)
def test_sparse_embedding_updates_match_keras(name):
    """Repeated tokens and rows never looked up: Keras's TensorFlow-backend sparse updates."""
    spec, arrays = load(FIXTURES / f"{name}.npz")
    model = _model(spec, dict(arrays, x=arrays["x_step0"]))
    for step in range(spec["train"]["steps"]):
        returned = model.train_on_batch(arrays[f"x_step{step}"], arrays[f"y_step{step}"])
        np.testing.assert_allclose(np.atleast_1d(returned), arrays["returns"][step],
                                   rtol=TOL, atol=TOL, err_msg=f"loss of step {step}")
        _check_weights(model, arrays, f"step{step}_")
    never = spec["never_used_rows"]
    np.testing.assert_array_equal(model.get_weights()[0][never], arrays["weights_0"][never])
