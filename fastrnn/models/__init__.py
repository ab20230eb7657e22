"""Models: ``Model`` (the functional API: a graph of layers) and ``Sequential`` (a builder
over the same graph)."""
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]

MODELS = {"Model": Model, "Functional": Model, "Sequential": Sequential}
