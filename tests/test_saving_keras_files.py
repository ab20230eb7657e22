"""Files written by real Keras load into fastrnn and predict Keras's numbers.

``tests/fixtures/saved/`` (made by tools/make_keras_saved_fixtures.py on branch ``fix``):
``NAME.keras``, legacy ``NAME.h5`` and ``NAME.weights.h5`` written by Keras 3.15.1, and
``keras2_NAME.h5`` / ``keras2_NAME_weights.h5`` written by Keras 2.21 (tf_keras), each
with ``NAME.npz``: inputs, Keras's predictions, weights by layer, and for the trained
model the next ``train_on_batch`` after loading; ``keras2opt_*`` (tf_keras's .keras and
.h5 with RMSprop and SGD state) come from tools/make_keras2_saved_fixtures.py. No
TensorFlow is imported here.
"""
import json
import pathlib

import numpy as np
import pytest

from fastrnn.models import Model, load_model
from fastrnn.saving import LoadError

SAVED = pathlib.Path(__file__).resolve().parent / "fixtures" / "saved"
TOL = dict(rtol=1e-5, atol=1e-5)
NAMES = ["rnn_stack", "bidir_dense", "embed_rnn_dense", "encoder_decoder", "trained_adam"]
FULL = ([f"{n}.keras" for n in NAMES] + [f"{n}.h5" for n in NAMES] +
        [f"keras2_{n}.h5" for n in NAMES])


