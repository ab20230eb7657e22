"""Keras 3 reference values for the toolbox's losses and metrics (module level).

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_module_fixtures.py

Writes into ``tests/fixtures``:

``tool_mod_losses.npz``
    inputs ``t``/``p`` (4, 3) (``t[0, 0] = 0``, ``p[1, 1] < 0``), ``h``/``h01`` (-1/1 and
    0/1 targets), ``pt``/``pp`` (rows summing to 1), ``sw`` (4,); ``f_<fn>`` the
    per-sample values of ``keras.losses.<fn>``; ``c_<Class>_<reduction>[_sw]`` the reduced
    value of the class (with ``sample_weight=sw``).
``tool_mod_metrics.npz``
    two batches ``bt<i>``/``bp<i>``/``sw<i>`` (binary, (6, 1)) and ``ct<i>``/``cp<i>``
    (one-hot, (5, 4)); ``<case>_<i>`` is ``result()`` after update ``i`` of the metric
    built as in ``cases`` ("cs": sparse targets ``argmax(ct)``).

``tool_mod_regularizers.npz``
    ``w`` (4, 3) float32; ``reg_<k>`` the penalties and ``con_<k>`` the projected arrays of
    the regularizers and constraints built as in ``regularizers_constraints_fixture``.

Keras 3.15.1, TensorFlow 2.21, CPU.
"""

import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def losses_fixture():
    rng = np.random.default_rng(1)
    t = rng.uniform(0.1, 2, (4, 3)).astype("float32")
    p = rng.uniform(0.1, 2, (4, 3)).astype("float32")
    t[0, 0] = 0
    p[1, 1] = -0.5
    h = np.sign(rng.normal(size=(4, 3))).astype("float32")
    h01 = (h > 0).astype("float32")
    pt = rng.dirichlet([1, 1, 1], 4).astype("float32")
    pp = rng.dirichlet([1, 1, 1], 4).astype("float32")
    sw = np.array([1, 0.5, 2, 0], "float32")
    out = dict(t=t, p=p, h=h, h01=h01, pt=pt, pp=pp, sw=sw)
    for n in [
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "huber",
        "log_cosh",
        "cosine_similarity",
        "kl_divergence",
        "poisson",
    ]:
        a, b = (pt, pp) if n == "kl_divergence" else (t, p)
        out["f_" + n] = np.array(getattr(keras.losses, n)(a, b))
    for n in ["hinge", "squared_hinge"]:
        out["f_" + n] = np.array(getattr(keras.losses, n)(h, p))
        out["f01_" + n] = np.array(getattr(keras.losses, n)(h01, p))
    out["f_categorical_hinge"] = np.array(keras.losses.categorical_hinge(pt.round(), p))
    for c in [
        "Huber",
        "LogCosh",
        "MeanSquaredLogarithmicError",
        "MeanAbsolutePercentageError",
        "Hinge",
        "SquaredHinge",
        "KLDivergence",
        "CosineSimilarity",
        "Poisson",
        "CategoricalHinge",
    ]:
        a, b = (
            (pt, pp)
            if c == "KLDivergence"
            else (
                (h, p)
                if "Hinge" in c and c != "CategoricalHinge"
                else ((pt.round(), p) if c == "CategoricalHinge" else (t, p))
            )
        )
        for red in ["sum_over_batch_size", "sum", "mean_with_sample_weight"]:
            L = getattr(keras.losses, c)(reduction=red)
            out[f"c_{c}_{red}"] = np.array(L(a, b))
            out[f"c_{c}_{red}_sw"] = np.array(L(a, b, sample_weight=sw))
    np.savez(os.path.join(HERE, "tool_mod_losses.npz"), **out)


