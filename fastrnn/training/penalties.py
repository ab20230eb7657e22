"""Regularization penalties and constraints in a training step, as Keras 3 applies them.

Keras 3 (``Trainer.compute_loss``) adds ``sum(model.losses)`` to the loss that ``fit``,
``train_on_batch``, ``evaluate`` and ``test_on_batch`` report and that training minimises:

- a weight regulariser's penalty ``reg(w)`` for every trainable weight that has one
  (``kernel_regularizer``, ``recurrent_regularizer``, ``bias_regularizer``,
  ``embeddings_regularizer``), with gradient ``reg.gradient(w)`` added to ``w``'s;
- a layer's ``activity_regularizer`` on each of its outputs: ``reg(output) / batch``
  (keras/src/layers/layer.py ``__call__``), whose gradient joins the gradient of that
  output tensor before the tape's reverse walk. Keras 3.15's SimpleRNN never applies its
  activity_regularizer (measured; fastrnn's SimpleRNN drops it).

Constraints (``<role>_constraint``) project a trainable weight after each optimizer update
(Keras's ``optimizer.apply`` assigns ``constraint(variable)``).
"""
import numpy as np

from ..layers.core import activation_backward
from ..layers.input_layer import flatten
from .tape import _accumulate

__all__ = ["weight_penalty", "pairs_penalty", "activity_penalty", "apply_constraints",
           "check_nested_activity"]


def _gradient(rule, x, what):
    grad = getattr(rule, "gradient", None)
    if grad is None:
        raise TypeError(f"The {what} {rule!r} has no `gradient(x)` method, so fastrnn cannot "
                        "train with it; use a fastrnn.regularizers object (L1, L2, L1L2) or "
                        "subclass fastrnn.regularizers.Regularizer.")
    return grad(x)


def weight_penalty(model, trainable_ids, gradients=None):
    """Sum of the weight regularisers' penalties of ``model``'s trainable weights.

    Args:
        trainable_ids: ids of the trainable weight arrays.
        gradients: ``{id(weight): gradient}`` to add the penalties' gradients to (a
            row-sparse gradient becomes dense there), or None (evaluation).

    Returns:
        The penalty, a float.
    """
    pairs = [(w, rule) for w, rule in model.weight_regularizers() if id(w) in trainable_ids]
    return pairs_penalty(pairs, gradients)


def pairs_penalty(pairs, gradients=None):
    """``weight_penalty`` for a list of ``(weight, regularizer)`` pairs already chosen
    (a training plan keeps the list)."""
    total = 0.0
    for w, rule in pairs:
        total += float(rule(w))
        if gradients is not None:
            _accumulate(gradients, id(w), np.asarray(_gradient(rule, w, "regularizer"),
                                                     dtype=w.dtype))
    return total


def activity_penalty(nodes, values, contexts, d_tensors=None):
    """Sum of the activity penalties of ``nodes``' layers on this step's outputs.

    Args:
        nodes: the model's graph nodes; values: ``{tensor id: array}`` from ``run_graph``.
        contexts: ``{tensor id: context}`` of the model's outputs (an output whose loss was
            computed from the logits gets its activity gradient through the activation).
        d_tensors: ``{tensor id: gradient}`` to add the gradients to, or None.
    """
    total = 0.0
    for node in nodes:
        rule = getattr(node.layer, "activity_regularizer", None)
        if rule is None:
            continue
        for t in flatten(node.outputs):
            out = values.get(id(t))
            if out is None or not np.issubdtype(np.asarray(out).dtype, np.floating):
                continue
            out = np.asarray(out)
            scale = out.dtype.type(out.shape[0] if out.ndim else 1)
            total += float(out.dtype.type(rule(out)) / scale) if scale else 0.0
            if d_tensors is None or not scale:
                continue
            grad = np.asarray(_gradient(rule, out, "activity_regularizer"), out.dtype) / scale
            ctx = contexts.get(id(t))
            if getattr(ctx, "d_wrt_logits", False):  # the loss's gradient is d/d logits
                plain = type(ctx)(y=ctx.y, activation=ctx.activation)
                grad = activation_backward(plain, grad)
            _accumulate(d_tensors, id(t), grad)
    return total


def apply_constraints(model, trainable_ids):
    """Project every trainable weight that has a constraint, in place."""
    for w, rule in model.weight_constraints():
        if id(w) in trainable_ids:
            w[...] = np.asarray(rule(w), dtype=w.dtype)


def check_nested_activity(model):
    """NotImplementedError when a layer inside a nested model has an activity_regularizer
    (fastrnn applies activity penalties to the top-level graph's layers only)."""
    for layer in model.layers:
        inner = getattr(layer, "layers", None)
        if inner is None or not hasattr(layer, "_nodes"):
            continue
        for sub in inner:
            if getattr(sub, "activity_regularizer", None) is not None:
                raise NotImplementedError(
                    f"Layer `{sub.name}` inside the nested model `{layer.name}` has an "
                    "activity_regularizer; fastrnn applies activity regularizers only to "
                    f"the layers of the model being trained (`{model.name}').")
        check_nested_activity(layer)
