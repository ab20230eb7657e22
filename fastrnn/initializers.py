"""Weight initializers with Keras 3's names, arguments and distributions
(keras/src/initializers/): same formulas, NumPy's generator.

An initializer is given as a Keras name (``"glorot_uniform"``, ``"GlorotUniform"``), a
Keras-style config dict (``{"class_name": "VarianceScaling", "config": {"scale": 2.0}}``,
also with Keras 3's ``module``/``registered_name`` keys), an initializer object or class
(``RandomNormal(stddev=0.001)``, ``GlorotUniform``: Keras's classes and their snake_case
aliases, in ``_initializer_classes.py``), or your own ``Initializer`` subclass or
``fn(shape, dtype=None)``; ``get`` normalises it and ``initialize`` draws the array.
"""
import numpy as np

__all__ = ["get", "initialize", "serialize", "deserialize", "Initializer", "Zeros", "Ones",
           "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
           "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
           "LecunUniform", "Orthogonal", "Identity", "IdentityInitializer",
           "OrthogonalInitializer", "zeros", "ones", "constant", "random_normal",
           "random_uniform", "truncated_normal", "variance_scaling", "glorot_normal",
           "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
           "orthogonal", "identity"]

_TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated(rng, mean, std, shape):
    """Normal(mean, std) redrawn outside two standard deviations (tf.random.truncated_normal)."""
    out = rng.normal(0.0, 1.0, shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
        bad = np.abs(out) > 2
    return mean + std * out


def _constant(shape, rng, value=0.0):
    return np.full(shape, value)


def _random_normal(shape, rng, mean=0.0, stddev=0.05):
    return rng.normal(mean, stddev, shape)


def _random_uniform(shape, rng, minval=-0.05, maxval=0.05):
    return rng.uniform(minval, maxval, shape)


def _truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    return _truncated(rng, mean, stddev, shape)


def _variance_scaling(shape, rng, scale=1.0, mode="fan_in", distribution="truncated_normal"):
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    var = scale / max(1.0, n)
    if distribution == "truncated_normal":
        return _truncated(rng, 0.0, np.sqrt(var) / _TRUNC_STD, shape)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, np.sqrt(var), shape)
    limit = np.sqrt(3.0 * var)
    return rng.uniform(-limit, limit, shape)


def _orthogonal(shape, rng, gain=1.0):
    """Q of the QR of a normal matrix, signs fixed by R's diagonal (Keras's Orthogonal)."""
    rows = int(np.prod(shape[:-1]))
    cols = shape[-1]
    a = rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


def _identity(shape, rng, gain=1.0):
    if len(shape) != 2:
        raise ValueError("The identity initializer needs a 2-D weight, got shape "
                         f"{tuple(shape)}.")
    return gain * np.eye(*shape)


# class name -> (sampler, defaults); the snake_case names map to these
_CLASSES = {
    "Zeros": (_constant, {}), "Ones": (_constant, {"value": 1.0}),
    "Constant": (_constant, {"value": 0.0}),
    "RandomNormal": (_random_normal, {"mean": 0.0, "stddev": 0.05, "seed": None}),
    "RandomUniform": (_random_uniform, {"minval": -0.05, "maxval": 0.05, "seed": None}),
    "TruncatedNormal": (_truncated_normal, {"mean": 0.0, "stddev": 0.05, "seed": None}),
    "VarianceScaling": (_variance_scaling, {"scale": 1.0, "mode": "fan_in",
                                            "distribution": "truncated_normal",
                                            "seed": None}),
    "GlorotNormal": (_variance_scaling, {"scale": 1.0, "mode": "fan_avg",
                                         "distribution": "truncated_normal", "seed": None}),
    "GlorotUniform": (_variance_scaling, {"scale": 1.0, "mode": "fan_avg",
                                          "distribution": "uniform", "seed": None}),
    "HeNormal": (_variance_scaling, {"scale": 2.0, "mode": "fan_in",
                                     "distribution": "truncated_normal", "seed": None}),
    "HeUniform": (_variance_scaling, {"scale": 2.0, "mode": "fan_in",
                                      "distribution": "uniform", "seed": None}),
    "LecunNormal": (_variance_scaling, {"scale": 1.0, "mode": "fan_in",
                                        "distribution": "truncated_normal", "seed": None}),
    "LecunUniform": (_variance_scaling, {"scale": 1.0, "mode": "fan_in",
                                         "distribution": "uniform", "seed": None}),
    "Orthogonal": (_orthogonal, {"gain": 1.0, "seed": None}),
    "Identity": (_identity, {"gain": 1.0}),
}
# the fixed arguments of the named variance-scaling initializers (not user-settable)
_FIXED = {"GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
          "LecunUniform"}
