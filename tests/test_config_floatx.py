"""fastrnn.config / fastrnn.backend: floatx as in Keras 3 (keras.config.set_floatx)."""
import numpy as np
import pytest

import fastrnn
from fastrnn import backend, config


@pytest.fixture(autouse=True)
def restore_floatx():
    yield
    config.set_floatx("float32")


def test_default_is_float32():
    assert config.floatx() == backend.floatx() == "float32"
    assert fastrnn.layers.LSTM(2).dtype == "float32"
    assert config.epsilon() == backend.epsilon() == 1e-7


def test_set_floatx_float64_makes_layers_inputs_and_models_float64():
    backend.set_floatx("float64")            # Keras 2 / tf.keras spelling
    assert config.floatx() == "float64"
    inp = fastrnn.Input(shape=(3, 2))
    assert inp.dtype == "float64"
    out = fastrnn.layers.Dense(1)(fastrnn.layers.GRU(2)(inp))
    model = fastrnn.Model(inp, out)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    y = model.predict(np.ones((2, 3, 2)), verbose=0)
    assert y.dtype == np.float64
    seq = fastrnn.Sequential([fastrnn.layers.LSTM(2)])
    seq.build((None, 3, 2))
    assert all(w.dtype == np.float64 for w in seq.get_weights())
    assert fastrnn.losses.mean_squared_error([[1]], [[0]]).dtype == np.float64
    # an explicit dtype still wins
    assert fastrnn.layers.LSTM(2, dtype="float32").dtype == "float32"


def test_optimizer_learning_rate_keeps_the_floatx_of_its_creation():
    assert fastrnn.optimizers.Adam(0.01).learning_rate == float(np.float32(0.01))
    config.set_floatx("float64")
    assert fastrnn.optimizers.Adam(0.01).learning_rate == 0.01


@pytest.mark.parametrize("bad", ["float16", "bfloat16", "int32", 3])
def test_set_floatx_rejects_other_dtypes_naming_the_argument(bad):
    with pytest.raises(ValueError, match="`value`"):
        config.set_floatx(bad)
    assert config.floatx() == "float32"


def test_clear_session_restarts_layer_names():
    backend.clear_session()
    assert fastrnn.layers.GRU(2).name == "gru"
    assert fastrnn.layers.GRU(2).name == "gru_1"
    backend.clear_session()
    assert fastrnn.layers.GRU(2).name == "gru"
