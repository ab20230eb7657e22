"""Module-level parts of the toolbox against Keras 3 fixtures (tests/fixtures/tool_*.npz,
written by tools/make_keras_toolbox_fixtures.py on the fixtures branch): utils, schedules,
losses, metrics, and callbacks driven with the logs Keras recorded."""
import json
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

utils, losses, metrics, callbacks, optimizers, preprocessing = load(
    "utils", "losses", "metrics", "callbacks", "optimizers", "preprocessing")
FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def fixture(name):
    data = np.load(FIXTURES / f"{name}.npz")
    return data, json.loads(str(data["spec"]))


def _ragged(flat, lengths):
    out, start = [], 0
    for n in lengths:
        out.append(list(flat[start:start + n]))
        start += n
    return out


# ----------------------------------------------------------------------------- utils

def test_to_categorical_matches_keras():
    data, spec = fixture("tool_utils_to_categorical")
    for i, case in enumerate(spec["cases"]):
        out = utils.to_categorical(data[f"tc{i}_in"], num_classes=case["num_classes"])
        assert out.dtype == np.dtype(case["out_dtype"])
        assert out.shape == data[f"tc{i}_out"].shape
        assert np.array_equal(out, data[f"tc{i}_out"])


def test_pad_sequences_matches_keras():
    data, spec = fixture("tool_utils_pad_sequences")
    seqs = _ragged(data["seqs_flat"].tolist(), data["seqs_len"])
    for i, case in enumerate(spec["cases"]):
        kwargs = {k: v for k, v in case.items() if k != "out_dtype"}
        out = utils.pad_sequences(seqs, **kwargs)
        assert out.dtype == np.dtype(case["out_dtype"]), case
        assert np.array_equal(out, data[f"pad{i}"]), case
    fseqs = _ragged(data["fseqs_flat"].tolist(), data["fseqs_len"])
    for i, case in enumerate(spec["float_cases"]):
        kwargs = {k: v for k, v in case.items() if k != "out_dtype"}
        out = utils.pad_sequences(fseqs, **kwargs)
        assert out.dtype == np.dtype(case["out_dtype"])
        assert np.array_equal(out, data[f"fpad{i}"]), case
    for bad, message in spec["errors"].items():
        with pytest.raises(ValueError) as info:
            utils.pad_sequences(seqs, **json.loads(bad))
        if "understood" in message:
            assert str(info.value) == message.split(": ", 1)[1]
        else:
            assert "`maxlen`" in str(info.value)
    assert preprocessing.sequence.pad_sequences is utils.pad_sequences


def test_normalize_matches_keras():
    data, spec = fixture("tool_utils_normalize")
    for i, case in enumerate(spec["cases"]):
        order = np.inf if case["order"] == "inf" else case["order"]
        for tag, x in (("", data["x"]), ("_sq", data["x_sq"])):
            out = utils.normalize(x, axis=case["axis"], order=order)
            if case["axis"] == 0:          # Keras's NumPy path is broken there: tensor path
                expected = data[f"norm{i}{tag}_tensor"]
            else:
                expected = data[f"norm{i}{tag}"]
            assert_allclose(out, expected, rtol=2e-6, atol=1e-7)
    assert_allclose(utils.normalize(data["x3"], axis=1, order=2), data["norm3d"], rtol=2e-6)


def test_timeseries_dataset_matches_keras():
    data, spec = fixture("tool_utils_timeseries")
    for i, case in enumerate(spec["cases"]):
        kwargs = {k: v for k, v in case.items()
                  if k not in ("n_batches", "targets", "targets_from")}
        x, y = data["data"], data["targets"]
        if "targets" in case:
            y = None
        if "targets_from" in case:
            k = case["targets_from"]
            x, y = x[:-k], y[k:]
        ds = utils.timeseries_dataset_from_array(x, y, **kwargs)
        batches = list(ds)
        assert len(batches) == len(ds) == case["n_batches"], case
        for b, batch in enumerate(batches):
            if y is None:
                assert np.array_equal(batch, data[f"ts{i}_x{b}"])
            else:
                assert np.array_equal(batch[0], data[f"ts{i}_x{b}"]), (case, b)
                assert np.array_equal(batch[1], data[f"ts{i}_y{b}"]), (case, b)


# ----------------------------------------------------------------------------- schedules

