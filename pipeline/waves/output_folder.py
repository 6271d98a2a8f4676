"""The output folder: which folder a run may replace, and replacing it in one step.

A report folder is only ever replaced when the pipeline made it: it holds a manifest.json the pipeline
wrote and no file the manifest does not list. Any other folder (the one that holds the export, the
current folder, a researcher's Documents), a file, or a folder that holds one of the run's inputs is
refused before anything is written, so a wrong --out can never delete a researcher's files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from pipeline.core.errors import PipelineError
from pipeline.core.schemas import shared_mode

MANIFEST = "manifest.json"
STAGING_MARK = ".wsd-staging"   # inside a staging folder: the pid of the run that made it
_active: set[Path] = set()      # this process's staging folders, removed by abandon_staging on SIGTERM


def _foreign_entries(folder: Path) -> list[str] | None:
    """The entries of `folder` its manifest does not account for, or None when it has no pipeline manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict) \
            or "pipeline_version" not in manifest:
        return None
    listed = {Path(name) for name in manifest["outputs"]}
    parents = {parent for name in listed for parent in name.parents}
    foreign = []
    for entry in sorted(folder.rglob("*")):
        relative = entry.relative_to(folder)
        if relative == Path(MANIFEST) or relative in listed and entry.is_file() and not entry.is_symlink():
            continue
        if relative in parents and entry.is_dir() and not entry.is_symlink():
            continue
        foreign.append(str(relative))
    return foreign


def check_output_folder(out: Path, *, inputs: Iterable[Path | None] = (),
                        sources: Iterable[Path | None] = ()) -> Path:
    """The resolved output folder, when a run may write it; otherwise a PipelineError saying why.

    Allowed: a folder that does not exist yet (its parents are made), an empty folder, or a report
    folder the pipeline made earlier. Refused: a file, a folder under a file, a folder that is or holds
    one of the `inputs` (export, supplement, templates, texts, config, processed data), one that lies
    inside one of the `sources` (the template, text and config folders, whose files a run reads and
    hashes), and a folder with files the pipeline did not write."""
    shown = str(out) if str(out) not in ("", ".") else f"{Path.cwd()} (the current folder)"
    resolved = Path(os.path.abspath(out)).resolve()
    if resolved == Path(resolved.anchor):
        raise PipelineError(f"--out {shown}: the root of a file system cannot be a report folder; give a new "
                            "folder name such as reports/2025.")
    for ancestor in [resolved, *resolved.parents]:
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                what = "is a file" if ancestor == resolved else f"lies under {ancestor}, which is a file"
                raise PipelineError(f"--out {shown}: {what}; give a folder for the report, such as reports/2025.")
            break
    for given in inputs:
        if given is None or str(given) == "":
            continue
        source = Path(os.path.abspath(given)).resolve()
        if source == resolved or resolved in source.parents:
            raise PipelineError(f"--out {shown}: holds {given}, an input of this run; replacing the folder would "
                                "delete it. Give a new folder for the report, such as reports/2025.")
    for given in sources:
        if given is None or str(given) == "":
            continue
        source = Path(os.path.abspath(given)).resolve()
        if source.is_dir() and source in resolved.parents:
            raise PipelineError(f"--out {shown}: lies inside {given}, an input folder of this run; give a "
                                "folder outside it, such as reports/2025.")
    if resolved.is_dir() and any(resolved.iterdir()):
        foreign = _foreign_entries(resolved)
        if foreign is None:
            raise PipelineError(f"--out {shown}: this folder is not empty and is not a report folder the pipeline "
                                f"made (it has no {MANIFEST} of the pipeline), so it is left alone. Give a new or "
                                "empty folder, such as reports/2025.")
        if foreign:
            listed = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise PipelineError(f"--out {shown}: holds files the pipeline did not write ({listed}); the run would "
                                "delete them, so it stops. Move them out of the folder, or give another folder.")
    return resolved


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_staging(out: Path) -> None:
    """Remove the staging folders beside OUT that a run killed before it could clean up left behind
    (recognised by their mark; a folder whose run is still going is left alone)."""
    if not out.parent.is_dir():
        return
    for candidate in out.parent.glob(f".{out.name}.*"):
        mark = candidate / STAGING_MARK
        if candidate.is_dir() and not candidate.is_symlink() and mark.is_file():
            try:
                pid = int(mark.read_text(encoding="ascii").strip())
            except (OSError, ValueError):
                continue
            if not _alive(pid) or pid == os.getpid():
                shutil.rmtree(candidate, ignore_errors=True)


def new_staging(out: Path) -> Path:
    """A fresh staging folder beside OUT, marked with this run's pid."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    _active.add(staging)
    shared_mode(staging, folder=True)
    (staging / STAGING_MARK).write_text(str(os.getpid()), encoding="ascii")
    return staging


def discard_staging(staging: Path) -> None:
    """Remove a staging folder of this run (the run failed or was stopped)."""
    shutil.rmtree(staging, ignore_errors=True)
    _active.discard(staging)


def abandon_staging() -> None:
    """Remove every staging folder this process made and has not moved into place (on SIGTERM)."""
    for staging in list(_active):
        discard_staging(staging)


def swap_in(staging: Path, out: Path, *, inputs: Iterable[Path | None] = (),
            sources: Iterable[Path | None] = ()) -> None:
    """Move the complete staging folder to OUT, replacing a report folder the pipeline made; the check is
    made again here, since the folder may have changed while the report was being made."""
    import signal
    check_output_folder(out, inputs=inputs, sources=sources)
    (staging / STAGING_MARK).unlink(missing_ok=True)
    # Between the two renames OUT does not exist: a SIGTERM waits until the new folder is in place.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            old.rmdir()
            out.rename(old)
        staging.rename(out)
        _active.discard(staging)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
