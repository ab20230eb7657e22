"""The Keras 3 losses added for the toolbox issue: values (against Keras 3 numbers written
out by hand or by formula), gradients by finite differences, sample weights and masks."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradcheck import numerical_gradient
from pure_modules import load

(losses,) = load("losses")


def _inputs(cls, rng, shape):
    """(y_true, y_pred) in float64 away from the kinks of each loss."""
    if cls in (losses.KLDivergence,):
        t = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
        p = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
        return t, p
    if cls in (losses.Hinge, losses.SquaredHinge):
        t = np.sign(rng.normal(size=shape))
        p = rng.normal(size=shape)
        m = 1 - t * p
        p = np.where(np.abs(m) < 0.05, p + 0.2, p)        # stay off the hinge
        return t, p
    if cls is losses.CategoricalHinge:
        t = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
        return t, rng.normal(size=shape)
    t = rng.uniform(0.2, 2.0, size=shape)
    p = rng.uniform(0.2, 2.0, size=shape)
    if cls is losses.Huber:
        p = t + rng.choice([-1, 1], size=shape) * rng.uniform(0.1, 2.5, size=shape)
        p = np.where(np.abs(np.abs(p - t) - 1.0) < 0.05, p + 0.2, p)
    return t, p


NEW_CLASSES = [losses.Huber, losses.LogCosh, losses.MeanSquaredLogarithmicError,
               losses.MeanAbsolutePercentageError, losses.Hinge, losses.SquaredHinge,
               losses.CategoricalHinge, losses.KLDivergence, losses.CosineSimilarity,
               losses.Poisson]


@pytest.mark.parametrize("cls", NEW_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("shape, weights", [
    ((4, 3), None),
    ((4, 3), "batch"),
    ((2, 3, 4), "batch"),
    ((2, 3, 4), "timestep"),
    ((2, 3, 4), "mask"),
])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum",
                                       "mean_with_sample_weight"])
def test_gradient_matches_finite_differences(cls, shape, weights, reduction, rng):
    t, p = _inputs(cls, rng, shape)
    loss = cls(reduction=reduction)
    kwargs = {}
    if weights == "batch":
        kwargs["sample_weight"] = rng.uniform(0.1, 2.0, size=shape[0])
    elif weights == "timestep":
        kwargs["sample_weight"] = rng.uniform(0.1, 2.0, size=shape[:2])
    elif weights == "mask":
        kwargs["mask"] = np.array([[True, False, True], [True, True, False]])
    grad = loss.gradient(t, p, **kwargs)
    assert grad.shape == p.shape and grad.dtype == np.float64
    expected = numerical_gradient(lambda: loss(t, p, **kwargs), p, eps=1e-6)
    assert_allclose(grad, expected, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(expected).max()))


# Keras 3.15.1 (TensorFlow 2.21) per-sample values on the inputs below, written out.
T = np.array([[0.0, 1.5, 0.3], [2.0, 0.5, 1.0]], dtype="float32")
P = np.array([[0.5, 1.0, 0.9], [1.0, -0.5, 1.5]], dtype="float32")


def test_function_values_follow_keras_formulas():
    eps = 1e-7
    t, p = T.astype(np.float64), P.astype(np.float64)
    e = p - t
    assert_allclose(losses.mean_absolute_percentage_error(T, P),
                    100 * np.mean(np.abs(e) / np.maximum(np.abs(t), eps), -1), rtol=1e-6)
    assert_allclose(losses.mean_squared_logarithmic_error(T, P),
                    np.mean((np.log(np.maximum(p, eps) + 1) - np.log(t + 1 + eps * (t == 0)))
                            ** 2, -1), rtol=1e-5)
    assert_allclose(losses.huber(T, P, delta=0.6),
                    np.mean(np.where(np.abs(e) <= 0.6, 0.5 * e ** 2,
                                     0.6 * np.abs(e) - 0.18), -1), rtol=1e-6)
    assert_allclose(losses.log_cosh(T, P), np.mean(np.log(np.cosh(e)), -1), rtol=1e-5)
    cos = -np.sum(t * p, -1) / np.linalg.norm(t, axis=-1) / np.linalg.norm(p, axis=-1)
    assert_allclose(losses.cosine_similarity(T, P), cos, rtol=1e-6)
    assert_allclose(losses.poisson(T, np.abs(P)),
                    np.mean(np.abs(p) - t * np.log(np.abs(p) + eps), -1), rtol=1e-6)
    tc, pc = np.clip(t / 3, eps, 1), np.clip(np.abs(p) / 3, eps, 1)
    assert_allclose(losses.kl_divergence(T / 3, np.abs(P) / 3),
                    np.sum(tc * np.log(tc / pc), -1), rtol=1e-5)
    signs = np.array([[-1, 1, 1], [1, -1, -1]], dtype="float32")
    binary = (signs > 0).astype("float32")           # 0/1 targets become -1/1
    for fn, power in ((losses.hinge, 1), (losses.squared_hinge, 2)):
        expected = np.mean(np.maximum(1 - signs * p, 0) ** power, -1)
        assert_allclose(fn(signs, P), expected, rtol=1e-6)
        assert_allclose(fn(binary, P), expected, rtol=1e-6)
    onehot = np.array([[0, 1, 0], [0, 0, 1]], dtype="float32")
    assert_allclose(losses.categorical_hinge(onehot, P), [1.0 - 1.0 + 0.9, 1.0 - 1.5 + 1.0],
                    rtol=1e-6)


def test_keras_documented_examples():
    # examples of the Keras 3 docstrings
    assert losses.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) == pytest.approx(0.155)
    assert losses.LogCosh()([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]]) == pytest.approx(
        0.108, abs=1e-3)
    assert losses.CosineSimilarity()([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]]) == \
        pytest.approx(-0.5)


def test_class_values_with_reductions_sample_weights_and_masks():
    loss = losses.Huber(reduction="sum_over_batch_size")
    values = losses.huber(T, P)
    sw = np.array([2.0, 0.5], dtype="float32")
    assert loss(T, P) == pytest.approx(values.mean(), rel=1e-6)
    assert loss(T, P, sample_weight=sw) == pytest.approx((values * sw).sum() / 2, rel=1e-6)
    assert losses.Huber(reduction="mean_with_sample_weight")(T, P, sample_weight=sw) == \
        pytest.approx((values * sw).sum() / sw.sum(), rel=1e-6)
    assert_allclose(losses.Huber(reduction="none")(T, P), values)
    # a mask: sum over the valid entries divided by their number (Keras's apply_mask)
    t3, p3 = np.stack([T, T]), np.stack([P, P * 2])            # (2, 2, 3)
    mask = np.array([[True, False], [True, True]])
    per = losses.huber(t3, p3)
    assert loss(t3, p3, mask=mask) == pytest.approx(per[mask].sum() / 3, rel=1e-6)
    assert loss(t3, p3, mask=np.zeros((2, 2), bool)) == 0.0
    assert losses.Huber(reduction="sum")(t3, p3, mask=mask) == pytest.approx(
        per[mask].sum(), rel=1e-6)
    g = loss.gradient(t3, p3, mask=mask)
    assert np.all(g[0, 1] == 0) and np.any(g[1, 1] != 0)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="`sample_weight`.*\\(2,\\)"):
        losses.Huber()(T, P, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`mask`"):
        losses.LogCosh()(T, P, mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="`y`"):
        losses.Poisson()(T[:, :2], P)
    with pytest.raises(ValueError, match="`delta`"):
        losses.Huber(delta=0)
    with pytest.raises(ValueError, match="`axis`"):
        losses.CosineSimilarity(axis=0.5)
    with pytest.raises(ValueError, match="`axis`.*out of range"):
        losses.CosineSimilarity(axis=2)(T, P)


def test_cosine_similarity_along_axis_0_and_its_gradient(rng):
    t, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss = losses.CosineSimilarity(axis=0)
    per_column = -np.sum(t * p, 0) / np.linalg.norm(t, axis=0) / np.linalg.norm(p, axis=0)
    assert loss(t, p) == pytest.approx(per_column.mean())
    w = rng.uniform(0.5, 1.5, size=3)
    assert_allclose(loss.gradient(t, p, sample_weight=w),
                    numerical_gradient(lambda: loss(t, p, sample_weight=w), p),
                    rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name, cls", [
    ("mape", "MeanAbsolutePercentageError"), ("MAPE", "MeanAbsolutePercentageError"),
    ("msle", "MeanSquaredLogarithmicError"), ("kld", "KLDivergence"),
    ("huber", "Huber"), ("log_cosh", "LogCosh"), ("logcosh", "LogCosh"),
    ("cosine_similarity", "CosineSimilarity"), ("poisson", "Poisson"), ("hinge", "Hinge"),
    ("squared_hinge", "SquaredHinge"), ("categorical_hinge", "CategoricalHinge"),
    ("Huber", "Huber"), ("kl_divergence", "KLDivergence"),
])
def test_names_resolve_like_keras(name, cls):
    loss = losses.get(name)
    assert type(loss).__name__ == cls
    assert callable(getattr(losses, name, None)) or name[0].isupper()
    config = {"class_name": cls, "config": loss.get_config()}
    assert losses.get(config).get_config() == loss.get_config()


def test_function_aliases_are_the_functions():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error
    assert losses.kld is losses.kl_divergence
    assert losses.get(losses.huber).name == "huber"
