"""Categorical crossentropy against Keras 3 when target rows do not sum to 1.

Fixture ``tests/fixtures/tool_cce_targets.npz`` (tools/make_keras_cce_fixtures.py, Keras 3.15.1,
TF 2.21): padded one-hot sequence targets (all-zero rows, as the decoder targets of keras.io's
character-level seq2seq example) and scaled rows. TensorFlow's gradient from logits is
``softmax(x) - t``; on probabilities Keras differentiates ``-sum(t log(p / sum(p)))`` exactly.
"""
import numpy as np
from numpy.testing import assert_allclose

from keras_spec import ATOL, RTOL, FIXTURES

import fastrnn
from fastrnn import losses


def _fixture():
    with np.load(FIXTURES / "tool_cce_targets.npz") as npz:
        return {k: npz[k] for k in npz.files}


def test_gradient_from_logits_is_tensorflows():
    f = _fixture()
    loss = losses.CategoricalCrossentropy(from_logits=True, reduction="sum")
    assert_allclose(losses.categorical_crossentropy(f["targets"], f["logits"], from_logits=True),
                    f["loss"], rtol=RTOL["float32"], atol=ATOL["float32"])
    grad = loss.gradient(f["targets"], f["logits"])
    assert_allclose(grad, f["grad"], rtol=RTOL["float32"], atol=ATOL["float32"])
    # the all-zero rows (last step) still get softmax(x) as their gradient
    z = f["logits"][:, 3]
    soft = np.exp(z - z.max(-1, keepdims=True))
    assert_allclose(grad[:, 3], soft / soft.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_gradient_on_probabilities_is_exact():
    f = _fixture()
    loss = losses.CategoricalCrossentropy(reduction="sum")
    assert_allclose(losses.categorical_crossentropy(f["targets"], f["probs"]), f["loss_p"],
                    rtol=RTOL["float32"], atol=ATOL["float32"])
    assert_allclose(loss.gradient(f["targets"], f["probs"]), f["grad_p"],
                    rtol=RTOL["float32"], atol=ATOL["float32"])


def test_softmax_sequence_model_trains_like_keras_on_padded_targets():
    f = _fixture()
    inp = fastrnn.Input(shape=(4, 3))
    model = fastrnn.Model(inp, fastrnn.layers.Dense(5, activation="softmax")(
        fastrnn.layers.LSTM(3, return_sequences=True)(inp)))
    model.compile(optimizer=fastrnn.optimizers.SGD(learning_rate=0.5),
                  loss="categorical_crossentropy")
    n = len(model.get_weights())
    model.set_weights([f[f"w0_{i}"] for i in range(n)])
    for s in range(2):
        loss = model.train_on_batch(f["x"], f["y"])
        assert_allclose(loss, f[f"loss_{s}"], rtol=1e-5, atol=1e-6)
        for i, w in enumerate(model.get_weights()):
            assert_allclose(w, f[f"w{s + 1}_{i}"], rtol=1e-5, atol=1e-6,
                            err_msg=f"step {s} weight {i}")