def _record(stem):
    with np.load(SAVED / f"{stem}.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(str(arrays.pop("spec"))), arrays


def _x(arrays):
    if "x" in arrays:
        return arrays["x"]
    return [arrays[f"x_{i}"] for i in range(2)]


def _stem(filename):
    return filename.split(".")[0]


@pytest.mark.parametrize("filename", FULL)
def test_keras_file_predicts_keras_numbers(filename):
    spec, arrays = _record(_stem(filename))
    model = load_model(SAVED / filename)
    assert isinstance(model, Model)
    assert [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"] \
        == [n for n, cls in spec["layers"] if cls != "InputLayer"]
    np.testing.assert_allclose(model.predict(_x(arrays), verbose=0), arrays["out_0"], **TOL)
    for layer in model.layers:  # every weight where Keras had it
        for i, w in enumerate(layer.get_weights()):
            np.testing.assert_array_equal(w, arrays[f"w/{layer.name}/{i}"])


@pytest.mark.parametrize("weights, model_file", [
    (f"{n}.weights.h5", f"{n}.keras") for n in NAMES] + [
    (f"keras2_{n}_weights.h5", f"keras2_{n}.h5") for n in NAMES])
def test_keras_weights_files_load_by_topology(weights, model_file):
    _, arrays = _record(_stem(model_file))
    model = load_model(SAVED / model_file, compile=False)
    model.set_weights([np.zeros_like(w) for w in model.weights])
    model.load_weights(SAVED / weights)
    np.testing.assert_allclose(model.predict(_x(arrays), verbose=0), arrays["out_0"], **TOL)


@pytest.mark.parametrize("filename", ["trained_adam.keras", "trained_adam.h5",
                                      "keras2_trained_adam.h5"])
def test_optimizer_state_resumes_training(filename):
    spec, arrays = _record(_stem(filename))
    model = load_model(SAVED / filename)
    opt = model.optimizer
    assert type(opt).__name__ == "Adam" and opt.iterations == spec["optimizer_iterations"]
    assert opt.learning_rate == pytest.approx(0.05)
    assert model.metrics_names[:1] == ["loss"]
    returns = model.train_on_batch(arrays["x"], arrays["y"])
    np.testing.assert_allclose(returns, arrays["next_returns"], **TOL)
    keras3 = not filename.startswith("keras2_")
    for layer in model.layers:
        for i, w in enumerate(layer.get_weights()):
            expected = arrays[f"next/{layer.name}/{i}"]
            if not keras3 and layer.name == "embed":
                # fastrnn steps an Embedding as Keras 3's TensorFlow backend does (squares per
                # occurrence of an id); Keras 2 stepped these files with the summed dense
                # gradient, which differs only for ids that occur twice in the batch.
                ids, counts = np.unique(arrays["x"], return_counts=True)
                once = ids[(counts == 1) & (ids > 0)]
                np.testing.assert_allclose(w[once], expected[once], **TOL)
                continue
            np.testing.assert_allclose(w, expected, **TOL)


def test_compile_config_is_restored():
    model = load_model(SAVED / "trained_adam.keras")
    assert model.compiled and model.loss.name == "binary_crossentropy"
    uncompiled = load_model(SAVED / "trained_adam.keras", compile=False)
    assert not uncompiled.compiled


def test_lambda_file_is_refused_naming_the_class():
    with pytest.raises(LoadError, match="Lambda") as info:
        load_model(SAVED / "lambda_layer.keras")
    assert "lambda_layer.keras" in str(info.value) and "double" in str(info.value)


def test_weights_of_another_architecture_name_file_and_layer():
    model = load_model(SAVED / "rnn_stack.keras")
    with pytest.raises(LoadError, match=r"bidir_dense\.weights\.h5") as info:
        model.load_weights(SAVED / "bidir_dense.weights.h5")
    assert "simple_rnn" in str(info.value)
    with pytest.raises(LoadError, match=r"keras2_bidir_dense_weights\.h5"):
        model.load_weights(SAVED / "keras2_bidir_dense_weights.h5")


@pytest.mark.parametrize("filename", ["keras2opt_rmsprop.keras", "keras2opt_rmsprop.h5",
                                      "keras2opt_sgd.keras", "keras2opt_sgd.h5"])
def test_keras2_files_resume_with_every_optimizer(filename):
    """tf_keras 2.21's own .keras zip and legacy .h5 (tools/make_keras2_saved_fixtures.py):
    RMSprop (momentum, centered; Keras 2's EMA defaults) and SGD (nesterov momentum)."""
    with np.load(SAVED / f"{_stem(filename)}.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    model = load_model(SAVED / filename)
    x = _x(arrays)
    np.testing.assert_allclose(model.predict(x, verbose=0), arrays["out"], **TOL)
    assert model.optimizer.iterations == 2
    np.testing.assert_allclose(model.train_on_batch(x, arrays["y"]), arrays["next_returns"],
                               **TOL)
    # Keras 2 stepped the Embedding with the summed dense gradient; fastrnn steps it as
    # Keras 3's TensorFlow backend does (per occurrence), so ids repeated in the batch are
    # left out; every other row and weight must agree
    tokens = np.concatenate([np.ravel(a) for a in (x if isinstance(x, (list, tuple)) else [x])
                             if np.asarray(a).dtype.kind in "iu"] or [np.zeros(0, int)])
    ids, counts = np.unique(tokens, return_counts=True)
    repeated = ids[counts > 1]
    offset = 0
    for w in model.weights:
        expected = arrays["next_weights"][offset:offset + w.size].reshape(w.shape)
        offset += w.size
        if w.shape[0] == 20 and w.ndim == 2:  # the Embedding(20, 4) table
            keep = np.setdiff1d(np.arange(20), repeated)
            w, expected = w[keep], expected[keep]
        np.testing.assert_allclose(w, expected, **TOL)


def test_layer_get_config_speaks_keras_arguments():
    """Every key of a fastrnn layer's ``get_config()`` is an argument Keras 3 writes for
    that class (as read from Keras's own config.json files), so Keras's ``from_config``
    accepts it; ``serialize`` gives Keras's exact config."""
    import zipfile

    from fastrnn.layers import LAYERS, serialize
    keras_keys = {}

    def collect(spec):
        if isinstance(spec, dict):
            if "class_name" in spec and isinstance(spec.get("config"), dict):
                keras_keys.setdefault(spec["class_name"], set()).update(spec["config"])
            for value in spec.values():
                collect(value)
        elif isinstance(spec, list):
            for value in spec:
                collect(value)
    for name in NAMES:
        with zipfile.ZipFile(SAVED / f"{name}.keras") as zf:
            collect(json.loads(zf.read("config.json")))
    assert {"SimpleRNN", "Bidirectional", "Dense", "Embedding"} <= set(keras_keys)
    model = load_model(SAVED / "bidir_dense.keras")
    layers = model.layers + [load_model(SAVED / "embed_rnn_dense.keras").layers[0],
                             load_model(SAVED / "rnn_stack.keras").layers[0]]
    for layer in layers:
        cls = type(layer).__name__
        assert LAYERS[cls] is type(layer)
        # (Keras's SimpleRNN takes `seed` without writing it)
        assert set(layer.get_config()) <= keras_keys[cls] | {"input_shape", "seed"}, cls
        assert set(serialize(layer)["config"]) == keras_keys[cls] - {"seed"}, cls


def _without(obj, drop):
    if isinstance(obj, dict):
        return {k: _without(v, drop) for k, v in obj.items() if k not in drop}
    if isinstance(obj, list):
        return [_without(v, drop) for v in obj]
    return obj


def _h5_listing(f):
    import h5py
    out = []

    def visit(name, obj):
        attrs = {k: [str(x) for x in np.atleast_1d(v)] for k, v in obj.attrs.items()
                 if k not in ("model_config", "training_config")}
        out.append((name, type(obj).__name__, getattr(obj, "shape", None),
                    str(getattr(obj, "dtype", "")), json.dumps(attrs, sort_keys=True)))
    f.visititems(visit)
    if isinstance(f, h5py.File):
        out.append(("/", sorted(f.attrs)))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_resaving_a_keras_file_writes_what_keras_wrote(name, tmp_path):
    """Load Keras's file, save it with fastrnn: the same config.json (Keras's ids for
    shared objects aside; Keras also records `training`/`mask` call arguments on some
    nodes, which fastrnn's graph does not keep), the same HDF5 groups, datasets and
    attributes, in the .keras zip and in the legacy .h5."""
    import io
    import zipfile

    import h5py
    model = load_model(SAVED / f"{name}.keras")
    model.save(tmp_path / "m.keras")
    load_model(SAVED / f"{name}.h5").save(tmp_path / "m.h5")
    zips = [zipfile.ZipFile(p) for p in (SAVED / f"{name}.keras", tmp_path / "m.keras")]
    theirs, ours = (json.loads(z.read("config.json")) for z in zips)
    theirs = _without(theirs, {"shared_object_id"})
    if name == "encoder_decoder":
        for spec in theirs["config"]["layers"]:
            for node in spec["inbound_nodes"]:
                for key in ("training", "mask"):
                    node["kwargs"].pop(key, None)
    assert ours == theirs
    assert sorted(zips[1].namelist()) == sorted(zips[0].namelist())
    weights = [h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") for z in zips]
    assert _h5_listing(weights[1]) == _h5_listing(weights[0])
    with h5py.File(SAVED / f"{name}.h5", "r") as a, h5py.File(tmp_path / "m.h5", "r") as b:
        assert _h5_listing(b) == _h5_listing(a)
        if "training_config" in a.attrs:
            assert json.loads(b.attrs["training_config"]) == json.loads(a.attrs["training_config"])


@pytest.mark.parametrize("filename", ["gated.keras", "gated.h5"])
def test_keras_functional_lstm_gru_model_with_mask_ops_loads(filename, tmp_path):
    """Keras 3 writes the mask of a functional Embedding(mask_zero=True) model as a NotEqual
    op feeding `mask` arguments; fastrnn computes masks itself. Bidirectional(LSTM), GRU
    (reset_after True and False), Adam state (tools/make_keras_gated_saved_fixture.py)."""
    with np.load(SAVED / "gated.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    model = load_model(SAVED / filename)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Embedding", "Bidirectional", "GRU", "GRU", "Concatenate", "Dense"]
    assert model.optimizer.iterations == 1
    np.testing.assert_allclose(model.predict(arrays["x"], verbose=0), arrays["out"], **TOL)
    again = load_model(_resave(model, tmp_path / ("again" + pathlib.Path(filename).suffix)))
    np.testing.assert_allclose(again.predict(arrays["x"], verbose=0), arrays["out"], **TOL)


def _resave(model, path):
    model.save(path)
    return path
