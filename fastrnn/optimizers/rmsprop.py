"""Optimizers with per-element step sizes from accumulated squares: RMSprop, Adagrad,
Adadelta (Keras 3's update rules).

A ``SparseGradient`` follows Keras 3's TensorFlow backend: a term ``rho * slot`` is dense
(every row's slot decays), the squared gradient is taken per occurrence and summed per row,
and the variable itself is only changed where Keras scatters (``scatter_sub``/``add``):
its untouched rows stay exactly as they are, a repeated row gets the sum of its
occurrences' steps. RMSprop with ``momentum > 0`` densifies (every row moves).
"""
import numpy as np

from .base import Optimizer, _cast, _check_bool, _check_number
from .sparse import SparseGradient

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


class RMSprop(Optimizer):
    """RMSprop (Hinton, lecture 6e) as in Keras 3:

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g                      (centered only)
        denominator = v - a**2 + epsilon  (centered)  or  v + epsilon
        increment = lr * g / sqrt(denominator)
        m = momentum * m + increment; w -= m     (momentum > 0)   or   w -= increment

    Args:
        learning_rate: float > 0 or a schedule, defaults to 0.001.
        rho: float in [0, 1), defaults to 0.9.
        momentum: float in [0, 1], defaults to 0.
        epsilon: float >= 0, defaults to 1e-7.
        centered: bool, defaults to False.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"rmsprop"``).
    """

    default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_number("rho", rho, low=0, high=1, high_open=True)
        self.momentum = _check_number("momentum", momentum, low=0, high=1)
        self.epsilon = _check_number("epsilon", epsilon, low=0)
        self.centered = _check_bool("centered", centered)

    def _build_slots(self, variable):
        self._slot(variable, "velocity")
        if self.momentum > 0:
            self._slot(variable, "momentum")
        if self.centered:
            self._slot(variable, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype.type
        rho = dtype(self.rho)
        sparse = isinstance(gradient, SparseGradient)
        v = self._slot(variable, "velocity")
        # v = rho * v + (1 - rho) * g2, in place (g2 is a new array); with a sparse
        # gradient g2 is zero off the rows looked up, where v + 0 is v (v >= 0)
        if sparse:
            rows = gradient.rows
            g_rows = gradient.row_sums()
            g2 = gradient.row_sums(square=True)
            g2 *= dtype(1 - self.rho)
            v *= rho
            v[rows] += g2
        else:
            g2 = np.square(gradient)
            g2 *= dtype(1 - self.rho)
            v *= rho
            v += g2
        if self.centered:
            a = self._slot(variable, "average_gradient")
            g_dense = gradient.scatter(g_rows) if sparse else gradient
            a[...] = rho * a + dtype(1 - self.rho) * g_dense
            denominator = v - np.square(a) + dtype(self.epsilon)
        elif not sparse:
            denominator = v + dtype(self.epsilon)
        if sparse:
            # only the rows looked up move (or add to the momentum)
            denominator = (denominator[rows] if self.centered
                           else v[rows] + dtype(self.epsilon))
            increment = (learning_rate * g_rows) / np.sqrt(denominator)
            if self.momentum > 0:
                increment = gradient.scatter(increment)
            else:
                variable[rows] -= increment
                return
        else:
            increment = learning_rate * gradient
            increment /= np.sqrt(denominator, out=denominator)
        if self.momentum > 0:
            m = self._slot(variable, "momentum")
            m *= dtype(self.momentum)
            m += increment
            variable -= m
        else:
            variable -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011) as in Keras 3:

        acc += g**2
        w -= lr * g / sqrt(acc + epsilon)

    With a ``SparseGradient`` only the rows looked up change, in ``acc`` and in ``w``.

    Args:
        learning_rate: defaults to 0.001.
        initial_accumulator_value: float >= 0, the starting value of ``acc`` (0.1).
        epsilon: float >= 0, defaults to 1e-7.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"adagrad"``).
    """

    default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _check_number(
            "initial_accumulator_value", initial_accumulator_value, low=0)
        self.epsilon = _check_number("epsilon", epsilon, low=0)

    def _accumulator(self, variable):
        fresh = not self._has_slot(variable, "accumulator")
        acc = self._slot(variable, "accumulator")
        if fresh:
            # Keras's Constant initializer: ops.cast, float32-rounded first
            acc[...] = _cast(self.initial_accumulator_value, acc.dtype.type)
        return acc

    def _build_slots(self, variable):
        self._accumulator(variable)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype.type
        acc = self._accumulator(variable)
        eps = dtype(self.epsilon)
        if isinstance(gradient, SparseGradient):
            rows = gradient.rows
            acc[rows] += gradient.row_sums(square=True)
            variable[rows] -= (learning_rate * gradient.row_sums()) / np.sqrt(acc[rows] + eps)
            return
        acc += np.square(gradient)
        variable -= (learning_rate * gradient) / np.sqrt(acc + eps)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012) as in Keras 3 (``rms(x) = sqrt(x + epsilon)``):

        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -rms(acc_d) * g / rms(acc_g)
        acc_d = rho * acc_d + (1 - rho) * delta**2
        w += lr * delta

    Args:
        learning_rate: defaults to 0.001; rho: 0.95; epsilon: 1e-7.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"adadelta"``).
    """

    default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_number("rho", rho, low=0, high=1)
        self.epsilon = _check_number("epsilon", epsilon, low=0)

    def _build_slots(self, variable):
        self._slot(variable, "accumulated_grad")
        self._slot(variable, "accumulated_delta_var")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype.type
        rho, eps = dtype(self.rho), dtype(self.epsilon)
        acc_g = self._slot(variable, "accumulated_grad")
        acc_d = self._slot(variable, "accumulated_delta_var")
        if isinstance(gradient, SparseGradient):
            rows = gradient.rows
            acc_g[...] = rho * acc_g + dtype(1 - self.rho) * gradient.to_dense(square=True)
            # per occurrence k of row i: delta_k = -rms(acc_d[i]) * g_k / rms(acc_g[i])
            ratio = np.sqrt(acc_d[gradient.indices] + eps) / np.sqrt(
                acc_g[gradient.indices] + eps)
            delta = -(ratio * gradient.values)
            acc_d[...] = rho * acc_d + dtype(1 - self.rho) * gradient.to_dense(delta, square=True)
            variable[rows] += gradient.row_sums(learning_rate * delta)
            return
        acc_g[...] = rho * acc_g + dtype(1 - self.rho) * np.square(gradient)
        delta = -((np.sqrt(acc_d + eps) * gradient) / np.sqrt(acc_g + eps))
        acc_d[...] = rho * acc_d + dtype(1 - self.rho) * np.square(delta)
        variable += learning_rate * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
