"""Dense/Activation activations against Keras 3 (fixture ``tool_activations.npz`` from
tools/make_keras_activation_fixtures.py): values and TensorFlow's gradients, and a Dense layer's
backward through each."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from keras_spec import FIXTURES

from fastrnn import activations
from fastrnn.layers import Activation, Dense, LSTM, SimpleRNN

with np.load(FIXTURES / "tool_activations.npz") as _npz:
    F = {k: _npz[k] for k in _npz.files}
NAMES = sorted({k.split("/")[0] for k in F if k.endswith("/y")})


@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_keras(name):
    x = F["x"]
    layer = Activation(name)
    y, ctx = layer.forward(x[None, :])
    assert y.dtype == np.float32
    assert_allclose(y[0], F[f"{name}/y"], rtol=2e-6, atol=2e-6)
    (dx,), _ = layer.backward(ctx, np.ones_like(y))
    assert_allclose(dx[0], F[f"{name}/dy"], rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name", ["elu", "selu", "gelu", "silu", "mish", "softsign"])
def test_dense_backward_matches_finite_differences(rng, name):
    from gradcheck import numerical_gradient
    layer = Dense(3, activation=name, dtype="float64")
    x = rng.normal(size=(4, 5))
    out, ctx = layer.forward(x)
    w = rng.normal(size=out.shape)
    (dx,), (dk, db) = layer.backward(ctx, w)
    assert_allclose(dx, numerical_gradient(lambda: np.sum(layer.forward(x)[0] * w), x),
                    rtol=1e-7, atol=1e-9)
    assert_allclose(dk, numerical_gradient(lambda: np.sum(layer.forward(x)[0] * w),
                                           layer.kernel), rtol=1e-7, atol=1e-9)


def test_aliases_and_recurrent_layers_keep_their_set():
    assert Dense(2, activation="swish").activation == "silu"
    assert activations.get("hard_swish") == "hard_silu"
    with pytest.raises(ValueError, match="`activation`"):
        SimpleRNN(2, activation="elu")
    with pytest.raises(ValueError, match="`activation`"):
        LSTM(2, activation="softsign")
    with pytest.raises(ValueError, match="`activation`"):
        Dense(2, activation="nope")


def test_exports_refuse_activations_they_cannot_write(tmp_path):
    import fastrnn
    model = fastrnn.Sequential([fastrnn.Input(shape=(3, 2)), LSTM(2),
                                Dense(1, activation="elu")])
    pytest.importorskip("torch")
    with pytest.raises(NotImplementedError, match="'elu'"):
        fastrnn.interop.to_torch(model)
    pytest.importorskip("onnx")
    with pytest.raises(NotImplementedError, match="'elu'"):
        fastrnn.interop.to_onnx(model, str(tmp_path / "m.onnx"))
