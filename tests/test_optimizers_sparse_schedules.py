"""Row-sparse gradients in every optimizer (against Keras 3 + TensorFlow), the new
optimizers, Keras 3's common arguments and the learning-rate schedules."""
import json
import math
import pathlib
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

(optimizers,) = load("optimizers")
schedules = optimizers.schedules
SparseGradient = optimizers.SparseGradient

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "tool_sparse_opt.npz"
REF = np.load(FIXTURE)
SPEC = json.loads(str(REF["spec"]))


def _run(name, sparse=True):
    cls, kwargs = SPEC[name]
    opt = getattr(optimizers, cls)(**kwargs)
    w, d = REF["w0"].copy(), REF["d0"].copy()
    for i in range(3):
        g = SparseGradient(REF[f"idx{i}"], REF[f"vals{i}"], w.shape)
        opt.apply_gradients([(g if sparse else g.to_dense(), w), (REF[f"dg{i}"], d)])
    return w, d


@pytest.mark.parametrize("name", sorted(SPEC))
def test_sparse_gradients_match_keras3_tensorflow(name):
    w, d = _run(name)
    assert_allclose(w, REF[f"{name}_w"], rtol=1e-5, atol=1e-6)
    assert_allclose(d, REF[f"{name}_d"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "rms", "adagrad", "adadelta", "rms_clipvalue"])
def test_untouched_rows_stay_exactly(name):
    w, _ = _run(name)
    touched = np.unique(np.concatenate([REF[f"idx{i}"] for i in range(3)]))
    untouched = np.setdiff1d(np.arange(w.shape[0]), touched)
    assert untouched.size
    assert np.array_equal(w[untouched], REF["w0"][untouched])


@pytest.mark.parametrize("name", ["rms", "adam", "adagrad", "adadelta", "adamax", "nadam"])
def test_repeated_rows_differ_from_the_densified_gradient(name):
    # Keras squares each occurrence: a dense gradient (repeats summed first) is not the same
    w_sparse, _ = _run(name)
    w_dense, _ = _run(name, sparse=False)
    assert np.abs(w_sparse - w_dense).max() > 1e-6
    assert_allclose(w_sparse, REF[f"{name}_w"], rtol=1e-5, atol=1e-6)


def test_sparse_gradient_validation_and_dense_form():
    g = SparseGradient([2, 0, 2], np.arange(6, dtype="float32").reshape(3, 2), (4, 2))
    assert_allclose(g.to_dense(), [[2, 3], [0, 0], [4, 6], [0, 0]])
    assert g.rows.tolist() == [0, 2]
    with pytest.raises(ValueError, match="`indices`.*\\[0, 3\\]"):
        SparseGradient([4], np.zeros((1, 2)), (4, 2))
    with pytest.raises(ValueError, match="`values`.*\\(2, 2\\)"):
        SparseGradient([0, 1], np.zeros((3, 2)), (4, 2))
    with pytest.raises(ValueError, match="`indices`"):
        SparseGradient([0.5], np.zeros((1, 2)), (4, 2))
    with pytest.raises(ValueError, match="dense_shape.*\\(4, 2\\)"):
        optimizers.SGD().apply([g], [np.zeros((5, 2), "float32")])
    empty = SparseGradient(np.zeros(0, int), np.zeros((0, 2), "float32"), (4, 2))
    w = np.ones((4, 2), "float32")
    optimizers.RMSprop().apply([empty], [w])
    assert np.array_equal(w, np.ones((4, 2)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(0, 3), (5, 3), (300, 4, 2), (6, 1)])
def test_row_sums_add_each_rows_occurrences_in_order(dtype, shape, rng):
    """row_sums (compiled for float32/64, np.add.at otherwise) against a Python loop that
    adds a row's occurrences from zero in occurrence order: the same bits, squares too."""
    n = shape[0]
    idx = rng.integers(0, 7, size=n)
    values = rng.standard_normal(shape).astype(dtype)
    g = SparseGradient(idx, values, (7,) + shape[1:])
    for square in (False, True):
        for _ in range(2):  # the cached segment info must serve every call
            got = g.row_sums(square=square)
            want = np.zeros((g.rows.size,) + shape[1:], dtype)
            for k in range(n):
                v = values[k] * values[k] if square else values[k]
                want[np.searchsorted(g.rows, idx[k])] += v
            assert got.dtype == np.dtype(dtype)
            assert np.array_equal(got, want)
        dense = g.to_dense(square=square)
        assert np.array_equal(dense[g.rows], got)
        assert not dense[np.setdiff1d(np.arange(7), g.rows)].any()


