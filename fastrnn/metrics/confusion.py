"""Confusion-matrix metrics of Keras 3: ``Precision``, ``Recall`` and ``AUC``.

Predictions ``y_pred`` and labels ``y_true`` (non-zero = positive) are flattened; at each
threshold ``th`` a prediction is positive when ``y_pred > th``, and (weighted) true/false
positives/negatives are accumulated over all ``update_state`` calls, as Keras's
``update_confusion_matrix_variables`` does. ``AUC`` with its default evenly spaced
thresholds uses Keras's bucketed path: predictions are clipped to [0, 1] and a prediction
is positive at threshold ``i`` when ``ceil(p * (n - 1)) - 1 >= i`` (computed in float32).
"""
import numpy as np

from .. import losses as _losses
from .base import Metric

__all__ = ["Precision", "Recall", "AUC"]

_EPSILON = 1e-7
_NEG_INF = -1e10


def _divide_no_nan(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def _check_thresholds(thresholds):
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if values.ndim != 1 or not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
    return values


def _prepare(name, y_true, y_pred, sample_weight, top_k=None, class_id=None):
    """Flatten to (labels bool, predictions float32, weights float64) as Keras does."""
    p = np.asarray(y_pred, dtype=np.float32)
    t = np.asarray(y_true, dtype=np.float32)
    p, t = _losses._squeeze_or_expand(p, t)
    if t.shape != p.shape:
        raise ValueError(f"Received an invalid shape for argument `y` (the targets) of "
                         f"metric '{name}': expected the predictions' shape {p.shape}, "
                         f"got {np.shape(y_true)}.")
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        w = w.reshape(w.shape + (1,) * (p.ndim - w.ndim)) if w.ndim < p.ndim else w
        try:
            w = np.broadcast_to(w, p.shape)
        except ValueError:
            raise ValueError(f"Received an invalid shape for argument `sample_weight` of "
                             f"metric '{name}', expected a shape broadcastable to "
                             f"{p.shape}, got {np.shape(sample_weight)}.") from None
    if top_k is not None:
        # keep the k largest of each row, the others become -inf (Keras's _filter_top_k)
        order = np.argsort(-p, axis=-1, kind="stable")[..., :top_k]
        keep = np.zeros(p.shape, dtype=bool)
        np.put_along_axis(keep, order, True, axis=-1)
        p = np.where(keep, p, np.float32(_NEG_INF))
    if class_id is not None:
        if p.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with "
                             f"shape (num_samples, num_classes), found shape: {p.shape}")
        t, p = t[..., class_id], p[..., class_id]
        w = None if w is None else w[..., class_id]
    return t.reshape(-1) != 0, p.reshape(-1), None if w is None else w.reshape(-1)


def _confusion(labels, preds, weights, thresholds):
    """(tp, fp, tn, fn), each (len(thresholds),), with ``pred > threshold``."""
    w = np.ones(preds.shape, dtype=np.float64) if weights is None else weights
    pos = preds[None, :] > thresholds.astype(np.float32)[:, None]
    tp = (pos & labels) @ w
    fp = (pos & ~labels) @ w
    fn = (~pos & labels) @ w
    tn = (~pos & ~labels) @ w
    return tp, fp, tn, fn


def _confusion_bucketed(labels, preds, weights, num_thresholds):
    """Keras's optimized path for evenly distributed thresholds (with the epsilon ends)."""
    w = np.ones(preds.shape, dtype=np.float64) if weights is None else weights
    p = np.clip(preds, np.float32(0), np.float32(1))
    bucket = np.ceil(p * np.float32(num_thresholds - 1)) - 1
    bucket = np.maximum(bucket, 0).astype(np.int64)
    true_w = np.bincount(bucket, weights=np.where(labels, w, 0), minlength=num_thresholds)
    false_w = np.bincount(bucket, weights=np.where(labels, 0, w), minlength=num_thresholds)
    tp = np.cumsum(true_w[::-1])[::-1]
    fp = np.cumsum(false_w[::-1])[::-1]
    return tp, fp, false_w.sum() - fp, true_w.sum() - tp


