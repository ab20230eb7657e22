"""The benchmark's workloads, their flop counts and their data; agreement and timing helpers.

Only the standard library and NumPy here: the Keras worker (run in another interpreter, see
keras_contender.py) imports this module without the fastrnn package.

Layer workloads (kind "layer" / "deep-bidir"): one SimpleRNN(return_sequences=True) layer,
or two stacked Bidirectional ones, on x (B, T, D); modes "inference" (the forward) and
"training" (forward + backward for an upstream gradient of ones). ``lstm-*`` / ``gru-*``
(see CELLS): one LSTM / GRU(return_sequences=True) layer instead (GRU with Keras 3's
default reset_after=True), Keras's weight layout (kernel (D, G*H), recurrent_kernel
(H, G*H), bias (4H,) for LSTM, (2, 3H) [input bias, recurrent bias] for GRU; gate
orders i, f, c, o and z, r, h).

Model workloads (kind "model"): ``[Embedding(vocab, D) ->] SimpleRNN(H) -> Dense(1,
"sigmoid")`` (``lstm-imdb-fit`` / ``gru-imdb-fit``: LSTM(H) / GRU(H) in its place),
RMSprop(learning_rate=1e-3, rho=0.9, epsilon=1e-7), binary crossentropy, on N synthetic
sequences of T steps in batches of B:

- ``imdb-fit``: the IMDB tutorial model (vocab 10,000, 32, 32), N=5,000, B=128, T=500;
  "training" is ONE ``fit`` epoch with ``validation_split=0.2`` (4,000 training sequences,
  32 steps, then a validation pass over 1,000), "inference" is ``predict`` over all 5,000.
  ``lstm-imdb-fit`` and ``gru-imdb-fit`` run the same on the same data.
- ``seed-step``: the seed-sized model (no Embedding; x (8, 2, 10), SimpleRNN(3)); "training"
  is one ``train_on_batch`` call (the per-step overhead), "inference" one
  ``predict_on_batch``.
"""
import time

__all__ = ["WORKLOADS", "MODEL_WORKLOADS", "CELLS", "GATES", "DEFAULT_WORKLOADS", "OPT_IN",
           "MODES",
           "TOLERANCE", "LOSS_TOLERANCE", "AgreementError", "Skip", "flops", "make_case",
           "make_model_case", "is_model", "cell", "COOLDOWN", "_time_fn"]

# name: (batch, timesteps, features, units, kind)
WORKLOADS = {
    "seed": (8, 2, 10, 3, "layer"),
    "online": (1, 100, 64, 256, "layer"),
    "small": (32, 50, 32, 64, "layer"),
    "tutorial": (128, 500, 32, 32, "layer"),
    "medium": (64, 100, 128, 256, "layer"),
    "large": (32, 50, 512, 1024, "layer"),
    "deep-bidir": (32, 100, 128, 256, "deep-bidir"),
    "imdb-fit": (128, 500, 32, 32, "model"),
    "seed-step": (8, 2, 10, 3, "model"),
    "lstm-medium": (64, 100, 128, 256, "layer"),
    "gru-medium": (64, 100, 128, 256, "layer"),
    "lstm-large": (32, 50, 512, 1024, "layer"),
    "gru-large": (32, 50, 512, 1024, "layer"),
    "lstm-imdb-fit": (128, 500, 32, 32, "model"),
    "gru-imdb-fit": (128, 500, 32, 32, "model"),
}
# model workloads: vocabulary (None: float inputs, no Embedding), samples, validation split
MODEL_WORKLOADS = {
    "imdb-fit": dict(vocab=10_000, samples=5_000, validation_split=0.2),
    "seed-step": dict(vocab=None, samples=8, validation_split=0.0),
    "lstm-imdb-fit": dict(vocab=10_000, samples=5_000, validation_split=0.2),
    "gru-imdb-fit": dict(vocab=10_000, samples=5_000, validation_split=0.2),
}
# the recurrent cell of each workload (the others: "simple_rnn") and its gate count
CELLS = {"lstm-medium": "lstm", "gru-medium": "gru", "lstm-large": "lstm",
         "gru-large": "gru", "lstm-imdb-fit": "lstm", "gru-imdb-fit": "gru"}
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
# what runs without --workloads (--workloads all: every one): all but the large LSTM/GRU
# layers and fit epochs, which would take the default run on a shared 2-core machine from
# about 7 to over 25 minutes (the NumPy reference loop alone spends 100 s on each large
# layer; PyTorch runs a GRU fit epoch in one to two minutes, and each is timed 6 times)
OPT_IN = ("lstm-large", "gru-large", "lstm-imdb-fit", "gru-imdb-fit")
DEFAULT_WORKLOADS = tuple(w for w in WORKLOADS if w not in OPT_IN)
MODES = ("inference", "training")
# agreement tolerance on max|a - b| / max(1, max|b|), per dtype: forward outputs, gradients
TOLERANCE = {"float32": (1e-4, 1e-3), "float64": (1e-9, 1e-8)}
# a whole fit epoch: the losses after 32 RMSprop steps, each runtime summing in its own order
# (and PyTorch's RMSprop adds epsilon outside the square root): a loose check
LOSS_TOLERANCE = 0.05
OPTIMIZER = dict(learning_rate=1e-3, rho=0.9, epsilon=1e-7)


class AgreementError(AssertionError):
    """A contender's outputs differ from fastrnn's."""


class Skip(Exception):
    """A contender cannot run this case (not importable, unsupported dtype or mode)."""


