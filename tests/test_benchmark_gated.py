"""The benchmark's LSTM and GRU workloads on tiny shapes: every importable contender agrees
with fastrnn (inference and training), a wrong gate mapping is caught, the flop counts.

The Keras contender runs in another interpreter: set FASTRNN_KERAS_PYTHON to one with
Keras 3 and TensorFlow (e.g. /work/kvenv/bin/python) to include it (about 30 s).
"""
import os

import numpy as np
import pytest

from fastrnn import benchmark
from fastrnn.benchmark import gated

LAYERS = ["lstm-medium", "gru-medium"]
MODELS = ["lstm-imdb-fit", "gru-imdb-fit"]
IMPORT = {"torch": "torch", "onnxruntime": "onnxruntime", "openvino": "openvino",
          "jax": "jax", "numpy": "numpy"}


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    """The LSTM/GRU workloads shrunk: layers B=3, T=5, D=4, H=6; models vocabulary 20,
    20 sequences of 6 steps, batches of 3 (a partial last training batch)."""
    monkeypatch.setattr(benchmark.workloads, "COOLDOWN", 0.0)
    for name in LAYERS:
        monkeypatch.setitem(benchmark.WORKLOADS, name, (3, 5, 4, 6, "layer"))
    for name in MODELS:
        monkeypatch.setitem(benchmark.WORKLOADS, name, (3, 6, 4, 5, "model"))
        monkeypatch.setitem(benchmark.MODEL_WORKLOADS, name,
                            dict(vocab=20, samples=20, validation_split=0.2))


def _run(workloads, contenders, **kw):
    return benchmark.run(workloads=workloads, contenders=contenders, min_time=0.0,
                         min_reps=1, blas_gflops=10.0, threads=1, **kw)


def _timed(rows, contender):
    return [r for r in rows if r["contender"] == contender and "skipped" not in r]


def test_workload_table(monkeypatch):
    monkeypatch.undo()  # the real sizes
    W = benchmark.WORKLOADS
    assert W["lstm-medium"] == W["gru-medium"] == (64, 100, 128, 256, "layer")
    assert W["lstm-large"] == W["gru-large"] == (32, 50, 512, 1024, "layer")
    assert W["lstm-imdb-fit"] == W["gru-imdb-fit"] == W["imdb-fit"]
    assert benchmark.MODEL_WORKLOADS["gru-imdb-fit"] == benchmark.MODEL_WORKLOADS["imdb-fit"]
    fwd = 2 * 64 * 100 * 256 * (128 + 256)
    assert benchmark.flops("lstm-medium", "inference") == 4 * fwd
    assert benchmark.flops("gru-medium", "training") == 3 * 3 * fwd
    assert benchmark.flops("medium", "inference") == fwd
    assert (benchmark.flops("lstm-imdb-fit", "training")
            == 4 * benchmark.flops("imdb-fit", "training"))
    # the large LSTM/GRU layers and the fit epochs are opt-in; the others run by default
    assert set(W) - set(benchmark.DEFAULT_WORKLOADS) == {"lstm-large", "gru-large"} | set(MODELS)
    assert benchmark.parse_args([]).workloads == list(benchmark.DEFAULT_WORKLOADS)
    assert benchmark.parse_args(["--workloads", "all"]).workloads == list(W)


