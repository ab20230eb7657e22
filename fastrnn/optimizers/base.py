"""The optimizer base class: Keras 3's ``BaseOptimizer.apply`` over NumPy arrays.

One step:

1. drop ``None`` gradients (their variables are left alone);
2. divide by ``loss_scale_factor`` when set;
3. clip: ``clipnorm`` each gradient by its own L2 norm (``g * c / max(||g||, c)``), or
   ``global_clipnorm`` all of them by their joint norm, or ``clipvalue`` elementwise. A
   ``SparseGradient`` is clipped through its per-occurrence values, as TensorFlow clips an
   ``IndexedSlices`` (its norm is that of the values, repeated rows not summed first);
   ``global_clipnorm`` then densifies it, as Keras's ``g * scale`` does with TensorFlow;
4. decoupled weight decay, when set: ``var -= var * weight_decay * lr`` (every row);
5. the optimizer's ``update_step`` for each (gradient, variable);
6. ``iterations += 1``.

Everything is computed in each variable's dtype (float32 by default). The learning rate is
a number in Keras's floatx of the optimizer's creation (Keras keeps it in a variable of that
dtype: float32 unless ``fastrnn.config.set_floatx("float64")`` came first), a
``LearningRateSchedule`` evaluated at ``iterations`` (float32), or a callable without arguments.
Python-float hyperparameters that Keras's update rules pass through ``ops.cast(value,
variable.dtype)`` (Adam's betas, SGD's momentum, the weight decay) are float32-rounded first, as
``tf.cast`` of a Python float is (``_cast``); this only matters for float64 variables.
"""
import math
import numbers
import warnings

import numpy as np

from . import schedules as _schedules
from .sparse import SparseGradient

__all__ = ["Optimizer"]


def _cast(value, dtype):
    """Keras's ``ops.cast(python_float, dtype)`` with TensorFlow: ``tf.cast`` first makes a float32
    tensor of the Python float, so a float64 variable sees the float32-rounded value
    (``tf.cast(0.999, tf.float64)`` is 0.9990000128746033)."""
    return dtype(np.float32(value))


