"""Keras 3 optimizers over NumPy arrays, updated in place.

One step, as Keras 3's ``BaseOptimizer.apply`` does it:

1. drop ``None`` gradients (their variables are left alone);
2. clip: ``clipnorm`` each gradient by its own L2 norm (``g * c / max(||g||, c)``), or
   ``global_clipnorm`` all of them by their joint norm, or ``clipvalue`` elementwise;
3. decoupled weight decay, when set: ``var -= var * weight_decay * lr``;
4. the optimizer's ``update_step`` for each (gradient, variable);
5. ``iterations += 1``.

Everything is computed in each variable's dtype (float32 by default). The learning rate is
kept as a float32 number, as Keras keeps it in a float32 variable, and cast to the
variable's dtype at each step. Slot arrays (momentums, velocities) are created lazily, the
first time a variable is seen, and are keyed by the variable's identity.
"""
import math
import numbers

import numpy as np

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "get", "serialize"]


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


class Optimizer:
    """Base class of the optimizers.

    Args:
        learning_rate: a positive float, or a callable without arguments returning one.
        weight_decay: optional float >= 0; decoupled decay ``var -= var * wd * lr``.
        clipnorm: optional float > 0; clip each gradient to this L2 norm.
        clipvalue: optional float > 0; clip each gradient to ``[-clipvalue, clipvalue]``.
        global_clipnorm: optional float > 0; clip all gradients to this joint L2 norm.
            At most one of ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` may be set.
        name: the optimizer's name.

    Subclasses implement ``update_step(gradient, variable, learning_rate)`` and may create
    slots with ``self._slot(variable, "name")``.
    """

    default_name = "optimizer"

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
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
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Received an invalid value for argument `name`, expected a "
                             f"string, got {name!r}.")
        self.name = name or self.default_name
        self.iterations = 0
        self._slots = {}          # id(variable) -> (variable, {slot name: array})

    def __repr__(self):
        return (f"<{type(self).__name__} name={self.name!r} "
                f"learning_rate={self.learning_rate:.6g} iterations={self.iterations}>")

    # -- learning rate --------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate (float32-rounded, as Keras stores it)."""
        lr = self._learning_rate
        if callable(lr):
            lr = _check_number("learning_rate", lr(), low=0, low_open=True)
        return float(np.float32(lr))

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
        else:
            self._learning_rate = _check_number("learning_rate", value, low=0, low_open=True)

    # -- slots ----------------------------------------------------------------------------
    def _slot(self, variable, name):
        """The slot array ``name`` of ``variable`` (zeros of its shape and dtype at first)."""
        key = id(variable)
        entry = self._slots.get(key)
        if entry is None or entry[0] is not variable:
            entry = self._slots[key] = (variable, {})
        slots = entry[1]
        if name not in slots:
            slots[name] = np.zeros_like(variable)
        return slots[name]

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
                            f"{'' if not hasattr(variable, 'dtype') else ' of ' + str(variable.dtype)}.")
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
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        self.apply(grads, variables)
        return self.iterations

    def apply(self, grads, variables):
        """Update ``variables`` (NumPy arrays, in place) with ``grads`` (same shapes)."""
        grads, variables = list(grads), list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Received {len(grads)} gradients for {len(variables)} variables: "
                             "argument `grads` must have one entry per variable.")
        pairs = []
        for i, (g, v) in enumerate(zip(grads, variables)):
            self._check_variable(v, i)
            if g is None:
                continue
            g = np.asarray(g, dtype=v.dtype)
            if g.shape != v.shape:
                raise ValueError(f"Received an invalid value for argument `grads` at index "
                                 f"{i}, expected shape {v.shape} (the variable's), "
                                 f"got {g.shape}.")
            pairs.append((g, v))
        if not pairs:
            raise ValueError("No gradients provided for any variable: every entry of "
                             "argument `grads` is None.")
        grads = self._clip_gradients([g for g, _ in pairs])
        variables = [v for _, v in pairs]
        lr = self.learning_rate
        if self.weight_decay is not None:
            for v in variables:
                dtype = v.dtype.type
                v -= v * dtype(self.weight_decay) * dtype(lr)
        for g, v in zip(grads, variables):
            self.update_step(g, v, v.dtype.type(lr))
        self.iterations += 1

    def _clip_gradients(self, grads):
        if self.clipnorm is not None:
            return [self._clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            return self._clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue is not None:
            return [np.clip(g, -g.dtype.type(self.clipvalue), g.dtype.type(self.clipvalue))
                    for g in grads]
        return grads

    @staticmethod
    def _clip_by_norm(g, clipnorm):
        # tf.clip_by_norm: g * clipnorm / max(||g||, clipnorm)
        c = g.dtype.type(clipnorm)
        l2norm = np.sqrt(np.sum(np.square(g)))
        return (g * c) / np.maximum(l2norm, c)

    @staticmethod
    def _clip_by_global_norm(grads, clipnorm):
        # keras clip_by_global_norm: scale = c * min(1 / norm, 1 / c); NaN if norm is not finite
        dtype = np.result_type(*grads)
        norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads)).astype(dtype)
        c = dtype.type(clipnorm)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = c * np.minimum(dtype.type(1) / norm, dtype.type(1) / c) + (norm - norm)
        return [g * scale.astype(g.dtype) for g in grads]

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    # -- config ---------------------------------------------------------------------------
    def get_config(self):
        return {
            "name": self.name,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as in Keras 3:

        momentum == 0:   w -= lr * g
        momentum > 0:    m = momentum * m - lr * g
                         w += m                           (nesterov=False)
                         w += momentum * m - lr * g       (nesterov=True)

    Args:
        learning_rate: float > 0, defaults to 0.01.
        momentum: float in [0, 1], defaults to 0.
        nesterov: bool, defaults to False.
        (and the keyword arguments of ``Optimizer``; ``name`` defaults to ``"SGD"``.)

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> SGD(learning_rate=0.5).apply([np.array([0.5], dtype="float32")], [w])
        >>> w  # 1 - 0.5 * 0.5
        array([0.75], dtype=float32)
    """

    default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.momentum = _check_number("momentum", momentum, low=0, high=1)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"Received an invalid value for argument `nesterov`, expected a "
                             f"bool, got {nesterov!r}.")
        self.nesterov = bool(nesterov)

    def _build_slots(self, variable):
        if self.momentum != 0:
            self._slot(variable, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        if self.momentum == 0:
            variable -= gradient * learning_rate
            return
        momentum = variable.dtype.type(self.momentum)
        m = self._slot(variable, "momentum")
        m[...] = m * momentum - gradient * learning_rate
        if self.nesterov:
            variable += m * momentum - gradient * learning_rate
        else:
            variable += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, as in Keras 3 (``t`` = iterations + 1):

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        v_hat = max(v_hat, v)                    (amsgrad only; then v_hat replaces v)
        w -= m * alpha / (sqrt(v) + epsilon)

    Args:
        learning_rate: float > 0, defaults to 0.001.
        beta_1: float in [0, 1), defaults to 0.9.
        beta_2: float in [0, 1), defaults to 0.999.
        epsilon: float >= 0, defaults to 1e-7.
        amsgrad: bool, defaults to False.
        (and the keyword arguments of ``Optimizer``; ``name`` defaults to ``"adam"``.)
    """

    default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.beta_1 = _check_number("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, low=0, high=1, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, low=0)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise ValueError(f"Received an invalid value for argument `amsgrad`, expected a "
                             f"bool, got {amsgrad!r}.")
        self.amsgrad = bool(amsgrad)

    def _build_slots(self, variable):
        self._slot(variable, "momentum")
        self._slot(variable, "velocity")
        if self.amsgrad:
            self._slot(variable, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype.type
        local_step = dtype(self.iterations + 1)
        beta_1_power = np.power(dtype(self.beta_1), local_step)
        beta_2_power = np.power(dtype(self.beta_2), local_step)
        alpha = learning_rate * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m = self._slot(variable, "momentum")
        v = self._slot(variable, "velocity")
        m += (gradient - m) * dtype(1 - self.beta_1)
        v += (np.square(gradient) - v) * dtype(1 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slot(variable, "velocity_hat")
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        variable -= (m * alpha) / (np.sqrt(v) + dtype(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class RMSprop(Optimizer):
    """RMSprop, as in Keras 3:

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g                      (centered only)
        denominator = v - a**2 + epsilon  (centered)  or  v + epsilon
        increment = lr * g / sqrt(denominator)
        m = momentum * m + increment; w -= m     (momentum > 0)   or   w -= increment

    Args:
        learning_rate: float > 0, defaults to 0.001.
        rho: float in [0, 1), defaults to 0.9.
        momentum: float in [0, 1], defaults to 0.
        epsilon: float >= 0, defaults to 1e-7.
        centered: bool, defaults to False.
        (and the keyword arguments of ``Optimizer``; ``name`` defaults to ``"rmsprop"``.)
    """

    default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.rho = _check_number("rho", rho, low=0, high=1, high_open=True)
        self.momentum = _check_number("momentum", momentum, low=0, high=1)
        self.epsilon = _check_number("epsilon", epsilon, low=0)
        if not isinstance(centered, (bool, np.bool_)):
            raise ValueError(f"Received an invalid value for argument `centered`, expected a "
                             f"bool, got {centered!r}.")
        self.centered = bool(centered)

    def _build_slots(self, variable):
        self._slot(variable, "velocity")
        if self.momentum > 0:
            self._slot(variable, "momentum")
        if self.centered:
            self._slot(variable, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype.type
        rho = dtype(self.rho)
        v = self._slot(variable, "velocity")
        v[...] = rho * v + dtype(1 - self.rho) * np.square(gradient)
        if self.centered:
            a = self._slot(variable, "average_gradient")
            a[...] = rho * a + dtype(1 - self.rho) * gradient
            denominator = v - np.square(a) + dtype(self.epsilon)
        else:
            denominator = v + dtype(self.epsilon)
        increment = (learning_rate * gradient) / np.sqrt(denominator)
        if self.momentum > 0:
            m = self._slot(variable, "momentum")
            m[...] = dtype(self.momentum) * m + increment
            variable -= m
        else:
            variable -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(identifier):
    """An optimizer from a name (``"sgd"``, ``"adam"``, ``"rmsprop"``, any case; Keras's
    defaults), a ``{"class_name": ..., "config": {...}}`` dict, a class or an instance.

    Example:
        >>> get("adam").get_config()["learning_rate"]  # float32-rounded 0.001
        0.0010000000474974513
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        cls = _BY_NAME.get(identifier["class_name"].lower())
        if cls is not None:
            return cls.from_config(dict(identifier.get("config", {})))
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        "Received an invalid value for argument `optimizer`, expected one of "
        f"{sorted(_BY_NAME)} (any case), a fastrnn.optimizers.Optimizer or its config dict, "
        f"got {identifier!r}.")


def serialize(optimizer):
    """``{"class_name": ..., "config": ...}`` of an optimizer, as Keras writes it."""
    optimizer = get(optimizer)
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
