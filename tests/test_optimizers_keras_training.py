"""Every optimizer (and schedule, clipping, weight decay) trained for three
``train_on_batch`` steps of SimpleRNN(3) -> Dense(1) with mse, against Keras 3
(tests/fixtures/tool_opt_*.npz from tools/make_keras_toolbox_fixtures.py)."""
import numpy as np
import pytest

from keras_spec import build, fixture_paths, load, numbered

PATHS = fixture_paths("tool_opt_")
TOL = 1e-5


def _optimizer(opt_spec):
    import fastrnn.optimizers as optimizers

    config = dict(opt_spec.get("config", {}))
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        config["learning_rate"] = getattr(optimizers.schedules, lr["class"])(**lr["config"])
    if "decay" in config:
        with pytest.warns(UserWarning, match="`decay` is no longer supported"):
            return getattr(optimizers, opt_spec["class"])(**config)
    return getattr(optimizers, opt_spec["class"])(**config)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_optimizer_steps_match_keras(path):
    spec, arrays = load(path)
    model = build(spec, arrays["x"].shape)
    model.set_weights(numbered(arrays, "weights_"))
    model.compile(optimizer=_optimizer(spec["compile"]["optimizer"]),
                  loss=spec["compile"]["loss"])
    x, y = arrays["x"], arrays["y"]
    for step in range(spec["train"]["steps"]):
        returned = model.train_on_batch(x, y)
        np.testing.assert_allclose(np.atleast_1d(returned), arrays["returns"][step],
                                   rtol=TOL, atol=TOL, err_msg=f"loss of step {step}")
        expected = numbered(arrays, f"step{step}_")
        if expected:
            for i, (a, e) in enumerate(zip(model.get_weights(), expected)):
                np.testing.assert_allclose(a, e, rtol=TOL, atol=TOL,
                                           err_msg=f"weight {i} after step {step}")
    for i, (a, e) in enumerate(zip(model.get_weights(), numbered(arrays, "after_"))):
        np.testing.assert_allclose(a, e, rtol=TOL, atol=TOL, err_msg=f"weight {i} at the end")
