"""SGD (with optional Nesterov momentum), Keras 3's update rule."""
from .base import Optimizer, _cast, _check_bool, _check_number
from .sparse import SparseGradient

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as in Keras 3:

        momentum == 0:   w -= lr * g
        momentum > 0:    m = momentum * m - lr * g
                         w += m                           (nesterov=False)
                         w += momentum * m - lr * g       (nesterov=True)

    A ``SparseGradient`` (Keras 3, TensorFlow backend): without momentum only the rows
    looked up change, by ``lr * g`` per occurrence (``scatter_sub``); with momentum the
    gradient is densified (repeated rows summed) and every row of ``m`` and ``w`` moves.

    Args:
        learning_rate: float > 0 or a schedule, defaults to 0.01.
        momentum: float in [0, 1], defaults to 0.
        nesterov: bool, defaults to False.
        **kwargs: the common arguments of ``Optimizer`` (``name`` defaults to ``"SGD"``).

    Example:
        >>> w = np.array([1.0], dtype="float32")
        >>> SGD(learning_rate=0.5).apply([np.array([0.5], dtype="float32")], [w])
        >>> w  # 1 - 0.5 * 0.5
        array([0.75], dtype=float32)
    """

    default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_number("momentum", momentum, low=0, high=1)
        self.nesterov = _check_bool("nesterov", nesterov)

    def _build_slots(self, variable):
        if self.momentum != 0:
            self._slot(variable, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        if isinstance(gradient, SparseGradient):
            if self.momentum == 0:
                rows = gradient.rows
                variable[rows] -= gradient.row_sums(gradient.values * learning_rate)
                return
            gradient = gradient.to_dense()
        if self.momentum == 0:
            variable -= gradient * learning_rate
            return
        momentum = _cast(self.momentum, variable.dtype.type)
        m = self._slot(variable, "momentum")
        m[...] = m * momentum - gradient * learning_rate
        if self.nesterov:
            variable += m * momentum - gradient * learning_rate
        else:
            variable += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
