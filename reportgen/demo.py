"""`reportgen demo`: audit the bundled sample data (real public data + small trained models)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .resources import bundled_dir

DEMOS = [
    # (folder, target, time column, title)
    ("breast_cancer", "diagnosis", None, "Demo: breast cancer diagnosis (binary MLP)"),
    ("co2", "co2_next", "date", "Demo: Mauna Loa CO2 forecast (12-month window)"),
]


def run_demo(out: Path, formats: list[str], progress: Callable[[str], None] | None = None) -> list[Path]:
    """Audit each bundled sample into out/<name>/ and return the written report paths."""
    from .pipeline import audit

    say = progress or (lambda msg: None)
    root = bundled_dir("sample_data")
    written: list[Path] = []
    for folder, target, time_col, title in DEMOS:
        d = root / folder
        say(f"demo: auditing sample_data/{folder}")
        report = audit(model=d / "model.keras", train=d / "train.csv", test=d / "test.csv", target=target,
                       history=d / "history.csv", time_column=time_col, title=title, progress=say)
        paths = report.save(out / folder, formats)
        written.extend(paths[f] for f in formats)
    return written
