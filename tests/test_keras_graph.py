"""Functional models, masks and graph training against real Keras 3 (issues 7 and 8).

Each case of ``graph_models.CASES`` is built twice by the same builder: once with
``K = keras`` by ``tools/make_keras_graph_fixtures.py`` (which recorded weights,
inputs, outputs and training results in ``tests/fixtures/<case>.npz``), and here
with ``K = fastrnn``. Weights are set layer by layer by name. TensorFlow is never
imported here.

Keras 3.15.1 behaviour the fixtures pin down (see the generator for how):

- ``Bidirectional(..., return_state=True)`` returns ``[merged, fwd_h, bwd_h]``, or
  ``[fwd_seq, bwd_seq, fwd_h, bwd_h]`` when ``merge_mode=None``.
- ``model.predict`` of a Sequential whose SimpleRNN has ``return_state=True`` returns a
  (tuple) pair ``(output, state)`` for every ``batch_size``.
- Masked timesteps are left out of per-timestep losses and metrics: a batch's loss is
  the mean over the *unmasked* timesteps of the whole batch (not the sum over all
  timesteps divided by their number, not a mean of per-sample means); ``accuracy`` and
  ``mae`` likewise count unmasked steps only. In ``fit``'s epoch values the loss is the
  mean of those batch losses weighted by each batch's *number of samples*, while a
  metric is accumulated over all unmasked timesteps of the epoch (weighted by each
  batch's number of unmasked steps).
- Merge layers combine masks with a logical OR (``Add`` of a padded and an unpadded
  step is unmasked); ``Concatenate`` on the last axis ORs too, an unmasked input
  counting as all True.
- Several outputs: the ``loss`` is ``sum(loss_weight * output_loss)``; each
  ``<output>_loss`` in the logs is the *unweighted* output loss; metrics are
  named ``<output>_<metric>``. ``train_on_batch`` / ``evaluate`` return the list
  ``[loss, <out>_loss..., metrics...]`` (order in ``spec["returns_list_keys"]``),
  whose order differs from ``return_dict=True``'s key order.
- ``fit``'s epoch ``loss`` and metrics are means over samples (a partial last batch
  counts less) but each ``<output>_loss`` is a plain mean over batches, so with a
  partial batch ``loss != sum(weight * <output>_loss)`` in the history.
"""

import re

import numpy as np
import pytest

import graph_models
from keras_spec import ATOL, FIXTURES, RTOL, load

CASES = sorted(graph_models.CASES)
TRAIN_CASES = [name for name in CASES if "train" in graph_models.CASES[name]]
SUMMARY_CASES = [name for name in CASES if graph_models.CASES[name].get("summary")]
TRAIN_TOL = 1e-5  # float32 training: the same rtol/atol as the Keras training fixtures


def _fixture(name):
    path = FIXTURES / f"{name}.npz"
    assert path.exists(), f"missing {path}: run tools/make_keras_graph_fixtures.py"
    return load(path)


def _numbered(arrays, prefix):
    out = []
    while f"{prefix}{len(out)}" in arrays:
        out.append(arrays[f"{prefix}{len(out)}"])
    return out


def _layer_weights(spec, arrays, prefix="w"):
    return {name: [arrays[f"{prefix}/{name}/{i}"] for i in range(n)]
            for name, n in spec["weight_layers"]}


def _built(name):
    """(spec, arrays, fastrnn model with Keras's weights set layer by layer)."""
    import fastrnn as K

    spec, arrays = _fixture(name)
    model = graph_models.CASES[name]["build"](K, spec["dtype"])
    for layer_name, weights in _layer_weights(spec, arrays).items():
        model.get_layer(layer_name).set_weights(weights)
    return spec, arrays, model


def _inputs(arrays):
    xs = _numbered(arrays, "x_")
    return xs[0] if len(xs) == 1 else xs


def _targets(arrays):
    ys = _numbered(arrays, "y_")
    return ys[0] if len(ys) == 1 else ys


def _as_list(result):
    if isinstance(result, (list, tuple)):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]


