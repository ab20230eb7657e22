"""Sequential: a stack of layers with Keras's build, call, summary and training API."""
import math
import sys
import time
import warnings

import numpy as np

from .layers import InputSpec, Layer, _shape_tuple
from .utils import make_rng, unique_name

__all__ = ["Sequential"]


def _format_shape(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class Sequential:
    """A linear stack of layers.

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

    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name if name is not None else unique_name("sequential")
        self.trainable = bool(trainable)
        self._layers = []
        self._declared_shape = None
        self._input_shape = None
        self._output_shape = None
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._rng = make_rng()
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Append a layer (or declare the input with ``fastrnn.Input`` first)."""
        if isinstance(layer, InputSpec):
            if self._layers:
                raise ValueError("An Input must be added before any layer of "
                                 f"model `{self.name}`.")
            self._declared_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Argument `layer` of Sequential.add must be a fastrnn layer, "
                            f"got {type(layer).__name__}: {layer!r}.")
        if any(layer is other for other in self._layers):
            raise ValueError(f"Layer `{layer.name}` is already in model `{self.name}`.")
        if not self._layers and self._declared_shape is None:
            self._declared_shape = layer.batch_input_shape
        self._layers.append(layer)
        if self._declared_shape is not None:
            try:
                self.build(self._declared_shape)
            except Exception:
                self._layers.pop()
                raise

    def pop(self):
        if not self._layers:
            raise ValueError(f"Model `{self.name}` has no layers to pop.")
        layer = self._layers.pop()
        if self._input_shape is not None and self._layers:
            self.build(self._input_shape)
        return layer

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch, timesteps, features)."""
        if input_shape is None:
            input_shape = self._declared_shape
        if input_shape is None:
            raise ValueError(f"Model `{self.name}` cannot be built without an input shape: "
                             "pass `input_shape` to its first layer, add a fastrnn.Input, "
                             "call `build(input_shape)` or call the model on data.")
        shape = _shape_tuple(input_shape, "input_shape")
        self._input_shape = shape
        for layer in self._layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
            if isinstance(shape, list):
                if layer is not self._layers[-1]:
                    raise ValueError(f"Layer `{layer.name}` returns {len(shape)} outputs "
                                     "(return_state or merge_mode=None) and cannot feed the "
                                     "next layer of a Sequential model.")
        self._output_shape = shape
        self.built = bool(self._layers)

    @property
    def input_shape(self):
        self._require_built("input_shape")
        return self._input_shape

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return self._output_shape

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"Model `{self.name}` has not yet been built, so it has no "
                             f"{what}. Build it first by calling `build(input_shape)`, by "
                             "calling it on a batch of data, or by giving its first layer "
                             "an `input_shape`.")

    # ------------------------------------------------------------------ weights
    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Model `{self.name}` expects {len(own)} weight arrays "
                             f"{[w.shape for w in own]}, got {len(weights)}.")
        start = 0
        for layer in self._layers:
            n = len(layer.weights)
            layer.set_weights(weights[start:start + n])
            start += n

    def count_params(self):
        self._require_built("parameters to count")
        return sum(layer.count_params() for layer in self._layers)

    def reset_states(self):
        for layer in self._layers:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    reset_state = reset_states

    # ------------------------------------------------------------------ inference
    def _check_input(self, x):
        x = np.asarray(x)
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise TypeError(f"Argument `x` of model `{self.name}` must be a numeric array, "
                            f"got dtype {x.dtype}.")
        if not self._layers:
            raise ValueError(f"Model `{self.name}` has no layers; add some first.")
        if not self.built:
            self.build((None,) + x.shape[1:])
        expected = self._input_shape
        if x.ndim != len(expected) or any(
                e is not None and e != r for e, r in zip(expected[1:], x.shape[1:])):
            raise ValueError(f"Input 0 of model `{self.name}` is incompatible: expected shape "
                             f"{_format_shape(expected)}, got {x.shape}.")
        return x

    def __call__(self, x, training=False, mask=None):
        x = self._check_input(x)
        for i, layer in enumerate(self._layers):
            if i == 0 and mask is not None:
                x = layer(x, mask=mask, training=training)
            else:
                x = layer(x, training=training)
        return x

    call = __call__

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` computed in batches of ``batch_size`` (default 32)."""
        x = self._check_input(x)
        batch_size = self._batch_size(batch_size)
        n = x.shape[0]
        starts = list(range(0, n, batch_size)) or [0]
        bar = _Progbar(len(starts), self._verbosity(verbose))
        outs = []
        for i, s in enumerate(starts):
            outs.append(self(x[s:s + batch_size]))
            bar.update(i + 1)
        bar.end()
        return np.concatenate(outs, axis=0)

    # ------------------------------------------------------------------ summary
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False):
        """Print Keras 2's table of layers, output shapes and parameter counts.

        ``print_fn`` receives one line at a time (default ``print``).
        """
        self._require_built("summary")
        print_fn = print if print_fn is None else print_fn
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        if positions[-1] <= 1:
            positions = [int(line_length * p) for p in positions]

        def row(fields):
            line = ""
            for i, field in enumerate(fields):
                if i > 0:
                    line = line[:-1] + " "
                line += str(field)
                line = line[:positions[i]]
                line += " " * (positions[i] - len(line))
            print_fn(line)

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * line_length)
        row(["Layer (type)", "Output Shape", "Param #"])
        print_fn("=" * line_length)
        shape = self._input_shape
        for i, layer in enumerate(self._layers):
            shape = layer.compute_output_shape(shape)
            row([f"{layer.name} ({type(layer).__name__})", _format_shape(shape),
                 str(layer.count_params())])  # Keras 2: no separators in the rows
            print_fn("=" * line_length if i == len(self._layers) - 1 else "_" * line_length)
        trainable = sum(w.size for w in self.trainable_weights)
        total = sum(w.size for w in self.weights)
        print_fn(f"Total params: {total:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {total - trainable:,}")
        print_fn("_" * line_length)

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Configure training: an optimizer, a loss and optional metrics (Keras names)."""
        from . import losses, metrics as metrics_mod, optimizers
        for key in kwargs:
            if kwargs[key] is not None:
                raise NotImplementedError(f"fastrnn does not implement argument `{key}` of "
                                          f"compile; got {kwargs[key]!r}.")
        if loss is None:
            raise ValueError("Argument `loss` of compile is required, got None.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, dict)) or callable(metrics):
            metrics = [metrics]
        self.compiled_metrics = [metrics_mod.get(m, loss=self.loss) for m in metrics]
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self.compiled = True

    @property
    def metrics_names(self):
        names = ["loss"]
        if self.compiled:
            names += [m.name for m in self.compiled_metrics]
        return names

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` on model `{self.name}` before "
                               f"`{what}()`.")

    def _check_xy(self, x, y, what):
        x = self._check_input(x)
        if y is None:
            raise ValueError(f"Argument `y` of `{what}` is required, got None.")
        y = np.asarray(y)
        if x.shape[0] == 0:
            raise ValueError(f"Argument `x` of `{what}` has no samples (shape {x.shape}); "
                             "expected at least one.")
        if y.shape[:1] != x.shape[:1]:
            raise ValueError(f"Arguments `x` and `y` of `{what}` must have the same number of "
                             f"samples, got x with {x.shape[0]} and y with shape {y.shape}.")
        out = self._output_shape
        if isinstance(out, list):
            raise ValueError(f"Model `{self.name}` has several outputs; fastrnn trains "
                             "single-output models only.")
        return x, y

    @property
    def _loss_from_logits(self):
        """Keras (TensorFlow backend) computes a crossentropy from the logits, with no
        clipping, when the model ends in the loss's own activation (sigmoid or softmax):
        the same loss with from_logits=True then, else None."""
        from .layers import Dense
        last = self._layers[-1] if self._layers else None
        key = (last, getattr(last, "activation", None), self.loss)
        if getattr(self, "_logits_key", None) != key:
            self._logits_key, self._logits_cached = key, None
            if (isinstance(last, Dense) and getattr(self.loss, "from_logits", True) is False
                    and last.activation == getattr(self.loss, "logits_activation", None)):
                config = dict(self.loss.get_config(), from_logits=True)
                self._logits_cached = type(self.loss).from_config(config)
        return self._logits_cached

    def _forward_backward(self, x, y):
        """One forward and backward pass; returns (loss, y_pred, grads)."""
        out = x
        for layer in self._layers:
            out = layer.forward_train(out, training=True)
        last = self._layers[-1]
        if self._loss_from_logits is not None:
            z = last.logits
            loss = float(self._loss_from_logits(y, z))
            d = last.backward(self._loss_from_logits.gradient(y, z), of_logits=True)
            layers = self._layers[:-1]
        else:
            loss = float(self.loss(y, out))
            d = self.loss.gradient(y, out)
            layers = self._layers
        for layer in reversed(layers):
            d = layer.backward(d)
        grads = [g for layer in self._layers if layer.trainable for g in layer._grads]
        return loss, out, grads

    def _train_step(self, x, y, where):
        loss, y_pred, grads = self._forward_backward(x, y)
        if not (math.isfinite(loss) and all(np.isfinite(g).all() for g in grads)):
            warnings.warn(f"Training of model `{self.name}` stopped at {where}: the loss is "
                          f"{loss} (or a gradient is not finite). The weights from before "
                          "that step are kept.", RuntimeWarning, stacklevel=3)
            self.stop_training = True
            return False
        variables = self.trainable_weights
        self.optimizer.apply_gradients(list(zip(grads, variables)))
        self._loss_tracker.update_state(loss, sample_weight=x.shape[0])
        for m in self.compiled_metrics:
            m.update_state(y, y_pred)
        return True

    def _logs(self, prefix=""):
        logs = {prefix + "loss": self._loss_tracker.result()}
        for m in self.compiled_metrics:
            logs[prefix + m.name] = m.result()
        return logs

    def reset_metrics(self):
        self._loss_tracker.reset_state()
        for m in self.compiled_metrics:
            m.reset_state()

    def _return(self, logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on (x, y); returns that batch's loss (and metrics), computed
        before the update, as Keras 3 does."""
        self._require_compiled("train_on_batch")
        x, y = self._check_xy(x, y, "train_on_batch")
        self.stop_training = False
        self.reset_metrics()
        self._train_step(x, y, "train_on_batch")
        return self._return(self._logs(), return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        self._require_compiled("test_on_batch")
        x, y = self._check_xy(x, y, "test_on_batch")
        self.reset_metrics()
        self._test_step(x, y)
        return self._return(self._logs(), return_dict)

    def _test_step(self, x, y):
        if self._loss_from_logits is not None:
            h = self._check_input(x)
            for layer in self._layers[:-1]:
                h = layer(h)
            z, y_pred = self._layers[-1].call_with_logits(h)
            loss = float(self._loss_from_logits(y, z))
        else:
            y_pred = self(x)
            loss = float(self.loss(y, y_pred))
        self._loss_tracker.update_state(loss, sample_weight=x.shape[0])
        for m in self.compiled_metrics:
            m.update_state(y, y_pred)

    def evaluate(self, x, y, batch_size=None, verbose="auto", return_dict=False, **kwargs):
        """Loss and metrics over (x, y), averaged per sample over batches of ``batch_size``."""
        self._require_compiled("evaluate")
        x, y = self._check_xy(x, y, "evaluate")
        logs = self._evaluate(x, y, self._batch_size(batch_size), self._verbosity(verbose))
        return self._return(logs, return_dict)

    def _evaluate(self, x, y, batch_size, verbose, prefix=""):
        self.reset_metrics()
        starts = range(0, x.shape[0], batch_size)
        bar = _Progbar(len(starts), verbose)
        for i, s in enumerate(starts):
            self._test_step(x[s:s + batch_size], y[s:s + batch_size])
            bar.update(i + 1, self._logs())
        bar.end()
        return self._logs(prefix)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            **kwargs):
        """Train for ``epochs`` epochs; returns a ``History`` (Keras 3 semantics:
        ``validation_split`` takes the last fraction of the data, before shuffling)."""
        from .callbacks import CallbackList
        for key in kwargs:
            if kwargs[key] is not None:
                raise NotImplementedError(f"fastrnn does not implement argument `{key}` of "
                                          f"fit; got {kwargs[key]!r}.")
        self._require_compiled("fit")
        x, y = self._check_xy(x, y, "fit")
        batch_size = self._batch_size(batch_size)
        if not 0 <= validation_split < 1:
            raise ValueError("Received an invalid value for argument `validation_split`, "
                             f"expected a float in [0, 1), got {validation_split!r}.")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("Argument `validation_data` must be a tuple (x_val, y_val), "
                                 f"got {type(validation_data).__name__}.")
            x_val, y_val = self._check_xy(*validation_data, "fit")
        elif validation_split:
            split = int(math.floor(x.shape[0] * (1 - validation_split)))
            x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]
            if x.shape[0] == 0:
                raise ValueError(f"validation_split={validation_split} leaves no training "
                                 "samples.")
        else:
            x_val = y_val = None
        verbose = self._verbosity(verbose)
        n = x.shape[0]
        steps = max(1, math.ceil(n / batch_size))
        cbs = CallbackList(callbacks, add_history=True, model=self, verbose=verbose,
                           epochs=epochs, steps=steps)
        history = cbs.history
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            bar = _Progbar(steps, verbose)
            order = self._rng.permutation(n) if shuffle else np.arange(n)
            for step in range(steps):
                idx = order[step * batch_size:(step + 1) * batch_size]
                cbs.on_train_batch_begin(step)
                xb, yb = x[idx], y[idx]
                if not self._train_step(xb, yb, f"epoch {epoch + 1}, step {step + 1}"):
                    break
                logs = self._logs()
                cbs.on_train_batch_end(step, logs)
                bar.update(step + 1, logs)
            if self.stop_training and self._loss_tracker.count == 0:
                break
            logs = self._logs()
            if x_val is not None:
                logs.update(self._evaluate(x_val, y_val, batch_size, 0, prefix="val_"))
            bar.end(logs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        self.history = history
        return history

    @staticmethod
    def _batch_size(batch_size):
        if batch_size is None:
            return 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError("Received an invalid value for argument `batch_size`, expected a "
                             f"positive integer, got {batch_size!r}.")
        return int(batch_size)

    @staticmethod
    def _verbosity(verbose):
        if verbose == "auto":
            return 1
        if verbose not in (0, 1, 2):
            raise ValueError("Received an invalid value for argument `verbose`, expected "
                             f"'auto', 0, 1 or 2, got {verbose!r}.")
        return int(verbose)

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {"name": self.name,
                "layers": [{"class_name": type(l).__name__, "config": l.get_config()}
                           for l in self._layers]}

    @classmethod
    def from_config(cls, config):
        from . import layers as layers_mod
        model = cls(name=config.get("name"))
        for spec in config["layers"]:
            model.add(getattr(layers_mod, spec["class_name"]).from_config(spec["config"]))
        return model

    def __repr__(self):
        return f"<Sequential name={self.name}, layers={len(self._layers)}, built={self.built}>"


class _Progbar:
    """Keras 3's progress output: verbose=1 a bar redrawn per step, 2 one line per epoch."""

    def __init__(self, target, verbose, stream=None):
        self.target = target
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.current = 0
        self.logs = {}

    @staticmethod
    def _values(logs):
        return "".join(f" - {k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f" - {k}: {v:.4e}"
                       for k, v in (logs or {}).items())

    def _timing(self, done):
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(self.current, 1)
        unit = f"{per_step * 1e3:.0f}ms/step" if per_step >= 1e-3 else \
            f"{per_step * 1e6:.0f}us/step"
        if done:
            return f"{elapsed:.0f}s {unit}"
        return f"{per_step * (self.target - self.current):.0f}s {unit}"

    def update(self, current, logs=None):
        self.current = current
        self.logs = logs or self.logs
        if self.verbose != 1:
            return
        width = 20
        filled = int(width * current / max(self.target, 1))
        digits = len(str(self.target))
        bar = f"{current:>{digits}}/{self.target} " + "━" * filled + " " * (width - filled)
        done = current >= self.target
        self.stream.write("\r" + bar + " " + self._timing(done) + self._values(self.logs))
        self.stream.flush()

    def end(self, logs=None):
        if logs is not None:
            self.logs = logs
        if self.verbose == 1:
            self.update(self.target, self.logs)
            self.stream.write("\n")
        elif self.verbose == 2:
            elapsed = time.perf_counter() - self.start
            per_step = elapsed / max(self.target, 1)
            self.stream.write(f"{self.target}/{self.target} - {elapsed:.0f}s - "
                              f"{per_step * 1e3:.0f}ms/step{self._values(self.logs)}\n")
        self.stream.flush()
