"""The Adam family of Keras 3: Adam, AdamW, Adamax, Nadam.

With a ``SparseGradient`` Keras 3's TensorFlow backend densifies in every one of them (its
``ops.subtract(gradient, m)`` turns the ``IndexedSlices`` into a dense tensor, repeated rows
summed), except that ``ops.square`` / ``ops.abs`` of the gradient act per occurrence before
being densified: the second moment receives the sum of the squares of the occurrences of a
row (Adamax: the sum of their absolute values), not the square of their sum. Every row's
slots decay and every row moves. These rules are written here as ``g`` (dense gradient)
and ``g2`` (its per-occurrence squares, densified).
"""
import numpy as np

from .base import Optimizer, _cast, _check_bool, _check_number
from .sparse import SparseGradient

__all__ = ["Adam", "AdamW", "Adamax", "Nadam"]


def _dense_and(gradient, fn):
    """(dense gradient, densified fn(per-occurrence values))."""
    if isinstance(gradient, SparseGradient):
        return gradient.to_dense(), gradient.to_dense(fn(gradient.values))
    return gradient, fn(gradient)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) as in Keras 3 (``t`` = iterations + 1):

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        v_hat = max(v_hat, v)                    (amsgrad only; then v_hat replaces v)
        w -= m * alpha / (sqrt(v) + epsilon)

    Args:
        learning_rate: float > 0 or a schedule, defaults to 0.001.
        beta_1: float in [0, 1), defaults to 0.9.
        beta_2: float in [0, 1), defaults to 0.999.
        epsilon: float >= 0, defaults to 1e-7.
        amsgrad: bool, defaults to False.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"adam"``).
    """

    default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, low=0, high=1, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, low=0)
        self.amsgrad = _check_bool("amsgrad", amsgrad)

    def _build_slots(self, variable):
        self._slot(variable, "momentum")
        self._slot(variable, "velocity")
        if self.amsgrad:
            self._slot(variable, "velocity_hat")

    def _alpha(self, dtype, learning_rate):
        """This step's ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` in ``dtype``."""
        local_step = dtype(self.iterations + 1)
        beta_1_power = np.power(_cast(self.beta_1, dtype), local_step)
        beta_2_power = np.power(_cast(self.beta_2, dtype), local_step)
        return learning_rate * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)

    def update_step(self, gradient, variable, learning_rate):
        g, g2 = _dense_and(gradient, np.square)
        dtype = variable.dtype.type
        alpha = self._alpha(dtype, learning_rate)
        m = self._slot(variable, "momentum")
        v = self._slot(variable, "velocity")
        m += (g - m) * dtype(1 - self.beta_1)
        v += (g2 - v) * dtype(1 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slot(variable, "velocity_hat")
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        variable -= (m * alpha) / (np.sqrt(v) + dtype(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): Keras 3's ``AdamW`` is
    ``Adam`` whose ``weight_decay`` defaults to 0.004 (``var -= var * wd * lr`` first).

    Raises:
        ValueError: ``weight_decay=None`` (Keras's message).
    """

    default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7.1) as in Keras 3 (``t`` = iterations + 1):

        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1**t) * (u + epsilon))

    Args:
        learning_rate: defaults to 0.001; beta_1: 0.9; beta_2: 0.999; epsilon: 1e-7.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"adamax"``).
    """

    default_name = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, low=0, high=1)
        self.epsilon = _check_number("epsilon", epsilon, low=0)

    def _build_slots(self, variable):
        self._slot(variable, "m")
        self._slot(variable, "u")

    def update_step(self, gradient, variable, learning_rate):
        g, g_abs = _dense_and(gradient, np.abs)
        dtype = variable.dtype.type
        beta_1_power = np.power(_cast(self.beta_1, dtype), dtype(self.iterations + 1))
        m = self._slot(variable, "m")
        u = self._slot(variable, "u")
        m += (g - m) * dtype(1 - self.beta_1)
        np.maximum(dtype(self.beta_2) * u, g_abs, out=u)
        variable -= (learning_rate * m) / ((1 - beta_1_power) * (u + dtype(self.epsilon)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam (Dozat, 2016) as in Keras 3 (``t`` = iterations + 1, decay = 0.96):

        u_t   = beta_1 * (1 - 0.5 * decay**t);  u_t1 = beta_1 * (1 - 0.5 * decay**(t+1))
        u_product *= u_t          (once per step, shared by all variables; starts at 1)
        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        w -= m_hat * lr / (sqrt(v_hat) + epsilon)

    Args:
        learning_rate: defaults to 0.001; beta_1: 0.9; beta_2: 0.999; epsilon: 1e-7.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"nadam"``).
    """

    default_name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, low=0, high=1, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, low=0)
        self._u_product = None

    def _build_slots(self, variable):
        self._slot(variable, "momentum")
        self._slot(variable, "velocity")

    def _update_all(self, grads, variables, lr):
        dtype = variables[0].dtype.type          # Keras: the first variable's dtype
        if self._u_product is None:
            self._u_product = dtype(1.0)
        decay_power = np.power(dtype(0.96), dtype(self.iterations + 1))
        self._u_product = dtype(self._u_product * dtype(self.beta_1)
                                * (dtype(1.0) - dtype(0.5) * decay_power))
        super()._update_all(grads, variables, lr)

    def update_step(self, gradient, variable, learning_rate):
        g, g2 = _dense_and(gradient, np.square)
        dtype = variable.dtype.type
        local_step = dtype(self.iterations + 1)
        next_step = dtype(self.iterations + 2)
        decay = _cast(0.96, dtype)
        beta_1, beta_2 = _cast(self.beta_1, dtype), _cast(self.beta_2, dtype)
        u_t = beta_1 * (dtype(1.0) - dtype(0.5) * np.power(decay, local_step))
        u_t_1 = beta_1 * (dtype(1.0) - dtype(0.5) * np.power(decay, next_step))
        u_product_t = dtype(self._u_product)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = np.power(beta_2, local_step)
        m = self._slot(variable, "momentum")
        v = self._slot(variable, "velocity")
        m += (g - m) * (1 - beta_1)
        v += (g2 - v) * (1 - beta_2)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        variable -= (m_hat * learning_rate) / (np.sqrt(v_hat) + dtype(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
