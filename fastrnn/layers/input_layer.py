"""Symbolic tensors, graph nodes and the input layer (Keras 3's functional API).

``Input(shape=(5, 3))`` returns a ``KerasTensor``; calling a layer on KerasTensors records
a ``Node`` (the layer, its input tensors, its call arguments, its output tensors) and
returns new KerasTensors whose shapes come from ``compute_output_shape``.
``fastrnn.Model(inputs, outputs)`` then runs the recorded nodes on arrays.
"""
from .. import _validation as V
from ..utils import unique_name
from .base import Layer

__all__ = ["KerasTensor", "Node", "InputLayer", "Input", "is_symbolic", "flatten"]


class KerasTensor:
    """A symbolic tensor: a full shape (batch axis first, None where unknown) and a dtype.

    ``_history`` is ``(layer, node_index, tensor_index)``: the node that produced it.
    """

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._history = history

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def node(self):
        layer, node_index, _ = self._history
        return layer._inbound_nodes[node_index]

    def __repr__(self):
        return (f"<KerasTensor shape={V.format_shape(self.shape)}, dtype={self.dtype}, "
                f"name={self.name}>")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic: it has no values. Build a model with "
                        "`fastrnn.Model(inputs, outputs)` and call it on arrays.")


def is_symbolic(value):
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_symbolic(v) for v in value)
    if isinstance(value, dict):
        return any(is_symbolic(v) for v in value.values())
    return False


def flatten(value):
    """Nested lists/tuples/dicts of leaves -> flat list (dicts in key order as given)."""
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in flatten(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in flatten(v)]
    return [value]