def _assert_outputs(actual, expected, dtype, what):
    assert len(actual) == len(expected), (
        f"{what}: Keras returns {len(expected)} outputs, got {len(actual)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a.shape == e.shape, f"{what}: output {i} shape {a.shape}, Keras {e.shape}"
        assert a.dtype == e.dtype, f"{what}: output {i} dtype {a.dtype}, Keras {e.dtype}"
        np.testing.assert_allclose(a, e, rtol=RTOL[dtype], atol=ATOL[dtype],
                                   err_msg=f"{what}: output {i}")


@pytest.mark.parametrize("name", CASES)
def test_weights_layout_matches_keras(name):
    """Per-layer weight shapes as Keras's; model.get_weights() is layer by layer in
    ``model.layers`` order (a shared layer's weights appear once)."""
    import fastrnn as K

    spec, arrays = _fixture(name)
    model = graph_models.CASES[name]["build"](K, spec["dtype"])
    expected = _layer_weights(spec, arrays)
    for layer_name, weights in expected.items():
        actual = model.get_layer(layer_name).get_weights()
        assert [w.shape for w in actual] == [w.shape for w in weights], layer_name
    for layer_name, weights in expected.items():
        model.get_layer(layer_name).set_weights(weights)
    flat = [w for weights in expected.values() for w in weights]
    actual = model.get_weights()
    assert len(actual) == len(flat)
    for a, e in zip(actual, flat):
        np.testing.assert_array_equal(a, e)
        assert a.dtype == np.dtype(spec["dtype"])


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_keras(name):
    spec, arrays, model = _built(name)
    expected = _numbered(arrays, "out_")
    batch_size = spec.get("predict_batch_size")
    if batch_size:
        # issue 7: several outputs come back as a list/tuple for any batch_size
        result = model.predict(_inputs(arrays), batch_size=batch_size, verbose=0)
        assert isinstance(result, (list, tuple)), type(result)
        _assert_outputs(_as_list(result), expected, spec["dtype"],
                        f"predict(batch_size={batch_size})")
    _assert_outputs(_as_list(model(_inputs(arrays))), expected, spec["dtype"], "model(x)")


@pytest.mark.parametrize("name", CASES)
def test_predict_matches_keras(name):
    spec, arrays, model = _built(name)
    expected = _numbered(arrays, "out_")
    result = model.predict(_inputs(arrays), verbose=0)
    if len(expected) > 1:
        assert isinstance(result, (list, tuple)), type(result)
    _assert_outputs(_as_list(result), expected, spec["dtype"], "predict")


@pytest.mark.parametrize("name", CASES)
def test_input_names_match_keras(name):
    """Named ``Input``s keep their names (Keras names unnamed ones ``keras_tensor*``)."""
    spec, _, model = _built(name)
    assert len(model.inputs) == len(spec["input_names"])
    for tensor, keras_name in zip(model.inputs, spec["input_names"]):
        if not keras_name.startswith("keras_tensor"):
            assert tensor.name == keras_name


@pytest.mark.parametrize("name", SUMMARY_CASES)
def test_summary_rows(name, capsys):
    """Every layer's row: ``name (Class)`` and its parameter count; the functional
    "Connected to" entries ``layer[node][tensor]`` as Keras 3 numbers them; the total."""
    spec, _, model = _built(name)
    model.summary()
    text = capsys.readouterr().out
    lines = text.splitlines()
    for layer_name, cls, params, connected in spec["summary_rows"]:
        rows = [line for line in lines if f"{layer_name} ({cls}" in line]
        assert rows, f"no row for {layer_name} ({cls}) in:\n{text}"
        assert any(re.search(rf"(?<=\s){params:,}(?=\s|$)", row) for row in rows), (
            f"{layer_name}: {params} params not on its row:\n{text}")
        for token in connected:
            assert token in text, f"{layer_name}: 'Connected to' lacks {token}:\n{text}"
    assert "Connected to" in text
    assert f"Total params: {spec['total_params']:,}" in text


def _compiled(name):
    import fastrnn as K

    spec, arrays, model = _built(name)
    compile_spec = dict(spec["train"]["compile"])
    opt = compile_spec.pop("optimizer")
    optimizer = getattr(K.optimizers, opt["class"])(**opt["config"])
    model.compile(optimizer=optimizer, **compile_spec)
    return spec, arrays, model


def _assert_after(spec, arrays, model):
    for layer_name, expected in _layer_weights(spec, arrays, prefix="after").items():
        actual = model.get_layer(layer_name).get_weights()
        assert len(actual) == len(expected)
        for i, (a, e) in enumerate(zip(actual, expected)):
            np.testing.assert_allclose(a, e, rtol=TRAIN_TOL, atol=TRAIN_TOL,
                                       err_msg=f"{layer_name} weight {i} after training")


@pytest.mark.parametrize("name", TRAIN_CASES)
def test_evaluate_matches_keras(name):
    spec, arrays, model = _compiled(name)
    result = model.evaluate(_inputs(arrays), _targets(arrays), batch_size=len(arrays["x_0"]),
                            verbose=0)
    np.testing.assert_allclose(np.atleast_1d(np.asarray(result, dtype=np.float64)),
                               arrays["eval_before"], rtol=TRAIN_TOL, atol=TRAIN_TOL,
                               err_msg=f"evaluate {spec['eval_list_keys']}")
    logs = model.evaluate(_inputs(arrays), _targets(arrays), batch_size=len(arrays["x_0"]),
                          verbose=0, return_dict=True)
    assert sorted(logs) == sorted(spec["eval_list_keys"])
    for key, value in zip(spec["eval_list_keys"], arrays["eval_before"]):
        np.testing.assert_allclose(logs[key], value, rtol=TRAIN_TOL, atol=TRAIN_TOL, err_msg=key)


@pytest.mark.parametrize("name", TRAIN_CASES)
def test_training_matches_keras(name):
    spec, arrays, model = _compiled(name)
    train = spec["train"]
    x, y = _inputs(arrays), _targets(arrays)
    if train["method"] == "fit":
        history = model.fit(x, y, verbose=0, **train["fit"]).history
        assert sorted(history) == spec["history_keys"]
        for key in spec["history_keys"]:
            np.testing.assert_allclose(np.asarray(history[key], dtype=np.float64),
                                       arrays[f"hist_{key}"], rtol=TRAIN_TOL, atol=TRAIN_TOL,
                                       err_msg=f"history[{key!r}]")
    else:
        for step, expected in enumerate(arrays["returns"]):
            returned = model.train_on_batch(x, y)
            assert len(returned) == len(spec["returns_list_keys"]), (
                f"Keras returns {spec['returns_list_keys']}, got {returned!r}")
            np.testing.assert_allclose(np.asarray(returned, dtype=np.float64), expected,
                                       rtol=TRAIN_TOL, atol=TRAIN_TOL,
                                       err_msg=f"step {step}: {spec['returns_list_keys']}")
    _assert_after(spec, arrays, model)


@pytest.mark.parametrize("name", [n for n in TRAIN_CASES
                                  if graph_models.CASES[n]["train"]["method"] != "fit"])
def test_train_on_batch_return_dict(name):
    spec, arrays, model = _compiled(name)
    logs = model.train_on_batch(_inputs(arrays), _targets(arrays), return_dict=True)
    assert sorted(logs) == sorted(spec["returns_dict_keys"])
    for key, value in zip(spec["returns_list_keys"], arrays["returns"][0]):
        np.testing.assert_allclose(logs[key], value, rtol=TRAIN_TOL, atol=TRAIN_TOL, err_msg=key)


@pytest.mark.parametrize("name", [n for n in CASES if any(
    k.startswith("out_mask_") for k in _fixture(n)[1])])
def test_output_masks_match_keras(name):
    """Keras 3's mask on each output (``output._keras_mask``) against ``compute_mask``."""
    spec, arrays, model = _built(name)
    masks = model.compute_mask(_inputs(arrays))
    masks = masks if isinstance(masks, list) else [masks]
    for i, mask in enumerate(masks):
        expected = arrays.get(f"out_mask_{i}")
        if expected is None:
            assert mask is None, f"output {i}: Keras has no mask, fastrnn has one"
        else:
            assert mask is not None, f"output {i}: Keras has a mask, fastrnn has none"
            np.testing.assert_array_equal(mask, expected, err_msg=f"output {i}")
