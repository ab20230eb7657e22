"""Differential fuzzing: fastrnn.functional (and the lean compiled plan) against the
NumPy reference over shapes (batch 0 and 1, one timestep, one unit), dtypes, memory
layouts (Fortran, strided, read-only, byte-swapped, unaligned), every flag and
non-finite inputs, forward and backward.

Each example draws a seed and the case's structure from hypothesis; the arrays come
from NumPy's generator, which keeps an example cheap enough for 2,000 of them in CI
(the derandomized "ci" profile of conftest.py) in well under a minute.
"""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from fastrnn import _kernel, functional as F, reference as R  # noqa: E402

from conftest import ATOL, RTOL  # noqa: E402

EXAMPLES = 2000 if os.environ.get("CI") else 300
LAYOUTS = ["c", "fortran", "strided", "readonly", "swapped", "unaligned"]


def relayout(a, layout):
    """The same values as a in another memory layout."""
    a = np.asarray(a)
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if layout == "readonly":
        b = a.copy()
        b.flags.writeable = False
        return b
    if layout == "swapped":
        return a.astype(a.dtype.newbyteorder("S"))
    if layout == "unaligned" and a.dtype.itemsize > 1:
        buf = np.zeros(a.nbytes + 1, np.uint8)
        b = np.frombuffer(buf.data, a.dtype, a.size, offset=1).reshape(a.shape)
        b[...] = a
        return b
    return a


