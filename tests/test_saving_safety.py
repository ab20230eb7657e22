"""Loading never executes code and refuses bad files clearly; saving is atomic; models and
layers pickle and copy through config + weights (issue 10)."""
import copy
import io
import json
import os
import pickle
import pickletools
import zipfile

import h5py
import numpy as np
import pytest

import fastrnn
from fastrnn.layers import Bidirectional, Dense, Embedding, Lambda, SimpleRNN
from fastrnn.models import Model, Sequential, load_model
from fastrnn.optimizers import Adam
from fastrnn.saving import LoadError


def _model():
    return Sequential([fastrnn.Input((5, 3)), SimpleRNN(4, return_sequences=True),
                       Bidirectional(SimpleRNN(2)), Dense(1)], name="safe")


def _x(rng):
    return rng.uniform(-1, 1, (3, 5, 3)).astype("float32")


@pytest.fixture
def saved(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    return tmp_path, model


def _rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config)
    with zipfile.ZipFile(dst, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


# ------------------------------------------------------------------ refusing bad files
@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
@pytest.mark.parametrize("keep", [0, 100, 0.5, 0.9])
def test_truncated_files_are_refused_naming_the_file(saved, name, keep):
    folder, _ = saved
    data = (folder / name).read_bytes()
    n = keep if isinstance(keep, int) else int(len(data) * keep)
    bad = folder / f"cut_{name}"
    bad.write_bytes(data[:n])
    with pytest.raises(LoadError, match=f"cut_{name}"):
        load_model(bad)


def test_corrupt_members_and_missing_config(saved, tmp_path):
    folder, _ = saved
    with zipfile.ZipFile(tmp_path / "noconfig.keras", "w") as zf:
        zf.writestr("metadata.json", "{}")
    with pytest.raises(LoadError, match="noconfig.keras.*config.json"):
        load_model(tmp_path / "noconfig.keras")
    with zipfile.ZipFile(tmp_path / "badjson.keras", "w") as zf:
        zf.writestr("config.json", "{not json")
    with pytest.raises(LoadError, match="badjson.keras.*JSON"):
        load_model(tmp_path / "badjson.keras")
    with zipfile.ZipFile(folder / "m.keras") as src, \
            zipfile.ZipFile(tmp_path / "badweights.keras", "w") as zf:
        zf.writestr("config.json", src.read("config.json"))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(LoadError, match="badweights.keras"):
        load_model(tmp_path / "badweights.keras")


def test_wrong_extension_and_missing_file(saved):
    folder, _ = saved
    os.replace(folder / "m.keras", folder / "m.txt")
    with pytest.raises(LoadError, match=r"m\.txt"):
        load_model(folder / "m.txt")
    with pytest.raises(FileNotFoundError, match="nothing.keras"):
        load_model(folder / "nothing.keras")
    with pytest.raises(ValueError, match="extension"):
        _model().save(folder / "m.pkl")
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(folder / "m.h5", safe_mode=False)


class MyRNN(SimpleRNN):
    """A user's own layer class."""


def test_unknown_class_is_refused_unless_given(tmp_path, rng):
    model = Sequential([fastrnn.Input((5, 3)), MyRNN(4), Dense(1)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(LoadError, match="MyRNN") as info:
        load_model(tmp_path / "custom.keras")
    assert "custom.keras" in str(info.value)
    loaded = load_model(tmp_path / "custom.keras", custom_objects={"MyRNN": MyRNN})
    assert type(loaded.layers[0]) is MyRNN
    x = _x(rng)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_class_names_never_reach_imports(saved, tmp_path):
    folder, _ = saved

    def evil(config):
        config["config"]["layers"][1].update(module="os", class_name="system",
                                             registered_name="os>system")
    _rewrite_config(folder / "m.keras", tmp_path / "evil.keras", evil)
    with pytest.raises(LoadError, match="system"):
        load_model(tmp_path / "evil.keras")


def test_lambda_is_never_saved(tmp_path):
    inputs = fastrnn.Input((5, 3))
    model = Model(inputs, Dense(1)(Lambda(lambda t: t * 2, name="double")(inputs)))
    for name in ("m.keras", "m.h5"):
        with pytest.raises(ValueError, match="double"):
            model.save(tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_weights_of_another_architecture_change_nothing(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "a.weights.h5")
    other = Sequential([fastrnn.Input((5, 3)), SimpleRNN(4, return_sequences=True),
                        Bidirectional(SimpleRNN(3)), Dense(1)])
    before = other.get_weights()
    with pytest.raises(LoadError, match=r"a\.weights\.h5.*bidirectional.*_simple_rnn") as info:
        other.load_weights(tmp_path / "a.weights.h5")
    assert "shape" in str(info.value)
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    bigger = Sequential([fastrnn.Input((5, 3)), SimpleRNN(4), Dense(1)])
    with pytest.raises(LoadError, match="another architecture"):
        bigger.load_weights(tmp_path / "a.weights.h5")


# ------------------------------------------------------------------ atomic saves
@pytest.mark.parametrize("name, module, target", [
    ("m.keras", zipfile.ZipFile, "writestr"),
    ("m.h5", h5py.Group, "create_dataset"),
    ("m.weights.h5", h5py.Group, "create_dataset")])
def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch, rng, name, module,
                                                  target):
    model = _model()
    save = model.save_weights if name.endswith(".weights.h5") else model.save
    save(tmp_path / name)
    before = (tmp_path / name).read_bytes()
    calls = {"n": 0}
    original = getattr(module, target)

    def fail_midway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= 3:  # something was already written
            raise KeyboardInterrupt("interrupted mid-write")
        return original(*args, **kwargs)
    monkeypatch.setattr(module, target, fail_midway)
    other = _model()
    other.set_weights([w + 1 for w in other.get_weights()])
    save = other.save_weights if name.endswith(".weights.h5") else other.save
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path / name)
    monkeypatch.undo()
    assert (tmp_path / name).read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file left behind
    x = _x(rng)
    if name.endswith(".weights.h5"):
        fresh = _model()
        fresh.load_weights(tmp_path / name)
    else:
        fresh = load_model(tmp_path / name)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


# ------------------------------------------------------------------ pickle and copy
def _globals_in(data):
    names = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("GLOBAL", "STACK_GLOBAL") and arg:
            names.add(arg)
    return names


@pytest.mark.parametrize("make", [
    _model,
    lambda: _functional(),
    lambda: SimpleRNN(3, return_sequences=True),
    lambda: Bidirectional(SimpleRNN(2), merge_mode="sum"),
    lambda: Embedding(10, 3)], ids=["sequential", "functional", "rnn", "bidir", "embed"])
def test_pickle_and_deepcopy_predict_the_same(make, rng):
    obj = make()
    x = rng.integers(0, 10, (3, 5)) if isinstance(obj, Embedding) else _x(rng)
    if isinstance(obj, Model) and len(obj.inputs) == 2:
        x = [x, x]
    expected = obj.predict(x, verbose=0) if isinstance(obj, Model) else obj(x)
    data = pickle.dumps(obj)
    assert not any("_kernel" in g or "code" in g.lower() for g in map(str, _globals_in(data)))
    for clone in (pickle.loads(data), copy.deepcopy(obj)):
        assert type(clone) is type(obj) and clone.name == obj.name
        got = clone.predict(x, verbose=0) if isinstance(clone, Model) else clone(x)
        for a, b in zip(np.atleast_1d(got), np.atleast_1d(expected)):
            np.testing.assert_array_equal(a, b)
        assert all(a is not b for a, b in zip(clone.weights, obj.weights))


def _functional():
    a, b = fastrnn.Input((5, 3)), fastrnn.Input((5, 3))
    shared = SimpleRNN(3)
    return Model([a, b], Dense(2)(fastrnn.layers.concatenate([shared(a), shared(b)])))


def test_pickle_unbuilt_layer_and_trained_model(rng):
    layer = SimpleRNN(3, input_shape=(4, 2), name="declared")
    clone = pickle.loads(pickle.dumps(layer))
    assert not clone.built and clone.batch_input_shape == (None, 4, 2)
    model = _model()
    model.compile(optimizer=Adam(0.01), loss="mse")
    x, y = _x(rng), rng.normal(size=(3, 1)).astype("float32")
    model.fit(x, y, epochs=2, verbose=0)
    clone = copy.deepcopy(model)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    # a copy is independent: training one leaves the other alone
    clone.compile(optimizer="sgd", loss="mse")
    clone.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lambda_layers_copy_by_reference_to_their_function(rng):
    layer = Lambda(np.tanh, name="t")
    x = _x(rng)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(layer))(x), layer(x))
    np.testing.assert_array_equal(copy.deepcopy(Lambda(lambda t: t + 1))(x), x + 1)