def test_segment_sums_refuses_positions_outside_its_output():
    from fastrnn import _kernel
    out = np.zeros((3, 2), "float32")
    values = np.ones((2, 2), "float32")
    with pytest.raises(ValueError, match="position 3 of occurrence 1"):
        _kernel.segment_sums(np.array([0, 3]), values, out)
    with pytest.raises(ValueError, match="position -1 of occurrence 0"):
        _kernel.segment_sums(np.array([-1, 0]), values, out)
    assert not out.any()  # checked before any sum
    with pytest.raises(ValueError, match="expected 2 positions"):
        _kernel.segment_sums(np.array([0]), values, out)


# ----------------------------------------------------------------------------- dense rules

def _numpy_rules(name, g_steps, w, lr=0.0625):
    """Keras 3's formulas written out in float64 for one variable; ``f`` is Keras's
    ``ops.cast(python_float, float64)``, which TensorFlow rounds through float32."""
    def f(value):
        return float(np.float32(value))
    w = w.astype(np.float64)
    s1, s2 = np.zeros_like(w), np.zeros_like(w)
    u_prod = 1.0
    if name == "adagrad":
        s1[...] = f(0.1)                       # Constant(0.1) initializer: a cast
    for t, g in enumerate(g_steps, start=1):
        if name == "adagrad":
            s1 += g * g
            w -= lr * g / np.sqrt(s1 + 1e-7)
        elif name == "adadelta":
            s1[...] = 0.95 * s1 + 0.05 * g * g
            delta = -np.sqrt(s2 + 1e-7) * g / np.sqrt(s1 + 1e-7)
            s2[...] = 0.95 * s2 + 0.05 * delta * delta
            w += lr * delta
        elif name == "adamax":
            s1 += (g - s1) * 0.1
            s2[...] = np.maximum(0.999 * s2, np.abs(g))
            w -= lr * s1 / ((1 - f(0.9) ** t) * (s2 + 1e-7))
        elif name == "nadam":
            u_prod *= 0.9 * (1 - 0.5 * 0.96 ** t)  # Python floats: exact
            u_t = f(0.9) * (1 - 0.5 * f(0.96) ** t)
            u_t1 = f(0.9) * (1 - 0.5 * f(0.96) ** (t + 1))
            s1 += (g - s1) * (1 - f(0.9))
            s2 += (g * g - s2) * (1 - f(0.999))
            m_hat = u_t1 * s1 / (1 - u_prod * u_t1) + (1 - u_t) * g / (1 - u_prod)
            w -= m_hat * lr / (np.sqrt(s2 / (1 - f(0.999) ** t)) + 1e-7)
        elif name == "adamw":
            w -= w * f(0.004) * lr
            s1 += (g - s1) * 0.1
            s2 += (g * g - s2) * 0.001
            w -= s1 * lr * math.sqrt(1 - f(0.999) ** t) / (1 - f(0.9) ** t) / (np.sqrt(s2) + 1e-7)
    return w


@pytest.mark.parametrize("name, cls", [("adagrad", "Adagrad"), ("adadelta", "Adadelta"),
                                       ("adamax", "Adamax"), ("nadam", "Nadam"),
                                       ("adamw", "AdamW")])
def test_new_optimizers_follow_keras3_formulas_in_float64(name, cls, rng):
    w0 = rng.normal(size=(3, 4))
    g_steps = [rng.normal(size=(3, 4)) for _ in range(4)]
    w = w0.copy()
    opt = getattr(optimizers, cls)(learning_rate=0.0625)   # exact in float32
    for g in g_steps:
        opt.apply([g], [w])
    assert_allclose(w, _numpy_rules(name, g_steps, w0), rtol=1e-12, atol=1e-13)
    assert opt.iterations == 4
    config = opt.get_config()
    assert type(opt).from_config(config).get_config() == config
    assert optimizers.get(name).name == name


# ----------------------------------------------------------------------------- common args

