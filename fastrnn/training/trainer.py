"""compile / fit / evaluate / predict / *_on_batch for any graph model, with Keras 3's
semantics: one loss or a list/dict of losses per output, ``loss_weights``, per-output
metrics named ``<output>_<metric>``, per-output losses ``<output>_loss`` (unweighted, as
Keras 3 records them) and the total ``loss`` (weighted sum).

Keras's TensorFlow backend computes a crossentropy from the logits, with no clipping,
when the output tensor was made by the loss's own activation (sigmoid for binary,
softmax for categorical): a rule on the output node, whatever layer applied it (Dense,
Activation, a nested model ending in one).
"""
import math
import warnings

import numpy as np

from .. import _validation as V
from ..layers.input_layer import flatten
from ..models.graph import run_graph
from .legacy import GeneratorMethods
from .loops import Loops
from .penalties import activity_penalty, apply_constraints, check_nested_activity, \
    weight_penalty
from . import plan as plan_mod
from .tape import Tape

__all__ = ["Trainer"]


def _batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise V.invalid("batch_size", "a positive integer", batch_size)
    return int(batch_size)


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise V.invalid("verbose", "'auto', 0, 1 or 2", verbose)
    return int(verbose)


def _is_dask(x):
    import sys
    if "dask.array" not in sys.modules:  # plain NumPy prediction never imports dask
        return False
    import dask.array as da
    items = x if isinstance(x, (list, tuple)) else [x]
    return bool(items) and all(isinstance(v, da.Array) for v in items)


def _mask_weights(mask, y_pred):
    """Keras 3's ``apply_mask`` (keras/src/losses/loss.py) for one output: per-value loss
    weights ``total / valid`` where the mask is on and 0 where it is off (so the mean over
    the batch is the mean over valid timesteps), and the plain 0/1 weights metrics use.
    None when there is no mask or it does not fit the output's per-value losses."""
    if mask is None:
        return None, None
    m = np.asarray(mask, bool)
    if m.ndim != np.ndim(y_pred) - 1 or m.shape != np.shape(y_pred)[:m.ndim]:
        return None, None
    dtype = np.asarray(y_pred).dtype
    valid = int(m.sum())
    scale = m.size / valid if valid else 0.0
    return np.where(m, scale, 0.0).astype(dtype), m.astype(dtype)


class _CompileMetrics(list):
    """The compiled metric objects: a list that also answers ``.name`` and ``.metrics``
    as Keras 3's ``CompileMetrics`` container does."""
    name = "compile_metrics"

    @property
    def metrics(self):
        return list(self)


class _OutputLoss:
    """One output's loss, its weight, and its logits twin (see the module docstring)."""

    def __init__(self, name, loss, weight):
        self.name = name
        self.loss = loss
        self.weight = weight
        self.logits_loss = None
        if getattr(loss, "from_logits", True) is False and \
                getattr(loss, "logits_activation", None):
            config = dict(loss.get_config(), from_logits=True)
            self.logits_loss = type(loss).from_config(config)

    def uses_logits(self, ctx):
        return (self.logits_loss is not None and ctx is not None
                and getattr(ctx, "logits", None) is not None
                and getattr(ctx, "activation", None) == self.loss.logits_activation)


