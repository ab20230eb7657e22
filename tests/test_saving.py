"""fastrnn's own files: save -> load round trips in every format, configs in Keras 3's
form, and training that resumes where it stopped (issue 10)."""
import io
import json
import zipfile

import h5py
import numpy as np
import pytest

import fastrnn
from fastrnn.layers import (Activation, Add, Bidirectional, Concatenate, Dense, Dropout,
                            Embedding, Flatten, Masking, Permute, RepeatVector, Reshape,
                            SimpleRNN, Subtract, deserialize, serialize)
from fastrnn.models import Model, Sequential, load_model, model_from_json, save_model
from fastrnn.optimizers import SGD, Adam, RMSprop


def _floats(rng, *shape, dtype="float32"):
    return rng.uniform(-1, 1, shape).astype(dtype)


def stack(rng):
    m = Sequential([fastrnn.Input((5, 3)), SimpleRNN(4, return_sequences=True),
                    SimpleRNN(3, activation="relu", go_backwards=True),
                    Dense(2, activation="softmax")], name="stack")
    return m, _floats(rng, 4, 5, 3)


def bidir(rng):
    m = Sequential([fastrnn.Input((6, 2)), Bidirectional(SimpleRNN(3, return_sequences=True)),
                    Bidirectional(SimpleRNN(2, use_bias=False), merge_mode="sum"), Dense(2)])
    return m, _floats(rng, 3, 6, 2)


def embed(rng):
    ids = rng.integers(1, 20, (4, 7))
    ids[1, 4:] = 0
    m = Sequential([fastrnn.Input((7,), dtype="int32"), Embedding(20, 4, mask_zero=True),
                    SimpleRNN(3), Dense(1, activation="sigmoid")])
    return m, ids.astype("int32")


def keras2_style(rng):  # Keras 2 spellings: no Input, input_shape on the first layer
    m = Sequential()
    m.add(SimpleRNN(3, input_shape=(4, 2), return_sequences=True))
    m.add(Flatten())
    m.add(Dense(2))
    return m, _floats(rng, 2, 4, 2)


def stateless(rng):
    m = Sequential([fastrnn.Input((4, 3)), Masking(0.0), Dropout(0.3), Permute((2, 1)),
                    Reshape((12,)), RepeatVector(2), Flatten(), Activation("tanh"),
                    Dense(3)])
    return m, _floats(rng, 3, 4, 3)


def encoder_decoder(rng):
    a, b = fastrnn.Input((5, 3), name="enc_in"), fastrnn.Input((4, 2), name="dec_in")
    _, h = SimpleRNN(4, return_state=True, name="encoder")(a)
    seq = SimpleRNN(4, return_sequences=True, name="decoder")(b, initial_state=[h])
    m = Model([a, b], Dense(3, name="head")(seq), name="encdec")
    return m, [_floats(rng, 4, 5, 3), _floats(rng, 4, 4, 2)]


def siamese_nested(rng):
    left, right = fastrnn.Input((6, 3)), fastrnn.Input((6, 3))
    shared = SimpleRNN(4)
    inner_in = fastrnn.Input((8,))
    inner = Model(inner_in, Dense(2, activation="tanh")(inner_in), name="inner")
    c = Concatenate()([Subtract()([shared(left), shared(right)]),
                       Add()([shared(left), shared(right)])])
    m = Model([left, right], Dense(1)(inner(c)), name="siamese")
    return m, [_floats(rng, 4, 6, 3), _floats(rng, 4, 6, 3)]


def float64(rng):
    m = Sequential([fastrnn.Input((5, 3), dtype="float64"),
                    SimpleRNN(4, dtype="float64", return_sequences=True),
                    Bidirectional(SimpleRNN(2, dtype="float64")), Dense(1, dtype="float64")])
    return m, _floats(rng, 4, 5, 3, dtype="float64")


BUILDERS = [stack, bidir, embed, keras2_style, stateless, encoder_decoder, siamese_nested,
            float64]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_save_load_round_trip(build, suffix, tmp_path, rng):
    model, x = build(rng)
    expected = model.predict(x, verbose=0)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded.name == model.name
    assert [x.name for x in loaded.layers] == [x.name for x in model.layers]
    for a, b in zip(loaded.weights, model.weights):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_weights_file_and_json_round_trip(build, tmp_path, rng):
    model, x = build(rng)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    clone = model_from_json(model.to_json())
    assert clone.get_config() == model.get_config()
    clone.load_weights(path)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "m.h5")


