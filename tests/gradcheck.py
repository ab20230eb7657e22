"""Finite-difference gradient checks shared by the training tests."""
import numpy as np


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


def check_model_gradients(model, x, rng, input_gradient=True):
    """Analytic gradients of sum(out * G) w.r.t. every weight (and x), against differences."""
    out = model(x)
    G = rng.normal(size=out.shape)

    def objective():
        return float((model(x) * G).sum())

    y = x
    for layer in model.layers:
        y = layer.forward_train(y, training=False)
    d = G
    for layer in reversed(model.layers):
        d = layer.backward(d)
    grads = [g for layer in model.layers for g in layer._grads]
    assert len(grads) == len(model.weights)
    for w, g in zip(model.weights, grads):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, numerical_gradient(objective, w), rtol=1e-7, atol=1e-9)
    if input_gradient:
        np.testing.assert_allclose(d, numerical_gradient(objective, x), rtol=1e-7, atol=1e-9)
    return d
