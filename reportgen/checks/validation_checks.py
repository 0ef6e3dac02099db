"""Cross-validation checks and the "Cross-validation" report section.

Both read `ctx.cache["cv"]`, written by `reportgen.validation.cross_validate` (run by audit()
before the checks when --cv is given); without it they do nothing.

evaluation.unstable_cv compares the spread of the headline metric over the folds with the
spread that sampling noise alone would give folds of that size: each fold's standard error
comes from its own per-row errors (0/1 misclassification for accuracy, absolute error for MAE),
so the rule is relative and holds for small and large data sets. A spread must also be large in
plain terms (accuracy points, or relative to the mean error) before it is claimed.

The comparison of the test score with the CV mean (metrics.cv.test_vs_cv, computed by
cross_validate) is context for the reader, said in the section, not a claimed cause.
"""
from __future__ import annotations

import math

import numpy as np

from ..findings import Finding, Severity
from ..report import FigureBlock, Section, Table

# A spread this many times the sampling-noise spread is beyond chance even with 3 folds
# (the 99.9th percentile of s / sigma with 2 degrees of freedom is about 2.6).
NOISE_RATIO_WARNING = 3.0
NOISE_RATIO_CRITICAL = 6.0
# ... and large in plain terms: accuracy points, or a share of the mean error.
MIN_STD_ACCURACY = 0.025
MIN_RANGE_ACCURACY = 0.06
MIN_REL_STD_ERROR = 0.10
MIN_REL_RANGE_ERROR = 0.25
CRITICAL_RANGE_ACCURACY = 0.2
CRITICAL_REL_RANGE_ERROR = 1.0

HEADLINE_TABLE = {
    "binary": ["accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"],
    "multiclass": ["accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"],
    "regression": ["mae", "rmse", "r2"],
    "forecast": ["mae", "rmse", "mase"],
}


def _r(x, nd=4):
    return None if x is None else round(float(x), nd)


def spread(cv: dict) -> dict | None:
    """Spread of the headline metric over the folds against the sampling-noise spread."""
    name = cv.get("headline")
    vals = [f.get(name) for f in cv.get("folds", [])]
    ses = [s.get("headline_se") for s in cv.get("splits", [])]
    fin = np.array([v for v in vals if v is not None], dtype=float)
    if name is None or fin.size < 2:
        return None
    std = float(fin.std(ddof=1))
    mean = float(fin.mean())
    se = np.array([s for s in ses if s is not None and math.isfinite(s)], dtype=float)
    expected = float(np.sqrt(np.mean(se ** 2))) if se.size else None
    ratio = std / expected if expected else (math.inf if std > 0 else 0.0)
    return {"metric": name, "mean": mean, "std": std, "min": float(fin.min()), "max": float(fin.max()),
            "range": float(fin.max() - fin.min()), "expected_std_from_sampling": expected, "noise_ratio": ratio,
            "folds_undefined": int(sum(v is None for v in vals))}


