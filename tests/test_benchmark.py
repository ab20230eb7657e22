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
    monkeypatch.setattr(benchmark, "COOLDOWN", 0.0)


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
