"""Benchmark fastrnn against the NumPy reference, PyTorch, ONNX Runtime and Keras 3.

Run it as::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m fastrnn.benchmark [options]

Options:
    --workloads seed,online,small,medium,large,deep-bidir   (default: all)
    --modes inference,training                               (default: both)
    --contenders numpy,torch,onnxruntime,keras               (default: all; each runs only
                                                             when importable)
    --dtype float32|float64    (default float32)
    --threads N                (default 2) BLAS / intra-op threads of every contender
    --min-time SECONDS         (default 0.3) time budget per (workload, contender, mode);
                               at least --min-reps (default 5) repetitions
    --json FILE                all results and the environment, as JSON
    --plot FILE.png            a bar chart of the ratios (needs matplotlib)
    --memory                   also run the memory case (B=64, T=20000, D=128, H=256,
                               return_sequences=False) and report its peak memory; opt-in:
                               it is 251 GFLOP plus a 625 MiB input (about a minute on a
                               shared 2-core machine)
    --scaling                  also time fastrnn with 1 and 2 threads and print the speedup
    --keras-python PATH        run the Keras contender in another interpreter (one with
                               Keras 3/TensorFlow, e.g. /work/kvenv/bin/python) when Keras is
                               not importable here; it needs only numpy there

Every contender gets the same weights, and before anything is timed its outputs (inference:
the sequence; training: the input gradient and every weight gradient) are checked against
fastrnn's; a disagreement raises :class:`AgreementError` naming the contender.

The table reports the MEDIAN time in microseconds, GFLOP/s (forward: 2*B*T*H*(D+H) flops per
layer and direction; training counts 3x that), the ratio contender time / fastrnn time (> 1
means fastrnn is faster) and the percentage of this machine's float32 (or float64) matrix
product rate, measured in the same run with a 2048x2048 NumPy matmul (best of 3).

Threads: with threadpoolctl installed, fastrnn's and NumPy's OpenBLAS are limited through
``threadpool_limits(N)``. Without it the only way to limit OpenBLAS is the environment
(OPENBLAS_NUM_THREADS / OMP_NUM_THREADS), which is read once, when the BLAS library loads.
``python -m fastrnn.benchmark`` imports the ``fastrnn`` package - and so NumPy - before this
module runs, so in that case ``main()`` sets the variables and re-executes the interpreter
once (command line only; a ``main([...])`` call from Python just warns).

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, pick slow BLAS kernels; the header warns.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

__all__ = ["run", "main", "WORKLOADS", "AgreementError", "blas_rate", "memory_case",
           "scaling", "format_table"]

# name: (batch, timesteps, features, units, kind)
WORKLOADS = {
    "seed": (8, 2, 10, 3, "layer"),
    "online": (1, 100, 64, 256, "layer"),
    "small": (32, 50, 32, 64, "layer"),
    "medium": (64, 100, 128, 256, "layer"),
    "large": (32, 50, 512, 1024, "layer"),
    "deep-bidir": (32, 100, 128, 256, "deep-bidir"),
}
MODES = ("inference", "training")
CONTENDERS = ("numpy", "torch", "onnxruntime", "keras")
SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# agreement tolerance on max|a - b| / max(1, max|b|), per dtype: forward outputs, gradients
TOLERANCE = {"float32": (1e-4, 1e-3), "float64": (1e-9, 1e-8)}
_PROTO = "@@FASTRNN-BENCH "


class AgreementError(AssertionError):
    """A contender's outputs differ from fastrnn's."""


class Skip(Exception):
    """A contender cannot run this case (not importable, unsupported dtype or mode)."""


# ---------------------------------------------------------------------------- workloads
def _layout(name):
    """[(input_features, units)] per layer-direction, the number of layers and directions."""
    B, T, D, H, kind = WORKLOADS[name]
    if kind == "deep-bidir":
        return [(D, H), (D, H), (2 * H, H), (2 * H, H)], 2, 2
    return [(D, H)], 1, 1


def flops(name, mode):
    B, T, D, H, _ = WORKLOADS[name]
    fwd = sum(2 * B * T * h * (d + h) for d, h in _layout(name)[0])
    return fwd * (3 if mode == "training" else 1)


def make_case(name, dtype="float32", seed=0):
    """Input x (B, T, D) and weights [(kernel, recurrent_kernel, bias)] per layer-direction."""
    import numpy as np
    B, T, D, H, _ = WORKLOADS[name]
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
    weights = []
    for d, h in _layout(name)[0]:
        weights.append((rng.uniform(-1, 1, (d, h)).astype(dtype) / np.sqrt(d).astype(dtype),
                        rng.uniform(-1, 1, (h, h)).astype(dtype) / np.sqrt(h).astype(dtype),
                        rng.uniform(-0.1, 0.1, h).astype(dtype)))
    return x, weights


def _flat(weights):
    return [w for triple in weights for w in triple]


# ---------------------------------------------------------------------------- contenders
# Each factory takes (name, x, weights, mode, dtype, threads) and returns (fn, outputs):
# fn() runs the timed computation; outputs are NumPy arrays in the canonical order
#   inference: [sequence (B, T, units_out)]
#   training:  [dx (B, T, D), then kernel, recurrent_kernel, bias grads per layer-direction]
# for an upstream gradient of ones on the sequence. A factory raises Skip when it can't run.

def _fastrnn(name, x, weights, mode, dtype, threads):
    import numpy as np
    from fastrnn.layers import Bidirectional, SimpleRNN
    from fastrnn.models import Sequential
    B, T, D, H, kind = WORKLOADS[name]
    if kind == "deep-bidir":
        model = Sequential([
            Bidirectional(SimpleRNN(H, return_sequences=True, dtype=dtype),
                          input_shape=(T, D)),
            Bidirectional(SimpleRNN(H, return_sequences=True, dtype=dtype))])
        layers = model.layers
    else:
        model = SimpleRNN(H, return_sequences=True, dtype=dtype)
        model.build((None, T, D))
        layers = [model]
    model.set_weights(_flat(weights))
    if mode == "inference":
        def fn():
            return model(x)
        return fn, lambda out: [out]

    ones = np.ones((B, T, H * (2 if kind == "deep-bidir" else 1)), dtype)

    def fn():  # protocol v2: each call's context, then the reverse walk
        h, ctxs = x, []
        for layer in layers:
            h, ctx = layer.forward(h, training=True)
            ctxs.append(ctx)
        d, grads = ones, []
        for layer, ctx in zip(reversed(layers), reversed(ctxs)):
            (d,), d_w = layer.backward(ctx, d)
            grads = list(d_w) + grads
        return [d] + grads
    return fn, lambda out: out


def _numpy(name, x, weights, mode, dtype, threads):
    import numpy as np
    from fastrnn import reference as ref
    B, T, D, H, kind = WORKLOADS[name]
    if kind != "deep-bidir":
        (W, U, b), = weights
        if mode == "inference":
            return lambda: ref.simple_rnn_forward(x, W, U, b)[0], lambda out: [out]
        ones = np.ones((B, T, H), dtype)

        def fn():
            ref.simple_rnn_forward(x, W, U, b)
            dx, dW, dU, db, _ = ref.simple_rnn_backward(ones, None, x, W, U, None, b)
            return [dx, dW, dU, db]
        return fn, lambda out: out

    def bidir(inp, fw, bw):
        y_f = ref.simple_rnn_forward(inp, *fw)[0]
        y_b = ref.simple_rnn_forward(inp, *bw, go_backwards=True)[0][:, ::-1]
        return np.concatenate([y_f, y_b], axis=-1)

    if mode == "inference":
        return (lambda: bidir(bidir(x, weights[0], weights[1]), weights[2], weights[3]),
                lambda out: [out])
    ones = np.ones((B, T, 2 * H), dtype)

    def fn():
        h1 = bidir(x, weights[0], weights[1])
        bidir(h1, weights[2], weights[3])
        grads = [None] * 4
        d = ones
        for inp, k in ((h1, 2), (x, 0)):
            (Wf, Uf, bf), (Wb, Ub, bb) = weights[k], weights[k + 1]
            gf = ref.simple_rnn_backward(d[..., :H], None, inp, Wf, Uf, None, bf)
            # the backward direction's sequence is in processing (reversed) order
            gb = ref.simple_rnn_backward(d[..., H:][:, ::-1], None, inp, Wb, Ub, None, bb,
                                         go_backwards=True)
            grads[k], grads[k + 1] = gf[1:4], gb[1:4]
            d = gf[0] + gb[0]
        return [d] + [g for triple in grads for g in triple]
    return fn, lambda out: out


def _torch(name, x, weights, mode, dtype, threads):
    try:
        import torch
    except ImportError:
        raise Skip("torch is not importable") from None
    B, T, D, H, kind = WORKLOADS[name]
    torch.set_num_threads(threads)
    bidir = kind == "deep-bidir"
    rnn = torch.nn.RNN(D, H, num_layers=2 if bidir else 1, bidirectional=bidir,
                       batch_first=True, nonlinearity="tanh")
    rnn = rnn.double() if dtype == "float64" else rnn.float()
    names = []
    for layer in range(2 if bidir else 1):
        for suffix in ("", "_reverse") if bidir else ("",):
            names.append(suffix and f"l{layer}{suffix}" or f"l{layer}")
    params = dict(rnn.named_parameters())
    with torch.no_grad():
        for tag, (W, U, b) in zip(names, weights):
            params[f"weight_ih_{tag}"].copy_(torch.from_numpy(W.T.copy()))
            params[f"weight_hh_{tag}"].copy_(torch.from_numpy(U.T.copy()))
            params[f"bias_ih_{tag}"].copy_(torch.from_numpy(b))
            params[f"bias_hh_{tag}"].zero_()
    if mode == "inference":
        xt = torch.from_numpy(x)

        def fn():
            with torch.inference_mode():
                return rnn(xt)[0]
        return fn, lambda out: [out.numpy()]

    xt = torch.from_numpy(x.copy()).requires_grad_(True)

    def fn():
        rnn.zero_grad(set_to_none=True)
        xt.grad = None
        out = rnn(xt)[0]
        out.sum().backward()
        return xt.grad

    def outputs(dx):
        grads = [dx.numpy()]
        for tag in names:  # bias_hh gets the same gradient as bias_ih; Keras has one bias
            grads += [params[f"weight_ih_{tag}"].grad.numpy().T,
                      params[f"weight_hh_{tag}"].grad.numpy().T,
                      params[f"bias_ih_{tag}"].grad.numpy()]
        return grads
    return fn, outputs


def _onnx_model(name, weights, dtype):
    """The RNN as an ONNX graph: batch-major X (B, T, D) -> Transpose -> RNN (time-major,
    ONNX Runtime's CPU RNN has no layout=1) -> Transpose/Reshape -> Y (B, T, units_out)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    B, T, D, H, kind = WORKLOADS[name]
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    per_layer = [weights[0:2], weights[2:4]] if kind == "deep-bidir" else [weights[:1]]
    nodes, inits = [], [numpy_helper.from_array(np.array([0, 0, -1], np.int64), "flat")]
    nodes.append(helper.make_node("Transpose", ["X"], ["x_tbd"], perm=[1, 0, 2]))
    cur = "x_tbd"
    for i, dirs in enumerate(per_layer):
        W = np.stack([w.T for w, _, _ in dirs])
        R = np.stack([u.T for _, u, _ in dirs])
        Bb = np.stack([np.concatenate([b, np.zeros_like(b)]) for _, _, b in dirs])
        for tag, arr in (("W", W), ("R", R), ("B", Bb)):
            inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype), f"{tag}{i}"))
        nodes.append(helper.make_node(
            "RNN", [cur, f"W{i}", f"R{i}", f"B{i}"], [f"y{i}"], hidden_size=H,
            activations=["Tanh"] * len(dirs),
            direction="bidirectional" if len(dirs) == 2 else "forward"))
        # Y (T, dirs, B, H) -> (T, B, dirs, H) -> (T, B, dirs*H)
        nodes.append(helper.make_node("Transpose", [f"y{i}"], [f"yt{i}"], perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [f"yt{i}", "flat"], [f"h{i}"]))
        cur = f"h{i}"
    nodes.append(helper.make_node("Transpose", [cur], ["Y"], perm=[1, 0, 2]))
    out_units = H * len(per_layer[-1])
    graph = helper.make_graph(
        nodes, "fastrnn_bench", [helper.make_tensor_value_info("X", elem, [B, T, D])],
        [helper.make_tensor_value_info("Y", elem, [B, T, out_units])], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def _onnxruntime(name, x, weights, mode, dtype, threads):
    if mode != "inference":
        raise Skip("ONNX Runtime: inference only")
    try:
        import onnxruntime as ort
        import onnx  # noqa: F401
    except ImportError:
        raise Skip("onnx/onnxruntime is not importable") from None
    model = _onnx_model(name, weights, dtype)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(model.SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # e.g. no double RNN kernel
        raise Skip(f"ONNX Runtime cannot run this model ({dtype}): "
                   f"{str(exc).splitlines()[0][:120]}") from None
    feed = {"X": x}
    return lambda: sess.run(["Y"], feed)[0], lambda out: [out]


def _keras(name, x, weights, mode, dtype, threads):
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
    except ImportError:
        raise Skip("keras is not importable") from None
    import numpy as np
    B, T, D, H, kind = WORKLOADS[name]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised: keep what it has
            pass
    elif mode == "training":
        raise Skip(f"Keras training is timed with tf.GradientTape; backend is {backend}")
    rnn = lambda: keras.layers.SimpleRNN(H, return_sequences=True, dtype=dtype)  # noqa: E731
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


_CONTENDERS = {"fastrnn": _fastrnn, "numpy": _numpy, "torch": _torch,
               "onnxruntime": _onnxruntime, "keras": _keras}


# ---------------------------------------------------------------------------- Keras elsewhere
class _RemoteKeras:
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
        np.savez(job, x=x, *_flat(weights))
        reply = self._ask({"cmd": "setup", "job": job, "name": name, "mode": mode,
                           "dtype": dtype, "threads": threads,
                           "out": os.path.join(self.dir, f"out{self.n}.npz")})
        self.version = reply.get("version")
        with np.load(reply["out"]) as f:
            outs = [f[f"arr_{i}"] for i in range(len(f.files))]
        # the timing is asked for only after the caller has checked the outputs
        return _Remote(self), lambda _: outs

    def close(self):
        import shutil
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Remote:
    def __init__(self, owner):
        self.owner = owner

    def __call__(self):  # pragma: no cover - only for symmetry; timing is remote
        raise RuntimeError("remote contender: use time_remote")

    def time(self, min_time, min_reps):
        return self.owner._ask({"cmd": "time", "min_time": min_time, "min_reps": min_reps})


def _keras_worker(threads):
    import numpy as np
    fn = None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "setup":
                with np.load(req["job"]) as f:
                    x = f["x"]
                    flat = [f[f"arr_{i}"] for i in range(len(f.files) - 1)]
                weights = [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]
                fn, conv = _keras(req["name"], x, weights, req["mode"], req["dtype"], threads)
                outs = conv(fn())
                np.savez(req["out"], *outs)
                import keras
                reply = {"out": req["out"], "version": f"keras {keras.__version__} "
                         f"({keras.backend.backend()}) under Python {platform.python_version()}"}
            else:
                times = _time_fn(fn, req["min_time"], req["min_reps"], cooldown=COOLDOWN)
                reply = {"times": times}
        except Skip as exc:
            reply = {"skip": str(exc)}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(_PROTO + json.dumps(reply), flush=True)


# ---------------------------------------------------------------------------- timing
# Pause before each contender: OpenBLAS, OpenMP (torch) and ONNX Runtime threads keep
# spinning for a while after their last call, and on few cores they steal the next one's.
COOLDOWN = 0.2


def _time_fn(fn, min_time, min_reps=5, warmup=2, cooldown=0.0):
    """Seconds per call: a pause, `warmup` calls, then calls until min_reps and min_time."""
    if cooldown:
        time.sleep(cooldown)
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def blas_rate(n=2048, dtype="float32", repeats=3):
    """This machine's matrix-product rate in GFLOP/s: best of `repeats` n x n @ n x n."""
    import numpy as np
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    np.matmul(a, b, out=out)
    best = min(_time_fn(lambda: np.matmul(a, b, out=out), 0.0, repeats, warmup=0))
    return 2 * n ** 3 / best / 1e9


def _rel_err(a, b):
    import numpy as np
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def _check(contender, name, mode, dtype, outs, ref_outs):
    if len(outs) != len(ref_outs):
        raise AgreementError(f"contender {contender!r} on {name}/{mode} returned {len(outs)} "
                             f"arrays, fastrnn {len(ref_outs)}")
    tol_fwd, tol_grad = TOLERANCE[dtype]
    labels = ["output"] if mode == "inference" else ["dx"] + [
        f"{w}[{i}]" for i in range((len(outs) - 1) // 3)
        for w in ("d_kernel", "d_recurrent_kernel", "d_bias")]
    worst = 0.0
    for label, a, b in zip(labels, outs, ref_outs):
        err = _rel_err(a, b)
        worst = max(worst, err)
        tol = tol_fwd if mode == "inference" else tol_grad
        if not err <= tol:
            raise AgreementError(
                f"contender {contender!r} disagrees with fastrnn on {name}/{mode} ({dtype}): "
                f"{label} max|diff|/max(1,|ref|) = {err:.3g} > {tol:g} "
                f"(shapes {getattr(a, 'shape', None)} vs {getattr(b, 'shape', None)})")
    return worst


def _limits(threads):
    """threadpool_limits(threads) if threadpoolctl is installed, else a no-op context."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(threads)


# ---------------------------------------------------------------------------- run
def run(workloads=None, modes=MODES, dtype="float32", threads=2, min_time=0.3,
        contenders=None, min_reps=5, blas_gflops=None, keras_python=None, log=None):
    """Time fastrnn and every requested contender; returns one dict per timed case.

    Rows: workload, mode, contender, batch, timesteps, features, units, dtype, threads,
    median_us, min_us, reps, flops, gflops, ratio (contender time / fastrnn time; > 1 means
    fastrnn is faster), pct_blas, max_rel_diff, agreed. Contenders that cannot run are
    returned as rows with ``skipped`` (the reason) and no times. Raises AgreementError when
    a contender's outputs differ from fastrnn's (checked before it is timed).
    """
    workloads = list(WORKLOADS) if workloads is None else list(workloads)
    contenders = list(CONTENDERS) if contenders is None else list(contenders)
    for w in workloads:
        if w not in WORKLOADS:
            raise ValueError(f"Unknown workload {w!r}; expected some of {list(WORKLOADS)}.")
    for c in contenders:
        if c not in CONTENDERS:
            raise ValueError(f"Unknown contender {c!r}; expected some of {list(CONTENDERS)}.")
    for m in modes:
        if m not in MODES:
            raise ValueError(f"Unknown mode {m!r}; expected some of {list(MODES)}.")
    if dtype not in TOLERANCE:
        raise ValueError(f"Argument `dtype` must be 'float32' or 'float64', got {dtype!r}.")
    log = log or (lambda msg: None)
    factories = dict(_CONTENDERS)
    remote = None
    if "keras" in contenders and keras_python:
        try:
            import keras  # noqa: F401
        except ImportError:
            remote = _RemoteKeras(keras_python, threads)
            factories["keras"] = remote.factory
    rows = []
    try:
        with _limits(threads):
            if blas_gflops is None:
                blas_gflops = blas_rate(dtype=dtype)
            for name in workloads:
                B, T, D, H, _ = WORKLOADS[name]
                x, weights = make_case(name, dtype)
                for mode in modes:
                    fl = flops(name, mode)
                    base = dict(workload=name, mode=mode, batch=B, timesteps=T, features=D,
                                units=H, dtype=dtype, threads=threads, flops=fl)
                    fn, conv = factories["fastrnn"](name, x, weights, mode, dtype, threads)
                    ref_outs = [np_copy(a) for a in conv(fn())]
                    fast = None
                    for contender in ["fastrnn"] + contenders:
                        row = dict(base, contender=contender)
                        try:
                            if contender == "fastrnn":
                                err = 0.0
                            else:
                                fn, conv = factories[contender](name, x, weights, mode,
                                                                dtype, threads)
                                outs = conv(None if isinstance(fn, _Remote) else fn())
                                err = _check(contender, name, mode, dtype, outs, ref_outs)
                        except Skip as exc:
                            log(f"  skip {contender} on {name}/{mode}: {exc}")
                            rows.append(dict(row, skipped=str(exc)))
                            continue
                        if isinstance(fn, _Remote):
                            times = fn.time(min_time, min_reps)["times"]
                        else:
                            times = _time_fn(fn, min_time, min_reps, cooldown=COOLDOWN)
                        med = statistics.median(times)
                        if contender == "fastrnn":
                            fast = med
                        gf = fl / med / 1e9
                        row.update(median_us=med * 1e6, min_us=min(times) * 1e6,
                                   reps=len(times), gflops=gf, ratio=med / fast,
                                   pct_blas=100 * gf / blas_gflops, max_rel_diff=err,
                                   agreed=True, blas_gflops=blas_gflops)
                        if isinstance(fn, _Remote):
                            row.update(remote_python=remote.python, version=remote.version)
                        log(f"  {name:10s} {mode:9s} {contender:11s} {med * 1e6:12.1f} us")
                        rows.append(row)
    finally:
        if remote is not None:
            remote.close()
    return rows


def np_copy(a):
    import numpy as np
    return np.array(a, copy=True)


# ---------------------------------------------------------------------------- extras
def memory_case(B=64, T=20_000, D=128, H=256, dtype="float32", check_steps=2000, log=None):
    """fastrnn inference with return_sequences=False on a long sequence: peak memory beyond
    the input (tracemalloc, which sees NumPy's allocations but not plain C mallocs inside the
    kernel), and the last state checked against an unchunked computation on a prefix."""
    import tracemalloc

    import numpy as np
    from fastrnn import reference as ref
    from fastrnn.layers import SimpleRNN
    log = log or (lambda msg: None)
    rng = np.random.default_rng(2)
    x = np.empty((B, T, D), dtype)
    for t0 in range(0, T, 1000):  # uniform(-1, 1) in pieces, without float64 temporaries
        x[:, t0:t0 + 1000] = rng.uniform(-1, 1, x[:, t0:t0 + 1000].shape).astype(dtype)
    layer = SimpleRNN(H, return_sequences=False, dtype=dtype)
    layer.build((None, T, D))
    W = (rng.uniform(-1, 1, (D, H)) / np.sqrt(D)).astype(dtype)
    U = (rng.uniform(-1, 1, (H, H)) / np.sqrt(H)).astype(dtype)
    b = rng.uniform(-0.1, 0.1, H).astype(dtype)
    layer.set_weights([W, U, b])
    # correctness: the chunked path against the unchunked sequence path and the reference
    xp = np.ascontiguousarray(x[:, :check_steps])
    last = layer(xp)
    seq_layer = SimpleRNN(H, return_sequences=True, dtype=dtype)
    seq_layer.build((None, check_steps, D))
    seq_layer.set_weights([W, U, b])
    err_seq = _rel_err(last, seq_layer(xp)[:, -1])
    err_ref = _rel_err(last, ref.simple_rnn_forward(xp, W, U, b)[1])
    del xp
    tracemalloc.start()
    t0 = time.perf_counter()
    out = layer(x)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fl = 2 * B * T * H * (D + H)
    result = dict(batch=B, timesteps=T, features=D, units=H, dtype=dtype,
                  input_mb=x.nbytes / 2**20, output_shape=list(out.shape),
                  full_sequence_mb=B * T * H * x.itemsize / 2**20,
                  peak_traced_mb=peak / 2**20,
                  seconds=seconds, gflops=fl / seconds / 1e9, finite=bool(np.isfinite(out).all()),
                  check_steps=check_steps, rel_diff_vs_sequences=err_seq,
                  rel_diff_vs_reference=err_ref)
    tol = TOLERANCE[dtype][0]
    result["agreed"] = bool(err_seq <= tol and err_ref <= tol and result["finite"])
    if not result["agreed"]:
        raise AgreementError(f"memory case: chunked last state disagrees (vs sequences "
                             f"{err_seq:.3g}, vs reference {err_ref:.3g}, tol {tol:g})")
    return result


def scaling(workloads=("medium", "large", "deep-bidir"), modes=MODES, dtype="float32",
            min_time=0.3, min_reps=5):
    """fastrnn's median time with 1 and with 2 BLAS threads (needs threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise RuntimeError("--scaling needs threadpoolctl (pip install threadpoolctl)") \
            from None
    rows = []
    for name in workloads:
        x, weights = make_case(name, dtype)
        for mode in modes:
            med = {}
            for n in (1, 2):
                with threadpool_limits(n):
                    fn, _ = _fastrnn(name, x, weights, mode, dtype, n)
                    med[n] = statistics.median(_time_fn(fn, min_time, min_reps,
                                                        cooldown=COOLDOWN))
            rows.append(dict(workload=name, mode=mode, us_1_thread=med[1] * 1e6,
                             us_2_threads=med[2] * 1e6, speedup=med[1] / med[2]))
    return rows


# ---------------------------------------------------------------------------- report
def _version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None


def environment(threads, blas_gflops=None, dtype="float32"):
    try:
        from threadpoolctl import threadpool_info
        blas = [{k: i.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
                for i in threadpool_info()]
    except ImportError:
        blas = None
    versions = {}
    for dist in ("numpy", "scipy", "torch", "onnxruntime", "onnx", "keras", "tensorflow",
                 "threadpoolctl"):
        versions[dist] = _version(dist)
    versions["fastrnn"] = _version("fastrnn")
    return dict(python=platform.python_version(), platform=platform.platform(),
                machine=platform.machine(), cpu_count=os.cpu_count(), threads=threads,
                dtype=dtype, versions=versions,
                slow_blas_vars={v: os.environ[v] for v in SLOW_BLAS_VARS if v in os.environ},
                thread_vars={v: os.environ.get(v) for v in
                             ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if v in os.environ},
                threadpoolctl=blas, blas_gflops=blas_gflops)


def format_header(env):
    v = env["versions"]
    lines = [f"fastrnn benchmark - Python {env['python']} on {env['platform']}, "
             f"{env['cpu_count']} CPUs, threads={env['threads']}, dtype={env['dtype']}",
             "versions: " + ", ".join(f"{k} {v[k] or '-'}" for k in
                                      ("numpy", "scipy", "torch", "onnxruntime", "keras"))]
    if env["slow_blas_vars"]:
        lines.append("WARNING: " + ", ".join(f"{k}={val}" for k, val in
                                             env["slow_blas_vars"].items())
                     + " is set: these slow BLAS; run with env -u OPENBLAS_CORETYPE "
                       "-u OPENBLAS_L2_SIZE")
    else:
        lines.append("OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    if env.get("blas_gflops"):
        lines.append(f"BLAS rate (2048^3 {env['dtype']} matmul, best of 3): "
                     f"{env['blas_gflops']:.1f} GFLOP/s")
    return "\n".join(lines)


def format_table(rows):
    head = (f"{'workload':<11}{'mode':<10}{'contender':<12}{'median us':>12}{'GFLOP/s':>9}"
            f"{'ratio':>8}{'%BLAS':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        if "skipped" in r:
            continue
        lines.append(f"{r['workload']:<11}{r['mode']:<10}{r['contender']:<12}"
                     f"{r['median_us']:>12.1f}{r['gflops']:>9.2f}{r['ratio']:>8.2f}"
                     f"{r['pct_blas']:>7.1f}")
    for remote in sorted({(r["contender"], r["remote_python"], r.get("version"))
                          for r in rows if r.get("remote_python")}):
        lines.append("(%s ran in %s: %s)" % remote)
    skipped = sorted({(r["contender"], r["skipped"]) for r in rows if "skipped" in r})
    for contender, why in skipped:
        lines.append(f"(skipped {contender}: {why})")
    lines.append("ratio = contender time / fastrnn time (> 1: fastrnn is faster)")
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    timed = [r for r in rows if "skipped" not in r and r["contender"] != "fastrnn"]
    labels = [f"{r['workload']}\n{r['mode'][:5]}\n{r['contender']}" for r in timed]
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(timed)), 5))
    ax.bar(range(len(timed)), [r["ratio"] for r in timed],
           color=[f"C{CONTENDERS.index(r['contender'])}" for r in timed])
    ax.axhline(1, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(timed)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("contender time / fastrnn time (>1: fastrnn faster)")
    ax.set_title("fastrnn vs contenders")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------- main
def _csv(value):
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastrnn.benchmark",
                                description="Benchmark fastrnn against other RNN runtimes.")
    p.add_argument("--workloads", type=_csv, default=list(WORKLOADS),
                   help=f"comma-separated, from {','.join(WORKLOADS)} (default all)")
    p.add_argument("--modes", type=_csv, default=list(MODES),
                   help="inference,training (default both)")
    p.add_argument("--contenders", type=_csv, default=list(CONTENDERS),
                   help=f"comma-separated, from {','.join(CONTENDERS)} (default all "
                        "importable)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=0.3,
                   help="seconds of repetitions per case (default 0.3)")
    p.add_argument("--min-reps", type=int, default=5)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--plot", metavar="FILE.png")
    p.add_argument("--memory", action="store_true", help="also run the memory case")
    p.add_argument("--scaling", action="store_true",
                   help="also time fastrnn with 1 and 2 threads")
    p.add_argument("--keras-python", metavar="PATH",
                   help="interpreter with Keras 3 for the keras contender")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    return args


def _ensure_thread_env(threads, from_command_line):
    """Without threadpoolctl, limit OpenBLAS through the environment: it must be set before
    NumPy loads, so re-execute once when NumPy is already imported (python -m imports the
    fastrnn package, and NumPy with it, before this module runs)."""
    try:
        import threadpoolctl  # noqa: F401
        return
    except ImportError:
        pass
    wanted = str(threads)
    if all(os.environ.get(v) == wanted for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        return
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[v] = wanted
    if "numpy" not in sys.modules:
        return
    if from_command_line and not os.environ.get("FASTRNN_BENCH_REEXEC"):
        os.environ["FASTRNN_BENCH_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "fastrnn.benchmark"] + sys.argv[1:])
    print(f"warning: threadpoolctl is not installed and NumPy is already loaded, so BLAS "
          f"threads cannot be limited to {threads}; pip install threadpoolctl",
          file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)  # first: thread settings must precede loading BLAS
    if args.keras_worker:
        return _keras_worker(args.threads)
    _ensure_thread_env(args.threads, from_command_line=argv is None)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr,
                                                                   flush=True))
    with _limits(args.threads):
        rate = blas_rate(dtype=args.dtype)
        env = environment(args.threads, rate, args.dtype)
    print(format_header(env), flush=True)
    rows = run(workloads=args.workloads, modes=args.modes, dtype=args.dtype,
               threads=args.threads, min_time=args.min_time, contenders=args.contenders,
               min_reps=args.min_reps, blas_gflops=rate, keras_python=args.keras_python,
               log=log)
    print()
    print(format_table(rows), flush=True)
    result = {"environment": env, "results": rows}
    if args.memory:
        with _limits(args.threads):
            mem = memory_case(dtype=args.dtype, log=log)
        result["memory"] = mem
        print(f"\nmemory case: B={mem['batch']} T={mem['timesteps']} D={mem['features']} "
              f"H={mem['units']} {mem['dtype']}, return_sequences=False: "
              f"{mem['seconds']:.2f} s ({mem['gflops']:.1f} GFLOP/s); input "
              f"{mem['input_mb']:.0f} MiB; peak traced beyond the input "
              f"{mem['peak_traced_mb']:.1f} MiB (the full sequence would be "
              f"{mem['full_sequence_mb']:.0f} MiB); chunked == unchunked on "
              f"{mem['check_steps']} steps (rel diff {mem['rel_diff_vs_sequences']:.1e}, vs "
              f"reference {mem['rel_diff_vs_reference']:.1e})")
    if args.scaling:
        sc = scaling(dtype=args.dtype, min_time=args.min_time, min_reps=args.min_reps)
        result["scaling"] = sc
        print("\nscaling (fastrnn, threadpoolctl):")
        print(f"{'workload':<11}{'mode':<10}{'1 thread us':>13}{'2 threads us':>14}"
              f"{'speedup':>9}")
        for r in sc:
            print(f"{r['workload']:<11}{r['mode']:<10}{r['us_1_thread']:>13.1f}"
                  f"{r['us_2_threads']:>14.1f}{r['speedup']:>9.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
    if args.plot:
        plot(rows, args.plot)
    return result


if __name__ == "__main__":
    if "--keras-worker" in sys.argv and not __package__:
        # executed by path in another interpreter: don't let fastrnn/*.py shadow modules
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    main()
