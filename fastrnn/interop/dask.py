"""``predict`` over Dask arrays: lazy, chunked along the batch axis, on any Dask scheduler.

How the model travels (why it is built once per worker process, not once per chunk):

1. ``predict`` snapshots the model as plain data, ``(class, get_config(), get_weights(),
   input shape)``, in a small picklable :class:`ShippedModel` with a token (a hash of
   config and weights). Pickling it stores the class by name and NumPy arrays: no code.
2. That object is ONE key of the task graph (``dask.delayed(..., name="fastrnn-model-
   <token>")``) on which every chunk's task depends. Dask's scheduler moves a key's value
   to a worker once and keeps it while tasks need it, so the weights cross the network
   once per worker, not once per chunk (embedding the model in every task would send it
   with every task).
3. In each process a module-level cache (token -> built model, a few models at most,
   guarded by a lock) rebuilds the model from config + weights the first time a task
   needs it; later chunks, later ``compute()`` calls and other threads of the worker
   reuse it. :func:`cache_info` reports the counters (the tests read them on each worker).

``client.scatter`` would need a live client when ``predict`` builds the graph, and an
``Actor`` pins all work to one worker; a graph key works with every scheduler (threads,
processes, synchronous, distributed) and needs neither.

Threads: in a ``distributed`` worker process the first chunk sets
``fastrnn.set_num_threads(max(1, cores // t))``, where ``t`` is the number of Dask worker
threads on that host (asked once from the scheduler; the worker's own thread count if
that fails), so Dask's threads times fastrnn's threads do not exceed the cores. Outside
a distributed worker (the local threaded scheduler runs chunks in your own process)
fastrnn's thread setting is yours and is left alone: with the threaded scheduler,
``fastrnn.set_num_threads(1)`` avoids oversubscription, or use
``scheduler="synchronous"`` and let fastrnn's threads use the cores.
"""
import json
import os
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["predict", "cache_info", "clear_cache", "ShippedModel"]

_MAX_MODELS = 4
_LOCK = threading.Lock()
_CACHE = OrderedDict()     # token -> built model
_STATS = {"builds": 0, "hits": 0, "chunks": 0, "unpickled": 0, "num_threads": None}


def _dask_array():
    try:
        import dask.array as da
    except ImportError:
        raise ImportError("fastrnn.interop.dask needs Dask: pip install 'dask[array]' "
                          "(and 'distributed' for clusters), or pip install "
                          "'fastrnn[dask]'") from None
    return da


class ShippedModel:
    """A model as data (class, config, weights, input shape) plus a content token.

    ``model()`` returns the model rebuilt in this process, from the module-level cache
    when this token was built before.
    """

    def __init__(self, model, input_shape):
        from dask.base import tokenize
        self.cls = type(model)
        self.config = model.get_config()
        self.weights = [np.ascontiguousarray(w) for w in model.get_weights()]
        self.input_shape = input_shape
        config_json = json.dumps(self.config, sort_keys=True, default=repr)
        self.token = tokenize(self.cls.__module__, self.cls.__qualname__, config_json,
                              self.input_shape, *self.weights)

    def __setstate__(self, state):
        self.__dict__.update(state)
        with _LOCK:
            _STATS["unpickled"] += 1

    def model(self):
        with _LOCK:
            model = _CACHE.get(self.token)
            if model is not None:
                _CACHE.move_to_end(self.token)
                _STATS["hits"] += 1
                return model
            model = self.cls.from_config(self.config)
            if not getattr(model, "built", True) and self.input_shape is not None:
                model.build(self.input_shape)
            model.set_weights(self.weights)
            _CACHE[self.token] = model
            while len(_CACHE) > _MAX_MODELS:
                _CACHE.popitem(last=False)
            _STATS["builds"] += 1
            return model

    def __repr__(self):
        return f"<ShippedModel {self.cls.__name__} token={self.token[:8]}>"


def cache_info():
    """This process's counters: ``builds`` (models rebuilt from config + weights),
    ``hits`` (cache reuses), ``chunks`` (chunks predicted), ``unpickled`` (ShippedModel
    objects received), ``num_threads`` (what the first chunk set, or None), ``models``
    (cached tokens)."""
    with _LOCK:
        return dict(_STATS, models=list(_CACHE))


def clear_cache():
    """Forget the cached models and reset the counters of this process."""
    with _LOCK:
        _CACHE.clear()
        _STATS.update(builds=0, hits=0, chunks=0, unpickled=0, num_threads=None)


