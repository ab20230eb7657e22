"""Training plans (fastrnn/training/plan.py) against the general step, side by side.

Two identical models (same seed, same weights, same data) train for several consecutive
steps, one with ``use_train_plans = False`` (the general step on every batch) and one
with plans; losses, metrics, weights, optimizer slots and iterations must be equal bit
for bit, and the plan must really have run. Then the plan's invalidation: recompile,
set_weights, trainable flags, learning-rate changes, new input dtypes and shapes,
layers added to a Sequential model.
"""
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import fastrnn
from fastrnn import constraints, optimizers, regularizers
from fastrnn.layers import Dense, Dropout, Embedding, SimpleRNN
from fastrnn.models import Model, Sequential
from fastrnn.utils import set_random_seed


@pytest.fixture(autouse=True)
def _one_thread():
    """The kernel's threaded backward sums per-thread weight gradients in an order that
    may vary from run to run (last bits); the comparisons here are of the training
    step around the kernel, so they run the kernel on one thread."""
    fastrnn.functional.set_num_threads(1)
    yield
    fastrnn.functional.set_num_threads(None)


def _seed_model(dtype="float32", **rnn):
    return Sequential([SimpleRNN(3, input_shape=(2, 10), dtype=dtype, **rnn),
                       Dense(1, activation="sigmoid", dtype=dtype)])


def _pair(build, compile_kwargs):
    models = []
    for plans in (False, True):
        set_random_seed(123)
        m = build()
        kw = {k: (v() if callable(v) and k == "optimizer" else v)
              for k, v in compile_kwargs.items()}
        m.compile(**kw)
        m.use_train_plans = plans
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    return models


def _plan_steps(model):
    plans = model.__dict__.get("_train_plans") or {}
    return sum(p.steps for k, p in plans.items() if k not in ("stamp", "seen") and p)


def _assert_same(general, planned):
    for a, b in zip(general.get_weights(), planned.get_weights()):
        assert_array_equal(a, b)
    og, op = general.optimizer, planned.optimizer
    assert og.iterations == op.iterations
    assert len(og.variables) == len(op.variables)
    for a, b in zip(og.variables, op.variables):
        assert_array_equal(a, b)


def _run(general, planned, batches, **kw):
    for x, y, extra in batches:
        a = general.train_on_batch(x, y, return_dict=True, **extra, **kw)
        b = planned.train_on_batch(x, y, return_dict=True, **extra, **kw)
        assert a == b
    _assert_same(general, planned)


def _data(rng, n=8, dtype="float32", classes=None):
    x = rng.standard_normal((n, 2, 10)).astype(dtype)
    if classes:
        y = rng.integers(0, classes, (n,))
    else:
        y = (rng.random((n, 1)) > 0.5).astype(dtype)
    return x, y


OPTIMIZERS = [
    lambda: optimizers.SGD(0.1),
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(1e-2),
    lambda: optimizers.RMSprop(1e-2, momentum=0.5, centered=True),
    lambda: optimizers.Adam(1e-2),
    lambda: optimizers.Adam(1e-2, amsgrad=True, clipvalue=0.01),
    lambda: optimizers.AdamW(1e-2),
    lambda: optimizers.Adamax(1e-2, loss_scale_factor=4.0),
    lambda: optimizers.Nadam(1e-2),
    lambda: optimizers.Adagrad(1e-1),
    lambda: optimizers.Adadelta(1.0),
    lambda: optimizers.SGD(0.1, clipnorm=0.01),
    lambda: optimizers.Adam(1e-2, global_clipnorm=0.01),
    lambda: optimizers.RMSprop(optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
]


@pytest.mark.parametrize("make_opt", OPTIMIZERS)
def test_optimizers_side_by_side(make_opt):
    rng = np.random.default_rng(0)
    general, planned = _pair(_seed_model, dict(optimizer=make_opt,
                                               loss="binary_crossentropy",
                                               metrics=["accuracy"]))
    batches = [(*_data(rng), {}) for _ in range(5)]
    _run(general, planned, batches)
    assert _plan_steps(planned) >= 3


@pytest.mark.parametrize("loss, head, classes", [
    ("binary_crossentropy", Dense(1, activation="sigmoid"), None),
    (fastrnn.losses.BinaryCrossentropy(label_smoothing=0.2), Dense(1, activation="sigmoid"),
     None),
    (fastrnn.losses.BinaryCrossentropy(from_logits=True), Dense(1), None),
    ("mse", Dense(1, activation="tanh"), None),
    ("huber", Dense(1), None),
    ("sparse_categorical_crossentropy", Dense(4, activation="softmax"), 4),
    ("categorical_crossentropy", Dense(4, activation="softmax"), -4),
])
def test_losses_metrics_weights_side_by_side(loss, head, classes):
    rng = np.random.default_rng(1)
    cfg = head.get_config()

    def build():
        return Sequential([SimpleRNN(5, input_shape=(2, 10)), Dense.from_config(
            {**cfg, "name": None})])

    sparse = classes is not None and classes > 0
    general, planned = _pair(build, dict(optimizer=lambda: optimizers.Adam(1e-2), loss=loss,
                                         metrics=["accuracy"] + ([] if sparse else ["mae"]),
                                         weighted_metrics=["accuracy" if sparse else "mse"]))
    batches = []
    for i in range(5):
        x, y = _data(rng, classes=abs(classes) if classes else None)
        if classes and classes < 0:
            y = np.eye(-classes, dtype="float32")[y]
        extra = {"sample_weight": rng.random(8).astype("float32")} if i % 2 else {}
        batches.append((x, y, extra))
    _run(general, planned, batches)
    if classes and classes > 0:
        _run(general, planned, [(x, y, {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5, 3: 1.0}})
                                for x, y, _ in batches[:3]])
    assert _plan_steps(planned) >= 2