def is_model(name):
    return WORKLOADS[name][4] == "model"


def cell(name):
    """The workload's recurrent cell: "simple_rnn", "lstm" or "gru"."""
    return CELLS.get(name, "simple_rnn")


def _layout(name):
    """[(input_features, units)] per layer-direction, the number of layers and directions."""
    B, T, D, H, kind = WORKLOADS[name]
    if kind == "deep-bidir":
        return [(D, H), (D, H), (2 * H, H), (2 * H, H)], 2, 2
    return [(D, H)], 1, 1


def flops(name, mode):
    """Multiply-adds x 2 of the recurrent layers: 2*B*T*G*H*(D+H) per layer-direction
    forward (G gates: 1 SimpleRNN, 4 LSTM, 3 GRU), 3x that for training. Model workloads
    count every sequence the call processes (training: the training part 3x, the validation
    part 1x); the Embedding and Dense are not counted."""
    B, T, D, H, kind = WORKLOADS[name]
    G = GATES[cell(name)]
    if kind == "model":
        spec = MODEL_WORKLOADS[name]
        n = spec["samples"]
        per_seq = 2 * T * G * H * (D + H)
        if mode == "inference":
            return n * per_seq
        n_train = int(n * (1 - spec["validation_split"]))
        return 3 * n_train * per_seq + (n - n_train) * per_seq
    fwd = sum(2 * B * T * G * h * (d + h) for d, h in _layout(name)[0])
    return fwd * (3 if mode == "training" else 1)


def make_case(name, dtype="float32", seed=0):
    """Layer workloads: input x (B, T, D) and weights [(kernel, recurrent_kernel, bias)] per
    layer-direction. Model workloads: see make_model_case."""
    import numpy as np
    B, T, D, H, kind = WORKLOADS[name]
    if kind == "model":
        return make_model_case(name, dtype, seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
    G = GATES[cell(name)]
    weights = []
    for d, h in _layout(name)[0]:
        weights.append((rng.uniform(-1, 1, (d, G * h)).astype(dtype) / np.sqrt(d).astype(dtype),
                        rng.uniform(-1, 1, (h, G * h)).astype(dtype) / np.sqrt(h).astype(dtype),
                        rng.uniform(-0.1, 0.1, _bias_shape(name, h)).astype(dtype)))
    return x, weights


def _bias_shape(name, units):
    """Keras's bias shape: (G*H,), or (2, 3H) for GRU(reset_after=True)."""
    c = cell(name)
    return (2, 3 * units) if c == "gru" else (GATES[c] * units,)


def make_model_case(name, dtype="float32", seed=0):
    """((x, y), weights) for a model workload.

    x: int32 indices (N, T) in [0, vocab) with an Embedding, else floats (N, T, D); y (N, 1)
    labels in {0, 1} (1 when the sequence's first half has more small indices / larger
    values than its second: learnable, so the loss moves). weights: the Keras order
    ``[embeddings (vocab, D)], kernel (D, G*H), recurrent_kernel (H, G*H), bias,
    dense kernel (H, 1), dense bias (1,)`` (G, the bias: see make_case; zero biases, but
    LSTM's forget-gate block is one, as Keras's unit_forget_bias initialises it).
    """
    import numpy as np
    B, T, D, H, _ = WORKLOADS[name]
    spec = MODEL_WORKLOADS[name]
    n = spec["samples"]
    rng = np.random.default_rng(seed)
    if spec["vocab"]:
        x = rng.integers(0, spec["vocab"], (n, T)).astype(np.int32)
        score = (x[:, :T // 2] < 2000).sum(1) - (x[:, T // 2:] < 2000).sum(1)
    else:
        x = rng.uniform(-1, 1, (n, T, D)).astype(dtype)
        score = x[:, :, 0].sum(1)
    y = (score > 0).astype(dtype).reshape(n, 1)
    weights = []
    if spec["vocab"]:
        weights.append(rng.uniform(-0.05, 0.05, (spec["vocab"], D)).astype(dtype))
    G = GATES[cell(name)]
    bias = np.zeros(_bias_shape(name, H), dtype)
    if cell(name) == "lstm":
        bias[H:2 * H] = 1
    weights += [rng.uniform(-1, 1, (D, G * H)).astype(dtype) / np.sqrt(D).astype(dtype),
                rng.uniform(-1, 1, (H, G * H)).astype(dtype) / np.sqrt(H).astype(dtype),
                bias,
                rng.uniform(-1, 1, (H, 1)).astype(dtype) / np.sqrt(H).astype(dtype),
                np.zeros(1, dtype)]
    return (x, y), weights


def _flat(weights):
    return [w for triple in weights for w in triple]


def output_labels(name, mode, n):
    """Names of a contender's canonical outputs (for agreement messages)."""
    if is_model(name):
        names = (["embeddings"] if MODEL_WORKLOADS[name]["vocab"] else []) + [
            "kernel", "recurrent_kernel", "bias", "dense_kernel", "dense_bias"]
        if mode == "inference":
            return ["predictions"]
        head = ["loss"] if name == "seed-step" else ["final loss", "final val_loss"]
        return head + ["first-batch loss"] + [f"d_{w}" for w in names]
    if mode == "inference":
        return ["output"]
    return ["dx"] + [f"{w}[{i}]" for i in range((n - 1) // 3)
                     for w in ("d_kernel", "d_recurrent_kernel", "d_bias")]


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


def _rel_err(a, b):
    import numpy as np
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))
