"""GlobalAveragePooling1D / GlobalMaxPooling1D: values, masks, shapes, gradients (finite
differences). Against Keras 3: tests/test_keras_graph.py case ``mask_global_pooling``."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradcheck import numerical_gradient
from tolerances import ATOL, RTOL

from fastrnn.layers import (GlobalAveragePooling1D, GlobalAvgPool1D, GlobalMaxPool1D,
                            GlobalMaxPooling1D, deserialize, serialize)


@pytest.fixture
def x(rng):
    return rng.normal(size=(3, 5, 4))


def test_values_and_shapes(x):
    assert_allclose(GlobalAveragePooling1D(dtype="float64")(x), x.mean(axis=1))
    assert_allclose(GlobalMaxPooling1D(dtype="float64")(x), x.max(axis=1))
    assert GlobalMaxPooling1D(keepdims=True)(x).shape == (3, 1, 4)
    cf = GlobalAveragePooling1D(data_format="channels_first", dtype="float64")
    assert_allclose(cf(x), x.mean(axis=2))
    assert cf.compute_output_shape((None, 5, 4)) == (None, 5)
    assert GlobalAvgPool1D is GlobalAveragePooling1D and GlobalMaxPool1D is GlobalMaxPooling1D


def test_masked_mean_skips_padded_steps_and_an_empty_row_is_nan(x):
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
    out = GlobalAveragePooling1D(dtype="float64")(x, mask=mask)
    assert_allclose(out[0], x[0, :2].mean(axis=0))
    assert_allclose(out[1], x[1].mean(axis=0))
    assert np.isnan(out[2]).all()
    assert GlobalAveragePooling1D().compute_mask(x, mask) is None


@pytest.mark.parametrize("make", [
    lambda: GlobalAveragePooling1D(dtype="float64"),
    lambda: GlobalAveragePooling1D(keepdims=True, data_format="channels_first", dtype="float64"),
    lambda: GlobalMaxPooling1D(dtype="float64"),
    lambda: GlobalMaxPooling1D(keepdims=True, data_format="channels_first", dtype="float64"),
])
@pytest.mark.parametrize("masked", [False, True])
def test_gradients_match_finite_differences(rng, x, make, masked):
    layer = make()
    kw = {}
    if masked and isinstance(layer, GlobalAveragePooling1D):   # (batch, steps) on the steps axis
        steps = x.shape[1] if layer.data_format == "channels_last" else x.shape[2]
        kw["mask"] = np.arange(steps)[None, :].repeat(3, 0) < np.array([[1], [steps], [2]])
    out, ctx = layer.forward(x, **kw)
    w = rng.normal(size=out.shape)
    (dx,), _ = layer.backward(ctx, w)
    expected = numerical_gradient(lambda: np.sum(layer.forward(x, **kw)[0] * w), x)
    assert_allclose(dx, expected, rtol=RTOL["float64"] * 1e4, atol=1e-9)


def test_max_gradient_is_shared_between_ties():
    x = np.array([[[1.0], [3.0], [3.0]]])
    layer = GlobalMaxPooling1D(dtype="float64")
    out, ctx = layer.forward(x)
    (dx,), _ = layer.backward(ctx, np.ones((1, 1)))
    assert_allclose(dx[0, :, 0], [0.0, 0.5, 0.5])


def test_config_round_trip_and_bad_input(x):
    layer = GlobalMaxPooling1D(keepdims=True, data_format="channels_first", name="gmp")
    again = deserialize(serialize(layer))
    assert type(again) is GlobalMaxPooling1D and again.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="`data_format`"):
        GlobalAveragePooling1D(data_format="NCW")
    with pytest.raises(ValueError, match="must be 3D"):
        GlobalAveragePooling1D()(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="mask"):
        GlobalAveragePooling1D()(x, mask=np.ones((3, 4), bool))
    assert ATOL["float32"] > 0
