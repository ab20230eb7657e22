"""The Keras 3 contender, in this interpreter or, with ``--keras-python PATH``, in another
one (a venv with Keras 3 and TensorFlow): this file is then executed by path there as a
worker and needs only NumPy and Keras, never the fastrnn package.

Layer workloads: ``keras.layers.SimpleRNN`` (and ``Bidirectional``), ``LSTM`` or ``GRU``
(Keras 3's default reset_after=True) as the workload's cell; inference through a
``tf.function``, training as the input and weight gradients of ``sum(outputs)`` under
``tf.GradientTape`` in a ``tf.function``. Model workloads: the same Sequential model
compiled with ``keras.optimizers.RMSprop`` and ``"binary_crossentropy"``, run through
``fit`` (one epoch, ``validation_split``, ``shuffle=False``), ``train_on_batch``,
``predict`` and ``predict_on_batch``, as a Keras user runs it.
"""
import json
import os
import platform
import sys

if __package__:
    from .workloads import (COOLDOWN, MODEL_WORKLOADS, OPTIMIZER, WORKLOADS, Skip, _flat,
                            _time_fn, cell, is_model)

__all__ = ["keras_factory", "RemoteKeras", "Remote"]
_PROTO = "@@FASTRNN-BENCH "


def keras_factory(name, x, weights, mode, dtype, threads):
    """(fn, outputs) for Keras in this interpreter; Skip when Keras is not importable."""
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
    except ImportError:
        raise Skip("keras is not importable") from None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised: keep what it has
            pass
    if is_model(name):
        return _keras_model(name, x, weights, mode, dtype, threads)
    return _keras_layer(name, x, weights, mode, dtype, threads)


def _rnn_class(keras, name):
    return {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
            "gru": keras.layers.GRU}[cell(name)]


def _keras_layer(name, x, weights, mode, dtype, threads):
    import keras
    import numpy as np
    B, T, D, H, kind = WORKLOADS[name]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
    elif mode == "training":
        raise Skip(f"Keras training is timed with tf.GradientTape; backend is {backend}")
    rnn = lambda: _rnn_class(keras, name)(H, return_sequences=True, dtype=dtype)  # noqa: E731
    if kind == "deep-bidir":
        model = keras.Sequential([keras.Input((T, D), dtype=dtype),
                                  keras.layers.Bidirectional(rnn()),
                                  keras.layers.Bidirectional(rnn())])
    else:
        model = keras.Sequential([keras.Input((T, D), dtype=dtype), rnn()])
    model.set_weights(_flat(weights))
    if backend != "tensorflow":
        return lambda: model(x), lambda out: [keras.ops.convert_to_numpy(out)]
    xt = tf.constant(x)
    if mode == "inference":
        call = tf.function(lambda inp: model(inp, training=False))
        return lambda: call(xt), lambda out: [out.numpy()]
    variables = model.trainable_weights

    @tf.function
    def step(inp):
        with tf.GradientTape() as tape:
            tape.watch(inp)
            loss = tf.reduce_sum(model(inp, training=True))
        return tape.gradient(loss, [inp] + list(variables))

    def outputs(grads):
        return [np.asarray(g) for g in grads]
    return lambda: step(xt), outputs


def _keras_model(name, data, weights, mode, dtype, threads):
    import keras
    import numpy as np
    B, T, D, H, _ = WORKLOADS[name]
    spec = MODEL_WORKLOADS[name]
    x, y = data
    if spec["vocab"]:
        layers = [keras.Input((T,), dtype="int32"),
                  keras.layers.Embedding(spec["vocab"], D, dtype=dtype)]
    else:
        layers = [keras.Input((T, D), dtype=dtype)]
    model = keras.Sequential(layers + [_rnn_class(keras, name)(H, dtype=dtype),
                                       keras.layers.Dense(1, "sigmoid", dtype=dtype)])
    model.compile(optimizer=keras.optimizers.RMSprop(**OPTIMIZER),
                  loss="binary_crossentropy")
    model.set_weights(weights)
    if mode == "inference":
        if name == "seed-step":
            return lambda: model.predict_on_batch(x), lambda out: [np.asarray(out)]
        return (lambda: model.predict(x, batch_size=B, verbose=0),
                lambda out: [np.asarray(out)])
    if keras.backend.backend() != "tensorflow":
        raise Skip("Keras model gradients are taken with tf.GradientTape; backend is "
                   f"{keras.backend.backend()}")
    import tensorflow as tf
    loss_fn = keras.losses.BinaryCrossentropy()
    with tf.GradientTape() as tape:
        loss0 = loss_fn(y[:B], model(x[:B], training=True))
    grads = tape.gradient(loss0, model.trainable_weights)
    first = [np.asarray(loss0)] + [np.asarray(tf.convert_to_tensor(g)) for g in grads]
    if name == "seed-step":
        return (lambda: model.train_on_batch(x, y),
                lambda out: [np.asarray(out, dtype)] + first)

    def fn():
        return model.fit(x, y, batch_size=B, epochs=1, shuffle=False, verbose=0,
                         validation_split=spec["validation_split"]).history

    def outputs(hist):
        return [np.asarray(hist["loss"][-1]), np.asarray(hist["val_loss"][-1])] + first
    return fn, outputs


