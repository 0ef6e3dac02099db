"""Classification metrics with scikit-learn's definitions, in numpy only.

Conventions, chosen to match what users compare against:
- Binary predictions are `p1 > threshold`, like Keras' BinaryAccuracy (a score exactly at the
  threshold is negative).
- Multiclass predictions are the argmax of each row (first column on ties), like Keras.
- Precision / recall / F1 use scikit-learn's zero_division=0: a class never predicted has
  precision 0. The value is then a convention rather than a measurement, so `undefined` says so.
- Macro averages run over the classes present in y_true or in the predictions (scikit-learn's
  default label set); balanced accuracy over the classes present in y_true.
- ROC AUC gives tied scores half credit (the area under the ROC curve through the tied points,
  as scikit-learn); average precision is scikit-learn's step-wise sum over distinct thresholds.
- Log loss clips probabilities to [1e-15, 1 - 1e-15] and renormalises multiclass rows, so a
  softmax rounded to float32 or a hard 0 does not give inf.
"""
from __future__ import annotations

import numpy as np

from . import MetricSet, as_float
from .bootstrap import bootstrap_intervals

EPS = 1e-15
HEADLINE = ["accuracy", "balanced_accuracy", "f1", "roc_auc"]
BINARY_KEYS = [
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
    "log_loss", "brier", "f1_macro", "f1_weighted", "precision_macro", "recall_macro",
    "precision_weighted", "recall_weighted", "mcc", "prevalence", "n",
]
MULTICLASS_KEYS = [
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "precision_weighted",
    "recall_weighted", "f1_weighted", "precision_macro", "recall_macro", "f1_macro",
    "roc_auc", "pr_auc", "log_loss", "brier", "mcc", "n",
]
ZERO_DIVISION = "reported as 0, like scikit-learn's zero_division=0"


# ---------------------------------------------------------------------------------------------
# Public functions


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class): rows = true, columns = predicted."""
    y_true = _as_labels(y_true, n_classes, "y_true")
    y_pred = _as_labels(y_pred, n_classes, "y_pred")
    _same_length(y_true, y_pred)
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def binary_metrics(
    y_true: np.ndarray,
    p1: np.ndarray,
    labels: list[str],
    threshold: float = 0.5,
    *,
    ci: bool = True,
    n_boot: int = 200,
    seed: int = 0,
) -> MetricSet:
    """Metrics of a binary classifier from y_true (0/1) and p1, the probability of class 1.

    precision / recall / f1 are those of class 1; the *_macro / *_weighted ones average both
    classes. `intervals` holds bootstrap 95% CIs of accuracy, balanced_accuracy, f1, roc_auc.
    """
    if len(labels) != 2:
        raise ValueError(f"binary_metrics needs 2 labels, got {len(labels)}")
    y = _as_labels(y_true, 2, "y_true").astype(bool)
    p = np.asarray(p1, dtype=np.float64).ravel()
    _same_length(y, p)
    if len(y) == 0:
        return _empty(BINARY_KEYS, labels)
    pred = p > threshold
    cm = _binary_confusion(y, pred)
    undefined: dict[str, str] = {}
    values = _count_metrics(cm, labels, undefined)
    values.update(_class1_metrics(cm, threshold, undefined))
    values.update(_binary_ranking_metrics(_Ranking(y, p), undefined))
    values["log_loss"] = _binary_log_loss(y, p)
    values["brier"] = float(np.mean(np.square(p - y)))
    values["prevalence"] = float(np.count_nonzero(y) / len(y))
    values["n"] = int(len(y))
    values = {k: as_float(values.get(k)) for k in BINARY_KEYS}
    intervals = {}
    if ci:
        intervals = bootstrap_intervals(
            _binary_headline, (y, pred, p), HEADLINE, n_boot, seed,
            point=values, prepare=_binary_prepare,
        )
    return MetricSet(values, _per_class(cm, labels), undefined, cm.tolist(), intervals)


def multiclass_metrics(
    y_true: np.ndarray,
    proba: np.ndarray,
    labels: list[str],
    *,
    ci: bool = True,
    n_boot: int = 200,
    seed: int = 0,
) -> MetricSet:
    """Metrics of a K-class classifier from y_true (0..K-1) and proba of shape (n, K).

    precision / recall / f1 are macro averages (also under *_macro), with *_weighted too;
    roc_auc and pr_auc are macro one-vs-rest averages over the classes present in y_true;
    brier is the mean over rows of the sum over classes of (p - onehot)^2.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(labels) or len(labels) < 2:
        raise ValueError(f"proba must have shape (n, {len(labels)}), got {proba.shape}")
    k = len(labels)
    y = _as_labels(y_true, k, "y_true")
    _same_length(y, proba)
    if len(y) == 0:
        return _empty(MULTICLASS_KEYS, labels)
    pred = np.argmax(proba, axis=1)
    cm = confusion_matrix(y, pred, k)
    undefined: dict[str, str] = {}
    values = _count_metrics(cm, labels, undefined)
    for name in ("precision", "recall", "f1"):
        values[name] = values[f"{name}_macro"]
    columns = np.ascontiguousarray(proba.T)  # argsort of a strided column is slower
    rankings = [_Ranking(y == c, columns[c]) for c in range(k)]
    values.update(_ovr_ranking_metrics(rankings, labels, undefined))
    values["log_loss"] = _multiclass_log_loss(y, proba)
    values["brier"] = _multiclass_brier(y, proba)
    values["n"] = int(len(y))
    values = {key: as_float(values.get(key)) for key in MULTICLASS_KEYS}
    intervals = {}
    if ci:
        intervals = bootstrap_intervals(
            _multiclass_headline, (y, pred, proba), HEADLINE, n_boot, seed,
            point=values, prepare=_multiclass_prepare,
        )
    return MetricSet(values, _per_class(cm, labels), undefined, cm.tolist(), intervals)


