"""Layers and Sequential: the seed tutorial, Keras 2 spellings, config, state, bad input."""

import numpy as np
import pytest

import fastrnn
from fastrnn import reference as R
from fastrnn.layers import Bidirectional, Dense, SimpleRNN
from fastrnn.models import Sequential


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_seed_summaries():
    model = Sequential()
    model.add(SimpleRNN(3, input_shape=(2, 10)))
    text = summary_text(model)
    assert "Layer (type)                 Output Shape              Param #   " in text
    row = [line for line in text.splitlines() if "(SimpleRNN)" in line][0]
    assert row.split()[-3:] == ["(None,", "3)", "42"]
    assert "Total params: 42" in text and "Trainable params: 42" in text
    assert "Non-trainable params: 0" in text and "=" * 65 in text

    model = Sequential()
    model.add(SimpleRNN(3, batch_input_shape=(8, 2, 10)))
    assert "(8, 3)                    42" in summary_text(model)

    model = Sequential()
    model.add(SimpleRNN(3, batch_input_shape=(8, 2, 10), return_sequences=True))
    assert "(8, 2, 3)                 42" in summary_text(model)
    assert model.output_shape == (8, 2, 3)


def test_input_dim_and_input_length_mean_input_shape():
    a = SimpleRNN(3, input_length=2, input_dim=10)
    b = SimpleRNN(3, input_shape=(2, 10))
    assert a.batch_input_shape == b.batch_input_shape == (None, 2, 10)
    assert SimpleRNN(3, input_shape=(2, 10), batch_size=4).batch_input_shape == (4, 2, 10)
    model = Sequential([fastrnn.Input(shape=(2, 10)), SimpleRNN(3)])
    assert model.output_shape == (None, 3) and model.count_params() == 42


def test_summary_of_unbuilt_model_prints_unknown_shapes_as_keras_3():
    model = Sequential([SimpleRNN(4, return_sequences=True), SimpleRNN(4)])
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line for line in lines if "(SimpleRNN)" in line]
    assert len(rows) == 2 and all("?" in r and "0 (unbuilt)" in r for r in rows)
    assert "Total params: 0" in lines
    model(np.zeros((2, 5, 3)))
    assert model.output_shape == (None, 4)
    assert model.count_params() == (3 * 4 + 16 + 4) + (4 * 4 + 16 + 4)


def test_return_state_shapes_and_values(rng):
    rnn = SimpleRNN(3, return_sequences=True, return_state=True)
    x = rng.uniform(size=(1, 4, 5)).astype(np.float32)
    hidden_states, last_state = rnn(x)
    assert hidden_states.shape == (1, 4, 3) and last_state.shape == (1, 3)
    np.testing.assert_array_equal(hidden_states[:, -1], last_state)
    k, r, b = rnn.get_weights()
    ref, _ = R.simple_rnn_forward(x, k, r, b)
    np.testing.assert_allclose(hidden_states, ref, rtol=1e-5, atol=1e-6)


def test_weights_shapes_and_roundtrip():
    layer = SimpleRNN(4, seed=1)
    layer.build((None, 3, 5))
    k, r, b = layer.get_weights()
    assert k.shape == (5, 4) and r.shape == (4, 4) and b.shape == (4,)
    np.testing.assert_allclose(r @ r.T, np.eye(4), atol=1e-5)  # orthogonal
    assert not b.any()
    layer.set_weights([k + 1, r, b + 2])
    np.testing.assert_array_equal(layer.get_weights()[2], b + 2)
    assert SimpleRNN(4, use_bias=False, input_shape=(3, 5)).count_params() == 5 * 4 + 4 * 4


def test_seeded_initialization_is_reproducible():
    a, b = SimpleRNN(4, seed=7), SimpleRNN(4, seed=7)
    for layer in (a, b):
        layer.build((None, 2, 3))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    fastrnn.set_random_seed(3)
    m1 = Sequential([SimpleRNN(4, input_shape=(2, 3)), Dense(2)])
    fastrnn.set_random_seed(3)
    m2 = Sequential([SimpleRNN(4, input_shape=(2, 3)), Dense(2)])
    for wa, wb in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_float64_end_to_end(rng):
    layer = SimpleRNN(3, dtype="float64", return_sequences=True)
    x = rng.uniform(size=(2, 4, 5))
    out = layer(x)
    assert out.dtype == np.float64 and all(w.dtype == np.float64 for w in layer.weights)
    ref, _ = R.simple_rnn_forward(x, *layer.get_weights())
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-14)


