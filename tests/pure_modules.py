"""Import fastrnn's pure-NumPy modules even when the compiled kernel is not built.

``fastrnn/__init__.py`` imports the kernel eagerly; losses, metrics, optimizers and callbacks
need only NumPy. When ``import fastrnn`` fails, ``load`` imports the requested modules under a
bare stand-in package and then takes the stand-in out of ``sys.modules`` again, so that other
tests still see the real (loudly failing) import.
"""
import importlib
import pathlib
import sys
import types


def _fastrnn_entries():
    return [k for k in sys.modules if k == "fastrnn" or k.startswith("fastrnn.")]


def load(*names):
    """``load("losses", "metrics")`` -> the modules ``fastrnn.losses``, ``fastrnn.metrics``."""
    try:
        return tuple(importlib.import_module(f"fastrnn.{name}") for name in names)
    except ImportError:
        pass
    saved = {k: sys.modules.pop(k) for k in _fastrnn_entries()}
    package = types.ModuleType("fastrnn")
    package.__path__ = [str(pathlib.Path(__file__).resolve().parents[1] / "fastrnn")]
    sys.modules["fastrnn"] = package
    try:
        return tuple(importlib.import_module(f"fastrnn.{name}") for name in names)
    finally:
        for k in _fastrnn_entries():
            del sys.modules[k]
        sys.modules.update(saved)
