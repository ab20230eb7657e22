"""Functional models: shared layers, state passing, several inputs/outputs, a model used
as a layer — values, gradients (finite differences), training, config, summary and
errors."""
import threading

import numpy as np
import pytest

import fastrnn
from fastrnn import layers as L
from fastrnn.models import Model, Sequential
from gradcheck import check_model_gradients, model_gradients, numerical_gradient
from fastrnn import reference as R

F64 = {"dtype": "float64"}


def siamese():
    a, b = fastrnn.Input(shape=(5, 3), name="left"), fastrnn.Input(shape=(5, 3), name="right")
    shared = L.SimpleRNN(4, **F64)
    d = L.subtract([shared(a), shared(b)], **F64)
    return Model([a, b], L.Dense(1, activation="sigmoid", **F64)(d))


def encoder_decoder():
    enc_in, dec_in = fastrnn.Input(shape=(6, 3)), fastrnn.Input(shape=(4, 2))
    _, state = L.SimpleRNN(5, return_state=True, **F64)(enc_in)
    seq = L.SimpleRNN(5, return_sequences=True, **F64)(dec_in, initial_state=state)
    return Model([enc_in, dec_in], L.Dense(3, activation="softmax", **F64)(seq))


def test_a_layer_used_twice_gets_both_calls_gradients(rng):
    x = fastrnn.Input(shape=(3,))
    dense = L.Dense(3, activation="tanh", **F64)
    model = Model(x, dense(dense(x)))
    check_model_gradients(model, rng.normal(size=(4, 3)), rng)


def test_shared_rnn_on_two_inputs(rng):
    model = siamese()
    xs = [rng.normal(size=(3, 5, 3)), rng.normal(size=(3, 5, 3))]
    check_model_gradients(model, xs, rng)
    assert len(model.weights) == 5  # the shared layer's weights once


def test_gradients_flow_through_initial_state_from_the_encoder(rng):
    model = encoder_decoder()
    xs = [rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4, 2))]
    check_model_gradients(model, xs, rng)
    # the encoder's weights get a gradient only through the decoder's initial state
    _, grads = model_gradients(model, xs, [rng.normal(size=(2, 4, 3))])
    assert np.abs(grads[0]).sum() > 0


def test_bidirectional_return_state_in_a_functional_model(rng):
    x = fastrnn.Input(shape=(5, 2))
    out, h_f, h_b = L.Bidirectional(L.SimpleRNN(3, return_state=True, **F64))(x)
    merged = L.concatenate([out, L.add([h_f, h_b], **F64)], **F64)
    model = Model(x, [L.Dense(2, **F64)(merged), h_b])
    check_model_gradients(model, rng.normal(size=(3, 5, 2)), rng)


def test_seq2seq_with_repeat_vector_reshape_permute(rng):
    x = fastrnn.Input(shape=(4, 3))
    h = L.SimpleRNN(6, **F64)(x)
    h = L.Reshape((2, 3), **F64)(h)
    h = L.Permute((2, 1), **F64)(h)
    h = L.Flatten(**F64)(h)
    h = L.RepeatVector(5, **F64)(h)
    y = L.SimpleRNN(2, return_sequences=True, **F64)(h)
    check_model_gradients(Model(x, y), rng.normal(size=(2, 4, 3)), rng)


def test_model_used_as_a_layer(rng):
    inner_in = fastrnn.Input(shape=(5, 3))
    inner = Model(inner_in, L.SimpleRNN(4, return_sequences=True, **F64)(inner_in),
                  name="inner")
    x = fastrnn.Input(shape=(5, 3))
    y = L.Dense(2, **F64)(L.SimpleRNN(3, **F64)(inner(x)))
    model = Model(x, y)
    assert [layer.name for layer in model.layers][1] == "inner"
    assert len(model.weights) == 3 + 3 + 2
    check_model_gradients(model, rng.normal(size=(2, 5, 3)), rng)
    np.testing.assert_allclose(model(np.ones((1, 5, 3))),
                               model.layers[-1](model.layers[-2](inner(np.ones((1, 5, 3))))),
                               rtol=1e-12)


