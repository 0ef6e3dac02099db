"""Bad input never crashes: exit 2, one line naming the file/column/value, no partial report."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.cli import main


@pytest.fixture()
def binary_files(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    y = (rng.random(n) < 0.4).astype(int)
    test = pd.DataFrame({"age": rng.integers(18, 90, n), "income": rng.normal(5e4, 1e4, n), "label": y})
    pred = pd.DataFrame({"score": np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)})
    test.to_csv(tmp_path / "test.csv", index=False)
    pred.to_csv(tmp_path / "pred.csv", index=False)
    return tmp_path


def run(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def error_lines(err: str) -> list[str]:
    return [l for l in err.splitlines() if not l.startswith("reportgen [")]


def assert_clean_failure(code, err, out_dir: Path, *needles):
    lines = error_lines(err)
    assert code == 2, err
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not out_dir.exists() or not any(out_dir.iterdir())


BASE = ["audit", "--quiet", "--format", "json,html"]


def test_predictions_mode_writes_report(binary_files, capsys):
    d = binary_files
    code, err = run(BASE + ["--predictions", str(d / "pred.csv"), "--test", str(d / "test.csv"),
                            "--target", "label", "--out", str(d / "r")], capsys)
    assert code == 0, err
    j = json.loads((d / "r" / "report.json").read_text())
    assert j["task"] == "binary" and j["schema_version"] == 1
    assert 0.5 < j["metrics"]["test"]["roc_auc"] <= 1.0
    assert (d / "r" / "report.html").stat().st_size > 1000
    assert not (d / "r" / "report.pdf").exists()


@pytest.mark.parametrize("mutate, needles", [
    (lambda d: ["--target", "nope"], ["'nope'", "test.csv"]),
    (lambda d: ["--target", "label", "--test", str(d / "missing.csv")], ["missing.csv", "not found"]),
    (lambda d: ["--target", "label", "--test", str(d / "test.txt")], ["test.txt", "format"]),
    (lambda d: ["--target", "label", "--time-column", "when"], ["'when'"]),
    (lambda d: ["--target", "label", "--format", "html,docx"], ["docx"]),
    (lambda d: ["--target", "label", "--task", "ranking"], ["ranking"]),
    (lambda d: ["--target", "label", "--cv", "3"], ["--cv", "--train"]),
])
def test_usage_mistakes(binary_files, capsys, mutate, needles):
    d = binary_files
    (d / "test.txt").write_text("a,b\n1,2\n")
    args = BASE + ["--predictions", str(d / "pred.csv"), "--test", str(d / "test.csv"), "--out", str(d / "bad")]
    extra = mutate(d)
    # later options win in argparse, so appending overrides the defaults above
    code, err = run(args + extra, capsys)
    assert_clean_failure(code, err, d / "bad", *needles)


def test_bad_data_values(binary_files, capsys):
    d = binary_files
    test = pd.read_csv(d / "test.csv")
    cases = []
    t = test.copy(); t["city"] = "Paris"; t.to_csv(d / "text.csv", index=False)
    cases.append(("text.csv", "pred.csv", ["'city'", "not numeric"]))
    t = test.copy(); t.loc[5, "label"] = np.nan; t.to_csv(d / "nan_target.csv", index=False)
    cases.append(("nan_target.csv", "pred.csv", ["'label'", "missing"]))
    (d / "empty.csv").write_text("")
    cases.append(("empty.csv", "pred.csv", ["empty.csv", "empty"]))
    (d / "header_only.csv").write_text("age,income,label\n")
    cases.append(("header_only.csv", "pred.csv", ["header_only.csv", "no rows"]))
    pd.DataFrame({"score": [0.5] * 10}).to_csv(d / "short_pred.csv", index=False)
    cases.append(("test.csv", "short_pred.csv", ["short_pred.csv", "10 rows", "400"]))
    pd.DataFrame({"score": np.linspace(0, 3, len(test))}).to_csv(d / "big_pred.csv", index=False)
    cases.append(("test.csv", "big_pred.csv", ["'score'", "outside [0, 1]"]))
    t = test.copy(); t["label"] = 1; t.to_csv(d / "one_class_str.csv", index=False)
    t["label"] = "yes"; t.to_csv(d / "one_class.csv", index=False)
    cases.append(("one_class.csv", "pred.csv", ["'label'", "one class"]))
    (d / "corrupt.parquet").write_bytes(b"not a parquet file at all")
    cases.append(("corrupt.parquet", "pred.csv", ["corrupt.parquet"]))
    for test_name, pred_name, needles in cases:
        out = d / f"out_{test_name}"
        code, err = run(BASE + ["--predictions", str(d / pred_name), "--test", str(d / test_name),
                                "--target", "label", "--out", str(out)], capsys)
        assert_clean_failure(code, err, out, *needles)


def test_one_numeric_class_reports_undefined_metrics(binary_files, capsys):
    d = binary_files
    t = pd.read_csv(d / "test.csv"); t["label"] = 0; t.to_csv(d / "zeros.csv", index=False)
    code, err = run(BASE + ["--predictions", str(d / "pred.csv"), "--test", str(d / "zeros.csv"),
                            "--target", "label", "--out", str(d / "r0")], capsys)
    assert code == 0, err
    j = json.loads((d / "r0" / "report.json").read_text())
    assert j["metrics"]["test"]["roc_auc"] is None
    assert "roc_auc" in j["metrics"]["undefined"]


def test_unwritable_output(binary_files, capsys):
    d = binary_files
    (d / "afile").write_text("x")
    code, err = run(BASE + ["--predictions", str(d / "pred.csv"), "--test", str(d / "test.csv"),
                            "--target", "label", "--out", str(d / "afile" / "sub")], capsys)
    assert code == 2 and "cannot write" in err and "Traceback" not in err
    if os.path.isdir("/proc/self"):  # root may "access" /proc but cannot create files there
        code, err = run(BASE + ["--predictions", str(d / "pred.csv"), "--test", str(d / "test.csv"),
                                "--target", "label", "--out", "/proc/reportgen-out"], capsys)
        assert code == 2 and "cannot write to /proc/reportgen-out" in err


def test_fail_on_gate(binary_files, capsys):
    d = binary_files
    rng = np.random.default_rng(1)
    pd.DataFrame({"score": rng.random(400)}).to_csv(d / "random.csv", index=False)
    args = BASE + ["--predictions", str(d / "random.csv"), "--test", str(d / "test.csv"), "--target", "label"]
    code, err = run(args + ["--out", str(d / "g1"), "--fail-on", "warning"], capsys)
    assert code == 1, err  # random scores: below baseline
    assert "evaluation.below_baseline" in err
    j = json.loads((d / "g1" / "report.json").read_text())
    assert any(f["code"] == "evaluation.below_baseline" for f in j["findings"])
    code, err = run(BASE + ["--predictions", str(d / "pred.csv"), "--test", str(d / "test.csv"), "--target", "label",
                            "--out", str(d / "g2"), "--fail-on", "critical"], capsys)
    assert code == 0, err


def test_argparse_errors_are_one_line(capsys):
    code, err = run(["audit", "--test", "x.csv"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--target" in err


def test_predictions_mode_does_not_import_tensorflow(binary_files):
    """Speed: a predictions-only report pays for neither TensorFlow (6 s) nor, on clean data,
    scikit-learn (1 s); checks import it only once a cheap screen finds something."""
    d = binary_files
    code = (
        "import sys; from reportgen.cli import main; "
        f"rc = main(['audit','--quiet','--predictions',{str(d / 'pred.csv')!r},'--test',{str(d / 'test.csv')!r},"
        f"'--target','label','--format','json,html','--out',{str(d / 'ntf')!r}]); "
        "assert rc == 0, rc; "
        "bad = [m for m in ('tensorflow', 'keras', 'weasyprint', 'sklearn') if m in sys.modules]; "
        "assert not bad, bad; print('ok')"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and "ok" in p.stdout, p.stderr


def test_multiclass_predictions_columns(tmp_path, capsys):
    rng = np.random.default_rng(3)
    n = 300
    y = rng.choice(["cat", "dog", "<b>eel</b>"], n)
    X = rng.normal(size=(n, 3))
    proba = rng.dirichlet([1, 1, 1], n)
    for i, lab in enumerate(["cat", "dog", "<b>eel</b>"]):
        proba[y == lab, i] += 2
    proba /= proba.sum(1, keepdims=True)
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(animal=y).to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame(proba, columns=["cat", "dog", "<b>eel</b>"]).to_csv(tmp_path / "p.csv", index=False)
    code, err = run(BASE + ["--predictions", str(tmp_path / "p.csv"), "--test", str(tmp_path / "t.csv"),
                            "--target", "animal", "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    j = json.loads((tmp_path / "r" / "report.json").read_text())
    assert j["task"] == "multiclass"
    assert set(j["metrics"]["test"]["per_class"]) == {"cat", "dog", "<b>eel</b>"}
    html = (tmp_path / "r" / "report.html").read_text()
    assert "<b>eel</b>" not in html and "&lt;b&gt;eel&lt;/b&gt;" in html
    # a missing class column is named
    pd.DataFrame(proba[:, :2], columns=["cat", "dog"]).to_csv(tmp_path / "p2.csv", index=False)
    code, err = run(BASE + ["--predictions", str(tmp_path / "p2.csv"), "--test", str(tmp_path / "t.csv"),
                            "--target", "animal", "--task", "multiclass", "--out", str(tmp_path / "bad")], capsys)
    assert_clean_failure(code, err, tmp_path / "bad", "<b>eel</b>")
