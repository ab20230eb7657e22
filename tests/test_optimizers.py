"""fastrnn.optimizers against hand-written update loops from Keras's documentation."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

optimizers, = load("optimizers")

# learning rates exactly representable in float32, so float64 references need no rounding
LR = 0.125


def make_problem(rng, steps=6, dtype=np.float64):
    """Two variables of different shapes and a sequence of gradients for them."""
    shapes = [(3, 2), (4,)]
    variables = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(steps)]
    return variables, grads


def run(optimizer, variables, grads):
    variables = [v.copy() for v in variables]
    handles = list(variables)
    for step_grads in grads:
        optimizer.apply(step_grads, variables)
    assert all(v is h for v, h in zip(variables, handles))      # updated in place
    return variables


# ----------------------------------------------------------------------------- references
# Each updates one float64 array w through a list of gradients, per the Keras docstrings.
# Where Keras's update rule does ops.cast(python_float, dtype), TensorFlow rounds the Python
# float to float32 first (fixture tool_f64_opt.npz): tf_cast below.

def tf_cast(value):
    return float(np.float32(value))


def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False):
    w, velocity = w.copy(), np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - lr * g
            continue
        velocity = tf_cast(momentum) * velocity - lr * g
        w = w + (tf_cast(momentum) * velocity - lr * g if nesterov else velocity)
    return w


def ref_adam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    # Kingma & Ba, with Keras's "epsilon hat" placement
    w, m, v, v_max = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        v_max = np.maximum(v_max, v)
        step_size = lr * np.sqrt(1 - tf_cast(beta_2) ** t) / (1 - tf_cast(beta_1) ** t)
        w = w - step_size * m / (np.sqrt(v_max if amsgrad else v) + epsilon)
    return w


def ref_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    w, ms, mg, mom = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        ms = rho * ms + (1 - rho) * g ** 2
        mg = rho * mg + (1 - rho) * g
        denominator = ms - mg ** 2 + epsilon if centered else ms + epsilon
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
    return w


CASES = [
    (lambda: optimizers.SGD(LR), lambda w, g: ref_sgd(w, g, LR)),
    (lambda: optimizers.SGD(LR, momentum=0.9), lambda w, g: ref_sgd(w, g, LR, 0.9)),
    (lambda: optimizers.SGD(LR, momentum=0.5, nesterov=True),
     lambda w, g: ref_sgd(w, g, LR, 0.5, nesterov=True)),
    (lambda: optimizers.Adam(LR), lambda w, g: ref_adam(w, g, LR)),
    (lambda: optimizers.Adam(LR, beta_1=0.5, beta_2=0.75, epsilon=1e-3),
     lambda w, g: ref_adam(w, g, LR, 0.5, 0.75, 1e-3)),
    (lambda: optimizers.Adam(LR, amsgrad=True), lambda w, g: ref_adam(w, g, LR, amsgrad=True)),
    (lambda: optimizers.RMSprop(LR), lambda w, g: ref_rmsprop(w, g, LR)),
    (lambda: optimizers.RMSprop(LR, rho=0.5, momentum=0.75),
     lambda w, g: ref_rmsprop(w, g, LR, 0.5, 0.75)),
    (lambda: optimizers.RMSprop(LR, centered=True, epsilon=1e-2),
     lambda w, g: ref_rmsprop(w, g, LR, epsilon=1e-2, centered=True)),
]


@pytest.mark.parametrize("make, reference", CASES)
def test_steps_match_reference_float64(rng, make, reference):
    variables, grads = make_problem(rng)
    out = run(make(), variables, grads)
    for i, v in enumerate(out):
        expected = reference(variables[i], [g[i] for g in grads])
        assert v.dtype == np.float64
        assert_allclose(v, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make, reference", CASES)
def test_steps_in_float32_stay_float32(rng, make, reference):
    variables, grads = make_problem(rng, dtype=np.float32)
    out = run(make(), variables, grads)
    for i, v in enumerate(out):
        expected = reference(variables[i].astype(np.float64),
                             [g[i].astype(np.float64) for g in grads])
        assert v.dtype == np.float32
        assert_allclose(v, expected, rtol=1e-5, atol=1e-5)


def test_one_adam_step_by_hand():
    # t = 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(1 - b2) / (1 - b1)  =>  w -= lr * g / |g|
    # (the betas of alpha float32-rounded, as Keras's tf.cast of a Python float: 1 + 1.2e-6)
    w = np.array([1.0, -2.0])
    optimizers.Adam(learning_rate=0.5, epsilon=0.0).apply([np.array([3.0, -0.25])], [w])
    b1, b2 = float(np.float32(0.9)), float(np.float32(0.999))
    ratio = np.sqrt(1 - b2) / (1 - b1) * (1 - 0.9) / np.sqrt(1 - 0.999)
    assert ratio == pytest.approx(1.0, abs=1e-5)
    assert_allclose(w, [1.0 - 0.5 * ratio, -2.0 + 0.5 * ratio], rtol=1e-14)


@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(0.1), optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    optimizers.Adam(0.1), optimizers.Adam(0.1, amsgrad=True), optimizers.RMSprop(0.05),
    optimizers.RMSprop(0.02, momentum=0.5, centered=True),
], ids=repr)
def test_minimises_a_quadratic(rng, optimizer):
    scale = np.array([1.0, 3.0, 0.5], dtype=np.float32)
    target = rng.normal(size=3).astype(np.float32)
    w = np.zeros(3, dtype=np.float32)

    def loss():
        return 0.5 * np.sum(scale * (w - target) ** 2)

    start = loss()
    for _ in range(300):
        optimizer.apply_gradients([(scale * (w - target), w)])
    assert loss() < 1e-2 * start
    assert optimizer.iterations == 300


# ----------------------------------------------------------------------------- clipping

def test_clipnorm_clips_each_gradient_by_its_own_norm():
    w1, w2 = np.zeros(2), np.zeros(2)
    opt = optimizers.SGD(1.0, clipnorm=1.0)
    opt.apply([np.array([3.0, 4.0]), np.array([0.3, 0.4])], [w1, w2])
    assert_allclose(w1, [-0.6, -0.8], rtol=1e-12)      # norm 5 -> 1
    assert_allclose(w2, [-0.3, -0.4], rtol=1e-12)      # norm 0.5: unchanged


def test_global_clipnorm_clips_all_gradients_together():
    w1, w2 = np.zeros(2), np.zeros(1)
    opt = optimizers.SGD(1.0, global_clipnorm=2.0)
    opt.apply([np.array([3.0, 4.0]), np.array([0.0])], [w1, w2])
    assert_allclose(w1, [-1.2, -1.6], rtol=1e-12)
    w = np.zeros(2)
    optimizers.SGD(1.0, global_clipnorm=2.0).apply([np.zeros(2)], [w])   # zero norm: no NaN
    assert_allclose(w, 0.0)


def test_clipvalue_clips_elementwise():
    w = np.zeros(3)
    optimizers.SGD(1.0, clipvalue=0.5).apply([np.array([2.0, -0.25, -3.0])], [w])
    assert_allclose(w, [-0.5, 0.25, 0.5])


def test_weight_decay_is_decoupled_and_applied_before_the_step():
    w = np.array([2.0])
    optimizers.SGD(0.5, weight_decay=0.25).apply([np.array([1.0])], [w])
    assert_allclose(w, [2.0 - 2.0 * 0.25 * 0.5 - 0.5 * 1.0])


# ----------------------------------------------------------------------------- bookkeeping

def test_learning_rate_is_float32_rounded_like_keras():
    opt = optimizers.get("adam")
    assert opt.learning_rate == float(np.float32(0.001)) != 0.001
    w = np.array([0.0])
    optimizers.SGD(0.1).apply([np.array([1.0])], [w])
    assert w[0] == -float(np.float32(0.1))


def test_callable_learning_rate_is_read_at_each_step():
    rates = iter([0.5, 0.25])
    w = np.array([0.0])
    opt = optimizers.SGD(lambda: next(rates))
    opt.apply([np.array([1.0])], [w])
    opt.apply([np.array([1.0])], [w])
    assert_allclose(w, [-0.75])


def test_slots_are_built_lazily_per_variable():
    opt = optimizers.Adam()
    assert opt.variables == [] and opt.iterations == 0
    a, b = np.zeros((2, 2), np.float32), np.zeros(3, np.float32)
    opt.apply([np.ones((2, 2)), None], [a, b])                   # b has no gradient
    assert len(opt.variables) == 2 and opt.iterations == 1
    assert_allclose(b, 0.0)
    opt.apply([np.ones((2, 2)), np.ones(3)], [a, b])
    assert len(opt.variables) == 4 and opt.iterations == 2
    assert all(s.dtype == np.float32 for s in opt.variables)
    opt.build([np.zeros(5)])
    assert len(opt.variables) == 6


def test_momentum_slots_are_keyed_by_variable_identity():
    opt = optimizers.SGD(1.0, momentum=0.5)
    a, b = np.zeros(1), np.zeros(1)
    opt.apply([np.array([1.0])], [a])        # a's velocity: -1
    opt.apply([np.array([1.0])], [b])        # b starts from zero velocity
    assert_allclose(a, [-1.0])
    assert_allclose(b, [-1.0])
    opt.apply([np.array([0.0]), np.array([0.0])], [b, a])
    assert_allclose(a, [-1.5])
    assert_allclose(b, [-1.5])


def test_apply_gradients_takes_pairs():
    w = np.array([1.0, 1.0])
    opt = optimizers.SGD(0.5)
    assert opt.apply_gradients(zip([np.array([1.0, -1.0])], [w])) == 1
    assert_allclose(w, [0.5, 1.5])


@pytest.mark.parametrize("identifier, cls, config", [
    ("sgd", optimizers.SGD, {"momentum": 0.0, "nesterov": False, "name": "SGD"}),
    ("SGD", optimizers.SGD, {}),
    ("adam", optimizers.Adam, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
                               "amsgrad": False, "name": "adam"}),
    ("RMSprop", optimizers.RMSprop, {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                                     "centered": False, "name": "rmsprop"}),
    ({"class_name": "Adam", "config": {"learning_rate": 0.5}}, optimizers.Adam,
     {"learning_rate": 0.5}),
])
def test_get(identifier, cls, config):
    opt = optimizers.get(identifier)
    assert type(opt) is cls
    got = opt.get_config()
    assert {k: got[k] for k in config} == config
    assert optimizers.get(opt) is opt
    assert type(cls.from_config(got)) is cls and cls.from_config(got).get_config() == got


def test_default_learning_rates():
    assert optimizers.SGD().learning_rate == pytest.approx(0.01)
    assert optimizers.Adam().learning_rate == pytest.approx(0.001)
    assert optimizers.RMSprop().learning_rate == pytest.approx(0.001)


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("identifier", ["ftrl", "", None, 0.1])
def test_get_unknown_raises(identifier):
    with pytest.raises(ValueError, match="`optimizer`.*adam.*rmsprop.*sgd") as info:
        optimizers.get(identifier)
    assert repr(identifier) in str(info.value)


@pytest.mark.parametrize("cls, kwargs, argument", [
    (optimizers.SGD, {"learning_rate": -0.1}, "learning_rate"),
    (optimizers.SGD, {"learning_rate": "fast"}, "learning_rate"),
    (optimizers.SGD, {"momentum": 1.5}, "momentum"),
    (optimizers.SGD, {"nesterov": 1}, "nesterov"),
    (optimizers.Adam, {"beta_1": 1.0}, "beta_1"),
    (optimizers.Adam, {"beta_2": -0.1}, "beta_2"),
    (optimizers.Adam, {"epsilon": -1e-7}, "epsilon"),
    (optimizers.RMSprop, {"rho": 1.0}, "rho"),
    (optimizers.RMSprop, {"clipnorm": 0.0}, "clipnorm"),
    (optimizers.Adam, {"clipnorm": 1.0, "clipvalue": 1.0}, "clipnorm"),
    (optimizers.Adam, {"weight_decay": -1.0}, "weight_decay"),
])
def test_invalid_arguments_raise_value_error(cls, kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop])
def test_unknown_keyword_raises_type_error(cls):
    # Keras 3.15's BaseOptimizer: ValueError("Argument(s) not recognized: {...}")
    with pytest.raises(ValueError, match="not recognized.*lr_decay"):
        cls(lr_decay=0.1)


def test_apply_errors():
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match=r"`grads`.*\(2,\).*\(3,\)"):
        opt.apply([np.zeros(3)], [np.zeros(2)])
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None], [np.zeros(2)])
    with pytest.raises(ValueError, match="`grads`"):
        opt.apply([np.zeros(2)], [np.zeros(2), np.zeros(2)])
    with pytest.raises(TypeError, match="`variables`"):
        opt.apply([np.zeros(2)], [[0.0, 0.0]])
    with pytest.raises(TypeError, match="`variables`"):
        opt.apply([np.zeros(2)], [np.zeros(2, dtype=np.int64)])
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.apply([np.zeros(2)], [frozen])
    assert opt.iterations == 0
