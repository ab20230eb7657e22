"""The one tolerance table of the tests, by dtype (a NumPy type or its name).

- ``RTOL``/``ATOL``: a fastrnn path against the NumPy reference or another fastrnn path
  (same algorithm, different summation order).
- ``KERAS_RTOL``/``KERAS_ATOL``: fastrnn against values computed by real Keras 3
  (TensorFlow's kernels and activations differ in the last bits).
Always set ``atol``: tanh outputs sit near zero and NumPy's default ``atol`` is 0.
"""
import numpy as np


class _ByDtype(dict):
    def __getitem__(self, key):
        return super().__getitem__(np.dtype(key).name)


RTOL = _ByDtype(float32=2e-5, float64=1e-12)
ATOL = _ByDtype(float32=2e-6, float64=1e-13)
KERAS_RTOL = _ByDtype(float32=1e-5, float64=1e-12)
KERAS_ATOL = _ByDtype(float32=1e-5, float64=1e-12)