def test_keras_file_structure(tmp_path, rng):
    model, _ = bidir(rng)
    model.compile(optimizer=Adam(0.01), loss="mse", metrics=["mae"])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        meta = json.loads(zf.read("metadata.json"))
        weights = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
    assert list(config) == ["module", "class_name", "config", "registered_name",
                            "build_config", "compile_config"]
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    assert meta["keras_version"].startswith("3.")
    rnn = config["config"]["layers"][1]
    assert list(rnn) == ["module", "class_name", "config", "registered_name", "build_config"]
    inner = rnn["config"]["layer"]["config"]
    assert inner["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                              "config": {"name": "float32"}, "registered_name": None}
    assert inner["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert inner["kernel_regularizer"] is None
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["loss"] == "mse"
    layout = {}

    def visit(name, obj):
        layout[name] = getattr(obj, "shape", None)  # returns None: visit everything
    weights.visititems(visit)
    assert layout["layers/bidirectional/forward_layer/cell/vars/0"] == (2, 3)
    assert layout["layers/bidirectional/backward_layer/cell/vars/2"] == (3,)
    assert layout["layers/bidirectional_1/forward_layer/cell/vars/1"] == (2, 2)
    assert "layers/bidirectional_1/forward_layer/cell/vars/2" not in layout  # no bias
    assert layout["layers/dense/vars/1"] == (2,)
    assert weights["vars"].attrs["name"] == model.name
    assert layout["optimizer/vars/0"] == () and layout["optimizer/vars/1"] == ()
    assert weights["optimizer/vars/0"][()] == 0  # iterations, never trained
    assert len(weights["optimizer/vars"]) == 2 + 2 * len(model.trainable_weights)


def test_layer_configs_move_both_ways():
    layer = SimpleRNN(3, activation="relu", go_backwards=True, name="r")
    spec = serialize(layer)
    assert spec["config"]["recurrent_initializer"] == {
        "module": "keras.initializers", "class_name": "Orthogonal",
        "config": {"seed": None, "gain": 1.0}, "registered_name": None}
    clone = deserialize(spec)
    assert clone.get_config() == layer.get_config()
    keras_dense = {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "d", "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy",
                  "config": {"name": "float64"}, "registered_name": None},
        "units": 2, "activation": "linear", "use_bias": True,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "VarianceScaling",
                               "config": {"scale": 2.0, "mode": "fan_in",
                                          "distribution": "truncated_normal", "seed": 1}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None, "quantization_config": None, "lora_rank": None},
        "registered_name": None, "build_config": {"input_shape": [None, 3]}}
    dense = deserialize(keras_dense)
    assert (dense.dtype, dense.units, dense.name) == ("float64", 2, "d")
    dense.build((None, 3))
    assert dense.kernel.shape == (3, 2) and dense.kernel.std() > 0


@pytest.mark.parametrize("key, value, match", [
    ("quantization_config", {"mode": "int8"}, "quantization_config"),
    ("lora_rank", 4, "lora_rank"),
])
def test_unsupported_keras_features_are_named(key, value, match):
    config = {"units": 2, "name": "d", key: value}
    with pytest.raises(NotImplementedError, match=match):
        deserialize({"class_name": "Dense", "config": config})


def _fit_model(opt):
    from fastrnn.utils import set_random_seed
    set_random_seed(11)
    m = Sequential([fastrnn.Input((5, 2)), SimpleRNN(4, return_sequences=True),
                    Bidirectional(SimpleRNN(3)), Dense(1, activation="sigmoid")])
    m.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
@pytest.mark.parametrize("make_opt", [
    lambda: Adam(0.02), lambda: Adam(0.02, amsgrad=True),
    lambda: RMSprop(0.01, momentum=0.5, centered=True), lambda: SGD(0.1, momentum=0.9),
    lambda: SGD(0.1)], ids=["adam", "amsgrad", "rmsprop", "sgd_momentum", "sgd"])
def test_fit_resumes_where_it_stopped(make_opt, suffix, tmp_path, rng):
    x = _floats(rng, 24, 5, 2)
    y = (rng.random((24, 1)) > 0.5).astype("float32")
    straight = _fit_model(make_opt())
    straight.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    first = _fit_model(make_opt())
    first.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path / f"m{suffix}"
    if suffix == ".weights.h5":
        first.save_weights(path)
        resumed = _fit_model(make_opt())
        resumed.load_weights(path)
    else:
        first.save(path)
        resumed = load_model(path)
    assert resumed.optimizer.iterations == 3
    history = resumed.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(resumed.weights, straight.weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert history.history["loss"][0] == pytest.approx(
        straight.history.history["loss"][1], rel=1e-6)


def test_save_model_function_and_overwrite(tmp_path, rng):
    model, x = stack(rng)
    path = tmp_path / "m.keras"
    save_model(model, str(path))
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    assert fastrnn.saving.load_model(path).count_params() == model.count_params()


def test_long_name_lists_are_split_as_keras_splits_them(tmp_path):
    """HDF5 object headers hold 64 KiB: Keras writes longer name lists as ``name0,
    name1, ...``; fastrnn writes and reads them the same way."""
    from fastrnn.saving.legacy_h5 import _attr_list, _write_attr_list
    names = [f"model/layer_{i}/simple_rnn_cell/recurrent_kernel" for i in range(3000)]
    with h5py.File(tmp_path / "a.h5", "w") as f:
        _write_attr_list(f, "weight_names", names)
        _write_attr_list(f, "short", ["a", "b"])
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert "weight_names" not in f.attrs and "weight_names1" in f.attrs
        assert _attr_list(f, "weight_names") == names
        assert _attr_list(f, "short") == ["a", "b"]
