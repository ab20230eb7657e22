"""Interoperability with PyTorch, ONNX and Dask (optional dependencies, imported lazily).

    from fastrnn.interop import from_torch, to_torch, to_onnx
    from fastrnn.interop import dask as fdask; fdask.predict(model, dask_array)

Importing this package imports none of PyTorch, ONNX or Dask; each function imports its
library when called and raises ImportError naming the package to install.
"""
from .onnx import to_onnx
from .torch import from_torch, to_torch

__all__ = ["from_torch", "to_torch", "to_onnx", "dask"]


def __getattr__(name):
    if name == "dask":
        import importlib
        return importlib.import_module(".dask", __name__)
    raise AttributeError(f"module 'fastrnn.interop' has no attribute {name!r}")
