"""Findings: a likely cause of prediction errors, with the numbers behind it.

The code registry mirrors ../shared/SPEC.md. Codes are stable identifiers (like a linter's rule
codes) that users filter and gate on, so a check may only emit a code listed here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


CODES: dict[str, str] = {
    "data.too_few_samples": "too little training data for the task and the model's size",
    "data.class_imbalance": "a class is rare in the training (or test) data",
    "data.feature_scale": "input features on very different scales, unnormalised, with no normalisation layer in the model",
    "data.outliers": "extreme values in a share of rows or features",
    "data.missing_values": "NaN / inf in inputs (or in the model's outputs)",
    "data.label_noise": "a notable share of training labels look wrong",
    "data.duplicates": "duplicated rows, or identical inputs with conflicting labels",
    "data.weak_segment": "a subgroup of rows where the error is much worse than overall",
    "data.drift": "the test data's distribution differs from the training data's",
    "leakage.train_test_overlap": "test rows also present in the training data",
    "leakage.temporal": "time order violated: training rows later than test rows, or overlapping windows",
    "leakage.target": "a feature that gives the target away",
    "model.saturating_activation": "sigmoid / tanh hidden layers that saturate in a deep network",
    "model.vanishing_gradients": "measured gradients of early layers orders of magnitude below later ones",
    "model.exploding_gradients": "huge or non-finite gradients / weights",
    "model.dead_units": "a large share of ReLU units that never activate",
    "model.output_loss_mismatch": "output activation or width that does not fit the loss or the task",
    "model.capacity": "a model far too large for the data, or too small for the problem",
    "training.overfitting": "validation loss rising while training loss falls; a growing gap",
    "training.underfitting": "training loss stays high: the model does not fit even the training data",
    "training.unstable": "loss diverging, oscillating or turning NaN (learning rate too high, batch too small)",
    "training.slow_convergence": "loss barely moving or still falling steadily at the end (learning rate too low, too few epochs)",
    "evaluation.misleading_metric": "a headline metric (e.g. accuracy) that hides poor results on a class",
    "evaluation.below_baseline": "no better than a trivial baseline (majority class, mean, last value)",
    "evaluation.miscalibration": "predicted probabilities far from observed frequencies",
    "evaluation.threshold": "the decision threshold is far from the best one for the reported metric",
    "evaluation.unstable_cv": "scores vary widely across cross-validation folds",
}


@dataclass
class Finding:
    """One diagnosed cause. `evidence` holds plain JSON numbers/strings that triggered it.

    `impact` (0..1, optional) estimates how much of the model's error this cause explains; it
    ranks findings of equal severity. `figure` is optional SVG text shown with the finding in
    HTML/PDF; it is not part of report.json.
    """

    code: str
    severity: Severity
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)
    recommendation: str = ""
    impact: float | None = None
    figure: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; add it to findings.CODES and SPEC.md")
        self.severity = Severity(self.severity)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "code": self.code,
            "severity": self.severity.value,
            "title": self.title,
            "evidence": self.evidence,
            "recommendation": self.recommendation,
        }
        if self.impact is not None:
            out["impact"] = round(float(self.impact), 4)
        return out


# Causes before the symptoms they produce: a model with unscaled inputs also underfits and
# scores below baseline, and the reader needs the scaling named first. Lower tier = earlier.
# Data, leakage and a wrong output/loss pairing are root causes; a diverging optimiser (too high
# a learning rate) comes next because it in turn explodes gradients and kills ReLU units; then
# the other model-internal findings, the remaining training dynamics, weak segments, and last the
# evaluation symptoms.
CAUSE_TIER: dict[str, int] = {"leakage": 0, "data": 0, "model": 2, "training": 3, "evaluation": 5}
TIER_OVERRIDES: dict[str, int] = {
    "model.output_loss_mismatch": 0,
    "training.unstable": 1,
    "data.weak_segment": 4,
    "evaluation.unstable_cv": 4,
}


def cause_tier(code: str) -> int:
    return TIER_OVERRIDES.get(code, CAUSE_TIER.get(code.split(".", 1)[0], 3))


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """Claimed causes (warning/critical) first, infos last.

    Among claims: by CAUSE_TIER (root causes before the symptoms they produce); then the more severe, then the larger share of error
    explained (`impact`); code and title break ties so the order is deterministic.
    """
    def key(f: Finding):
        claimed = f.severity is not Severity.INFO
        return (0 if claimed else 1, cause_tier(f.code) if claimed else 0, -f.severity.rank,
                -(f.impact or 0.0), f.code, f.title)

    return sorted(findings, key=key)
