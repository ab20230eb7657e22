"""The training plans' lean SimpleRNN backward (``functional.compile_backward``, on
``_kernel.Backward``) against the general ``functional.simple_rnn_backward``: the same
kernel with the same arguments, so equal bit for bit; and its argument checks."""
import numpy as np
import pytest

from fastrnn import _kernel, functional as F

DTYPES = [np.float32, np.float64]
SHAPES = [(1, 1, 1, 1), (8, 2, 10, 3), (3, 7, 5, 9), (2, 40, 6, 33)]


@pytest.fixture(params=["microkernel", "blas"])
def path(request, monkeypatch):
    if request.param == "blas":
        monkeypatch.setattr(F, "_PACKED", False)
    elif not _kernel.simd():
        pytest.skip("this CPU runs the BLAS path only")
    return request.param


@pytest.fixture(autouse=True)
def _one_thread():
    # the threaded merge sums per-thread partials in an order that may vary (last bits)
    F.set_num_threads(1)
    yield
    F.set_num_threads(None)


def _case(rng, B, T, D, H, dtype, act, go_backwards):
    x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
    W = rng.uniform(-0.7, 0.7, (D, H)).astype(dtype)
    U = (rng.uniform(-0.7, 0.7, (H, H)) / np.sqrt(H)).astype(dtype)
    b = rng.uniform(-0.5, 0.5, H).astype(dtype)
    seq, _ = F.simple_rnn_forward(x, W, U, b, activation=act, go_backwards=go_backwards,
                                  positions=True)
    return x, W, U, seq


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act,go_backwards", [("tanh", False), ("relu", True),
                                              ("sigmoid", False)])
@pytest.mark.parametrize("upstream", ["sequences", "last", "both"])
def test_lean_backward_equals_the_general_backward(rng, path, dtype, shape, act,
                                                   go_backwards, upstream):
    x, W, U, seq = _case(rng, *shape, dtype, act, go_backwards)
    B, T, D, H = shape
    d_seq = rng.normal(size=seq.shape).astype(dtype) if upstream != "last" else None
    d_last = rng.normal(size=(B, H)).astype(dtype) if upstream != "sequences" else None
    want = F.simple_rnn_backward(d_seq, d_last, x, W, U, seq, activation=act,
                                 go_backwards=go_backwards, positions=True)
    lean = F.compile_backward(W, U, act, go_backwards)
    out = (np.full((D, H), np.nan, dtype), np.full((H, H), np.nan, dtype),
           np.full(H, np.nan, dtype))
    for _ in range(2):  # the second call reuses the scratch memory
        dx, dk, dr, db = lean(d_seq, x, seq, out, True, d_last)
        for name, a, e in [("dx", dx, want.x), ("kernel", dk, want.kernel),
                           ("recurrent_kernel", dr, want.recurrent_kernel),
                           ("bias", db, want.bias)]:
            np.testing.assert_array_equal(a, e, err_msg=name)
    assert dk is out[0] and dr is out[1] and db is out[2]
    # fresh arrays, no input gradient, weights changed in place (seen by the next call)
    W *= 0.5
    want = F.simple_rnn_backward(d_seq, d_last, x, W, U, seq, activation=act,
                                 go_backwards=go_backwards, positions=True)
    dx, dk, dr, db = lean(d_seq, x, seq, None, False, d_last)
    assert dx is None
    for a, e in [(dk, want.kernel), (dr, want.recurrent_kernel), (db, want.bias)]:
        np.testing.assert_array_equal(a, e)


def test_lean_backward_new_shapes_and_non_contiguous_upstream(rng):
    x, W, U, seq = _case(rng, 4, 5, 3, 6, np.float32, "tanh", False)
    lean = F.compile_backward(W, U)
    for B, T in [(4, 5), (2, 9), (4, 5)]:
        x, _, _, _ = _case(rng, B, T, 3, 6, np.float32, "tanh", False)
        seq, _ = F.simple_rnn_forward(x, W, U)
        d_seq = rng.normal(size=(B, T, 12))[:, :, ::2]          # float64, strided
        want = F.simple_rnn_backward(d_seq, None, x, W, U, seq)
        got = lean(d_seq, x, seq)
        for a, e in zip(got, want):
            np.testing.assert_array_equal(a, e)