def _check_number(name, value, low=None, high=None, low_open=False, high_open=False,
                  allow_none=False):
    """Validate a real hyper-parameter; returns it as a Python float (or None)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a finite "
                         f"real number, got {value!r}.")
    value = float(value)
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "(" if low_open else "["
        hi = ")" if (high_open or high is None) else "]"
        interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a number "
                         f"in {interval}, got {value!r}.")
    return value


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a "
                         f"bool, got {value!r}.")
    return bool(value)


def _dtype_note(value):
    return "" if not hasattr(value, "dtype") else f" of {value.dtype}"


class Optimizer:
    """Base class of the optimizers (Keras 3's keyword arguments).

    Args:
        learning_rate: a positive float, a ``LearningRateSchedule`` (evaluated at
            ``iterations``), or a callable without arguments returning a float.
        weight_decay: optional float >= 0; decoupled decay ``var -= var * wd * lr``.
        clipnorm: optional float > 0; clip each gradient to this L2 norm.
        clipvalue: optional float > 0; clip each gradient to ``[-clipvalue, clipvalue]``.
        global_clipnorm: optional float > 0; clip all gradients to this joint L2 norm.
            At most one of ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` may be set.
        use_ema, ema_momentum, ema_overwrite_frequency: accepted; ``use_ema=True`` raises
            NotImplementedError (fastrnn keeps no moving average of the weights).
        loss_scale_factor: optional float; gradients are divided by it.
        gradient_accumulation_steps: must be None (NotImplementedError otherwise).
        name: the optimizer's name.
        decay: Keras 2's argument: as Keras 3.15, any value but None warns "Argument
            `decay` is no longer supported and will be ignored." and is ignored.
        lr: Keras 2's name of ``learning_rate``: read as it, with a warning (Keras 3
            raises "Argument(s) not recognized").

    Raises:
        ValueError: invalid numbers, several clipping arguments, unknown keyword arguments
            (``"Argument(s) not recognized: {...}"`` as Keras).

    Subclasses implement ``update_step(gradient, variable, learning_rate)``; ``gradient``
    is a dense array or a ``SparseGradient``. Slots come from ``self._slot(var, "name")``.
    """

    default_name = "optimizer"

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=3)
        if "lr" in kwargs:
            warnings.warn("Argument `lr` is Keras 2's name of `learning_rate` (Keras 3 "
                          "rejects it); fastrnn reads it as `learning_rate`.", stacklevel=3)
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        from ..config import floatx
        self._lr_dtype = np.dtype(floatx())    # Keras: the learning-rate variable's dtype
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.weight_decay = _check_number("weight_decay", weight_decay, low=0, allow_none=True)
        self.clipnorm = _check_number("clipnorm", clipnorm, low=0, low_open=True,
                                      allow_none=True)
        self.clipvalue = _check_number("clipvalue", clipvalue, low=0, low_open=True,
                                       allow_none=True)
        self.global_clipnorm = _check_number("global_clipnorm", global_clipnorm, low=0,
                                             low_open=True, allow_none=True)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}.")
        self.ema_momentum = _check_number("ema_momentum", ema_momentum, low=0, high=1)
        self.use_ema = _check_bool("use_ema", use_ema)
        if self.use_ema:
            raise NotImplementedError("fastrnn optimizers do not support `use_ema=True` (an "
                                      "exponential moving average of the weights).")
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = _check_number("loss_scale_factor", loss_scale_factor, low=0,
                                               low_open=True, allow_none=True)
        if gradient_accumulation_steps is not None:
            raise NotImplementedError("fastrnn optimizers do not support "
                                      "`gradient_accumulation_steps`; got "
                                      f"{gradient_accumulation_steps!r}.")
        self.gradient_accumulation_steps = None
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Received an invalid value for argument `name`, expected a "
                             f"string, got {name!r}.")
        self.name = name or self.default_name
        self.iterations = 0
        self._slots = {}          # id(variable) -> (variable, {slot name: array})
        self._flat_slots = {}     # the same for the flat buffers of fastrnn.optimizers.flat
        self._slot_version = 0    # bumped whenever a slot array is created

    def __repr__(self):
        return (f"<{type(self).__name__} name={self.name!r} "
                f"learning_rate={self.learning_rate:.6g} iterations={self.iterations}>")

    # -- learning rate --------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate as a float (rounded to the dtype Keras stores it in)."""
        lr = self._learning_rate
        dtype = np.float32
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = lr(self.iterations)
            if isinstance(lr, np.ndarray) and lr.ndim == 0:
                lr = lr[()]
            if isinstance(lr, np.generic):
                lr = lr.item()
            lr = _check_number("learning_rate", lr)
        elif callable(lr):
            lr = _check_number("learning_rate", lr())
        else:
            dtype = getattr(self, "_lr_dtype", np.dtype(np.float32)).type
        return float(dtype(lr))

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, _schedules.LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object "
                            "as its `learning_rate` constructor argument, hence its learning "
                            "rate is not settable. If you need the learning rate to be "
                            "settable, you should instantiate the optimizer with a float "
                            "`learning_rate` argument.")
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, np.generic):
            value = value.item()
        self._learning_rate = _check_number("learning_rate", value, low=0)

    # -- slots ----------------------------------------------------------------------------
    def _slot(self, variable, name):
        """The slot array ``name`` of ``variable`` (zeros of its shape and dtype at first)."""
        key = id(variable)
        entry = self._slots.get(key)
        if entry is None or entry[0] is not variable:
            flat = getattr(self, "_flat_slots", {}).get(key)
            if flat is not None and flat[0] is variable:
                entry = flat
            else:
                entry = self._slots[key] = (variable, {})
        slots = entry[1]
        if name not in slots:
            slots[name] = np.zeros_like(variable)
            self._slot_version = getattr(self, "_slot_version", 0) + 1
        return slots[name]

    def _has_slot(self, variable, name):
        """Whether ``variable`` already has its slot ``name``."""
        key = id(variable)
        for table in (self._slots, getattr(self, "_flat_slots", {})):
            entry = table.get(key)
            if entry is not None and entry[0] is variable:
                return name in entry[1]
        return False

    @property
    def variables(self):
        """All slot arrays, in creation order."""
        return [a for _, slots in self._slots.values() for a in slots.values()]

    def build(self, variables):
        """Create the slots of ``variables`` now (otherwise done at their first update)."""
        for i, v in enumerate(variables):
            self._build_slots(self._check_variable(v, i))

    def _build_slots(self, variable):
        pass

    # -- applying gradients ---------------------------------------------------------------
    @staticmethod
    def _check_variable(variable, index):
        if not isinstance(variable, np.ndarray) or not np.issubdtype(variable.dtype,
                                                                     np.floating):
            raise TypeError(f"Received an invalid value for argument `variables` at index "
                            f"{index}, expected a float NumPy array (updated in place), got "
                            f"{type(variable).__name__}"
                            f"{_dtype_note(variable)}.")
        if not variable.flags.writeable:
            raise ValueError(f"Received an invalid value for argument `variables` at index "
                             f"{index}: the array is read-only and cannot be updated in place.")
        return variable

    def apply_gradients(self, grads_and_vars):
        """Apply a list of ``(gradient, variable)`` pairs; returns ``iterations``."""
        pairs = list(grads_and_vars)
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"Received an invalid value for argument `grads_and_vars` at "
                                 f"index {i}, expected a (gradient, variable) pair, "
                                 f"got {pair!r}.")
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def _coerce_gradient(self, g, v, i):
        if isinstance(g, SparseGradient):
            if g.dense_shape != v.shape:
                raise ValueError(f"Received an invalid value for argument `grads` at index "
                                 f"{i}, expected a SparseGradient of dense_shape {v.shape} "
                                 f"(the variable's), got {g.dense_shape}.")
            return g.astype(v.dtype)
        g = np.asarray(g, dtype=v.dtype)
        if g.shape != v.shape:
            raise ValueError(f"Received an invalid value for argument `grads` at index "
                             f"{i}, expected shape {v.shape} (the variable's), got {g.shape}.")
        return g

    def apply(self, grads, variables):
        """Update ``variables`` (NumPy arrays, in place) with ``grads``: arrays of the same
        shapes or ``SparseGradient``s of those dense shapes (None: skip that variable)."""
        grads, variables = list(grads), list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Received {len(grads)} gradients for {len(variables)} variables: "
                             "argument `grads` must have one entry per variable.")
        pairs = []
        for i, (g, v) in enumerate(zip(grads, variables)):
            self._check_variable(v, i)
            if g is not None:
                pairs.append((self._coerce_gradient(g, v, i), v))
        if not pairs:
            raise ValueError("No gradients provided for any variable: every entry of "
                             "argument `grads` is None.")
        grads = [g for g, _ in pairs]
        if self.loss_scale_factor is not None:
            grads = [_map_values(g, lambda x: x / x.dtype.type(self.loss_scale_factor))
                     for g in grads]
        grads = self._clip_gradients(grads)
        variables = [v for _, v in pairs]
        lr = self.learning_rate
        if self.weight_decay is not None:
            for v in variables:
                dtype = v.dtype.type
                v -= v * _cast(self.weight_decay, dtype) * dtype(lr)
        self._update_all(grads, variables, lr)
        self.iterations += 1

    def _update_all(self, grads, variables, lr):
        for g, v in zip(grads, variables):
            self.update_step(g, v, v.dtype.type(lr))

    def _clip_gradients(self, grads):
        if self.clipnorm is not None:
            return [_map_values(g, lambda x: self._clip_by_norm(x, self.clipnorm))
                    for g in grads]
        if self.global_clipnorm is not None:
            # Keras's clip_by_global_norm: the norm of the per-occurrence values, then
            # ``g * scale``, which densifies a tf.IndexedSlices (repeated rows summed)
            scales = self._clip_by_global_norm([_values(g) for g in grads],
                                               self.global_clipnorm, scales_only=True)
            return [(g.to_dense() if isinstance(g, SparseGradient) else g) * s
                    for g, s in zip(grads, scales)]
        if self.clipvalue is not None:
            return [_map_values(g, lambda x: np.clip(x, -x.dtype.type(self.clipvalue),
                                                     x.dtype.type(self.clipvalue)))
                    for g in grads]
        return grads

    @staticmethod
    def _clip_by_norm(g, clipnorm):
        # tf.clip_by_norm: g * clipnorm / max(||g||, clipnorm)
        c = g.dtype.type(clipnorm)
        l2norm = np.sqrt(np.sum(np.square(g)))
        return (g * c) / np.maximum(l2norm, c)

    @staticmethod
    def _clip_by_global_norm(grads, clipnorm, scales_only=False):
        # keras clip_by_global_norm: scale = c * min(1 / norm, 1 / c); NaN if norm is not finite
        dtype = np.result_type(*grads)
        norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads)).astype(dtype)
        c = dtype.type(clipnorm)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = c * np.minimum(dtype.type(1) / norm, dtype.type(1) / c) + (norm - norm)
        if scales_only:
            return [scale.astype(g.dtype) for g in grads]
        return [g * scale.astype(g.dtype) for g in grads]

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    # -- config ---------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(lr)
        else:
            lr = self.learning_rate
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _values(g):
    return g.values if isinstance(g, SparseGradient) else g


def _with_values(g, values):
    return g.with_values(values) if isinstance(g, SparseGradient) else values


def _map_values(g, fn):
    return _with_values(g, fn(_values(g)))
