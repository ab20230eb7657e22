"""The MNIST digits dataset, as ``keras.datasets.mnist``."""
import numpy as np

from ..utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

__all__ = ["load_data"]


def load_data(path="mnist.npz"):
    """Load MNIST: ``(x_train, y_train), (x_test, y_test)``.

    ``x`` are uint8 arrays ``(60000, 28, 28)`` / ``(10000, 28, 28)``, ``y`` uint8 labels
    0-9. Read from Keras's cache folder (``$KERAS_HOME`` or ``~/.keras``, then
    ``datasets/mnist.npz``), downloaded from Keras's public URL when absent; loaded with
    ``allow_pickle=False`` (nothing in the file can run).

    Raises:
        OSError: the file is absent and cannot be downloaded.
        ValueError: the file is not an ``.npz`` of plain arrays with those four names.
    """
    path = get_file(path, origin=f"{ORIGIN}mnist.npz",
                    file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
    with np.load(path, allow_pickle=False) as f:
        try:
            x_train, y_train = f["x_train"], f["y_train"]
            x_test, y_test = f["x_test"], f["y_test"]
        except KeyError as e:
            raise ValueError(f"The MNIST file {path} has no array {e}.") from None
    return (x_train, y_train), (x_test, y_test)
