"""Sequential: a builder over the same graph as Model, as Keras builds it."""
from .. import _validation as V
from ..layers.base import Layer
from ..layers.input_layer import InputLayer, KerasTensor
from ..training.legacy import ClassMethods
from ..utils import make_rng, unique_name
from .model import Model
from .summary import print_summary

__all__ = ["Sequential"]


class Sequential(Model, ClassMethods):
    """A linear stack of layers.

    The graph is built as soon as the input shape is known (an ``Input`` added first, or
    Keras 2's ``input_shape``/``batch_input_shape`` on the first layer, or an
    ``Embedding`` first, as in Keras 2), else on the first call, ``build`` or ``fit``.

    Args:
        layers: optional list of layers (a ``fastrnn.Input`` first declares the input).
        name: model name (default "sequential", "sequential_1", ...).

    Example:
    >>> from fastrnn.layers import SimpleRNN
    >>> model = Sequential()
    >>> model.add(SimpleRNN(3, input_shape=(2, 10)))
    >>> model.output_shape
    (None, 3)
    """

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name if name is not None else unique_name("sequential"),
                       trainable=trainable, **kwargs)
        self._rng = make_rng()
        self._stack = []
        self._input_layer = None
        self._nodes, self.inputs, self.outputs = [], [], []
        self._graph_layers = []
        self.built = False
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer, rebuild=True):
        """Append a layer (or declare the input with ``fastrnn.Input`` first)."""
        if isinstance(layer, KerasTensor) and layer._history is not None and \
                isinstance(layer._history[0], InputLayer):
            layer = layer._history[0]
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An Input must be added before any layer of "
                                 f"model `{self.name}`.")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Argument `layer` of Sequential.add must be a fastrnn layer, "
                            f"got {type(layer).__name__}: {layer!r}.")
        if any(layer is other for other in self._stack):
            raise ValueError(f"Layer `{layer.name}` is already in model `{self.name}`.")
        if not self._stack and self._input_layer is None and \
                layer.batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer.batch_input_shape,
                                           dtype=self._input_dtype(layer))
            self._implicit = getattr(layer, "_implicit_input", False)
        self._stack.append(layer)
        if self._input_layer is not None and rebuild:
            try:
                self._build_graph()
            except Exception:
                if getattr(self, "_implicit", False):
                    # an Embedding's (None, None): wait for data, as Keras 3 does
                    self._input_layer, self.built = None, False
                    return
                self._stack.pop()
                if self._stack:
                    self._build_graph()
                raise

    @staticmethod
    def _input_dtype(layer):
        from ..layers import Embedding
        return "int32" if isinstance(layer, Embedding) else layer.dtype

    def pop(self):
        if not self._stack:
            raise ValueError(f"Model `{self.name}` has no layers to pop.")
        layer = self._stack.pop()
        if self._input_layer is not None and self._stack:
            self._build_graph()
        elif not self._stack:
            self.built = False
        return layer

    def _build_graph(self):
        previous = set(self._nodes)
        for layer in self._stack:  # forget the nodes of the previous build
            layer._inbound_nodes = [n for n in layer._inbound_nodes if n not in previous]
        x = self._input_layer.output
        last = len(self._stack) - 1
        for i, layer in enumerate(self._stack):
            x = layer(x)
            if isinstance(x, list) and i < last:
                raise ValueError(f"Layer `{layer.name}` returns {len(x)} outputs "
                                 "(return_state or merge_mode=None) and cannot feed the "
                                 "next layer of a Sequential model.")
        self._set_graph(self._input_layer.output, x)

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch axis first)."""
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError(f"Model `{self.name}` cannot be built without an input "
                                 "shape: pass `input_shape` to its first layer, add a "
                                 "fastrnn.Input, call `build(input_shape)` or call the model "
                                 "on data.")
            dtype = self._input_dtype(self._stack[0]) if self._stack else V.float_dtype(None)
            self._input_layer = InputLayer(batch_shape=tuple(input_shape), dtype=dtype)
        if self._stack:
            self._build_graph()

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"Model `{self.name}` has not yet been built, so it has no "
                             f"{what}. Build it first by calling `build(input_shape)`, by "
                             "calling it on a batch of data, or by giving its first layer "
                             "an `input_shape`.")

    @property
    def input_shape(self):
        self._require_built("input_shape")
        return super().input_shape

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return super().output_shape

    def count_params(self):
        self._require_built("parameters to count")
        return super().count_params()

    @property
    def weights(self):
        if not self.built:
            return [w for layer in self._stack for w in layer.weights]
        return super().weights

    def _standardize_inputs(self, x, what):
        if not self._stack:
            raise ValueError(f"Model `{self.name}` has no layers; add some first.")
        if not self.built:
            from .. import _validation as V
            arr = V.numeric_array(x, "x", f"model `{self.name}`")
            if arr.ndim < 1:
                raise ValueError(f"Argument `x` of `{what}` must have a batch axis, got shape "
                                 f"{arr.shape}.")
            with self._lock:  # concurrent first calls build once
                if not self.built:
                    self._input_layer = InputLayer(
                        batch_shape=(None,) + arr.shape[1:],
                        dtype=arr.dtype.name if arr.dtype.kind in "iub" else
                        self._input_dtype(self._stack[0]))
                    self._build_graph()
            return super()._standardize_inputs(arr, what)
        return super()._standardize_inputs(x, what)

    # ------------------------------------------------------------------ summary, config
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print Keras 2's table of layers, output shapes and parameter counts (an unbuilt
        model prints "?" and "0 (unbuilt)", as Keras 3 does). ``print_fn`` receives one
        line at a time (default ``print``)."""
        if not self.built:
            print_summary(self, line_length, positions, print_fn,
                          rows=[(layer, "?") for layer in self._stack])
        else:
            print_summary(self, line_length, positions, print_fn)

    def get_config(self):
        from ..layers import serialize
        layers = [serialize(layer) for layer in self._stack]
        if self._input_layer is not None:
            layers.insert(0, serialize(self._input_layer))
        config = {"name": self.name, "trainable": self.trainable, "layers": layers}
        if self._input_layer is not None:
            config["build_input_shape"] = list(self._input_layer.batch_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..layers import deserialize
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for spec in config["layers"]:
            if "class_name" not in spec:  # fastrnn 0.1: {"class_name", "config"} flat
                raise ValueError(f"Invalid layer entry in Sequential config: {spec!r}.")
            model.add(deserialize(spec, custom_objects), rebuild=False)
        shape = config.get("build_input_shape")
        if model._input_layer is None and shape is not None and model._stack and \
                model._stack[0].batch_input_shape is None:
            model.build(tuple(shape))
        elif model._input_layer is not None and model._stack:
            model._build_graph()
        return model

    def __repr__(self):
        return (f"<Sequential name={self.name}, layers={len(self._stack)}, "
                f"built={self.built}>")