def test_masks_embedding_sparse_gradients_dropout_go_backwards():
    rng = np.random.default_rng(2)

    def build():
        return Sequential([Embedding(20, 6, mask_zero=True, input_shape=(7,)),
                           SimpleRNN(4, return_sequences=True, go_backwards=True,
                                     dropout=0.3, seed=5),
                           Dropout(0.2, seed=3),
                           Dense(2, activation="softmax")])

    general, planned = _pair(build, dict(optimizer=lambda: optimizers.RMSprop(1e-2),
                                         loss="sparse_categorical_crossentropy",
                                         metrics=["accuracy"]))
    batches = []
    for _ in range(5):
        x = rng.integers(0, 20, (6, 7))
        x[:, -2:] = 0
        batches.append((x, rng.integers(0, 2, (6, 7)), {}))
    _run(general, planned, batches)
    assert _plan_steps(planned) >= 3


def test_multi_output_regularizers_constraints_float64():
    rng = np.random.default_rng(3)

    def build():
        inp = fastrnn.Input(shape=(2, 10), dtype="float64")
        seq, state = SimpleRNN(4, return_sequences=True, return_state=True,
                               kernel_regularizer=regularizers.L2(0.01),
                               recurrent_constraint=constraints.MaxNorm(0.5),
                               dtype="float64")(inp)
        h = SimpleRNN(3, dtype="float64", bias_regularizer="l1")(seq)
        a = Dense(1, activation="sigmoid", name="a", dtype="float64",
                  kernel_constraint=constraints.NonNeg())(h)
        b = Dense(2, name="b", dtype="float64")(state)
        return Model(inp, {"a": a, "b": b})

    general, planned = _pair(build, dict(optimizer=lambda: optimizers.SGD(0.05, momentum=0.5),
                                         loss={"a": "binary_crossentropy", "b": "mse"},
                                         loss_weights={"a": 1.0, "b": 0.5},
                                         metrics={"a": ["accuracy"], "b": ["mae"]}))
    batches = []
    for i in range(5):
        x = rng.standard_normal((5, 2, 10))
        y = {"a": (rng.random((5, 1)) > 0.5).astype(float), "b": rng.standard_normal((5, 2))}
        extra = {"sample_weight": {"a": rng.random(5), "b": rng.random(5)}} if i == 3 else {}
        batches.append((x, y, extra))
    _run(general, planned, batches)
    assert _plan_steps(planned) >= 2


def test_stateful_and_shared_layer():
    rng = np.random.default_rng(4)

    def build():
        inp = fastrnn.Input(batch_shape=(4, 2, 10))
        rnn = SimpleRNN(3, stateful=True)
        shared = Dense(3, activation="tanh")
        h = shared(shared(rnn(inp)))
        return Model(inp, Dense(1, activation="sigmoid")(h))

    general, planned = _pair(build, dict(optimizer="adam", loss="binary_crossentropy"))
    batches = [(*_data(rng, n=4), {}) for _ in range(5)]
    _run(general, planned, batches)
    for a, b in zip(general.layers[1].states, planned.layers[1].states):
        assert_array_equal(a, b)
    assert _plan_steps(planned) >= 3


def test_fit_side_by_side_with_validation_and_shuffle():
    rng = np.random.default_rng(5)
    general, planned = _pair(_seed_model, dict(optimizer=lambda: optimizers.RMSprop(1e-2),
                                               loss="binary_crossentropy",
                                               metrics=["accuracy"]))
    x, y = _data(rng, n=50)
    ha = general.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, verbose=0).history
    hb = planned.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, verbose=0).history
    assert ha == hb
    _assert_same(general, planned)
    assert _plan_steps(planned) > 10


