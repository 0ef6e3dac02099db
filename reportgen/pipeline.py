"""audit(): inputs -> context -> analyses -> Report. The CLI and the Keras callback call this."""
from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import Any, Callable

from . import __version__
from .findings import Severity

HEADLINES = {
    "binary": ["accuracy", "balanced_accuracy", "f1", "roc_auc"],
    "multiclass": ["accuracy", "balanced_accuracy", "f1", "roc_auc"],
    "regression": ["mae", "rmse", "r2"],
    "forecast": ["mae", "rmse", "mase"],
}


def audit(
    *,
    test: Any,
    target: str,
    model: Any = None,
    predictions: Any = None,
    train: Any = None,
    history: Any = None,
    task: str | None = None,
    time_column: str | None = None,
    ignore_columns: list[str] | tuple[str, ...] = (),
    title: str | None = None,
    cv: int | None = None,
    cv_epochs: int | None = None,
    cv_batch_size: int = 32,
    jobs: int | None = None,
    seed: int = 0,
    safe_mode: bool = True,
    progress: Callable[[str], None] | None = None,
    strict: bool = False,
) -> "Report":
    """Audit a Keras model (or its predictions) and return a Report.

    `model` is a path to a .keras/.h5 file or a keras.Model; `test`/`train` are paths or
    DataFrames; `history` is a path, a dict or a keras History. Raises InputError for bad input.

    >>> report = audit(model="model.keras", test="test.csv", target="label")  # doctest: +SKIP
    >>> report.save("report/")                                                  # doctest: +SKIP
    """
    from .checks import run_checks
    from .context import AuditContext
    from .errors import InputError
    from .inputs import build_inputs
    from .report import Headline, Report
    from . import sections

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    if cv is not None and cv < 2:
        raise InputError(f"--cv: need at least 2 folds, got {cv}")
    if cv and train is None:
        raise InputError("--cv needs --train: cross-validation retrains the model on folds of the training data")
    if cv and model is None:
        raise InputError("--cv needs --model: cross-validation retrains the model, predictions alone cannot")
    inputs = build_inputs(test=test, target=target, model=model, predictions=predictions, train=train,
                          history=history, task=task, time_column=time_column,
                          ignore_columns=ignore_columns, safe_mode=safe_mode, progress=say)
    ctx = AuditContext(inputs, progress=say, seed=seed, strict=strict)
    ctx.cache["cv_settings"] = {"k": cv, "epochs": cv_epochs, "batch_size": cv_batch_size, "jobs": jobs}
    _ = ctx.y_test  # validate the target early: bad labels are input errors, not check failures
    if ctx.has_train:
        _ = ctx.y_train
    say("computing metrics")
    m = ctx.test_metrics
    metrics: dict[str, Any] = {"test": {**m.values}}
    if m.per_class:
        metrics["test"]["per_class"] = m.per_class
    if m.intervals:
        metrics["test_intervals"] = {k: [float(v[0]), float(v[1])] for k, v in m.intervals.items()}
    if m.undefined:
        metrics["undefined"] = dict(m.undefined)
    if m.confusion is not None:
        metrics["confusion_matrix"] = {"labels": ctx.labels, "matrix": m.confusion}
    if cv:
        from .validation import cross_validate

        metrics["cv"] = cross_validate(ctx)
    say("running diagnostic checks")
    findings = run_checks(ctx)
    say("drawing figures")
    secs = [s for s in (
        sections.data_section(ctx), sections.training_section(ctx), sections.model_section(ctx),
        sections.evaluation_section(ctx),
    ) if s is not None]
    from .checks import family_sections

    secs.extend(family_sections(ctx))
    headlines = []
    for name in HEADLINES[ctx.task]:
        if name in m.values:
            lo, hi = m.intervals.get(name, (None, None))
            headlines.append(Headline(name, m.values[name], lo, hi, m.undefined.get(name, "")))
    n_excluded = int((~ctx.finite_rows).sum())
    notes = list(inputs.notes) + ctx.notes
    if n_excluded:
        notes.insert(0, f"{n_excluded:,} test row(s) had missing inputs or non-finite model outputs and were excluded from the metrics.")
    report = Report(
        title=title or _default_title(inputs),
        task=ctx.task,
        generator=f"reportgen {__version__}",
        metrics=metrics,
        findings=findings,
        headlines=headlines,
        sections=secs,
        sources=inputs.sources,
        versions=_versions(with_tf=inputs.model is not None),
        notes=notes,
    )
    report.verdict = _verdict(report, len(ctx.test_y))
    say(f"analysis done in {time.perf_counter() - started:.1f} s")
    return report


def _default_title(inputs) -> str:
    what = inputs.model_name or next((s.name for s in inputs.sources if s.role == "predictions"), "model")
    return f"Model audit: {what}"


def _verdict(report, n_rows: int) -> str:
    head = report.headlines[0] if report.headlines else None
    metric = ""
    if head is not None and head.value is not None:
        metric = f"{head.name.replace('_', ' ')} {head.value:.3g}"
        if head.low is not None:
            metric += f" (95% interval {head.low:.3g} to {head.high:.3g})"
        metric += f" on {n_rows:,} test rows"
    problems = report.problems
    if not problems:
        return (f"No likely cause of prediction errors was found: {metric}." if metric
                else "No likely cause of prediction errors was found.")
    crit = sum(f.severity is Severity.CRITICAL for f in problems)
    lead = problems[0]
    count = f"{len(problems)} likely cause(s) of prediction errors" + (f", {crit} critical" if crit else "")
    return f"{count}; the most serious: {lead.title[0].lower() + lead.title[1:]}." + (f" Measured: {metric}." if metric else "")


def _versions(with_tf: bool) -> dict[str, str]:
    out = {"reportgen": __version__, "python": platform.python_version()}
    names = ["numpy", "pandas", "matplotlib", "jinja2", "weasyprint", "scikit-learn"]
    if with_tf:
        names += ["tensorflow-cpu", "tensorflow", "keras"]
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out
