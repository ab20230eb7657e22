"""One optimizer step over all of a model's dense variables at once.

``FlatApply(optimizer, variables)`` keeps one flat buffer per slot (``velocity``,
``momentum``, ...) and makes every variable's slot a view of its part, so the optimizer's
state stays where ``optimizer.variables``, saving and the general ``apply`` find it. For
SGD, RMSprop and Adam (and AdamW) a step is one compiled call,
``fastrnn._kernel.optimizer_step`` (src/_step_impl.c): their ``update_step``'s
operations, one rounded operation at a time, on each variable in place with its part of
the flat gradient and slots. For the other rules a step gathers the variables into one
flat array, runs the optimizer's own ``_update_all`` on that single array (gradients
concatenated the same way), and copies the parts back.

Every built-in update rule is elementwise given its scalars (learning rate, step count),
so this computes exactly the numbers of ``Optimizer.apply`` on the separate arrays: the
same operations on the same values, only fewer NumPy calls. Rules that are not
elementwise across a variable (``clipnorm``, ``global_clipnorm``) and optimizers this
module does not know (subclasses with their own ``update_step``) are refused:
``FlatApply.supports`` says so and the caller keeps ``apply``.
"""
from operator import attrgetter

import numpy as np

from .. import _kernel
from .adam import Adam, Adamax, Nadam
from .base import Optimizer, _cast
from .rmsprop import Adadelta, Adagrad, RMSprop
from .sgd import SGD

__all__ = ["FlatApply"]

_RULES = _kernel.OPTIMIZER_RULES

_ELEMENTWISE_STEPS = {cls.update_step for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam,
                                                  Adamax, Nadam)}
_UPDATE_ALL = {Optimizer._update_all, Nadam._update_all}


class FlatApply:
    """``apply(flat_gradient)`` = ``optimizer.apply(gradients, variables)`` for dense
    gradients concatenated in ``variables``' order (each raveled).

    Args:
        optimizer: a built-in fastrnn optimizer (see ``supports``).
        variables: C-contiguous, writeable float arrays of one dtype (updated in place).
    """

    def __init__(self, optimizer, variables):
        self.optimizer = optimizer
        self.variables = list(variables)
        dtype = self.variables[0].dtype
        sizes = [v.size for v in self.variables]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        total = self.bounds[-1]
        self.dtype = dtype
        self.weights = np.empty(total, dtype)
        self.parts = [self.weights[a:b].reshape(v.shape)
                      for v, a, b in zip(self.variables, self.bounds, self.bounds[1:])]
        self.raveled = [v.reshape(-1) for v in self.variables]
        self.slots = {}
        self._lr_raw = self._lr = None   # the float learning rate and its float32 value
        self._rule_key = self._rule = None  # the compiled step's arguments, and for what
        optimizer._flat_slots[id(self.weights)] = (self.weights, self.slots)
        for v in self.variables:
            optimizer._build_slots(v)
        self._sync()

    @staticmethod
    def supports(optimizer, variables):
        """Whether the flat step computes exactly ``optimizer.apply`` for ``variables``."""
        cls = type(optimizer)
        if (cls.update_step not in _ELEMENTWISE_STEPS or cls._update_all not in _UPDATE_ALL
                or cls.apply is not Optimizer.apply
                or optimizer.clipnorm is not None or optimizer.global_clipnorm is not None):
            return False
        if not variables:
            return False
        dtype = variables[0].dtype
        return all(type(v) is np.ndarray and v.dtype == dtype and dtype.kind == "f"
                   and v.flags.c_contiguous and v.flags.writeable for v in variables)

    def _sync(self):
        """Make every variable's slots views of the flat buffers (a slot the general
        path created meanwhile is copied in; one created on the flat buffer gets its
        per-variable views)."""
        opt = self.optimizer
        names = set(self.slots)
        for v in self.variables:
            entry = opt._slots.get(id(v))
            if entry is not None and entry[0] is v:
                names.update(entry[1])
        for name in sorted(names):
            buf = self.slots.get(name)
            if buf is None:
                buf = self.slots[name] = np.zeros(self.weights.size, self.dtype)
            for v, a, b in zip(self.variables, self.bounds, self.bounds[1:]):
                entry = opt._slots.get(id(v))
                if entry is None or entry[0] is not v:
                    entry = opt._slots[id(v)] = (v, {})
                part = buf[a:b].reshape(v.shape)
                old = entry[1].get(name)
                if old is not None and not np.shares_memory(old, buf):
                    part[...] = old
                entry[1][name] = part
        self.version = opt._slot_version

    def apply(self, flat_gradient):
        """One step: ``flat_gradient`` is the variables' gradients raveled and
        concatenated (dense, of the variables' dtype). Returns True when the variables,
        their slots and ``optimizer.iterations`` were updated; False, with nothing
        changed, when a gradient is not finite (the general step's check)."""
        opt = self.optimizer
        if opt._slot_version != self.version:
            self._sync()
        g = flat_gradient
        if opt.loss_scale_factor is not None or opt.clipvalue is not None:
            if not _all_finite(g):  # the gradients as computed, not as scaled
                return False
            if opt.loss_scale_factor is not None:
                g = g / g.dtype.type(opt.loss_scale_factor)
            if opt.clipvalue is not None:
                c = g.dtype.type(opt.clipvalue)
                g = np.clip(g, -c, c)
        raw = opt._learning_rate
        if raw is not self._lr_raw or type(raw) is not float:
            self._lr_raw, self._lr = raw, opt.learning_rate
        lr = self._lr
        compiled = self._compiled(opt, lr)
        if compiled is not None:
            code, bufs, scalars = compiled
            decay = None
            if opt.weight_decay is not None:
                dtype = self.dtype.type
                decay = (_cast(opt.weight_decay, dtype), dtype(lr))
            # checks that g is finite, unless a scaled or clipped g (checked above)
            if not _kernel.optimizer_step(code, self.variables, g, bufs, scalars, decay,
                                          g is flat_gradient):
                return False
            opt.iterations += 1
            return True
        if g is flat_gradient and not _all_finite(g):
            return False
        w = self.weights
        np.concatenate(self.raveled, out=w)
        if opt.weight_decay is not None:
            dtype = w.dtype.type
            w -= w * _cast(opt.weight_decay, dtype) * dtype(lr)
        opt._update_all([g], [w], lr)
        opt.iterations += 1
        for v, part in zip(self.variables, self.parts):
            v[...] = part
        if opt._slot_version != self.version:  # a slot made on the flat buffer
            self._sync()
        return True

    def _compiled(self, opt, lr):
        """``(rule, slot buffers, scalars)`` of this step's ``_kernel.optimizer_step``
        call, or None (a rule only NumPy runs, or a slot not made yet). Remade when the
        learning rate or a hyperparameter the rule reads has changed."""
        attrs = _RULE_ATTRIBUTES.get(type(opt).update_step)
        if attrs is None:
            return None
        key = (lr, attrs(opt))
        if key != self._rule_key:
            code, names, scalars = _compiled_rule(opt, self.dtype.type, lr)
            bufs = tuple(None if n is None else self.slots.get(n) for n in names)
            if any(b is None and n is not None for b, n in zip(bufs, names)):
                return None  # the NumPy step makes the slot
            self._rule_key, self._rule = key, (code, bufs, scalars)
        return self._rule

    def close(self):
        """Forget the flat buffers: the slots stay views of them, so their values (and
        the general ``apply`` that updates them in place) are unaffected."""
        self.optimizer._flat_slots.pop(id(self.weights), None)