_SNAKE = {"zeros": "Zeros", "zero": "Zeros", "ones": "Ones", "one": "Ones",
          "constant": "Constant", "random_normal": "RandomNormal", "normal": "RandomNormal",
          "random_uniform": "RandomUniform", "uniform": "RandomUniform",
          "truncated_normal": "TruncatedNormal", "variance_scaling": "VarianceScaling",
          "glorot_normal": "GlorotNormal", "glorot_uniform": "GlorotUniform",
          "he_normal": "HeNormal", "he_uniform": "HeUniform", "lecun_normal": "LecunNormal",
          "lecun_uniform": "LecunUniform", "orthogonal": "Orthogonal",
          "identity": "Identity"}
_CANONICAL = {}
for _name, _cls in _SNAKE.items():  # the first snake_case name of each class
    _CANONICAL.setdefault(_cls, _name)
_SNAKE.update({"IdentityInitializer": "Identity", "OrthogonalInitializer": "Orthogonal"})


def _invalid(argument, identifier):
    return ValueError(f"Received an invalid value for argument `{argument}`, expected an "
                      f"initializer name ({', '.join(sorted(_SNAKE))}), a Keras initializer "
                      f"config dict or object, got {identifier!r}.")


def get(identifier, argument="kernel_initializer"):
    """Normalise an initializer: a snake_case name stays a name (as Keras configs keep
    it); anything with arguments, and fastrnn's initializer objects, become
    ``{"class_name": ..., "config": {...}}``; a user's ``Initializer`` subclass or function
    is returned as it is (``initialize`` calls it).

    Raises:
        ValueError: unknown name or class, or arguments the class does not take.
    """
    if isinstance(identifier, str):
        if identifier in _SNAKE:
            return identifier
        if identifier in _CLASSES:
            return _CANONICAL[identifier]
        raise _invalid(argument, identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        identifier = identifier()  # a class, as Keras: its default instance
    if isinstance(identifier, _Builtin):
        identifier = {"class_name": type(identifier).__name__,
                      "config": identifier.get_config()}
    elif isinstance(identifier, Initializer) or (
            not isinstance(identifier, dict) and callable(identifier)):
        return identifier  # the user's own initializer: called as fn(shape, dtype)
    elif not isinstance(identifier, dict) and hasattr(identifier, "get_config"):
        identifier = {"class_name": type(identifier).__name__,
                      "config": identifier.get_config()}  # a keras initializer object
    if not isinstance(identifier, dict) or "class_name" not in identifier:
        raise _invalid(argument, identifier)
    name = _SNAKE.get(identifier["class_name"], identifier["class_name"])
    if name not in _CLASSES:
        raise _invalid(argument, identifier)
    config = dict(identifier.get("config") or {})
    allowed = set(_CLASSES[name][1]) | {"seed"}
    if name in _FIXED:
        allowed = {"seed"}
    unknown = set(config) - allowed - {"input_axes", "output_axes"}
    if unknown:
        raise ValueError(f"Received an invalid value for argument `{argument}`: initializer "
                         f"{name} does not take {sorted(unknown)}.")
    if name == "VarianceScaling":
        if config.get("mode", "fan_in") not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Received an invalid value for argument `{argument}`: "
                             f"VarianceScaling mode must be 'fan_in', 'fan_out' or "
                             f"'fan_avg', got {config['mode']!r}.")
        if config.get("distribution", "truncated_normal") not in (
                "truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"Received an invalid value for argument `{argument}`: "
                             "VarianceScaling distribution must be 'truncated_normal', "
                             "'untruncated_normal' or 'uniform', got "
                             f"{config['distribution']!r}.")
    defaults = dict(_CLASSES[name][1])
    defaults.update(input_axes=None, output_axes=None, seed=None)
    if name in _CANONICAL and all(defaults.get(k, object()) == v for k, v in config.items()):
        return _CANONICAL[name]  # Keras's written-out defaults: the plain name, as given
    return {"class_name": name, "config": config}


