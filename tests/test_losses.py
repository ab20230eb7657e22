"""fastrnn.losses against hand-written NumPy formulas and finite differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

losses, = load("losses")

EPS = 1e-7
from tolerances import ATOL, RTOL  # noqa: E402


# ----------------------------------------------------------------------------- references
# Plain formulas, written from Keras's documentation, over all elements at once.

def ref_mse(t, p):
    return np.mean((np.asarray(t, float) - np.asarray(p, float)) ** 2)


def ref_mae(t, p):
    return np.mean(np.abs(np.asarray(t, float) - np.asarray(p, float)))


def ref_bce(t, p, from_logits=False):
    t, p = np.asarray(t, float), np.asarray(p, float)
    if from_logits:                      # no clipping on the logits path
        q = 1 / (1 + np.exp(-p))
    else:
        q = np.minimum(np.maximum(p, EPS), 1 - EPS)
    return np.mean(-(t * np.log(q) + (1 - t) * np.log(1 - q)))


def ref_cce(t, p, from_logits=False):
    t, p = np.asarray(t, float), np.asarray(p, float)
    if from_logits:                      # no clipping on the logits path
        e = np.exp(p - p.max(axis=-1, keepdims=True))
        q = e / e.sum(axis=-1, keepdims=True)
    else:
        q = p / p.sum(axis=-1, keepdims=True)
        q = np.minimum(np.maximum(q, EPS), 1 - EPS)
    return np.mean(-np.sum(t * np.log(q), axis=-1))


def ref_scce(labels, p, from_logits=False):
    """TensorFlow's path: clip the probabilities, then -log(q[y] / sum(q))."""
    p = np.asarray(p, float)
    labels = np.asarray(labels).reshape(p.shape[:-1])
    if from_logits:
        e = np.exp(p - p.max(axis=-1, keepdims=True))
        q = e / e.sum(axis=-1, keepdims=True)
    else:
        q = np.minimum(np.maximum(p, EPS), 1 - EPS)
        q = q / q.sum(axis=-1, keepdims=True)
    out = [-np.log(q[idx][labels[idx]]) for idx in np.ndindex(labels.shape)]
    return np.mean(out)