def _host(address):
    """'tcp://10.0.0.5:4321' -> '10.0.0.5'."""
    rest = address.split("://", 1)[-1]
    return rest.rsplit(":", 1)[0]


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _worker_threads(requested):
    """fastrnn threads for one chunk in this distributed worker, or None outside one."""
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return None
    if requested is not None:
        return requested
    state = getattr(worker, "state", None)
    on_host = getattr(state, "nthreads", None) or getattr(worker, "nthreads", 1)
    try:
        from distributed import get_client
        workers = get_client().scheduler_info(n_workers=-1)["workers"]
        host = _host(worker.address)
        on_host = max(on_host, sum(w.get("nthreads", 0) for addr, w in workers.items()
                                   if _host(addr) == host))
    except Exception:  # no scheduler answer: count this worker's threads only
        pass
    return max(1, _cores() // max(1, on_host))


def _set_threads(requested):
    with _LOCK:
        if _STATS["num_threads"] is not None:
            return
    n = _worker_threads(requested)
    if n is None:
        return
    from ..functional import set_num_threads
    set_num_threads(n)
    with _LOCK:
        _STATS["num_threads"] = n


def _predict_chunk(*blocks, shipped, batch_size, specs, num_threads):
    """Outputs of the model on one chunk: an array, or a tuple for several outputs."""
    _set_threads(num_threads)
    model = shipped.model()
    n = blocks[0].shape[0]
    pieces = []
    for start in range(0, n, batch_size):
        xs = [b[start:start + batch_size] for b in blocks]
        out = model(xs[0] if len(xs) == 1 else xs)
        pieces.append([np.asarray(o) for o in out] if isinstance(out, (list, tuple))
                      else [np.asarray(out)])
    with _LOCK:
        _STATS["chunks"] += 1
    outs = []
    for k, (tail, dtype) in enumerate(specs):
        if pieces:
            outs.append(np.concatenate([p[k] for p in pieces], axis=0).astype(dtype,
                                                                              copy=False))
        else:  # an empty chunk: the model is never called on zero rows
            outs.append(np.empty((0,) + tail, dtype))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _batch_chunked(x, argument):
    """x with every axis but the batch one in a single chunk (rechunked if needed)."""
    for axis in range(1, x.ndim):
        if any(np.isnan(c) for c in x.chunks[axis]):
            raise ValueError(f"Argument `{argument}` has unknown chunk sizes along axis "
                             f"{axis}; expected known sizes on every axis but the batch "
                             "one. Call `x.compute_chunk_sizes()` first.")
    spread = {axis: -1 for axis in range(1, x.ndim) if len(x.chunks[axis]) > 1}
    return x.rechunk(spread) if spread else x


def predict(model, x, batch_size=None, num_threads=None):
    """Lazy ``model.predict`` over a Dask array chunked along the batch axis.

    Args:
        model: a fastrnn model (Sequential, or a functional Model) with get_config /
            from_config and get_weights / set_weights. It is snapshotted now: later
            changes to it do not affect the result.
        x: a ``dask.array.Array`` (batch, ...) as the model takes it, or a list of them
            for a several-input model (same batch length; the others are rechunked along
            the batch axis as the first). Chunks along the other axes are merged (a lazy
            rechunk), so each task sees whole sequences.
        batch_size: rows per model call inside a chunk (default 32, as Keras's predict).
        num_threads: fastrnn threads per chunk inside a distributed worker; default the
            host's cores divided by the Dask worker threads on that host.

    Returns:
        A lazy ``dask.array.Array`` (batch, ...) with x's batch chunks and the model's
        output dtype, or a list of them for a model with several outputs. Computing it
        gives what ``model.predict`` gives on the computed x.

    Raises:
        TypeError when x is not a Dask array; ValueError for unknown chunk sizes on a
        non-batch axis, inputs of different batch lengths, stateful models, or a bad
        batch_size / num_threads; ImportError without Dask.
    """
    da = _dask_array()
    import dask
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    for i, arr in enumerate(xs):
        if not isinstance(arr, da.Array):
            raise TypeError("Argument `x` of fastrnn.interop.dask.predict must be a "
                            f"dask.array.Array (or a list of them), got "
                            f"{type(arr).__name__}.")
        if arr.ndim < 1:
            raise ValueError(f"Argument `x` must have a batch axis, got shape {arr.shape}.")
    argument = "x" if len(xs) == 1 else "x[{}]"
    xs = [_batch_chunked(arr, argument.format(i)) for i, arr in enumerate(xs)]
    lengths = {arr.shape[0] for arr in xs}
    if len(lengths) > 1 and not any(np.isnan(n) for n in lengths):
        raise ValueError(f"Arguments `x` must share the batch length, got {sorted(lengths)}.")
    # several inputs: chunk every batch axis as the first input's, so chunks pair up
    xs = [xs[0]] + [arr if arr.chunks[0] == xs[0].chunks[0] else
                    arr.rechunk({0: xs[0].chunks[0]}) for arr in xs[1:]]
    if batch_size is None:
        batch_size = 32
    for value, name in ((batch_size, "batch_size"), (num_threads, "num_threads")):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, (int, np.integer)) or value < 1):
            raise ValueError(f"Received an invalid value for argument `{name}`, expected a "
                             f"positive integer, got {value!r}.")
    layers = getattr(model, "layers", [])
    stateful = [lay.name for lay in layers if getattr(lay, "stateful", False)]
    if stateful:
        raise ValueError(f"Model has stateful layers {stateful}: their state runs from "
                         "batch to batch, which independent chunks cannot do.")
    # one row through the model now: builds it if needed, and gives each output's shape
    probe = [np.zeros((1,) + arr.shape[1:], arr.dtype) for arr in xs]
    out = model(probe[0] if len(probe) == 1 else probe)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    specs = [(np.asarray(o).shape[1:], np.asarray(o).dtype) for o in outs]
    shipped = ShippedModel(model, getattr(model, "_input_shape", None)
                           or getattr(model, "input_shape", None))
    shipped_key = dask.delayed(shipped, name="fastrnn-model-" + shipped.token, pure=True)

    in_dims = [tuple(f"x{i}_{a}" for a in range(1, arr.ndim)) for i, arr in enumerate(xs)]
    out_dims = [tuple(f"y{k}_{a}" for a in range(1, len(tail) + 1))
                for k, (tail, _) in enumerate(specs)]
    sizes = {name: size for dims, (tail, _) in zip(out_dims, specs)
             for name, size in zip(dims, tail)}
    signature = ",".join(f"({','.join(d)})" for d in in_dims) + "->" + \
        ",".join(f"({','.join(d)})" for d in out_dims)
    result = da.apply_gufunc(
        _predict_chunk, signature, *xs, output_dtypes=[dt for _, dt in specs],
        output_sizes=sizes, allow_rechunk=False, vectorize=False,
        shipped=shipped_key, batch_size=int(batch_size), specs=specs,
        num_threads=num_threads)
    return list(result) if len(specs) > 1 else result
