"""The JAX contender (optional: ``pip install jax jaxlib``): ``jax.jit`` of a ``lax.scan``
recurrence (SimpleRNN, or Keras 3's LSTM / GRU(reset_after=True) cell on Keras's weight
layout: one input projection for all gates over all steps, one recurrent product per step)
for inference, ``jax.grad`` of it for training; for the model workloads the same
model as models.py with a jitted RMSprop step (Keras's formula), run once per batch from a
Python loop, as a JAX user writes a training loop without extra libraries.

Threads: XLA's CPU thread pool is sized when JAX first starts; with threads=1 this module
sets ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` then,
if JAX has not been imported yet, and otherwise JAX keeps the pool it has (all CPUs).
"""
import os
import sys

from .workloads import MODEL_WORKLOADS, OPTIMIZER, WORKLOADS, Skip, cell, is_model

__all__ = ["jax_factory"]


def _import(dtype, threads):
    if "jax" not in sys.modules and threads == 1 and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
    try:
        import jax
    except ImportError:
        raise Skip("jax is not importable (pip install jax jaxlib)") from None
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    return jax


def _scan_rnn(jax, x, W, U, b, reverse=False):
    """h_t = tanh(x_t W + b + h_{t-1} U), every step's h (B, T, H); reverse walks time
    backwards and keeps outputs aligned with inputs, as Keras's Bidirectional returns them."""
    jnp = jax.numpy
    P = jnp.swapaxes(x @ W + b, 0, 1)                                       # (T, B, H)

    def step(h, p):
        h = jnp.tanh(p + h @ U)
        return h, h
    h0 = jnp.zeros((x.shape[0], U.shape[0]), x.dtype)
    last, ys = jax.lax.scan(step, h0, P, reverse=reverse)
    return jnp.swapaxes(ys, 0, 1), last


def _scan_lstm(jax, x, W, U, b):
    """Keras's LSTMCell (gates i, f, c, o): c' = f c + i tanh(.), h' = o tanh(c')."""
    jnp = jax.numpy
    sig = jax.nn.sigmoid
    P = jnp.swapaxes(x @ W + b, 0, 1)                                       # (T, B, 4H)

    def step(carry, p):
        h, c = carry
        i, f, g, o = jnp.split(p + h @ U, 4, axis=-1)
        c = sig(f) * c + sig(i) * jnp.tanh(g)
        h = sig(o) * jnp.tanh(c)
        return (h, c), h
    z = jnp.zeros((x.shape[0], U.shape[0]), x.dtype)
    (last, _), ys = jax.lax.scan(step, (z, z), P)
    return jnp.swapaxes(ys, 0, 1), last


def _scan_gru(jax, x, W, U, b):
    """Keras's GRUCell with reset_after=True (gates z, r, h; b = [input, recurrent] bias):
    hh = tanh(x W_h + b_h + r (h U_h + rb_h)), h' = z h + (1 - z) hh."""
    jnp = jax.numpy
    sig = jax.nn.sigmoid
    P = jnp.swapaxes(x @ W + b[0], 0, 1)                                    # (T, B, 3H)

    def step(h, p):
        xz, xr, xh = jnp.split(p, 3, axis=-1)
        rz, rr, rh = jnp.split(h @ U + b[1], 3, axis=-1)
        z, r = sig(xz + rz), sig(xr + rr)
        h = z * h + (1 - z) * jnp.tanh(xh + r * rh)
        return h, h
    h0 = jnp.zeros((x.shape[0], U.shape[0]), x.dtype)
    last, ys = jax.lax.scan(step, h0, P)
    return jnp.swapaxes(ys, 0, 1), last


def _scan(jax, kind, x, W, U, b):
    """(sequence (B, T, H), last h (B, H)) of one forward layer of cell `kind`."""
    return {"simple_rnn": _scan_rnn, "lstm": _scan_lstm, "gru": _scan_gru}[kind](
        jax, x, W, U, b)


