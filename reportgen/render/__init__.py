"""Renderers: the Report as HTML (Jinja2), PDF (WeasyPrint, from the same HTML) and JSON.

Imports are lazy so that the JSON-only path never imports jinja2 or weasyprint:

    from reportgen.render import render_json, render_html, render_pdf, write_report
"""
from __future__ import annotations

from typing import Any

FORMATS = ("html", "pdf", "json")

__all__ = ["FORMATS", "render_html", "render_json", "render_pdf", "write_report", "to_jsonable"]

_WHERE = {
    "render_html": "html",
    "render_json": "json",
    "to_jsonable": "json",
    "render_pdf": "pdf",
    "write_report": "output",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        module = importlib.import_module(f".{_WHERE[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
