"""Comparison hook for run_all.py (imported before a program runs; not part of any program).

CMP_MODE=save (under Keras 3): when a model is first used (fit, predict, evaluate, train_on_batch,
test_on_batch, predict_on_batch), the weights of each of its layers not seen before are saved,
layer by layer in ``model.layers`` order. CMP_MODE=load (under fastrnn): the same layers get those
weights, so both libraries start from the same numbers (layers shared by a later model, e.g. the
inference models of an encoder-decoder, keep their trained weights). Every call's full result is
logged to CMP_DIR/events_<mode>.npz (event i: ``<i>/<kind>/<name>`` arrays), and after every
training call (fit, train_on_batch) the model's weights too (kind suffixed ``~random`` when the
model has dropout, so its training draws random masks); ``fit`` runs with shuffle=False.
"""
import atexit
import json
import os
import re

import numpy as np

MODE = os.environ.get("CMP_MODE")
DIR = os.environ.get("CMP_DIR", ".")
if MODE in ("save", "load"):
    np.random.seed(12345)  # programs drawing unseeded NumPy data get the same data in both runs
_events = []
_layer_count = [0]
_depth = [0]  # fit calls evaluate internally in some versions: only top-level calls are logged


def _arrays(value, prefix="out"):
    """Flatten a result (array, list, dict, scalar) into {name: float64 array}."""
    out = {}
    if isinstance(value, dict):
        for k in sorted(value):
            out.update(_arrays(value[k], "%s.%s" % (prefix, k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out.update(_arrays(v, "%s.%d" % (prefix, i)))
    else:
        out[prefix] = np.asarray(value, dtype=np.float64)
    return out


_RANDOM = re.compile(r'"(?:recurrent_)?dropout": (?:0\.0*[1-9]|[1-9])|"rate": (?:0\.0*[1-9])')


def _random_training(model):
    """True when training the model draws dropout masks (random in both libraries)."""
    for layer in model.layers:
        try:
            text = json.dumps(layer.get_config(), default=str)
        except Exception:
            continue
        if _RANDOM.search(text) and ("dropout" in text or type(layer).__name__ == "Dropout"):
            return True
    return False


def _log(kind, value, model=None):
    event = _arrays(value)
    if model is not None:
        event.update(_arrays(model.get_weights(), "weights"))
        if MODE == "save" and _random_training(model):  # keras decides; fastrnn follows
            kind += "~random"
    _events.append((kind, event))


@atexit.register
def _flush():
    if MODE not in ("save", "load"):
        return
    flat = {}
    for i, (kind, event) in enumerate(_events):
        for name, arr in event.items():
            flat["%03d/%s/%s" % (i, kind, name)] = arr
    np.savez(os.path.join(DIR, "events_%s.npz" % MODE), **flat)


def _build(model, x):
    """Build a model whose layers get their shapes on first use: predict 2 rows (not logged)."""
    if all(getattr(layer, "built", True) for layer in model.layers) or x is None:
        return
    head = [a[:2] for a in x] if isinstance(x, (list, tuple)) else x[:2]
    _depth[0] += 1
    try:
        model.predict(head, verbose=0)
    finally:
        _depth[0] -= 1


def _seed_weights(model, x):
    """Give each not-yet-seen weighted layer Keras's initial weights (save or load)."""
    if getattr(model, "_cmp_seeded", False):
        return
    model._cmp_seeded = True
    _build(model, x)
    for layer in model.layers:
        if getattr(layer, "_cmp_seeded", False) or not layer.get_weights():
            continue
        layer._cmp_seeded = True
        path = os.path.join(DIR, "layer_%03d.npz" % _layer_count[0])
        _layer_count[0] += 1
        if MODE == "save":
            np.savez(path, *layer.get_weights())
        elif MODE == "load" and os.path.exists(path):
            data = np.load(path)
            layer.set_weights([data["arr_%d" % i] for i in range(len(data.files))])


def _wrap(cls, name, log_weights):
    fn = getattr(cls, name)

    def inner(self, *a, **kw):
        if MODE not in ("save", "load"):
            return fn(self, *a, **kw)
        top = _depth[0] == 0
        if top:
            _seed_weights(self, a[0] if a else kw.get("x"))
            if name == "fit":
                kw["shuffle"] = False
        _depth[0] += 1
        try:
            out = fn(self, *a, **kw)
        finally:
            _depth[0] -= 1
        if top:
            value = out.history if name == "fit" else out
            _log(name, value, self if log_weights else None)
        return out

    setattr(cls, name, inner)


def install(model_cls):
    for name in ("fit", "train_on_batch"):
        _wrap(model_cls, name, True)
    for name in ("predict", "evaluate", "test_on_batch", "predict_on_batch"):
        _wrap(model_cls, name, False)


if MODE == "save":
    import keras
    install(keras.Model)
elif MODE == "load":
    import fastrnn.models
    install(fastrnn.models.Model)