def threshold_sweep(y_true, p1, n: int = 201) -> dict[str, np.ndarray]:
    """Precision, recall, F1 (of class 1), accuracy, balanced accuracy at n thresholds in [0, 1].

    Predictions are `p1 > t`, as in binary_metrics. Undefined ratios (no predicted positives,
    no positives) are 0, as scikit-learn's zero_division=0. Cost: two sorts, not n passes.
    """
    y = _as_labels(y_true, 2, "y_true").astype(bool)
    p = np.asarray(p1, dtype=np.float64).ravel()
    _same_length(y, p)
    thresholds = np.linspace(0.0, 1.0, n)
    n_pos, n_neg = int(np.count_nonzero(y)), int(len(y) - np.count_nonzero(y))
    # Rows with p <= t are predicted negative.
    fn = np.searchsorted(np.sort(p[y]), thresholds, side="right")
    tn = np.searchsorted(np.sort(p[~y]), thresholds, side="right")
    tp, fp = n_pos - fn, n_neg - tn
    recall_pos, recall_neg = _ratio(tp, n_pos), _ratio(tn, n_neg)
    present = (n_pos > 0) + (n_neg > 0)
    return {
        "thresholds": thresholds,
        "precision": _ratio(tp, tp + fp),
        "recall": recall_pos,
        "f1": _ratio(2 * tp, tp + fp + n_pos),
        "accuracy": _ratio(tp + tn, len(y)),
        "balanced_accuracy": (recall_pos + recall_neg) / max(present, 1),
    }


# ---------------------------------------------------------------------------------------------
# Input handling


def _as_labels(y, n_classes: int, name: str) -> np.ndarray:
    """Class indices as int64, checked to lie in 0..n_classes-1 (else the counts would be wrong)."""
    y = np.asarray(y).ravel()
    if y.dtype != np.int64:
        y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"{name} must hold class indices 0..{n_classes - 1}, found {y.min()}..{y.max()}"
        )
    return y