def metrics_fixture():
    rng = np.random.default_rng(3)
    out = {}
    b = [
        (
            rng.integers(0, 2, (6, 1)).astype("float32"),
            rng.uniform(0, 1, (6, 1)).astype("float32"),
            rng.uniform(0.2, 2, (6,)).astype("float32"),
        )
        for _ in range(2)
    ]
    b[0][1][0, 0] = 0.5
    b[0][1][1, 0] = 1.0
    b[0][1][2, 0] = 0.0
    b[1][1][0, 0] = 0.25
    c = [
        (
            np.eye(4)[rng.integers(0, 4, 5)].astype("float32"),
            rng.uniform(0, 1, (5, 4)).astype("float32"),
        )
        for _ in range(2)
    ]
    c[0][1][0] = [0.2, 0.2, 0.2, 0.1]
    for i in range(2):
        out[f"bt{i}"], out[f"bp{i}"], out[f"sw{i}"] = b[i]
        out[f"ct{i}"], out[f"cp{i}"] = c[i]
    cases = {
        "prec": (lambda: keras.metrics.Precision(), "b", False),
        "prec_sw": (lambda: keras.metrics.Precision(), "b", True),
        "prec_th": (lambda: keras.metrics.Precision(thresholds=[0.3, 0.6]), "b", True),
        "rec": (lambda: keras.metrics.Recall(), "b", True),
        "rec_topk": (lambda: keras.metrics.Recall(top_k=2), "c", False),
        "prec_cls": (lambda: keras.metrics.Precision(class_id=2), "c", False),
        "auc": (lambda: keras.metrics.AUC(), "b", False),
        "auc_sw": (lambda: keras.metrics.AUC(), "b", True),
        "auc_pr": (lambda: keras.metrics.AUC(curve="PR"), "b", True),
        "auc_pr_min": (
            lambda: keras.metrics.AUC(curve="PR", summation_method="minoring"),
            "b",
            False,
        ),
        "auc_maj": (
            lambda: keras.metrics.AUC(summation_method="majoring", num_thresholds=7),
            "b",
            True,
        ),
        "auc_th": (lambda: keras.metrics.AUC(thresholds=[0.1, 0.5, 0.55, 0.9]), "b", True),
        "auc_cat": (lambda: keras.metrics.AUC(), "c", False),
        "topk": (lambda: keras.metrics.TopKCategoricalAccuracy(k=2), "c", False),
        "stopk": (lambda: keras.metrics.SparseTopKCategoricalAccuracy(k=1), "cs", False),
        "rmse": (lambda: keras.metrics.RootMeanSquaredError(), "c", False),
        "cos": (lambda: keras.metrics.CosineSimilarity(), "c", False),
        "logcosh": (lambda: keras.metrics.LogCoshError(), "c", False),
    }
    for k, (mk, kind, usesw) in cases.items():
        m = mk()
        for i in range(2):
            if kind == "b":
                t, p = out[f"bt{i}"], out[f"bp{i}"]
            elif kind == "c":
                t, p = out[f"ct{i}"], out[f"cp{i}"]
            else:
                t, p = np.argmax(out[f"ct{i}"], -1), out[f"cp{i}"]
            m.update_state(t, p, sample_weight=out[f"sw{i}"] if usesw else None)
            out[f"{k}_{i}"] = np.array(m.result())
    np.savez(os.path.join(HERE, "tool_mod_metrics.npz"), **out)


def regularizers_constraints_fixture():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(4, 3)).astype("float32") * 2
    w[1, 2] = 0.0
    out = {"w": w}
    regs = {
        "l1": keras.regularizers.get("l1"),
        "l2": keras.regularizers.get("l2"),
        "l1l2": keras.regularizers.L1L2(l1=0.03, l2=0.2),
        "ortho_rows": keras.regularizers.OrthogonalRegularizer(0.1),
        "ortho_cols": keras.regularizers.OrthogonalRegularizer(0.1, mode="columns"),
    }
    for k, r in regs.items():
        out["reg_" + k] = np.array(r(keras.ops.convert_to_tensor(w)))
    cons = {
        "maxnorm": keras.constraints.MaxNorm(1.5),
        "maxnorm1": keras.constraints.MaxNorm(2.0, axis=1),
        "nonneg": keras.constraints.NonNeg(),
        "unitnorm": keras.constraints.UnitNorm(),
        "unitnorm01": keras.constraints.UnitNorm(axis=[0, 1]),
        "minmax": keras.constraints.MinMaxNorm(1.0, 2.0, rate=0.5),
        "minmax1": keras.constraints.MinMaxNorm(axis=1),
    }
    for k, c in cons.items():
        out["con_" + k] = np.array(c(keras.ops.convert_to_tensor(w)))
    np.savez(os.path.join(HERE, "tool_mod_regularizers.npz"), **out)


if __name__ == "__main__":
    losses_fixture()
    metrics_fixture()
    regularizers_constraints_fixture()
