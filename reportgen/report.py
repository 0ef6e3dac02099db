"""The Report: plain data that every renderer (HTML, PDF, JSON) is a view of.

Why plain dataclasses: the analysis produces numbers and SVG text once; rendering never
computes. `to_dict()` is exactly report.json (SPEC.md fields plus documented extensions).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .findings import Finding, Severity, rank_findings

SCHEMA_VERSION = 1


@dataclass
class FigureBlock:
    """One figure: SVG text made by reportgen.figures, with a heading and a caption."""

    key: str
    title: str
    svg: str
    caption: str = ""


@dataclass
class Table:
    """A small table. Cells are plain values (str, int, float, None); templates format them."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""


@dataclass
class Section:
    """A report section (data, training, model, evaluation, cross-validation...)."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[FigureBlock] = field(default_factory=list)


@dataclass
class SourceInfo:
    """Identity of one input file: what role it played, its size and content hash."""

    role: str
    name: str
    sha256: str | None = None
    rows: int | None = None
    columns: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Headline:
    """A headline metric for the summary: name, value and optional 95% interval."""

    name: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass
class Report:
    title: str
    task: str
    generator: str
    metrics: dict[str, Any]
    findings: list[Finding]
    verdict: str = ""
    headlines: list[Headline] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    sources: list[SourceInfo] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created: str | None = None

    def __post_init__(self) -> None:
        self.findings = rank_findings(list(self.findings))

    # -- views -----------------------------------------------------------------------------
    @property
    def problems(self) -> list[Finding]:
        """Findings that claim a cause (warning or critical), most severe first."""
        return [f for f in self.findings if f.severity is not Severity.INFO]

    def worst_severity(self) -> Severity | None:
        return self.findings[0].severity if self.findings else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "generator": self.generator,
            "title": self.title,
            "task": self.task,
            "verdict": self.verdict,
            "metrics": self.metrics,
            "findings": [f.to_dict() for f in self.findings],
            "inputs": [s.to_dict() for s in self.sources],
            "notes": list(self.notes),
            "versions": dict(sorted(self.versions.items())),
        }

    def to_json(self) -> str:
        from .render.json import render_json

        return render_json(self)

    def to_html(self) -> str:
        from .render.html import render_html

        return render_html(self)

    def to_pdf(self) -> bytes:
        from .render.pdf import render_pdf

        return render_pdf(self)

    def save(self, out_dir: str | Path = "report", formats: tuple[str, ...] | list[str] = ("html", "pdf", "json")) -> dict[str, Path]:
        """Write report.<fmt> files into out_dir; all or nothing (see render.output)."""
        from .render.output import write_report

        return write_report(self, Path(out_dir), list(formats))

    def __repr__(self) -> str:  # short: the default dataclass repr would dump SVGs
        return f"Report(title={self.title!r}, task={self.task!r}, findings={len(self.findings)})"
