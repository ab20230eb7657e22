"""Model: a graph of layers from ``Input`` tensors to output tensors (Keras 3's functional
API), itself usable as a layer; Sequential builds on it."""
import numpy as np

from .. import _validation as V
from ..layers.base import Context, Layer
from ..layers.input_layer import InputLayer, KerasTensor, flatten
from ..saving.mixin import SavingMixin
from ..training.tape import Tape
from ..training.trainer import Trainer
from ..utils import make_rng, unique_name
from . import config as config_mod
from .graph import check_symbolic, map_graph, run_graph
from .summary import print_summary

__all__ = ["Model"]


class Model(Trainer, SavingMixin, Layer):
    """Groups layers into an object with training and inference features.

    Args:
        inputs: a ``fastrnn.Input`` tensor, or a list (or dict) of them.
        outputs: a tensor made by calling layers on ``inputs``, or a list (or dict) of them.
        name: the model's name (default "functional", "functional_1", ...).

    Call arguments:
        inputs: one array per model input (an array, a list, or a dict by input name).
        Returns one array per output (a list for several outputs).

    Raises:
        ValueError: a disconnected graph (naming the layer and tensor), duplicate layer
            names, or arrays that don't fit the inputs.

    Example:
    >>> import fastrnn
    >>> from fastrnn.layers import Dense, SimpleRNN
    >>> inputs = fastrnn.Input(shape=(5, 3))
    >>> seq, state = SimpleRNN(4, return_sequences=True, return_state=True)(inputs)
    >>> model = fastrnn.Model(inputs, [Dense(2)(state), seq])
    >>> [y.shape for y in model.predict(np.ones((6, 5, 3)), verbose=0)]
    [(6, 2), (6, 5, 4)]
    """

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise TypeError("fastrnn.Model needs `inputs` and `outputs` (the functional API); "
                            "subclassing Model with a custom `call` is not supported.")
        Layer.__init__(self, name=name if name is not None else unique_name("functional"),
                       trainable=trainable, **kwargs)
        self._rng = make_rng()
        self._set_graph(inputs, outputs)

    # ------------------------------------------------------------------ graph
    def _set_graph(self, inputs, outputs):
        check_symbolic(inputs, "inputs")
        check_symbolic(outputs, "outputs")
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for t in self.inputs:
            if t._history is None or not isinstance(t._history[0], InputLayer):
                raise ValueError(f"Model `{self.name}`: every input must come from "
                                 f"`fastrnn.Input`, got {t!r}.")
        self._nodes, self._graph_layers = map_graph(self.inputs, self.outputs)
        self._input_layers = [t._history[0] for t in self.inputs]
        self.input_names = [layer.name for layer in self._input_layers]
        self.output_names = [t._history[0].name for t in self.outputs]
        self.built = True

    @property
    def layers(self):
        return list(self._graph_layers)

    @property
    def class_name(self):
        """Keras 3 calls a graph model "Functional" in configs and summaries."""
        return "Functional" if type(self) is Model else type(self).__name__

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    def get_layer(self, name=None, index=None):
        """The layer called ``name`` (or at ``index`` in ``layers``)."""
        if index is not None:
            if name is not None:
                raise ValueError("Provide only a layer name or a layer index, not both.")
            if not 0 <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"`{self.name}` only has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    # ------------------------------------------------------------------ weights
    def _unique(self, arrays):
        seen, out = set(), []
        for w in arrays:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def weights(self):
        return self._unique([w for layer in self.layers for w in layer.weights])

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self._unique([w for layer in self.layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def weight_regularizers(self):
        """``[(weight, regularizer)]`` of every layer (nested ones included), once each."""
        return self._unique_pairs([p for layer in self.layers
                                   for p in layer.weight_regularizers()])

    def weight_constraints(self):
        return self._unique_pairs([p for layer in self.layers
                                   for p in layer.weight_constraints()])

    @staticmethod
    def _unique_pairs(pairs):
        seen, out = set(), []
        for w, rule in pairs:
            if (id(w), id(rule)) not in seen:
                seen.add((id(w), id(rule)))
                out.append((w, rule))
        return out

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Model `{self.name}` expects {len(own)} weight arrays "
                             f"{[w.shape for w in own]}, got {len(weights)}.")
        for i, (w, new) in enumerate(zip(own, weights)):
            if np.shape(new) != w.shape:
                raise ValueError(f"Model `{self.name}` weight {i} must have shape {w.shape}, "
                                 f"got {np.shape(new)}.")
        for w, new in zip(own, weights):
            w[...] = np.asarray(new, dtype=w.dtype)

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    def reset_states(self):
        for layer in self.layers:
            if getattr(layer, "stateful", False) or isinstance(layer, Model):
                layer.reset_states()

    reset_state = reset_states

    # ------------------------------------------------------------------ calling
    def _standardize_inputs(self, x, what):
        """One numeric array per model input, checked against the input shapes."""
        n = len(self.inputs)
        if isinstance(x, KerasTensor):
            raise TypeError(f"`{what}` of model `{self.name}` takes arrays, got a symbolic "
                            "tensor.")
        if isinstance(x, dict):
            missing = [name for name in self.input_names if name not in x]
            if missing:
                raise ValueError(f"Argument `x` of `{what}` has no arrays for inputs "
                                 f"{missing} of model `{self.name}` (keys: {list(x)}).")
            xs = [x[name] for name in self.input_names]
        elif n > 1:
            if not isinstance(x, (list, tuple)) or len(x) != n:
                got = f"{len(x)} arrays" if isinstance(x, (list, tuple)) else \
                    f"one {type(x).__name__}"
                raise ValueError(f"Model `{self.name}` has {n} inputs {self.input_names}: "
                                 f"argument `x` of `{what}` must be a list of {n} arrays (or "
                                 f"a dict by input name), got {got}.")
            xs = list(x)
        elif isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):
            xs = [x[0]]
        else:
            xs = [x]
        arrays = []
        for i, (a, t) in enumerate(zip(xs, self.inputs)):
            a = V.numeric_array(a, "x", f"model `{self.name}`")
            if a.ndim != len(t.shape) or any(e is not None and e != r for e, r in
                                             zip(t.shape[1:], a.shape[1:])):
                raise ValueError(f"Input {i} of model `{self.name}` is incompatible: expected "
                                 f"shape {V.format_shape(t.shape)}, got {a.shape}.")
            arrays.append(a)
        sizes = {a.shape[0] for a in arrays}
        if len(sizes) > 1:
            raise ValueError(f"The inputs of model `{self.name}` must have the same number of "
                             f"samples, got {[a.shape[0] for a in arrays]}.")
        return arrays

    def _run(self, xs, masks=None, training=False):
        return run_graph(self._nodes, self.inputs, self.outputs, xs, masks,
                         training=training)[0]

    def _pack_outputs(self, outs):
        if isinstance(self._outputs_struct, dict):
            return dict(zip(self._outputs_struct, outs))
        if isinstance(self._outputs_struct, list):
            return list(outs)
        return outs[0]

    def __call__(self, inputs, *args, **kwargs):
        from ..layers.input_layer import is_symbolic
        if is_symbolic(inputs):
            return Layer.__call__(self, inputs, *args, **kwargs)
        return self.call(inputs, *args, **kwargs)

    def call(self, inputs, training=False, mask=None):
        xs = self._standardize_inputs(inputs, "__call__")
        masks = None if mask is None else (mask if isinstance(mask, list) else [mask])
        return self._pack_outputs(self._run(xs, masks, bool(training)))

    def forward(self, inputs, *, training=False, mask=None):
        """Protocol v2 for a model used as a layer: the context is its own tape."""
        xs = self._standardize_inputs(inputs, "forward")
        masks = None if mask is None else (mask if isinstance(mask, list) else [mask])
        tape = Tape()
        out_ids = {id(t) for t in self.outputs}
        outs, _, contexts = run_graph(self._nodes, self.inputs, self.outputs, xs, masks,
                                      training=training, tape=tape, ctx_for=out_ids)
        ctx = Context(tape=tape, contexts=contexts)
        if len(self.outputs) == 1:  # the logits rule sees through a nested model
            inner = contexts.get(id(self.outputs[0]))
            if getattr(inner, "logits", None) is not None:
                ctx.logits, ctx.activation, ctx.y = inner.logits, inner.activation, inner.y
        return (outs[0] if len(outs) == 1 else list(outs)), ctx

    def backward(self, ctx, d_outputs):
        d_list = [d_outputs] if len(self.outputs) == 1 else list(d_outputs)
        if getattr(ctx, "d_wrt_logits", False):
            ctx.contexts[id(self.outputs[0])].d_wrt_logits = True
        d = {}
        for t, g in zip(self.outputs, d_list):
            if g is not None:
                d[id(t)] = g if id(t) not in d else d[id(t)] + g
        grads, d_weights = ctx.tape.backward(d)
        return (tuple(grads.get(id(t)) for t in self.inputs),
                tuple(d_weights.get(id(w)) for w in self.weights))

    def build_or_check(self, input_shape):
        self.check_input_shape(input_shape)

    def check_input_shape(self, input_shape):
        shapes = input_shape if len(self.inputs) > 1 else [input_shape]
        if len(shapes) != len(self.inputs):
            raise ValueError(f"Model `{self.name}` has {len(self.inputs)} inputs, got "
                             f"{len(shapes)}.")
        for i, (s, t) in enumerate(zip(shapes, self.inputs)):
            if len(s) != len(t.shape) or any(a is not None and b is not None and a != b
                                             for a, b in zip(s[1:], t.shape[1:])):
                raise ValueError(f"Input {i} of model `{self.name}` is incompatible: expected "
                                 f"shape {V.format_shape(t.shape)}, got "
                                 f"{V.format_shape(tuple(s))}.")

    def compute_output_shape(self, input_shape):
        first = input_shape[0] if len(self.inputs) > 1 else input_shape
        batch = first[0] if first else None
        shapes = [(batch,) + tuple(t.shape[1:]) for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_mask(self, inputs, mask=None):
        """The masks of the outputs for arrays ``inputs`` (None where an output has none),
        as Keras's ``output._keras_mask``: a (batch, timesteps) boolean array per output.
        (A model nested in another does not pass masks on: ``supports_masking`` is False.)
        """
        xs = self._standardize_inputs(inputs, "compute_mask")
        masks = None if mask is None else (mask if isinstance(mask, list) else [mask])
        out_masks = run_graph(self._nodes, self.inputs, self.outputs, xs, masks)[1]
        return out_masks[0] if len(out_masks) == 1 else out_masks

    # ------------------------------------------------------------------ summary, config
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print Keras 2's table of layers, output shapes, parameter counts and (for a
        functional model) the layers each one is connected to. ``print_fn`` receives one
        line at a time (default ``print``)."""
        print_summary(self, line_length, positions, print_fn)

    def get_config(self):
        return config_mod.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        inputs, outputs, name = config_mod.rebuild_graph(config, custom_objects)
        return cls(inputs, outputs, name=name, trainable=config.get("trainable", True))

    def __repr__(self):
        return (f"<{type(self).__name__} name={self.name}, inputs={len(self.inputs)}, "
                f"outputs={len(self.outputs)}, layers={len(self.layers)}>")
