"""``run_layer_test``: what every layer's tests check, in one place (as Keras's
``run_layer_test``): output shape against ``compute_output_shape`` (eager and symbolic),
weight count, config round trip (same config, same outputs with the same weights),
protocol v2 outputs equal to the eager call, and gradients of inputs, initial states and
weights against fourth-order finite differences in float64."""
import numpy as np

import fastrnn
from fastrnn.layers import deserialize, serialize
from gradcheck import numerical_gradient


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def run_layer_test(make_layer, inputs, rng, initial_state=None, expected_output_shape=None,
                   expected_num_weights=None, check_gradients=True, training=False):
    """Run the standard checks on ``make_layer()`` applied to ``inputs``.

    Args:
        make_layer: a function returning a fresh float64 layer.
        inputs: an array, or a list of arrays for a multi-input layer.
        initial_state: optional list of arrays (recurrent layers).
        expected_output_shape: shape (or list of shapes) the outputs must have.
        expected_num_weights: len(layer.weights) once built.
        check_gradients: compare backward with finite differences (float inputs only
            get an input gradient).
    """
    layer = make_layer()
    kwargs = {} if initial_state is None else {"initial_state": initial_state}
    out = layer(inputs, **kwargs)
    outs = _as_list(out)
    # shapes: eager, compute_output_shape, symbolic
    in_shape = [(None,) + x.shape[1:] for x in _as_list(inputs)]
    in_shape = in_shape if isinstance(inputs, list) else in_shape[0]
    expected = layer.compute_output_shape(in_shape)
    for o, e in zip(outs, _as_list(expected) if isinstance(expected, list) else [expected]):
        assert o.shape[1:] == tuple(e)[1:], (o.shape, e)
    if expected_output_shape is not None:
        exp = expected_output_shape if isinstance(expected_output_shape, list) else \
            [expected_output_shape]
        assert [o.shape for o in outs] == [tuple(e) for e in exp]
    if expected_num_weights is not None:
        assert len(layer.weights) == expected_num_weights
    symbolic_in = [fastrnn.Input(batch_shape=(None,) + x.shape[1:],
                                 dtype=x.dtype.name if x.dtype.kind in "iu" else "float64")
                   for x in _as_list(inputs)]
    sym_state = None if initial_state is None else [
        fastrnn.Input(batch_shape=(None,) + s.shape[1:], dtype="float64")
        for s in initial_state]
    fresh = make_layer()
    sym_kwargs = {} if sym_state is None else {"initial_state": sym_state}
    sym_out = fresh(symbolic_in if isinstance(inputs, list) else symbolic_in[0], **sym_kwargs)
    for o, s in zip(outs, _as_list(sym_out)):
        assert s.shape[1:] == o.shape[1:], (s.shape, o.shape)
    # config round trip, by value
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    clone = deserialize(serialize(layer))  # through Keras's serialized form (files)
    assert type(clone) is type(layer)
    clone(inputs, **kwargs)
    clone.set_weights(layer.get_weights())
    for a, b in zip(outs, _as_list(clone(inputs, **kwargs))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    # protocol v2 agrees with the eager call
    f_out, ctx = layer.forward(inputs, training=training, **kwargs)
    for a, b in zip(outs, _as_list(f_out)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    if not check_gradients:
        return layer
    G = [rng.normal(size=o.shape) for o in outs]

    def objective():
        o = _as_list(layer(inputs, **kwargs))
        return float(sum((a * g).sum() for a, g in zip(o, G)))

    d_outputs = G if isinstance(f_out, list) else G[0]
    d_inputs, d_weights = layer.backward(ctx, d_outputs)
    assert len(d_weights) in (0, len(layer.weights))
    for w, g in zip(layer.weights, d_weights):
        g = g.to_dense() if hasattr(g, "to_dense") else g  # an Embedding's row-sparse one
        np.testing.assert_allclose(g, numerical_gradient(objective, w), rtol=1e-7, atol=1e-9)
    arrays = _as_list(inputs) + list(initial_state or [])
    assert len(d_inputs) == len(arrays)
    for x, d in zip(arrays, d_inputs):
        if x.dtype.kind == "f":
            np.testing.assert_allclose(d, numerical_gradient(objective, x), rtol=1e-7,
                                       atol=1e-9)
        else:
            assert d is None
    return layer
