"""Precision, Recall, AUC, top-k accuracy and the loss-valued metrics, against Keras 3
values (tests/fixtures/tool_mod_*.npz, written by tools/make_keras_module_fixtures.py)."""
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

losses, metrics = load("losses", "metrics")
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
MET = np.load(FIXTURES / "tool_mod_metrics.npz")
LOSS = np.load(FIXTURES / "tool_mod_losses.npz")

CASES = {
    "prec": (lambda: metrics.Precision(), "b", False),
    "prec_sw": (lambda: metrics.Precision(), "b", True),
    "prec_th": (lambda: metrics.Precision(thresholds=[0.3, 0.6]), "b", True),
    "rec": (lambda: metrics.Recall(), "b", True),
    "rec_topk": (lambda: metrics.Recall(top_k=2), "c", False),
    "prec_cls": (lambda: metrics.Precision(class_id=2), "c", False),
    "auc": (lambda: metrics.AUC(), "b", False),
    "auc_sw": (lambda: metrics.AUC(), "b", True),
    "auc_pr": (lambda: metrics.AUC(curve="PR"), "b", True),
    "auc_pr_min": (lambda: metrics.AUC(curve="PR", summation_method="minoring"), "b", False),
    "auc_maj": (lambda: metrics.AUC(summation_method="majoring", num_thresholds=7), "b", True),
    "auc_th": (lambda: metrics.AUC(thresholds=[0.1, 0.5, 0.55, 0.9]), "b", True),
    "auc_cat": (lambda: metrics.AUC(), "c", False),
    "topk": (lambda: metrics.TopKCategoricalAccuracy(k=2), "c", False),
    "stopk": (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), "cs", False),
    "rmse": (lambda: metrics.RootMeanSquaredError(), "c", False),
    "cos": (lambda: metrics.CosineSimilarity(), "c", False),
    "logcosh": (lambda: metrics.LogCoshError(), "c", False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_metrics_match_keras3_over_two_batches(case):
    make, kind, use_sw = CASES[case]
    m = make()
    for i in range(2):
        if kind == "b":
            t, p = MET[f"bt{i}"], MET[f"bp{i}"]
        elif kind == "c":
            t, p = MET[f"ct{i}"], MET[f"cp{i}"]
        else:
            t, p = np.argmax(MET[f"ct{i}"], -1), MET[f"cp{i}"]
        m.update_state(t, p, sample_weight=MET[f"sw{i}"] if use_sw else None)
        assert_allclose(np.asarray(m.result()), MET[f"{case}_{i}"], rtol=2e-6, atol=1e-7)
    m.reset_state()
    assert np.all(np.asarray(m.result()) == 0)


def test_auc_perfect_and_reversed_rankings():
    m = metrics.AUC()
    m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.6, 0.9])
    assert m.result() == pytest.approx(1.0)
    m = metrics.AUC()
    m.update_state([1, 1, 0, 0], [0.1, 0.4, 0.6, 0.9])
    assert m.result() == pytest.approx(0.0)


def test_confusion_metric_errors():
    with pytest.raises(ValueError, match="Threshold values must be in \\[0, 1\\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="`num_thresholds`"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="ROCK")
    with pytest.raises(ValueError, match="`sample_weight`.*\\(3, 1\\)"):
        metrics.Recall().update_state([[1], [0], [1]], [[0.2], [0.7], [0.9]],
                                      sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="`y`"):
        metrics.AUC().update_state([1, 0], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="`k`"):
        metrics.TopKCategoricalAccuracy(k=0)


@pytest.mark.parametrize("name, cls", [
    ("precision", "Precision"), ("recall", "Recall"), ("auc", "AUC"),
    ("AUC", "AUC"), ("top_k_categorical_accuracy", "TopKCategoricalAccuracy"),
    ("sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy"),
    ("mape", "MeanAbsolutePercentageError"), ("msle", "MeanSquaredLogarithmicError"),
    ("root_mean_squared_error", "RootMeanSquaredError"), ("logcosh", "LogCoshError"),
    ("kl_divergence", "KLDivergence"), ("hinge", "Hinge"),
])
def test_metric_names_resolve(name, cls):
    m = metrics.get(name)
    assert type(m).__name__ == cls and m.name == name


def test_keras_function_forms_under_metrics_match_keras3():
    t, p = LOSS["t"], LOSS["p"]
    for fn in ("mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
               "log_cosh"):
        assert_allclose(getattr(metrics, fn)(t, p), LOSS[f"f_{fn}"], rtol=2e-6)
    assert_allclose(metrics.kl_divergence(LOSS["pt"], LOSS["pp"]), LOSS["f_kl_divergence"],
                    rtol=2e-6)
    for fn in ("hinge", "squared_hinge"):
        assert_allclose(getattr(metrics, fn)(LOSS["h"], p), LOSS[f"f_{fn}"], rtol=2e-6)
        assert_allclose(getattr(metrics, fn)(LOSS["h01"], p), LOSS[f"f01_{fn}"], rtol=2e-6)
    assert metrics.mse is losses.mean_squared_error and metrics.mape is metrics.MAPE
    assert_allclose(metrics.top_k_categorical_accuracy([[0, 0, 1]], [[0.5, 0.5, 0.5]], k=1),
                    [1.0])                       # ties at the boundary count as in top k


_LOSS_INPUTS = {"KLDivergence": ("pt", "pp"), "Hinge": ("h", "p"), "SquaredHinge": ("h", "p"),
                "CategoricalHinge": ("pt_round", "p")}


@pytest.mark.parametrize("cls", ["Huber", "LogCosh", "MeanSquaredLogarithmicError",
                                 "MeanAbsolutePercentageError", "Hinge", "SquaredHinge",
                                 "KLDivergence", "CosineSimilarity", "Poisson",
                                 "CategoricalHinge"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum",
                                       "mean_with_sample_weight"])
def test_loss_classes_match_keras3(cls, reduction):
    a, b = _LOSS_INPUTS.get(cls, ("t", "p"))
    t = LOSS["pt"].round() if a == "pt_round" else LOSS[a]
    p = LOSS[b]
    loss = getattr(losses, cls)(reduction=reduction)
    with np.errstate(invalid="ignore"):
        value = loss(t, p)
        weighted = loss(t, p, sample_weight=LOSS["sw"])
    # MAPE divides by max(|t|, eps) with t[0, 0] = 0: values near 1e9, compared relatively
    assert_allclose(value, LOSS[f"c_{cls}_{reduction}"], rtol=2e-6, atol=1e-6)
    assert_allclose(weighted, LOSS[f"c_{cls}_{reduction}_sw"], rtol=2e-6, atol=1e-6)
