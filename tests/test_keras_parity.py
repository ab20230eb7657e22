"""Forward parity with Keras 3: fastrnn reproduces outputs recorded from Keras.

The fixtures (``tests/fixtures/fwd_*.npz``) come from ``tools/make_keras_fixtures.py``;
this file never imports TensorFlow or Keras. Keras 3 semantics the fixtures pin down:

- a masked step repeats the previous *output* and carries the state; before the
  first unmasked step the repeated output is zeros, even with a nonzero
  ``initial_state`` (the state is still the initial state);
- ``go_backwards=True`` returns the sequence in processing order (reversed time);
- inside ``Bidirectional`` with ``return_sequences=True`` masked steps output
  zeros (Keras forces ``zero_output_for_mask``), and the backward sequence is
  flipped back to input order before merging;
- ``return_state`` returns ``[output, state]``; Bidirectional returns
  ``[merged, fwd_state, bwd_state]``, or ``[fwd, bwd, fwd_state, bwd_state]``
  when ``merge_mode`` is None.
"""

import numpy as np
import pytest

from keras_spec import ATOL, RTOL, as_list, build, fixture_paths, load, numbered

PATHS = fixture_paths("fwd_")


def _call_kwargs(spec, arrays):
    kwargs = {}
    if spec["call"]["mask"]:
        kwargs["mask"] = arrays["mask"]
    if spec["call"]["initial_state"]:
        # Keras's list form: [h0], or [forward h0, backward h0] for Bidirectional
        kwargs["initial_state"] = [arrays[key] for key in ("initial_state", "initial_state_1")
                                   if key in arrays]
    return kwargs


def _built(path):
    spec, arrays = load(path)
    model = build(spec, arrays["x"].shape)
    model.set_weights(numbered(arrays, "weights_"))
    return spec, arrays, model


def _assert_outputs(actual, expected, dtype, what):
    assert len(actual) == len(expected), (
        f"{what}: expected {len(expected)} outputs as Keras returns, got {len(actual)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a.shape == e.shape, f"{what}: output {i} shape {a.shape}, Keras {e.shape}"
        assert a.dtype == e.dtype, f"{what}: output {i} dtype {a.dtype}, Keras {e.dtype}"
        np.testing.assert_allclose(a, e, rtol=RTOL[dtype], atol=ATOL[dtype],
                                   err_msg=f"{what}: output {i}")


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_weights_round_trip(path):
    spec, arrays, model = _built(path)
    expected = numbered(arrays, "weights_")
    actual = model.get_weights()
    assert [w.shape for w in actual] == [w.shape for w in expected]
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)
        assert a.dtype == np.dtype(spec["dtype"])


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_forward_matches_keras(path):
    spec, arrays, model = _built(path)
    dtype = spec["dtype"]
    actual = as_list(model(arrays["x"], **_call_kwargs(spec, arrays)))
    _assert_outputs(actual, numbered(arrays, "out_"), dtype, "first call")
    if spec.get("calls", 1) == 2:
        # stateful: the second call starts from the state the first one left
        actual = as_list(model(arrays["x2"]))
        _assert_outputs(actual, numbered(arrays, "out2_"), dtype, "second call")


def _is_plain_sequential(path):
    spec, _ = load(path)
    return spec["kind"] == "sequential" and spec.get("calls", 1) == 1


SEQUENTIAL = [p for p in PATHS if _is_plain_sequential(p)]


@pytest.mark.parametrize("path", SEQUENTIAL, ids=[p.stem for p in SEQUENTIAL])
def test_predict_matches_keras(path):
    spec, arrays, model = _built(path)
    (expected,) = numbered(arrays, "out_")
    actual = np.asarray(model.predict(arrays["x"]))
    np.testing.assert_allclose(actual, expected, rtol=RTOL[spec["dtype"]], atol=ATOL[spec["dtype"]])
