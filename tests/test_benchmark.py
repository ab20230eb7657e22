"""Quick tests of fastrnn.benchmark (NumPy contender only: no torch/onnxruntime needed)."""
import json

import numpy as np
import pytest

from fastrnn import benchmark

ROW_KEYS = {"workload", "mode", "contender", "batch", "timesteps", "features", "units",
            "dtype", "threads", "flops", "median_us", "min_us", "reps", "gflops", "ratio",
            "pct_blas", "max_rel_diff", "agreed"}


@pytest.fixture(autouse=True)
def _no_cooldown(monkeypatch):
    monkeypatch.setattr(benchmark.workloads, "COOLDOWN", 0.0)


def _run(**kw):
    kw = dict(dict(workloads=["seed"], modes=["inference", "training"], contenders=["numpy"],
                   min_time=0.01, blas_gflops=10.0), **kw)
    return benchmark.run(**kw)


def test_run_seed_rows():
    rows = benchmark.run(workloads=["seed"], modes=["inference", "training"],
                         contenders=["numpy"], min_time=0.01)
    assert [(r["mode"], r["contender"]) for r in rows] == [
        ("inference", "fastrnn"), ("inference", "numpy"),
        ("training", "fastrnn"), ("training", "numpy")]
    for r in rows:
        assert ROW_KEYS <= set(r), ROW_KEYS - set(r)
        assert r["workload"] == "seed" and (r["batch"], r["timesteps"], r["features"],
                                            r["units"]) == (8, 2, 10, 3)
        assert r["median_us"] > 0 and r["min_us"] > 0 and r["gflops"] > 0
        assert r["reps"] >= 5 and r["agreed"] is True
        assert r["max_rel_diff"] <= benchmark.TOLERANCE["float32"][1]
        assert r["pct_blas"] > 0 and r["blas_gflops"] > 0
    assert rows[0]["ratio"] == 1.0 and rows[2]["ratio"] == 1.0
    fwd = 2 * 8 * 2 * 3 * (10 + 3)
    assert rows[0]["flops"] == fwd and rows[2]["flops"] == 3 * fwd


def test_deep_bidir_reference_agrees():
    # a shrunken deep-bidir, so the two-layer bidirectional reference and gradients are checked
    saved = benchmark.WORKLOADS["deep-bidir"]
    benchmark.WORKLOADS["deep-bidir"] = (3, 5, 4, 6, "deep-bidir")
    try:
        rows = _run(workloads=["deep-bidir"], min_time=0.0)
    finally:
        benchmark.WORKLOADS["deep-bidir"] = saved
    assert all(r["agreed"] for r in rows) and len(rows) == 4
    assert rows[0]["flops"] == 2 * (2 * 3 * 5 * 6 * (4 + 6)) + 2 * (2 * 3 * 5 * 6 * (12 + 6))


def test_float64():
    rows = _run(dtype="float64", min_time=0.0)
    assert all(r["agreed"] and r["dtype"] == "float64" for r in rows)


def test_disagreement_raises(monkeypatch):
    good = benchmark._CONTENDERS["numpy"]

    def wrong(*args):
        fn, conv = good(*args)
        return fn, lambda out: [np.asarray(a) + 0.01 for a in conv(out)]

    monkeypatch.setitem(benchmark._CONTENDERS, "numpy", wrong)
    with pytest.raises(benchmark.AgreementError, match="'numpy'"):
        _run(modes=["inference"])
    with pytest.raises(benchmark.AgreementError, match="'numpy'.*training"):
        _run(modes=["training"])


def test_unavailable_contender_is_skipped(monkeypatch):
    def missing(*args):
        raise benchmark.Skip("not importable here")

    monkeypatch.setitem(benchmark._CONTENDERS, "torch", missing)
    rows = _run(modes=["inference"], contenders=["numpy", "torch"], min_time=0.0)
    skipped = [r for r in rows if "skipped" in r]
    assert [r["contender"] for r in skipped] == ["torch"]
    assert "skipped torch" in benchmark.format_table(rows)


def test_bad_arguments():
    with pytest.raises(ValueError, match="workload"):
        _run(workloads=["nope"])
    with pytest.raises(ValueError, match="contender"):
        _run(contenders=["caffe"])
    with pytest.raises(ValueError, match="mode"):
        _run(modes=["serving"])


