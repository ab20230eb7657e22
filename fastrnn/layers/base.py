"""The base layer: name, dtype, declared input shape, weights, config and protocol v2.

Protocol v2 (DESIGN.md): a layer keeps only weights, config and persistent state;
everything one call needs for its backward lives in the context the call returns::

    outputs, ctx = layer.forward(inputs, training=False, mask=None, initial_state=None)
    d_inputs, d_weights = layer.backward(ctx, d_outputs)

``d_outputs`` has the structure of ``outputs`` (an array, or a list whose entries may be
None where an output received no gradient). ``d_inputs`` is a tuple with one entry per
input: the positional inputs in order (one array, or each array of a list), then each
initial state; None for integer inputs. ``d_weights`` is a tuple with one entry per
``layer.weights`` array. A layer called twice gives two contexts, so a tape can sum
both calls' gradients (a shared layer).
"""
import threading
from types import SimpleNamespace

import numpy as np

from .. import _validation as V
from ..utils import make_rng, snake_case, unique_name

__all__ = ["Layer", "Context", "structure_version"]

# Bumped whenever a layer's ``trainable`` flag is set or a layer builds its weights:
# cached training plans (fastrnn.training.plan) compare it to the value they were made at.
_VERSION = [0]


def structure_version():
    """A number that changes whenever any layer's ``trainable`` flag is assigned or any
    layer is built (new weight arrays): training plans made before are then stale."""
    return _VERSION[0]

# Per-weight Keras arguments ``<role>_regularizer`` / ``<role>_constraint``: a layer lists
# the roles it has in ``_weight_roles``; the others are accepted only as None (Keras 2 code
# passes them explicitly), anything else is a TypeError naming the layer.
WEIGHT_ROLES = {"kernel": "kernel", "recurrent": "recurrent_kernel", "bias": "bias",
                "embeddings": "embeddings"}
WEIGHT_ARGUMENTS = tuple(f"{role}_{kind}" for role in WEIGHT_ROLES
                         for kind in ("regularizer", "constraint"))


def _get(module, key, value, layer):
    try:
        return module.get(value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"Received an invalid value for argument `{key}` of layer "
                         f"{layer}: {e}") from None
# Keys Keras 3 (or Keras 2) configs carry for features fastrnn does not have: accepted at
# the value that means "off", anything else raises NotImplementedError naming the key.
KERAS_DEFAULTS = {"quantization_config": None, "lora_rank": None, "lora_alpha": None,
                  "time_major": False, "optional": False, "ragged": False, "autocast": True,
                  "sparse": False}


class Context(SimpleNamespace):
    """What one forward call keeps for its backward (attributes by name)."""


