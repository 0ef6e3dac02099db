"""The whole audit, as a user runs it: CLI, Python API, Keras callback, demo, wheel install."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

import reportgen
from reportgen.cli import main
from reportgen.findings import CODES

REPO = Path(__file__).resolve().parents[1]
SPEC_TOP = {"schema_version", "generator", "task", "metrics", "findings"}


@pytest.fixture(scope="module")
def binary_dir(healthy_binary, tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    c = healthy_binary
    c.model.save(d / "model.keras")
    c.train.to_csv(d / "train.csv", index=False)
    c.test.to_parquet(d / "test.parquet", index=False)
    (d / "history.json").write_text(json.dumps(c.history))
    return d


@pytest.fixture(scope="module")
def binary_report(binary_dir):
    d = binary_dir
    code = main(["audit", "--quiet", "--model", str(d / "model.keras"), "--train", str(d / "train.csv"),
                 "--test", str(d / "test.parquet"), "--history", str(d / "history.json"), "--target", "target",
                 "--title", "E2E <binary> audit", "--out", str(d / "report")])
    assert code == 0
    return d / "report"


def test_all_three_files_and_json_matches_spec(binary_report, healthy_binary):
    j = json.loads((binary_report / "report.json").read_text())
    assert SPEC_TOP <= set(j)
    assert j["schema_version"] == 1 and j["generator"] == f"reportgen {reportgen.__version__}"
    assert j["task"] == "binary"
    for f in j["findings"]:
        assert f["code"] in CODES and f["severity"] in ("info", "warning", "critical")
        assert f["title"] and isinstance(f["evidence"], dict) and f["recommendation"]
    # metrics agree with scikit-learn on the model's own predictions
    from sklearn.metrics import accuracy_score, roc_auc_score

    c = healthy_binary
    X, y = c.xy(c.test)
    p = c.model.predict(X, verbose=0).ravel()
    m = j["metrics"]["test"]
    assert m["accuracy"] == pytest.approx(accuracy_score(y, p > 0.5), abs=1e-9)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-6)
    lo, hi = j["metrics"]["test_intervals"]["accuracy"]
    assert lo <= m["accuracy"] <= hi
    roles = {s["role"] for s in j["inputs"]}
    assert roles == {"model", "train", "test", "history"}
    assert all(len(s["sha256"]) == 64 for s in j["inputs"])


def test_html_is_self_contained(binary_report):
    html = (binary_report / "report.html").read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.I)
    assert "<script" not in html.lower()
    assert "E2E &lt;binary&gt; audit" in html and "E2E <binary>" not in html
    for section in ("Summary", "Why predictions fail", "Data", "Training", "Model", "Evaluation", "All findings"):
        assert f">{section}<" in html or f"> {section}" in html or section in html
    assert html.count("<svg") >= 8  # class balance, learning curves, confusion, roc, pr, reliability, scores, threshold


def test_pdf_pages_outline_and_headline_values(binary_report):
    reader = PdfReader(str(binary_report / "report.pdf"))
    assert len(reader.pages) >= 4
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    for s in ("Summary", "Why predictions fail", "Evaluation", "Appendix"):
        assert any(s in t for t in titles), titles
    text = "\n".join(page.extract_text() for page in reader.pages[:2])
    m = json.loads((binary_report / "report.json").read_text())["metrics"]["test"]
    assert f"{m['accuracy']:.3f}" in text
    assert f"{m['roc_auc']:.3f}" in text
    assert "Page 1 of" in text


def test_python_api_with_dataframes_and_history_dict(healthy_binary, tmp_path):
    c = healthy_binary
    report = reportgen.audit(model=c.model, test=c.test, train=c.train, target="target", history=c.history)
    assert isinstance(report, reportgen.Report)
    assert report.task == "binary" and report.metrics["test"]["accuracy"] > 0.9
    assert json.loads(report.to_json())["task"] == "binary"
    assert report.to_html().startswith("<!DOCTYPE html>")
    paths = report.save(tmp_path / "api", formats=["json"])
    assert set(paths) == {"json"} and paths["json"].exists()
    assert not (tmp_path / "api" / "report.html").exists()


def test_audit_callback_writes_report_after_training(tmp_path):
    import keras
    import models

    case = models.breast_cancer()
    model = models.build_model(case)
    X, y = case.xy(case.train)
    Xt, yt = case.xy(case.test)
    cb = reportgen.AuditCallback(test_data=(Xt, yt), out=tmp_path / "cb", formats=("json", "html"), verbose=False)
    model.fit(X, y, epochs=4, batch_size=64, validation_split=0.2, verbose=0, callbacks=[cb])
    j = json.loads((tmp_path / "cb" / "report.json").read_text())
    assert j["task"] == "binary"
    hist_source = cb.report
    assert len(hist_source.sections) >= 3
    assert "training" in [s.key for s in cb.report.sections]
    assert j["metrics"]["test"]["n"] == len(yt)


def test_demo_writes_reports(tmp_path):
    p = subprocess.run([sys.executable, "-m", "reportgen", "demo", "--out", str(tmp_path / "demo")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert len(lines) == 6 and all(Path(l).exists() and Path(l).stat().st_size > 0 for l in lines)
    bc = json.loads((tmp_path / "demo" / "breast_cancer" / "report.json").read_text())
    co2 = json.loads((tmp_path / "demo" / "co2" / "report.json").read_text())
    assert bc["task"] == "binary" and bc["metrics"]["test"]["accuracy"] > 0.9
    assert co2["task"] == "forecast" and co2["metrics"]["test"]["mase"] < 1.0
    # the bundled models are healthy: the demo claims no cause
    assert [f for f in bc["findings"] + co2["findings"] if f["severity"] != "info"] == []


def test_wheel_install_finds_templates_and_sample_data(tmp_path):
    """A plain (non-editable) wheel in a fresh venv must carry templates/ and sample_data/."""
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(REPO)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("reportgen-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                          capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr[-2000:]
    rng = np.random.default_rng(0)
    work = tmp_path / "elsewhere"
    work.mkdir()
    y = rng.integers(0, 2, 200)
    pd.DataFrame({"a": rng.normal(size=200), "y": y}).to_csv(work / "t.csv", index=False)
    pd.DataFrame({"score": np.clip(y * 0.6 + rng.random(200) * 0.4, 0, 1)}).to_csv(work / "p.csv", index=False)
    script = (
        "import reportgen, sys; from reportgen.resources import bundled_dir; from reportgen.render.html import templates_dir; "
        "print(reportgen.__file__); print(templates_dir()); print(bundled_dir('sample_data')); "
        "from reportgen.cli import main; "
        "sys.exit(main(['audit','--quiet','--predictions','p.csv','--test','t.csv','--target','y','--format','html,json','--out','r']))"
    )
    run = subprocess.run([str(py), "-c", script], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    file_, tdir, sdir = run.stdout.split()[:3]
    assert str(env_dir) in file_ and str(env_dir) in tdir and str(env_dir) in sdir
    assert (Path(sdir) / "breast_cancer" / "model.keras").exists()
    assert (work / "r" / "report.html").stat().st_size > 5000