def test_backward_class_rejects_what_it_cannot_run(rng):
    x, W, U, seq = _case(rng, 2, 3, 4, 5, np.float32, "tanh", False)
    run = _kernel.Backward(W, U, 0, False)
    dk, dr, db = np.empty((4, 5), np.float32), np.empty((5, 5), np.float32), \
        np.empty(5, np.float32)
    d = np.ones_like(seq)
    run(x, seq, d, None, None, dk, dr, db, 1)  # a good call
    bad = [
        (dict(x=x.astype(np.float64)), "`x`"),
        (dict(x=x[:, :, :3].copy()), "`x`"),
        (dict(x=np.asfortranarray(x)), "`x`"),
        (dict(x=x.tolist()), "`x` must be a NumPy array"),
        (dict(out=seq[:1].copy()), "`out`"),
        (dict(d_out=d[:, :2].copy()), "`d_out`"),
        (dict(d_last=np.ones((2, 4), np.float32)), "`d_last`"),
        (dict(dx=np.empty((2, 3, 5), np.float32)), "`dx`"),
        (dict(dk=np.empty((5, 4), np.float32)), "`d_kernel`"),
        (dict(dr=np.empty((5, 5), np.float64)), "`d_recurrent`"),
        (dict(db=np.empty(4, np.float32)), "`d_bias`"),
    ]
    ro = np.empty((4, 5), np.float32)
    ro.flags.writeable = False
    bad.append((dict(dk=ro), "writeable"))
    for change, match in bad:
        args = dict(x=x, out=seq, d_out=d, d_last=None, dx=None, dk=dk, dr=dr, db=db)
        args.update(change)
        with pytest.raises(ValueError, match=match):
            run(*args.values(), 1)
    with pytest.raises(ValueError, match="float32 or float64 array"):
        _kernel.Backward(W.astype(np.int32), U.astype(np.int32), 0, False)
    with pytest.raises(ValueError, match="`recurrent_kernel`"):
        _kernel.Backward(W, U[:4], 0, False)


def _full_case(rng, B, T, D, H, dtype, use_mask, use_h0, use_drop):
    x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
    W = rng.uniform(-0.7, 0.7, (D, H)).astype(dtype)
    U = (rng.uniform(-0.7, 0.7, (H, H)) / np.sqrt(H)).astype(dtype)
    b = rng.uniform(-0.5, 0.5, H).astype(dtype)
    mask = (rng.random((B, T)) > 0.3).astype(np.uint8) if use_mask else None
    h0 = rng.uniform(-1, 1, (B, H)).astype(dtype) if use_h0 else None
    drop = (rng.random((B, H)) > 0.4).astype(dtype) / dtype(0.6) if use_drop else None
    return x, W, U, b, mask, h0, drop


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (3, 4, 2, 5), (8, 2, 10, 3), (9, 7, 5, 17)])
@pytest.mark.parametrize("flags", [(False, False, False, False, False),
                                   (True, True, False, True, True),
                                   (True, False, True, False, False),
                                   (False, True, True, True, True)])
@pytest.mark.parametrize("threads", [1, 2])
def test_array_entry_points_equal_the_memoryview_ones(rng, path, dtype, shape, flags, threads):
    """forward_arrays / backward_arrays against forward / backward: the same drive_*
    calls, so the same bits, for every argument combination; on two threads with the
    threaded paths forced (their partial sums are per block, not per thread)."""
    use_mask, use_h0, use_drop, reverse, zero_output = flags
    old = _kernel.parallel_min_work(0 if threads > 1 else None)
    try:
        _compare_entry_points(rng, dtype, shape, use_mask, use_h0, use_drop, reverse,
                              zero_output, threads)
    finally:
        _kernel.parallel_min_work(old)