def test_decay_warns_and_is_ignored_like_keras_3_15():
    for decay in (0.0, 0.01):
        with pytest.warns(UserWarning, match="`decay` is no longer supported"):
            opt = optimizers.RMSprop(learning_rate=0.01, decay=decay)
        assert opt.get_config()["learning_rate"] == pytest.approx(0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.SGD(decay=None)


def test_keras2_lr_spelling_is_read_as_learning_rate():
    with pytest.warns(UserWarning, match="`lr` is Keras 2's name"):
        opt = optimizers.Adam(lr=0.25)
    assert opt.learning_rate == 0.25


def test_unsupported_common_arguments():
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)
    with pytest.raises(NotImplementedError, match="gradient_accumulation_steps"):
        optimizers.SGD(gradient_accumulation_steps=2)
    with pytest.raises(ValueError, match="`weight_decay`.*None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="not recognized.*beta1"):
        optimizers.Nadam(beta1=0.9)


def test_loss_scale_factor_divides_gradients():
    w1, w2 = np.ones(3, "float32"), np.ones(3, "float32")
    optimizers.SGD(0.1, loss_scale_factor=4.0).apply([np.full(3, 4.0, "float32")], [w1])
    optimizers.SGD(0.1).apply([np.full(3, 1.0, "float32")], [w2])
    assert_allclose(w1, w2)


# ----------------------------------------------------------------------------- schedules

def test_schedules_follow_keras_formulas():
    steps = np.arange(0, 21)
    ed = schedules.ExponentialDecay(0.1, decay_steps=5, decay_rate=0.5)
    assert_allclose([ed(s) for s in steps], 0.1 * 0.5 ** (steps / 5), rtol=1e-6)
    eds = schedules.ExponentialDecay(0.1, 5, 0.5, staircase=True)
    assert_allclose([eds(s) for s in steps], 0.1 * 0.5 ** np.floor(steps / 5), rtol=1e-6)
    it = schedules.InverseTimeDecay(0.1, 5, 0.5)
    assert_allclose([it(s) for s in steps], 0.1 / (1 + 0.5 * steps / 5), rtol=1e-6)
    pc = schedules.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1])
    assert [float(pc(s)) for s in (0, 3, 4, 7, 8)] == [1.0, 1.0, 0.5, 0.5, pytest.approx(0.1)]
    cd = schedules.CosineDecay(0.1, decay_steps=10, alpha=0.1)
    expected = 0.1 * (0.9 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 10) / 10)) + 0.1)
    assert_allclose([cd(s) for s in steps], expected, rtol=1e-5)
    cw = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=0.2, warmup_steps=4)
    s = np.minimum(steps, 14)
    expected = np.where(s < 4, 0.2 * s / 4,
                        0.2 * 0.5 * (1 + np.cos(np.pi * (s - 4) / 10)))
    assert_allclose([cw(s) for s in steps], expected, rtol=1e-5, atol=1e-8)
    for sched in (ed, pc, cd, cw, it):
        again = schedules.deserialize(schedules.serialize(sched))
        assert again.get_config() == sched.get_config()


def test_optimizer_evaluates_a_schedule_at_its_iterations():
    sched = schedules.PiecewiseConstantDecay([1], [0.5, 0.25])
    opt = optimizers.SGD(learning_rate=sched)
    w = np.zeros(1, "float32")
    for _ in range(3):                        # steps 0, 1 use 0.5; step 2 uses 0.25
        opt.apply([np.ones(1, "float32")], [w])
    assert_allclose(w, [-1.25])
    assert opt.get_config()["learning_rate"]["class_name"] == "PiecewiseConstantDecay"
    assert optimizers.get(optimizers.serialize(opt)).learning_rate == 0.5   # iterations 0
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_schedule_bad_input():
    with pytest.raises(ValueError, match="`step`.*'a'"):
        schedules.ExponentialDecay(0.1, 5, 0.5)("a")
    with pytest.raises(ValueError, match="`decay_steps` must be > 0"):
        schedules.CosineDecay(0.1, 0)
    with pytest.raises(ValueError, match="`initial_learning_rate`"):
        schedules.InverseTimeDecay("0.1", 5, 0.5)
    with pytest.raises(ValueError, match="length of boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="`config`"):
        schedules.deserialize({"class_name": "os.system", "config": {}})