class _ThresholdMetric(Metric):
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        self.init_thresholds = thresholds
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(
                top_k, (int, np.integer)) or top_k < 1):
            raise ValueError("Received an invalid value for argument `top_k`, expected a "
                             f"positive integer or None, got {top_k!r}.")
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = (np.array([default]) if thresholds is None
                           else _check_thresholds(thresholds))
        super().__init__(name=name)

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate a batch: ``y_true`` 0/1 labels and ``y_pred`` scores of the same
        shape (e.g. ``(batch, 1)``), ``sample_weight`` broadcastable from the left."""
        labels, preds, w = _prepare(self.name, y_true, y_pred, sample_weight, self.top_k,
                                    self.class_id)
        tp, fp, _, fn = _confusion(labels, preds, w, self.thresholds)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def _finish(self, values):
        return float(values[0]) if len(self.thresholds) == 1 else values

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """``tp / (tp + fp)`` at ``thresholds`` (default 0.5), accumulated over batches.

    Args:
        thresholds: a float or a list of floats in [0, 1] (result: a float, or an array
            with one value per threshold).
        top_k: count only the ``k`` highest predictions of each row as positive.
        class_id: compute the metric for this column only.
        name: default ``"precision"``.

    Example:
        >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        0.6666666666666666
    """
    default_name = "precision"

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_positives))


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)`` at ``thresholds`` (default 0.5), accumulated over batches
    (arguments as ``Precision``; name default ``"recall"``)."""
    default_name = "recall"

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC or PR curve by a Riemann sum over thresholds (Keras 3).

    Thresholds are ``[-eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps]`` (``n = num_thresholds``),
    or ``[-eps] + sorted(thresholds) + [1 + eps]``. ROC: x = false-positive rate, y = recall;
    PR: x = recall, y = precision, with ``summation_method="interpolation"`` the
    interpolation of Davis & Goadrich (2006) as Keras's ``interpolate_pr_auc``.

    Args:
        num_thresholds: int > 1, default 200.
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: default ``"auc"``.
        thresholds: optional list of thresholds in [0, 1].
        multi_label: must be False (NotImplementedError otherwise).
        num_labels, label_weights: accepted when not used (single-label AUC).
        from_logits: apply a sigmoid to the predictions first.

    Raises:
        ValueError: ``num_thresholds <= 1``, an unknown ``curve``/``summation_method``.
    """
    default_name = "auc"
    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in ("ROC", "roc", "PR", "pr"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             '["PR", "ROC"] (fastrnn has no "PRGAIN")')
        if summation_method not in ("interpolation", "Interpolation", "majoring",
                                    "Majoring", "minoring", "Minoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        if multi_label:
            raise NotImplementedError("fastrnn's AUC supports multi_label=False only.")
        if label_weights is not None:
            raise NotImplementedError("fastrnn's AUC does not support `label_weights`.")
        self.init_thresholds = thresholds
        if thresholds is not None:
            inner = sorted(_check_thresholds(thresholds).tolist())
            self.num_thresholds = len(inner) + 2
            self._evenly = _is_evenly_distributed([0.0] + inner + [1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(
                    num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        self.multi_label = False
        self.num_labels = num_labels
        self._from_logits = bool(from_logits)
        super().__init__(name=name)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        n = self.num_thresholds
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.true_negatives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate a batch: 0/1 labels and scores of the same shape."""
        if self._from_logits:
            y_pred = _losses.base._sigmoid(np.asarray(y_pred, dtype=np.float32))
        labels, preds, w = _prepare(self.name, y_true, y_pred, sample_weight)
        if self._evenly:
            tp, fp, tn, fn = _confusion_bucketed(labels, preds, w, self.num_thresholds)
        else:
            tp, fp, tn, fn = _confusion(labels, preds, w, self._thresholds)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where((p[:-1] > 0) & (p[1:] > 0),
                                _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return float(np.sum(_divide_no_nan(
            prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
            np.maximum(tp[1:] + fn[1:], 0))))

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self):
        config = {"name": self.name, "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": False, "num_labels": self.num_labels,
                  "label_weights": None, "from_logits": self._from_logits}
        if self.init_thresholds is not None:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _is_evenly_distributed(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_EPSILON))
