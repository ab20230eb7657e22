"""Learning-rate schedules of Keras 3 (``keras.optimizers.schedules``).

A schedule maps the optimizer's step (``optimizer.iterations``, the number of updates
done so far) to a learning rate. As in Keras, values are computed in float32 (the dtype of
``initial_learning_rate`` as a Keras tensor) and returned here as NumPy float32 scalars.
"""
import math
import numbers

import numpy as np

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "CosineDecay", "InverseTimeDecay", "serialize", "deserialize", "get"]

_F = np.float32


def _real(owner, name, value, positive=False, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value):
        raise ValueError(f"Received an invalid value for argument `{name}` of {owner}, "
                         f"expected a finite real number, got {value!r}.")
    if positive and value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")
    return value


def _step(owner, step):
    if isinstance(step, bool) or not isinstance(step, (numbers.Real, np.ndarray)) or (
            isinstance(step, np.ndarray) and (step.ndim != 0 or not np.issubdtype(
                step.dtype, np.number))):
        raise ValueError(f"Received an invalid value for argument `step` of {owner}, "
                         f"expected a number (the optimizer's iterations), got {step!r}.")
    return _F(step)


class LearningRateSchedule:
    """Base class: ``__call__(step) -> learning rate``, ``get_config``, ``from_config``."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `get_config()`.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (``floor`` of the
    exponent when ``staircase``).

    Raises:
        ValueError: ``decay_steps <= 0`` or a non-number argument.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _real(owner, "initial_learning_rate",
                                           initial_learning_rate)
        self.decay_steps = _real(owner, "decay_steps", decay_steps, positive=True)
        self.decay_rate = _real(owner, "decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def _exponent(self, step):
        p = _step(type(self).__name__, step) / _F(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def __call__(self, step):
        return _F(self.initial_learning_rate) * np.power(_F(self.decay_rate),
                                                         self._exponent(step))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(ExponentialDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (``floor`` of
    ``step / decay_steps`` when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = self._exponent(step)
        return _F(self.initial_learning_rate) / (_F(1) + _F(self.decay_rate) * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Raises:
        ValueError: ``len(boundaries) != len(values) - 1`` (Keras's message), or
            non-number entries.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of "
                             f"values. Received: boundaries={boundaries} of length "
                             f"{len(boundaries)}, and values={values} of length "
                             f"{len(values)}.")
        for i, b in enumerate(boundaries):
            _real("PiecewiseConstantDecay", f"boundaries[{i}]", b)
        for i, v in enumerate(values):
            _real("PiecewiseConstantDecay", f"values[{i}]", v)
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = _step("PiecewiseConstantDecay", step)
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return _F(v)
        return _F(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Loshchilov & Hutter, SGDR, 2017), as
    Keras 3 computes it:

        warmup (step < warmup_steps, only with warmup_target):
            lr = initial + (warmup_target - initial) * step / warmup_steps
        decay: s = min(step - warmup_steps, decay_steps)
            lr = top * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)
        with top = warmup_target if given, else initial_learning_rate.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        owner = "CosineDecay"
        self.initial_learning_rate = _real(owner, "initial_learning_rate",
                                           initial_learning_rate)
        self.decay_steps = _real(owner, "decay_steps", decay_steps, positive=True)
        self.alpha = _real(owner, "alpha", alpha)
        self.warmup_target = _real(owner, "warmup_target", warmup_target, allow_none=True)
        self.warmup_steps = _real(owner, "warmup_steps", warmup_steps)
        self.name = name

    def _decay(self, step, top):
        fraction = step / _F(self.decay_steps)
        cosine = _F(0.5) * (_F(1) + np.cos(_F(math.pi) * fraction))
        return top * (_F(1 - self.alpha) * cosine + _F(self.alpha))

    def __call__(self, step):
        step = _step("CosineDecay", step)
        initial = _F(self.initial_learning_rate)
        decay_steps = _F(self.decay_steps)
        if self.warmup_target is None:
            return self._decay(np.minimum(step, decay_steps), initial)
        warmup_steps = _F(self.warmup_steps)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (_F(self.warmup_target) - initial) * (step / warmup_steps) + initial
        return self._decay(step - warmup_steps, _F(self.warmup_target))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                          CosineDecay, InverseTimeDecay)}


def serialize(schedule):
    """``{"class_name": ..., "config": ...}`` of a schedule."""
    if not isinstance(schedule, LearningRateSchedule):
        raise ValueError("Received an invalid value for argument `schedule`, expected a "
                         f"LearningRateSchedule, got {schedule!r}.")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """A schedule from ``serialize``'s dict (only this module's classes: no code runs)."""
    if not isinstance(config, dict) or config.get("class_name") not in _BY_NAME:
        raise ValueError("Received an invalid value for argument `config`, expected "
                         f"{{'class_name': one of {sorted(_BY_NAME)}, 'config': {{...}}}}, "
                         f"got {config!r}.")
    return _BY_NAME[config["class_name"]].from_config(dict(config.get("config", {})))


get = deserialize