def check_unstable_cv(ctx) -> list[Finding]:
    """Scores vary across the folds far more than the fold size explains."""
    cv = ctx.cache.get("cv")
    if not cv:
        return []
    sp = spread(cv)
    diverged = [i + 1 for i, s in enumerate(cv.get("splits", [])) if s.get("nonfinite_outputs")]
    if sp is None and not diverged:
        return []
    accuracy_like = sp is not None and sp["metric"] in ("accuracy", "balanced_accuracy")
    big = critical_size = False
    if sp is not None:
        if accuracy_like:
            big = sp["std"] >= MIN_STD_ACCURACY and sp["range"] >= MIN_RANGE_ACCURACY
            critical_size = sp["range"] >= CRITICAL_RANGE_ACCURACY
        else:
            scale = abs(sp["mean"]) or 1e-12
            big = sp["std"] / scale >= MIN_REL_STD_ERROR and sp["range"] / scale >= MIN_REL_RANGE_ERROR
            critical_size = sp["range"] / scale >= CRITICAL_REL_RANGE_ERROR
    noisy = sp is not None and sp["noise_ratio"] >= NOISE_RATIO_WARNING
    if not ((noisy and big) or diverged):
        return []
    sev = Severity.WARNING
    if diverged or (sp["noise_ratio"] >= NOISE_RATIO_CRITICAL and critical_size):
        sev = Severity.CRITICAL
    ev = {"folds": cv.get("k"), "split": cv.get("kind"), "epochs": cv.get("epochs")}
    if sp is not None:
        ev.update({"metric": sp["metric"], "fold_scores": [_r(f.get(sp["metric"])) for f in cv["folds"]],
                   "mean": _r(sp["mean"]), "std": _r(sp["std"]), "range": _r(sp["range"]),
                   "expected_std_from_sampling": _r(sp["expected_std_from_sampling"]),
                   "std_over_expected": _r(sp["noise_ratio"], 2)})
    if diverged:
        ev["diverged_folds"] = diverged
    if sp is not None:
        title = (f"{sp['metric'].replace('_', ' ').capitalize()} varies from {sp['min']:.3g} to {sp['max']:.3g} "
                 f"across {cv['k']} cross-validation folds"
                 + (f", {sp['noise_ratio']:.1f}x the spread sampling noise explains" if math.isfinite(sp["noise_ratio"]) else ""))
    else:
        title = f"Training diverged in cross-validation fold(s) {', '.join(map(str, diverged))}"
    if diverged and sp is not None:
        title += f"; training diverged in fold(s) {', '.join(map(str, diverged))}"
    rec = ("The single test score is not a reliable estimate: report the CV mean and spread. Make training "
           "less sensitive to the data and the initial weights (lower learning rate, more epochs or early "
           "stopping on a validation split, regularisation, more data); look at the weakest fold's rows for a "
           "subgroup the model fails on.")
    if cv.get("kind") == "time":
        rec += (" With time-ordered folds a trend in the fold scores can also mean the series changes over time "
                "(the early folds train on less history): retrain regularly and validate on the most recent period.")
    return [Finding("evaluation.unstable_cv", sev, title, ev, rec,
                    impact=float(min(1.0, (sp["range"] / (abs(sp["mean"]) or 1.0)) if sp else 1.0)))]


def _comparison_text(cmp: dict) -> str:
    name = cmp["metric"].replace("_", " ")
    base = (f"The test-set {name} ({cmp['test']:.4g}) against the cross-validation mean "
            f"({cmp['cv_mean']:.4g} \u00b1 {cmp['cv_std'] or 0:.2g}): ")
    if cmp["verdict"] == "consistent":
        return base + ("consistent: within two standard deviations (fold spread and the test set's own "
                       "sampling noise together).")
    if cmp["verdict"] == "lucky":
        return base + ("the test score looks lucky: it is better than the cross-validation folds suggest, by more "
                       "than two standard deviations. Expect worse results on new data, and check that the test "
                       "set is not easier than (or overlapping with) the data the model will meet.")
    return base + ("the test score is worse than the cross-validation folds suggest, by more than two standard "
                   "deviations: the test data may differ from the training data (drift), or the final training "
                   "run was unlucky.")


def _describe_split(cv: dict) -> str:
    k = cv["k"]
    if cv["kind"] == "stratified":
        what = f"{k}-fold stratified cross-validation (shuffled with seed {cv['seed']}, class shares kept in every fold)"
    elif cv["kind"] == "kfold":
        what = f"{k}-fold cross-validation (shuffled with seed {cv['seed']})"
    else:
        unit = cv.get("range_unit") or "row"
        what = (f"{k} time-ordered expanding-window folds (rows sorted by "
                + ("file order" if unit == "row" else f"'{unit}'")
                + "; each fold trains on everything before its test period, never shuffled"
                + (f", with a gap of {cv['gap']} rows, the model's input window, so no training window overlaps "
                   "the test rows" if cv.get("gap") else "") + ")")
    return (f"{what}: each fold retrains a fresh copy of the model (same architecture, new initial weights, "
            f"{cv.get('optimizer', 'the same')} optimizer with the compiled settings, loss {cv.get('loss')}) for "
            f"{cv['epochs']} epochs (from {cv.get('epochs_from', 'the settings')}) at batch size {cv['batch_size']}, "
            f"and scores it on the fold's held-out rows. Standard deviations are over folds (ddof=1). "
            f"{cv.get('jobs', 1)} worker process(es), {cv.get('seconds', 0):.0f} s.")


