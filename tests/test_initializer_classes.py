"""Keras's initializer classes: ``initializers.RandomNormal(stddev=0.001)`` and friends
(keras/src/initializers/), called directly and given to layers."""
import numpy as np
import pytest

from fastrnn import initializers as I
from fastrnn.layers import Dense, SimpleRNN
from fastrnn.models import Sequential
from fastrnn.utils import set_random_seed

# Keras 3.15's get_config() keys of each class (keras/src/initializers/*.py)
KERAS_KEYS = {
    "Zeros": set(), "Ones": set(), "Constant": {"value"}, "Identity": {"gain"},
    "RandomNormal": {"seed", "mean", "stddev"}, "TruncatedNormal": {"seed", "mean", "stddev"},
    "RandomUniform": {"seed", "minval", "maxval"}, "Orthogonal": {"seed", "gain"},
    "VarianceScaling": {"seed", "scale", "mode", "distribution"},
    **{n: {"seed"} for n in ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
                             "LecunNormal", "LecunUniform")}}
ALIASES = {"zeros": "Zeros", "ones": "Ones", "constant": "Constant", "identity": "Identity",
           "random_normal": "RandomNormal", "truncated_normal": "TruncatedNormal",
           "random_uniform": "RandomUniform", "orthogonal": "Orthogonal",
           "variance_scaling": "VarianceScaling", "glorot_normal": "GlorotNormal",
           "glorot_uniform": "GlorotUniform", "he_normal": "HeNormal", "he_uniform": "HeUniform",
           "lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform",
           "IdentityInitializer": "Identity", "OrthogonalInitializer": "Orthogonal"}


@pytest.mark.parametrize("name", sorted(KERAS_KEYS))
def test_each_class_is_called_like_keras_and_keeps_keras_config(name):
    init = getattr(I, name)()
    out = init((4, 4))
    assert out.shape == (4, 4) and out.dtype == np.float32
    assert init((4, 4), dtype="float64").dtype == np.float64
    assert set(init.get_config()) == KERAS_KEYS[name]
    np.testing.assert_array_equal(init((4, 4)), out)  # Keras: the same values every call
    clone = type(init).from_config(init.get_config())
    assert clone.get_config() == init.get_config()
    assert I.deserialize(I.serialize(init)).get_config() == init.get_config()


@pytest.mark.parametrize("alias, name", sorted(ALIASES.items()))
def test_snake_case_aliases_are_the_classes(alias, name):
    assert getattr(I, alias) is getattr(I, name)


def test_values_follow_the_arguments():
    w = I.RandomNormal(mean=1.0, stddev=0.001, seed=0)((300, 200))
    np.testing.assert_allclose([w.mean(), w.std()], [1.0, 0.001], rtol=0.01)
    w = I.RandomUniform(minval=2, maxval=3, seed=0)((300, 200))
    assert w.min() >= 2 and w.max() <= 3 and w.max() > 2.99
    w = I.TruncatedNormal(stddev=0.1, seed=1)((300, 200))
    assert np.abs(w).max() <= 0.2 + 1e-7
    w = I.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=0)((300, 200))
    limit = np.sqrt(3 * 2.0 / 200)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    w = I.GlorotNormal(seed=0)((300, 200))
    np.testing.assert_allclose(w.std(), np.sqrt(2 / 500), rtol=0.03)
    np.testing.assert_array_equal(I.Constant(0.25)((2, 3)), 0.25)
    np.testing.assert_array_equal(I.Identity(gain=3.0)((2, 3)), 3 * np.eye(2, 3))
    q = I.Orthogonal(gain=2.0, seed=0)((5, 5))
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(5), atol=1e-5)
    np.testing.assert_array_equal(I.HeUniform(seed=4)((3, 3)), I.HeUniform(seed=4)((3, 3)))
    assert not np.array_equal(I.HeUniform(seed=4)((3, 3)), I.HeUniform(seed=5)((3, 3)))


