"""Comparison hook for run_all.py (not part of any program).

Imported before a program runs. CMP_MODE=save (under Keras): on a model's first fit/predict/evaluate, its
initial weights are saved; CMP_MODE=load (under fastrnn): the n-th model used gets the n-th saved weights,
so both libraries start from the same numbers. In both modes fit runs with shuffle=False (batch order is the
only other source of difference), and every fit history, predict output and evaluate result is logged to
CMP_DIR/log_<mode>.jsonl for run_all.py to compare event by event.
"""
import json
import os

import numpy as np

MODE = os.environ.get("CMP_MODE")
if MODE in ("save", "load"):
    np.random.seed(12345)  # programs that draw unseeded NumPy data get the same data in both runs
DIR = os.environ.get("CMP_DIR", ".")
_count = [0]
_depth = [0]  # fit calls evaluate/predict internally (Keras): only top-level calls are logged


def _log(kind, value):
    with open(os.path.join(DIR, "log_%s.jsonl" % MODE), "a") as f:
        f.write(json.dumps({"kind": kind, "value": value}) + "\n")


def _summ(a):
    if isinstance(a, dict):
        return {k: _summ(v) for k, v in sorted(a.items())}
    if isinstance(a, (list, tuple)):
        return [_summ(v) for v in a]
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "sum": float(a.sum()), "head": a.ravel()[:4].tolist()}


def _first_use(model, x):
    if getattr(model, "_cmp_done", False):
        return
    model._cmp_done = True
    k = _count[0]
    _count[0] += 1
    path = os.path.join(DIR, "weights_%d.npz" % k)
    if not model.built if hasattr(model, "built") else False:
        try:
            model.build((None,) + tuple(np.shape(x)[1:]))
        except Exception:
            pass
    if MODE == "save":
        np.savez(path, *model.get_weights())
    elif MODE == "load" and os.path.exists(path):
        data = np.load(path)
        model.set_weights([data["arr_%d" % i] for i in range(len(data.files))])
    if MODE in ("save", "load") and isinstance(x, np.ndarray):
        _depth[0] += 1
        try:
            _log("initial_forward", _summ(model.predict(x[:64], verbose=0)))
        except Exception as e:  # the program's own call will report the problem
            _log("initial_forward", "failed: %s" % e)
        finally:
            _depth[0] -= 1


def _guard(fn):
    def inner(self, *a, **kw):
        _depth[0] += 1
        try:
            return fn(self, *a, **kw)
        finally:
            _depth[0] -= 1
    return inner


def install(model_cls):
    fit, predict, evaluate = (_guard(model_cls.fit), _guard(model_cls.predict),
                              _guard(model_cls.evaluate))

    def fit_(self, x=None, y=None, *a, **kw):
        _first_use(self, x)
        kw["shuffle"] = False
        top = _depth[0] == 0
        h = fit(self, x, y, *a, **kw)
        if top:
            _log("fit", {k: [float(v) for v in vs] for k, vs in sorted(h.history.items())})
        return h

    def predict_(self, x, *a, **kw):
        _first_use(self, x)
        top = _depth[0] == 0
        out = predict(self, x, *a, **kw)
        if top:
            _log("predict", _summ(out))
        return out

    def evaluate_(self, x=None, y=None, *a, **kw):
        _first_use(self, x)
        top = _depth[0] == 0
        out = evaluate(self, x, y, *a, **kw)
        if top:
            _log("evaluate", _summ(out))
        return out

    model_cls.fit, model_cls.predict, model_cls.evaluate = fit_, predict_, evaluate_


if MODE == "save":
    import keras
    install(keras.Model)
elif MODE == "load":
    import fastrnn.models
    install(fastrnn.models.Model)