def build_section(ctx) -> Section | None:
    cv = ctx.cache.get("cv")
    if not cv:
        return None
    from ..figures.validation import fold_scores_svg, split_diagram_svg

    sec = Section("cross_validation", "Cross-validation")
    sec.paragraphs.append(_describe_split(cv))
    cmp = cv.get("test_vs_cv")
    if cmp is not None:
        sec.paragraphs.append(_comparison_text(cmp))
        sec.paragraphs.append("The model under audit trained on all the training rows, the fold models on "
                              f"{(cv['k'] - 1) / cv['k']:.0%} of them or less, so its test score may be slightly better.")
    sp = spread(cv)
    if sp is not None and sp["expected_std_from_sampling"]:
        sec.paragraphs.append(
            f"Fold-to-fold standard deviation of {sp['metric'].replace('_', ' ')}: {sp['std']:.3g}; sampling noise "
            f"alone would give about {sp['expected_std_from_sampling']:.3g} for folds of this size "
            f"({sp['noise_ratio']:.1f}x).")
    for note in cv.get("notes", []):
        sec.paragraphs.append(note)

    names = [m for m in HEADLINE_TABLE[ctx.task] if any(f.get(m) is not None for f in cv["folds"])]
    time_kind = cv["kind"] == "time"
    cols = ["fold", "train rows", "test rows"] + (["train period", "test period"] if time_kind else []) + names
    rows = []
    for i, (f, s) in enumerate(zip(cv["folds"], cv["splits"])):
        row = [str(i + 1), s["train_rows"], s["test_rows"]]
        if time_kind:
            row += [_period(s["train_range"]), _period(s["test_range"])]
        rows.append(row + [f.get(m) for m in names])
    pad = [""] * (2 + (2 if time_kind else 0))
    rows.append(["mean"] + pad + [cv["mean"].get(m) for m in names])
    rows.append(["std"] + pad + [cv["std"].get(m) for m in names])
    test_vals = {m: ctx.test_metrics.values.get(m) for m in names}
    rows.append(["test set"] + pad + [test_vals[m] for m in names])
    sec.tables.append(Table("Scores per fold", cols, rows,
                            "Each fold's metrics on its held-out rows; the last row is the audited model on the test set."))
    shown = names[:3]
    sec.figures.append(FigureBlock("cv_fold_scores", "Scores per fold", fold_scores_svg(cv["folds"], shown, test_vals),
                                   "Dots: folds; grey band: CV mean \u00b1 1 standard deviation; dashed: the test-set score."))
    if time_kind:
        tr, te = _ranges(cv)
        sec.figures.append(FigureBlock(
            "cv_split_diagram", "Periods each fold trained and tested on",
            split_diagram_svg(tr, te, unit=cv.get("range_unit") or "row", gap=cv.get("gap", 0)),
            "Blue: training period; orange: test period" + ("; grey: the gap left out between them." if cv.get("gap") else ".")))
    return sec


def _period(rng) -> str:
    """'first – last' for the fold table; midnight timestamps shown as dates."""
    def short(v):
        text = str(v)
        return text[:-9] if text.endswith("T00:00:00") else text.replace("T", " ")

    return f"{short(rng[0])} \u2013 {short(rng[1])}"


def _ranges(cv: dict):
    def conv(v):
        if isinstance(v, str):
            return np.datetime64(v.replace("+00:00", ""), "ns")
        return v

    tr = [tuple(conv(v) for v in s["train_range"]) for s in cv["splits"]]
    te = [tuple(conv(v) for v in s["test_range"]) for s in cv["splits"]]
    return tr, te


CHECKS = [check_unstable_cv]
