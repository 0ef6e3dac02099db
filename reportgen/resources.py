"""Find bundled folders (templates/, sample_data/) in a source checkout or an installed wheel.

Why: the repo keeps them at the top level (the design card's layout) while a wheel copies them
into the package (pyproject force-include). Editable installs read the top-level folders.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: str, must_contain: str | None = None) -> Path:
    """The bundled folder `name` (wheel: inside the package; checkout: at the repo top level),
    optionally required to hold the file `must_contain`."""
    candidates = (PACKAGE_DIR / name, PACKAGE_DIR.parent / name)
    for candidate in candidates:
        if candidate.is_dir() and (must_contain is None or (candidate / must_contain).is_file()):
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    what = f"'{must_contain}' in " if must_contain else ""
    raise RuntimeError(f"reportgen installation is incomplete: looked for {what}{tried} (reinstall reportgen)")
