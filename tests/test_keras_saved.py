"""Files written by real Keras load into fastrnn with Keras's numbers (issue 10).

``tests/fixtures/saved/`` holds small models saved by Keras 3.15.1 (``NAME.keras``,
legacy ``NAME.h5``, ``NAME.weights.h5``) and by Keras 2.21 through tf_keras
(``keras2_NAME.h5``, ``keras2_NAME_weights.h5``), each with ``NAME.npz`` holding an
input, Keras's predictions and the weights by layer name; see that folder's README.md
and LAYOUT.md, and ``tools/make_keras_saved_fixtures.py``. No test imports TensorFlow.

Keras behaviour recorded there:

- in a ``.keras`` file the weights live at ``layers/<snake_case class name>[_n]/...``
  (``layers/simple_rnn_1/cell/vars/0``), numbered by class in ``model.layers`` order,
  whatever the layers' own names (an attribute ``name`` on each ``vars`` group holds it);
- Keras 3 loads the optimizer state of a legacy ``.h5`` but its next
  ``train_on_batch`` then fails ("Unknown variable"); resuming is recorded from the
  ``.keras`` files (and, for Keras 2, from its own ``.h5``).
"""

import json
import pathlib
import shutil
import zipfile

import numpy as np
import pytest

import graph_models
from keras_spec import FIXTURES

SAVED = FIXTURES / "saved"
TOL = 1e-5
NAMES = sorted(graph_models.SAVED)
KERAS2 = sorted(p.stem[len("keras2_"):] for p in SAVED.glob("keras2_*.npz"))

# (file, npz) pairs that load as full models
FULL_MODELS = ([(f"{n}.keras", n) for n in NAMES] + [(f"{n}.h5", n) for n in NAMES]
               + [(f"keras2_{n}.h5", f"keras2_{n}") for n in KERAS2])
# (weights file, npz, builder name) pairs for load_weights
WEIGHT_FILES = ([(f"{n}.weights.h5", n, n) for n in NAMES]
                + [(f"keras2_{n}_weights.h5", f"keras2_{n}", n) for n in KERAS2])


def _record(stem):
    with np.load(SAVED / f"{stem}.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return json.loads(str(arrays.pop("spec"))), arrays


def _inputs(arrays):
    if "x" in arrays:
        return arrays["x"]
    xs = []
    while f"x_{len(xs)}" in arrays:
        xs.append(arrays[f"x_{len(xs)}"])
    return xs


def _outputs(arrays):
    outs = []
    while f"out_{len(outs)}" in arrays:
        outs.append(arrays[f"out_{len(outs)}"])
    return outs


def _as_list(result):
    return [np.asarray(r) for r in result] if isinstance(result, (list, tuple)) \
        else [np.asarray(result)]


def _assert_predictions(model, arrays, what):
    expected = _outputs(arrays)
    actual = _as_list(model.predict(_inputs(arrays), verbose=0))
    assert len(actual) == len(expected), what
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a.shape == e.shape, f"{what}: output {i}"
        np.testing.assert_allclose(a, e, rtol=TOL, atol=TOL, err_msg=f"{what}: output {i}")


def _layer_weights(arrays, prefix="w"):
    out = {}
    for key in sorted(k for k in arrays if k.startswith(prefix + "/")):
        _, layer, i = key.split("/")
        out.setdefault(layer, {})[int(i)] = arrays[key]
    return {layer: [ws[i] for i in range(len(ws))] for layer, ws in out.items()}


def _load_model(path, **kwargs):
    from fastrnn.models import load_model

    return load_model(str(path), **kwargs)


def test_saved_folder_is_small_and_complete():
    assert sum(p.stat().st_size for p in SAVED.iterdir()) < 1_200_000
    for name in NAMES:
        for suffix in (".keras", ".h5", ".weights.h5", ".npz"):
            assert (SAVED / f"{name}{suffix}").exists(), f"{name}{suffix}"


@pytest.mark.parametrize("filename,stem", FULL_MODELS, ids=[f for f, _ in FULL_MODELS])
def test_load_model_predicts_keras(filename, stem):
    spec, arrays = _record(stem)
    model = _load_model(SAVED / filename)
    # layer names come back as saved, with Keras's weights
    for layer_name, expected in _layer_weights(arrays).items():
        actual = model.get_layer(layer_name).get_weights()
        assert len(actual) == len(expected), layer_name
        for a, e in zip(actual, expected):
            np.testing.assert_array_equal(a, e)
    _assert_predictions(model, arrays, filename)


@pytest.mark.parametrize("filename", ["encoder_decoder.keras", "encoder_decoder.h5"])
def test_loaded_functional_model_keeps_its_graph(filename):
    model = _load_model(SAVED / filename)
    assert [t.name for t in model.inputs] == ["enc_in", "dec_in"]
    assert [layer.name for layer in model.layers] == ["enc_in", "dec_in", "encoder", "decoder",
                                                      "head"]


@pytest.mark.parametrize("filename,stem,builder", WEIGHT_FILES, ids=[f for f, _, _ in WEIGHT_FILES])
def test_load_weights_by_topology(filename, stem, builder):
    """``load_weights`` into the same architecture built with fastrnn (whatever the
    automatic layer names are in this process) gives Keras's predictions."""
    import fastrnn as K

    _, arrays = _record(stem)
    model = graph_models.SAVED[builder]["build"](K)
    model.load_weights(str(SAVED / filename))
    _assert_predictions(model, arrays, filename)


@pytest.mark.parametrize("filename,stem", [("trained_adam.keras", "trained_adam")]
                         + ([("keras2_trained_adam.h5", "keras2_trained_adam")]
                            if "trained_adam" in KERAS2 else []))
def test_training_resumes_with_the_saved_optimizer_state(filename, stem):
    spec, arrays = _record(stem)
    model = _load_model(SAVED / filename)
    assert int(np.asarray(model.optimizer.iterations)) == spec["optimizer_iterations"]
    returned = model.train_on_batch(arrays["x"], arrays["y"])
    np.testing.assert_allclose(np.asarray(returned, dtype=np.float64), arrays["next_returns"],
                               rtol=TOL, atol=TOL, err_msg="train_on_batch after loading")
    ids, counts = np.unique(arrays["x"], return_counts=True)
    for layer_name, expected in _layer_weights(arrays, "next").items():
        for i, (a, e) in enumerate(zip(model.get_layer(layer_name).get_weights(), expected)):
            if filename.startswith("keras2_") and type(
                    model.get_layer(layer_name)).__name__ == "Embedding":
                # Keras 2 stepped an Embedding with the summed dense gradient; fastrnn
                # follows Keras 3 (per occurrence): ids repeated in the batch differ
                keep = np.setdiff1d(np.arange(a.shape[0]), ids[counts > 1])
                a, e = a[keep], e[keep]
            np.testing.assert_allclose(a, e, rtol=TOL, atol=TOL, err_msg=f"{layer_name} {i}")


def test_load_without_compile_has_no_optimizer_state():
    model = _load_model(SAVED / "trained_adam.keras", compile=False)
    _, arrays = _record("trained_adam")
    _assert_predictions(model, arrays, "compile=False")
    with pytest.raises((ValueError, RuntimeError)):
        model.train_on_batch(arrays["x"], arrays["y"])  # not compiled, as in Keras


def test_lambda_layer_is_refused():
    """A Lambda holds serialized bytecode: loading must refuse it, naming the class."""
    with pytest.raises(ValueError, match="Lambda"):
        _load_model(SAVED / "lambda_layer.keras")


@pytest.mark.parametrize("filename", ["rnn_stack.keras", "rnn_stack.h5"])
def test_truncated_file_is_refused_naming_it(filename, tmp_path):
    data = (SAVED / filename).read_bytes()
    broken = tmp_path / f"broken_{filename}"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(Exception) as info:
        _load_model(broken)
    assert broken.name in str(info.value)


def _h5_datasets(path):
    import h5py

    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj.shape)
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def _legacy_weights(path):
    """A legacy .h5's weights: ``{layer: [(last name part, shape), ...]}`` in the order of
    ``@weight_names`` (the dataset paths' prefixes differ between Keras's own writes:
    ``<layer>/<model>/<layer>/...`` for a model built in memory, without the model's name
    once it was loaded)."""
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        group = f["model_weights"]
        for layer in group.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else str(layer)
            entries = []
            for wname in group[layer].attrs["weight_names"]:
                wname = wname.decode() if isinstance(wname, bytes) else str(wname)
                entries.append((wname.rsplit("/", 1)[-1].split(":")[0],
                                group[layer][wname].shape))
            out[layer] = entries
    return out


