"""Training parity with Keras 3: losses, metrics and updated weights.

The fixtures (``tests/fixtures/train_*.npz``) come from ``tools/make_keras_fixtures.py``;
this file never imports TensorFlow or Keras. Keras 3 behaviour they record:

- ``train_on_batch`` resets the metrics, runs one step and returns the loss computed
  on the weights *before* the update: a float without metrics, else
  ``[loss, metric, ...]`` in compile order;
- ``fit``'s epoch ``loss`` and metrics are means over samples (each batch weighted
  by its size, so a partial last batch counts less); ``validation_split`` holds out
  the *last* fraction of the arrays (``floor(n * (1 - split))`` samples train), and
  ``val_*`` is evaluated after each epoch with that epoch's final weights;
- Adam: ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``;
  RMSprop: ``w -= lr * g / sqrt(v + eps)``; ``clipnorm`` clips each variable's
  gradient to that norm separately.
"""

import numpy as np
import pytest

from keras_spec import build, build_optimizer, fixture_paths, load, numbered

PATHS = fixture_paths("train_")

# float32 throughout (rtol = atol); at the time of writing every case agrees to 1e-6.
TOL = {"train_on_batch": 1e-5, "fit": 1e-5}


def _compiled(path):
    spec, arrays = load(path)
    model = build(spec, arrays["x"].shape)
    model.set_weights(numbered(arrays, "weights_"))
    compile_spec = spec["compile"]
    model.compile(optimizer=build_optimizer(compile_spec["optimizer"]),
                  loss=compile_spec["loss"], metrics=compile_spec["metrics"] or None)
    return spec, arrays, model


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_training_matches_keras(path):
    spec, arrays, model = _compiled(path)
    train = spec["train"]
    tol = TOL[train["method"]]
    x, y = arrays["x"], arrays["y"]

    if train["method"] == "train_on_batch":
        expected = arrays["returns"]
        for step in range(train["steps"]):
            returned = model.train_on_batch(x, y)
            if len(spec["returns"]) == 1:
                assert np.ndim(returned) == 0, (
                    f"Keras returns a scalar loss without metrics, got {returned!r}")
            else:
                assert len(returned) == len(spec["returns"]), (
                    f"Keras returns {spec['returns']}, got {returned!r}")
            np.testing.assert_allclose(
                np.atleast_1d(np.asarray(returned, dtype=np.float64)), expected[step],
                rtol=tol, atol=tol, err_msg=f"step {step}, {spec['returns']}")
    else:
        kwargs = {key: train[key] for key in ("batch_size", "epochs", "shuffle")}
        if "validation_split" in train:
            kwargs["validation_split"] = train["validation_split"]
        history = model.fit(x, y, verbose=0, **kwargs).history
        assert sorted(history) == spec["history_keys"]
        for key in spec["history_keys"]:
            np.testing.assert_allclose(np.asarray(history[key], dtype=np.float64),
                                       arrays[f"hist_{key}"], rtol=tol, atol=tol,
                                       err_msg=f"history[{key!r}]")

    after = numbered(arrays, "after_")
    actual = model.get_weights()
    assert len(actual) == len(after)
    for i, (a, e) in enumerate(zip(actual, after)):
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol, err_msg=f"weight {i} after training")
