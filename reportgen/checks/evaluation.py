"""evaluation.* checks: is the headline number honest, and is the model better than trivial?

Each threshold is relative (to a baseline, to what sampling noise alone would produce) so the
same rule holds for small and large test sets.
"""
from __future__ import annotations

import numpy as np

from ..findings import Finding, Severity

MIN_CLASS_SUPPORT = 10


def _r(x, nd=4):
    return None if x is None else round(float(x), nd)


def check_misleading_metric(ctx) -> list[Finding]:
    """Accuracy that looks good while one class is mostly missed."""
    if not ctx.is_classification or len(ctx.test_y) == 0:
        return []
    m = ctx.test_metrics
    acc, bal = m.values.get("accuracy"), m.values.get("balanced_accuracy")
    if acc is None or bal is None:
        return []
    worst = None
    for label, pc in m.per_class.items():
        if (pc.get("support") or 0) >= MIN_CLASS_SUPPORT and pc.get("recall") is not None:
            if worst is None or pc["recall"] < worst[1]:
                worst = (label, pc["recall"], pc["support"])
    if worst is None:
        return []
    label, recall, support = worst
    gap = acc - bal
    if not (recall < 0.5 and gap >= 0.1 and acc >= 0.6):
        return []
    sev = Severity.CRITICAL if recall < 0.2 and acc >= 0.8 else Severity.WARNING
    return [Finding(
        "evaluation.misleading_metric", sev,
        f"Accuracy {acc:.1%} hides that class {label!s} is recognised in only {recall:.0%} of its rows",
        {"accuracy": _r(acc), "balanced_accuracy": _r(bal), "class": str(label), "class_recall": _r(recall),
         "class_support": int(support)},
        "Report balanced accuracy, per-class recall or macro F1 instead of accuracy, and fix the weak class "
        "(class weights, resampling, more data for it, or a tuned decision threshold).",
        impact=float(min(1.0, gap * 2)),
    )]


def _prior_log_loss(y: np.ndarray, k: int) -> float:
    p = np.bincount(y, minlength=k) / max(len(y), 1)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def check_below_baseline(ctx) -> list[Finding]:
    """No better than predicting the majority class / the mean / the last value."""
    y = ctx.test_y
    if len(y) < 10:
        return []
    m = ctx.test_metrics.values
    if ctx.is_classification:
        k = len(ctx.labels)
        counts = np.bincount(y, minlength=k)
        majority_acc = counts.max() / len(y)
        acc, bal, auc = m.get("accuracy"), m.get("balanced_accuracy"), m.get("roc_auc")
        if acc is None:
            return []
        no_better_acc = acc <= majority_acc + 0.005 and (bal is None or bal <= 1.0 / k + 0.05)
        random_ranking = auc is not None and auc <= 0.55
        if not (no_better_acc or random_ranking):
            return []
        sev = Severity.CRITICAL if (no_better_acc and (auc is None or auc <= 0.6)) else Severity.WARNING
        ev = {"accuracy": _r(acc), "majority_class_accuracy": _r(majority_acc), "balanced_accuracy": _r(bal),
              "chance_balanced_accuracy": _r(1.0 / k), "roc_auc": _r(auc),
              "log_loss": _r(m.get("log_loss")), "prior_log_loss": _r(_prior_log_loss(y, k))}
        what = "always predicting the majority class" if no_better_acc else "random ranking (ROC AUC about 0.5)"
        return [Finding("evaluation.below_baseline", sev,
                        f"The model is no better than {what}", ev,
                        "Check that the inputs carry signal and reach the model (scaling, feature order, "
                        "labels aligned with rows), and that training converged; see the other findings for the cause.",
                        impact=1.0)]
    # regression / forecast
    from .. import metrics as M

    mae = m.get("mae")
    if mae is None:
        return []
    findings = []
    if ctx.task == "forecast" and m.get("mase") is not None:
        mase = m["mase"]
        if mase >= 1.0:
            sev = Severity.CRITICAL if mase >= 1.25 else Severity.WARNING
            findings.append(Finding(
                "evaluation.below_baseline", sev,
                f"The forecast is worse than repeating the last value (MASE {mase:.2f})",
                {"mase": _r(mase), "mae": _r(mae), "naive_mae": _r(m.get("naive_mae"))},
                "A model must beat the naive last-value forecast to be useful: check the window/lag features, "
                "scale the series (or model differences), and compare against seasonal-naive too.",
                impact=1.0))
            return findings
    base = float(np.mean(ctx.y_train)) if ctx.has_train else float(np.mean(y))
    base_mae = float(np.mean(np.abs(y - base)))
    if base_mae > 0 and mae >= 0.98 * base_mae:
        ratio = mae / base_mae
        findings.append(Finding(
            "evaluation.below_baseline", Severity.CRITICAL if ratio >= 1.1 else Severity.WARNING,
            f"Errors are as large as predicting the {'training' if ctx.has_train else 'test'} mean for every row",
            {"mae": _r(mae), "mean_baseline_mae": _r(base_mae), "ratio": _r(ratio), "r2": _r(m.get("r2")),
             "baseline": "training mean" if ctx.has_train else "test mean"},
            "The model has learned no usable signal: check input scaling, the target's scale (standardise it), "
            "the learning rate and whether training converged.",
            impact=1.0))
    return findings


