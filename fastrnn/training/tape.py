"""The tape: records (layer, context, input tensors, output tensors) for every layer call
of one step and walks them in reverse, summing gradients per tensor (fan-out) and per
weight (a layer used twice) — micrograd's ``+=`` applied to layers (DESIGN.md)."""
import numpy as np

__all__ = ["Tape"]


def _accumulate(store, key, value):
    """``store[key] += value``; row-sparse gradients (an Embedding used twice) concatenate
    their occurrences, and a sparse one added to a dense one becomes dense."""
    if value is None:
        return
    old = store.get(key)
    if old is None:
        store[key] = value
        return
    from ..optimizers import SparseGradient
    sparse_old, sparse_new = isinstance(old, SparseGradient), isinstance(value, SparseGradient)
    if sparse_old and sparse_new:
        store[key] = SparseGradient(np.concatenate([old.indices, value.indices]),
                                    np.concatenate([old.values, value.values]),
                                    old.dense_shape)
    elif sparse_old or sparse_new:
        dense = (old.to_dense() if sparse_old else old)
        store[key] = dense + (value.to_dense() if sparse_new else value)
    else:
        store[key] = old + value


class Tape:
    """One training step's record of layer calls.

    ``record`` is called in execution order; ``backward`` takes the gradients of the
    losses with respect to some tensors and returns the gradients of every recorded input
    tensor and of every weight that received one.
    """

    def __init__(self, input_gradients=True):
        """input_gradients: whether the gradients of the graph's inputs are wanted (a
        nested model, a gradient check); if not, calls that lead to no trainable weight
        are not walked back (so a Lambda before every trainable layer is fine)."""
        self.records = []
        self.input_gradients = bool(input_gradients)
        self._needs = set()

    def record(self, layer, ctx, inputs, outputs):
        """inputs/outputs: the node's flat lists of symbolic tensors (keys are their ids)."""
        in_ids = [id(t) for t in inputs]
        out_ids = [id(t) for t in outputs]
        needs = (self.input_gradients or bool(layer.trainable_weights)
                 or any(i in self._needs for i in in_ids))
        if needs:
            self._needs.update(out_ids)
        self.records.append((layer, ctx, in_ids, out_ids, needs))

    def backward(self, d_tensors):
        """Reverse walk.

        Args:
            d_tensors: {tensor id: gradient array} for the tensors the loss depends on.

        Returns:
            ``(d_tensors, d_weights)``: gradients by tensor id (inputs included) and by
            ``id(weight array)``; a weight or tensor that got none is absent.
        """
        grads = dict(d_tensors)
        d_weights = {}
        for layer, ctx, in_ids, out_ids, needs in reversed(self.records):
            d_out = [grads.get(i) for i in out_ids]
            if not needs or all(d is None for d in d_out):
                continue
            d_inputs, d_w = layer.backward(ctx, d_out if len(out_ids) > 1 else d_out[0])
            if len(d_inputs) != len(in_ids):
                raise RuntimeError(f"Layer `{layer.name}` returned {len(d_inputs)} input "
                                   f"gradients for {len(in_ids)} inputs.")
            for i, d in zip(in_ids, d_inputs):
                _accumulate(grads, i, d)
            if d_w:
                weights = layer.weights
                if len(d_w) != len(weights):
                    raise RuntimeError(f"Layer `{layer.name}` returned {len(d_w)} weight "
                                       f"gradients for {len(weights)} weights.")
                for w, d in zip(weights, d_w):
                    _accumulate(d_weights, id(w), d)
        return grads, d_weights