class Layer:
    """Base class of every fastrnn layer.

    Args:
        name: the layer's name (default: its class in snake case, numbered as Keras).
        dtype: "float32" (default) or "float64": the weights' and outputs' dtype.
        trainable: whether ``fit`` updates the weights.
        input_shape / batch_input_shape / input_dim / input_length / batch_size:
            Keras 2's ways of declaring the input shape (Keras 3 takes ``Input``).
    """

    supports_masking = False  # passes a mask on (compute_mask), as Keras 3's attribute
    consumes_mask = False     # its call takes a `mask` argument (RNNs, TimeDistributed)
    _weight_roles = ()        # e.g. ("kernel", "bias"): takes <role>_regularizer/_constraint

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None, input_length=None,
                 batch_shape=None, activity_regularizer=None, **kwargs):
        from .. import constraints, regularizers
        owner = type(self).__name__
        for role in self._weight_roles:
            for kind, module in (("regularizer", regularizers), ("constraint", constraints)):
                key = f"{role}_{kind}"
                setattr(self, key, _get(module, key, kwargs.pop(key, None), owner))
        for key, value in kwargs.items():
            if key in WEIGHT_ARGUMENTS:
                if value is not None:
                    raise TypeError(f"{owner}() got an unexpected keyword argument `{key}` "
                                    f"(a {owner} has no such weight); got {value!r}.")
            elif key == "weights":
                if value is not None:
                    raise NotImplementedError(
                        f"fastrnn does not implement argument `{key}` of "
                        f"{owner}; got {value!r}. Remove it, or pass None.")
            elif key in KERAS_DEFAULTS:
                if value != KERAS_DEFAULTS[key]:
                    raise NotImplementedError(
                        f"fastrnn does not implement argument `{key}` of "
                        f"{owner}; got {value!r} (only "
                        f"{KERAS_DEFAULTS[key]!r} is supported).")
            else:
                raise TypeError(f"{owner}() got an unexpected keyword "
                                f"argument `{key}`.")
        self.activity_regularizer = _get(regularizers, "activity_regularizer",
                                         activity_regularizer, owner)
        self.name = name if name is not None else unique_name(snake_case(type(self).__name__))
        if not isinstance(self.name, str):
            raise TypeError(f"Argument `name` must be a string, got {name!r}.")
        if isinstance(dtype, dict):  # Keras 3 configs: a DTypePolicy
            dtype = dtype.get("config", {}).get("name", "float32")
        self.dtype = V.float_dtype(dtype)
        self.trainable = bool(trainable)
        self.built = False
        if batch_shape is not None and batch_input_shape is None:
            batch_input_shape = batch_shape
        self.batch_input_shape = V.batch_input_shape(input_shape, batch_input_shape,
                                                     batch_size, input_dim, input_length)
        if not isinstance(getattr(type(self), "input_shape", None), property):
            self.input_shape = None  # models compute theirs
        self._inbound_nodes = []
        self._lock = threading.RLock()

    @property
    def trainable(self):
        """Whether ``fit`` / ``train_on_batch`` update this layer's weights."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        _VERSION[0] += 1

    def lean_training(self):
        """``(forward, backward)`` for a training plan, or None (the default: the plan
        calls ``forward``/``backward``). ``forward(x)`` takes the node's single input
        array (already validated for this input signature by a general step) and returns
        ``(output, ctx)`` or None to let the plan take the general call for that step;
        ``backward(ctx, d_output, need_input, out=None)`` returns ``(d_inputs,
        d_weights)`` as ``backward`` (``d_inputs`` may be ``(None,)`` when ``need_input``
        is False; ``out``: one C-contiguous array per weight to write the gradients
        into). Both compute exactly the numbers of ``forward(x, training=True)`` /
        ``backward``."""
        return None

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs, *args, **kwargs):
        if type(inputs) is not np.ndarray or kwargs.get("initial_state") is not None:
            if _symbolic.is_symbolic(inputs) or _symbolic.is_symbolic(
                    kwargs.get("initial_state")):
                return _symbolic.symbolic_call(self, inputs, *args, **kwargs)
        return self.call(inputs, *args, **kwargs)

    def call(self, inputs, training=False, mask=None, **kwargs):
        """The eager call on arrays: ``forward``'s outputs (layers may take a faster path
        that computes the same numbers)."""
        if mask is not None:
            if not self.consumes_mask:
                raise TypeError(self._no_mask_message())
            kwargs["mask"] = mask
        return self.forward(inputs, training=bool(training), **kwargs)[0]

    def _no_mask_message(self):
        return (f"Layer `{self.name}` ({type(self).__name__}) does not take a `mask` "
                f"argument, as in Keras 3 ({type(self).__name__}.call() got an unexpected "
                "keyword argument 'mask'). Masks reach a layer from the layers that make "
                "them (Masking, Embedding(mask_zero=True)) inside a model.")

    def check_mask(self, x, mask):
        """A (batch, timesteps) boolean mask for input ``x``, or a ValueError/TypeError
        naming this layer."""
        if mask is None:
            return None
        try:
            m = np.asarray(mask)
        except ValueError:
            raise ValueError(f"The `mask` passed to layer `{self.name}` must be a "
                             "rectangular (batch, timesteps) array; got a ragged "
                             "sequence.") from None
        if not (m.dtype == np.bool_ or np.issubdtype(m.dtype, np.number)):
            raise TypeError(f"The `mask` passed to layer `{self.name}` must hold booleans, "
                            f"got dtype {m.dtype}.")
        if m.shape != tuple(np.shape(x)[:2]):
            raise ValueError(f"The `mask` passed to layer `{self.name}` must have shape "
                             f"(batch, timesteps) = {tuple(np.shape(x)[:2])}, got {m.shape}.")
        return m.astype(bool, copy=False)

    def forward(self, inputs, *, training=False, mask=None, initial_state=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward.")

    def backward(self, ctx, d_outputs):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward.")

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: the input mask for layers that support masking
        (Keras 3's rule), else None."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def build(self, input_shape):
        self.input_shape = input_shape
        self.built = True

    def build_or_check(self, input_shape):
        """Build for ``input_shape`` (once, under a lock: concurrent first calls build
        once), or check a built layer accepts it."""
        if not self.built:
            with self._lock:
                if not self.built:
                    _VERSION[0] += 1
                    self.build(input_shape)
                    _VERSION[0] += 1
                    return
        self.check_input_shape(input_shape)

    def check_input_shape(self, input_shape):
        """Raise ValueError when a built layer cannot take ``input_shape``."""

    def _build_declared(self):
        """Build from the declared input shape, if any (Keras builds these on first use)."""
        if not self.built and self.batch_input_shape is not None:
            self.build_or_check(self.batch_input_shape)

    def _input_array(self, x, argument="inputs"):
        return V.numeric_array(x, argument, f"layer `{self.name}`")

    def _float_input(self, x):
        """A float array of the layer's dtype (building the layer on first use)."""
        x = self._input_array(x)
        if x.ndim < 1:
            raise ValueError(f"Input 0 of layer `{self.name}` must have a batch axis, got "
                             f"shape {x.shape}.")
        self.build_or_check((None,) + x.shape[1:])
        return np.asarray(x, V.DTYPES[self.dtype])

    # ------------------------------------------------------------------ weights
    @property
    def weights(self):
        return []

    @property
    def trainable_weights(self):
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [] if self.trainable else self.weights

    def get_weights(self):
        self._build_declared()
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self._build_declared()
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer `{self.name}` expects {len(own)} weight arrays "
                             f"{[w.shape for w in own]}, got {len(weights)}.")
        for i, (w, new) in enumerate(zip(own, weights)):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise ValueError(f"Layer `{self.name}` weight {i} must have shape {w.shape}, "
                                 f"got {new.shape}.")
        for w, new in zip(own, weights):
            w[...] = np.asarray(new, dtype=w.dtype)

    def count_params(self):
        self._build_declared()
        if not self.built:
            raise ValueError(f"Layer `{self.name}` is not built yet, so it has no weights to "
                             "count; call it on data or call `build(input_shape)` first.")
        return int(sum(w.size for w in self.weights))

    def _make_rng(self, seed):
        return make_rng(seed)

    # ------------------------------------------------------------------ penalties
    def weight_regularizers(self):
        """``[(weight array, regularizer)]`` for this layer's built weights that have a
        ``<role>_regularizer`` (wrappers and models list their inner layers')."""
        return self._by_role("regularizer")

    def weight_constraints(self):
        """``[(weight array, constraint)]``, as ``weight_regularizers``."""
        return self._by_role("constraint")

    def _by_role(self, kind):
        out = []
        for role in self._weight_roles:
            rule = getattr(self, f"{role}_{kind}", None)
            weight = getattr(self, WEIGHT_ROLES[role], None)
            if rule is not None and weight is not None:
                out.append((weight, rule))
        return out

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Keras 3's config: ``<role>_regularizer`` / ``<role>_constraint`` for every weight
        role the layer has (None or Keras's ``{"module", "class_name", "config"}``), and
        ``activity_regularizer`` when set (Keras's base ``Layer.get_config``)."""
        from .. import constraints, regularizers
        config = {"name": self.name, "dtype": self.dtype, "trainable": self.trainable}
        shape = self.batch_input_shape
        if shape is not None:  # Keras 3's layers take `input_shape` (no batch axis)
            if shape[0] is None:
                config["input_shape"] = shape[1:]
            else:
                config["batch_input_shape"] = shape
        for role in self._weight_roles:
            config[f"{role}_regularizer"] = _serialize(
                regularizers, getattr(self, f"{role}_regularizer"), self.name)
            config[f"{role}_constraint"] = _serialize(
                constraints, getattr(self, f"{role}_constraint"), self.name)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = _serialize(regularizers,
                                                        self.activity_regularizer, self.name)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # pickling and copying go through config + weights (fastrnn.saving.pickling)
    def __reduce_ex__(self, protocol):
        from ..saving.pickling import reduce_layer
        return reduce_layer(self)

    @property
    def class_name(self):
        """The class name Keras uses for this layer in configs and summaries."""
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _serialize(module, rule, layer_name):
    try:
        return module.serialize(rule)
    except ValueError:
        raise ValueError(f"Layer `{layer_name}` cannot write {rule!r} into its config: only "
                         f"fastrnn.{module.__name__.rsplit('.', 1)[-1]} objects serialize "
                         "(Keras would need it registered as a custom object).") from None


from . import input_layer as _symbolic  # noqa: E402  (it subclasses Layer)