def _ece_null_quantile(prob: np.ndarray, n_bins: int, q: float, rng: np.random.Generator, reps: int = 60) -> float:
    """ECE a perfectly calibrated model would show on this many rows, by simulation."""
    from .. import metrics as M

    vals = [M.expected_calibration_error((rng.random(len(prob)) < prob).astype(np.int64), prob, n_bins) for _ in range(reps)]
    return float(np.quantile(vals, q))


def check_miscalibration(ctx) -> list[Finding]:
    """Probabilities far from observed frequencies, beyond what sampling noise explains."""
    if not ctx.is_classification or len(ctx.test_y) < 100:
        return []
    from .. import metrics as M

    y, s = ctx.test_y, ctx.test_scores
    idx = ctx.sample_indices(len(y), max_rows=50_000, seed_offset=11)
    y, s = y[idx], s[idx]
    if ctx.task == "binary":
        conf, correct, kind = s, y, "probability of class " + ctx.labels[1]
    else:
        conf = s.max(axis=1)
        correct = (np.argmax(s, axis=1) == y).astype(np.int64)
        kind = "top-class confidence"
    n_bins = 15 if len(y) >= 1500 else 10
    ece = M.expected_calibration_error(correct, conf, n_bins)
    null_q = _ece_null_quantile(conf, n_bins, 0.99, np.random.default_rng(ctx.seed + 3))
    threshold = max(0.05, 1.5 * null_q)
    if ece <= threshold:
        return []
    mean_conf, obs = float(np.mean(conf)), float(np.mean(correct))
    direction = "overconfident" if mean_conf > obs + 0.02 else ("underconfident" if mean_conf < obs - 0.02 else "miscalibrated")
    sev = Severity.CRITICAL if ece > max(0.2, 3 * null_q) else Severity.WARNING
    return [Finding(
        "evaluation.miscalibration", sev,
        f"Predicted probabilities are {direction}: expected calibration error {ece:.3f}",
        {"ece": _r(ece), "ece_expected_if_calibrated_p99": _r(null_q), "bins": n_bins, "measured_on": kind,
         "mean_predicted": _r(mean_conf), "observed_frequency": _r(obs), "rows": int(len(y))},
        "Calibrate on held-out data (temperature or Platt scaling, isotonic regression), and check for "
        "overfitting or class re-weighting, which distort probabilities.",
        impact=float(min(1.0, ece)),
    )]


def check_threshold(ctx) -> list[Finding]:
    """The 0.5 threshold loses a lot of F1 compared with the best threshold (binary)."""
    if ctx.task != "binary":
        return []
    from .. import metrics as M

    y, s = ctx.test_y, ctx.test_scores
    n_pos = int(y.sum())
    if n_pos < 30 or len(y) - n_pos < 30:
        return []
    sweep = M.threshold_sweep(y, s)
    f1 = np.asarray(sweep["f1"])
    t = np.asarray(sweep["thresholds"])
    i_best = int(np.nanargmax(f1))
    i_cur = int(np.argmin(np.abs(t - 0.5)))
    gain = float(f1[i_best] - f1[i_cur])
    # relative: at least 0.05 F1 and 10% of the current F1; far from 0.5
    if gain < 0.05 or gain < 0.1 * max(f1[i_cur], 1e-9) or abs(t[i_best] - 0.5) < 0.1:
        return []
    return [Finding(
        "evaluation.threshold", Severity.WARNING,
        f"A decision threshold of {t[i_best]:.2f} instead of 0.5 would raise F1 from {f1[i_cur]:.3f} to {f1[i_best]:.3f}",
        {"current_threshold": 0.5, "best_threshold": _r(t[i_best], 3), "f1_at_current": _r(f1[i_cur]),
         "f1_at_best": _r(f1[i_best]), "gain": _r(gain)},
        "Choose the threshold on validation data for the metric you report (never on the test set), or "
        "fix the cause that shifted the scores (class imbalance, re-weighting, miscalibration).",
        impact=float(min(1.0, gain * 2)),
    )]