def initialize(spec, shape, dtype, rng):
    """Draw an array of ``shape`` and ``dtype`` for a spec returned by ``get``.

    Raises:
        ValueError: a user's initializer returned an array of another shape.
    """
    if callable(spec) and not isinstance(spec, (str, dict)):
        out = np.asarray(spec(tuple(shape), dtype=dtype)).astype(dtype)
        if out.shape != tuple(shape):
            raise ValueError(f"Initializer {spec!r} returned an array of shape {out.shape}, "
                             f"expected {tuple(shape)}.")
        return out
    if isinstance(spec, str):
        name, config = _SNAKE[spec], {}
    else:
        name, config = spec["class_name"], dict(spec.get("config") or {})
    sampler, defaults = _CLASSES[name]
    args = dict(defaults)
    if name not in _FIXED:
        args.update(config)
    elif config.get("seed") is not None:
        args["seed"] = config["seed"]
    seed = args.pop("seed", None)
    args.pop("input_axes", None)
    args.pop("output_axes", None)
    if name == "VarianceScaling" and args.get("distribution") == "normal":
        args["distribution"] = "truncated_normal"
    if seed is not None:
        rng = np.random.default_rng(int(seed))
    return np.asarray(sampler(tuple(shape), rng, **args)).astype(dtype)


def serialize(spec):
    """The Keras 3 config dict of an initializer spec (or object).

    Raises:
        ValueError: a plain function, which has no config.
    """
    if isinstance(spec, Initializer) and not isinstance(spec, _Builtin):
        return {"module": type(spec).__module__, "class_name": type(spec).__name__,
                "config": spec.get_config(), "registered_name": type(spec).__name__}
    if not isinstance(spec, (str, dict)):
        spec = get(spec, "initializer")
        if not isinstance(spec, (str, dict)):
            raise ValueError(f"Cannot serialize initializer {spec!r}: only Initializer "
                             "objects have a config.")
    if isinstance(spec, str):
        name, config = _SNAKE[spec], {}
    else:
        name, config = spec["class_name"], dict(spec.get("config") or {})
    if name in _FIXED:  # Keras 3 writes only these for the named variance scalings
        full = {"seed": None, "input_axes": None, "output_axes": None}
    elif name in ("Zeros", "Ones"):
        return {"module": "keras.initializers", "class_name": name, "config": {},
                "registered_name": None}
    else:
        full = dict(_CLASSES[name][1])
        if name == "VarianceScaling":
            full.update(input_axes=None, output_axes=None)
    full.update(config)
    return {"module": "keras.initializers", "class_name": name, "config": full,
            "registered_name": None}

from ._initializer_classes import (  # noqa: E402  (the classes use this module's samplers)
    Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity, IdentityInitializer,
    Initializer, LecunNormal, LecunUniform, Ones, Orthogonal, OrthogonalInitializer,
    RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, Zeros, _Builtin, constant,
    deserialize, glorot_normal, glorot_uniform, he_normal, he_uniform, identity, lecun_normal,
    lecun_uniform, ones, orthogonal, random_normal, random_uniform, truncated_normal,
    variance_scaling, zeros)
