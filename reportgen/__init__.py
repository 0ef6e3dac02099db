"""reportgen: what is causing my Keras model's prediction errors?

Public API::

    import reportgen
    report = reportgen.audit(model="model.keras", test="test.csv", target="label",
                             train="train.csv", history="history.csv")
    report.save("report/")            # report.html, report.pdf, report.json
    model.fit(..., callbacks=[reportgen.AuditCallback(test_data=(X_test, y_test), out="report/")])
"""
__version__ = "0.1.0"

from .errors import InputError  # noqa: E402
from .findings import CODES, Finding, Severity  # noqa: E402


def __getattr__(name):
    # lazy: importing reportgen must stay cheap (no pandas/matplotlib until used)
    if name == "audit":
        from .pipeline import audit

        return audit
    if name == "Report":
        from .report import Report

        return Report
    if name == "AuditCallback":
        from .callback import AuditCallback

        return AuditCallback
    raise AttributeError(f"module 'reportgen' has no attribute {name!r}")


__all__ = ["audit", "Report", "AuditCallback", "Finding", "Severity", "CODES", "InputError", "__version__"]
