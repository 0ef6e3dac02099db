"""Write report.<fmt> files: all or nothing.

Every requested format is rendered to memory first; only then is the folder created and each
file written to a hidden temp file next to its target and moved into place with ``os.replace``
(atomic on one filesystem). If anything fails, temp files are removed, files that were
already replaced are restored from hard-link backups, and folders this call created are
removed again, so a reader never sees a partial or mixed report.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .html import render_html
from .json import render_json
from .pdf import render_pdf

if TYPE_CHECKING:  # pragma: no cover
    from ..report import Report

FORMATS = ("html", "pdf", "json")


def _renderers() -> dict[str, Callable[["Report"], bytes]]:
    # Looked up at call time so tests (and callers) can swap a renderer on this module.
    return {
        "html": lambda report: render_html(report).encode("utf-8"),
        "pdf": lambda report: render_pdf(report),
        "json": lambda report: render_json(report).encode("utf-8"),
    }


def parse_formats(formats: str | Iterable[str]) -> list[str]:
    """'html,pdf' or ['html', 'pdf'] -> ['html', 'pdf'] (order kept, duplicates dropped).

    Raises InputError naming the bad value.
    """
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InputError(f"--format: {item!r} is not a format (expected a subset of {','.join(FORMATS)})")
        name = item.strip().lower()
        if name not in FORMATS:
            raise InputError(f"--format: unknown format {item.strip()!r} (expected a subset of {','.join(FORMATS)})")
        if name not in out:
            out.append(name)
    if not out:
        raise InputError(f"--format: no format given (expected a subset of {','.join(FORMATS)})")
    return out


def _file_mode() -> int:
    """0o666 minus the process umask: what a plain open() would have given the file."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _make_dir(out_dir: Path) -> list[Path]:
    """Create out_dir (with parents); return the folders that did not exist, deepest first."""
    created: list[Path] = []
    probe = out_dir
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    if not out_dir.is_dir():  # pragma: no cover - mkdir(exist_ok) raises for files
        raise InputError(f"cannot write to {out_dir}: not a directory")
    return created


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def write_report(report: "Report", out_dir: Path, formats: Iterable[str] | str) -> dict[str, Path]:
    """Render ``formats`` (subset of html, pdf, json) and write ``out_dir/report.<fmt>``.

    All or nothing: on any failure no new report file is left and existing ones are unchanged.
    Returns ``{"html": Path(...), ...}`` in the requested order.
    Raises InputError for a bad format or a folder that cannot be created or written.
    """
    wanted = parse_formats(formats)
    out_dir = Path(out_dir)

    # 1. Render everything in memory: a renderer failing leaves the disk untouched.
    renderers = _renderers()
    payloads = {fmt: renderers[fmt](report) for fmt in wanted}

    # 2. The folder.
    created_dirs = _make_dir(out_dir)

    temps: dict[str, Path] = {}
    backups: list[tuple[Path, Path | None]] = []  # (target, backup or None if target was new)
    try:
        # 3. Stage every file as a hidden temp file in the same folder.
        mode = _file_mode()
        for fmt in wanted:
            try:
                fh = tempfile.NamedTemporaryFile(dir=out_dir, delete=False, prefix=".report-", suffix=f".{fmt}.tmp")
            except OSError as exc:
                raise InputError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
            temps[fmt] = Path(fh.name)
            try:
                with fh:
                    fh.write(payloads[fmt])
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(fh.name, mode)
            except OSError as exc:
                raise InputError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None

        # 4. Move into place, keeping a hard-link backup of anything replaced until all succeed.
        for fmt in wanted:
            target = out_dir / f"report.{fmt}"
            backup: Path | None = None
            if target.exists() or target.is_symlink():
                backup = out_dir / f".report-backup-{os.getpid()}-{fmt}"
                _remove_quietly(backup)
                try:
                    os.link(target, backup, follow_symlinks=False)
                except OSError:  # no hard links here (some network / FAT file systems)
                    try:
                        shutil.copy2(target, backup, follow_symlinks=False)
                    except OSError as exc:
                        _remove_quietly(backup)
                        raise InputError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
            try:
                os.replace(temps[fmt], target)
            except OSError as exc:
                if backup is not None:
                    _remove_quietly(backup)
                raise InputError(f"cannot write to {target}: {exc.strerror or exc}") from None
            backups.append((target, backup))
            del temps[fmt]
    except BaseException:
        for path in temps.values():
            _remove_quietly(path)
        for target, backup in reversed(backups):
            if backup is None:
                _remove_quietly(target)
            else:
                with contextlib.suppress(OSError):
                    os.replace(backup, target)
        for folder in created_dirs:  # deepest first; only removes them if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for _, backup in backups:
        if backup is not None:
            _remove_quietly(backup)
    return {fmt: out_dir / f"report.{fmt}" for fmt in wanted}
