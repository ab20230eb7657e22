"""Training plans: one training step with every decision that depends only on the model,
its compile arguments and the input signature taken once.

The general step (``Trainer._train_step_general``) rediscovers on every batch which
layers are trainable, which weights have regularisers or constraints, which tensors may
carry masks, how the graph's values are keyed, which optimizer slots exist, and checks
every argument. A ``TrainPlan`` is made for one input signature (dtypes and shapes of
``x``, ``y`` and the sample weights) after a general step has run with that signature
(so every check that depends only on the signature has passed once), and then runs:

- the graph's nodes in order, with each layer's ``lean_training()`` forward / backward
  where the layer has one and the call is plain (one input, no mask, no initial state),
  else the layer's own ``forward`` / ``backward`` exactly as the general step calls them;
- each output's loss through ``Loss.value_and_gradient`` (value and gradient together);
- the penalties, constraints and metrics from lists made once;
- the optimizer through ``fastrnn.optimizers.flat.FlatApply`` when it supports the
  variables (one flat update instead of one per variable), else ``apply_gradients``.

A plan computes exactly the numbers of the general step (tests run both side by side
and compare losses, metrics, weights and optimizer slots bit for bit). It is dropped
when anything it relied on may have changed: ``compile``, a layer's ``trainable``
flag or a layer being built (``fastrnn.layers.base.structure_version``), a Sequential
model's layers (its node list), ``model.optimizer`` or the losses being replaced.
Weights are read through the layers at every step, so ``set_weights``, in-place
changes and a new learning rate take effect at once.
"""
import math

import numpy as np

from .. import _kernel
from ..layers.base import Layer, structure_version
from ..layers.input_layer import KerasTensor
from ..layers.rnn.base import BaseRNN
from ..models.graph import run_node
from .penalties import pairs_penalty
from .tape import _accumulate

__all__ = ["TrainPlan", "signature"]

# compute_mask methods whose output mask is None when every input mask is None
_PASS_THROUGH_MASKS = {Layer.compute_mask, BaseRNN.compute_mask}


def signature(xs, ys, sws):
    """The input signature a plan is made for: dtypes and shapes of every array."""
    if len(xs) == 1 and len(ys) == 1 and sws and len(sws) == 1 and sws[0] is None \
            and ys[0] is not None:  # the common case, without the generators
        x, y = xs[0], ys[0]
        return (((x.dtype, x.shape),), ((y.dtype, y.shape),), (None,))
    return (tuple((a.dtype, a.shape) for a in xs),
            tuple(None if a is None else (a.dtype, a.shape) for a in ys),
            tuple(None if a is None else (np.asarray(a).dtype, np.shape(a))
                  for a in (sws or ())))


class _Recorder:
    """The ``tape`` argument of ``run_node``: keeps the context of the node it ran."""
    __slots__ = ("ctx",)

    def record(self, layer, ctx, inputs, outputs):
        self.ctx = ctx


class _Node:
    """One graph node in a plan: static ids, and the layer's lean functions if any."""
    __slots__ = ("node", "layer", "in_ids", "out_ids", "in_id", "out_id", "lean_fwd",
                 "lean_bwd", "need_output", "needs", "need_input", "weight_keys",
                 "masked")