def _keras_weight_datasets(path, tmp):
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        z.extract("model.weights.h5", tmp)
    return _h5_datasets(pathlib.Path(tmp) / "model.weights.h5")


@pytest.mark.parametrize("name", NAMES)
def test_save_writes_keras_layout(name, tmp_path):
    """fastrnn's ``.keras`` of a loaded Keras model has the same weight paths and shapes
    (optimizer variables included) as Keras's file, and loads back to the same numbers."""
    model = _load_model(SAVED / f"{name}.keras")
    out = tmp_path / f"{name}.keras"
    model.save(str(out))
    (tmp_path / "keras").mkdir()
    (tmp_path / "ours").mkdir()
    expected = _keras_weight_datasets(SAVED / f"{name}.keras", tmp_path / "keras")
    actual = _keras_weight_datasets(out, tmp_path / "ours")
    assert actual == expected
    _, arrays = _record(name)
    _assert_predictions(_load_model(out), arrays, f"fastrnn-saved {name}.keras")


@pytest.mark.parametrize("name", NAMES)
def test_save_h5_and_weights_write_keras_layout(name, tmp_path):
    model = _load_model(SAVED / f"{name}.keras", compile=False)
    model.save(str(tmp_path / f"{name}.h5"))
    model.save_weights(str(tmp_path / f"{name}.weights.h5"))
    assert _legacy_weights(tmp_path / f"{name}.h5") == _legacy_weights(SAVED / f"{name}.h5")
    weights = {k: v for k, v in _h5_datasets(SAVED / f"{name}.weights.h5").items()
               if not k.startswith("optimizer/")}
    assert {k: v for k, v in _h5_datasets(tmp_path / f"{name}.weights.h5").items()
            if not k.startswith("optimizer/")} == weights
    _, arrays = _record(name)
    _assert_predictions(_load_model(tmp_path / f"{name}.h5"), arrays, f"fastrnn-saved {name}.h5")


def test_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    """Saving writes a temporary file and renames it: a failure mid-save keeps the old file."""
    target = tmp_path / "m.keras"
    shutil.copy(SAVED / "rnn_stack.keras", target)
    before = target.read_bytes()
    model = _load_model(target)

    def interrupted_close(self):  # Ctrl-C as the zip being written is finished
        raise KeyboardInterrupt

    monkeypatch.setattr(zipfile.ZipFile, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt):
        model.save(str(target))
    monkeypatch.undo()
    assert target.read_bytes() == before