def test_non_finite_step_warns_and_keeps_weights():
    general, planned = _pair(_seed_model, dict(optimizer="sgd", loss="mse"))
    rng = np.random.default_rng(6)
    x, y = _data(rng)
    for m in (general, planned):
        m.train_on_batch(x, y)
        m.train_on_batch(x, y)
    for m in (general, planned):
        with pytest.warns(RuntimeWarning, match="stopped at train_on_batch"):
            m.train_on_batch(x, y * np.inf)
    _assert_same(general, planned)


# ---------------------------------------------------------------------- invalidation

def _warm(general, planned, rng, n=3, **data):
    batches = [(*_data(rng, **data), {}) for _ in range(n)]
    _run(general, planned, batches)


def test_plan_invalidation():
    rng = np.random.default_rng(7)
    general, planned = _pair(_seed_model, dict(optimizer=lambda: optimizers.Adam(1e-2),
                                               loss="binary_crossentropy"))
    _warm(general, planned, rng)
    steps = _plan_steps(planned)
    assert steps >= 1
    # set_weights: seen at once, through the same plan
    new = [w * 0.5 for w in general.get_weights()]
    general.set_weights(new)
    planned.set_weights(new)
    _warm(general, planned, rng)
    assert _plan_steps(planned) == steps + 3
    # a new learning rate
    general.optimizer.learning_rate = planned.optimizer.learning_rate = 0.1
    _warm(general, planned, rng)
    # a frozen layer: its weights stay, the plan is made again
    for m in (general, planned):
        m.layers[0].trainable = False
    frozen = planned.layers[0].get_weights()
    _warm(general, planned, rng)
    for a, b in zip(frozen, planned.layers[0].get_weights()):
        assert_array_equal(a, b)
    for m in (general, planned):
        m.layers[0].trainable = True
    _warm(general, planned, rng)
    # other dtypes and batch sizes of x: a plan per signature
    _warm(general, planned, rng, dtype="float64")
    _warm(general, planned, rng, n=4)
    _warm(general, planned, rng, n=5)
    x, y = _data(rng)
    _run(general, planned, [(x[:, :, :], y, {}), (np.asfortranarray(x), y, {})] * 2)
    # recompile with another optimizer and loss
    for m in (general, planned):
        m.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="mse", metrics=["mae"])
    assert planned.__dict__.get("_train_plans") is None
    _warm(general, planned, rng, n=4)
    # a layer added to the Sequential model
    for m in (general, planned):
        set_random_seed(9)
        m.add(Dense(1, activation="sigmoid"))
    general.set_weights(planned.get_weights())
    _warm(general, planned, rng, n=4)
    assert _plan_steps(planned) == 3  # plans were dropped by the new layer, made again


def test_optimizer_state_written_back_and_saved_slots(tmp_path):
    rng = np.random.default_rng(8)
    general, planned = _pair(_seed_model, dict(optimizer=lambda: optimizers.RMSprop(1e-2),
                                               loss="binary_crossentropy"))
    _warm(general, planned, rng, n=4)
    # the slots are the optimizer's, written in place: a general step sees them
    planned.use_train_plans = False
    _warm(general, planned, rng, n=2)
    planned.use_train_plans = True
    _warm(general, planned, rng, n=3)
    # restoring optimizer state in place (as loading does) reaches the plan
    from fastrnn.saving.weights_layout import optimizer_arrays, set_optimizer_arrays
    arrays = optimizer_arrays(general.optimizer, general.trainable_weights)
    for m in (general, planned):
        assert set_optimizer_arrays(m.optimizer, m.trainable_weights,
                                    [a * 0 + 1 if i > 1 else a for i, a in enumerate(arrays)],
                                    "test")
    _warm(general, planned, rng, n=3)