# ---------------------------------------------------------------------------- Keras elsewhere
class RemoteKeras:
    """The Keras contender run in another interpreter (--keras-python), which needs only
    numpy and keras there: this file is executed by path, without the fastrnn package.
    Line protocol on stdin/stdout; arrays go through .npz files in a temporary folder."""

    def __init__(self, python, threads):
        import subprocess
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="fastrnn-bench-")
        self.proc = subprocess.Popen(
            [python, os.path.abspath(__file__), "--keras-worker", "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=""))
        self.n = 0
        self.python = python
        self.version = None

    def _ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith(_PROTO):
                reply = json.loads(line[len(_PROTO):])
                if "skip" in reply:
                    raise Skip(reply["skip"])
                if "error" in reply:
                    raise RuntimeError(f"keras worker: {reply['error']}")
                return reply
        raise RuntimeError("keras worker exited (see its stderr above)")

    def factory(self, name, x, weights, mode, dtype, threads):
        import numpy as np
        self.n += 1
        job = os.path.join(self.dir, f"job{self.n}.npz")
        flat = list(weights) if is_model(name) else _flat(weights)
        arrays = {"x": x[0], "y": x[1]} if is_model(name) else {"x": x}
        arrays.update({f"w{i}": w for i, w in enumerate(flat)})
        np.savez(job, **arrays)
        # the worker runs the caller's definition of the workload (its table may differ)
        spec = {"workload": list(WORKLOADS[name]), "model": MODEL_WORKLOADS.get(name),
                "cell": cell(name)}
        reply = self._ask({"cmd": "setup", "job": job, "name": name, "mode": mode,
                           "dtype": dtype, "threads": threads, "spec": spec,
                           "out": os.path.join(self.dir, f"out{self.n}.npz")})
        self.version = reply.get("version")
        with np.load(reply["out"]) as f:
            outs = [f[f"arr_{i}"] for i in range(len(f.files))]
        # the timing is asked for only after the caller has checked the outputs
        return Remote(self), lambda _: outs

    def close(self):
        import shutil
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Remote:
    """A remote contender's timed function: ``time`` asks the worker to time it."""

    def __init__(self, owner):
        self.owner = owner

    def __call__(self):  # pragma: no cover - only for symmetry; timing is remote
        raise RuntimeError("remote contender: use Remote.time")

    def time(self, min_time, min_reps, warmup=2):
        return self.owner._ask({"cmd": "time", "min_time": min_time, "min_reps": min_reps,
                                "warmup": warmup})


def _define(name, spec):
    """Make the worker's workload table agree with the caller's for `name`."""
    if not spec:
        return
    from . import workloads
    workloads.WORKLOADS[name] = tuple(spec["workload"])
    if spec["model"] is not None:
        workloads.MODEL_WORKLOADS[name] = spec["model"]
    if spec["cell"] == "simple_rnn":
        workloads.CELLS.pop(name, None)
    else:
        workloads.CELLS[name] = spec["cell"]


def worker(threads):
    """The worker's loop: a setup request builds the contender, runs it once and writes its
    outputs; a time request times it."""
    import numpy as np
    fn = None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "setup":
                name = req["name"]
                _define(name, req.get("spec"))
                with np.load(req["job"]) as f:
                    flat = [f[f"w{i}"] for i in range(len([k for k in f.files
                                                           if k.startswith("w")]))]
                    x = (f["x"], f["y"]) if is_model(name) else f["x"]
                weights = flat if is_model(name) else [tuple(flat[i:i + 3])
                                                       for i in range(0, len(flat), 3)]
                fn, conv = keras_factory(name, x, weights, req["mode"], req["dtype"], threads)
                outs = conv(fn())
                np.savez(req["out"], *outs)
                import keras
                reply = {"out": req["out"], "version": f"keras {keras.__version__} "
                         f"({keras.backend.backend()}) under Python {platform.python_version()}"}
            else:
                times = _time_fn(fn, req["min_time"], req["min_reps"],
                                 warmup=req.get("warmup", 2), cooldown=COOLDOWN)
                reply = {"times": times}
        except Skip as exc:
            reply = {"skip": str(exc)}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(_PROTO + json.dumps(reply), flush=True)


if __name__ == "__main__":
    # executed by path in another interpreter: load this folder as a stand-in package (so
    # `from .workloads import ...` works) without importing fastrnn or letting the folder's
    # modules shadow top-level ones
    import importlib
    import types
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    pkg = types.ModuleType("_fastrnn_bench")
    pkg.__path__ = [here]
    sys.modules["_fastrnn_bench"] = pkg
    mod = importlib.import_module("_fastrnn_bench.keras_contender")
    mod.worker(int(sys.argv[sys.argv.index("--threads") + 1]))
