"""Generate Keras 3 fixtures for functional models, masks and graph training.

Run by hand with Keras 3 (never in fastrnn's environment)::

    /work/kvenv/bin/python tools/make_keras_graph_fixtures.py [--out tests/fixtures] [--only PREFIX]

The models come from ``tests/graph_models.py`` (imported by path): each builder is
called with ``K = keras``; ``tests/test_keras_graph.py`` calls the same builder with
``K = fastrnn``. For every case in ``graph_models.CASES`` this writes
``<out>/<case>.npz`` holding:

- ``spec``: JSON: ``case``, ``keras_version``, ``tf_version``, ``dtype``,
  ``input_names``, ``output_names`` (Keras's), ``weight_layers`` (``[[name, n], ...]``
  in ``model.layers`` order), optional ``summary`` (Keras's text), ``summary_rows``
  (``[[name, class, params, ["inbound[node][tensor]", ...]], ...]``), ``total_params``;
  for training cases
  ``history_keys`` (fit, sorted) or, for train_on_batch, ``returns_list_keys``
  (what each entry of the returned list is) and ``returns_dict_keys`` (the order of
  ``return_dict=True``'s keys; Keras 3 orders the two differently), ``metrics_names``;
- ``x_0, x_1, ...``: the inputs (int32 token ids, or floats);
- ``w/<layer_name>/<i>``: that layer's ``get_weights()[i]`` (seeded uniform(-0.7, 0.7));
- ``out_0, out_1, ...``: the model's outputs on the inputs (``model(x)``, or
  ``model.predict(x, batch_size=...)`` when the case says ``predict_batch_size``);
  ``out_mask_<i>``: Keras's mask on output i, when it has one;
- training cases: ``y_0, ...`` targets; ``eval_before`` (``evaluate`` on the whole
  batch before training, the returned list; ``spec["eval_list_keys"]`` names its
  entries); ``hist_<key>`` (fit, one value per epoch) or
  ``returns`` (steps, k) (train_on_batch, ``return_dict=False``);
  ``after/<layer_name>/<i>``: the weights after training.
"""

import argparse
import importlib.util
import io
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = 20261129


