"""Keras's initializer classes (keras/src/initializers/), re-exported by
``fastrnn.initializers``: ``RandomNormal(stddev=0.001)``, ``Identity(gain=1.0)``, ...

Each is called as ``init(shape, dtype=None)`` and returns a NumPy array (float32 by
default). As in Keras 3 (and Keras 2), an initializer object gives the same values on every
call: with ``seed=None`` it draws its own seed once, when it is made (from fastrnn's global
generator, so ``fastrnn.utils.set_random_seed`` makes it reproducible), and ``get_config``
still says ``"seed": None``.

Given to a layer (``Dense(3, kernel_initializer=RandomNormal(stddev=0.01))``) an object is
stored as its Keras config dict, so layer configs stay plain data and round-trip; an
unseeded one then draws from the layer's generator (its ``seed``), like a name does. (Keras
3 would give two layers sharing one unseeded object identical weights; tf_keras warns about
that reuse.) Your own ``Initializer`` subclass, or any ``fn(shape, dtype=None)``, is
stored and called as it is.
"""
import numbers


from . import initializers as _impl

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal",
           "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal", "Identity",
           "IdentityInitializer", "OrthogonalInitializer", "zeros", "ones", "constant",
           "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
           "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
           "lecun_uniform", "orthogonal", "identity", "deserialize"]


class Initializer:
    """Base class of initializers (Keras's ``keras.initializers.Initializer``).

    Subclass it and implement ``__call__(self, shape, dtype=None)`` returning an array of
    ``shape``; implement ``get_config`` (a dict of the constructor's arguments) for the
    layer's config to record it.
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` "
                                  "method.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class _Builtin(Initializer):
    """An initializer fastrnn knows by name: drawn by ``initializers.initialize``."""

    _keys = ()

    def _seed(self, seed):
        if seed is not None and (isinstance(seed, bool) or
                                 not isinstance(seed, (numbers.Integral,)) or seed < 0):
            raise ValueError("Received an invalid value for argument `seed`, expected None "
                             f"or a non-negative integer, got {seed!r}.")
        self.seed = None if seed is None else int(seed)
        from .utils import _global  # drawn once: every call gives the same values
        self._draw_seed = (self.seed if seed is not None
                           else int(_global["rng"].integers(1, 10**9)))

    def __call__(self, shape, dtype=None):
        """An array of ``shape`` (a tuple of ints) and ``dtype`` (default float32)."""
        if isinstance(shape, numbers.Integral):
            shape = (int(shape),)
        shape = tuple(int(d) for d in shape)
        config = self.get_config()
        if "seed" in config:
            config["seed"] = self._draw_seed
        return _impl.initialize({"class_name": type(self).__name__, "config": config}, shape,
                                dtype or "float32", None)

    def get_config(self):
        return {k: getattr(self, k) for k in self._keys}


class Zeros(_Builtin):
    """All zeros."""


class Ones(_Builtin):
    """All ones."""


class Constant(_Builtin):
    """Every entry ``value`` (a scalar)."""
    _keys = ("value",)

    def __init__(self, value=0.0):
        self.value = value


class RandomNormal(_Builtin):
    """Normal(mean, stddev) samples."""
    _keys = ("seed", "mean", "stddev")

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        self._seed(seed)


class TruncatedNormal(_Builtin):
    """Normal(mean, stddev) samples redrawn beyond two standard deviations."""
    _keys = ("seed", "mean", "stddev")

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        self._seed(seed)


class RandomUniform(_Builtin):
    """Uniform(minval, maxval) samples."""
    _keys = ("seed", "minval", "maxval")

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        self._seed(seed)


class VarianceScaling(_Builtin):
    """Samples of variance ``scale / n``, ``n`` = fan_in, fan_out or their mean (``mode``);
    ``distribution`` "truncated_normal" (std divided by .8796), "untruncated_normal" or
    "uniform" (limit ``sqrt(3 scale / n)``). Keras's VarianceScaling.

    Raises:
        ValueError: scale <= 0, or an unknown mode or distribution.
    """
    _keys = ("seed", "scale", "mode", "distribution")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        _impl.get({"class_name": "VarianceScaling",
                   "config": {"mode": mode, "distribution": distribution}}, "VarianceScaling")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self._seed(seed)


class _Named(_Builtin):
    """A variance-scaling initializer with fixed arguments; only ``seed`` is settable."""
    _keys = ("seed",)

    def __init__(self, seed=None):
        self._seed(seed)


class GlorotNormal(_Named):
    """Truncated normal, variance ``2 / (fan_in + fan_out)`` (Glorot & Bengio, 2010)."""


class GlorotUniform(_Named):
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""


class HeNormal(_Named):
    """Truncated normal, variance ``2 / fan_in`` (He et al., 2015)."""


class HeUniform(_Named):
    """Uniform in ``±sqrt(6 / fan_in)`` (He et al., 2015)."""


class LecunNormal(_Named):
    """Truncated normal, variance ``1 / fan_in`` (LeCun et al., 1998)."""


class LecunUniform(_Named):
    """Uniform in ``±sqrt(3 / fan_in)`` (LeCun et al., 1998)."""


class Orthogonal(_Builtin):
    """``gain`` times an orthogonal matrix (QR of a normal matrix; Saxe et al., 2014)."""
    _keys = ("seed", "gain")

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        self._seed(seed)


class Identity(_Builtin):
    """``gain`` times the identity; 2-D shapes only (ValueError otherwise)."""
    _keys = ("gain",)

    def __init__(self, gain=1.0):
        self.gain = gain


IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform

_BY_NAME = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
    Identity)}


def deserialize(config, custom_objects=None):
    """An initializer object from a name or a Keras config dict (``serialize``'s output).

    Raises:
        ValueError: an unknown class (pass your own in ``custom_objects``).
    """
    custom = dict(custom_objects or {})
    if isinstance(config, dict) and config.get("class_name") in custom:
        return custom[config["class_name"]].from_config(dict(config.get("config") or {}))
    spec = _impl.get(config, "config")
    if isinstance(spec, str):
        return _BY_NAME[_impl._SNAKE[spec]]()
    if isinstance(spec, dict):
        args = {k: v for k, v in (spec.get("config") or {}).items()
                if k not in ("input_axes", "output_axes")}
        return _BY_NAME[spec["class_name"]](**args)
    return spec
