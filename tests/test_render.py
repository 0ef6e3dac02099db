"""Renderers: HTML (escaping, self-containment, structure), JSON, PDF (real WeasyPrint) and the
all-or-nothing writer. One PDF of the fixture report is rendered per session and shared."""
from __future__ import annotations

import http.server
import io
import json
import math
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from reportgen.errors import InputError
from reportgen.findings import CODES, Finding, Severity
from reportgen.render import output as output_mod
from reportgen.render.filters import evidence, inline_svg, num, pct, sev_label
from reportgen.render.html import render_html, templates_dir
from reportgen.render.json import render_json, to_jsonable
from reportgen.report import FigureBlock, Headline, Report, Section, SourceInfo, Table

XSS = "<script>alert(1)</script>"
BOLD = "<b>income</b>"


# --------------------------------------------------------------------------------------------
# A local HTTP server that counts requests: proves that nothing is fetched.
# --------------------------------------------------------------------------------------------
class _CountingServer:
    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # silence
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 1
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "_CountingServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def server():
    with _CountingServer() as srv:
        yield srv


# --------------------------------------------------------------------------------------------
# The fixture report
# --------------------------------------------------------------------------------------------
def _svg_figure(seed: int = 0) -> str:
    """A small real SVG from matplotlib (Figure API, no pyplot), like reportgen.figures makes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rng = np.random.default_rng(seed)
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": f"test-{seed}"}):
        fig = Figure(figsize=(6.4, 3.2))
        ax = fig.add_subplot()
        epochs = np.arange(1, 31)
        ax.plot(epochs, 1 / epochs + rng.normal(0, 0.01, 30), label="loss")
        ax.plot(epochs, 1 / epochs + epochs * 0.01, label="val_loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(f"training history {BOLD}")  # text is drawn as paths: no markup in the SVG
        ax.legend()
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def make_report(host: str = "http://127.0.0.1:9", long: bool = True) -> Report:
    svg = _svg_figure()
    findings = [
        Finding(
            code="data.class_imbalance",
            severity=Severity.INFO,
            title=f"class {BOLD} is rare in the test data",
            evidence={"minority_class": BOLD, "minority_share": 0.0412, "counts": {BOLD: 41, "other": 959}},
            recommendation="Report per-class metrics.",
        ),
        Finding(
            code="leakage.train_test_overlap",
            severity=Severity.CRITICAL,
            title=f"31% of test rows also appear in the training data {XSS}",
            evidence={"overlap_rows": 312, "overlap_share": 0.312, f"{XSS}": "hostile key",
                      "example_rows": [4, 17, 23, float("nan")]},
            recommendation="Deduplicate before splitting; re-evaluate on unseen rows.",
            impact=0.6,
            figure=svg,
        ),
        Finding(
            code="data.feature_scale",
            severity="warning",
            title=f'Feature <img src="{host}/x.png"> spans 6 orders of magnitude',
            evidence={"feature": f'<img src="{host}/x.png">', "max_abs": 1.2e6, "min_abs": 0.003},
            recommendation="Add a Normalization layer.",
            impact=0.2,
        ),
    ]
    n_rows = 70 if long else 5
    sections = [
        Section(
            key="data",
            title=f"Data {BOLD}",
            paragraphs=[f"The test set has 1,000 rows. Column {BOLD} is the target.", "Second paragraph."],
            tables=[
                Table(
                    title="Columns",
                    columns=["column", f"class {BOLD}", "missing", "mean"],
                    rows=[[f"feature_{i}", XSS if i == 0 else f"c{i}", i % 3, 1234.5678 / (i + 1)] for i in range(n_rows)],
                    caption=f"Per-column summary {XSS}",
                )
            ],
        ),
        Section(
            key="training",
            title="Training",
            paragraphs=["Loss curves of the recorded history."],
            tables=[Table(title="Last epochs", columns=["epoch", "loss", "val_loss"],
                          rows=[[28, 0.1, 0.4], [29, 0.09, 0.42], [30, 0.08, None]])],
            figures=[FigureBlock(key="history", title="Loss by epoch", svg=svg, caption="Training and validation loss.")],
        ),
    ]
    return Report(
        title=f"Audit of {BOLD} model",
        task="binary",
        generator="reportgen 0.1.0",
        metrics={"test": {"accuracy": np.float64(0.873), "roc_auc": 0.91, "log_loss": float("inf"),
                          "n": np.int64(1000), "brier": float("nan")}},
        findings=findings,
        verdict="The model overfits: validation loss rises after epoch 12.",
        headlines=[Headline("accuracy", 0.873, 0.851, 0.894), Headline("roc_auc", 0.91, 0.89, 0.93, note="macro")],
        sections=sections,
        sources=[
            SourceInfo(role="test", name=f"{BOLD}.csv", sha256="ab" * 32, rows=1000, columns=12),
            SourceInfo(role="model", name="model.keras", sha256="cd" * 32),
        ],
        versions={"tensorflow": "2.21.0", "reportgen": "0.1.0"},
        notes=[f"note {XSS}"],
    )


@pytest.fixture(scope="module")
def report(server) -> Report:
    return make_report(host=server.url)


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_html(report)


@pytest.fixture(scope="module")
def pdf_bytes(report, server) -> bytes:
    from reportgen.render.pdf import render_pdf

    before = len(server.hits)
    t0 = time.perf_counter()
    data = render_pdf(report)
    print(f"PDF render: {time.perf_counter() - t0:.2f} s")
    assert len(server.hits) == before, f"WeasyPrint fetched {server.hits[before:]}"
    return data


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------
def test_num_and_pct_formats():
    assert num(None) == "n/a"
    assert num(1234567) == "1,234,567"
    assert num(np.int64(1000)) == "1,000"
    assert num(0.87345) == "0.873"
    assert num(12.345) == "12.3"
    assert num(1234.56) == "1,235"
    assert num(0.0000123) == "1.23e-05"
    assert num(0.09) == "0.090" and num(0.00345) == "0.00345" and num(1.5) == "1.50"
    assert num(4.5e12) == "4.50e+12"
    assert num(0.0) == "0"
    assert num(float("nan")) == "NaN"
    assert num(True) == "yes"
    assert pct(0.1234) == "12.3%"
    assert pct(None) == "n/a"
    assert sev_label(Severity.CRITICAL) == "Critical" and sev_label("warning") == "Warning"
    assert evidence([1, 2.5, None]) == "[1, 2.50, n/a]"
    assert evidence({"a": 1, "b": [0.5]}) == "a: 1, b: [0.500]"
    assert evidence(list(range(20))).endswith("… (+12 more)]")
    assert not hasattr(num(1), "__html__")  # plain str: autoescape still applies


def test_inline_svg_strips_prolog_and_rejects_active_content():
    svg = _svg_figure(1)
    out = str(inline_svg(svg))
    assert out.startswith("<svg") and "<?xml" not in out and "<!DOCTYPE" not in out
    for bad in ('<svg><script>alert(1)</script></svg>', '<svg onload="x()"></svg>',
                '<svg><image href="http://e.example/a.png"/></svg>',
                '<svg><foreignObject><p>x</p></foreignObject></svg>'):
        assert "figure-omitted" in str(inline_svg(bad))


def test_templates_dir_is_the_repo_folder_in_a_checkout():
    d = templates_dir()
    assert (d / "report.html.j2").is_file() and (d / "report.css").is_file()


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
def test_html_has_no_script_and_escapes_hostile_text(html):
    assert "<script" not in html.lower()
    assert XSS not in html and BOLD not in html
    assert '<img src="http' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;income&lt;/b&gt;" in html
    assert "&lt;img src=" in html


def test_html_is_self_contained(html):
    assert not re.search(r"""(?:src|href|action|data)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "@import" not in html
    assert not re.search(r"<(?:link|iframe|object|embed|base)\b", html, re.I)
    assert "@font-face" not in html
    for attr in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", html, re.I):
        assert attr.startswith(("#", "data:")), attr
    assert '<html lang="en"' in html
    assert '<meta name="viewport"' in html
    assert '<meta name="generator" content="reportgen 0.1.0">' in html


