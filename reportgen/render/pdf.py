"""Report -> PDF bytes: WeasyPrint renders the same HTML as the web page, with print CSS.

The print rules live in templates/report.css (``@page`` and ``@media print``): A4, "Page N of M"
bottom right, the title as a running header (``string-set`` on the h1), a bookmark outline
(h2 -> level 1, h3 -> level 2), figures and table rows that never split, repeated table headers.

Fetching is locked: WeasyPrint may resolve ``data:`` URIs and nothing else, so a report can
never make a network request or read a local file, whatever text ends up in it.
WeasyPrint is imported inside the functions: it is slow to import and the JSON path must not pay.
"""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..report import Report

ALLOWED_PROTOCOLS = frozenset({"data"})

# Timestamp for the embedded report.json when the report has no `created` (keeps bytes stable).
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def locked_url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that only resolves ``data:`` URIs (no http, https, file, ftp),
    follows no redirects, and fails fast."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=set(ALLOWED_PROTOCOLS), allow_redirects=False, timeout=1)


def html_to_pdf(html: str, *, attachments: list[Any] | None = None) -> bytes:
    """Render an HTML string to PDF bytes with the locked fetcher and no base URL."""
    import weasyprint

    fetcher = locked_url_fetcher()
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher, media_type="print")
    options: dict[str, Any] = {}
    if attachments:
        options["attachments"] = attachments
    return document.write_pdf(**options)


def _created(report: "Report") -> _dt.datetime:
    if report.created:
        try:
            value = _dt.datetime.fromisoformat(str(report.created).replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            pass
    return _EPOCH


def render_pdf(report: "Report", *, attach_json: bool = True) -> bytes:
    """The report as PDF bytes, from ``render_html(report, for_print=True)``.

    Metadata: title and creator from the page's <title> and <meta name="generator">; a creation
    date only when ``report.created`` is set (output is otherwise byte-for-byte reproducible).
    With ``attach_json`` the PDF carries report.json as an embedded file.
    """
    from .html import render_html

    html = render_html(report, for_print=True)
    attachments = None
    if attach_json:
        from weasyprint import Attachment

        from .json import render_json

        when = _created(report)
        attachments = [
            Attachment(
                string=render_json(report).encode("utf-8"),
                base_url=None,
                url_fetcher=locked_url_fetcher(),
                name="report.json",
                description="Machine-readable report (report.json)",
                created=when,
                modified=when,
                relationship="Data",
            )
        ]
    return html_to_pdf(html, attachments=attachments)
