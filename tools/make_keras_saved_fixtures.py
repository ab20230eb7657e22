"""Write small models saved by real Keras 3 for fastrnn's loading tests (issue 10).

Run by hand with Keras 3 (never in fastrnn's environment)::

    /work/kvenv/bin/python tools/make_keras_saved_fixtures.py [--out tests/fixtures/saved]

For each model NAME below this writes, into ``--out``:

- ``NAME.keras``: ``model.save("NAME.keras")`` (Keras 3's zip format);
- ``NAME.h5``: ``model.save("NAME.h5")`` (Keras 3's legacy HDF5 writer);
- ``NAME.weights.h5``: ``model.save_weights("NAME.weights.h5")``;
- ``NAME.npz``: ``spec`` (JSON: keras/tf versions, the layer names, input dtype, ...),
  ``x`` (input), ``out_0, ...`` (``model.predict(x)``, outputs in order; ``x_0, x_1``
  for several inputs), ``w/<layer>/<i>`` (the weights, ``layer.get_weights()`` order).
  For the trained model also ``y``, ``steps_before`` (what each of the training steps
  before saving returned), ``next_returns`` (what ``train_on_batch(x, y)`` returns
  right after loading the ``.keras`` file, optimizer state restored) and
  ``next/<layer>/<i>`` (the weights after that step), ``optimizer_iterations``.

When ``tf_keras`` (Keras 2.x on TensorFlow: ``pip install tf_keras``) is importable,
the same five models are also written by Keras 2 as ``keras2_NAME.h5`` (full model),
``keras2_NAME_weights.h5`` (``save_weights("..._weights.h5", save_format="h5")``:
Keras 2's HDF5 weights; tf_keras writes Keras 3's layout for a ``.weights.h5`` name)
and ``keras2_NAME.npz``
(their own weights, inputs and predictions, recorded from tf_keras).

Plus ``lambda_layer.keras`` (a Sequential with a ``Lambda``), which fastrnn must
refuse to load, and ``LAYOUT.md``: the h5py listing of every file, written from the
files themselves.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import sys
import tempfile
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = 20261130


def _graph_models():
    path = ROOT / "tests" / "graph_models.py"
    spec = importlib.util.spec_from_file_location("graph_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODELS = _graph_models().SAVED
BATCH = 4


def _input(rng, entry):
    kind, shape = entry[0], entry[1]
    if kind == "float":
        return rng.uniform(-1, 1, (BATCH,) + shape).astype("float32")
    timesteps, vocab = shape[0], entry[2]
    ids = rng.integers(1, vocab, (BATCH, timesteps))
    lengths = [timesteps, 3, 1, timesteps - 2]
    for i, n in enumerate(lengths):               # rows 0, 2 pre-padded; 1, 3 post-padded
        if i % 2 == 0:
            ids[i, :timesteps - n] = 0
        else:
            ids[i, n:] = 0
    return ids.astype("int32")


def _weights(model):
    out = {}
    for layer in model.layers:
        for i, w in enumerate(layer.get_weights()):
            out[f"w/{layer.name}/{i}"] = w
    return out


def _flat(values):
    return np.asarray(np.ravel(np.asarray(values, dtype=np.float64)))


def make_model(keras, tf, name, entry, out, keras2=False):
    """Build, (train,) save and record one model. ``keras2``: ``keras`` is tf_keras
    (Keras 2.x): write ``keras2_NAME.h5`` and ``keras2_NAME_weights.h5`` (Keras 2's HDF5
    weights format) and ``keras2_NAME.npz``, no ``.keras``."""
    if keras2:
        name = f"keras2_{name}"
    rng = np.random.default_rng([SEED, sum(map(ord, name))])
    model = entry["build"](keras)
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            layer.set_weights([rng.uniform(-0.7, 0.7, w.shape).astype(w.dtype) for w in ws])
    xs = [_input(rng, e) for e in entry["inputs"]]
    x = xs[0] if len(xs) == 1 else xs
    spec = {"name": name, "keras_version": keras.__version__, "tf_version": tf.__version__,
            "layers": [[layer.name, layer.__class__.__name__] for layer in model.layers],
            "input_dtypes": [str(v.dtype) for v in xs]}
    arrays = {}
    if entry.get("train_steps"):
        y = rng.integers(0, 2, (BATCH, 1)).astype("float32")
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05),
                      loss="binary_crossentropy", metrics=["accuracy"])
        arrays["y"] = y
        arrays["steps_before"] = np.stack([_flat(model.train_on_batch(x, y))
                                           for _ in range(entry["train_steps"])])
        spec["compile"] = {"optimizer": "Adam", "learning_rate": 0.05,
                           "loss": "binary_crossentropy", "metrics": ["accuracy"]}
    arrays.update(_weights(model))
    if len(xs) == 1:
        arrays["x"] = xs[0]
    else:
        arrays.update({f"x_{i}": v for i, v in enumerate(xs)})
    outs = model.predict(x, verbose=0)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    arrays.update({f"out_{i}": np.asarray(o) for i, o in enumerate(outs)})

    suffixes = (".h5",) if keras2 else (".keras", ".h5")
    for suffix in suffixes:
        model.save(str(out / f"{name}{suffix}"))
    if keras2:  # Keras 2's own HDF5 weights format (tf_keras writes Keras 3's for .weights.h5)
        model.save_weights(str(out / f"{name}_weights.h5"), save_format="h5")
    else:
        model.save_weights(str(out / f"{name}.weights.h5"))
    load_model = keras.models.load_model

    # Every file loads back into Keras with the same predictions.
    for suffix in suffixes:
        loaded = load_model(str(out / f"{name}{suffix}"))
        again = loaded.predict(x, verbose=0)
        again = list(again) if isinstance(again, (list, tuple)) else [again]
        for a, e in zip(again, outs):
            np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6)
    if entry.get("train_steps"):
        loaded = load_model(str(out / f"{name}{suffixes[0]}"))
        spec["optimizer_iterations"] = int(loaded.optimizer.iterations.numpy())
        arrays["next_returns"] = _flat(loaded.train_on_batch(x, arrays["y"]))
        for layer in loaded.layers:
            for i, w in enumerate(layer.get_weights()):
                arrays[f"next/{layer.name}/{i}"] = w
        # the same step on the in-memory model agrees: the optimizer state was restored
        np.testing.assert_allclose(_flat(model.train_on_batch(x, arrays["y"])),
                                   arrays["next_returns"], rtol=1e-6)
    arrays["spec"] = np.asarray(json.dumps(spec, sort_keys=True))
    np.savez_compressed(out / f"{name}.npz", **arrays)


def make_lambda(keras, out):
    model = keras.Sequential([keras.Input(shape=(3, 2)),
                              keras.layers.Lambda(lambda t: t * 2.0, name="double"),
                              keras.layers.SimpleRNN(2)], name="with_lambda")
    model.save(out / "lambda_layer.keras")
    try:  # Keras itself refuses it in safe mode
        keras.saving.load_model(out / "lambda_layer.keras")
    except ValueError as exc:
        return str(exc).splitlines()[0]
    raise AssertionError("Keras loaded a Lambda in safe mode")


# ------------------------------------------------------------------ the listing
def _h5_listing(path):
    import h5py

    lines = []

    def attr(value):
        """An attribute as text: name lists in full, long JSON configs cut."""
        if isinstance(value, np.ndarray):
            return "[" + ", ".join(v.decode() if isinstance(v, bytes) else str(v)
                                   for v in value.ravel()) + "]"
        text = value.decode() if isinstance(value, bytes) else str(value)
        return text[:100] + "..." if len(text) > 100 else text

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            lines.append(f"    {name}  dataset {obj.shape} {obj.dtype}")
        else:
            lines.append(f"    {name}/")
        for key, value in obj.attrs.items():
            lines.append(f"        @{key} = {attr(value)}")

    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            lines.append(f"    @{key} = {attr(value)}")
        f.visititems(visit)
    return lines


def write_layout(out, lambda_message):
    lines = ["# Layout of the files in this folder (written by tools/make_keras_saved_fixtures.py)",
             "", "h5py listings: groups end in `/`, `@name` is an attribute (long JSON values cut;",
             "the full `model_config` / `training_config` are in the files). h5py lists members",
             "alphabetically: the weight order is `@weight_names` (legacy .h5) or the numbered",
             "`vars/0, 1, ...` (Keras 3 layout), never the listing order.",
             "Empty groups are kept: Keras writes a `vars` group for layers without weights.", ""]
    for path in sorted(out.glob("*.keras")):
        lines += [f"## {path.name}", "", "zip members:", "```"]
        with zipfile.ZipFile(path) as z:
            lines += [f"    {info.filename}  ({info.file_size} bytes)" for info in z.infolist()]
            metadata = z.read("metadata.json").decode()
            config = json.loads(z.read("config.json"))
            with tempfile.TemporaryDirectory() as tmp:
                z.extract("model.weights.h5", tmp)
                listing = _h5_listing(pathlib.Path(tmp) / "model.weights.h5")
        lines += ["```", "", "metadata.json: `" + metadata + "`", "",
                  "config.json top-level keys: `" + ", ".join(config) + "`; config keys: `"
                  + ", ".join(config["config"]) + "`", ""]
        if path.stem in ("encoder_decoder", "trained_adam"):
            lines += ["config.json in full:", "```json", json.dumps(config, indent=1), "```", ""]
        lines += ["model.weights.h5:", "```"] + listing + ["```", ""]
    for path in sorted(out.glob("*.h5")):
        lines += [f"## {path.name}", "", "```"] + _h5_listing(path) + ["```", ""]
    lines += ["## lambda_layer.keras", "",
              f"Keras 3 itself refuses to load it in safe mode: `{lambda_message}`", ""]
    (out / "LAYOUT.md").write_text("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "tests" / "fixtures" / "saved"))
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, entry in MODELS.items():
        keras.utils.clear_session()
        make_model(keras, tf, name, entry, out)
    keras.utils.clear_session()
    message = make_lambda(keras, out)
    try:
        import tf_keras
    except ImportError:
        print("tf_keras is not installed: no Keras 2 files", file=sys.stderr)
    else:
        for name, entry in MODELS.items():
            tf_keras.backend.clear_session()
            make_model(tf_keras, tf, name, entry, out, keras2=True)
    write_layout(out, message)
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {len(list(out.iterdir()))} files, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
