"""``python -m fastrnn.benchmark``: fastrnn against the NumPy reference, PyTorch, ONNX
Runtime, JAX, OpenVINO and Keras 3 (see cli.py for the options).

    workloads.py          the workloads, their data, flops, tolerances and the timer
    contenders.py         fastrnn, NumPy, PyTorch, ONNX Runtime layer contenders; the table
    models.py             the model workloads (imdb-fit and its LSTM/GRU variants,
                          seed-step) for fastrnn and PyTorch
    gated.py              LSTM/GRU: NumPy reference, PyTorch, the other runtimes' layouts
    jax_contender.py      JAX (jit + lax.scan, jax.grad)
    openvino_contender.py OpenVINO (RNNSequence, LSTMSequence, GRUSequence)
    keras_contender.py    Keras 3, here or in another interpreter (--keras-python)
    runner.py             agreement check then timing; scaling, contention, memory cases
    report.py             environment, header, tables, plot
    cli.py                the command line
"""
from .cli import main, parse_args
from .contenders import _CONTENDERS, CONTENDERS
from .report import environment, format_contention, format_header, format_table, plot
from .runner import THREADED, blas_rate, busy_core, contention, memory_case, run, scaling
from .workloads import (DEFAULT_WORKLOADS, MODEL_WORKLOADS, MODES, TOLERANCE, WORKLOADS,
                        AgreementError, Skip, _time_fn, flops, make_case)

__all__ = ["run", "main", "WORKLOADS", "MODEL_WORKLOADS", "DEFAULT_WORKLOADS", "AgreementError",
           "Skip", "blas_rate", "memory_case", "scaling", "contention", "busy_core", "format_table",
           "format_contention", "format_header", "environment", "flops", "make_case",
           "parse_args", "plot", "CONTENDERS", "THREADED", "MODES", "TOLERANCE"]
# not public, but used by fastrnn/__main__.py and the tests
_internal = (_CONTENDERS, _time_fn)
