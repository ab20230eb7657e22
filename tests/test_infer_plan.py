"""predict_on_batch's lean chain (fastrnn/training/infer_plan.py) against the general
graph run, bit for bit; what it declines (masks, several inputs or outputs, states) and
when it is dropped (layers added, weights rebuilt)."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import fastrnn
from fastrnn.layers import (LSTM, Bidirectional, Dense, Dropout, Embedding, SimpleRNN,
                            TimeDistributed)
from fastrnn.models import Model, Sequential
from fastrnn.training import infer_plan
from fastrnn.utils import set_random_seed


@pytest.fixture
def runs(monkeypatch):
    """How many predict_on_batch calls ran the plan."""
    count = [0]
    real = infer_plan.InferPlan.run

    def counting(self, x):
        count[0] += 1
        return real(self, x)
    monkeypatch.setattr(infer_plan.InferPlan, "run", counting)
    return count


def _general(model, x):
    return model._pack_outputs(model._run(model._standardize_inputs(x, "test")))


CHAINS = [
    lambda: Sequential([SimpleRNN(3, input_shape=(2, 10)), Dense(1, activation="sigmoid")]),
    lambda: Sequential([SimpleRNN(4, return_sequences=True, go_backwards=True,
                                  input_shape=(2, 10)),
                        TimeDistributed(Dense(2, activation="softmax")), Dropout(0.5)]),
    lambda: Sequential([LSTM(3, input_shape=(2, 10)), Dense(2)]),
    lambda: Sequential([SimpleRNN(3, input_shape=(2, 10), dtype="float64"),
                        Dense(1, activation="tanh", dtype="float64")]),
    # Bidirectional computes its own output mask: the general run (no plan)
    lambda: Sequential([Bidirectional(LSTM(3), input_shape=(2, 10)), Dense(2)]),
]


@pytest.mark.parametrize("build", CHAINS)
def test_chain_predictions_equal_the_graph_run(build, runs):
    set_random_seed(0)
    model = build()
    rng = np.random.default_rng(0)
    for i in range(3):
        x = rng.standard_normal((5 + i, 2, 10)).astype("float32")
        first = model.predict_on_batch(x)  # a new shape: the general run, then recorded
        assert_array_equal(model.predict_on_batch(x), first)
        assert_array_equal(model.predict_on_batch(x), _general(model, x))
    planned = not isinstance(model.layers[0], Bidirectional)
    assert runs[0] == (6 if planned else 0)
    # weights are read at every call
    model.set_weights([w * 0.5 for w in model.get_weights()])
    assert_array_equal(model.predict_on_batch(x), _general(model, x))
    assert runs[0] == (7 if planned else 0)


def test_what_the_plan_declines(runs):
    set_random_seed(1)
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], dtype="int32")
    masked = Sequential([Embedding(10, 3, mask_zero=True, input_shape=(4,)), SimpleRNN(2)])
    for _ in range(3):
        assert_array_equal(masked.predict_on_batch(x), _general(masked, x))
    a, b = fastrnn.Input(shape=(3,)), fastrnn.Input(shape=(3,))
    two = Model([a, b], Dense(2)(fastrnn.layers.Concatenate()([a, b])))
    xs = [np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")]
    for _ in range(3):
        assert_array_equal(two.predict_on_batch(xs), _general(two, xs))
    assert runs[0] == 0
    chain = CHAINS[0]()
    xl = np.zeros((2, 2, 10)).tolist()  # not an array: always the general call
    for _ in range(3):
        chain.predict_on_batch(xl)
    assert runs[0] == 0


def test_the_plan_is_dropped_when_the_model_changes(runs):
    set_random_seed(2)
    model = Sequential([SimpleRNN(3, input_shape=(2, 10))])
    x = np.ones((2, 2, 10), "float32")
    model.predict_on_batch(x)
    model.predict_on_batch(x)
    assert runs[0] == 1
    model.add(Dense(1))
    out = model.predict_on_batch(x)  # new nodes: the general run again
    assert out.shape == (2, 1) and runs[0] == 1
    assert_array_equal(model.predict_on_batch(x), out)
    assert runs[0] == 2
    with pytest.raises(ValueError, match="incompatible"):
        model.predict_on_batch(np.ones((2, 3, 10), "float32"))
