"""fastrnn.interop.dask.predict: lazy prediction over Dask arrays, in-process and on a
two-process distributed LocalCluster (skipped without dask / distributed)."""
import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from fastrnn.interop import dask as fdask  # noqa: E402
from fastrnn.layers import (GRU, LSTM, Bidirectional, Dense, Embedding,  # noqa: E402
                            SimpleRNN)
from fastrnn.models import Sequential  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-6)


def _model(dtype="float32"):
    model = Sequential([
        SimpleRNN(6, return_sequences=True, input_shape=(None, 3), dtype=dtype, seed=0),
        Bidirectional(SimpleRNN(4, dtype=dtype, seed=1), merge_mode="sum"),
        Dense(2, activation="softmax", dtype=dtype, seed=2)])
    return model


@pytest.fixture(autouse=True)
def _fresh_cache():
    fdask.clear_cache()
    yield
    fdask.clear_cache()


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_in_process_matches_predict(rng, scheduler):
    import fastrnn
    threads = fastrnn.get_num_threads()
    model = _model()
    x = rng.standard_normal((45, 8, 3)).astype("float32")
    lazy = fdask.predict(model, da.from_array(x, chunks=(10, 8, 3)), batch_size=4)
    assert isinstance(lazy, da.Array)
    assert lazy.shape == (45, 2) and lazy.dtype == np.float32
    assert lazy.chunks == ((10, 10, 10, 10, 5), (2,))
    with dask.config.set(scheduler=scheduler):
        actual = lazy.compute()
    np.testing.assert_allclose(actual, model.predict(x, verbose=0), **TOL)
    info = fdask.cache_info()
    assert info["builds"] == 1 and info["chunks"] == 5 and info["hits"] == 4
    # outside a distributed worker the user's thread setting is left alone
    assert info["num_threads"] is None and fastrnn.get_num_threads() == threads


def test_functional_model_with_two_inputs_if_available(rng):
    """Runs once the graph API (fastrnn.Model) is merged."""
    import fastrnn
    if not hasattr(fastrnn, "Model"):
        pytest.skip("fastrnn.Model (the functional API) is not in this build yet")
    a = fastrnn.Input(shape=(None, 3), name="a")
    b = fastrnn.Input(shape=(4,), name="b")
    seq, state = SimpleRNN(4, return_sequences=True, return_state=True, seed=0)(a)
    out = Dense(4, seed=1)(b)
    model = fastrnn.Model([a, b], [seq, Dense(2, seed=2)(state), out])
    xa = rng.standard_normal((11, 6, 3)).astype("float32")
    xb = rng.standard_normal((11, 4)).astype("float32")
    lazy = fdask.predict(model, [da.from_array(xa, chunks=(4, 6, 3)),
                                 da.from_array(xb, chunks=(3, 4))])   # chunks unified
    assert [o.shape for o in lazy] == [(11, 6, 4), (11, 2), (11, 4)]
    got = dask.compute(*lazy, scheduler="synchronous")
    for g, e in zip(got, model([xa, xb])):
        np.testing.assert_allclose(g, e, **TOL)
    with pytest.raises(ValueError, match="batch length"):
        fdask.predict(model, [da.from_array(xa, chunks=(4, 6, 3)),
                              da.from_array(xb[:5], chunks=(3, 4))])


def test_rechunks_other_axes_and_several_outputs(rng):
    model = Sequential([SimpleRNN(5, return_sequences=True, return_state=True,
                                  go_backwards=True, input_shape=(None, 4), dtype="float64",
                                  seed=3)])
    x = rng.standard_normal((12, 6, 4))
    dx = da.from_array(x, chunks=(5, 2, 3))          # chunked along time and features too
    seq, state = fdask.predict(model, dx)
    assert seq.chunks == ((5, 5, 2), (6,), (5,)) and state.chunks == ((5, 5, 2), (5,))
    assert seq.dtype == state.dtype == np.float64
    exp_seq, exp_state = model(x)
    got_seq, got_state = dask.compute(seq, state, scheduler="synchronous")
    np.testing.assert_allclose(got_seq, exp_seq, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got_state, exp_state, rtol=1e-12, atol=1e-13)
    assert fdask.cache_info()["chunks"] == 3         # one model run per chunk for both


def test_embedding_model_and_snapshot(rng):
    model = Sequential([Embedding(20, 4, input_shape=(7,), seed=0), SimpleRNN(3, seed=1)])
    x = rng.integers(0, 20, size=(9, 7))
    lazy = fdask.predict(model, da.from_array(x, chunks=(4, 7)))
    expected = model.predict(x, verbose=0)
    model.set_weights([w * 0 for w in model.get_weights()])  # after predict: no effect
    np.testing.assert_allclose(lazy.compute(scheduler="synchronous"), expected, **TOL)


def test_empty_chunk_and_unknown_batch_sizes(rng):
    model = _model()
    x = rng.standard_normal((6, 5, 3)).astype("float32")
    dx = da.from_array(x, chunks=(3, 5, 3))
    dx = dx[dx[:, 0, 0] > np.inf]                    # zero rows, unknown chunk sizes
    lazy = fdask.predict(model, dx)
    assert np.isnan(lazy.shape[0])
    assert lazy.compute(scheduler="synchronous").shape == (0, 2)


