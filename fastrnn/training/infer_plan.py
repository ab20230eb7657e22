"""A lean ``predict_on_batch`` for chain models: the layers' calls in a row.

``run_graph`` (what ``predict_on_batch`` runs) keys every tensor by id, looks up masks,
builds keyword arguments and checks output counts for every node, and
``_standardize_inputs`` checks the input every call. For a model whose nodes form a chain
(one input, each node calling one layer on the previous node's single output, no initial
states, no layer that may make a mask, one output), an ``InferPlan`` runs
``layer.call(h, training=...)`` node after node, exactly the calls ``run_node`` makes
there, for an input whose dtype and shape a general call already accepted (a native
NumPy array of a plain numeric dtype, which standardizing returns unchanged). Dropped when
the model's nodes or any layer's structure change (``structure_version``).
"""
import numpy as np

from .. import _validation as V
from ..layers.base import structure_version
from ..layers.input_layer import KerasTensor
from .plan import _PASS_THROUGH_MASKS

__all__ = ["InferPlan", "plan_for", "seen"]


class InferPlan:
    """``run(x)``: the model's output for ``x`` through the chain of layer calls;
    ``calls`` is None when the model is not such a chain."""

    def __init__(self, model):
        self.calls = None
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            return
        prev = id(model.inputs[0])
        calls = []
        for node in model._nodes:
            layer = node.layer
            if (type(node.args) is not KerasTensor or id(node.args) != prev
                    or node.initial_state is not None or len(node.outputs) != 1
                    or (layer.supports_masking
                        and type(layer).compute_mask not in _PASS_THROUGH_MASKS)):
                return  # several inputs, states, or a mask that could flow
            calls.append((layer, bool(node.call_kwargs.get("training", False))))
            prev = id(node.outputs[0])
        if calls and prev == id(model.outputs[0]):
            self.calls = calls

    def run(self, x):
        h = x
        for layer, training in self.calls:
            h = layer.call(h, training=training)
        return h


def _state(model):
    """The model's plan cache: {"stamp", "seen" (signatures), "plan"}, reset when stale."""
    stamp = (structure_version(), model._nodes)
    cache = model.__dict__.get("_infer_plans")
    if cache is None or cache["stamp"][0] != stamp[0] or cache["stamp"][1] is not stamp[1]:
        cache = model._infer_plans = {"stamp": stamp, "seen": set(), "plan": None}
    return cache


def _signature(x):
    if type(x) is np.ndarray and x.dtype in V._PLAIN and x.dtype.isnative:
        return x.dtype, x.shape
    return None


def plan_for(model, x):
    """The plan to run ``x`` through, or None (the general call)."""
    sig = _signature(x)
    if sig is None or "_infer_plans" not in model.__dict__:
        return None
    cache = _state(model)
    if sig not in cache["seen"]:
        return None
    plan = cache["plan"]
    if plan is None:
        plan = cache["plan"] = InferPlan(model)
    return plan if plan.calls is not None else None


def seen(model, x):
    """Record that a general call accepted ``x``'s signature."""
    sig = _signature(x)
    if sig is not None:
        done = _state(model)["seen"]
        if len(done) >= 64:  # many shapes: start over
            done.clear()
        done.add(sig)