def test_html_structure_order_and_ids(html, report):
    ids = ["summary", "causes", "section-data", "section-training", "all-findings", "appendix"]
    positions = [html.index(f'id="{i}"') for i in ids]
    assert positions == sorted(positions)
    for i in ids:
        assert f'href="#{i}"' in html  # table of contents
    assert html.count("<h1") == 1
    assert "95% interval" in html and "0.851 – 0.894" in html
    assert "The model overfits" in html
    # every code of the registry in the glossary
    for code in CODES:
        assert code in html
    assert "ab" * 32 in html  # full SHA-256 in the appendix


def test_findings_ranked_in_causes_and_in_all_findings(html, report):
    ranked = [f.code for f in report.findings]  # the renderer keeps findings.rank_findings' order
    assert ranked == ["leakage.train_test_overlap", "data.feature_scale", "data.class_imbalance"]
    causes = html[html.index('id="causes"'):html.index('id="section-data"')]
    assert causes.index("leakage.train_test_overlap") < causes.index("data.feature_scale")  # critical, warning
    assert "data.class_imbalance" not in causes  # info is context, not a cause
    full = html[html.index('id="all-findings"'):html.index('id="appendix"')]
    order = [full.index(c) for c in ranked]
    assert order == sorted(order)
    assert "Critical" in full and "Warning" in full and "Info" in full  # text labels, not colour only


