"""fetch: a wave's responses and its survey definition straight from Qualtrics, filed into the wave.

Everything is downloaded and checked in a staging folder beside the waves first (the zip whole, the export
in it readable as an export, the .qsf a survey definition); only then are the files copied into the wave's
data/ under new names and wave.yaml pointed at them. A failure anywhere leaves data/ and wave.yaml as they were.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, TextIO

from pipeline.core.errors import ExportError, PipelineError
from pipeline.reading.qsf import read_qsf
from pipeline.reading.qualtrics import read_export
from pipeline.reading.qualtrics_api import FetchError, QualtricsClient, Waits, check_survey_id, credentials
from pipeline.waves.wave import Wave, check_name, fetch_record, free_stem, load_wave, new_wave, record_fetch

# The export as the reader expects it, fixed here rather than left to the researcher: CSV with choice text
# (the report's labels), multi-select choices in columns of their own, only finished responses' data and the
# dates in the project's time zone (settings: default_time_zone), the three header rows (the API's default).
EXPORT_FORMAT = {"format": "csv", "useLabels": True, "breakoutSets": True, "compress": True,
                 "exportResponsesInProgress": False}


@dataclass(frozen=True)
class Fetch:
    wave: Wave
    created: bool          # the wave was started by this fetch
    export: Path
    definition: Path
    responses: int         # data rows in the export


def export_options(*, time_zone: str, since: date | None) -> dict:
    """The body of POST export-responses."""
    options = {**EXPORT_FORMAT, "timeZone": time_zone}
    if since is not None:
        options["startDate"] = f"{since.isoformat()}T00:00:00Z"
    return options


def parse_since(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PipelineError(f"--since {text!r}: give the first day as YYYY-MM-DD, such as 2025-09-01.")


def fetch_wave(name: str, *, survey: str, waves_dir: Path, time_zone: str, data_center: str | None = None,
               since: date | None = None, token_file: Path | None = None, previous: str | None = None,
               environ: Mapping[str, str] = os.environ, waits: Waits | None = None,
               progress: Callable[[str, float, float | None], None] | None = None,
               now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Fetch:
    """Fetch survey `survey` into wave `name` (started when it does not exist yet, from `previous`)."""
    check_name(name)
    check_survey_id(survey)
    creds = credentials(data_center=data_center, token_file=token_file, environ=environ)
    existing = load_wave(name, waves_dir=waves_dir) if (waves_dir / name / "wave.yaml").exists() else None
    if existing is None and (waves_dir / name).exists():
        raise PipelineError(f"wave {name}: {waves_dir / name} exists but has no wave.yaml; choose another name, or "
                            "remove that folder.")
    if existing is not None and previous:
        raise PipelineError(f"wave {name} exists already; --previous is for a new wave (edit previous in its "
                            "wave.yaml instead).")
    if previous:
        load_wave(previous, waves_dir=waves_dir)   # a wrong name fails before anything is asked of Qualtrics
    waves_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=waves_dir, prefix=f".{name}.fetch-") as folder:
        staging = Path(folder)
        with QualtricsClient(creds, waits=waits, progress=progress or (lambda *_: None)) as client:
            qsf = client.survey_definition(survey)
            moment = now().replace(microsecond=0)
            archive = client.export_responses(survey, options=export_options(time_zone=time_zone, since=since),
                                              into=staging)
        stem = f"qualtrics_{survey}_{moment.strftime('%Y%m%dT%H%M%SZ')}"
        if existing is not None:
            stem = free_stem(existing.folder / "data", stem, (".csv", ".qsf"))
        export, responses = _unpacked(archive, staging / f"{stem}.csv", host=creds.host)
        definition = staging / f"{stem}.qsf"
        definition.write_bytes(qsf)
        try:
            read_qsf(definition)
        except PipelineError as exc:
            raise FetchError(f"the survey definition from {creds.host} is not a .qsf ({exc}); nothing was written.")
        record = fetch_record(survey=survey, data_center=creds.data_center, exported_at=moment,
                              since=since.isoformat() if since else None, export=f"data/{export.name}",
                              definition=f"data/{definition.name}")
        if existing is None:
            wave = new_wave(name, export=export, previous=previous, waves_dir=waves_dir, definition=definition,
                            qualtrics=record)
        else:
            wave = record_fetch(existing, export=export, definition=definition, qualtrics=record)
    return Fetch(wave=wave, created=existing is None, export=wave.export,
                 definition=wave.folder / record["definition"], responses=responses)


def _unpacked(archive: Path, target: Path, *, host: str) -> tuple[Path, int]:
    """The one export file of the zip Qualtrics sent, written to target and read as an export; its rows."""
    with zipfile.ZipFile(archive) as opened:
        members = [m for m in opened.infolist() if not m.is_dir()]
        if len(members) != 1 or not members[0].filename.lower().endswith(".csv"):
            raise FetchError(f"the zip from {host} holds {', '.join(m.filename for m in members) or 'nothing'}, not "
                             "one CSV export; nothing was written. Run the command again.")
        with opened.open(members[0]) as source, target.open("wb") as handle:
            shutil.copyfileobj(source, handle)
    try:
        read = read_export(target)
    except ExportError as exc:
        raise FetchError(f"the export from {host} cannot be read ({str(exc).replace(str(target), 'the file')}); "
                         "nothing was written.")
    return target, len(read.cells)


class TerminalProgress:
    """A bar for the export (percent) and the download (bytes) on a terminal; nothing elsewhere."""

    def __init__(self, stream: TextIO = sys.stderr, *, quiet: bool = False, width: int = 30):
        self.stream, self.width = stream, width
        self.live = not quiet and stream.isatty()
        self.phase: str | None = None

    def __call__(self, phase: str, done: float, total: float | None) -> None:
        if not self.live:
            return
        if self.phase and phase != self.phase:
            self.stream.write("\n")
        self.phase = phase
        if total:
            share = max(0.0, min(1.0, done / total))
            filled = int(share * self.width)
            amount = f"{share * 100:3.0f}%" if phase == "export" else f"{done / 1024 ** 2:.1f} of {total / 1024 ** 2:.1f} MB"
            self.stream.write(f"\r{phase:<10} [{'#' * filled}{'.' * (self.width - filled)}] {amount}")
        else:
            self.stream.write(f"\r{phase:<10} {done / 1024 ** 2:.1f} MB")
        self.stream.flush()

    def close(self) -> None:
        if self.live and self.phase:
            self.stream.write("\n")
            self.stream.flush()
            self.phase = None
