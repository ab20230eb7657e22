"""``TensorBoard``: Keras 3's scalar and histogram logs for TensorBoard, written with
tensorboardX (or ``torch.utils.tensorboard``), an optional dependency:
``pip install tensorboardX`` (or ``pip install "fastrnn[tensorboard]"``).

The layout is Keras 3's (keras/src/callbacks/tensorboard.py), so ``tensorboard --logdir
logs`` shows fastrnn and Keras runs side by side::

    log_dir/train        epoch_loss, epoch_<metric>, epoch_learning_rate (step = epoch)
                         batch_<name> (step = global batch) when update_freq is not "epoch"
                         <model>/<layer>[/<cell>]/<weight>/histogram (and /image)
    log_dir/validation   epoch_loss, epoch_<metric> of the val_ logs (prefix removed)
                         evaluation_<name>_vs_iterations (step = optimizer iterations)
"""
import os

import numpy as np

from .base import Callback

__all__ = ["TensorBoard"]

_CELLS = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}
_NAMED = ("kernel", "recurrent_kernel", "bias", "embeddings")


def _writer_class():
    """tensorboardX's SummaryWriter, else torch's; ImportError naming what to install."""
    try:
        from tensorboardX import SummaryWriter
        return SummaryWriter
    except ImportError:
        pass
    try:
        from torch.utils.tensorboard import SummaryWriter
        return SummaryWriter
    except ImportError:
        pass
    raise ImportError("fastrnn.callbacks.TensorBoard writes its logs with tensorboardX, which "
                      "is not installed: pip install tensorboardX (or pip install "
                      "\"fastrnn[tensorboard]\"; torch.utils.tensorboard with the tensorboard "
                      "package also works).")


class TensorBoard(Callback):
    """Log losses, metrics, the learning rate and weight histograms for TensorBoard.

    Args:
        log_dir: directory of the logs; ``train/`` and ``validation/`` are made in it.
        histogram_freq: every this many epochs, histograms of every weight (0: never).
        write_graph: accepted for Keras compatibility; fastrnn has no op graph to write.
        write_images: with histograms, also each 1-D/2-D weight as an image.
        write_steps_per_second: also log ``epoch_steps_per_second`` (training batches per
            second of wall time).
        update_freq: ``"epoch"``, ``"batch"`` (= 1) or an integer N: also log ``batch_<name>``
            every N training batches.
        profile_batch, embeddings_freq, embeddings_metadata: accepted; only 0 / None are
            supported (ValueError otherwise).

    Raises:
        ImportError: neither tensorboardX nor torch.utils.tensorboard is installed.
        ValueError: a bad ``histogram_freq`` or ``update_freq``, or profiling/embeddings
            asked for.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._writer_cls = _writer_class()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, (int, np.integer)) \
                or histogram_freq < 0:
            raise ValueError("Received an invalid value for argument `histogram_freq`, "
                             f"expected a non-negative integer, got {histogram_freq!r}.")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or
                                       not isinstance(update_freq, (int, np.integer)) or
                                       update_freq < 1):
            raise ValueError("Received an invalid value for argument `update_freq`, expected "
                             f"'epoch', 'batch' or a positive integer, got {update_freq!r}.")
        if profile_batch or embeddings_freq or embeddings_metadata:
            raise ValueError("fastrnn's TensorBoard does not profile or write embeddings: "
                             "`profile_batch` and `embeddings_freq` must be 0, got "
                             f"profile_batch={profile_batch!r}, "
                             f"embeddings_freq={embeddings_freq!r}.")
        self.log_dir = str(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self._writers = {}
        self._training = False
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_iterations = 0

    def __repr__(self):
        return f"<TensorBoard log_dir={self.log_dir!r}>"

    def _writer(self, which):
        if which not in self._writers:  # made lazily, as Keras: no files until needed
            self._writers[which] = self._writer_cls(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _close(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _iterations(self):
        return int(getattr(getattr(self.model, "optimizer", None), "iterations", 0) or 0)

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._training = True

    def on_train_end(self, logs=None):
        self._training = False
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            import time
            self._epoch_start = time.time()
            self._epoch_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), self._global_train_batch)

    def on_test_end(self, logs=None):
        if getattr(self.model, "optimizer", None) is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value),
                              self._iterations())
        if self._training:
            writer.flush()
        else:  # a standalone evaluate(): no on_train_end will close the files
            self._close()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second and self._epoch_start is not None:
            import time
            elapsed = max(time.time() - self._epoch_start, 1e-12)
            train["steps_per_second"] = (self._iterations() - self._epoch_iterations) / elapsed
        for which, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", float(value), epoch)
                writer.flush()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    def _weight_paths(self):
        """``(Keras-3-like path, array)`` for every weight of every layer."""
        for layer in self.model.layers:
            prefix = f"{self.model.name}/{layer.name}"
            if type(layer).__name__ in _CELLS:
                prefix += "/" + _CELLS[type(layer).__name__]
            for i, weight in enumerate(layer.weights):
                name = next((n for n in _NAMED if getattr(layer, n, None) is weight),
                            f"weight_{i}")
                yield f"{prefix}/{name}", np.asarray(weight)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for path, weight in self._weight_paths():
            writer.add_histogram(f"{path}/histogram", weight, epoch)
            if self.write_images:
                image = np.squeeze(weight)
                if image.ndim == 1:
                    image = image[None, :]
                if image.ndim == 2:
                    if image.shape[0] > image.shape[1]:
                        image = image.T
                    span = float(image.max() - image.min()) or 1.0
                    writer.add_image(f"{path}/image", (image - image.min()) / span, epoch,
                                     dataformats="HW")
        writer.flush()