def load_graph_models():
    path = ROOT / "tests" / "graph_models.py"
    spec = importlib.util.spec_from_file_location("graph_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _padded_lengths(rng, batch, timesteps, allow_empty):
    """Row lengths: a full row, short rows, and (when allowed) an all-padding row."""
    lengths = rng.integers(1, timesteps + 1, batch)
    lengths[0] = timesteps
    if batch > 2:
        lengths[1] = max(1, timesteps // 2)
    if allow_empty and batch > 3:
        lengths[-1] = 0
    return lengths


def _valid_mask(lengths, timesteps):
    """(batch, timesteps) bool: even rows pre-padded, odd rows post-padded."""
    mask = np.zeros((len(lengths), timesteps), dtype=bool)
    for i, n in enumerate(lengths):
        if n:
            if i % 2 == 0:
                mask[i, timesteps - n:] = True   # pre-padding: zeros first
            else:
                mask[i, :n] = True                 # post-padding: zeros last
    return mask


def make_input(rng, entry, batch, dtype, allow_empty):
    kind, shape = entry[0], tuple(entry[1])
    if kind == "float":
        return rng.uniform(-1, 1, (batch,) + shape).astype(dtype)
    if kind == "tokens":
        (timesteps,), vocab = shape, entry[2]
        mask = _valid_mask(_padded_lengths(rng, batch, timesteps, allow_empty), timesteps)
        ids = rng.integers(1, vocab, (batch, timesteps))
        return np.where(mask, ids, 0).astype("int32")
    if kind == "masked_float":
        timesteps = shape[0]
        mask = _valid_mask(_padded_lengths(rng, batch, timesteps, allow_empty), timesteps)
        x = rng.uniform(-1, 1, (batch,) + shape).astype(dtype)
        return np.where(mask[:, :, None], x, 0.0).astype(dtype)
    raise ValueError(f"unknown input kind {kind!r}")


def make_target(rng, entry, batch, dtype):
    kind, shape = entry[0], tuple(entry[1])
    if kind == "float":
        return rng.uniform(-1, 1, (batch,) + shape).astype(dtype)
    if kind == "binary":
        return rng.integers(0, 2, (batch,) + shape).astype(dtype)
    if kind == "class":
        return rng.integers(0, entry[2], (batch,) + shape).astype("int32")
    raise ValueError(f"unknown target kind {kind!r}")


def _as_list(result):
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


def _model_input(xs):
    return xs[0] if len(xs) == 1 else list(xs)


def _model_target(ys):
    return ys[0] if len(ys) == 1 else list(ys)


def set_random_weights(rng, model, dtype):
    """Seeded uniform(-0.7, 0.7) weights, layer by layer; returns {name: [arrays]}."""
    weights = {}
    for layer in model.layers:
        current = layer.get_weights()
        if not current:
            continue
        new = [rng.uniform(-0.7, 0.7, w.shape).astype(w.dtype) for w in current]
        assert all(w.dtype == np.dtype(dtype) for w in new), (layer.name, [w.dtype for w in new])
        layer.set_weights(new)
        weights[layer.name] = new
    return weights


def summary_info(model):
    lines = []
    model.summary(print_fn=lambda s, line_break=True: lines.append(s))
    rows = []
    for layer in model.layers:
        # "Connected to" as Keras prints it: inbound layer[node index][tensor index]
        connected = []
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                inbound, node_index, tensor_index = tensor._keras_history
                connected.append(f"{inbound.name}[{node_index}][{tensor_index}]")
        rows.append([layer.name, layer.__class__.__name__, int(layer.count_params()),
                     connected])
    return "\n".join(lines), rows, int(model.count_params())


def _compile(keras, model, compile_spec):
    opt = compile_spec["optimizer"]
    kwargs = {key: compile_spec[key] for key in ("loss", "loss_weights", "metrics")
              if key in compile_spec}
    model.compile(optimizer=getattr(keras.optimizers, opt["class"])(**opt["config"]), **kwargs)


def _flat(values):
    return np.asarray([float(v) for v in np.ravel(np.asarray(values, dtype=np.float64))])


def _name_list(values, logs):
    """The key of ``logs`` (a dict of the same results) that each entry of ``values`` is."""
    names = []
    for value in values:
        (key,) = [k for k, v in logs.items()
                  if k not in names and np.isclose(float(v), value, rtol=1e-6, atol=0)]
        names.append(key)
    return names


def run_case(keras, tf, graph_models, name, case):
    rng = np.random.default_rng([SEED, sum(map(ord, name))])
    dtype = case["dtype"]
    batch = case["batch"]
    allow_empty = not case.get("no_empty_rows", False)
    model = case["build"](keras, dtype)
    weights = set_random_weights(rng, model, dtype)
    xs = [make_input(rng, entry, batch, dtype, allow_empty) for entry in case["inputs"]]

    spec = {"case": name, "keras_version": keras.__version__, "tf_version": tf.__version__,
            "dtype": dtype, "input_names": [t.name for t in model.inputs],
            "output_names": list(getattr(model, "output_names", []) or []),
            "weight_layers": [[lname, len(ws)] for lname, ws in weights.items()]}
    arrays = {f"x_{i}": x for i, x in enumerate(xs)}
    for lname, ws in weights.items():
        for i, w in enumerate(ws):
            arrays[f"w/{lname}/{i}"] = w

    if case.get("predict_batch_size"):
        spec["predict_batch_size"] = case["predict_batch_size"]
        outs = _as_list(model.predict(_model_input(xs), batch_size=case["predict_batch_size"],
                                      verbose=0))
        spec["predict_returns"] = type(model.predict(_model_input(xs), verbose=0)).__name__
    else:
        outs = _as_list(model(_model_input(xs), training=False))
    for i, out in enumerate(outs):
        mask = getattr(out, "_keras_mask", None)
        if mask is not None:
            arrays[f"out_mask_{i}"] = np.asarray(mask).astype(bool)
        out = np.asarray(out)
        if np.issubdtype(out.dtype, np.floating):
            assert out.dtype == np.dtype(dtype), (name, i, out.dtype)
        arrays[f"out_{i}"] = out

    if case.get("summary"):
        spec["summary"], spec["summary_rows"], spec["total_params"] = summary_info(model)

    train = case.get("train")
    if train:
        spec["train"] = {key: value for key, value in train.items() if key != "targets"}
        ys = [make_target(rng, entry, batch, dtype) for entry in train["targets"]]
        for i, y in enumerate(ys):
            arrays[f"y_{i}"] = y
        _compile(keras, model, train["compile"])
        arrays["eval_before"] = _flat(model.evaluate(_model_input(xs), _model_target(ys),
                                                     batch_size=batch, verbose=0))
        logs = model.evaluate(_model_input(xs), _model_target(ys), batch_size=batch,
                              verbose=0, return_dict=True)
        spec["eval_list_keys"] = _name_list(arrays["eval_before"], logs)
        if train["method"] == "fit":
            history = model.fit(_model_input(xs), _model_target(ys), verbose=0,
                                **train["fit"]).history
            spec["history_keys"] = sorted(history)
            for key, values in history.items():
                arrays[f"hist_{key}"] = np.asarray(values, dtype=np.float64)
        else:
            returns = [_flat(model.train_on_batch(_model_input(xs), _model_target(ys)))
                       for _ in range(train["steps"])]
            arrays["returns"] = np.stack(returns)
            # the same steps again from the same start, to record the dict's key order
            twin = case["build"](keras, dtype)
            for layer in twin.layers:
                if layer.name in weights:
                    layer.set_weights(weights[layer.name])
            _compile(keras, twin, train["compile"])
            logs = twin.train_on_batch(_model_input(xs), _model_target(ys), return_dict=True)
            spec["returns_dict_keys"] = list(logs)
            spec["returns_list_keys"] = _name_list(returns[0], logs)
        spec["metrics_names"] = list(model.metrics_names)
        for layer in model.layers:
            for i, w in enumerate(layer.get_weights()):
                arrays[f"after/{layer.name}/{i}"] = w

    arrays["spec"] = np.asarray(json.dumps(spec, sort_keys=True))
    return arrays


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "tests" / "fixtures"))
    parser.add_argument("--only", action="append", default=[],
                        help="write only cases whose name starts with this prefix (repeatable)")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    graph_models = load_graph_models()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, case in graph_models.CASES.items():
        if args.only and not any(name.startswith(p) for p in args.only):
            continue
        keras.utils.clear_session()
        arrays = run_case(keras, tf, graph_models, name, case)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        (out / f"{name}.npz").write_bytes(buf.getvalue())
        print(f"{name}: {len(arrays)} arrays, {len(buf.getvalue())} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
