"""Optimizer steps on float64 variables against Keras 3 (fixture ``tool_f64_opt.npz`` from
tools/make_keras_f64_opt_fixtures.py): Python-float hyperparameters float32-rounded where Keras
``ops.cast``s them, the learning rate in the floatx of the optimizer's creation."""
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from keras_spec import FIXTURES

import fastrnn
from fastrnn import optimizers

with np.load(FIXTURES / "tool_f64_opt.npz") as _npz:
    F = {k: _npz[k] for k in _npz.files}
SPEC = json.loads(str(F["spec"]))


@pytest.fixture
def floatx():
    yield fastrnn.config.set_floatx
    fastrnn.config.set_floatx("float32")


@pytest.mark.parametrize("which", ["64", "32"])
@pytest.mark.parametrize("name", sorted(SPEC))
def test_float64_steps_match_keras(name, which, floatx):
    cls, kwargs = SPEC[name]
    floatx("float" + which)
    opt = getattr(optimizers, cls)(**kwargs)
    floatx("float32")
    w = F["w0"].copy()
    for s in range(3):
        opt.apply_gradients([(F[f"g{s}"].copy(), w)])
    assert_allclose(w, F[f"{name}_floatx{which}"], rtol=1e-14, atol=1e-15)