def test_causes_says_so_when_there_is_nothing_to_report():
    r = make_report(long=False)
    r.findings = [f for f in r.findings if f.severity is Severity.INFO]
    out = render_html(r)
    causes = out[out.index('id="causes"'):out.index('id="section-data"')]
    assert "No warning or critical findings" in causes


def test_css_keeps_figures_and_rows_whole(html):
    css = (templates_dir() / "report.css").read_text()
    assert re.search(r"\.figure\s*\{[^}]*break-inside:\s*avoid", css)
    assert re.search(r"thead\s*\{[^}]*display:\s*table-header-group", css)
    assert 'class="figure"' in html
    assert "<svg" in html


def test_render_is_deterministic(report):
    assert render_html(report) == render_html(report)
    assert render_json(report) == render_json(report)


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------
def test_json_fields_and_no_nan(report):
    text = render_json(report)
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    for key in ("schema_version", "generator", "task", "metrics", "findings"):
        assert key in data
    assert data["task"] == "binary"
    assert data["metrics"]["test"]["accuracy"] == pytest.approx(0.873)
    assert data["metrics"]["test"]["n"] == 1000
    assert data["metrics"]["test"]["log_loss"] is None and data["metrics"]["test"]["brier"] is None
    assert [f["severity"] for f in data["findings"]] == ["critical", "warning", "info"]
    assert [f["code"] for f in data["findings"]] == [f.code for f in report.findings]
    for f in data["findings"]:
        assert set(f) >= {"code", "severity", "title", "evidence", "recommendation"}
        assert "figure" not in f
    assert data["findings"][0]["evidence"]["example_rows"][-1] is None


def test_to_jsonable_handles_numpy_and_odd_types():
    value = {"a": np.float32(1.5), "b": np.array([1, 2]), "c": {1, 2}, 3: np.bool_(True),
             "d": float("-inf"), "e": Severity.WARNING, "f": Path("x/y")}
    out = to_jsonable(value)
    assert out == {"a": 1.5, "b": [1, 2], "c": [1, 2], "3": True, "d": None, "e": "warning", "f": "x/y"}
    json.dumps(out, allow_nan=False)
    assert math.isfinite(out["a"])


# --------------------------------------------------------------------------------------------
# PDF (real WeasyPrint)
# --------------------------------------------------------------------------------------------
def _outline_titles(outline) -> list[tuple[int, str]]:
    out = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title))

    walk(outline, 1)
    return out


def test_pdf_pages_numbers_title_outline(pdf_bytes, report):
    from pypdf import PdfReader

    assert pdf_bytes.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf_bytes))
    n = len(reader.pages)
    assert n >= 2
    texts = [page.extract_text() for page in reader.pages]
    assert f"Page 1 of {n}" in texts[0]
    assert f"Page {n} of {n}" in texts[-1]
    assert "Audit of <b>income</b> model" in texts[0]  # the title, as text
    assert "Audit of <b>income</b> model" in texts[1]  # running header on page 2
    assert reader.metadata.title == report.title
    assert reader.metadata.creator == "reportgen 0.1.0"
    assert "/CreationDate" not in reader.metadata  # deterministic: no date unless given
    top = [title for level, title in _outline_titles(reader.outline) if level == 1]
    for expected in ["Summary", "Why predictions fail", f"Data {BOLD}", "Training", "All findings", "Appendix"]:
        assert expected in top, (expected, top)
    assert "Contents" not in top
    sub = [title for level, title in _outline_titles(reader.outline) if level == 2]
    assert "Loss by epoch" in sub and "Glossary of finding codes" in sub


def test_pdf_embeds_report_json(pdf_bytes, report):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    attached = reader.attachments
    assert "report.json" in attached
    assert json.loads(attached["report.json"][0]) == json.loads(render_json(report))


def test_locked_fetcher_makes_no_request(server):
    """Direct test of the fetcher: http, https, file and @import are all refused, while the
    default (unlocked) fetcher does reach the same server (so the test can see a request)."""
    import weasyprint

    from reportgen.render.pdf import html_to_pdf

    url = server.url
    page = (f'<html><head><link rel="stylesheet" href="{url}/s.css">'
            f'<style>@import url("{url}/i.css"); body {{ background: url("{url}/bg.png") }}</style></head>'
            f'<body><img src="{url}/x.png"><img src="file:///etc/hostname"><p>hi</p></body></html>')
    before = len(server.hits)
    assert html_to_pdf(page).startswith(b"%PDF")
    assert server.hits[before:] == []

    # control: WeasyPrint's default fetcher would have fetched it
    weasyprint.HTML(string=f'<img src="{url}/control.png">', url_fetcher=weasyprint.urls.URLFetcher(timeout=2)).render()
    assert "/control.png" in server.hits[before:]