def test_values_match_the_reference(rng):
    model = encoder_decoder()
    xs = [rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4, 2))]
    w = model.get_weights()
    _, h = R.simple_rnn_forward(xs[0], *w[:3])
    seq, _ = R.simple_rnn_forward(xs[1], *w[3:6], initial_state=h)
    z = seq @ w[6] + w[7]
    e = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(model.predict(xs, verbose=0), e / e.sum(-1, keepdims=True),
                               rtol=1e-12, atol=1e-13)


def test_layer_order_and_names_follow_keras():
    a, b = fastrnn.Input(shape=(5, 3), name="a"), fastrnn.Input(shape=(5, 3), name="b")
    rnn = L.SimpleRNN(4, return_state=True, name="rnn")
    o1, s1 = rnn(a)
    o2, s2 = rnn(b, initial_state=s1)
    d = L.Dense(2, name="d")(L.concatenate([o1, o2], name="cat"))
    model = Model([a, b], [d, s2])
    # as Keras 3.15.1 orders them (printed by its model.layers)
    assert [layer.name for layer in model.layers] == ["a", "rnn", "b", "cat", "d"]
    assert model.output_names == ["d", "rnn"]
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "rnn[0][1]" in text and "b[0][0]" in text
    assert "multiple" in text and "Total params: 50" in text


def test_chain_functional_model_prints_the_sequential_table():
    x = fastrnn.Input(shape=(5, 3))
    model = Model(x, L.Dense(1)(L.SimpleRNN(4)(x)))
    lines = []
    model.summary(print_fn=lines.append)
    assert "Connected to" not in "\n".join(lines)
    assert any(line.startswith("input_layer") for line in lines)


def test_config_round_trip_rebuilds_the_graph(rng):
    for make in (siamese, encoder_decoder):
        model = make()
        clone = Model.from_config(model.get_config())
        assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
        clone.set_weights(model.get_weights())
        xs = [rng.normal(size=(2,) + t.shape[1:]) for t in model.inputs]
        np.testing.assert_allclose(clone.predict(xs, verbose=0), model.predict(xs, verbose=0),
                                   rtol=1e-12)


