"""fit wiring without fixtures: regularized gradients by finite differences, masks with
sample weights, generators without steps, and bad input named."""
import warnings

import numpy as np
import pytest

from gradcheck import numerical_gradient


def _model(dtype="float64", activation="sigmoid"):
    from fastrnn import Input, regularizers
    from fastrnn.layers import Dense, SimpleRNN
    from fastrnn.models import Sequential
    return Sequential([
        Input((4, 2), dtype=dtype),
        SimpleRNN(3, kernel_regularizer=regularizers.L1L2(0.02, 0.03),
                  recurrent_regularizer="l2", bias_regularizer="l1", dtype=dtype,
                  return_sequences=True),
        Dense(3, activation="tanh", activity_regularizer=regularizers.L1L2(0.05, 0.1),
              bias_regularizer="l2", dtype=dtype),
        SimpleRNN(2, dtype=dtype),
        Dense(1, activation=activation, kernel_regularizer="l1",
              activity_regularizer=regularizers.L2(0.3), dtype=dtype)])


@pytest.mark.parametrize("loss,activation", [("binary_crossentropy", "sigmoid"),
                                             ("mse", "tanh")])
def test_regularized_gradients_by_finite_differences(rng, loss, activation):
    from fastrnn.optimizers import SGD
    model = _model(activation=activation)
    x = rng.uniform(-1, 1, (5, 4, 2))
    y = rng.integers(0, 2, (5, 1)).astype("float64")
    sw = rng.uniform(0.2, 2, 5)
    model.compile(optimizer=SGD(learning_rate=1.0), loss=loss)
    before = model.get_weights()

    def loss_at(i, w):
        ws = [a.copy() for a in before]
        ws[i] = w
        model.set_weights(ws)
        return float(model.test_on_batch(x, y, sample_weight=sw))

    numeric = []
    for i in range(len(before)):
        w = before[i].copy()
        numeric.append(numerical_gradient(lambda i=i, w=w: loss_at(i, w), w))
    model.set_weights(before)
    value = model.train_on_batch(x, y, sample_weight=sw)
    np.testing.assert_allclose(value, loss_at(0, before[0]), rtol=1e-12)
    model.set_weights(before)
    model.train_on_batch(x, y, sample_weight=sw)
    analytic = [b - a for b, a in zip(before, model.get_weights())]  # SGD(1): w -= g
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7, err_msg=f"weight {i}")


def test_embedding_regularizer_and_constraint_with_sparse_gradient(rng):
    from fastrnn import Input
    from fastrnn.layers import Dense, Embedding, SimpleRNN
    from fastrnn.models import Sequential
    from fastrnn.optimizers import SGD
    model = Sequential([Input((5,), dtype="int32"),
                        Embedding(7, 3, embeddings_regularizer="l2", dtype="float64",
                                  embeddings_constraint="max_norm"),
                        SimpleRNN(2, dtype="float64"), Dense(1, dtype="float64")])
    model.compile(optimizer=SGD(learning_rate=1.0), loss="mse")
    x = rng.integers(0, 7, (3, 5))
    y = rng.uniform(-1, 1, (3, 1))
    emb = model.get_weights()[0] * 30  # large rows, so MaxNorm(2) projects them
    model.set_weights([emb] + model.get_weights()[1:])
    before = model.get_weights()

    def loss_at(w):
        model.set_weights([w] + before[1:])
        return float(model.test_on_batch(x, y))

    w = before[0].copy()
    numeric = numerical_gradient(lambda: loss_at(w), w)
    model.set_weights(before)
    model.train_on_batch(x, y)
    after = model.get_weights()[0]
    from fastrnn.constraints import MaxNorm
    np.testing.assert_allclose(after, MaxNorm()(before[0] - numeric), rtol=1e-6, atol=1e-8)


