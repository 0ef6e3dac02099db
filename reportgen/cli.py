"""Command line: argument parsing, progress lines and exit codes; nothing else.

Exit codes (SPEC.md): 0 report written; 1 report written and the --fail-on gate tripped;
2 bad usage or bad input (one line on stderr, no traceback, no partial report).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__
from .errors import InputError

EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ("html", "pdf", "json")


class _Parser(argparse.ArgumentParser):
    """argparse prints usage + message on two lines; we promise one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message} (see --help)")


def _progress(quiet: bool):
    start = time.perf_counter()

    def say(msg: str) -> None:
        if not quiet:
            print(f"reportgen [{time.perf_counter() - start:5.1f}s] {msg}", file=sys.stderr, flush=True)

    return say


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reportgen", description="What is causing my Keras model's prediction errors?")
    p.add_argument("--version", action="version", version=f"reportgen {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    a = sub.add_parser("audit", help="audit a model (or its predictions) and write the report",
                       description="Audit a trained Keras model (or its predictions) on test data.")
    src = a.add_argument_group("model (one of)")
    src.add_argument("--model", metavar="PATH", help="trained Keras model: .keras (Keras 3) or legacy .h5")
    src.add_argument("--predictions", metavar="PATH",
                     help="the model's outputs, row-aligned with TEST: column 'score', or one column per class label")
    a.add_argument("--test", metavar="PATH", required=True, help="evaluation data, CSV or Parquet")
    a.add_argument("--target", metavar="COLUMN", required=True, help="label / target column")
    a.add_argument("--train", metavar="PATH", help="training data (same columns as TEST)")
    a.add_argument("--history", metavar="PATH", help="training history: CSVLogger CSV or History JSON")
    a.add_argument("--task", choices=["binary", "multiclass", "regression", "forecast"],
                   help="inferred from the target and the model output when omitted")
    a.add_argument("--time-column", metavar="COLUMN", help="column that orders rows in time (not a model input)")
    a.add_argument("--ignore-columns", metavar="LIST", default="", help="comma-separated columns that are not model inputs")
    a.add_argument("--cv", metavar="K", type=int, help="K-fold cross-validation by retraining fresh model copies")
    a.add_argument("--cv-epochs", metavar="N", type=int, help="epochs per CV fold (default: the history's length)")
    a.add_argument("--cv-batch-size", metavar="N", type=int, default=32, help="batch size for CV retraining (default 32)")
    a.add_argument("--jobs", metavar="N", type=int, help="parallel CV worker processes (default: number of cores)")
    a.add_argument("--seed", type=int, default=0, help="random seed for sampling and CV (default 0)")
    a.add_argument("--out", metavar="DIR", default="report", help="output folder (default: report/)")
    a.add_argument("--format", metavar="LIST", default="html,pdf,json", help="comma-separated subset of html,pdf,json")
    a.add_argument("--title", metavar="TEXT", help="report title")
    a.add_argument("--fail-on", choices=["warning", "critical"], help="exit 1 when a finding at or above this severity is raised")
    a.add_argument("--unsafe-load-model", action="store_true",
                   help="load the model with safe_mode=False (runs code inside the file; only for files you trust)")
    a.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    d = sub.add_parser("demo", help="audit the bundled sample data and print the report paths")
    d.add_argument("--out", metavar="DIR", default="reportgen-demo", help="output folder (default: reportgen-demo/)")
    d.add_argument("--format", metavar="LIST", default="html,pdf,json", help="comma-separated subset of html,pdf,json")
    d.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def parse_formats(text: str) -> list[str]:
    fmts = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise InputError(f"--format: unknown format {bad[0] if bad else text!r}; choose from html,pdf,json")
    return list(dict.fromkeys(fmts))


def check_writable(out: Path) -> None:
    """Fail before the (slow) analysis when the output folder cannot be written."""
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"--out: cannot write to {out}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"--out: cannot write to {out}: permission denied")
    import tempfile

    try:  # access() says yes for root everywhere, even in /proc; a real (self-deleting) file tells
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise InputError(f"--out: cannot write to {out}: {exc.strerror or exc}") from None


def run_audit(args) -> int:
    from .pipeline import audit
    from .findings import Severity

    formats = parse_formats(args.format)
    out = Path(args.out)
    check_writable(out)
    say = _progress(args.quiet)
    report = audit(
        test=args.test, target=args.target, model=args.model, predictions=args.predictions, train=args.train,
        history=args.history, task=args.task, time_column=args.time_column,
        ignore_columns=[c.strip() for c in args.ignore_columns.split(",") if c.strip()],
        title=args.title, cv=args.cv, cv_epochs=args.cv_epochs, cv_batch_size=args.cv_batch_size,
        jobs=args.jobs, seed=args.seed, safe_mode=not args.unsafe_load_model, progress=say,
    )
    say("writing " + ", ".join(formats))
    paths = report.save(out, formats)
    for fmt in formats:
        print(paths[fmt])
    counts = {s: sum(f.severity.value == s for f in report.findings) for s in ("critical", "warning", "info")}
    say(f"done: {counts['critical']} critical, {counts['warning']} warning, {counts['info']} info finding(s)")
    if args.fail_on:
        gate = Severity(args.fail_on).rank
        tripped = [f for f in report.findings if f.severity.rank >= gate]
        if tripped:
            print(f"reportgen: --fail-on {args.fail_on}: {len(tripped)} finding(s), first: {tripped[0].code}",
                  file=sys.stderr)
            return EXIT_GATE
    return EXIT_OK


def run_demo(args) -> int:
    from .demo import run_demo as demo

    formats = parse_formats(args.format)
    check_writable(Path(args.out))
    for path in demo(Path(args.out), formats, progress=_progress(args.quiet)):
        print(path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_INPUT
        if args.command == "audit":
            return run_audit(args)
        if args.command == "demo":
            return run_demo(args)
        raise InputError(f"unknown command {args.command!r}")
    except InputError as exc:
        print(f"reportgen: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("reportgen: interrupted; no report written", file=sys.stderr)
        return 130
    except MemoryError:
        print("reportgen: error: out of memory; try a smaller test file", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug in reportgen: still one line unless asked for the traceback
        if os.environ.get("REPORTGEN_DEBUG"):
            raise
        print(f"reportgen: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(set REPORTGEN_DEBUG=1 for the traceback; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
