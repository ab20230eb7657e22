"""The saving methods of ``Model`` (thin: the work is in fastrnn.saving)."""

__all__ = ["SavingMixin"]


class SavingMixin:
    """``save``, ``save_weights``, ``load_weights``, ``to_json`` and pickling for models."""

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save the model (architecture, weights, compile config and optimizer state) as
        ``.keras`` (Keras 3's format) or ``.h5`` (the legacy HDF5 format); see
        ``fastrnn.saving.save_model``."""
        from . import save_model
        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights (and optimizer state) to ``filepath`` ending in
        ``.weights.h5``, in Keras 3's layout."""
        from . import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Set the weights from a ``.weights.h5``, ``.keras`` or legacy ``.h5`` file
        (matched by topology; every shape checked before anything is assigned)."""
        from . import load_weights
        if kwargs:
            raise TypeError(f"load_weights() got unexpected keyword arguments {sorted(kwargs)}.")
        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        """The model's config as JSON, in Keras 3's form (``json.dumps`` ``kwargs``)."""
        from . import model_to_json
        return model_to_json(self, **kwargs)

    def __reduce_ex__(self, protocol):
        from .pickling import reduce_layer
        return reduce_layer(self)
