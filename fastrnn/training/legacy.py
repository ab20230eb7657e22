"""Keras 2 method names that old tutorials call: ``fit_generator``,
``evaluate_generator``, ``predict_generator`` (tf_keras 2.x: deprecated aliases of
``fit``/``evaluate``/``predict``, removed in Keras 3) and Sequential's
``predict_classes``/``predict_proba`` (Keras 2.3; removed in 2.6).

Each warns with a ``DeprecationWarning`` naming its Keras 3 replacement, then delegates.
``max_queue_size``, ``workers`` and ``use_multiprocessing`` are accepted and ignored:
fastrnn reads the generator in the training thread. A float ``steps_per_epoch`` /
``validation_steps`` / ``steps`` (``len(data) / batch_size``) means ``ceil`` of it
batches, as Keras 2's ``while step < steps`` loops (Keras 3's fit refuses it).
"""
import math
import numbers
import warnings

import numpy as np

__all__ = ["GeneratorMethods", "ClassMethods"]


def _deprecated(old, new):
    warnings.warn(f"`Model.{old}` is deprecated and will be removed in a future version. "
                  f"Please use `Model.{new}`, which supports generators.", DeprecationWarning,
                  stacklevel=3)


def _steps(value):
    """Keras 2 loops ran ``while step < steps``: a float count (``len(data) / batch``, as
    tutorials write it) means ``ceil(steps)`` batches. Anything else is left to fit/evaluate
    to check."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)) \
            and math.isfinite(value) and value > 0:
        return math.ceil(value)
    return value


class GeneratorMethods:
    """tf_keras 2.x's generator methods, same signatures, delegating to Keras 3's."""

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1,
                      callbacks=None, validation_data=None, validation_steps=None,
                      validation_freq=1, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """``fit(generator, steps_per_epoch=..., ...)``; returns its ``History``."""
        _deprecated("fit_generator", "fit")
        return self.fit(generator, steps_per_epoch=_steps(steps_per_epoch), epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=_steps(validation_steps), validation_freq=validation_freq,
                        class_weight=class_weight, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                           workers=1, use_multiprocessing=False, verbose=0):
        """``evaluate(generator, steps=...)``: the loss (and metrics, as a list)."""
        _deprecated("evaluate_generator", "evaluate")
        return self.evaluate(generator, steps=_steps(steps), callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                          workers=1, use_multiprocessing=False, verbose=0):
        """``predict(generator, steps=...)``: the outputs of every batch, concatenated."""
        _deprecated("predict_generator", "predict")
        return self.predict(generator, steps=_steps(steps), callbacks=callbacks, verbose=verbose)


class ClassMethods:
    """Keras 2.3's ``Sequential.predict_classes`` and ``predict_proba``."""

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: ``argmax`` over the last axis, or ``(p > 0.5).astype("int32")``
        when the last axis has one unit (a sigmoid output), as Keras 2.3.

        Args:
            x: the inputs, as for ``predict``.

        Returns:
            int array: ``(batch,)`` (``(batch, 1)`` for one unit, as Keras 2.3), or
            ``(batch, timesteps)`` for sequence outputs.
        """
        warnings.warn("`model.predict_classes()` is deprecated (removed in Keras 2.6). "
                      "Please use instead: `np.argmax(model.predict(x), axis=-1)` for a "
                      "softmax output, or `(model.predict(x) > 0.5).astype(\"int32\")` for a "
                      "sigmoid output.", DeprecationWarning, stacklevel=2)
        proba = np.asarray(self.predict(x, batch_size=batch_size, verbose=verbose))
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=32, verbose=0):
        """``predict(x)``, warning when the outputs are not in [0, 1] (Keras 2.3)."""
        warnings.warn("`model.predict_proba()` is deprecated (removed in Keras 2.6). "
                      "Please use `model.predict()` instead.", DeprecationWarning,
                      stacklevel=2)
        preds = np.asarray(self.predict(x, batch_size=batch_size, verbose=verbose))
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn("Network returning invalid probability values. The last layer "
                          "might not normalize predictions into probabilities (like softmax "
                          "or sigmoid would).")
        return preds