def test_refusals(rng):
    model = _model()
    with pytest.raises(TypeError, match="dask.array.Array"):
        fdask.predict(model, np.zeros((2, 3, 3), "float32"))
    dx = da.from_array(rng.standard_normal((4, 5, 3)).astype("float32"), chunks=(2, 5, 3))
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            fdask.predict(model, dx, batch_size=bad)
    with pytest.raises(ValueError, match="num_threads"):
        fdask.predict(model, dx, num_threads=0)
    unknown = da.from_array(np.zeros((4, 5, 3), "float32"), chunks=(2, 5, 3))
    unknown._chunks = ((2, 2), (np.nan,), (3,))
    with pytest.raises(ValueError, match="unknown chunk sizes along axis 1"):
        fdask.predict(model, unknown)
    stateful = Sequential([SimpleRNN(2, stateful=True, batch_input_shape=(2, 5, 3))])
    with pytest.raises(ValueError, match="stateful"):
        fdask.predict(stateful, dx)


def _gated_model(dtype="float32"):
    return Sequential([
        LSTM(5, return_sequences=True, go_backwards=True, input_shape=(None, 3), dtype=dtype,
             bias_initializer="random_normal", seed=0),
        Bidirectional(GRU(4, return_sequences=True, dtype=dtype, seed=1), merge_mode="ave"),
        GRU(3, reset_after=False, dtype=dtype, seed=2),
        Dense(2, activation="softmax", dtype=dtype, seed=3)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_gru_model_in_process(rng, dtype):
    model = _gated_model(dtype)
    x = rng.standard_normal((23, 7, 3)).astype(dtype)
    lazy = fdask.predict(model, da.from_array(x, chunks=(6, 7, 3)), batch_size=4)
    assert lazy.shape == (23, 2) and lazy.dtype == np.dtype(dtype)
    with dask.config.set(scheduler="threads"):
        actual = lazy.compute()
    np.testing.assert_allclose(actual, model.predict(x, verbose=0),
                               **(TOL if dtype == "float32" else dict(rtol=1e-12, atol=0)))
    assert fdask.cache_info()["chunks"] == 4
    # states too: an LSTM's [output, h, c] per chunk
    lstm = Sequential([LSTM(4, return_sequences=True, return_state=True,
                            input_shape=(None, 3), dtype=dtype, seed=4)])
    outs = fdask.predict(lstm, da.from_array(x, chunks=(10, 7, 3)))
    assert [o.shape for o in outs] == [(23, 7, 4), (23, 4), (23, 4)]
    for a, e in zip(dask.compute(*outs, scheduler="synchronous"), lstm(x)):
        np.testing.assert_allclose(a, e, **(TOL if dtype == "float32"
                                            else dict(rtol=1e-12, atol=0)))


# ------------------------------------------------------------------ distributed
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster, timeout="60s")
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close()
        cluster.close()


def test_local_cluster_matches_in_process(client, rng):
    model = _model()
    x = rng.standard_normal((64, 10, 3)).astype("float32")
    lazy = fdask.predict(model, da.from_array(x, chunks=(8, 10, 3)))
    actual = client.compute(lazy).result(timeout=60)
    np.testing.assert_allclose(actual, model.predict(x, verbose=0), **TOL)

    info = client.run(fdask.cache_info)               # {worker address: counters}
    assert len(info) == 2
    assert sum(i["chunks"] for i in info.values()) == 8
    for i in info.values():
        # built (and received) at most once per worker process, however many chunks it ran
        assert i["builds"] == (1 if i["chunks"] else 0)
        assert i["unpickled"] <= 1
        if i["chunks"]:
            assert i["hits"] == i["chunks"] - 1
            # 2 cores shared by 2 one-thread workers: 1 fastrnn thread each (or more cores)
            assert i["num_threads"] == max(1, fdask._cores() // 2)

    # a second compute reuses the models the workers already built
    again = client.compute(fdask.predict(model, da.from_array(x, chunks=(16, 10, 3))))
    np.testing.assert_allclose(again.result(timeout=60), actual, rtol=0, atol=1e-6)
    info2 = client.run(fdask.cache_info)
    assert sum(i["chunks"] for i in info2.values()) == 8 + 4
    assert all(i["builds"] <= 1 for i in info2.values())


def test_local_cluster_several_outputs(client, rng):
    model = Sequential([Bidirectional(SimpleRNN(3, return_sequences=True, return_state=True,
                                                seed=4), merge_mode=None,
                                      input_shape=(None, 2))])
    x = rng.standard_normal((10, 4, 2)).astype("float32")
    outs = fdask.predict(model, da.from_array(x, chunks=(3, 4, 2)))
    assert len(outs) == 4
    got = client.compute(outs, sync=True)
    for a, e in zip(got, model(x)):
        np.testing.assert_allclose(a, e, **TOL)


def test_local_cluster_lstm_gru_model(client, rng):
    model = _gated_model()
    x = rng.standard_normal((20, 6, 3)).astype("float32")
    lazy = fdask.predict(model, da.from_array(x, chunks=(5, 6, 3)))
    actual = client.compute(lazy).result(timeout=60)
    np.testing.assert_allclose(actual, model.predict(x, verbose=0), **TOL)


def test_model_predict_dispatches_dask_arrays_lazily():
    da = pytest.importorskip("dask.array")
    import fastrnn
    from fastrnn.layers import Dense, SimpleRNN
    x_in = fastrnn.Input(shape=(6, 3))
    model = fastrnn.Model(x_in, [Dense(2)(SimpleRNN(4)(x_in)), SimpleRNN(3)(x_in)])
    x = np.random.default_rng(0).normal(size=(10, 6, 3)).astype("float32")
    lazy = model.predict(da.from_array(x, chunks=(4, 6, 3)))
    assert isinstance(lazy, list) and all(isinstance(v, da.Array) for v in lazy)
    for a, b in zip(da.compute(*lazy, scheduler="synchronous"), model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