def test_main_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    result = benchmark.main(["--workloads", "seed", "--contenders", "numpy", "--min-time",
                             "0.01", "--threads", "1", "--quiet", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["environment"]["threads"] == 1
    assert data["environment"]["versions"]["numpy"] == np.__version__
    assert data["environment"]["blas_gflops"] > 0
    assert len(data["results"]) == 4 and all(r["agreed"] for r in data["results"])
    assert result["results"][0]["contender"] == "fastrnn"
    text = capsys.readouterr().out
    assert "BLAS rate" in text and "median us" in text and "ratio" in text


def test_slow_blas_warning(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "prescott")
    header = benchmark.format_header(benchmark.environment(2, 1.0))
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in header


def test_memory_case_small(monkeypatch):
    from fastrnn import functional
    monkeypatch.setattr(functional, "CHUNK_BYTES", 2 * 8 * 4 * 50)  # chunks of ~50 steps
    mem = benchmark.memory_case(B=2, T=3000, D=4, H=8, check_steps=600)
    assert mem["agreed"] and mem["output_shape"] == [2, 8]
    assert mem["peak_traced_mb"] >= 0


# ---------------------------------------------------------------------------- new workloads
@pytest.fixture
def tiny_imdb(monkeypatch):
    """imdb-fit shrunk: vocabulary 20, 20 sequences of 6 steps, batches of 4 (so the
    training part ends on a partial batch and validation takes the last 4)."""
    monkeypatch.setitem(benchmark.WORKLOADS, "imdb-fit", (3, 6, 4, 5, "model"))
    monkeypatch.setitem(benchmark.MODEL_WORKLOADS, "imdb-fit",
                        dict(vocab=20, samples=20, validation_split=0.2))


def test_tutorial_workload_flops():
    assert benchmark.WORKLOADS["tutorial"][:4] == (128, 500, 32, 32)
    assert benchmark.flops("tutorial", "inference") == 2 * 128 * 500 * 32 * 64


def test_model_case_layout(tiny_imdb):
    (x, y), weights = benchmark.make_case("imdb-fit")
    assert x.shape == (20, 6) and x.dtype.kind == "i" and 0 <= x.min() and x.max() < 20
    assert y.shape == (20, 1) and set(np.unique(y)) <= {0.0, 1.0}
    assert [w.shape for w in weights] == [(20, 4), (4, 5), (5, 5), (5,), (5, 1), (1,)]
    (x, y), weights = benchmark.make_case("seed-step")
    assert x.shape == (8, 2, 10) and len(weights) == 5
    # training: 16 sequences forward + backward, 4 validation sequences forward
    per_seq = 2 * 6 * 5 * (4 + 5)
    assert benchmark.flops("imdb-fit", "training") == 3 * 16 * per_seq + 4 * per_seq


def test_seed_step_fastrnn_rows():
    rows = _run(workloads=["seed-step"], contenders=["numpy"], min_time=0.0)
    timed = [r for r in rows if "skipped" not in r]
    assert [(r["mode"], r["contender"]) for r in timed] == [("inference", "fastrnn"),
                                                            ("training", "fastrnn")]
    assert all(r["median_us"] > 0 for r in timed)
    assert "layer workloads only" in rows[1]["skipped"]


def test_fit_epoch_agrees_with_torch(tiny_imdb):
    pytest.importorskip("torch")
    rows = _run(workloads=["imdb-fit", "seed-step"], contenders=["torch"], min_time=0.0,
                min_reps=1, threads=1)
    assert len(rows) == 8 and all(r["agreed"] for r in rows)
    assert all(r["max_rel_diff"] <= benchmark.TOLERANCE["float32"][1] for r in rows)


def test_fit_final_loss_disagreement(tiny_imdb, monkeypatch):
    pytest.importorskip("torch")
    good = benchmark._CONTENDERS["torch"]

    def off(name, *args):
        fn, conv = good(name, *args)
        if name != "imdb-fit" or args[2] != "training":
            return fn, conv
        return fn, lambda out: [conv(out)[0] + 0.2] + conv(out)[1:]

    monkeypatch.setitem(benchmark._CONTENDERS, "torch", off)
    with pytest.raises(benchmark.AgreementError, match="'torch'.*final loss"):
        _run(workloads=["imdb-fit"], modes=["training"], contenders=["torch"], min_reps=1,
             threads=1)


def test_first_batch_gradient_disagreement(tiny_imdb, monkeypatch):
    pytest.importorskip("torch")
    good = benchmark._CONTENDERS["torch"]

    def off(name, *args):
        fn, conv = good(name, *args)
        return fn, lambda out: conv(out)[:3] + [conv(out)[3] * 1.1] + conv(out)[4:]

    monkeypatch.setitem(benchmark._CONTENDERS, "torch", off)
    with pytest.raises(benchmark.AgreementError, match="d_embeddings"):
        _run(workloads=["imdb-fit"], modes=["training"], contenders=["torch"], min_reps=1,
             threads=1)


def test_jax_agrees():
    pytest.importorskip("jax")
    rows = _run(workloads=["seed", "seed-step"], contenders=["jax"], min_time=0.0,
                min_reps=1, threads=1)
    assert len(rows) == 8 and all(r["agreed"] for r in rows)


def test_openvino_agrees():
    pytest.importorskip("openvino")
    rows = _run(workloads=["seed"], contenders=["openvino"], min_time=0.0)
    ok = [r for r in rows if r["contender"] == "openvino" and "skipped" not in r]
    assert [r["mode"] for r in ok] == ["inference"] and ok[0]["agreed"]
    assert "inference only" in rows[-1]["skipped"]


def test_busy_core_is_bounded_and_killed():
    import os
    with benchmark.busy_core(limit=5) as pid:
        os.kill(pid, 0)  # running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_contention_rows():
    rows = benchmark.contention(workloads=["seed"], contenders=["numpy"], threads=2,
                                min_time=0.0, min_reps=2, limit=20)
    assert [(r["workload"], r["mode"], r["contender"]) for r in rows] == [
        ("seed", "inference", "fastrnn"), ("seed", "training", "fastrnn")]
    for r in rows:
        assert r["us_threads"] > 0 and r["us_1_thread"] > 0
        assert r["ratio"] == pytest.approx(r["us_threads"] / r["us_1_thread"])
    assert "2 threads against 1" in benchmark.format_contention(rows, 2)


def test_main_contention_json(tmp_path):
    out = tmp_path / "bench.json"
    benchmark.main(["--workloads", "seed", "--contenders", "numpy", "--min-time", "0",
                    "--min-reps", "2", "--quiet", "--contention", "--json", str(out)])
    data = json.loads(out.read_text())
    assert len(data["contention"]) == 2 and data["contention"][0]["threads"] == 2