def test_input_int32_for_token_ids(rng):
    tokens = fastrnn.Input(shape=(6,), dtype="int32")
    assert tokens.dtype == "int32"
    h = L.SimpleRNN(4)(L.Embedding(20, 3)(tokens))
    model = Model(tokens, L.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    x = rng.integers(0, 20, (16, 6))
    y = rng.integers(0, 2, (16, 1))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert all(len(v) == 2 for v in history.history.values())


# ----------------------------------------------------------------- training
def _two_heads(rng):
    x = fastrnn.Input(shape=(4, 2), name="x")
    h = L.SimpleRNN(3, **F64)(x)
    reg = L.Dense(1, name="reg", **F64)(h)
    cls = L.Dense(1, activation="sigmoid", name="cls", **F64)(h)
    return Model(x, [reg, cls])


def test_several_outputs_losses_weights_and_history_keys(rng):
    model = _two_heads(rng)
    model.compile("sgd", loss=["mse", "binary_crossentropy"], loss_weights=[0.5, 2.0],
                  metrics=[["mae"], ["accuracy"]])
    x = rng.normal(size=(6, 4, 2))
    y_reg, y_cls = rng.normal(size=(6, 1)), rng.integers(0, 2, (6, 1)).astype(float)
    reg, cls = model.predict(x, verbose=0)
    mse = np.mean((reg - y_reg) ** 2)
    z = model.get_layer("cls").forward(model.layers[1](x))[1].logits
    bce = np.mean(np.maximum(z, 0) - z * y_cls + np.log1p(np.exp(-np.abs(z))))
    logs = model.test_on_batch(x, [y_reg, y_cls], return_dict=True)
    assert list(logs) == ["loss", "reg_mae", "cls_accuracy", "reg_loss", "cls_loss"]
    np.testing.assert_allclose(logs["reg_loss"], mse, rtol=1e-10)
    np.testing.assert_allclose(logs["cls_loss"], bce, rtol=1e-10)
    np.testing.assert_allclose(logs["loss"], 0.5 * mse + 2.0 * bce, rtol=1e-10)
    # the list form: loss, per-output losses, then the other keys sorted (Keras 3)
    values = model.test_on_batch(x, {"reg": y_reg, "cls": y_cls})
    np.testing.assert_allclose(values, [logs[k] for k in
                                        ("loss", "reg_loss", "cls_loss", "cls_accuracy",
                                         "reg_mae")], rtol=1e-12)
    history = model.fit(x, [y_reg, y_cls], epochs=2, batch_size=3, shuffle=False, verbose=0,
                        validation_split=0.5)
    assert set(history.history) == {"loss", "reg_mae", "cls_accuracy", "reg_loss",
                                    "cls_loss", "val_loss", "val_reg_mae",
                                    "val_cls_accuracy", "val_reg_loss", "val_cls_loss"}


def test_training_step_equals_manual_gradient_descent(rng):
    """One SGD step of a shared-layer model: weights move by lr * finite-difference
    gradient of the loss."""
    model = siamese()
    model.compile(fastrnn.optimizers.SGD(learning_rate=0.1), "mse")
    xs = [rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 5, 3))]
    y = rng.normal(size=(4, 1))

    def loss():
        return float(np.mean((model(xs) - y) ** 2))
    before = model.get_weights()
    expected = [w - 0.1 * numerical_gradient(loss, w) for w in model.weights]
    model.train_on_batch(xs, y)
    for w, e, b in zip(model.get_weights(), expected, before):
        np.testing.assert_allclose(w, e, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("act, loss, y", [
    ("sigmoid", "binary_crossentropy", [[1.0]]),
    ("softmax", "categorical_crossentropy", [[1.0, 0.0]]),
    ("softmax", "sparse_categorical_crossentropy", [[0]])])
@pytest.mark.parametrize("where", ["dense", "activation", "nested"])
def test_crossentropy_from_logits_is_a_rule_on_the_output_node(act, loss, y, where):
    """Keras computes the loss from the logits whatever layer applies the activation:
    kernel 20, x -1: binary crossentropy is softplus(20) = 20.0 (not 16.1181, the
    clipped value)."""
    units = 1 if act == "sigmoid" else 2
    x_in = fastrnn.Input(shape=(1,))
    if where == "dense":
        out = L.Dense(units, activation=act, **F64)(x_in)
    elif where == "activation":
        out = L.Activation(act, **F64)(L.Dense(units, **F64)(x_in))
    else:
        inner_in = fastrnn.Input(shape=(1,))
        inner = Model(inner_in, L.Activation(act, **F64)(L.Dense(units, **F64)(inner_in)))
        out = inner(x_in)
    model = Model(x_in, out)
    kernel = [w for w in model.weights if w.ndim == 2][0]
    kernel[...] = [[20.0]] if units == 1 else [[20.0, -20.0]]
    model.compile(fastrnn.optimizers.SGD(learning_rate=0.01), loss)
    x = np.array([[-1.0]])
    value = model.test_on_batch(x, np.array(y))
    expected = 20.0 if units == 1 else 40.0  # softplus(20) / logsumexp(-20, 20) + 20
    np.testing.assert_allclose(value, expected, rtol=1e-9)
    model.train_on_batch(x, np.array(y))
    # d loss / d logits is sigmoid(z) - 1 (softmax(z) - onehot), about -1 (+1): an exact
    # step of lr, where the clipped probability would give a vanishing gradient
    np.testing.assert_allclose(np.abs(kernel), 19.99, rtol=1e-9)


def test_predict_of_several_outputs_is_a_list_for_any_batch_size(rng):
    model = Sequential([L.SimpleRNN(4, return_state=True, input_shape=(3, 2))])
    x = rng.normal(size=(5, 3, 2)).astype("float32")
    for batch_size in (None, 2, 5):
        out = model.predict(x, batch_size=batch_size, verbose=0)
        assert isinstance(out, list) and [o.shape for o in out] == [(5, 4), (5, 4)]
        np.testing.assert_array_equal(out[0], out[1])
    assert isinstance(model.predict_on_batch(x), list)


def test_unbuilt_sequential_builds_once_from_eight_threads(rng):
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    for _ in range(3):
        model = Sequential([L.SimpleRNN(4, return_sequences=True), L.SimpleRNN(2)])
        results = [None] * 8
        barrier = threading.Barrier(8)

        def work(i):
            barrier.wait()
            results[i] = model(x)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(np.array_equal(r, results[0]) for r in results)
        assert len(model.weights) == 6


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("return_state", [False, True])
def test_bidirectional_lean_path_equals_general_path_on_every_call(rng, go_backwards,
                                                                   merge_mode, return_state):
    layer = L.Bidirectional(L.SimpleRNN(2, return_sequences=True, go_backwards=go_backwards,
                                        return_state=return_state), merge_mode=merge_mode)
    x = rng.normal(size=(3, 4, 2)).astype("float32")
    for _ in range(3):  # the first call builds; later calls may take the lean path
        lean = layer(x)
        general, _ = layer.forward(x)
        for a, b in zip(lean if isinstance(lean, list) else [lean],
                        general if isinstance(general, list) else [general]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------- errors
def test_disconnected_graph_names_the_layer():
    a, b = fastrnn.Input(shape=(3,), name="in_a"), fastrnn.Input(shape=(3,), name="in_b")
    out = L.Dense(2, name="head")(L.add([a, b], name="joined"))
    with pytest.raises(ValueError, match="Graph disconnected.*in_b"):
        Model(a, out)


def test_layer_called_on_incompatible_shapes_names_it():
    x = fastrnn.Input(shape=(5, 3))
    rnn = L.SimpleRNN(4, name="enc")
    rnn(x)
    with pytest.raises(ValueError, match="`enc`.*expected axis -1.*value 3.*4"):
        rnn(fastrnn.Input(shape=(5, 4)))
    with pytest.raises(ValueError, match="`enc2`.*ndim=3"):
        L.SimpleRNN(4, name="enc2")(fastrnn.Input(shape=(5,)))
    with pytest.raises(ValueError, match="`enc3`.*initial state"):
        L.SimpleRNN(4, name="enc3")(x, initial_state=[fastrnn.Input(shape=(4,))] * 2)


def test_wrong_number_of_arrays_for_the_inputs():
    model = siamese()
    with pytest.raises(ValueError, match="2 inputs.*list of 2 arrays.*got one ndarray"):
        model.predict(np.ones((2, 5, 3)))
    with pytest.raises(ValueError, match="Input 1 of model.*expected shape \\(None, 5, 3\\)"):
        model.predict([np.ones((2, 5, 3)), np.ones((2, 5, 4))])
    with pytest.raises(ValueError, match="same number of samples"):
        model.predict([np.ones((2, 5, 3)), np.ones((3, 5, 3))])


def test_lambda_on_the_gradient_path_of_fit_names_the_layer(rng):
    x_in = fastrnn.Input(shape=(4, 2))
    h = L.SimpleRNN(3)(x_in)
    out = L.Dense(1)(L.Lambda(lambda t: t * 2, name="double")(h))
    model = Model(x_in, out)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="`double`.*Lambda"):
        model.fit(rng.normal(size=(4, 4, 2)), rng.normal(size=(4, 1)), verbose=0)
    # before every trainable layer it is fine: no gradient has to pass through it
    x_in = fastrnn.Input(shape=(4, 2))
    out = L.Dense(1)(L.SimpleRNN(3)(L.Lambda(lambda t: t * 2, name="pre")(x_in)))
    model = Model(x_in, out)
    model.compile("sgd", "mse")
    model.fit(rng.normal(size=(4, 4, 2)), rng.normal(size=(4, 1)), verbose=0)


def test_symbolic_misuse_is_explained():
    x = fastrnn.Input(shape=(3,))
    with pytest.raises(TypeError, match="mix of symbolic tensors and values"):
        L.add([x, np.ones((1, 3))])
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="`inputs` and `outputs`"):
        Model()