def test_unseeded_objects_follow_set_random_seed():
    set_random_seed(1)
    a = I.RandomNormal()((3,))
    set_random_seed(1)
    np.testing.assert_array_equal(I.RandomNormal()((3,)), a)
    assert I.RandomNormal().get_config()["seed"] is None


def test_layers_take_objects_and_round_trip_their_configs():
    # keras/examples/mnist_irnn.py
    layer = SimpleRNN(6, kernel_initializer=I.RandomNormal(stddev=0.001),
                      recurrent_initializer=I.Identity(gain=1.0), seed=0)
    layer.build((None, 5, 3))
    np.testing.assert_array_equal(layer.recurrent_kernel, np.eye(6))
    assert np.abs(layer.kernel).max() < 0.01
    config = layer.get_config()
    assert config["kernel_initializer"] == {"class_name": "RandomNormal", "config": {
        "seed": None, "mean": 0.0, "stddev": 0.001}}
    clone = SimpleRNN.from_config(config)
    assert clone.get_config() == config
    assert I.serialize(clone.recurrent_initializer) == {
        "module": "keras.initializers", "class_name": "Identity", "config": {"gain": 1.0},
        "registered_name": None}
    seeded = [Dense(3, kernel_initializer=I.GlorotUniform(seed=7)) for _ in range(2)]
    for d in seeded:
        d.build((None, 4))
    np.testing.assert_array_equal(seeded[0].kernel, seeded[1].kernel)
    np.testing.assert_array_equal(seeded[0].kernel, I.GlorotUniform(seed=7)((4, 3)))
    model = Sequential([Dense(2, kernel_initializer=I.Constant(0.5), input_shape=(3,))])
    np.testing.assert_array_equal(model.predict(np.ones((1, 3)), verbose=0), [[1.5, 1.5]])


def test_a_class_or_a_users_initializer_is_accepted():
    class Halves(I.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 0.5, dtype=dtype)

    d = Dense(2, kernel_initializer=Halves(), bias_initializer=I.Ones)
    d.build((None, 3))
    np.testing.assert_array_equal(d.kernel, 0.5)
    np.testing.assert_array_equal(d.bias, 1.0)
    assert I.serialize(d.kernel_initializer)["class_name"] == "Halves"
    d = Dense(2, kernel_initializer=lambda shape, dtype=None: np.ones(shape))
    d.build((None, 3))
    np.testing.assert_array_equal(d.kernel, 1.0)
    with pytest.raises(ValueError, match="shape"):
        Dense(2, kernel_initializer=lambda shape, dtype=None: np.ones(3)).build((None, 3))
    with pytest.raises(ValueError, match="Halves"):
        I.deserialize({"class_name": "Halves", "config": {}})
    assert isinstance(I.deserialize({"class_name": "Halves", "config": {}},
                                    custom_objects={"Halves": Halves}), Halves)


@pytest.mark.parametrize("make, match", [
    (lambda: I.VarianceScaling(scale=0), "scale"),
    (lambda: I.VarianceScaling(mode="fan"), "mode"),
    (lambda: I.VarianceScaling(distribution="cauchy"), "distribution"),
    (lambda: I.RandomNormal(seed=-1), "seed"),
    (lambda: I.Identity()((2, 2, 2)), "2-D"),
    (lambda: I.Initializer()((2,)), "__call__")])
def test_bad_arguments_say_what_is_wrong(make, match):
    with pytest.raises((ValueError, NotImplementedError), match=match):
        make()


def test_model_configs_with_initializer_objects_are_json_and_round_trip():
    import json
    model = Sequential([SimpleRNN(4, kernel_initializer=I.RandomNormal(stddev=0.001),
                                  recurrent_initializer=I.Identity(gain=1.0),
                                  input_shape=(3, 2)),
                        Dense(2, kernel_initializer=I.GlorotUniform(seed=1))])
    config = json.loads(json.dumps(model.get_config()))
    assert Sequential.from_config(config).get_config() == model.get_config()
