"""fastrnn.regularizers and fastrnn.constraints against Keras 3 values
(tests/fixtures/tool_mod_regularizers.npz), gradients by finite differences."""
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradcheck import numerical_gradient
from pure_modules import load

regularizers, constraints = load("regularizers", "constraints")
REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "tool_mod_regularizers.npz")
W = REF["w"]

REGS = {"l1": lambda: regularizers.get("l1"), "l2": lambda: regularizers.get("l2"),
        "l1l2": lambda: regularizers.L1L2(l1=0.03, l2=0.2),
        "ortho_rows": lambda: regularizers.OrthogonalRegularizer(0.1),
        "ortho_cols": lambda: regularizers.OrthogonalRegularizer(0.1, mode="columns")}
CONS = {"maxnorm": lambda: constraints.MaxNorm(1.5),
        "maxnorm1": lambda: constraints.MaxNorm(2.0, axis=1),
        "nonneg": lambda: constraints.NonNeg(), "unitnorm": lambda: constraints.UnitNorm(),
        "unitnorm01": lambda: constraints.UnitNorm(axis=[0, 1]),
        "minmax": lambda: constraints.MinMaxNorm(1.0, 2.0, rate=0.5),
        "minmax1": lambda: constraints.MinMaxNorm(axis=1)}


@pytest.mark.parametrize("key", sorted(REGS))
def test_regularizer_values_match_keras3(key):
    assert regularizers.get(REGS[key]()) is not None
    assert REGS[key]()(W) == pytest.approx(float(REF[f"reg_{key}"]), rel=2e-6)


@pytest.mark.parametrize("key", ["l1", "l2", "l1l2"])
def test_regularizer_gradients_by_finite_differences(key, rng):
    reg = REGS[key]()
    x = rng.normal(size=(3, 4))
    assert_allclose(reg.gradient(x), numerical_gradient(lambda: reg(x), x), rtol=1e-7,
                    atol=1e-10)
    assert reg.gradient(W).dtype == np.float32


@pytest.mark.parametrize("key", sorted(CONS))
def test_constraints_match_keras3(key):
    out = CONS[key]()(W)
    assert out.shape == W.shape and out.dtype == W.dtype
    assert_allclose(out, REF[f"con_{key}"], rtol=2e-6, atol=1e-7)


def test_names_configs_and_round_trips():
    assert regularizers.get("l1").get_config() == {"l1": 0.009999999776482582}   # float32
    assert regularizers.get("l2").get_config() == {"l2": 0.01}
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}    # Keras 2
    assert regularizers.get(None) is None
    assert regularizers.l1_l2 is regularizers.L1L2
    for reg in (regularizers.L1(0.5), regularizers.L2(0.25), regularizers.L1L2(0.1, 0.2)):
        again = regularizers.get(regularizers.serialize(reg))
        assert type(again) is type(reg) and again.get_config() == reg.get_config()
    assert constraints.get("max_norm").get_config() == {"max_value": 2, "axis": 0}
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert constraints.get("unit_norm").get_config() == {"axis": 0}
    assert constraints.get("min_max_norm").get_config() == {
        "min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    for con in (constraints.MaxNorm(3, axis=1), constraints.MinMaxNorm(0.5, 2.0, 0.3)):
        again = constraints.deserialize(constraints.serialize(con))
        assert type(again) is type(con) and again.get_config() == con.get_config()


def test_bad_input():
    with pytest.raises(ValueError, match="argument l1"):
        regularizers.L1(-0.1)
    with pytest.raises(ValueError, match="argument l2"):
        regularizers.L1L2(l2="a lot")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: l3"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="regularizer identifier"):
        regularizers.get({"class_name": "os.system", "config": {}})
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(np.zeros(3))
    with pytest.raises(ValueError, match="constraint identifier: nonneg"):
        constraints.get("nonneg")
    with pytest.raises(ValueError, match="`max_value`"):
        constraints.MaxNorm("big")
    with pytest.raises(ValueError, match="`axis`"):
        constraints.UnitNorm(axis=0.5)
    with pytest.raises(ValueError, match="`min_value`"):
        constraints.MinMaxNorm(2.0, 1.0)


@pytest.mark.parametrize("name, penalties", [
    # (regularizer, index of the start weight) in the order of Keras's model.losses:
    # SimpleRNN kernel, recurrent_kernel, bias, then Dense kernel, bias (as present)
    ("tool_reg_strings", [("l1", 0), ("l2", 1), ("l2", 3), ("l1", 4)]),
    ("tool_reg_l1l2_mixed", [(("L1L2", 0.02, 0.03), 0), (("L2", 0.1), 1), (("L1", 0.05), 3),
                             (("L1L2", 0.02, 0.03), 4)]),
    ("tool_reg_l1_all", [(("L1", 0.05), i) for i in range(5)]),
])
def test_weight_penalties_match_keras_model_losses(name, penalties):
    data = np.load(pathlib.Path(__file__).parent / "fixtures" / f"{name}.npz")
    values = []
    for reg, index in penalties:
        reg = regularizers.get(reg) if isinstance(reg, str) else \
            getattr(regularizers, reg[0])(*reg[1:])
        values.append(reg(data[f"weights_{index}"]))
    assert_allclose(values, data["reg_losses0"], rtol=2e-6)


def test_activity_regularization_divides_by_the_batch_like_keras3(rng):
    out = rng.normal(size=(4, 3))
    reg = regularizers.L1L2(l1=0.1, l2=0.2)
    value, grad = regularizers.activity_regularization(reg, out)
    assert value == pytest.approx(reg(out) / 4)
    assert_allclose(grad, numerical_gradient(
        lambda: regularizers.activity_regularization(reg, out)[0], out), rtol=1e-7,
        atol=1e-10)
    assert regularizers.activity_regularization("l2", np.zeros((0, 3)))[0] == 0.0
