"""Every layer through ``run_layer_test``: shapes, config round trip, protocol v2 and
finite-difference gradients (float64)."""
import numpy as np
import pytest

from fastrnn import layers as L
from layer_test import run_layer_test

F64 = {"dtype": "float64"}


def x3(rng, b=3, t=4, d=2):
    return rng.normal(size=(b, t, d))


RNN_FLAGS = [dict(return_sequences=rs, return_state=st, go_backwards=gb, activation=act,
                  use_bias=bias)
             for rs in (False, True) for st in (False, True) for gb in (False, True)
             for act, bias in (("tanh", True), ("relu", False))]


@pytest.mark.parametrize("flags", RNN_FLAGS, ids=str)
@pytest.mark.parametrize("with_state", [False, True])
def test_simple_rnn(rng, flags, with_state):
    state = [rng.normal(size=(3, 3))] if with_state else None
    # seeded weights: the relu kink must stay away from the finite differences' steps
    run_layer_test(lambda: L.SimpleRNN(3, seed=7, **flags, **F64), x3(rng), rng,
                   initial_state=state, expected_num_weights=3 if flags["use_bias"] else 2)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_bidirectional(rng, merge_mode, return_sequences, return_state, go_backwards):
    run_layer_test(lambda: L.Bidirectional(
        L.SimpleRNN(3, return_sequences=return_sequences, return_state=return_state,
                    go_backwards=go_backwards, **F64), merge_mode=merge_mode),
        x3(rng), rng, expected_num_weights=6)


def test_bidirectional_initial_state_and_custom_backward_layer(rng):
    state = [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    layer = run_layer_test(lambda: L.Bidirectional(
        L.SimpleRNN(3, return_sequences=True, return_state=True, **F64),
        backward_layer=L.SimpleRNN(2, return_sequences=True, return_state=True,
                                   go_backwards=True, activation="relu", **F64)),
        x3(rng), rng, initial_state=state,
        expected_output_shape=[(3, 4, 5), (3, 3), (3, 2)])
    # the true shapes, not Keras 3.15's (which reports 2 * forward units)
    assert layer.compute_output_shape((None, 4, 2)) == [(None, 4, 5), (None, 3), (None, 2)]


@pytest.mark.parametrize("activation", [None, "tanh", "relu", "sigmoid", "softmax"])
@pytest.mark.parametrize("rank", [2, 3])
def test_dense(rng, activation, rank):
    x = rng.normal(size=(3, 2) if rank == 2 else (3, 4, 2))
    run_layer_test(lambda: L.Dense(4, activation=activation, **F64), x, rng,
                   expected_num_weights=2)


def test_embedding(rng):
    run_layer_test(lambda: L.Embedding(7, 3, **F64), rng.integers(0, 7, (3, 5)), rng,
                   expected_output_shape=(3, 5, 3), expected_num_weights=1)


@pytest.mark.parametrize("make", [
    lambda: L.Dropout(0.3, **F64), lambda: L.Activation("tanh", **F64),
    lambda: L.Activation("softmax", **F64), lambda: L.Activation("sigmoid", **F64),
    lambda: L.Flatten(**F64), lambda: L.Reshape((2, 4), **F64),
    lambda: L.Reshape((-1,), **F64), lambda: L.Permute((2, 1), **F64),
    lambda: L.Masking(0.0, **F64)], ids=lambda f: "")
def test_stateless(rng, make):
    run_layer_test(make, x3(rng), rng, expected_num_weights=0)


def test_masking_masks_and_zeroes_steps(rng):
    x = x3(rng)
    x[0, 1] = 0.0
    layer = run_layer_test(lambda: L.Masking(0.0, **F64), x, rng, check_gradients=False)
    mask = layer.compute_mask(x)
    assert mask.shape == (3, 4) and not mask[0, 1] and mask.sum() == 11
    out, ctx = layer.forward(x)
    np.testing.assert_array_equal(out[0, 1], 0.0)
    (d,), _ = layer.backward(ctx, np.ones_like(x))
    np.testing.assert_array_equal(d, mask[..., None] * np.ones_like(x))


def test_repeat_vector(rng):
    run_layer_test(lambda: L.RepeatVector(3, **F64), rng.normal(size=(2, 4)), rng,
                   expected_output_shape=(2, 3, 4))


@pytest.mark.parametrize("cls", [L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum,
                                 L.Minimum])
def test_merge(rng, cls):
    xs = [rng.normal(size=(3, 4, 2)) for _ in range(2 if cls is L.Subtract else 3)]
    run_layer_test(lambda: cls(**F64), xs, rng, expected_output_shape=(3, 4, 2))


@pytest.mark.parametrize("axis, shapes, out", [
    (-1, [(3, 4, 2), (3, 4, 5)], (3, 4, 7)), (1, [(3, 4, 2), (3, 1, 2)], (3, 5, 2)),
    (2, [(3, 4, 2), (3, 4, 1)], (3, 4, 3))])
def test_concatenate(rng, axis, shapes, out):
    xs = [rng.normal(size=s) for s in shapes]
    run_layer_test(lambda: L.Concatenate(axis=axis, **F64), xs, rng,
                   expected_output_shape=out)


def test_merge_values_match_numpy(rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    for fn, expected in ((L.add, a + b), (L.subtract, a - b), (L.multiply, a * b),
                         (L.average, (a + b) / 2), (L.maximum, np.maximum(a, b)),
                         (L.minimum, np.minimum(a, b)),
                         (L.concatenate, np.concatenate([a, b], -1))):
        layer_cls = {L.add: L.Add, L.subtract: L.Subtract, L.multiply: L.Multiply,
                     L.average: L.Average, L.maximum: L.Maximum, L.minimum: L.Minimum,
                     L.concatenate: L.Concatenate}[fn]
        np.testing.assert_allclose(layer_cls(dtype="float64")([a, b]), expected, rtol=1e-15)


def test_merge_bad_input_names_layer():
    with pytest.raises(ValueError, match="`add_bad`.*list of inputs"):
        L.Add(name="add_bad")(np.ones((2, 3)))
    with pytest.raises(ValueError, match="`sub_bad`.*expects 2 inputs, got 3"):
        L.Subtract(name="sub_bad")([np.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match="`add_shape`.*same shape"):
        L.Add(name="add_shape")([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="`cat_bad`.*matching shapes"):
        L.Concatenate(name="cat_bad")([np.ones((2, 3, 1)), np.ones((2, 4, 1))])


def test_lambda_infers_shape_and_refuses_gradients():
    layer = L.Lambda(lambda x: x[:, -1] * 2, name="last_twice")
    assert layer.compute_output_shape((None, 5, 3)) == (None, 3)
    np.testing.assert_array_equal(layer(np.ones((2, 5, 3))), 2 * np.ones((2, 3)))
    _, ctx = layer.forward(np.ones((2, 5, 3)))
    with pytest.raises(ValueError, match="`last_twice`.*Lambda.*gradient"):
        layer.backward(ctx, np.ones((2, 3)))
    with pytest.raises(ValueError, match="Lambda.*execute code"):
        L.deserialize(L.serialize(layer))