def _all_finite(g):
    """np.all(np.isfinite(g)), its reduction called directly."""
    return bool(np.logical_and.reduce(np.isfinite(g), axis=None))


# what each compiled rule's scalars and slots depend on besides the learning rate
_RULE_ATTRIBUTES = {
    SGD.update_step: attrgetter("momentum", "nesterov"),
    RMSprop.update_step: attrgetter("rho", "epsilon", "momentum", "centered"),
    Adam.update_step: attrgetter("beta_1", "beta_2", "epsilon", "amsgrad", "iterations"),
}


def _compiled_rule(opt, dtype, lr):
    """``(rule, slot names, scalars)`` for ``_kernel.optimizer_step``: the scalars that
    ``opt``'s ``update_step`` computes for this step, in the order of src/_step.h, or
    None for the rules only NumPy runs (Adagrad, Adadelta, Adamax, Nadam). ``dtype``:
    the variables' NumPy scalar type; ``lr``: ``opt.learning_rate``."""
    step = type(opt).update_step
    if step is SGD.update_step:
        if opt.momentum == 0:
            return _RULES["sgd"], (None, None, None), (float(dtype(lr)),)
        return _RULES["sgd_momentum"], ("momentum", None, None), (
            float(dtype(lr)), float(_cast(opt.momentum, dtype)), float(bool(opt.nesterov)))
    if step is RMSprop.update_step:
        momentum = opt.momentum > 0
        return _RULES["rmsprop"], (
            "velocity", "momentum" if momentum else None,
            "average_gradient" if opt.centered else None), (
            float(dtype(lr)), float(dtype(opt.rho)), float(dtype(1 - opt.rho)),
            float(dtype(opt.epsilon)), float(dtype(opt.momentum)), float(momentum),
            float(bool(opt.centered)))
    if step is Adam.update_step:
        return _RULES["adam"], ("momentum", "velocity",
                                "velocity_hat" if opt.amsgrad else None), (
            float(opt._alpha(dtype, dtype(lr))), float(dtype(1 - opt.beta_1)),
            float(dtype(1 - opt.beta_2)), float(dtype(opt.epsilon)),
            float(bool(opt.amsgrad)))
    return None