def test_masks_combine_with_sample_weights_as_keras_apply_mask(rng):
    """Loss = sum(l * sw * mask * total/valid) / total with Keras 3's apply_mask."""
    from fastrnn import Input
    from fastrnn.layers import Dense, Masking, SimpleRNN
    from fastrnn.models import Sequential
    model = Sequential([Input((4, 2)), Masking(0.0), SimpleRNN(3, return_sequences=True),
                        Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.uniform(-1, 1, (3, 4, 2)).astype("float32")
    x[0, 2:] = 0.0
    x[2, 3] = 0.0
    y = rng.uniform(-1, 1, (3, 4, 1)).astype("float32")
    sw = np.array([0.5, 2.0, 1.0], "float32")
    pred = model.predict(x, verbose=0)
    mask = np.any(x != 0, axis=-1)
    per = ((pred - y) ** 2)[..., 0]
    expected = np.sum(per * sw[:, None] * mask * mask.size / mask.sum()) / mask.size
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=sw, verbose=0), expected,
                               rtol=1e-5)


def test_generator_without_steps_runs_until_exhausted(rng):
    from fastrnn import Input
    from fastrnn.layers import Dense, SimpleRNN
    from fastrnn.models import Sequential
    model = Sequential([Input((4, 2)), SimpleRNN(2), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.uniform(-1, 1, (10, 4, 2)).astype("float32")
    y = rng.uniform(-1, 1, (10, 1)).astype("float32")
    seen = []

    def gen():
        for i in range(0, 10, 4):
            seen.append(i)
            yield x[i:i + 4], y[i:i + 4], np.ones(len(x[i:i + 4]))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = model.fit(gen(), epochs=3, verbose=0)
    assert seen == [0, 4, 8]
    assert hist.epoch == [0]  # the second epoch found the generator exhausted
    assert any("ran out of data" in str(w.message) for w in caught)
    loss = model.evaluate(iter([(x[:5], y[:5]), (x[5:], y[5:])]), verbose=0)
    np.testing.assert_allclose(loss, model.evaluate(x, y, verbose=0), rtol=1e-6)
    pred = model.predict((b for b in [x[:3], x[3:]]), verbose=0)
    np.testing.assert_allclose(pred, model.predict(x, verbose=0), rtol=1e-6)


def test_bad_input_is_named(rng):
    from fastrnn import Input
    from fastrnn.layers import Dense, SimpleRNN
    from fastrnn.models import Sequential
    model = Sequential([Input((4, 2)), SimpleRNN(2), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = rng.uniform(-1, 1, (6, 4, 2)).astype("float32")
    y = rng.integers(0, 2, (6, 1)).astype("float32")
    with pytest.raises(ValueError, match="`sample_weight`.*shape \\(6,\\)"):
        model.fit(x, y, sample_weight=np.ones(5), verbose=0)
    with pytest.raises(ValueError, match="`sample_weight`.*non-finite"):
        model.fit(x, y, sample_weight=np.full(6, np.nan), verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(x, y, class_weight={"a": 1.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight.*sample_weight"):
        model.fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(6), verbose=0)
    with pytest.raises(ValueError, match="`x` of `fit`.*wrong structure"):
        model.fit(iter([(x, y, None, 1)]), verbose=0)
    with pytest.raises(ValueError, match="`x` of `fit`.*no targets"):
        model.fit(iter([x]), verbose=0)
    with pytest.raises(ValueError, match="`validation_data`.*wrong structure"):
        model.fit(x, y, validation_data=iter([(x, y, None, 1)]), verbose=0)
    with pytest.raises(ValueError, match="`validation_data`"):
        model.fit(x, y, validation_data=(x,), verbose=0)
    with pytest.raises(ValueError, match="`y` of `fit` must be None"):
        model.fit(iter([(x, y)]), y, verbose=0)
    with pytest.raises(ValueError, match="`steps_per_epoch`"):
        model.fit(x, y, steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="`validation_freq`"):
        model.fit(x, y, validation_freq=0, verbose=0)
    with pytest.raises(ValueError, match="`validation_split`.*arrays"):
        model.fit(iter([(x, y)]), validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="`sample_weight` of `train_on_batch`"):
        model.train_on_batch(x, y, sample_weight=np.ones((3,)))


def test_metrics_properties_and_weighted_metric_names():
    from fastrnn import Input
    from fastrnn.layers import Dense
    from fastrnn.models import Sequential
    model = Sequential([Input((2,)), Dense(1)])
    assert model.metrics == [] and model.compiled_metrics is None
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    names = [m.name for m in model.metrics[1].metrics]
    assert model.metrics[0].name == "loss" and names == ["mae", "weighted_mae"]
    hist = model.fit(np.ones((4, 2)), np.ones((4, 1)), sample_weight=np.array([1, 0, 0, 0]),
                     verbose=0)
    assert sorted(hist.history) == ["loss", "mae", "weighted_mae"]


def test_regularizers_round_trip_through_model_config():
    from fastrnn import Input, constraints, regularizers
    from fastrnn.layers import Bidirectional, Dense, SimpleRNN
    from fastrnn.models import Model
    inp = Input((3, 2))
    out = Bidirectional(SimpleRNN(2, kernel_regularizer=regularizers.L1(0.2),
                                  recurrent_constraint=constraints.UnitNorm()))(inp)
    out = Dense(1, bias_regularizer="l1_l2", activity_regularizer="l2",
                kernel_constraint="non_neg")(out)
    model = Model(inp, out)
    clone = Model.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    bi, dense = clone.layers[1], clone.layers[2]
    assert isinstance(bi.forward_layer.kernel_regularizer, regularizers.L1)
    assert bi.backward_layer.kernel_regularizer.l1 == pytest.approx(0.2)
    assert isinstance(dense.kernel_constraint, constraints.NonNeg)
    assert dense.activity_regularizer.l2 == 0.01
    assert len(clone.weight_regularizers()) == 3 and len(clone.weight_constraints()) == 3


def test_sample_weights_per_output_and_class_weight_on_batch(rng):
    from fastrnn import Input
    from fastrnn.layers import Dense, SimpleRNN
    from fastrnn.models import Model
    inp = Input((4, 2))
    h = SimpleRNN(3)(inp)
    model = Model(inp, [Dense(1, name="a")(h), Dense(2, activation="softmax", name="b")(h)])
    model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"])
    x = rng.uniform(-1, 1, (5, 4, 2)).astype("float32")
    ya = rng.uniform(-1, 1, (5, 1)).astype("float32")
    yb = np.eye(2, dtype="float32")[rng.integers(0, 2, 5)]
    w = np.array([0.0, 1.0, 2.0, 0.5, 1.0], "float32")
    pa, pb = model.predict(x, verbose=0)
    la = np.mean((pa - ya)[:, 0] ** 2 * w)
    lb = np.mean(-np.sum(yb * np.log(pb), axis=-1))
    got = model.evaluate(x, [ya, yb], sample_weight={"a": w}, verbose=0, return_dict=True)
    np.testing.assert_allclose([got["a_loss"], got["b_loss"], got["loss"]],
                               [la, lb, la + lb], rtol=1e-5)
    with pytest.raises(ValueError, match="`sample_weight`.*outputs"):
        model.evaluate(x, [ya, yb], sample_weight={"c": w}, verbose=0)
    with pytest.raises(ValueError, match="class_weight.*single output"):
        model.train_on_batch(x, [ya, yb], class_weight={0: 1.0})


def test_pydataset_with_steps_carries_on_across_epochs(rng):
    from fastrnn import Input
    from fastrnn.layers import Dense
    from fastrnn.models import Sequential
    from fastrnn.utils import PyDataset
    seen = []

    class Batches(PyDataset):
        ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            seen.append(i)
            return np.full((2, 2), i, "float32"), np.zeros((2, 1), "float32")

        def on_epoch_end(self):
            self.ended += 1

    model = Sequential([Input((2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    ds = Batches()
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = model.fit(ds, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0)
    assert seen == [0, 1, 2, 0, 1]  # Keras 3's epoch iterator: [0, 1], [2], [0, 1]
    assert hist.epoch == [0, 1, 2]
    assert ds.ended == 3
    seen.clear()
    model.fit(ds, epochs=2, shuffle=True, verbose=0)
    assert sorted(seen[:3]) == [0, 1, 2] and sorted(seen[3:]) == [0, 1, 2]
