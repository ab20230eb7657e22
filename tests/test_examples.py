"""The README's example and `python -m fastrnn` run and do what they say."""
import pathlib
import runpy
import subprocess
import sys


ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_sine_forecast_example_learns():
    example = runpy.run_path(str(ROOT / "examples" / "sine_forecast.py"))
    history = example["main"](["--epochs", "3"])
    val = history.history["val_loss"]
    assert len(val) == 3 and val[-1] < 0.05  # predicting the mean scores about 0.49


def test_python_m_fastrnn_runs_the_tutorial(tmp_path):
    out = subprocess.run([sys.executable, "-m", "fastrnn"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300, check=True).stdout
    assert out.count("Total params: 42") == 3
    assert "(8, 2, 3)" in out and "shape: (1, 4, 3)" in out and "shape: (1, 3)" in out
    assert "bidirectional (Bidirectional" in out
    assert "NumPy loop" in out and "(64, 100, 128, 256)" in out
