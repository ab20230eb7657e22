"""Every initializer Keras 3 names, with Keras's formulas (keras/src/initializers/)."""
import numpy as np
import pytest

from fastrnn import initializers as I
from fastrnn.layers import Dense, SimpleRNN

NAMES = ["zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
         "variance_scaling", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
         "lecun_normal", "lecun_uniform", "orthogonal", "identity", "uniform", "normal",
         "GlorotUniform", "Orthogonal", "Identity", "HeNormal", "TruncatedNormal"]


@pytest.mark.parametrize("name", NAMES)
def test_every_keras_name_is_accepted_by_a_recurrent_layer(name):
    layer = SimpleRNN(4, recurrent_initializer=name, kernel_initializer=name)
    if name.lower() == "identity":  # 2-D only: the (features, units) kernel is 3 x 4
        layer = SimpleRNN(4, recurrent_initializer=name)
    layer.build((None, 5, 3))
    assert layer.recurrent_kernel.shape == (4, 4)
    clone = SimpleRNN.from_config(layer.get_config())
    assert clone.recurrent_initializer == layer.recurrent_initializer


def _draw(spec, shape=(400, 300)):
    return I.initialize(I.get(spec, "x"), shape, "float64", np.random.default_rng(0))


def test_distributions_match_keras_formulas():
    fan_in, fan_out = 400, 300
    w = _draw("glorot_uniform")
    limit = np.sqrt(6 / (fan_in + fan_out))
    assert w.max() <= limit and w.min() >= -limit and w.max() > 0.99 * limit
    np.testing.assert_allclose(_draw("he_normal").std(), np.sqrt(2 / fan_in), rtol=0.02)
    np.testing.assert_allclose(_draw("lecun_normal").std(), np.sqrt(1 / fan_in), rtol=0.02)
    w = _draw({"class_name": "VarianceScaling",
               "config": {"scale": 3.0, "mode": "fan_out", "distribution": "uniform"}})
    assert np.abs(w).max() <= np.sqrt(9 / fan_out)
    w = _draw({"class_name": "TruncatedNormal", "config": {"mean": 1.0, "stddev": 0.1}})
    assert w.min() >= 0.8 and w.max() <= 1.2
    np.testing.assert_array_equal(_draw({"class_name": "Constant", "config": {"value": 0.5}}),
                                  0.5)
    np.testing.assert_array_equal(I.initialize(I.get({"class_name": "Identity", "config":
                                                      {"gain": 2.0}}, "x"), (3, 3),
                                               "float32", None), 2 * np.eye(3))
    q = _draw("orthogonal", (6, 6))
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-12)


def test_keras_config_dicts_and_seeds():
    spec = {"module": "keras.initializers", "class_name": "RandomNormal",
            "config": {"mean": 0.0, "stddev": 0.5, "seed": 3}, "registered_name": None}
    a = Dense(3, kernel_initializer=spec)
    b = Dense(3, kernel_initializer=spec)
    a.build((None, 4))
    b.build((None, 4))
    np.testing.assert_array_equal(a.kernel, b.kernel)  # the initializer's own seed
    assert I.serialize(a.kernel_initializer)["class_name"] == "RandomNormal"


@pytest.mark.parametrize("bad, match", [
    ("nope", "`kernel_initializer`"), (3, "`kernel_initializer`"),
    ({"class_name": "Glorot"}, "`kernel_initializer`"),
    ({"class_name": "Constant", "config": {"val": 1}}, "does not take"),
    ({"class_name": "VarianceScaling", "config": {"mode": "fan"}}, "mode")])
def test_bad_initializers_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        SimpleRNN(2, kernel_initializer=bad)
    with pytest.raises(ValueError, match="identity initializer needs a 2-D"):
        I.initialize("identity", (2, 3, 4), "float32", np.random.default_rng())
