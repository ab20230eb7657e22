"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum and their
lowercase functions (Keras 3). Each takes a list of inputs of the same shape (Concatenate:
the same shape but for ``axis``); masks combine with a logical or, as Keras 3.15 does."""
import numpy as np

from .. import _validation as V
from .base import Context, Layer

__all__ = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum"]


class _Merge(Layer):
    supports_masking = True
    min_inputs = 2
    max_inputs = None

    def _check_list(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"Layer `{self.name}` ({type(self).__name__}) must be called on a "
                             f"list of inputs, got {input_shape!r}.")
        n = len(input_shape)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = self.min_inputs if self.max_inputs == self.min_inputs else \
                f"at least {self.min_inputs}"
            raise ValueError(f"Layer `{self.name}` ({type(self).__name__}) expects {want} "
                             f"inputs, got {n}.")

    def check_input_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        first = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(first) or any(a is not None and b is not None and a != b
                                           for a, b in zip(s[1:], first[1:])):
                raise ValueError(f"Layer `{self.name}` ({type(self).__name__}) expects inputs "
                                 "of the same shape, got "
                                 f"{', '.join(V.format_shape(x) for x in shapes)}.")

    def build(self, input_shape):
        self.check_input_shape(input_shape)
        self.input_shape = [tuple(s) for s in input_shape]
        self.built = True

    def count_params(self):
        return 0

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        return tuple(next((s[i] for s in input_shape if s[i] is not None), None)
                     for i in range(len(first)))

    def compute_mask(self, inputs, mask=None):
        """Keras 3.15: the logical or of the inputs' masks; None if any input has none
        (keras/src/layers/merging/base_merge.py)."""
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, bool) for m in mask])

    def _arrays(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer `{self.name}` ({type(self).__name__}) must be called on a "
                             f"list of inputs, got {type(inputs).__name__}.")
        xs = [self._input_array(x) for x in inputs]
        self.build_or_check([x.shape for x in xs])
        dtype = V.DTYPES[self.dtype]
        return [np.asarray(x, dtype) for x in xs]

    def forward(self, inputs, *, training=False, mask=None):
        xs = self._arrays(inputs)
        y = self._merge(xs)
        return y, Context(xs=xs, y=y)

    def backward(self, ctx, d_output):
        d = np.asarray(d_output)
        return tuple(self._grad(ctx, d, i) for i in range(len(ctx.xs))), ()

    def get_config(self):
        return super().get_config()


class Add(_Merge):
    """Elementwise sum of the inputs."""

    def _merge(self, xs):
        return np.sum(xs, axis=0)

    def _grad(self, ctx, d, i):
        return d


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    max_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1]

    def _grad(self, ctx, d, i):
        return d if i == 0 else -d


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def _merge(self, xs):
        return np.prod(xs, axis=0)

    def _grad(self, ctx, d, i):
        others = [x for j, x in enumerate(ctx.xs) if j != i]
        return d * np.prod(others, axis=0)


class Average(_Merge):
    """Elementwise mean of the inputs."""

    def _merge(self, xs):
        return np.sum(xs, axis=0) / xs[0].dtype.type(len(xs))

    def _grad(self, ctx, d, i):
        return d / d.dtype.type(len(ctx.xs))


class Maximum(_Merge):
    """Elementwise maximum; the gradient goes to the first input holding it."""

    def _merge(self, xs):
        return np.max(xs, axis=0)

    def _grad(self, ctx, d, i):
        winner = np.argmax(ctx.xs, axis=0)
        return d * (winner == i)


class Minimum(_Merge):
    """Elementwise minimum; the gradient goes to the first input holding it."""

    def _merge(self, xs):
        return np.min(xs, axis=0)

    def _grad(self, ctx, d, i):
        winner = np.argmin(ctx.xs, axis=0)
        return d * (winner == i)


class Concatenate(_Merge):
    """Concatenates the inputs along ``axis`` (default -1).

    Example:
    >>> Concatenate()([np.ones((2, 3)), np.ones((2, 4))]).shape
    (2, 7)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise V.invalid("axis", "an integer", axis)
        self.axis = int(axis)

    def _axis(self, ndim):
        axis = self.axis if self.axis >= 0 else ndim + self.axis
        if not 0 < axis < ndim:
            raise ValueError(f"Layer `{self.name}` (Concatenate) cannot concatenate inputs of "
                             f"rank {ndim} along axis {self.axis}.")
        return axis

    def check_input_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        ndim = len(shapes[0])
        axis = self._axis(ndim)
        for s in shapes[1:]:
            if len(s) != ndim or any(a is not None and b is not None and a != b
                                     for k, (a, b) in enumerate(zip(s, shapes[0]))
                                     if k not in (0, axis)):
                raise ValueError(f"Layer `{self.name}` (Concatenate) requires inputs with "
                                 "matching shapes except for the concatenation axis "
                                 f"{self.axis}, got "
                                 f"{', '.join(V.format_shape(x) for x in shapes)}.")

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        axis = self._axis(len(shapes[0]))
        out = list(super().compute_output_shape(shapes))
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        # Keras 3: each mask broadcast to its input (ones where there is none),
        # concatenated along the axis, then any() over the last axis
        axis = self._axis(np.ndim(inputs[0]))
        full = []
        for x, m in zip(inputs, mask):
            shape = np.shape(x)
            if m is None:
                full.append(np.ones(shape, bool))
            else:
                m = np.asarray(m, bool)
                if m.ndim < len(shape):
                    m = np.broadcast_to(m[..., None], shape)
                full.append(m)
        return np.any(np.concatenate(full, axis=axis), axis=-1)

    def _merge(self, xs):
        return np.concatenate(xs, axis=self._axis(xs[0].ndim))

    def backward(self, ctx, d_output):
        d = np.asarray(d_output)
        axis = self._axis(d.ndim)
        bounds = np.cumsum([x.shape[axis] for x in ctx.xs])[:-1]
        return tuple(np.split(d, bounds, axis=axis)), ()

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis)
        return config


def _functional(cls, doc):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"Functional form of ``{cls.__name__}``: {doc}"
    return merge


add = _functional(Add, "``add([a, b])``.")
subtract = _functional(Subtract, "``subtract([a, b])``.")
multiply = _functional(Multiply, "``multiply([a, b])``.")
average = _functional(Average, "``average([a, b])``.")
maximum = _functional(Maximum, "``maximum([a, b])``.")
minimum = _functional(Minimum, "``minimum([a, b])``.")


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``concatenate([a, b], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