def test_schedules_match_keras():
    data, spec = fixture("tool_schedules")
    for entry in spec["schedules"]:
        sched = getattr(optimizers.schedules, entry["class"])(**entry["config"])
        values = [float(sched(step)) for step in range(len(data[f"lr_{entry['key']}"]))]
        assert_allclose(values, data[f"lr_{entry['key']}"], rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- losses

def test_loss_functions_match_keras():
    data, spec = fixture("tool_losses")
    for entry in spec["functions"]:
        t, p = (data[k] for k in entry["inputs"])
        out = getattr(losses, entry["name"])(t, p)
        assert_allclose(out, data[f"fn_{entry['key']}"], rtol=2e-6, atol=1e-7,
                        err_msg=entry["key"])


def test_loss_classes_match_keras_for_every_reduction():
    data, spec = fixture("tool_losses")
    for entry in spec["classes"]:
        t, p = (data[k] for k in entry["inputs"])
        for reduction in spec["reductions"]:
            loss = getattr(losses, entry["class"])(reduction=reduction, **entry["config"])
            for suffix, kwargs in (("", {}), ("_sw", {"sample_weight": data["sw"]})):
                key = f"cls_{entry['key']}_{reduction}{suffix}"
                if key in spec["errors"]:      # Keras raises too (weights of the wrong shape)
                    with pytest.raises(ValueError, match="`sample_weight`"):
                        loss(t, p, **kwargs)
                    continue
                expected = data[key]
                assert_allclose(loss(t, p, **kwargs), expected, rtol=2e-6, atol=1e-7,
                                err_msg=f"{entry['key']} {reduction}{suffix}")


def test_loss_names_resolve_like_keras_get():
    _, spec = fixture("tool_losses")
    for name, facts in spec["aliases"].items():
        resolved = facts["keras.losses.get"]
        if resolved.startswith("ValueError"):
            continue          # Keras 2 spellings that fastrnn keeps (logcosh, ...)
        loss = losses.get(name)
        assert type(loss) is type(losses.get(resolved)), name


# ----------------------------------------------------------------------------- metrics

def test_metrics_match_keras():
    data, spec = fixture("tool_metrics")
    for entry in spec["metrics"]:
        m = getattr(metrics, entry["class"])(**entry["config"])
        for b in range(2):
            kind = entry["inputs"]
            sw = data[f"sw_{b}"] if entry["sample_weight"] else None
            m.update_state(data[f"{kind}_true_{b}"], data[f"{kind}_pred_{b}"],
                           sample_weight=sw)
            assert_allclose(m.result(), data[f"{entry['key']}_after{b + 1}"], rtol=2e-6,
                            atol=1e-7, err_msg=entry["key"])


# ----------------------------------------------------------------------------- callbacks

class _Model:
    def __init__(self, lr=0.1):
        self.optimizer = optimizers.SGD(learning_rate=lr)
        self.stop_training = False
        self.weights = [np.zeros(2)]

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


def _drive(cb, history, model, epochs, initial_epoch=0):
    """Run ``cb`` through the epochs with the logs Keras recorded; returns (lr at each
    epoch end, logs seen, epochs run)."""
    cb.set_model(model)
    cb.on_train_begin({})
    lrs, seen, ran = [], [], []
    for i, epoch in enumerate(range(initial_epoch, epochs)):
        cb.on_epoch_begin(epoch, {})
        model.weights = [np.full(2, float(epoch))]
        logs = {k: float(v[i]) for k, v in history.items()}
        cb.on_epoch_end(epoch, logs)
        lrs.append(model.optimizer.learning_rate)
        seen.append(logs)
        ran.append(epoch)
        if model.stop_training:
            break
    cb.on_train_end({})
    return lrs, seen, ran


def _history(data, spec, prefix="hist_"):
    return {k: data[f"{prefix}{k}"] for k in spec["history_keys"]
            if f"{prefix}{k}" in data and k != "learning_rate"}


@pytest.mark.parametrize("name", ["tool_cb_reduce_lr", "tool_cb_reduce_lr_cooldown"])
def test_reduce_lr_on_plateau_matches_keras(name):
    data, spec = fixture(name)
    cb = callbacks.ReduceLROnPlateau(**spec["callbacks"][0]["config"])
    lrs, seen, _ = _drive(cb, _history(data, spec), _Model(), spec["fit"]["epochs"])
    assert_allclose(lrs, data["lr_epoch_end"], rtol=1e-6)
    assert_allclose([logs["learning_rate"] for logs in seen], data["hist_learning_rate"],
                    rtol=1e-6)


@pytest.mark.parametrize("name", ["tool_cb_lr_scheduler", "tool_cb_lr_scheduler_initial_epoch"])
def test_learning_rate_scheduler_matches_keras(name):
    data, spec = fixture(name)
    assert spec["callbacks"][0]["schedule"] == \
        "lambda epoch, lr: lr * 0.5 if epoch >= 2 else 0.1 / (epoch + 1)"
    cb = callbacks.LearningRateScheduler(
        lambda epoch, lr: lr * 0.5 if epoch >= 2 else 0.1 / (epoch + 1))
    lrs, seen, ran = _drive(cb, _history(data, spec), _Model(), spec["fit"]["epochs"],
                            spec["fit"].get("initial_epoch", 0))
    assert ran == data["epochs_run"].tolist()
    assert_allclose(lrs, data["lr_epoch_end"], rtol=1e-6)
    assert_allclose([logs["learning_rate"] for logs in seen], data["hist_learning_rate"],
                    rtol=1e-6)


def test_csv_logger_writes_keras_text(tmp_path):
    data, spec = fixture("tool_cb_csv_logger")
    path = tmp_path / "log.csv"
    cb = callbacks.CSVLogger(str(path), **spec["callbacks"][0]["config"])
    _drive(cb, _history(data, spec), _Model(), spec["fit"]["epochs"])
    assert path.read_text() == str(data["csv_text"])


def test_csv_logger_append_with_separator_writes_keras_text(tmp_path):
    data, spec = fixture("tool_cb_csv_logger_append_sep")
    path = tmp_path / "log.csv"
    cb = callbacks.CSVLogger(str(path), **spec["callbacks"][0]["config"])
    model = _Model()
    _drive(cb, _history(data, spec), model, spec["fit"]["epochs"])
    _drive(cb, _history(data, spec, "hist2_"), model, spec["fit"]["epochs"])
    assert path.read_text() == str(data["csv_text"])


@pytest.mark.parametrize("name", ["tool_cb_early_stopping", "tool_cb_early_stopping_no_stop"])
def test_early_stopping_matches_keras(name):
    data, spec = fixture(name)
    cb = callbacks.EarlyStopping(**spec["callbacks"][0]["config"])
    model = _Model()
    _, _, ran = _drive(cb, _history(data, spec), model, spec["fit"]["epochs"])
    assert ran == data["epochs_run"].tolist()
    assert cb.stopped_epoch == int(data["stopped_epoch"])
    assert cb.best_epoch == int(data["best_epoch"])
    # restore_best_weights: the weights of the best epoch come back, stopped or not
    assert_allclose(model.weights[0], float(data["best_epoch"]))