def test_get_config_from_config_roundtrip():
    layer = SimpleRNN(5, activation="relu", go_backwards=True, return_sequences=True,
                      input_shape=(3, 2))
    clone = SimpleRNN.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    bi = Bidirectional(SimpleRNN(3), merge_mode="sum")
    clone = Bidirectional.from_config(bi.get_config())
    assert clone.merge_mode == "sum" and clone.forward_layer.units == 3
    model = Sequential([SimpleRNN(3, input_shape=(2, 4)), Dense(1)])
    clone = Sequential.from_config(model.get_config())
    assert clone.output_shape == (None, 1)


def test_compute_output_shape():
    assert SimpleRNN(3).compute_output_shape((None, 5, 2)) == (None, 3)
    assert SimpleRNN(3, return_sequences=True, return_state=True).compute_output_shape(
        (8, 5, 2)) == [(8, 5, 3), (8, 3)]
    bi = Bidirectional(SimpleRNN(3, return_sequences=True))
    assert bi.compute_output_shape((None, 5, 2)) == (None, 5, 6)


def test_stateful_carries_state_and_resets(rng):
    layer = SimpleRNN(3, stateful=True, return_sequences=True, batch_input_shape=(2, 4, 5))
    x1 = rng.uniform(size=(2, 4, 5)).astype(np.float32)
    x2 = rng.uniform(size=(2, 4, 5)).astype(np.float32)
    y1 = layer(x1)
    y2 = layer(x2)
    ref, _ = R.simple_rnn_forward(np.concatenate([x1, x2], axis=1), *layer.get_weights())
    np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), ref, rtol=1e-5, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x1), y1, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="stateful with batch size 2.*batch size 3"):
        layer(rng.uniform(size=(3, 4, 5)))