def numerical_gradient(f, x, h=1e-4):
    """Fourth-order central differences of the scalar function f at x (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        def at(d):
            xx = x.copy()
            xx[idx] += d
            return f(xx)
        grad[idx] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return grad


def probs(rng, shape, low=0.05, high=0.95):
    return rng.uniform(low, high, size=shape)


def softmax_probs(rng, shape):
    z = rng.normal(size=shape)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(rng, shape):
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    return np.eye(shape[-1])[labels], labels


SHAPES = [(1, 1), (4, 3), (5, 1), (3, 4, 2), (2, 1, 3)]


# ----------------------------------------------------------------------------- values

def test_keras_documented_values():
    # the examples of Keras's docstrings (keras/src/losses/losses.py)
    assert losses.MeanSquaredError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]) == 0.5
    assert losses.MeanAbsoluteError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]) == 0.5
    bce = losses.BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    assert bce == pytest.approx(0.815, abs=1e-3)
    cce = losses.CategoricalCrossentropy()([[0, 1, 0], [0, 0, 1]],
                                           [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert cce == pytest.approx(1.177, abs=1e-3)
    scce = losses.SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert scce == pytest.approx(1.177, abs=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_values_match_references(rng, dtype, shape):
    p = probs(rng, shape).astype(dtype)
    t = rng.uniform(0, 1, size=shape).astype(dtype)
    oh, labels = one_hot(rng, shape)
    sm = softmax_probs(rng, shape).astype(dtype)
    logits = rng.normal(scale=3, size=shape).astype(dtype)
    rtol, atol = RTOL[dtype], ATOL[dtype]
    cases = [
        (losses.MeanSquaredError(), t, p, ref_mse(t, p)),
        (losses.MeanAbsoluteError(), t, p, ref_mae(t, p)),
        (losses.BinaryCrossentropy(), t, p, ref_bce(t, p)),
        (losses.BinaryCrossentropy(from_logits=True), t, logits, ref_bce(t, logits, True)),
        (losses.CategoricalCrossentropy(), oh, p, ref_cce(oh, p)),
        (losses.CategoricalCrossentropy(from_logits=True), oh, logits,
         ref_cce(oh, logits, True)),
        (losses.SparseCategoricalCrossentropy(), labels, sm, ref_scce(labels, sm)),
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels, logits,
         ref_scce(labels, logits, True)),
    ]
    for loss, y_true, y_pred, expected in cases:
        value = loss(y_true, y_pred)
        assert isinstance(value, float)
        assert_allclose(value, expected, rtol=rtol * 10, atol=atol * 10, err_msg=loss.name)


def test_functions_return_per_sample_values(rng):
    t, p = rng.uniform(size=(3, 4, 2)), probs(rng, (3, 4, 2))
    assert_allclose(losses.mse(t, p), np.mean((t - p) ** 2, axis=-1), rtol=1e-12)
    assert_allclose(losses.mae(t, p), np.mean(np.abs(t - p), axis=-1), rtol=1e-12)
    assert losses.binary_crossentropy(t, p).shape == (3, 4)
    assert losses.categorical_crossentropy(t, p).shape == (3, 4)
    assert losses.sparse_categorical_crossentropy(np.zeros((3, 4)), p).shape == (3, 4)
    assert losses.mean_squared_error is losses.mse and losses.mean_absolute_error is losses.mae


def test_lists_compute_in_float32_and_arrays_keep_their_dtype():
    assert losses.mse([[0, 1]], [[1, 1]]).dtype == np.float32
    assert losses.mse(np.zeros((1, 2)), np.ones((1, 2))).dtype == np.float64
    assert losses.mse(np.zeros((1, 2)), np.ones((1, 2), np.float32)).dtype == np.float32


def test_bce_clips_probabilities_like_keras():
    # p = 0 or 1 would give log(0); Keras clips to [1e-7, 1 - 1e-7] in float32
    value = losses.BinaryCrossentropy()(np.array([[1.0]], np.float32),
                                        np.array([[0.0]], np.float32))
    assert value == pytest.approx(-np.log(np.float32(1e-7)), rel=1e-6)
    assert np.isfinite(losses.BinaryCrossentropy()([[0.0, 1.0]], [[1.0, 0.0]]))


def test_cce_normalises_by_the_sum_first(rng):
    p = probs(rng, (4, 3))
    oh, _ = one_hot(rng, (4, 3))
    cce = losses.CategoricalCrossentropy()
    assert cce(oh, 5 * p) == pytest.approx(cce(oh, p), rel=1e-12)
    assert cce(oh, p) == pytest.approx(ref_cce(oh, p), rel=1e-12)


def test_sparse_equals_categorical_for_normalised_probabilities(rng):
    p = softmax_probs(rng, (6, 4))
    oh, labels = one_hot(rng, (6, 4))
    scce, cce = losses.SparseCategoricalCrossentropy(), losses.CategoricalCrossentropy()
    assert scce(labels, p) == pytest.approx(cce(oh, p), rel=1e-10)
    assert_allclose(scce.gradient(labels, p), cce.gradient(oh, p), rtol=1e-8, atol=1e-12)


def test_from_logits_is_stable_for_huge_logits():
    x = np.array([[1000.0, -1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        bce = losses.BinaryCrossentropy(from_logits=True)([[1.0, 0.0, 1.0]], x)
        cce = losses.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0, 0.0]], x)
        scce = losses.SparseCategoricalCrossentropy(from_logits=True)([1], x)
        grads = [losses.BinaryCrossentropy(from_logits=True).gradient([[1.0, 0.0, 1.0]], x),
                 losses.CategoricalCrossentropy(from_logits=True).gradient([[0, 1, 0]], x)]
    assert bce == pytest.approx(np.log(2) / 3)
    assert cce == pytest.approx(2000.0) and scce == pytest.approx(2000.0)
    assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("y_true", [[0.0, 1.0, 1.0], [[0.0], [1.0], [1.0]]])
@pytest.mark.parametrize("y_pred", [[0.2, 0.7, 0.9], [[0.2], [0.7], [0.9]]])
def test_rank_one_and_trailing_one_targets_are_accepted(y_true, y_pred):
    expected = ref_mse(np.ravel(y_true), np.ravel(y_pred))
    assert losses.mse.__name__ == "mean_squared_error"
    assert losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(expected, rel=1e-6)
    assert losses.MeanSquaredError().gradient(y_true, y_pred).shape == np.shape(y_pred)


@pytest.mark.parametrize("labels", [[[0], [2]], [0, 2], [0.0, 2.0], np.array([0, 2], np.int8)])
def test_sparse_target_forms(labels):
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    expected = -(np.log(0.7) + np.log(0.6)) / 2
    assert losses.SparseCategoricalCrossentropy()(labels, p) == pytest.approx(expected)


def test_label_smoothing(rng):
    t, p = rng.integers(0, 2, size=(4, 3)).astype(float), probs(rng, (4, 3))
    smooth = losses.BinaryCrossentropy(label_smoothing=0.2)(t, p)
    assert smooth == pytest.approx(ref_bce(t * 0.8 + 0.1, p), rel=1e-12)
    oh, _ = one_hot(rng, (4, 3))
    smooth = losses.CategoricalCrossentropy(label_smoothing=0.3)(oh, p)
    assert smooth == pytest.approx(ref_cce(oh * 0.7 + 0.1, p), rel=1e-12)


def test_reductions_and_sample_weight(rng):
    t, p = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    per_sample = np.mean((t - p) ** 2, axis=-1)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    assert losses.MeanSquaredError()(t, p, sample_weight=w) == pytest.approx(
        np.sum(per_sample * w) / 4)
    assert losses.MeanSquaredError(reduction="sum")(t, p) == pytest.approx(per_sample.sum())
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(
        t, p, sample_weight=w) == pytest.approx(np.sum(per_sample * w) / w.sum())
    assert_allclose(losses.MeanSquaredError(reduction="none")(t, p), per_sample)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="none").gradient(t, p)
    with pytest.raises(ValueError, match="`reduction`"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="`sample_weight`"):
        losses.MeanSquaredError()(t, p, sample_weight=np.ones(3))


# ----------------------------------------------------------------------------- gradients

def _gradient_cases(rng, shape):
    t = rng.uniform(0, 1, size=shape)
    oh, labels = one_hot(rng, shape)
    p = probs(rng, shape, 0.1, 0.9)
    logits = rng.normal(scale=2, size=shape)
    d = rng.normal(size=shape)
    d[np.abs(d) < 0.1] += 0.5                    # keep |y_pred - y_true| away from the kink
    return [
        (losses.MeanSquaredError(), t, rng.normal(size=shape)),
        (losses.MeanAbsoluteError(), t, t + d),
        (losses.BinaryCrossentropy(), t, p),
        (losses.BinaryCrossentropy(from_logits=True), t, logits),
        (losses.BinaryCrossentropy(label_smoothing=0.1), np.round(t), p),
        (losses.CategoricalCrossentropy(), oh, p),
        (losses.CategoricalCrossentropy(), rng.dirichlet(np.ones(shape[-1]), shape[:-1]), p),
        (losses.CategoricalCrossentropy(from_logits=True), oh, logits),
        (losses.CategoricalCrossentropy(from_logits=True),
         rng.dirichlet(np.ones(shape[-1]), shape[:-1]), logits),
        (losses.SparseCategoricalCrossentropy(), labels, p),
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels, logits),
    ]


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_match_finite_differences(rng, shape):
    for loss, y_true, y_pred in _gradient_cases(rng, shape):
        expected = numerical_gradient(lambda x: loss(y_true, x), y_pred)
        actual = loss.gradient(y_true, y_pred)
        assert actual.shape == y_pred.shape and actual.dtype == np.float64
        assert_allclose(actual, expected, rtol=1e-7, atol=1e-9, err_msg=repr(loss))


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_weighted_gradients_match_finite_differences(rng, reduction):
    shape = (3, 4, 2)
    w = rng.uniform(0.5, 2.0, size=3)
    for loss, y_true, y_pred in _gradient_cases(rng, shape):
        loss.reduction = reduction
        expected = numerical_gradient(lambda x: loss(y_true, x, sample_weight=w), y_pred)
        actual = loss.gradient(y_true, y_pred, sample_weight=w)
        assert_allclose(actual, expected, rtol=1e-7, atol=1e-9, err_msg=repr(loss))


def test_mse_gradient_formula():
    t = np.array([[0.0, 1.0], [2.0, 2.0]])
    p = np.array([[1.0, 1.0], [0.0, 3.0]])
    # d/dp of mean over 4 elements of (p - t)^2 = 2 (p - t) / 4
    assert_allclose(losses.MeanSquaredError().gradient(t, p), [[0.5, 0.0], [-1.0, 0.5]])


def test_gradient_is_zero_where_probabilities_are_clipped():
    t = np.array([[1.0, 0.0, 1.0, 0.0]])
    p = np.array([[0.0, 1.0, 1e-9, 0.5]])
    g = losses.BinaryCrossentropy().gradient(t, p)
    assert_allclose(g[0, :3], 0.0)
    assert g[0, 3] == pytest.approx((1 / (1 - 0.5)) / 4)
    # sparse (TensorFlow's path): a clipped class has no influence at all
    p = np.array([[1e-9, 0.6, 0.4 - 1e-9]])
    g = losses.SparseCategoricalCrossentropy().gradient([1], p)
    assert g[0, 0] == 0.0
    expected = numerical_gradient(lambda x: losses.SparseCategoricalCrossentropy()([1], x), p,
                                  h=1e-11)
    assert_allclose(g, expected, rtol=1e-4, atol=1e-4)


def test_cce_gradient_goes_through_the_normalisation_when_clipped():
    # a class clipped at eps still moves the others through the sum (Keras divides first)
    oh = np.array([[0.0, 1.0, 0.0]])
    p = np.array([[1e-10, 0.6, 0.4]])
    loss = losses.CategoricalCrossentropy()
    g = loss.gradient(oh, p)
    expected = numerical_gradient(lambda x: loss(oh, x), p, h=1e-11)
    assert_allclose(g, expected, rtol=1e-4, atol=1e-4)
    assert g[0, 0] == pytest.approx(1 / p.sum())          # not zero: via the sum
    # unclipped: d/dp_k [-log(p_y / S)] = -[k == y] / p_y + 1 / S
    p = np.array([[0.2, 0.5, 0.3]]) * 2
    assert_allclose(loss.gradient(oh, p), [[0.5, 0.5 - 1.0, 0.5]], rtol=1e-12)


@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.BinaryCrossentropy(),
                                  losses.CategoricalCrossentropy(from_logits=True)])
def test_float32_gradient_keeps_dtype_and_matches_float64(rng, loss):
    t = rng.integers(0, 2, size=(5, 3)).astype(np.float32)
    p = probs(rng, (5, 3)).astype(np.float32)
    g32 = loss.gradient(t, p)
    assert g32.dtype == np.float32 and g32.shape == p.shape
    assert_allclose(g32, loss.gradient(t.astype(np.float64), p.astype(np.float64)),
                    rtol=1e-5, atol=1e-7)


def test_mae_gradient_is_zero_at_a_tie():
    g = losses.MeanAbsoluteError().gradient([[1.0, 2.0]], [[1.0, 3.0]])
    assert_allclose(g, [[0.0, 0.5]])


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.BinaryCrossentropy(),
                                  losses.CategoricalCrossentropy()])
def test_dense_shape_mismatch_names_y(loss):
    with pytest.raises(ValueError, match=r"`y`.*\(4, 3\).*y\.shape=\(4, 2\)"):
        loss(np.zeros((4, 2)), np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="`y`"):
        loss.gradient(np.zeros((3, 3)), np.full((4, 3), 0.5))


def test_sparse_target_errors():
    loss = losses.SparseCategoricalCrossentropy()
    p = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"`y`.*\(4,\).*y\.shape=\(4, 3\)"):
        loss(np.zeros((4, 3)), p)
    with pytest.raises(ValueError, match=r"`y`.*\[0, 2\]"):
        loss([0, 1, 2, 3], p)
    with pytest.raises(ValueError, match="`y`.*integer"):
        loss([0, 1, 2, 0.5], p)
    with pytest.raises(ValueError, match="`y_pred`"):
        loss([0], [0.5])


def test_invalid_constructor_arguments():
    with pytest.raises(ValueError, match="`from_logits`"):
        losses.BinaryCrossentropy(from_logits="yes")
    with pytest.raises(ValueError, match="`label_smoothing`"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match="unexpected_argument"):
        losses.MeanSquaredError(unexpected_argument=1)


# ----------------------------------------------------------------------------- get

@pytest.mark.parametrize("identifier, cls, name", [
    ("mse", losses.MeanSquaredError, "mse"),
    ("MSE", losses.MeanSquaredError, "MSE"),
    ("mean_squared_error", losses.MeanSquaredError, "mean_squared_error"),
    ("MeanSquaredError", losses.MeanSquaredError, "mean_squared_error"),
    ("mae", losses.MeanAbsoluteError, "mae"),
    ("mean_absolute_error", losses.MeanAbsoluteError, "mean_absolute_error"),
    ("binary_crossentropy", losses.BinaryCrossentropy, "binary_crossentropy"),
    ("bce", losses.BinaryCrossentropy, "bce"),
    ("categorical_crossentropy", losses.CategoricalCrossentropy, "categorical_crossentropy"),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy,
     "sparse_categorical_crossentropy"),
    ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy,
     "sparse_categorical_crossentropy"),
    (losses.mse, losses.MeanSquaredError, "mean_squared_error"),
    (losses.binary_crossentropy, losses.BinaryCrossentropy, "binary_crossentropy"),
    (losses.MeanAbsoluteError, losses.MeanAbsoluteError, "mean_absolute_error"),
])
def test_get_resolves_names(identifier, cls, name):
    loss = losses.get(identifier)
    assert type(loss) is cls and loss.name == name
    assert not getattr(loss, "from_logits", False)


def test_get_returns_instances_unchanged_and_wraps_callables(rng):
    inst = losses.CategoricalCrossentropy(from_logits=True)
    assert losses.get(inst) is inst

    def my_loss(y_true, y_pred):
        return np.sum(np.abs(y_true - y_pred), axis=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, losses.Loss) and wrapped.name == "my_loss"
    t, p = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    assert wrapped(t, p) == pytest.approx(np.mean(np.sum(np.abs(t - p), axis=-1)))
    with pytest.raises(NotImplementedError, match="my_loss"):
        wrapped.gradient(t, p)
    with_grad = losses.LossFunctionWrapper(
        lambda t, p: np.sum((p - t) ** 2, axis=-1),
        gradient_fn=lambda t, p, w: 2 * (p - t) * w[:, None], name="sq")
    assert_allclose(with_grad.gradient(t, p),
                    numerical_gradient(lambda x: with_grad(t, x), p), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("identifier", ["ctc", "Mse", "", 3, None])
def test_get_unknown_raises(identifier):
    with pytest.raises(ValueError) as info:
        losses.get(identifier)
    message = str(info.value)
    assert "`loss`" in message and "mean_squared_error" in message
    assert repr(identifier) in message


def test_config_round_trip():
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="b")
    again = losses.BinaryCrossentropy.from_config(loss.get_config())
    assert again.get_config() == loss.get_config() == {
        "name": "b", "reduction": "sum_over_batch_size", "from_logits": True,
        "label_smoothing": 0.1}
    assert losses.BinaryCrossentropy.logits_activation == "sigmoid"
    assert losses.SparseCategoricalCrossentropy.logits_activation == "softmax"
