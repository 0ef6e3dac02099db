"""Report -> one self-contained HTML page (Jinja2, autoescaped).

The page has no scripts, no external references and no web fonts: CSS is inlined from
templates/report.css and figures are inline SVG. The PDF renderer uses this same HTML with
``for_print=True`` (which only adds a class on <html>), so there is one template set.

Escaping: autoescape is on for every template and filters return plain ``str``; the only
markup inserted unescaped is our own CSS file and figure SVG (through the ``inline_svg``
filter, which strips XML prologs and rejects anything active). Data text (titles, column names,
class labels, file names, evidence) is never marked safe.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .filters import FILTERS, _plain, slug

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

    from ..report import Report

TEMPLATE = "report.html.j2"
CSS_FILE = "report.css"

_SEVERITY_ORDER = ("critical", "warning", "info")
# Tables up to this many rows are kept on one page in the PDF (longer ones break between rows).
SMALL_TABLE_ROWS = 15


def templates_dir() -> Path:
    """Where the templates live.

    Installed wheel: ``reportgen/templates/`` (pyproject.toml force-includes the repo's
    top-level ``templates/`` there). Source / editable checkout: ``<repo>/templates/``.
    """
    from ..resources import bundled_dir

    return bundled_dir("templates", must_contain=TEMPLATE)


@lru_cache(maxsize=4)
def _environment(directory: str) -> "jinja2.Environment":
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def get_environment() -> "jinja2.Environment":
    """The Jinja environment (cached per templates folder)."""
    return _environment(str(templates_dir()))


@lru_cache(maxsize=4)
def _read_css(path: str, mtime_ns: int) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_css() -> str:
    path = templates_dir() / CSS_FILE
    css = _read_css(str(path), path.stat().st_mtime_ns)
    if "</" in css:  # would close the <style> element early
        raise RuntimeError(f"{path}: CSS must not contain '</'")
    return css


def _unique_id(base: str, used: set[str]) -> str:
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _is_number(value: Any) -> bool:
    from numbers import Real

    return isinstance(value, Real) and not isinstance(value, bool)


def _numeric_columns(table: Any) -> list[bool]:
    """Per column: True when every non-empty cell is a number (right-aligned, header too)."""
    width = max([len(table.columns), *(len(row) for row in table.rows)])
    out = []
    for j in range(width):
        cells = [row[j] for row in table.rows if j < len(row) and row[j] is not None]
        out.append(bool(cells) and all(_is_number(_plain(c)) for c in cells))
    return out




def _headlines(report: "Report") -> list[Any]:
    """The report's headlines; when the analysis gave none, the flat numbers of metrics.test."""
    if report.headlines:
        return list(report.headlines)
    from ..report import Headline

    test = report.metrics.get("test") if isinstance(report.metrics, dict) else None
    if not isinstance(test, dict):
        return []
    out = []
    for name, value in test.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(Headline(name=str(name), value=value))
    return out


def build_context(report: "Report", for_print: bool = False) -> dict[str, Any]:
    """Everything the templates need, already ordered and identified (templates only lay out)."""
    from markupsafe import Markup

    from ..findings import CODES

    used_ids = {"top", "contents", "summary", "causes", "all-findings", "appendix"}

    findings = []
    for i, finding in enumerate(report.findings, start=1):
        findings.append(
            {
                "finding": finding,
                "anchor": f"finding-{i}",
                "sev": FILTERS["sev_value"](finding.severity),
            }
        )
    used_ids.update(item["anchor"] for item in findings)
    problems = [item for item in findings if item["sev"] != "info"]

    sections = []
    for section in report.sections:
        sid = _unique_id("section-" + slug(section.key), used_ids)
        tables = [
            {"table": t, "numeric": _numeric_columns(t), "small": len(t.rows) <= SMALL_TABLE_ROWS}
            for t in section.tables
        ]
        sections.append({"section": section, "id": sid, "tables": tables})

    counts = [
        {"sev": sev, "n": sum(1 for item in findings if item["sev"] == sev)}
        for sev in _SEVERITY_ORDER
    ]

    # Worst severity present (not findings[0]: the ranking may put a root cause first).
    worst = next((c["sev"] for c in counts if c["n"]), "none")

    toc = [("summary", "Summary"), ("causes", "Why predictions fail")]
    toc += [(s["id"], s["section"].title) for s in sections]
    toc += [("all-findings", "All findings"), ("appendix", "Appendix")]

    raised = sorted({f.code for f in report.findings})

    return {
        "report": report,
        "title": report.title or "Model audit report",
        "css": Markup(load_css()),
        "for_print": for_print,
        "findings": findings,
        "problems": problems,
        "sections": sections,
        "counts": counts,
        "worst": worst,
        "headlines": _headlines(report),
        "toc": toc,
        "codes": CODES,
        "raised_codes": raised,
        "versions": sorted(report.versions.items()),
    }


def render_html(report: "Report", for_print: bool = False) -> str:
    """The report as one self-contained HTML page (str).

    ``for_print=True`` marks <html class="print"> for the PDF renderer; content is identical.
    """
    template = get_environment().get_template(TEMPLATE)
    return template.render(**build_context(report, for_print=for_print))