def test_plans_can_be_switched_off_and_unknown_optimizer_kept():
    class MyOpt(optimizers.SGD):
        def update_step(self, gradient, variable, learning_rate):
            variable -= learning_rate * gradient / (1 + np.abs(gradient).max())

    rng = np.random.default_rng(10)
    general, planned = _pair(_seed_model, dict(optimizer=lambda: MyOpt(0.1),
                                               loss="binary_crossentropy"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warm(general, planned, rng, n=4)
    plan = [p for k, p in planned._train_plans.items() if k not in ("stamp", "seen")][0]
    assert plan.flat is None  # not elementwise: the optimizer's own apply


def _chain_plan(model):
    plans = [p for k, p in model._train_plans.items() if k not in ("stamp", "seen") and p]
    return plans[0].chain if plans else None


@pytest.mark.parametrize("build, loss, y_of", [
    (lambda: Sequential([SimpleRNN(4, input_shape=(2, 10), return_sequences=True,
                                   go_backwards=True),
                         Dense(3, activation="softmax")]),
     "sparse_categorical_crossentropy", lambda rng, n: rng.integers(0, 3, (n, 2))),
    (lambda: Sequential([SimpleRNN(4, input_shape=(2, 10), use_bias=False,
                                   activation="relu"),
                         Dense(1, use_bias=False)]),
     "mae", lambda rng, n: rng.standard_normal((n, 1)).astype("float32")),
    (lambda: Sequential([fastrnn.Input(shape=(2, 10)), fastrnn.layers.Flatten(),
                         Dense(4, activation="relu"), Dense(1, activation="sigmoid")]),
     "binary_crossentropy", lambda rng, n: (rng.random((n, 1)) > 0.5).astype("float32")),
])
def test_chain_variants_side_by_side(build, loss, y_of):
    rng = np.random.default_rng(11)
    general, planned = _pair(build, dict(optimizer=lambda: optimizers.Adam(1e-2), loss=loss))
    batches = [(rng.standard_normal((6, 2, 10)).astype("float32"), y_of(rng, 6), {})
               for _ in range(5)]
    _run(general, planned, batches)
    assert _plan_steps(planned) >= 3


def test_seed_model_runs_the_lean_chain_in_float32_and_float64():
    for dtype in ("float32", "float64"):
        rng = np.random.default_rng(12)
        general, planned = _pair(lambda: _seed_model(dtype),
                                 dict(optimizer=lambda: optimizers.RMSprop(1e-2),
                                      loss="binary_crossentropy"))
        _run(general, planned, [(*_data(rng, dtype=dtype), {}) for _ in range(5)])
        assert _chain_plan(planned) is not None
        assert _plan_steps(planned) >= 3


def test_frozen_model_and_warning_location():
    rng = np.random.default_rng(13)
    general, planned = _pair(_seed_model, dict(optimizer="rmsprop", loss="mse"))
    for m in (general, planned):
        m.trainable = False
    before = planned.get_weights()
    _warm(general, planned, rng, n=4)
    for a, b in zip(before, planned.get_weights()):
        assert_array_equal(a, b)
    for m in (general, planned):
        m.trainable = True
    x, y = _data(rng)
    for m in (general, planned):
        m.train_on_batch(x, y)
        m.train_on_batch(x, y)
        with pytest.warns(RuntimeWarning) as record:
            m.train_on_batch(x, y * np.nan)
        assert record[0].filename == __file__
        with pytest.warns(RuntimeWarning) as record:
            m.fit(np.concatenate([x, x]), np.concatenate([y, y * np.nan]), batch_size=8,
                  verbose=0, shuffle=False)
        assert record[0].filename == __file__
    _assert_same(general, planned)


def test_activity_regularizer_keeps_the_general_step():
    rng = np.random.default_rng(14)
    general, planned = _pair(
        lambda: Sequential([SimpleRNN(3, input_shape=(2, 10)),
                            Dense(1, activation="sigmoid", activity_regularizer="l2")]),
        dict(optimizer="adam", loss="binary_crossentropy"))
    _warm(general, planned, rng, n=4)
    assert _plan_steps(planned) == 0


def test_nested_model_bidirectional_time_distributed_side_by_side():
    from fastrnn.layers import Bidirectional, TimeDistributed
    rng = np.random.default_rng(15)

    def build():
        inner_in = fastrnn.Input(shape=(2, 10))
        inner = Model(inner_in, TimeDistributed(Dense(4, activation="tanh"))(inner_in))
        inp = fastrnn.Input(shape=(2, 10))
        h = Bidirectional(SimpleRNN(3))(inner(inp))
        return Model(inp, Dense(1, activation="sigmoid")(h))

    general, planned = _pair(build, dict(optimizer=lambda: optimizers.Nadam(1e-2),
                                         loss="binary_crossentropy", metrics=["accuracy"]))
    _run(general, planned, [(*_data(rng), {}) for _ in range(5)])
    assert _plan_steps(planned) >= 3


def test_many_signatures_stay_correct():
    rng = np.random.default_rng(16)
    general, planned = _pair(_seed_model, dict(optimizer="sgd", loss="mse"))
    batches = [(*_data(rng, n=n), {}) for n in (3, 4, 3, 5, 4, 3, 6, 6, 7, 2, 2)]
    _run(general, planned, batches)
    assert _plan_steps(planned) >= 4
