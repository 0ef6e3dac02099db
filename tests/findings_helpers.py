"""Assertions shared by the per-family check tests."""
import json

from reportgen.findings import Severity


def claims(findings, code=None):
    """Findings that claim a cause (warning/critical), optionally of one code."""
    return [f for f in findings if f.severity is not Severity.INFO and (code is None or f.code == code)]


def one(findings, code):
    """The single finding of `code`; its evidence must be plain JSON (as report.json writes it)."""
    got = [f for f in findings if f.code == code]
    assert len(got) == 1, f"expected one {code}, got {[(f.code, f.severity.value, f.title) for f in findings]}"
    json.loads(json.dumps(got[0].to_dict(), allow_nan=False))
    return got[0]