def test_bidirectional_concat_matches_two_references(rng):
    bi = Bidirectional(SimpleRNN(3, return_sequences=True), input_shape=(6, 4))
    x = rng.uniform(size=(2, 6, 4)).astype(np.float32)
    out = bi(x)
    w = bi.get_weights()
    f, _ = R.simple_rnn_forward(x, *w[:3])
    b, _ = R.simple_rnn_forward(x, *w[3:], go_backwards=True)
    np.testing.assert_allclose(out, np.concatenate([f, b[:, ::-1]], -1), rtol=1e-5, atol=1e-6)
    assert bi.forward_layer.name.startswith("forward_")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(units=0), ValueError, "`units`.*positive integer.*got 0"),
    (dict(units=-3), ValueError, "`units`"),
    (dict(units=2.5), ValueError, "`units`"),
    (dict(units=3, activation="swishy"), ValueError, "`activation`"),
    (dict(units=3, kernel_initializer="nope"), ValueError, "`kernel_initializer`"),
    (dict(units=3, dropout=1.5), ValueError, "`dropout`"),
    (dict(units=3, dtype="int8"), ValueError, "`dtype`"),
    (dict(units=3, kernel_regularizer="l3"), ValueError, "kernel_regularizer"),
    (dict(units=3, recurrent_constraint="maxnorm2"), ValueError, "recurrent_constr"),
    (dict(units=3, embeddings_regularizer="l2"), TypeError, "embeddings_regularizer"),
    (dict(units=3, made_up=1), TypeError, "made_up"),
])
def test_simple_rnn_rejects_bad_config(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        SimpleRNN(**kwargs)


def test_bad_merge_mode_and_layer():
    with pytest.raises(ValueError, match="`merge_mode`.*'max'"):
        Bidirectional(SimpleRNN(2), merge_mode="max")
    with pytest.raises(ValueError, match="`layer`"):
        Bidirectional(Dense(2))


def test_call_rejects_wrong_rank_and_features():
    layer = SimpleRNN(3, input_shape=(2, 10))
    with pytest.raises(ValueError, match="expected ndim=3.*\\(4, 10\\)"):
        layer(np.zeros((4, 10)))
    layer(np.zeros((1, 2, 10)))
    with pytest.raises(ValueError, match="expected axis -1 .* value 10.*ending in 7"):
        layer(np.zeros((1, 2, 7)))
    model = Sequential([SimpleRNN(3, input_shape=(2, 10))])
    with pytest.raises(ValueError, match="incompatible"):
        model(np.zeros((1, 2, 7)))
    with pytest.raises(TypeError, match="numeric"):
        layer(np.array([[["x"] * 10] * 2]))


def test_set_weights_rejects_wrong_count_and_shapes():
    layer = SimpleRNN(3, input_shape=(2, 10))
    with pytest.raises(ValueError, match="expects 3 weight arrays.*got 2"):
        layer.set_weights([np.zeros((10, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match="weight 1 must have shape \\(3, 3\\), got \\(4, 4\\)"):
        layer.set_weights([np.zeros((10, 3)), np.zeros((4, 4)), np.zeros(3)])
    model = Sequential([SimpleRNN(3, input_shape=(2, 10))])
    with pytest.raises(ValueError, match="expects 3 weight arrays"):
        model.set_weights([])


def test_initial_state_and_mask_shape_errors():
    layer = SimpleRNN(3)
    x = np.zeros((2, 4, 5))
    with pytest.raises(ValueError, match="`initial_state` must have shape \\(2, 3\\)"):
        layer(x, initial_state=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="`mask` passed to layer .* must have shape "
                       "\\(batch, timesteps\\) = \\(2, 4\\)"):
        layer(x, mask=np.ones((2, 5), bool))
    bi = Bidirectional(SimpleRNN(3))
    with pytest.raises(ValueError, match="`initial_state`.*list of 2"):
        bi(x, initial_state=np.zeros((2, 3)))


def test_integer_float16_and_readonly_inputs_are_converted(rng):
    layer = SimpleRNN(3, return_sequences=True)
    x = rng.integers(0, 3, (2, 4, 5))
    out_int = layer(x)
    out_f16 = layer(x.astype(np.float16))
    ro = x.astype(np.float32)
    ro.setflags(write=False)
    out_ro = layer(ro)
    np.testing.assert_array_equal(out_int, out_ro)
    np.testing.assert_array_equal(out_f16, out_ro)
    assert out_int.dtype == np.float32


def test_sequential_predict_batches(rng):
    model = Sequential([SimpleRNN(4, input_shape=(3, 2)), Dense(2)])
    x = rng.uniform(size=(70, 3, 2))
    out = model.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(out, model(x), rtol=1e-6, atol=1e-7)
    assert out.shape == (70, 2)


def test_predict_progress_output(capsys, rng):
    model = Sequential([SimpleRNN(2, input_shape=(3, 2))])
    model.predict(rng.uniform(size=(5, 3, 2)))
    assert "1/1" in capsys.readouterr().out


def test_layers_in_sequential_reject_multi_output_in_middle():
    model = Sequential()
    model.add(SimpleRNN(3, return_state=True, input_shape=(2, 4)))
    with pytest.raises(ValueError, match="cannot feed the next layer"):
        model.add(SimpleRNN(2))


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lean_and_general_paths_agree(rng, return_sequences, go_backwards, dtype):
    layer = SimpleRNN(5, return_sequences=return_sequences, go_backwards=go_backwards,
                      dtype=dtype)
    x = rng.uniform(-1, 1, (4, 7, 3)).astype(dtype)
    lean = layer(x)                              # C-contiguous, right dtype: lean path
    general = layer(np.asfortranarray(x))         # any other layout: general path
    np.testing.assert_array_equal(lean, general)
    ref, _ = R.simple_rnn_forward(x, *layer.get_weights(), go_backwards=go_backwards)
    np.testing.assert_allclose(lean, ref if return_sequences else ref[:, -1],
                               rtol=1e-5, atol=1e-6)


def test_lean_path_sees_new_weights(rng):
    layer = SimpleRNN(4, return_sequences=True)
    x = rng.uniform(-1, 1, (2, 3, 5)).astype(np.float32)
    before = layer(x)
    weights = [w * 0.5 for w in layer.get_weights()]
    layer.set_weights(weights)
    after = layer(x)
    ref, _ = R.simple_rnn_forward(x, *weights)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, ref, rtol=1e-5, atol=1e-6)
    layer.kernel[...] = 0  # an in-place change is seen too
    ref, _ = R.simple_rnn_forward(x, *layer.get_weights())
    np.testing.assert_allclose(layer(x), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("return_state", [False, True])
def test_bidirectional_lean_concat_matches_general_path(rng, return_state):
    bi = Bidirectional(SimpleRNN(4, return_sequences=True, return_state=return_state),
                       input_shape=(6, 3))
    x = rng.uniform(-1, 1, (5, 6, 3)).astype(np.float32)
    lean = bi(x)                          # written into the halves by the compiled path
    general = bi(np.asfortranarray(x))    # the general path: two calls and a concatenate
    for a, b in zip(lean if return_state else [lean], general if return_state else [general]):
        np.testing.assert_array_equal(a, b)
    w = bi.get_weights()
    f, _ = R.simple_rnn_forward(x, *w[:3])
    b, _ = R.simple_rnn_forward(x, *w[3:], go_backwards=True)
    merged = lean[0] if return_state else lean
    np.testing.assert_allclose(merged, np.concatenate([f, b[:, ::-1]], -1), rtol=1e-5,
                               atol=1e-6)
