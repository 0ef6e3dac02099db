"""Find bundled folders (templates/, sample_data/) in a source checkout or an installed wheel.

Why: the repo keeps them at the top level (the design card's layout) while a wheel copies them
into the package (pyproject force-include). Editable installs read the top-level folders.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"reportgen installation is incomplete: folder '{name}' not found next to {PACKAGE_DIR}")
