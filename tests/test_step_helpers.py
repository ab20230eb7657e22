"""The training step's compiled elementwise helpers (src/_step.h) against the NumPy code
they stand for, bit for bit: the optimizer rules of ``FlatApply`` (against each
optimizer's own ``apply`` on the separate arrays) and the logistic loss's terms (against
the NumPy path of ``BinaryCrossentropy.lean_value_and_gradient``); and their argument
checks."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from fastrnn import _kernel, losses, optimizers
from fastrnn.losses import crossentropy
from fastrnn.optimizers import flat as flat_mod
from fastrnn.optimizers.flat import FlatApply

COMPILED = [
    lambda: optimizers.SGD(0.1),
    lambda: optimizers.SGD(0.1, momentum=0.9),
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(1e-2),
    lambda: optimizers.RMSprop(1e-2, momentum=0.5),
    lambda: optimizers.RMSprop(1e-2, centered=True),
    lambda: optimizers.RMSprop(1e-2, momentum=0.5, centered=True, weight_decay=0.1),
    lambda: optimizers.Adam(1e-2),
    lambda: optimizers.Adam(1e-2, amsgrad=True, clipvalue=0.05),
    lambda: optimizers.AdamW(1e-2, loss_scale_factor=4.0),
]


def _variables(rng, dtype):
    return [rng.standard_normal(s).astype(dtype) for s in [(10, 3), (3, 3), (3,), (3, 1),
                                                           (1,)]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_opt", COMPILED)
def test_compiled_rules_equal_the_optimizers_apply(dtype, make_opt, monkeypatch):
    calls = []
    real = _kernel.optimizer_step
    monkeypatch.setattr(_kernel, "optimizer_step",
                        lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(0)
    ref_vars = _variables(rng, dtype)
    vars_ = [v.copy() for v in ref_vars]
    ref_opt, opt = make_opt(), make_opt()
    flat = FlatApply(opt, vars_)
    for step in range(4):
        grads = [rng.standard_normal(v.shape).astype(dtype) * 0.3 for v in vars_]
        ref_opt.apply(grads, ref_vars)
        assert flat.apply(np.concatenate(grads, axis=None))
        for a, b in zip(ref_vars, vars_):
            assert_array_equal(a, b)
        for rv, v in zip(ref_vars, vars_):
            ref_slots = ref_opt._slots.get(id(rv), (rv, {}))[1]
            slots = opt._slots.get(id(v), (v, {}))[1]
            assert sorted(ref_slots) == sorted(slots)
            for name in slots:
                assert_array_equal(ref_slots[name], slots[name], err_msg=name)
        assert ref_opt.iterations == opt.iterations == step + 1
    assert len(calls) == 4  # the compiled step ran


@pytest.mark.parametrize("make_opt, changes", [
    (COMPILED[1], dict(momentum=0.5, nesterov=True, learning_rate=0.05)),
    (COMPILED[4], dict(rho=0.5, epsilon=1e-3, centered=True, momentum=0.0)),
    (COMPILED[7], dict(beta_1=0.5, beta_2=0.9, epsilon=1e-3, learning_rate=0.1)),
])
def test_hyperparameters_changed_between_steps_are_used(make_opt, changes):
    rng = np.random.default_rng(2)
    ref_vars = _variables(rng, np.float32)
    vars_ = [v.copy() for v in ref_vars]
    ref_opt, opt = make_opt(), make_opt()
    flat = FlatApply(opt, vars_)
    for step in range(4):
        if step == 2:
            for o in (ref_opt, opt):
                for name, value in changes.items():
                    setattr(o, name, value)
        grads = [rng.standard_normal(v.shape).astype(np.float32) for v in vars_]
        ref_opt.apply(grads, ref_vars)
        assert flat.apply(np.concatenate(grads, axis=None))
        for a, b in zip(ref_vars, vars_):
            assert_array_equal(a, b)


@pytest.mark.parametrize("make_opt", [COMPILED[3], COMPILED[8], lambda: optimizers.Nadam()])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_gradient_not_finite_changes_nothing(make_opt, bad):
    rng = np.random.default_rng(1)
    vars_ = _variables(rng, np.float32)
    opt = make_opt()
    flat = FlatApply(opt, vars_)
    g = rng.standard_normal(sum(v.size for v in vars_)).astype(np.float32)
    assert flat.apply(g)
    before = [v.copy() for v in vars_] + [s.copy() for s in opt.variables]
    g[17] = bad  # clipvalue would turn an inf finite: the check is before clipping
    assert not flat.apply(g)
    for a, b in zip(before, vars_ + list(opt.variables)):
        assert_array_equal(a, b)
    assert opt.iterations == 1


def test_optimizer_step_rejects_bad_arguments():
    v = [np.zeros((2, 3), np.float32), np.zeros(4, np.float32)]
    g = np.ones(10, np.float32)
    s = np.zeros(10, np.float32)
    rules = _kernel.OPTIMIZER_RULES
    ok = (rules["rmsprop"], v, g, (s, None, None), (0.1, 0.9, 0.1, 1e-7, 0.0, 0.0, 0.0))
    assert _kernel.optimizer_step(*ok)
    cases = [
        ((rules["rmsprop"], v, g, (None, None, None), ok[4]), "needs slot 0"),
        ((rules["rmsprop"], v, g, (s, None, None), ok[4][:5] + (1.0, 0.0)), "needs slot 1"),
        ((rules["adam"], v, g, (s, None, None), (0.1,) * 4 + (0.0,)), "needs slot 1"),
        ((rules["sgd_momentum"], v, g, (s[:9], None, None), (0.1, 0.9, 0.0)), "`slots`"),
        ((99, v, g, (s, s, s), ()), "unknown rule"),
        ((rules["sgd"], v, g[:9], (None,) * 3, (0.1,)), "10 elements, the gradient 9"),
        ((rules["sgd"], v, g.astype(np.float64), (None,) * 3, (0.1,)), "variable 0"),
        ((rules["sgd"], v, g.astype(np.int32), (None,) * 3, (0.1,)), "float32 or float64"),
        ((rules["sgd"], v, [1.0] * 10, (None,) * 3, (0.1,)), "NumPy array"),
        ((rules["sgd"], [v[0].T, v[1]], g, (None,) * 3, (0.1,)), "C-contiguous"),
        ((rules["sgd"], [v[0], "w"], g, (None,) * 3, (0.1,)), "not a NumPy array"),
        ((rules["sgd"], v, g, (None,) * 2, (0.1,)), "3 slots"),
        ((rules["sgd"], v, g, (None,) * 3, (0.1,) * 9), "at most 8"),
    ]
    ro = np.zeros(10, np.float32)
    ro.flags.writeable = False
    cases.append(((rules["sgd_momentum"], v, g, (ro, None, None), (0.1, 0.9, 0.0)),
                  "writeable"))
    for args, match in cases:
        with pytest.raises(ValueError, match=match):
            _kernel.optimizer_step(*args)


def test_the_rule_table_covers_exactly_the_compiled_optimizers():
    for make in COMPILED:
        assert flat_mod._compiled_rule(make(), np.float32, 0.1) is not None
    for opt in (optimizers.Adagrad(), optimizers.Adadelta(), optimizers.Adamax(),
                optimizers.Nadam()):
        assert flat_mod._compiled_rule(opt, np.float32, 0.1) is None


# ---------------------------------------------------------------------- the loss

def _logits(rng, shape, dtype):
    p = (rng.standard_normal(shape) * 4).astype(dtype)
    flat = p.reshape(-1)
    extremes = [0.0, -0.0, 100.0, -100.0, 1e-30, -1e-30, 20.0, -20.0, 88.0, -104.0]
    flat[:min(len(extremes), flat.size)] = extremes[:flat.size]
    return p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 1), (1, 1), (5, 3), (4, 6, 1), (3, 2, 4), (7,)])
def test_bce_compiled_terms_equal_the_numpy_path(rng, dtype, shape, monkeypatch):
    loss = losses.BinaryCrossentropy(from_logits=True)
    p = _logits(rng, shape, dtype)
    t = (rng.random(shape) > 0.5).astype(dtype)
    f = loss.lean_value_and_gradient(t, p)
    value, grad = f(t, p)                                  # C-contiguous: compiled
    monkeypatch.setattr(crossentropy, "_COMPILED_TERMS", False)
    value_np, grad_np = f(t, p)                            # the NumPy operations
    assert value == value_np
    assert_array_equal(grad, grad_np)
    assert grad.dtype == dtype and grad.shape == shape
    # inputs that are not C-contiguous take the NumPy path: the same gradient
    if p.size > 1:
        strided = [np.repeat(a[..., None], 2, axis=-1)[..., 0] for a in (t, p)]
        assert not strided[1].flags.c_contiguous
        assert_array_equal(f(*strided)[1], grad)
    # and the general calls (value and gradient separately)
    assert np.float64(value) == np.float64(loss(t, p))
    assert_array_equal(grad, loss.gradient(t, p))


def test_bce_terms_reject_bad_arguments():
    p = np.zeros((4, 2), np.float32)
    ok = dict(p=p, t=p, e=p, l=p, w=np.ones((4, 1), np.float32), plus_zero=False,
              elem=np.empty_like(p), grad=np.empty_like(p))
    _kernel.bce_terms(**ok)
    ro = np.empty_like(p)
    ro.flags.writeable = False
    for change, match in [(dict(p=p.tolist()), "NumPy array"),
                          (dict(p=p.astype(np.int64)), "float32 or float64"),
                          (dict(t=p.astype(np.float64)), "`t`"),
                          (dict(e=p[:3]), "`e`"),
                          (dict(l=p.T), "`l`"),
                          (dict(w=np.ones((4, 2), np.float32)), "`w`"),
                          (dict(elem=p[:, :1]), "`elem`"),
                          (dict(grad=ro), "`grad`"),
                          (dict(p=np.zeros((4, 0), np.float32)), "last axis")]:
        with pytest.raises(ValueError, match=match):
            _kernel.bce_terms(**{**ok, **change})
    with pytest.raises(ValueError, match="`e`"):
        _kernel.neg_abs(p, np.empty(3, np.float32))


# ---------------------------------------------------------------------- sigmoid, bias

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (8, 1), (5, 3, 7)])
def test_sigmoid_compiled_equals_numpy(rng, dtype, shape):
    from fastrnn import activations
    x = _logits(rng, shape, dtype) if shape else np.asarray(-3.5, dtype)
    e = np.exp(-np.abs(x))
    d = 1 + e
    want = np.where(x >= 0, 1 / d, e / d)
    got = activations.sigmoid(x)
    assert got.dtype == dtype and got.shape == x.shape
    assert_array_equal(got, want)
    if x.ndim > 1:  # not C-contiguous: the NumPy operations, the same values
        assert_array_equal(activations.sigmoid(x.T), want.T)
    assert np.isnan(activations.sigmoid(np.array([np.nan], dtype))[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_bias_add_equals_numpy(rng, dtype):
    z = rng.standard_normal((6, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    want = z + b
    got = z.copy()
    _kernel.add_rows(got, b)
    assert_array_equal(got, want)
    z3 = rng.standard_normal((2, 3, 5)).astype(dtype)
    got3 = z3.copy()
    _kernel.add_rows(got3, b)
    assert_array_equal(got3, z3 + b)
    for bad_z, bad_b, match in [(z.T.copy(), b, "`b`"), (z, b[:4], "`b`"),
                                (z.T, b[:6].copy() if b.size > 5 else b, "`z`"),
                                (z, b.astype(np.float16), "`b`"),
                                (z, b[None], "1-D")]:
        with pytest.raises(ValueError, match=match):
            _kernel.add_rows(bad_z, bad_b)


@pytest.mark.parametrize("make_opt", [lambda: optimizers.SGD(0.1, loss_scale_factor=1e-37),
                                      lambda: optimizers.RMSprop(loss_scale_factor=1e-37)])
def test_a_scaled_gradient_overflowing_steps_as_apply_does(make_opt):
    """The gradients are checked as computed; once scaled they may overflow, and the
    step then writes what Optimizer.apply writes (infinities, NaN)."""
    rng = np.random.default_rng(3)
    ref_vars = _variables(rng, np.float32)
    vars_ = [v.copy() for v in ref_vars]
    ref_opt, opt = make_opt(), make_opt()
    flat = FlatApply(opt, vars_)
    grads = [np.full(v.shape, 1e3, np.float32) for v in vars_]
    with np.errstate(over="ignore", invalid="ignore"):
        ref_opt.apply(grads, ref_vars)
        assert flat.apply(np.concatenate(grads, axis=None))
    assert not np.isfinite(vars_[0]).any()
    for a, b in zip(ref_vars, vars_):
        assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 37, -1])
def test_all_finite_is_numpys_isfinite_all(rng, dtype, bad, where):
    """The training plan's gradient check (compiled for C-contiguous float32/64, NumPy
    for anything else), with the bad value first, inside and last, and on views."""
    a = rng.standard_normal((64, 5)).astype(dtype)
    if bad is not None:
        a.reshape(-1)[where] = bad
    for arr in (a, a[:, :3], a.T, a.reshape(-1)[:0], a.reshape(-1)[where:]):
        assert _kernel.all_finite(arr) is bool(np.isfinite(arr).all())
    assert _kernel.all_finite(a.tolist()) is bool(np.isfinite(a).all())