# --------------------------------------------------------------------------------------------
# write_report: all or nothing
# --------------------------------------------------------------------------------------------
def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_write_report_html_json(tmp_path):
    r = make_report(long=False)
    out = tmp_path / "a" / "b"
    paths = output_mod.write_report(r, out, ["json", "html"])
    assert list(paths) == ["json", "html"]
    assert _listing(out) == ["report.html", "report.json"]
    assert json.loads(paths["json"].read_text())["task"] == "binary"
    assert (paths["html"].stat().st_mode & 0o777) != 0o600  # not NamedTemporaryFile's mode


def test_write_report_rejects_bad_format(tmp_path):
    with pytest.raises(InputError, match="'docx'"):
        output_mod.write_report(make_report(long=False), tmp_path / "x", ["html", "docx"])
    assert not (tmp_path / "x").exists()


def test_write_report_leaves_nothing_when_a_renderer_fails(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old")

    def boom(report):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(output_mod, "render_json", boom)
    with pytest.raises(RuntimeError, match="renderer failed"):
        output_mod.write_report(make_report(long=False), out, ["html", "json"])
    assert _listing(out) == ["report.html"]
    assert (out / "report.html").read_text() == "old"

    fresh = tmp_path / "fresh" / "sub"
    with pytest.raises(RuntimeError):
        output_mod.write_report(make_report(long=False), fresh, ["html", "json"])
    assert not (tmp_path / "fresh").exists()


def test_write_report_rolls_back_when_moving_fails(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old")
    real_replace = output_mod.os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("report.json"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(output_mod.os, "replace", flaky)
    with pytest.raises(InputError, match="cannot write to"):
        output_mod.write_report(make_report(long=False), out, ["html", "json"])
    monkeypatch.undo()
    assert _listing(out) == ["report.html"]
    assert (out / "report.html").read_text() == "old"


def test_write_report_unwritable_dir(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(InputError, match=r"cannot write to .*file\.txt"):
        output_mod.write_report(make_report(long=False), blocker / "sub", ["json"])
    assert blocker.read_text() == "x"
    assert _listing(tmp_path) == ["file.txt"]


def test_svg_from_reportgen_figures_is_inlined_not_omitted():
    core = pytest.importorskip("reportgen.figures.core")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.scatter(np.arange(500), np.arange(500) % 7, rasterized=True)
    svg = core.to_svg(fig, "scatter", title=f'{XSS} onerror=x() href="http://e.example"')
    out = str(inline_svg(svg))
    assert "figure-omitted" not in out and out.startswith("<svg")
    assert "<script" not in out


def test_templates_found_in_a_wheel_layout(tmp_path):
    """A wheel has no repo-level templates/: they are copied to reportgen/templates."""
    import shutil
    import subprocess
    import sys

    import reportgen

    pkg = Path(reportgen.__file__).resolve().parent
    site = tmp_path / "site"
    shutil.copytree(pkg, site / "reportgen", ignore=shutil.ignore_patterns("__pycache__", "templates"))
    shutil.copytree(templates_dir(), site / "reportgen" / "templates")
    code = ("import reportgen.render.html as h; print(h.templates_dir()); "
            "from reportgen.report import Report; "
            "print(len(h.render_html(Report(title='t', task='binary', generator='g', metrics={}, findings=[]))))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    where, size = proc.stdout.split()
    assert Path(where) == site / "reportgen" / "templates"
    assert int(size) > 1000


def test_json_path_imports_neither_weasyprint_nor_jinja(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from reportgen.report import Report; "
            "from reportgen.render.output import write_report; "
            "r = Report(title='t', task='binary', generator='g', metrics={'test': {'accuracy': 0.5}}, findings=[]); "
            f"write_report(r, Path({str(tmp_path)!r}), ['json']); "
            "bad = [m for m in ('weasyprint', 'jinja2') if m in sys.modules]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "report.json").read_text())["metrics"]["test"]["accuracy"] == 0.5


def test_pdf_is_reproducible_and_dated_only_when_asked():
    from pypdf import PdfReader

    from reportgen.render.pdf import render_pdf

    r = make_report(long=False)
    r.sections = r.sections[:1]
    r.findings[0].figure = None
    r.created = "2024-05-01T12:00:00Z"
    first, second = render_pdf(r), render_pdf(r)
    assert first == second
    meta = PdfReader(io.BytesIO(first)).metadata
    assert meta["/CreationDate"].startswith("D:20240501120000")