@st.composite
def cases(draw):
    c = dict(
        B=draw(st.sampled_from([0, 1, 1, 2, 3, 5])),
        T=draw(st.sampled_from([1, 1, 2, 3, 6])),
        D=draw(st.sampled_from([1, 2, 3, 7])),
        H=draw(st.sampled_from([1, 1, 2, 3, 5, 8, 17])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        act=draw(st.sampled_from(["tanh", "relu", "sigmoid", "linear"])),
        go_backwards=draw(st.booleans()),
        positions=draw(st.booleans()),
        use_bias=draw(st.booleans()),
        use_h0=draw(st.booleans()),
        mask=draw(st.sampled_from([None, "random", "none_on", "first_off"])),
        zero_output=draw(st.booleans()),
        dropout=draw(st.booleans()),
        rec_dropout=draw(st.booleans()),
        d_seq=draw(st.booleans()),
        d_last=draw(st.booleans()),
        packed=draw(st.booleans()),
        # multiply-adds between signal checks: the one-pass call, or tiny chunks
        check_work=draw(st.sampled_from([None, None, 1, 700])),
        nonfinite=draw(st.sampled_from([None, None, None, np.nan, np.inf, -np.inf])),
        x_dtype=draw(st.sampled_from(["same", "same", "other"])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    c["layouts"] = {name: draw(st.sampled_from(LAYOUTS)) for name in (
        "x", "kernel", "recurrent_kernel", "bias", "initial_state", "mask", "dropout_mask",
        "recurrent_dropout_mask", "sequences", "d_sequences", "d_last_state")}
    return c


def arrays(c):
    rng = np.random.default_rng(c["seed"])
    B, T, D, H, dt = c["B"], c["T"], c["D"], c["H"], c["dtype"]
    a = dict(
        x=rng.uniform(-1, 1, (B, T, D)).astype(dt),
        kernel=rng.uniform(-0.8, 0.8, (D, H)).astype(dt),
        recurrent_kernel=(rng.uniform(-0.8, 0.8, (H, H)) / np.sqrt(H)).astype(dt),
        bias=rng.uniform(-0.3, 0.3, H).astype(dt) if c["use_bias"] else None,
        initial_state=rng.uniform(-1, 1, (B, H)).astype(dt) if c["use_h0"] else None,
        mask=None,
        dropout_mask=(((rng.uniform(size=(B, D)) > 0.3) / 0.7).astype(dt)
                      if c["dropout"] else None),
        recurrent_dropout_mask=(((rng.uniform(size=(B, H)) > 0.3) / 0.7).astype(dt)
                                if c["rec_dropout"] else None),
    )
    if c["mask"] is not None:
        m = rng.uniform(size=(B, T)) > 0.35
        if c["mask"] == "none_on":
            m[:] = False
        elif c["mask"] == "first_off" and T > 0:
            m[:, 0] = False
        a["mask"] = m
    if c["x_dtype"] == "other":  # x comes in the other float dtype: exact both ways
        a["x"] = a["x"].astype(np.float32).astype(dt)
    if c["nonfinite"] is not None and B > 0:
        a["x"][rng.integers(B), rng.integers(T), rng.integers(D)] = c["nonfinite"]
    return a, rng


def check(actual, expected, dtype, name):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, name
    assert actual.dtype == np.dtype(dtype) and actual.dtype.isnative, name
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=name)
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype] * 100,
                               atol=ATOL[dtype] * 100, err_msg=name)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_functional_matches_reference(c):
    if c["packed"] and not _kernel.simd():
        c["packed"] = False
    a, rng = arrays(c)
    dt, B, T, H = c["dtype"], c["B"], c["T"], c["H"]
    flags = dict(activation=c["act"], go_backwards=c["go_backwards"], mask=a["mask"])
    with np.errstate(all="ignore"):
        ref_seq, ref_last = R.simple_rnn_forward(
            a["x"], a["kernel"], a["recurrent_kernel"], a["bias"], a["initial_state"],
            zero_output_for_mask=c["zero_output"], dropout_mask=a["dropout_mask"],
            recurrent_dropout_mask=a["recurrent_dropout_mask"], **flags)
        d_seq = rng.normal(size=(B, T, H)).astype(dt) if c["d_seq"] else None
        d_last = rng.normal(size=(B, H)).astype(dt) if c["d_last"] else None
        ref_grads = R.simple_rnn_backward(
            d_seq, d_last, a["x"], a["kernel"], a["recurrent_kernel"], a["initial_state"],
            a["bias"], zero_output_for_mask=c["zero_output"], dropout_mask=a["dropout_mask"],
            recurrent_dropout_mask=a["recurrent_dropout_mask"], **flags)
    # what the caller passes: other layouts (and x maybe in the other float dtype)
    lay = c["layouts"]
    given_ = {k: (None if v is None else relayout(v, lay[k])) for k, v in a.items()}
    if c["x_dtype"] == "other":
        other = np.float64 if dt == np.float32 else np.float32
        given_["x"] = relayout(a["x"].astype(other), lay["x"])
    flip = c["go_backwards"] and c["positions"]
    kw = dict(zero_output_for_mask=c["zero_output"], dropout_mask=given_["dropout_mask"],
              recurrent_dropout_mask=given_["recurrent_dropout_mask"],
              positions=c["positions"], activation=c["act"], go_backwards=c["go_backwards"],
              mask=given_["mask"])
    saved = F._PACKED
    F._PACKED = c["packed"]
    saved_work = _kernel.check_work(c["check_work"])
    try:
        inputs = [given_[k] for k in ("x", "kernel", "recurrent_kernel", "bias",
                                      "initial_state")]
        for _ in range(2):  # consecutive calls give the same
            seq, last = F.simple_rnn_forward(*inputs, **kw)
            check(seq[:, ::-1] if flip else seq, ref_seq, dt, "sequences")
            check(last, ref_last, dt, "last_state")
        out, last = F.simple_rnn_forward(*inputs, return_sequences=False, **kw)
        if T > 0:
            check(out, ref_seq[:, -1], dt, "last output")
        check(last, ref_last, dt, "last_state (return_sequences=False)")
        # backward, from the caller's layouts of sequences and upstream gradients
        d_seq_in = None if d_seq is None else (d_seq[:, ::-1] if flip else d_seq)
        grads = F.simple_rnn_backward(
            None if d_seq_in is None else relayout(d_seq_in, lay["d_sequences"]),
            None if d_last is None else relayout(d_last, lay["d_last_state"]),
            given_["x"], given_["kernel"], given_["recurrent_kernel"],
            relayout(seq, lay["sequences"]), given_["initial_state"],
            **{k: v for k, v in kw.items() if k != "positions"}, positions=c["positions"])
        for name, g, e in zip(grads._fields, grads, ref_grads):
            check(g, e, dt, "d_" + name)
        # the lean compiled plan: the plain call only; declines other layouts
        if a["mask"] is None and a["initial_state"] is None and a["dropout_mask"] is None \
                and a["recurrent_dropout_mask"] is None:
            plan = F.compile_forward(given_["kernel"], given_["recurrent_kernel"],
                                     given_["bias"], c["act"], c["go_backwards"])
            res = plan(given_["x"], 1)
            x_ok = given_["x"]
            lean_ok = (B > 0 and x_ok.dtype == np.dtype(dt) and x_ok.dtype.isnative
                       and x_ok.flags.c_contiguous and x_ok.flags.aligned)
            assert (res is not None) == lean_ok
            if res is not None:
                lean_seq, lean_last = res
                check(lean_seq[:, ::-1] if c["go_backwards"] else lean_seq, ref_seq, dt,
                      "lean sequences")
                check(lean_last, ref_last, dt, "lean last_state")
    finally:
        F._PACKED = saved
        _kernel.check_work(saved_work)