def _compare_entry_points(rng, dtype, shape, use_mask, use_h0, use_drop, reverse,
                          zero_output, threads):
    B, T, D, H = shape
    x, W, U, b, mask, h0, drop = _full_case(rng, *shape, dtype, use_mask, use_h0, use_drop)
    packs = (_kernel.pack(W), _kernel.pack(U)) if F._PACKED else (None, None)
    results = []
    for fn in (_kernel.forward, _kernel.forward_arrays):
        out = np.empty((B, T, H), dtype)
        state = np.zeros((B, H), dtype) if h0 is None else h0.copy()
        prev = np.zeros((B, H), dtype) if use_mask else None
        work = np.empty((B, H), dtype) if use_drop else None
        fn(x, W, U, b, mask, zero_output, 2 if use_drop else 0, drop, out, state, prev, work,
           *packs, threads, reverse)
        results.append((out, state))
    for a, e in zip(*results):
        np.testing.assert_array_equal(a, e)
    seq = results[0][0]
    d_out = rng.normal(size=(B, T, H)).astype(dtype)
    d_last = rng.normal(size=(B, H)).astype(dtype)
    grads = []
    for fn in (_kernel.backward, _kernel.backward_arrays):
        outs = [np.empty((B, T, D), dtype), np.empty((D, H), dtype), np.empty((H, H), dtype),
                np.empty(H, dtype), np.empty((B, H), dtype)]
        work = [np.empty((B, T, H), dtype), np.empty((B, T, H), dtype),
                np.empty((B, H), dtype), np.empty((B, H), dtype)]
        fn(x, W, U, h0, seq, d_out, d_last, mask, zero_output, 2 if use_drop else 0, drop,
           *outs, *work, F._PACKED, threads, reverse,
           np.empty(_kernel.packed_size(B * T, H, dtype), dtype) if F._PACKED else None)
        grads.append(outs)
    for a, e in zip(*grads):
        np.testing.assert_array_equal(a, e)


def test_array_entry_points_reject_what_they_cannot_run(rng):
    x, W, U, b, mask, h0, drop = _full_case(rng, 2, 3, 4, 5, np.float32, True, True, True)
    out, state = np.empty((2, 3, 5), np.float32), np.zeros((2, 5), np.float32)
    prev, work = np.zeros((2, 5), np.float32), np.empty((2, 5), np.float32)
    args = dict(x=x, W=W, U=U, b=b, mask=mask, zo=False, act=0, drop=drop, out=out,
                state=state, prev=prev, work=work)
    _kernel.forward_arrays(*args.values())
    for change, match in [(dict(x=x.astype(np.float64)), "`x`"),
                          (dict(W=W.tolist()), "`kernel`"),
                          (dict(U=U.T[:4]), "`recurrent_kernel`"),
                          (dict(b=b[:4]), "`bias`"),
                          (dict(mask=mask.astype(bool)), "`mask`"),
                          (dict(drop=drop[:1]), "`rec_drop`"),
                          (dict(out=out[:, :2]), "`out`"),
                          (dict(state=state.T), "`state`"),
                          (dict(prev=None), "needs prev_out"),
                          (dict(work=None), "work")]:
        with pytest.raises(ValueError, match=match):
            _kernel.forward_arrays(*{**args, **change}.values())
    with pytest.raises(ValueError, match="`kernel_packed`"):
        _kernel.forward_arrays(*args.values(), np.empty(3, np.float32))
    d = np.ones_like(out)
    outs = [np.empty((2, 3, 4), np.float32), np.empty((4, 5), np.float32),
            np.empty((5, 5), np.float32), np.empty(5, np.float32), np.empty((2, 5), np.float32)]
    work = [np.empty((2, 3, 5), np.float32), np.empty((2, 3, 5), np.float32),
            np.empty((2, 5), np.float32), np.empty((2, 5), np.float32)]
    _kernel.backward_arrays(x, W, U, h0, out, d, None, mask, False, 0, drop, *outs, *work)
    for i, bad in [(0, outs[0][:, :2]), (3, outs[3][:4]), (4, outs[4].T)]:
        changed = list(outs)
        changed[i] = bad
        with pytest.raises(ValueError):
            _kernel.backward_arrays(x, W, U, h0, out, d, None, mask, False, 0, drop,
                                    *changed, *work)
    with pytest.raises(ValueError, match="`h0`"):
        _kernel.backward_arrays(x, W, U, h0[:1], out, d, None, mask, False, 0, drop,
                                *outs, *work)
    with pytest.raises(ValueError, match="`d_pre`"):
        _kernel.backward_arrays(x, W, U, h0, out, d, None, mask, False, 0, drop,
                                *outs, work[0][:1], *work[1:])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (17, 33), (64, 5)])