def jax_factory(name, x, weights, mode, dtype, threads):
    jax = _import(dtype, threads)
    if is_model(name):
        return _jax_model(jax, name, x, weights, mode, dtype)
    import numpy as np
    jnp = jax.numpy
    kind = WORKLOADS[name][4]

    def forward(inp, params):
        if kind != "deep-bidir":
            return _scan(jax, cell(name), inp, *params[0])[0]
        h = inp
        for f, bw in ((params[0], params[1]), (params[2], params[3])):
            h = jnp.concatenate([_scan_rnn(jax, h, *f)[0],
                                 _scan_rnn(jax, h, *bw, reverse=True)[0]], axis=-1)
        return h

    xj = jnp.asarray(x)
    params = [tuple(jnp.asarray(w) for w in triple) for triple in weights]
    if mode == "inference":
        fwd = jax.jit(forward)
        return (lambda: fwd(xj, params).block_until_ready(),
                lambda out: [np.asarray(out)])
    grad = jax.jit(jax.grad(lambda inp, p: jnp.sum(forward(inp, p)), argnums=(0, 1)))

    def fn():
        return jax.block_until_ready(grad(xj, params))

    def outputs(g):
        dx, dp = g
        return [np.asarray(dx)] + [np.asarray(w) for triple in dp for w in triple]
    return fn, outputs


def _jax_model(jax, name, data, weights, mode, dtype):
    import numpy as np
    jnp = jax.numpy
    B = WORKLOADS[name][0]
    vocab = MODEL_WORKLOADS[name]["vocab"]
    x, y = data
    n = x.shape[0]

    def logits(params, inp):
        if vocab:
            emb, W, U, b, Wd, bd = params
            inp = emb[inp]
        else:
            W, U, b, Wd, bd = params
        return _scan(jax, cell(name), inp, W, U, b)[1] @ Wd + bd

    def loss_fn(params, inp, target):  # binary crossentropy from the logits (Keras's rule)
        z = logits(params, inp)
        return jnp.mean(jnp.maximum(z, 0) - z * target + jnp.log1p(jnp.exp(-jnp.abs(z))))

    params = [jnp.asarray(w) for w in weights]
    if mode == "inference":
        predict = jax.jit(lambda p, inp: jax.nn.sigmoid(logits(p, inp)))
        if name == "seed-step":
            return lambda: np.asarray(predict(params, x)), lambda out: [out]
        return (lambda: np.concatenate([np.asarray(predict(params, x[s:s + B]))
                                        for s in range(0, n, B)]),
                lambda out: [out])
    value_and_grad = jax.jit(jax.value_and_grad(loss_fn))
    loss0, g0 = value_and_grad(params, x[:B], y[:B])
    first = [np.asarray(loss0)] + [np.asarray(g) for g in g0]
    lr, rho, eps = OPTIMIZER["learning_rate"], OPTIMIZER["rho"], OPTIMIZER["epsilon"]

    @jax.jit
    def train_step(params, velocity, inp, target):
        loss, grads = jax.value_and_grad(loss_fn)(params, inp, target)
        velocity = [rho * v + (1 - rho) * g * g for v, g in zip(velocity, grads)]
        params = [p - lr * g / jnp.sqrt(v + eps) for p, g, v in zip(params, grads, velocity)]
        return params, velocity, loss

    eval_loss = jax.jit(loss_fn)
    state = {"p": params, "v": [jnp.zeros_like(p) for p in params]}

    def step(inp, target):
        state["p"], state["v"], loss = train_step(state["p"], state["v"], inp, target)
        return loss

    if name == "seed-step":
        return lambda: float(step(x, y)), lambda out: [np.asarray(out)] + first
    from .models import split
    n_train = split(name, n)

    def fit_epoch():
        total = 0.0
        for s in range(0, n_train, B):
            e = min(s + B, n_train)
            total = total + step(x[s:e], y[s:e]) * (e - s)
        val = sum(eval_loss(state["p"], x[s:s + B], y[s:s + B]) * len(x[s:s + B])
                  for s in range(n_train, n, B))
        return float(total) / n_train, float(val) / max(1, n - n_train)
    return fit_epoch, lambda out: [np.asarray(out[0]), np.asarray(out[1])] + first