def test_files_hold_no_pickles(saved):
    folder, _ = saved
    with zipfile.ZipFile(folder / "m.keras") as zf:
        for name in zf.namelist():
            assert b"\x80\x04\x95" not in zf.read(name)  # no pickle protocol 4 stream
    assert io.BytesIO((folder / "m.h5").read_bytes()).read(8) == b"\x89HDF\r\n\x1a\n"


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_damaged_bytes_give_load_errors_only(saved, name):
    """Random byte flips anywhere in the file: the load succeeds (HDF5 keeps no checksums
    on data) or raises LoadError/NotImplementedError, never anything else. (Not covered:
    with some flips in a legacy .h5's global heap, libhdf5 itself loops forever reading a
    string attribute, as it would under Keras; a .keras file's members are CRC-checked
    by zipfile before h5py sees them.)"""
    folder, _ = saved
    data = (folder / name).read_bytes()
    flips = np.random.default_rng(5)
    for trial in range(60):
        damaged = bytearray(data)
        for i in flips.integers(0, len(data), flips.integers(1, 12)):
            damaged[i] = flips.integers(0, 256)
        path = folder / f"damaged_{trial}_{name}"
        path.write_bytes(bytes(damaged))
        try:
            load_model(path)
        except (LoadError, NotImplementedError) as exc:
            assert str(path) in str(exc)