def _same_length(a: np.ndarray, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(f"arrays of different lengths: {len(a)} and {len(b)}")


def _empty(keys: list[str], labels: list[str]) -> MetricSet:
    """The MetricSet of zero rows: everything None, nothing to resample."""
    k = len(labels)
    per_class = {lab: {"precision": None, "recall": None, "f1": None, "support": 0} for lab in labels}
    return MetricSet(
        values={key: None for key in keys},
        per_class=per_class,
        undefined={key: "no rows to evaluate" for key in keys},
        confusion=[[0] * k for _ in range(k)],
    )


def _ratio(num, den) -> np.ndarray:
    """num / den elementwise, 0 where den == 0 (scikit-learn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.broadcast_to(np.asarray(den, dtype=np.float64), num.shape)
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


# ---------------------------------------------------------------------------------------------
# Counting metrics (from the confusion matrix)


def _binary_confusion(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """2x2 confusion matrix from boolean arrays; count_nonzero is much faster than bincount."""
    n, n_pos, n_pred = len(y), np.count_nonzero(y), np.count_nonzero(pred)
    tp = np.count_nonzero(y & pred)
    fp, fn = n_pred - tp, n_pos - tp
    return np.array([[n - n_pos - fp, fp], [fn, tp]], dtype=np.int64)


def _class_scores(cm: np.ndarray):
    """Per-class precision, recall, F1 (zero_division=0), support and predicted counts."""
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision, recall = _ratio(tp, predicted), _ratio(tp, support)
    f1 = _ratio(2 * tp, predicted + support)
    return precision, recall, f1, support, predicted


def _count_metrics(cm: np.ndarray, labels: list[str], undefined: dict[str, str]) -> dict:
    """accuracy, balanced accuracy, macro / weighted P-R-F1 and MCC from a confusion matrix."""
    precision, recall, f1, support, predicted = _class_scores(cm)
    n = cm.sum()
    used = (support + predicted) > 0  # scikit-learn's default label set
    values = {
        "accuracy": np.trace(cm) / n,
        "balanced_accuracy": recall[support > 0].mean(),
        "mcc": _mcc(cm, undefined),
    }
    for name, arr in (("precision", precision), ("recall", recall), ("f1", f1)):
        values[f"{name}_macro"] = arr[used].mean()
        values[f"{name}_weighted"] = np.dot(arr, support) / n
    never = [labels[c] for c in np.flatnonzero((predicted == 0) & (support > 0))]
    if never and len(labels) > 2:
        undefined["precision"] = (
            f"class(es) never predicted: {', '.join(never)}; their precision is {ZERO_DIVISION}"
        )
    return values


def _mcc(cm: np.ndarray, undefined: dict[str, str]) -> float:
    """Matthews correlation, multiclass form (as scikit-learn); 0 when it is 0/0."""
    t, p = cm.sum(axis=1).astype(np.float64), cm.sum(axis=0).astype(np.float64)
    n, correct = t.sum(), float(np.trace(cm))
    cov_tp = correct * n - np.dot(t, p)
    cov_pp, cov_tt = n * n - np.dot(p, p), n * n - np.dot(t, t)
    if cov_pp * cov_tt == 0:
        undefined["mcc"] = f"0/0: a single class in y_true or in the predictions; {ZERO_DIVISION}"
        return 0.0
    return cov_tp / np.sqrt(cov_tt * cov_pp)


def _class1_metrics(cm: np.ndarray, threshold: float, undefined: dict[str, str]) -> dict:
    """precision, recall, F1 of class 1, with notes where zero_division=0 kicked in."""
    precision, recall, f1, support, predicted = _class_scores(cm)
    if predicted[1] == 0:
        undefined["precision"] = f"no predicted positives (p1 > {threshold:g}); {ZERO_DIVISION}"
    if support[1] == 0:
        undefined["recall"] = f"no positives in y_true; {ZERO_DIVISION}"
    return {"precision": precision[1], "recall": recall[1], "f1": f1[1]}


def _per_class(cm: np.ndarray, labels: list[str]) -> dict[str, dict[str, float | None]]:
    """label -> precision, recall, f1, support; None for a class neither present nor predicted."""
    precision, recall, f1, support, predicted = _class_scores(cm)
    out = {}
    for c, label in enumerate(labels):
        seen = support[c] + predicted[c] > 0
        out[label] = {
            "precision": float(precision[c]) if seen else None,
            "recall": float(recall[c]) if seen else None,
            "f1": float(f1[c]) if seen else None,
            "support": int(support[c]),
        }
    return out


# ---------------------------------------------------------------------------------------------
# Ranking metrics (ROC AUC, average precision)


class _Ranking:
    """One sort of the scores, reused for ROC AUC and average precision.

    pos / neg: positives and negatives in each run of tied scores, ascending.
    """

    def __init__(self, y: np.ndarray, score: np.ndarray):
        order = np.argsort(score)
        y_sorted, s_sorted = y[order], score[order]
        starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
        self.pos, self.neg = _run_counts(y_sorted, starts)

    @property
    def both_classes(self) -> bool:
        return bool(self.pos.sum() > 0 and self.neg.sum() > 0)

    def roc_auc(self) -> float | None:
        return _auc(self.pos, self.neg)

    def average_precision(self) -> float | None:
        return _average_precision(self.pos, self.neg)


def _run_counts(y_sorted: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positives and negatives in each run of tied scores (runs begin at `starts`)."""
    pos = np.add.reduceat(y_sorted.astype(np.int64), starts) if len(starts) else np.zeros(0, np.int64)
    size = np.diff(np.append(starts, len(y_sorted)))
    return pos, size - pos


def _auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """Mann-Whitney form of ROC AUC: P(score+ > score-) + 0.5 P(tie); None with one class."""
    n_pos, n_neg = float(pos.sum()), float(neg.sum())
    if n_pos == 0 or n_neg == 0:
        return None
    neg_below_plus_half_tied = np.cumsum(neg) - 0.5 * neg
    # (a * b).sum() rather than np.dot: a threaded BLAS dot stalls when the cores are busy
    return float((pos * neg_below_plus_half_tied).sum() / (n_pos * n_neg))


def _average_precision(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """sum over distinct thresholds (descending) of (R_k - R_k-1) * P_k, as scikit-learn."""
    n_pos = pos.sum()
    if n_pos == 0:
        return None
    pos_desc = pos[::-1]
    tp = np.cumsum(pos_desc)
    predicted = tp + np.cumsum(neg[::-1])
    return float((pos_desc * (tp / predicted)).sum() / n_pos)


def _rank_keys(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per row, 2 * (dense rank of its score) + label: small ints that keep score order and ties.

    Computed once on the rows the bootstrap draws from, so that each resample's ROC AUC is a
    bincount instead of a sort.
    """
    _, rank = np.unique(score, return_inverse=True)
    return 2 * rank.ravel().astype(np.int64) + y


def _auc_from_keys(key: np.ndarray) -> float | None:
    """ROC AUC from _rank_keys: counts of negatives / positives at each rank, then _auc."""
    counts = np.bincount(key)
    if len(counts) % 2:
        counts = np.append(counts, 0)
    return _auc(counts[1::2], counts[0::2])


def _binary_ranking_metrics(ranking: _Ranking, undefined: dict[str, str]) -> dict:
    if not ranking.both_classes:
        for name in ("roc_auc", "pr_auc"):
            undefined[name] = "only one class in y_true"
        return {"roc_auc": None, "pr_auc": None}
    return {"roc_auc": ranking.roc_auc(), "pr_auc": ranking.average_precision()}


def _ovr_ranking_metrics(rankings: list[_Ranking], labels: list[str], undefined: dict) -> dict:
    """Macro one-vs-rest ROC AUC and average precision over the classes present in y_true.

    A class absent from y_true has no positives, so its one-vs-rest AUC does not exist
    (scikit-learn raises); it is left out of the average and named in `undefined`.
    """
    usable = [c for c, r in enumerate(rankings) if r.both_classes]
    if not usable:
        for name in ("roc_auc", "pr_auc"):
            undefined[name] = "only one class in y_true"
        return {"roc_auc": None, "pr_auc": None}
    if len(usable) < len(labels):
        left_out = ", ".join(labels[c] for c in range(len(labels)) if c not in usable)
        note = f"macro average over {len(usable)} of {len(labels)} classes; not in y_true: {left_out}"
        undefined["roc_auc"] = undefined["pr_auc"] = note
    return {
        "roc_auc": float(np.mean([rankings[c].roc_auc() for c in usable])),
        "pr_auc": float(np.mean([rankings[c].average_precision() for c in usable])),
    }


# ---------------------------------------------------------------------------------------------
# Probabilistic losses


def _binary_log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """mean -log p(true class), p clipped to [1e-15, 1-1e-15] so a hard 0 or 1 stays finite."""
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(np.log(np.where(y, p, 1 - p))))


def _multiclass_log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Clip to [1e-15, 1-1e-15], renormalise rows, mean -log p(true class).

    This is scikit-learn's definition before 1.5; later versions clip at float eps and only
    warn on rows not summing to 1. Both agree for rows that sum to 1 within [1e-15, 1-1e-15];
    renormalising makes a float32 softmax (rows summing to 1 +- 1e-7) exact again.
    """
    clipped = np.clip(proba, EPS, 1 - EPS)
    p_true = clipped[np.arange(len(y)), y] / clipped.sum(axis=1)
    return float(-np.mean(np.log(p_true)))


def _multiclass_brier(y: np.ndarray, proba: np.ndarray) -> float:
    """mean over rows of sum_c (p_c - onehot_c)^2 = sum p^2 - 2 p_true + 1, without a one-hot."""
    p_true = proba[np.arange(len(y)), y]
    return float(np.mean(np.einsum("ij,ij->i", proba, proba) - 2 * p_true + 1))


# ---------------------------------------------------------------------------------------------
# Bootstrap replicates (headline metrics only, on resampled rows)


def _binary_prepare(y: np.ndarray, pred: np.ndarray, p: np.ndarray) -> tuple:
    return y, pred, _rank_keys(y, p)


def _multiclass_prepare(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> tuple:
    keys = np.stack([_rank_keys(y == c, proba[:, c]) for c in range(proba.shape[1])], axis=1)
    return y, pred, keys


def _binary_headline(y: np.ndarray, pred: np.ndarray, key: np.ndarray) -> dict:
    cm = _binary_confusion(y, pred)
    precision, recall, f1, support, _ = _class_scores(cm)
    return {
        "accuracy": np.trace(cm) / len(y),
        "balanced_accuracy": recall[support > 0].mean(),
        "f1": f1[1],
        "roc_auc": _auc_from_keys(key),
    }


def _multiclass_headline(y: np.ndarray, pred: np.ndarray, keys: np.ndarray) -> dict:
    k = keys.shape[1]
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    precision, recall, f1, support, predicted = _class_scores(cm)
    aucs = [a for a in (_auc_from_keys(keys[:, c]) for c in range(k)) if a is not None]
    return {
        "accuracy": np.trace(cm) / len(y),
        "balanced_accuracy": recall[support > 0].mean(),
        "f1": f1[(support + predicted) > 0].mean(),
        "roc_auc": float(np.mean(aucs)) if aucs else None,
    }
