"""Finite-difference gradient checks shared by the training tests (protocol v2)."""
import numpy as np

from fastrnn.models.graph import run_graph
from fastrnn.training import Tape


def numerical_gradient(f, arr, eps=1e-5):
    """d f() / d arr by fourth-order central differences, perturbing arr in place."""
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        orig = arr[idx]
        vals = []
        for k in (2, 1, -1, -2):
            arr[idx] = orig + k * eps
            vals.append(f())
        arr[idx] = orig
        grad[idx] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * eps)
    return grad


def model_gradients(model, xs, d_outputs, training=False):
    """Analytic gradients of sum_k <out_k, d_outputs[k]> through the model's tape:
    returns (input gradients (list, one per input), weight gradients (list, model.weights
    order; zeros where a weight got none))."""
    xs = xs if isinstance(xs, list) else [xs]
    tape = Tape()
    outs, _, _ = run_graph(model._nodes, model.inputs, model.outputs, xs, training=training,
                           tape=tape)
    d = {}
    for t, g in zip(model.outputs, d_outputs):
        d[id(t)] = g if id(t) not in d else d[id(t)] + g
    grads, d_w = tape.backward(d)
    dense = [d_w.get(id(w), np.zeros_like(w)) for w in model.weights]
    return ([grads.get(id(t)) for t in model.inputs],
            [g.to_dense() if hasattr(g, "to_dense") else g for g in dense])


def check_model_gradients(model, x, rng, input_gradient=True):
    """Analytic gradients of sum(out * G) w.r.t. every weight (and x), against differences."""
    xs = x if isinstance(x, list) else [x]
    outs = model(x)
    outs = outs if isinstance(outs, list) else [outs]
    G = [rng.normal(size=o.shape) for o in outs]

    def objective():
        o = model(x)
        o = o if isinstance(o, list) else [o]
        return float(sum((a * g).sum() for a, g in zip(o, G)))

    d_in, grads = model_gradients(model, xs, G)
    assert len(grads) == len(model.weights)
    for w, g in zip(model.weights, grads):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, numerical_gradient(objective, w), rtol=1e-7, atol=1e-9)
    if input_gradient:
        for xi, di in zip(xs, d_in):
            np.testing.assert_allclose(di, numerical_gradient(objective, xi), rtol=1e-7,
                                       atol=1e-9)
    return d_in[0] if len(d_in) == 1 else d_in