def test_pack_array_equals_pack(rng, dtype, shape):
    b = rng.normal(size=shape).astype(dtype)
    for transpose in (False, True):
        np.testing.assert_array_equal(_kernel.pack_array(b, transpose),
                                      _kernel.pack(b, transpose))
    for bad in (b.T if shape[0] > 1 and shape[1] > 1 else b[None], b.astype(np.int64),
                b.tolist()):
        with pytest.raises(ValueError):
            _kernel.pack_array(bad)


# ------------------------------------------------------------ the layer's protocol calls

def _layer(dtype, **kw):
    from fastrnn.layers import SimpleRNN
    from fastrnn.utils import set_random_seed
    set_random_seed(5)
    layer = SimpleRNN(4, dtype=dtype, **kw)
    layer.build((None, 6, 3))
    return layer


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [dict(), dict(return_sequences=True, go_backwards=True),
                                dict(activation="relu", use_bias=False),
                                dict(return_state=True)])
def test_layer_forward_backward_lean_path_equals_the_functional_calls(rng, dtype, kw):
    """A plain forward(training=True) / backward of SimpleRNN runs the compiled forward
    and backward; the same numbers as functional.simple_rnn_forward / _backward."""
    layer = _layer(dtype, **kw)
    x = rng.uniform(-1, 1, (5, 6, 3)).astype(dtype)
    for _ in range(2):
        out, ctx = layer.forward(x, training=True)
        assert type(ctx.cache).__name__ == "_Lean"
        b = layer.bias if layer.use_bias else None
        seq, last = F.simple_rnn_forward(x, layer.kernel, layer.recurrent_kernel, b,
                                         activation=layer.activation,
                                         go_backwards=layer.go_backwards, positions=True)
        np.testing.assert_array_equal(ctx.seq, seq)
        np.testing.assert_array_equal(ctx.states[0], last)
        y = out[0] if layer.return_state else out
        d_out = rng.normal(size=y.shape)                        # float64: converted
        d_state = rng.normal(size=last.shape).astype(dtype)
        d = [d_out, d_state] if layer.return_state else d_out
        (dx,), d_w = layer.backward(ctx, d)
        if layer.return_sequences:
            d_seq = d_out[:, ::-1] if layer.go_backwards else d_out
        else:
            d_seq = np.zeros(seq.shape)
            d_seq[:, 0 if layer.go_backwards else -1] = d_out
        want = F.simple_rnn_backward(d_seq, d_state if layer.return_state else None, x,
                                     layer.kernel, layer.recurrent_kernel, seq,
                                     activation=layer.activation,
                                     go_backwards=layer.go_backwards, positions=True)
        np.testing.assert_array_equal(dx, want.x)
        for a, e in zip(d_w, [want.kernel, want.recurrent_kernel, want.bias]):
            np.testing.assert_array_equal(a, e)
        layer.set_weights([w * 0.5 for w in layer.get_weights()])  # in place: seen


def test_layer_calls_the_lean_path_declines_keep_the_general_one(rng):
    layer = _layer("float32", dropout=0.5)
    x = rng.uniform(-1, 1, (5, 6, 3)).astype(np.float32)
    for args, kwargs in [((x[:, :, ::-1],), {}),                       # not contiguous
                         ((x.astype(np.float64),), {}),                 # another dtype
                         ((x,), dict(mask=np.ones((5, 6), bool))),
                         ((x,), dict(initial_state=[np.ones((5, 4), np.float32)]))]:
        _, ctx = layer.forward(*args, training=False, **kwargs)
        assert ctx.cache is None
        d_inputs, _ = layer.backward(ctx, np.ones((5, 4)))
        assert d_inputs[0].shape == (5, 6, 3)
    _, ctx = layer.forward(x, training=True)                            # dropout
    assert ctx.cache is None and ctx.drop is not None