class TrainPlan:
    """A training step for one model and one input signature (see the module docstring).

    Build with ``TrainPlan.make(model)``, which returns None for what plans do not cover
    (activity regularisers); ``step(xs, ys, sws, where)`` then has ``_train_step``'s
    contract.
    """

    def __init__(self, model):
        self.model = model
        self.steps = 0            # steps run (tests check that the plan was used)
        self.stamp = stamp(model)
        nodes = model._nodes
        out_ids = [id(t) for t in model.outputs]
        consumed = {id(t) for node in nodes for t in node.inputs}
        self.input_ids = [id(t) for t in model.inputs]
        self.output_ids = out_ids
        self.losses = model._losses
        metric_outputs = {i for i, (ms, wms) in enumerate(zip(model._metrics,
                                                               model._weighted_metrics))
                          if ms or wms}
        self.has_metrics = bool(metric_outputs)
        # tensors that may carry a mask (none of the model's inputs does in training)
        maybe_masked = set()
        needs_grad = set()
        self.nodes = []
        for node in nodes:
            layer = node.layer
            n = _Node()
            n.node, n.layer = node, layer
            n.in_ids = [id(t) for t in node.inputs]
            n.out_ids = [id(t) for t in node.outputs]
            n.masked = any(i in maybe_masked for i in n.in_ids)
            if layer.supports_masking and (
                    n.masked or type(layer).compute_mask not in _PASS_THROUGH_MASKS):
                maybe_masked.update(n.out_ids)
            n.needs = bool(layer.trainable_weights) or any(i in needs_grad for i in n.in_ids)
            n.need_input = any(i in needs_grad for i in n.in_ids)
            if n.needs:
                needs_grad.update(n.out_ids)
            n.weight_keys = [id(w) for w in layer.weights]
            lean = None
            plain = (isinstance(node.args, KerasTensor) and node.initial_state is None
                     and len(node.outputs) == 1 and not n.masked
                     and bool(node.call_kwargs.get("training", True)))
            if plain:
                lean = layer.lean_training()
            n.lean_fwd, n.lean_bwd = lean if lean is not None else (None, None)
            n.in_id = n.in_ids[0]
            n.out_id = n.out_ids[0]
            n.need_output = True
            if lean is not None and n.out_id not in consumed:
                n.need_output = not all(
                    self._logits_only(i, layer) and i not in metric_outputs
                    for i, o in enumerate(out_ids) if o == n.out_id)
            self.nodes.append(n)
        self.maybe_masked = maybe_masked
        self.output_masked = [o in maybe_masked for o in out_ids]
        self.items = [(i, item, out_ids[i], model._output_loss_trackers[i])
                      for i, item in enumerate(self.losses) if item is not None]
        variables = model.trainable_weights
        self.variables = variables
        self.variable_keys = [id(v) for v in variables]
        trainable_ids = set(self.variable_keys)
        self.regularized = [(w, r) for w, r in model.weight_regularizers()
                            if id(w) in trainable_ids]
        self.constrained = [(w, r) for w, r in model.weight_constraints()
                            if id(w) in trainable_ids]
        from ..optimizers.flat import FlatApply
        # made at its first use, when every gradient is dense (a step of the general
        # path would create the same slots then)
        self.flat_ok = FlatApply.supports(model.optimizer, variables)
        self._flat = None
        from .trainer import _mask_weights
        self._mask_weights = _mask_weights
        # what reset_metrics resets and _logs / _return report
        self.trackers = [model._loss_tracker] + [
            t for t in model._output_loss_trackers if t is not None] + \
            model._all_metrics_flat()
        self.loss_only = len(self.trackers) == 1
        self.chain = self._make_chain()
        self.loss_fns = {}  # the chain's lean loss function, by "from the logits"

    def _make_chain(self):
        """The lean chain: every node a lean call of a layer used once, each reading the
        previous node's output, ending at the model's only output, every weight
        trainable (in the optimizer's order), no regulariser, constraint or mask. Its
        step (``_chain_step``) needs no tensor dictionaries. None when the model is not
        such a chain."""
        nodes = self.nodes
        if (not nodes or len(self.output_ids) != 1 or len(self.items) != 1
                or self.items[0][3] is not None or self.regularized or self.constrained
                or not self.flat_ok or self.maybe_masked):
            return None
        prev = self.input_ids[0] if len(self.input_ids) == 1 else None
        keys = []
        for n in nodes:
            if (n.lean_fwd is None or n.in_id != prev or len(n.in_ids) != 1
                    or len(n.layer._inbound_nodes) != 1 or not n.needs):
                return None
            prev = n.out_id
            keys += n.weight_keys
        if prev != self.output_ids[0] or keys != self.variable_keys:
            return None
        # the gradients are written straight into one flat buffer, in the variables'
        # order (a layer used once writes each of its weights' gradients once)
        self.grad_buffer = np.empty(sum(v.size for v in self.variables),
                                    self.variables[0].dtype)
        outs, start = [], 0
        for n in nodes:
            views = []
            for w in n.layer.weights:
                views.append(self.grad_buffer[start:start + w.size].reshape(w.shape))
                start += w.size
            outs.append(tuple(views))
        return ([(n.lean_fwd, n.need_output) for n in nodes],
                [(i, n.lean_bwd, n.need_input, outs[i])
                 for i, n in reversed(list(enumerate(nodes)))])

    @property
    def flat(self):
        """The model's ``FlatApply`` for this plan's variables, or None."""
        if self._flat is None and self.flat_ok:
            self._flat = flat_apply(self.model, self.variables)
        return self._flat

    def reset_metrics(self):
        """``model.reset_metrics()`` with the list of metrics made once."""
        for m in self.trackers:
            m.reset_state()

    def logs(self, return_dict):
        """``model._return(model._logs(), return_dict)``: just the loss when the model
        reports nothing else."""
        if self.loss_only:
            loss = self.model._loss_tracker.result()
            return {"loss": loss} if return_dict else loss
        model = self.model
        return model._return(model._logs(), return_dict)

    def _logits_only(self, i, layer):
        """Whether output ``i``'s loss reads only the logits of ``layer``, a Dense whose
        activation the loss takes its logits from (so its lean forward may skip the
        activation)."""
        from ..layers.core import Dense
        item = self.losses[i]
        return (item is not None and item.logits_loss is not None
                and isinstance(layer, Dense)
                and layer.activation == item.loss.logits_activation)

    @classmethod
    def make(cls, model):
        """A plan for ``model``'s current state, or None when plans do not cover it."""
        if any(getattr(node.layer, "activity_regularizer", None) is not None
               for node in model._nodes):
            return None
        return cls(model)

    def valid(self):
        return self.stamp == stamp(self.model)

    # ------------------------------------------------------------------ the step
    def step(self, xs, ys, sws, where, stacklevel=4):
        self.steps += 1
        if self.chain is not None and (not sws or sws[0] is None):
            res = self._chain_step(xs[0], ys[0], where, stacklevel)
            if res is not None:
                return res
        return self._graph_step(xs, ys, sws, where, stacklevel)

    def _chain_step(self, x, y, where, stacklevel):
        """``_graph_step`` for a lean chain (see ``_make_chain``): the same calls in the
        same order. None when a lean forward declines (then nothing has changed)."""
        forwards, backwards = self.chain
        ctxs = []
        h = x
        for fwd, need_output in forwards:
            res = fwd(h, need_output)
            if res is None:
                return None
            h, ctx = res
            ctxs.append(ctx)
        if y is None:
            return None
        _, item, _, _ = self.items[0]
        ctx = ctxs[-1]
        logits = item.uses_logits(ctx)
        loss_fn = self.loss_fns.get(logits, False)
        if loss_fn is False:  # the lean loss for this plan's (fixed) shapes and dtypes
            loss_fn = self.loss_fns[logits] = getattr(
                item.logits_loss if logits else item.loss, "lean_value_and_gradient",
                lambda t, p: None)(y, ctx.logits if logits else h)
        if logits:
            value, d = (loss_fn(y, ctx.logits) if loss_fn is not None else
                        item.logits_loss.value_and_gradient(y, ctx.logits, None, None))
            ctx.d_wrt_logits = True
        else:
            value, d = (loss_fn(y, h) if loss_fn is not None else
                        item.loss.value_and_gradient(y, h, None, None))
        value = float(value)
        weight = 1.0 if item.weight is None else item.weight
        loss = 0.0
        loss += weight * value
        if weight != 1.0:
            d = d * np.asarray(weight, d.dtype)
        for i, bwd, need_input, out in backwards:
            d = bwd(ctxs[i], d, need_input, out)[0][0]
        loss += 0.0  # the penalty of no regulariser, as the general step adds it
        flat_grad = self.grad_buffer
        model = self.model
        batch = x.shape[0]
        tracker = model._loss_tracker
        # apply checks the gradients (np.isfinite) and changes nothing if one is not
        if not (math.isfinite(loss) and self.flat.apply(flat_grad)):
            return model._stop_nonfinite(loss, batch, where, stacklevel + 1)
        tracker.total += float(loss) * float(batch)
        tracker.count += float(batch)
        if self.has_metrics:
            model._update_metrics([y], [h], None, None)
        return True

    def _graph_step(self, xs, ys, sws, where, stacklevel):
        model = self.model
        values = dict(zip(self.input_ids, xs))
        mask_of = {} if self.maybe_masked else None
        records = []
        contexts = {}
        for n in self.nodes:
            res = None
            if n.lean_fwd is not None:
                res = n.lean_fwd(values[n.in_id], n.need_output)
            if res is not None:
                out, ctx = res
                values[n.out_id] = out
                if mask_of is not None:
                    mask_of[n.out_id] = None
                lean = True
            else:
                rec = _Recorder()
                if mask_of is None:
                    mask_of = {}
                ctx = run_node(n.node, values, mask_of, True, rec)
                lean = False
            contexts[n.out_ids[0]] = ctx
            if len(n.out_ids) > 1:
                for i in n.out_ids[1:]:
                    contexts[i] = ctx
            if n.needs:
                records.append((n, ctx, lean))
        # losses
        total = 0.0
        d_tensors = {}
        masks = None
        if mask_of is not None and any(self.output_masked):
            masks = [mask_of.get(o) for o in self.output_ids]
        _mask_weights = self._mask_weights
        for i, item, out_id, tracker in self.items:
            y = ys[i]
            if y is None:
                continue
            ctx = contexts.get(out_id)
            sw = sws[i] if sws else None
            mask = None
            if masks is not None and masks[i] is not None and \
                    _mask_weights(masks[i], values[out_id])[0] is not None:
                mask = masks[i]
            if item.uses_logits(ctx):
                value, grad = item.logits_loss.value_and_gradient(y, ctx.logits, sw, mask)
                ctx.d_wrt_logits = True
            else:
                value, grad = item.loss.value_and_gradient(y, values[out_id], sw, mask)
            value = float(value)
            if tracker is not None:
                tracker.update_state(value)
            weight = 1.0 if item.weight is None else item.weight
            total += weight * value
            if weight != 1.0:
                grad = grad * np.asarray(weight, grad.dtype)
            d_tensors[out_id] = grad if out_id not in d_tensors else d_tensors[out_id] + grad
        loss = total
        # backward
        grads = d_tensors
        d_weights = {}
        for n, ctx, lean in reversed(records):
            if len(n.out_ids) == 1:
                d_out = grads.get(n.out_id)
                if d_out is None:
                    continue
            else:
                d_out = [grads.get(i) for i in n.out_ids]
                if all(d is None for d in d_out):
                    continue
            layer = n.layer
            if lean:
                d_inputs, d_w = n.lean_bwd(ctx, d_out, n.need_input)
            else:
                d_inputs, d_w = layer.backward(ctx, d_out)
                if len(d_inputs) != len(n.in_ids):
                    raise RuntimeError(f"Layer `{layer.name}` returned {len(d_inputs)} input "
                                       f"gradients for {len(n.in_ids)} inputs.")
                if d_w and len(d_w) != len(n.weight_keys):
                    raise RuntimeError(f"Layer `{layer.name}` returned {len(d_w)} weight "
                                       f"gradients for {len(n.weight_keys)} weights.")
            if n.need_input:
                for i, d in zip(n.in_ids, d_inputs):
                    if d is not None:
                        if i in grads:  # fan-out: sum (the tape's rule)
                            _accumulate(grads, i, d)
                        else:
                            grads[i] = d
            if d_w:
                for key, d in zip(n.weight_keys, d_w):
                    if d is not None:
                        if key in d_weights:  # a layer called twice
                            _accumulate(d_weights, key, d)
                        else:
                            d_weights[key] = d
        loss += pairs_penalty(self.regularized, d_weights)
        flat_grad = None
        g_list = []
        dense = True
        for k in self.variable_keys:
            g = d_weights.get(k)
            g_list.append(g)
            if type(g) is not np.ndarray:
                dense = False
        flat = self.flat if dense and self.flat_ok else None
        if flat is not None:
            flat_grad = np.concatenate(g_list, axis=None)
            if flat_grad.dtype != flat.dtype:
                flat_grad = flat_grad.astype(flat.dtype)
            finite = math.isfinite(loss)  # and the gradients, checked by flat.apply
        else:
            finite = math.isfinite(loss) and all(
                g is None or _kernel.all_finite(getattr(g, "values", g)) for g in g_list)
        batch = xs[0].shape[0]
        tracker = model._loss_tracker
        if not finite:
            return model._stop_nonfinite(loss, batch, where, stacklevel + 1)
        if flat_grad is not None or any(g is not None for g in g_list):
            if flat_grad is not None:
                if not flat.apply(flat_grad):
                    return model._stop_nonfinite(loss, batch, where, stacklevel + 1)
            else:
                model.optimizer.apply_gradients(
                    [(g, v) for g, v in zip(g_list, self.variables) if g is not None])
            for w, rule in self.constrained:
                w[...] = np.asarray(rule(w), dtype=w.dtype)
        # Mean.update_state(loss, sample_weight=batch), the same float64 products
        tracker.total += float(loss) * float(batch)
        tracker.count += float(batch)
        if self.has_metrics:
            outs = [values[o] for o in self.output_ids]
            model._update_metrics(ys, outs, masks, sws)
        return True


def stamp(model):
    """What a plan relies on beyond its input signature (compared by identity)."""
    return (structure_version(), model._nodes, model.optimizer, model._losses)


def flat_apply(model, variables):
    """The model's ``FlatApply`` for ``variables`` (kept across plans), or None."""
    from ..optimizers.flat import FlatApply
    opt = model.optimizer
    old = model.__dict__.get("_flat_apply")
    if old is not None and old.optimizer is opt and len(old.variables) == len(variables) \
            and all(a is b for a, b in zip(old.variables, variables)):
        return old
    if old is not None:
        old.close()
        model._flat_apply = None
    if not FlatApply.supports(opt, variables):
        return None
    model._flat_apply = FlatApply(opt, variables)
    return model._flat_apply