def test_case_layouts():
    x, ((W, U, b),) = benchmark.make_case("lstm-medium")
    assert x.shape == (3, 5, 4) and (W.shape, U.shape, b.shape) == ((4, 24), (6, 24), (24,))
    _, ((W, U, b),) = benchmark.make_case("gru-medium", "float64")
    assert (W.shape, U.shape, b.shape) == ((4, 18), (6, 18), (2, 18))
    assert W.dtype == b.dtype == np.float64
    (x, y), weights = benchmark.make_case("lstm-imdb-fit")
    assert [w.shape for w in weights] == [(20, 4), (4, 20), (5, 20), (20,), (5, 1), (1,)]
    assert np.array_equal(weights[3], np.repeat([0.0, 1.0, 0.0, 0.0], 5))  # forget bias 1
    (x, y), weights = benchmark.make_case("gru-imdb-fit")
    assert x.shape == (20, 6) and weights[3].shape == (2, 15) and not weights[3].any()


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_torch_layout_round_trip(kind):
    # PyTorch's gradients have its parameters' layout: mapping the parameters back as if
    # they were gradients gives Keras's weights again
    rng = np.random.default_rng(0)
    G = {"lstm": 4, "gru": 3}[kind]
    W, U = rng.standard_normal((4, G * 6)), rng.standard_normal((6, G * 6))
    b = rng.standard_normal((2, G * 6) if kind == "gru" else G * 6)
    w_ih, w_hh, b_ih, b_hh = gated.torch_layout(kind, W, U, b)
    assert w_ih.shape == (G * 6, 4) and w_hh.shape == (G * 6, 6)
    if kind == "lstm":
        assert not b_hh.any()
    back = gated.keras_grads(kind, w_ih, w_hh, b_ih, b_hh)
    for a, ref in zip(back, (W, U, b)):
        np.testing.assert_array_equal(a, ref)
    # GRU: PyTorch's first block is the reset gate, Keras's second
    if kind == "gru":
        np.testing.assert_array_equal(w_ih[:6], W[:, 6:12].T)


@pytest.mark.parametrize("contender", ["numpy", "torch", "onnxruntime", "openvino", "jax"])
def test_layer_contenders_agree(contender):
    pytest.importorskip(IMPORT[contender])
    rows = _run(LAYERS, [contender])
    timed = _timed(rows, contender)
    runs_training = contender in ("numpy", "torch", "jax")
    expected = [(w, m) for w in LAYERS for m in benchmark.MODES
                if m == "inference" or runs_training]
    assert [(r["workload"], r["mode"]) for r in timed] == expected
    for r in timed:
        assert r["agreed"] and r["max_rel_diff"] <= benchmark.TOLERANCE["float32"][1]


def test_layer_float64_torch_and_numpy():
    pytest.importorskip("torch")
    rows = _run(LAYERS, ["numpy", "torch"], dtype="float64")
    assert len(_timed(rows, "torch")) == len(_timed(rows, "numpy")) == 4
    assert all(r["max_rel_diff"] <= benchmark.TOLERANCE["float64"][1] for r in rows
               if "skipped" not in r)


@pytest.mark.parametrize("contender", ["torch", "jax"])
def test_model_contenders_agree(contender):
    pytest.importorskip(contender)
    rows = _run(MODELS, [contender])
    timed = _timed(rows, contender)
    assert [(r["workload"], r["mode"]) for r in timed] == [
        (w, m) for w in MODELS for m in benchmark.MODES]
    assert all(r["agreed"] for r in timed)


@pytest.mark.parametrize("runtime,kind,contender,mode", [
    ("torch", "gru", "torch", "training"),        # r and z swapped
    ("onnx", "lstm", "onnxruntime", "inference"),  # Keras's i, f, c, o given as i, o, f, c
    ("openvino", "lstm", "openvino", "inference"),
])
def test_wrong_gate_order_is_caught(monkeypatch, runtime, kind, contender, mode):
    pytest.importorskip(IMPORT[contender])
    # Keras's own order: wrong for each of these
    monkeypatch.setitem(gated.ORDER[runtime], kind, tuple(range(len(gated.ORDER[runtime][kind]))))
    with pytest.raises(benchmark.AgreementError, match=f"'{contender}'"):
        _run([f"{kind}-medium"], [contender], modes=[mode])


@pytest.mark.skipif(not os.environ.get("FASTRNN_KERAS_PYTHON"),
                    reason="set FASTRNN_KERAS_PYTHON to an interpreter with Keras 3")
def test_keras_agrees():
    rows = _run(LAYERS + MODELS, ["keras"], keras_python=os.environ["FASTRNN_KERAS_PYTHON"])
    timed = _timed(rows, "keras")
    assert len(timed) == 8 and all(r["agreed"] for r in timed)