def map_structure(fn, value):
    if isinstance(value, list):
        return [map_structure(fn, v) for v in value]
    if isinstance(value, tuple):
        return tuple(map_structure(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: map_structure(fn, v) for k, v in value.items()}
    return fn(value)


class Node:
    """One call of a layer on symbolic tensors.

    Attributes:
        layer: the layer called.
        args: the positional input, a KerasTensor or a list of them (as passed).
        initial_state: list of KerasTensors, or None.
        call_kwargs: the other (non-tensor) call arguments, e.g. ``{"training": None}``.
        inputs: every input KerasTensor, positional first, then initial states.
        outputs: list of output KerasTensors.
    """

    def __init__(self, layer, args, outputs, initial_state=None, call_kwargs=None):
        self.layer = layer
        self.args = args
        self.initial_state = initial_state
        self.call_kwargs = dict(call_kwargs or {})
        self.inputs = flatten(args) + (flatten(initial_state) if initial_state else [])
        self.outputs = list(outputs)
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._history = (layer, self.index, i)

    @property
    def parent_nodes(self):
        return [t.node for t in self.inputs if t._history is not None]

    def __repr__(self):
        return f"<Node layer={self.layer.name}, inputs={len(self.inputs)}>"


def _check_all_symbolic(layer, value, argument):
    for leaf in flatten(value):
        if not isinstance(leaf, KerasTensor):
            raise TypeError(f"Layer `{layer.name}` was called on a mix of symbolic tensors "
                            f"and values: argument `{argument}` holds {type(leaf).__name__}. "
                            "Pass fastrnn.Input tensors (or outputs of layers called on "
                            "them) only.")


def symbolic_call(layer, inputs, *args, training=None, mask=None, initial_state=None,
                  **kwargs):
    """Record a node of ``layer`` on KerasTensors and return its output KerasTensor(s)."""
    if args:
        if initial_state is None and len(args) == 1 and getattr(layer, "_takes_state", False):
            initial_state = args[0]  # Keras allows rnn(x, initial_state) positionally
        else:
            raise TypeError(f"Layer `{layer.name}` takes one positional argument (its inputs) "
                            f"when called on symbolic tensors, got {1 + len(args)}.")
    if mask is not None:
        raise NotImplementedError(f"Layer `{layer.name}`: an explicit `mask=` on symbolic "
                                  "tensors is not supported; masks come from the layers that "
                                  "make them (Masking, Embedding(mask_zero=True)).")
    _check_all_symbolic(layer, inputs, "inputs")
    if initial_state is not None:
        if not getattr(layer, "_takes_state", False):
            raise TypeError(f"Layer `{layer.name}` ({type(layer).__name__}) does not take "
                            "`initial_state`.")
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        _check_all_symbolic(layer, initial_state, "initial_state")
    if isinstance(inputs, tuple):
        inputs = list(inputs)
    input_shape = map_structure(lambda t: t.shape, inputs)
    layer.build_or_check(input_shape)
    if initial_state is not None:
        layer.check_initial_state_shapes([t.shape for t in initial_state], input_shape)
    out_shape = layer.compute_output_shape(input_shape)
    dtype = layer.dtype
    if isinstance(out_shape, list):
        outputs = [KerasTensor(s, dtype, name=f"{layer.name}_{i}") for i, s in
                   enumerate(out_shape)]
    else:
        outputs = [KerasTensor(out_shape, dtype, name=layer.name)]
    call_kwargs = dict(kwargs)
    if training is not None:
        call_kwargs["training"] = training
    Node(layer, inputs, outputs, initial_state, call_kwargs)
    return outputs if isinstance(out_shape, list) else outputs[0]


class InputLayer(Layer):
    """The layer behind ``Input``: holds the declared batch shape and dtype.

    Args:
        shape: the shape without the batch axis. batch_size: optional batch size.
        dtype: any numeric dtype name ("float32" default; "int32" for token ids).
        batch_shape: the full shape, batch axis first (instead of shape/batch_size).
        input_tensor: unsupported (Keras 2); sparse/ragged: must be False.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, name=None, input_shape=None, batch_input_shape=None,
                 **kwargs):
        if input_tensor is not None or sparse:
            raise NotImplementedError("fastrnn's InputLayer does not take `input_tensor` or "
                                      "`sparse=True`.")
        kwargs.pop("ragged", None)
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if shape is None and batch_shape is None:
            raise ValueError("`Input` needs `shape` or `batch_shape`, got neither.")
        if batch_shape is not None:
            if shape is not None:
                raise ValueError("`Input` takes `shape` or `batch_shape`, not both; got "
                                 f"shape={shape!r} and batch_shape={batch_shape!r}.")
            batch_shape = V.shape_tuple(batch_shape, "batch_shape")
        else:
            batch_shape = (batch_size,) + V.shape_tuple(shape, "shape")
        self.input_dtype = V.any_dtype(dtype)
        super().__init__(name=name if name is not None else unique_name("input_layer"),
                         **kwargs)
        self.batch_shape = batch_shape
        self.batch_input_shape = batch_shape
        self.input_shape = batch_shape
        self.built = True
        self.output = KerasTensor(batch_shape, self.input_dtype, name=self.name)
        Node(self, [], [self.output])

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def count_params(self):
        return 0

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.input_dtype,
                "sparse": False, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("ragged", None)
        return cls(**config)

    def __repr__(self):
        return f"<InputLayer name={self.name}, batch_shape={V.format_shape(self.batch_shape)}>"


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, sparse=None,
          tensor=None, optional=False):
    """A symbolic model input, as ``keras.Input``.

    Args:
        shape: the shape without the batch axis, e.g. ``(timesteps, features)``.
        batch_size: optional fixed batch size. dtype: "float32" (default), "float64",
        or an integer dtype ("int32") for token ids. batch_shape: the full shape instead.
        name: the input layer's name.

    Returns:
        A ``KerasTensor`` of shape ``(batch_size,) + shape``.

    Example:
    >>> import fastrnn
    >>> fastrnn.Input(shape=(5, 3)).shape
    (None, 5, 3)
    """
    if tensor is not None:
        raise NotImplementedError("fastrnn's Input does not take `tensor`.")
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name, sparse=sparse).output
