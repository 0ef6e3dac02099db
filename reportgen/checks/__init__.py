"""The check registry: each check is `def check_x(ctx) -> list[Finding]`.

Adding a check = one function in the module of its family + one line in CHECKS + two tests
(it fires when the cause is present, it stays silent on a healthy model). A check that raises
becomes a note in the report instead of a crash (unless the context is strict, as in tests).
"""
from __future__ import annotations

import time
import traceback
from typing import Callable

from ..findings import Finding
from . import evaluation

Check = Callable[["AuditContext"], list[Finding]]  # noqa: F821

CHECKS: list[Check] = [
    evaluation.check_misleading_metric,
    evaluation.check_below_baseline,
    evaluation.check_miscalibration,
    evaluation.check_threshold,
]


def _register_optional() -> None:
    """Families added by later issues register themselves here when their module exists."""
    import importlib

    for family in ("data", "leakage", "model", "training", "forecast", "validation_checks"):
        try:
            mod = importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(family):
                continue
            raise
        for fn in getattr(mod, "CHECKS", []):
            if fn not in CHECKS:
                CHECKS.append(fn)


_register_optional()


def family_sections(ctx) -> list:
    """Extra report sections from check families that define `build_section(ctx)` (e.g. the
    model diagnostics: gradient norms and dead units per layer). Built after the checks ran,
    so they reuse what the checks cached in ctx.cache."""
    import importlib

    out = []
    for family in ("data", "leakage", "model", "training", "forecast", "validation_checks"):
        try:
            mod = importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError:
            continue
        builder = getattr(mod, "build_section", None)
        if builder is None:
            continue
        try:
            sec = builder(ctx)
        except Exception as exc:
            if ctx.strict:
                raise
            ctx.note(f"section {family} could not be built: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if sec is not None:
            out.append(sec)
    return out


def run_checks(ctx) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        started = time.perf_counter()
        try:
            findings.extend(check(ctx))
        except Exception as exc:  # a broken check must not cost the user the whole report
            if ctx.strict:
                raise
            ctx.note(f"check {check.__name__} could not run: {type(exc).__name__}: {str(exc)[:200]}")
            if ctx.cache.get("debug"):
                traceback.print_exc()
        elapsed = time.perf_counter() - started
        if elapsed > 1.0:
            ctx.progress(f"{check.__name__.removeprefix('check_')} took {elapsed:.1f} s")
    return findings