class Trainer(Loops, GeneratorMethods):
    """Mixed into Model: needs ``inputs``, ``outputs``, ``_nodes``, ``output_names``,
    ``weights``/``trainable_weights``, ``_standardize_inputs`` and ``name``."""

    compiled = False
    stop_training = False
    history = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configure training: an optimizer, losses (one, or a list/dict per output),
        optional ``loss_weights`` and metrics (a list, or a list/dict per output)."""
        from .. import losses, metrics as metrics_mod, optimizers
        for key, value in kwargs.items():
            if value is not None:
                raise NotImplementedError(f"fastrnn does not implement argument `{key}` of "
                                          f"compile; got {value!r}.")
        if loss is None:
            raise ValueError("Argument `loss` of compile is required, got None.")
        self.optimizer = optimizers.get(optimizer)
        # checked now where possible; resolved per output once the graph exists
        for spec in flatten(loss):
            if spec is not None:
                losses.get(spec)
        for spec in [s for m in (metrics, weighted_metrics) if m is not None
                     for s in flatten(m)]:
            if spec is not None:
                metrics_mod.get(spec)
        self.loss = losses.get(loss) if isinstance(loss, str) else loss
        self._compile_args = (loss, loss_weights, metrics, weighted_metrics)
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self._losses = None
        self._train_plans = None
        self.compiled = True
        if self.built:
            self._resolve_compile()

    def _resolve_compile(self):
        """Per-output losses, weights and metrics for the built graph (Keras 3's rules:
        one loss is used for every output; lists and dicts give one entry per output)."""
        from .. import losses, metrics as metrics_mod
        if self._losses is not None:
            return
        loss, loss_weights, metrics, weighted_metrics = self._compile_args
        names = self.output_names
        n = len(names)
        per_output = self._per_output(loss, "loss", names, broadcast=True)
        if loss_weights is None:
            weights = [None] * n
        elif isinstance(loss_weights, (int, float)) and not isinstance(loss_weights, bool):
            weights = [float(loss_weights)] * n
        else:
            weights = self._per_output(loss_weights, "loss_weights", names, broadcast=False)
        items = [None if spec is None else _OutputLoss(name, losses.get(spec), w)
                 for name, spec, w in zip(names, per_output, weights)]
        if all(item is None for item in items):
            raise ValueError("Argument `loss` of compile gives no loss for any output.")
        self._metrics = self._metric_lists(metrics, "metrics", items)
        self._weighted_metrics = self._metric_lists(weighted_metrics, "weighted_metrics",
                                                    items)
        for plain, weighted in zip(self._metrics, self._weighted_metrics):
            taken = {m.name for m in plain}
            for m in weighted:  # Keras 3 renames a weighted twin of a metric
                if m.name in taken:
                    m.name = "weighted_" + m.name
        self._output_loss_trackers = [
            metrics_mod.Mean(name=f"{item.name}_loss") if item is not None and n > 1 else None
            for item in items]
        self._losses = items

    def _metric_lists(self, metrics, argument, items):
        """One list of metric objects per output (Keras 3's rules for a list / dict)."""
        from .. import metrics as metrics_mod
        names = self.output_names
        if len(names) == 1:
            ms = [] if metrics is None else ([metrics] if isinstance(metrics, str) or
                                             callable(metrics) else list(flatten(metrics)))
            return [[metrics_mod.get(m, loss=items[0].loss) for m in ms]]
        if metrics is None:
            return [[] for _ in names]
        out = []
        for spec in self._per_output(metrics, argument, names, broadcast=False):
            spec = [] if spec is None else ([spec] if isinstance(spec, str) or
                                            callable(spec) else list(spec))
            out.append([metrics_mod.get(m) for m in spec])
        return out

    def _per_output(self, value, argument, names, broadcast):
        n = len(names)
        if isinstance(value, dict):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"Argument `{argument}` of compile names outputs "
                                 f"{sorted(unknown)}, but model `{self.name}` has outputs "
                                 f"{names}.")
            return [value.get(name) for name in names]
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(f"Argument `{argument}` of compile must have one entry per "
                                 f"output of model `{self.name}` ({n}: {names}), got "
                                 f"{len(value)}.")
            return list(value)
        if broadcast or n == 1:
            return [value] * n
        raise ValueError(f"Argument `{argument}` of compile must be a list or dict with one "
                         f"entry per output ({names}), got {value!r}.")

    @property
    def metrics_names(self):
        names = ["loss"]
        if self.compiled and self._losses is not None:
            names += [m.name for m in self._all_metrics_flat()]
            names += [t.name for t in self._output_loss_trackers if t is not None]
        return names

    def _all_metrics_flat(self):
        return [m for group in (self._metrics, self._weighted_metrics) for ms in group
                for m in ms]

    @property
    def compiled_metrics(self):
        """The compiled metric objects (``.metrics``: plain then weighted ones), as Keras
        3's ``CompileMetrics`` container; None before compile."""
        if not self.compiled:
            return None
        if self._losses is None and self.built:
            self._resolve_compile()
        return _CompileMetrics(self._all_metrics_flat() if self._losses is not None else [])

    @property
    def metrics(self):
        """Keras 3's ``model.metrics``: the loss tracker, the compiled metrics' container,
        then the per-output loss trackers; [] before compile."""
        if not self.compiled:
            return []
        out = [self._loss_tracker, self.compiled_metrics]
        if self._losses is not None:
            out += [t for t in self._output_loss_trackers if t is not None]
        return out

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` on model `{self.name}` before "
                               f"`{what}()`.")

    def reset_metrics(self):
        self._resolve_compile()
        self._loss_tracker.reset_state()
        for t in self._output_loss_trackers:
            if t is not None:
                t.reset_state()
        for m in self._all_metrics_flat():
            m.reset_state()

    def _logs(self, prefix=""):
        logs = {prefix + "loss": self._loss_tracker.result()}
        multi = len(self._metrics) > 1
        seen = {}
        pairs = [(name, ms) for group in (self._metrics, self._weighted_metrics)
                 for name, ms in zip(self.output_names, group)]
        for name, ms in pairs:
            for m in ms:
                key = f"{name}_{m.name}" if multi else m.name
                if key in seen:
                    seen[key] += 1
                    key = f"{key}_{seen[key] - 1}"
                else:
                    seen[key] = 1
                logs[prefix + key] = m.result()
        for t in self._output_loss_trackers:
            if t is not None:
                logs[prefix + t.name] = t.result()
        return logs

    def _return(self, logs, return_dict):
        """Keras 3's order for a list: loss, single-output metrics, per-output losses,
        then the other keys sorted."""
        if return_dict:
            return logs
        first = ["loss"] + [m.name for m in self._all_metrics_flat()] + \
            [t.name for t in self._output_loss_trackers if t is not None]
        values = [logs[k] for k in first if k in logs]
        values += [logs[k] for k in sorted(logs) if k not in first]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ data
    def _standardize_targets(self, y, n_samples, what):
        names = self.output_names
        if y is None:
            raise ValueError(f"Argument `y` of `{what}` is required, got None.")
        if isinstance(y, dict):
            missing = [n for n in names if n not in y and
                       self._losses[names.index(n)] is not None]
            if missing:
                raise ValueError(f"Argument `y` of `{what}` has no targets for outputs "
                                 f"{missing} of model `{self.name}` (keys: {list(y)}).")
            ys = [y.get(n) for n in names]
        elif isinstance(y, (list, tuple)) and len(names) > 1:
            if len(y) != len(names):
                raise ValueError(f"Argument `y` of `{what}` must hold one array per output of "
                                 f"model `{self.name}` ({len(names)}: {names}), got "
                                 f"{len(y)}.")
            ys = list(y)
        else:
            ys = [y]
        out = []
        for i, t in enumerate(ys):
            if t is None:
                out.append(None)
                continue
            t = V.numeric_array(t, "y", f"`{what}`")
            if t.shape[:1] != (n_samples,):
                raise ValueError(f"Arguments `x` and `y` of `{what}` must have the same number "
                                 f"of samples, got x with {n_samples} and y"
                                 f"{'' if len(ys) == 1 else f'[{i}]'} with shape {t.shape}.")
            out.append(t)
        return out

    def _check_xy(self, x, y, what):
        xs = self._standardize_inputs(x, what)
        self._resolve_compile()
        n = xs[0].shape[0]
        if n == 0:
            raise ValueError(f"Argument `x` of `{what}` has no samples (shape {xs[0].shape}); "
                             "expected at least one.")
        return xs, self._standardize_targets(y, n, what)

    # ------------------------------------------------------------------ steps
    def _loss_terms(self, ys, outs, contexts, training, masks=None, sws=None):
        """Total loss and {output tensor id: d loss / d output} (or d logits).

        An output's mask (from Masking / Embedding(mask_zero=True) through layers that
        pass it on) leaves its masked timesteps out of the loss, and combines with the
        output's sample weights as Keras 3's ``apply_mask`` does (keras/src/losses/loss.py:
        ``sample_weight * where(mask, total / valid, 0)``)."""
        total = 0.0
        d_tensors = {}
        masks = masks or [None] * len(outs)
        sws = sws or [None] * len(outs)
        for i, (item, y, out_t, y_pred) in enumerate(zip(self._losses, ys, self.outputs,
                                                         outs)):
            if item is None or y is None:
                continue
            ctx = contexts.get(id(out_t))
            mask = masks[i] if _mask_weights(masks[i], y_pred)[0] is not None else None
            kw = {"sample_weight": sws[i], "mask": mask}
            if item.uses_logits(ctx):
                value = float(item.logits_loss(y, ctx.logits, **kw))
                grad = item.logits_loss.gradient(y, ctx.logits, **kw) if training else None
                if training:
                    ctx.d_wrt_logits = True
            else:
                value = float(item.loss(y, y_pred, **kw))
                grad = item.loss.gradient(y, y_pred, **kw) if training else None
            if self._output_loss_trackers[i] is not None:
                # Keras 3 weights these by the batch size, which is None inside its traced
                # train/test steps: in effect each batch counts once (measured with 3.15.1)
                self._output_loss_trackers[i].update_state(value)
            weight = 1.0 if item.weight is None else item.weight
            total += weight * value
            if training:
                if weight != 1.0:
                    grad = grad * np.asarray(weight, grad.dtype)
                key = id(out_t)
                d_tensors[key] = grad if key not in d_tensors else d_tensors[key] + grad
        return total, d_tensors

    def _update_metrics(self, ys, outs, masks=None, sws=None):
        """Plain metrics see only the mask (0/1); weighted metrics the sample weights
        times the mask (Keras 3's CompileMetrics)."""
        masks = masks or [None] * len(outs)
        sws = sws or [None] * len(outs)
        for ms, wms, y, y_pred, mask, sw in zip(self._metrics, self._weighted_metrics, ys,
                                                outs, masks, sws):
            if y is None:
                continue
            m01 = _mask_weights(mask, y_pred)[1]
            for m in ms:
                if m01 is None:
                    m.update_state(y, y_pred)
                else:
                    m.update_state(y, y_pred, sample_weight=m01)
            if not wms:
                continue
            w = m01
            if sw is not None:
                w = np.asarray(sw)
                if m01 is not None:
                    w = w.reshape(w.shape + (1,) * max(m01.ndim - w.ndim, 0)) * m01
            for m in wms:
                if w is None:
                    m.update_state(y, y_pred)
                else:
                    m.update_state(y, y_pred, sample_weight=w)

    def _forward_for_loss(self, xs, training, tape=None):
        """Run the graph; also every tensor's value when an activity regulariser needs it."""
        out_ids = {id(t) for t in self.outputs}
        active = any(getattr(node.layer, "activity_regularizer", None) is not None
                     for node in self._nodes)
        values = {} if active else None
        check_nested_activity(self)
        outs, masks, contexts = run_graph(self._nodes, self.inputs, self.outputs, xs,
                                          training=training, tape=tape, ctx_for=out_ids,
                                          values=values)
        return outs, masks, contexts, values

    # the training plans (fastrnn.training.plan): False turns them off for this model
    use_train_plans = True

    def _train_plan(self, sig):
        """The valid plan for input signature ``sig``, or None (no plan: the general
        step runs, and a plan is made for ``sig`` once a general step has succeeded
        with it)."""
        plans = self.__dict__.get("_train_plans")
        if plans is None or not plans["stamp"] == plan_mod.stamp(self):
            plans = self._train_plans = {"stamp": plan_mod.stamp(self), "seen": set()}
        plan = plans.get(sig)
        if plan is None and sig in plans["seen"] and len(plans) < 10:
            plan = plans[sig] = plan_mod.TrainPlan.make(self) or False
        return plan or None

    def _train_step(self, xs, ys, where, sws=None, stacklevel=4):
        """One training step (see ``_train_step_general``), through the cached plan for
        this input signature when there is one."""
        if not self.use_train_plans:
            return self._train_step_general(xs, ys, where, sws, stacklevel)
        sig = plan_mod.signature(xs, ys, sws)
        plan = self._train_plan(sig)
        if plan is not None:
            return plan.step(xs, ys, sws, where, stacklevel)
        ok = self._train_step_general(xs, ys, where, sws, stacklevel)
        if ok:
            seen = self._train_plans["seen"]
            if len(seen) >= 64:  # many shapes (e.g. sequences of every length): start over
                seen.clear()
            seen.add(sig)
        return ok

    def _stop_nonfinite(self, loss, batch, where, stacklevel):
        """A step whose loss or a gradient is not finite: warn (at `stacklevel` from the
        caller of this method), stop training, count the loss; the weights stay. False.
        ``where``: a description, or fit's ``(epoch, step)`` (1-based), formatted only
        here."""
        if isinstance(where, tuple):
            where = f"epoch {where[0]}, step {where[1]}"
        warnings.warn(f"Training of model `{self.name}` stopped at {where}: the loss is "
                      f"{loss} (or a gradient is not finite). The weights from before "
                      "that step are kept.", RuntimeWarning, stacklevel=stacklevel + 1)
        self.stop_training = True
        self._loss_tracker.update_state(loss, sample_weight=batch)
        return False

    def _train_step_general(self, xs, ys, where, sws=None, stacklevel=3):
        tape = Tape(input_gradients=False)
        outs, masks, contexts, values = self._forward_for_loss(xs, True, tape)
        loss, d_tensors = self._loss_terms(ys, outs, contexts, True, masks, sws)
        if values is not None:
            loss += activity_penalty(self._nodes, values, contexts, d_tensors)
        _, d_weights = tape.backward(d_tensors)
        variables = self.trainable_weights
        trainable_ids = {id(v) for v in variables}
        loss += weight_penalty(self, trainable_ids, d_weights)
        grads = [d_weights.get(id(v)) for v in variables]
        finite = math.isfinite(loss) and all(
            g is None or np.isfinite(getattr(g, "values", g)).all() for g in grads)
        if not finite:
            return self._stop_nonfinite(loss, xs[0].shape[0], where, stacklevel)
        if any(g is not None for g in grads):
            self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables)
                                            if g is not None])
            apply_constraints(self, trainable_ids)
        self._loss_tracker.update_state(loss, sample_weight=xs[0].shape[0])
        self._update_metrics(ys, outs, masks, sws)
        return True

    def _test_step(self, xs, ys, sws=None):
        outs, masks, contexts, values = self._forward_for_loss(xs, False)
        loss, _ = self._loss_terms(ys, outs, contexts, False, masks, sws)
        if values is not None:
            loss += activity_penalty(self._nodes, values, contexts)
        loss += weight_penalty(self, {id(v) for v in self.trainable_weights})
        self._loss_tracker.update_state(loss, sample_weight=xs[0].shape[0])
        self._update_metrics(ys, outs, masks, sws)
