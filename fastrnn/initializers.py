"""Weight initializers by their Keras names (same distributions as Keras)."""
import numpy as np

__all__ = ["get"]


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(shape, dtype, rng):
    return np.zeros(shape, dtype)


def ones(shape, dtype, rng):
    return np.ones(shape, dtype)


def glorot_uniform(shape, dtype, rng):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(shape, dtype, rng):
    fan_in, fan_out = _fans(shape)
    return _truncated_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)), dtype, rng)


def he_uniform(shape, dtype, rng):
    limit = np.sqrt(6.0 / _fans(shape)[0])
    return rng.uniform(-limit, limit, shape).astype(dtype)


def he_normal(shape, dtype, rng):
    return _truncated_normal(shape, np.sqrt(2.0 / _fans(shape)[0]), dtype, rng)


def lecun_uniform(shape, dtype, rng):
    limit = np.sqrt(3.0 / _fans(shape)[0])
    return rng.uniform(-limit, limit, shape).astype(dtype)


def random_uniform(shape, dtype, rng):
    return rng.uniform(-0.05, 0.05, shape).astype(dtype)


def random_normal(shape, dtype, rng):
    return rng.normal(0.0, 0.05, shape).astype(dtype)


def orthogonal(shape, dtype, rng):
    """Keras's Orthogonal(gain=1): Q of the QR of a normal matrix, signs fixed by R's diagonal."""
    rows = int(np.prod(shape[:-1]))
    cols = shape[-1]
    a = rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape).astype(dtype)


def _truncated_normal(shape, std, dtype, rng):
    # Keras's variance scaling divides by the std of a unit normal truncated at 2.
    std = std / 0.87962566103423978
    out = rng.normal(0.0, std, shape)
    bad = np.abs(out) > 2 * std
    while bad.any():
        out[bad] = rng.normal(0.0, std, bad.sum())
        bad = np.abs(out) > 2 * std
    return out.astype(dtype)


_BY_NAME = {f.__name__: f for f in (zeros, ones, glorot_uniform, glorot_normal, he_uniform,
                                    he_normal, lecun_uniform, random_uniform, random_normal,
                                    orthogonal)}
_ALIASES = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
            "Orthogonal": "orthogonal", "Zeros": "zeros", "Ones": "ones",
            "HeUniform": "he_uniform", "HeNormal": "he_normal", "LecunUniform": "lecun_uniform",
            "RandomUniform": "random_uniform", "RandomNormal": "random_normal",
            "uniform": "random_uniform"}


# Keras's parameters of each initializer at the values fastrnn implements.
_DEFAULT_PARAMS = {"orthogonal": {"gain": 1.0},
                   "random_uniform": {"minval": -0.05, "maxval": 0.05},
                   "random_normal": {"mean": 0.0, "stddev": 0.05}}
# VarianceScaling(scale, mode, distribution) spellings of the named initializers.
_VARIANCE_SCALING = {(1.0, "fan_avg", "uniform"): "glorot_uniform",
                     (1.0, "fan_avg", "truncated_normal"): "glorot_normal",
                     (2.0, "fan_in", "uniform"): "he_uniform",
                     (2.0, "fan_in", "truncated_normal"): "he_normal",
                     (1.0, "fan_in", "uniform"): "lecun_uniform"}


def _from_dict(identifier, argument):
    """A Keras 3 ``{"module", "class_name", "config", ...}`` or Keras 2
    ``{"class_name", "config"}`` initializer, at the parameters fastrnn implements."""
    cls = identifier.get("class_name")
    config = dict(identifier.get("config") or {})
    for key in ("seed", "input_axes", "output_axes"):  # a seed only changes the draw
        config.pop(key, None)
    if cls == "VarianceScaling":
        key = (float(config.pop("scale", 1.0)), config.pop("mode", "fan_in"),
               config.pop("distribution", "truncated_normal"))
        name = _VARIANCE_SCALING.get(key)
        if name is None:
            raise NotImplementedError(f"fastrnn does not implement VarianceScaling{key} for "
                                      f"argument `{argument}`.")
    else:
        name = _ALIASES.get(cls, cls) if isinstance(cls, str) else None
    if name not in _BY_NAME:
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected one "
                         f"of {sorted(_BY_NAME)} (or Keras's dict of one), got {identifier!r}.")
    defaults = _DEFAULT_PARAMS.get(name, {})
    for key, value in config.items():
        if key not in defaults or value != defaults[key]:
            raise NotImplementedError(
                f"fastrnn implements {cls} for argument `{argument}` only with Keras's "
                f"default parameters {defaults or '(none)'}; got {key}={value!r}.")
    return name


def get(identifier, argument):
    """Validate an initializer given by name (Keras's snake_case or class name) or as
    Keras's serialized dict; returns fastrnn's name for it.

    Raises:
        ValueError: an unknown initializer. NotImplementedError: a known one with
            parameters other than Keras's defaults.
    """
    if isinstance(identifier, dict):
        return _from_dict(identifier, argument)
    name = _ALIASES.get(identifier, identifier) if isinstance(identifier, str) else None
    if name not in _BY_NAME:
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected one "
                         f"of {sorted(_BY_NAME)}, got {identifier!r}.")
    return name


def initialize(name, shape, dtype, rng):
    return _BY_NAME[name](tuple(shape), dtype, rng)
