"""Ingest: from any Qualtrics export of the WSD questionnaire to one clean row per response.

Maps the export's columns to the instrument's items (by export tag, then label text, then ImportId),
drops previews, tests, spam, unfinished responses and earlier duplicate submissions with the reason
logged, and removes personal data before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.config import Instrument, Settings
from pipeline.reading.deidentify import load_not_names, scrub_third_parties
from pipeline.core.errors import ExportError
from pipeline.reading.qualtrics import RECOGNISED_MAGIC, SAV_MAGIC, ZIP_MAGIC, RawExport, read_export, read_input
from pipeline.core.stage import Context
from pipeline.core.schemas import DROPS, RESPONSES, check, write_atomic, write_parquet
from pipeline.reading.privacy import hash_response_id, remove_personal_data
from pipeline.reading.mapping import ColumnMapping, item_of, map_columns
from pipeline.reading.filtering import DROP_REASONS, STATUS_TEXT, filter_responses, parse_dates


DATE_COLUMNS = ("start_date", "end_date", "recorded_date")


# A choice value, level or head count longer than this is no answer of the questionnaire; later stages keep
# numbers as 64-bit integers (and floats overflow past ~308 digits).
MAX_NUMBER_DIGITS = 15
_WHOLE_NUMBER = re.compile(r"\s*-?\d+(?:\.0)?\s*")
_HEAD_COUNT = re.compile(r"\s*\((\d+)\)\s*$")   # as normalise reads "Docenten (3)"


@dataclass
class IngestResult:
    """Everything ingest learned; `responses` and `drops` hold no personal data."""

    export: RawExport
    mapping: list[ColumnMapping]
    values: str                   # choice_text or numeric
    responses: pd.DataFrame
    drops: pd.DataFrame
    items_mapped: list[str]
    items_missing: list[str]
    warnings: list[str] = field(default_factory=list)
    supplement_path: Path | None = None
    rows_in_file: int = 0

    @property
    def unmapped_columns(self) -> list[str]:
        return [m.tag or f"column {m.position + 1}" for m in self.mapping if m.kind == "unmapped"]

    def dropped_counts(self) -> dict[str, int]:
        counts = self.drops["reason"].value_counts() if len(self.drops) else {}
        return {reason: int(counts.get(reason, 0)) for reason in DROP_REASONS}

    def summary(self) -> dict:
        """The `inspect --json` object of the output contract, plus a few descriptive keys."""
        survey = self.responses[self.responses["source"] == "survey"]
        return {
            "format": self.export.format,
            "layout": self.export.layout,
            "encoding": self.export.encoding,
            "values": self.values,
            "time_zone": self.export.time_zone,
            "responses": self.rows_in_file,
            "kept": int(len(survey)),
            "dropped": self.dropped_counts(),
            "items_mapped": len(self.items_mapped),
            "items_missing": self.items_missing,
            "unmapped_columns": self.unmapped_columns,
            "warnings": self.warnings,
        }


# ------------------------------------------------------------------------------------------- numbers

def limit_numbers(frame: pd.DataFrame, *, instrument: Instrument) -> list[str]:
    """Empty the choice answers and drop the head counts that have more than MAX_NUMBER_DIGITS digits, in
    place; gives a warning per column naming the rows."""
    warnings = []
    typed = set(instrument.typed_fields)
    head_counts = {f for it in instrument.with_role("involvement") for f in it.fields if f.endswith("_text")}
    for column in (f for f in instrument.response_fields if f in frame):
        values = frame[column].astype(str)
        if column in typed:
            if column not in head_counts:
                continue
            counts = values.str.extract(_HEAD_COUNT, expand=False).fillna("")
            too_long = counts.str.len().gt(MAX_NUMBER_DIGITS)
            if too_long.any():
                frame.loc[too_long, column] = values[too_long].str.replace(_HEAD_COUNT, "", regex=True)
                what = "a head count in brackets with more digits"
        else:
            numbers = values.str.fullmatch(_WHOLE_NUMBER)
            too_long = numbers & values.str.count(r"\d").gt(MAX_NUMBER_DIGITS)
            if too_long.any():
                frame.loc[too_long, column] = ""
                what = "a number with more digits"
        if too_long.any():
            where = [f"{source} row {row}" if source != "survey" else f"data row {row}" for source, row in
                     zip(frame.loc[too_long, "source"], frame.loc[too_long, "row"])]
            warnings.append(f"{column}: {what} than the limit of {MAX_NUMBER_DIGITS} (MAX_NUMBER_DIGITS) in "
                            f"{', '.join(where[:5])}{' and more' if len(where) > 5 else ''}; it is no answer of "
                            "the questionnaire and was left out.")
    return warnings


# ------------------------------------------------------------------------------------------- ingest

def _values_kind(frame: pd.DataFrame) -> str:
    finished = frame.get("finished", pd.Series(dtype=object)).astype(str).str.strip()
    status = frame.get("status", pd.Series(dtype=object)).astype(str).str.strip()
    sample = pd.concat([finished[finished.ne("")], status[status.ne("")]])
    if len(sample) and sample.str.fullmatch(r"-?\d+(?:\.0)?").all():
        return "numeric"
    return "choice_text"


def build_responses(*, export: RawExport, mapping: list[ColumnMapping], instrument: Instrument,
                    settings: Settings) -> tuple[pd.DataFrame, list[str]]:
    """One row per data row with metadata and item fields named as the instrument names them."""
    warnings: list[str] = []
    # Data rows are numbered as in the file, also when rows that repeat the header were skipped.
    frame = pd.DataFrame({"row": np.asarray(export.cells.index, dtype="int64") + 1}, index=export.cells.index)
    for m in mapping:
        if m.target:
            frame[m.target] = export.cells[m.position].astype(str)
    for name in ("status", "finished", "response_id", "progress", "duration", "distribution_channel",
                 "user_language", *instrument.response_fields):
        if name not in frame:
            frame[name] = ""
    if "recorded_date" not in frame and "end_date" in frame:  # legacy exports have no RecordedDate
        frame["recorded_date"] = frame["end_date"]
    zone = export.time_zone or settings.default_time_zone
    if export.time_zone is None and any(c in frame for c in DATE_COLUMNS):
        warnings.append(f"the export names no time zone for its dates; they are read as {zone} "
                        "(setting default_time_zone).")
    for column in DATE_COLUMNS:
        if column not in frame:
            frame[column] = pd.Series(pd.NaT, index=frame.index, dtype=f"datetime64[ns, {zone}]")
            continue
        parsed = parse_dates(frame[column], zone=zone, day_first=export.excel_resaved)
        bad = parsed.isna() & frame[column].str.strip().ne("")
        if bad.any():
            rows = ", ".join(str(r) for r in frame.loc[bad, "row"].head(5))
            warnings.append(f"{column}: {int(bad.sum())} date(s) could not be read (data rows {rows}); "
                            "they are left empty.")
        frame[column] = parsed
    return frame, warnings


MAX_SUPPLEMENT_BYTES = 64 << 20     # a supplement lists a few networks; more is not one


def read_supplement(path: str | Path, *, instrument: Instrument) -> pd.DataFrame:
    """The networks described outside the survey: a CSV whose header names instrument fields (q2, q3, ...)."""
    path = Path(path)
    fix = "Give the CSV of networks described outside the survey, or leave SUPPLEMENT empty to run without one."
    if str(path) in ("", "."):
        raise ExportError(f"{path}: the supplement path is empty or the current folder; leave --supplement out "
                          "(or SUPPLEMENT empty) to run without one, or give the supplement's CSV file.")
    raw = read_input(path, what="the supplement", fix=fix, limit=MAX_SUPPLEMENT_BYTES)
    for magic, kind in RECOGNISED_MAGIC.items():
        if raw.startswith(magic):
            raise ExportError(f"{path}: the supplement is {kind}, not a CSV file. {fix}")
    if raw.startswith((ZIP_MAGIC, *SAV_MAGIC)):
        raise ExportError(f"{path}: the supplement is an Excel or SPSS file; save it as CSV (UTF-8). {fix}")
    if b"\x00" in raw:
        raise ExportError(f"{path}: the supplement holds binary data, not text; save it as CSV (UTF-8). {fix}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows, line = [], 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        if "end of data" in str(exc) or "EOF" in str(exc):
            raise ExportError(f"{path}: the supplement is cut off inside a quoted cell that starts in line {line}; "
                              "a closing quote is missing. Save the file again from the program that made it.")
        raise ExportError(f"{path}: the supplement cannot be split into cells in line {line} ({exc}). {fix}")
    if not rows:
        raise ExportError(f"{path}: the supplement is empty; give a header row of fields (q2, q3, ...).")
    header = [h.strip() for h in rows[0][1]]
    allowed = [f for f in instrument.response_fields if not instrument.item(item_of(f)).personal]
    unknown = [h for h in header if h not in allowed]
    if unknown:
        shown = ", ".join(repr(h[:40]) if not h.isprintable() or not h else h[:40] for h in unknown[:10])
        raise ExportError(f"{path}: unknown column(s) {shown}; the header may use the fields "
                          f"{', '.join(allowed)}.")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise ExportError(f"{path}: the supplement's header names {', '.join(twice)} more than once; keep one "
                          "column per field.")
    werkplaats, network_name = instrument.the("werkplaats").id, instrument.the("network_name").id
    for required in (werkplaats, network_name):
        if required not in header:
            raise ExportError(f"{path}: the supplement needs a column {required} (werkplaats and network name).")
    body = []
    for number, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise ExportError(f"{path}: line {number} of the supplement has {len(row)} cells where the header "
                              f"has {len(header)}; a cell may hold an unquoted {delimiter!r}. Put quotes around "
                              "such cells, or add the missing column to the header.")
        body.append((number, (row + [""] * len(header))[:len(header)]))
    frame = pd.DataFrame([r for _, r in body], columns=header, dtype=object)
    for number, name in zip((n for n, _ in body), frame[network_name] if len(frame) else []):
        if not name.strip():
            raise ExportError(f"{path}: line {number} has no network name in column {network_name}.")
    return frame


def ingest(*, export_path: str | Path, instrument: Instrument, settings: Settings,
           supplement_path: str | Path | None = None, require_instrument: bool = True,
           not_names: frozenset[str] = frozenset()) -> IngestResult:
    """Read, map, filter and de-identify an export (and supplement) into the responses table. Third
    persons' names, e-mail addresses and phone numbers in typed answers become markers (pipeline.reading.deidentify;
    `not_names` are the researcher's exceptions, case-folded).

    Gives responses with response_key, source (survey or supplement), row, the dates, progress, duration,
    distribution_channel, user_language and every non-personal item field, all as text.
    """
    export = read_export(export_path)
    mapping, warnings = map_columns(export=export, instrument=instrument, min_confirmed=settings.min_items_mapped)
    warnings = export.warnings + warnings
    mapped_fields = {m.target for m in mapping if m.kind == "item"}
    items_mapped = [it.id for it in instrument.items if any(f in mapped_fields for f in it.fields)]
    items_missing = [it.id for it in instrument.items if it.id not in items_mapped]
    if require_instrument and len(items_mapped) < settings.min_items_mapped:
        raise ExportError(
            f"{export.path}: only {len(items_mapped)} of {len(instrument.items)} items of the WSD questionnaire "
            f"were found in this export (missing: {', '.join(items_missing)}). It looks like an export of "
            "another survey. Export the WSD survey, or adapt config/instrument.yaml if its questions were renamed.")
    if items_missing:
        warnings.append(f"item(s) {', '.join(items_missing)} not found in the export; their answers are left empty.")
    matrix = instrument.with_role("involvement")
    categories = [f for it in matrix for f in it.fields if f.endswith("_text")]
    if categories and not any(f in mapped_fields for f in categories):
        lacking = (f"{export.path}: the export has none of the text columns of {matrix[0].id} ({', '.join(categories)}, "
                   f"tags {matrix[0].export_tag}_1_TEXT..): the participant categories that the involvement tables are made of")
        if require_instrument:
            raise ExportError(f"{lacking}. Export again with every column (keep the text entries of q12), or "
                              "run `python -m pipeline inspect` on it to see which columns were found.")
        warnings.append(lacking + "; a run will refuse this export.")

    frame, date_warnings = build_responses(export=export, mapping=mapping, instrument=instrument,
                                           settings=settings)
    # The responses now hold every cell that is used; the raw cells are the largest object in memory.
    rows_in_file, export = len(export.cells), replace(export, cells=export.cells.iloc[:0])
    warnings += date_warnings
    unknown_status = sorted({s for s in frame["status"] if s.strip() and s.strip() not in STATUS_TEXT
                             and s.strip() not in STATUS_TEXT.values()})
    if unknown_status:
        warnings.append(f"unknown Status value(s) {', '.join(unknown_status)}: those responses are kept.")
    kept, drops = filter_responses(responses=frame, keep_unfinished=settings.keep_unfinished, instrument=instrument)
    personal = [f for it in instrument.items if it.personal for f in it.fields]
    clean = remove_personal_data(responses=kept, personal_fields=personal, typed_fields=list(instrument.typed_fields),
                                 salt=settings.response_id_salt)
    drops["response_key"] = pd.Series([hash_response_id(r, salt=settings.response_id_salt) if r else f"row-{row}"
                                       for r, row in zip(drops["response_id"], drops["row"])],
                                      index=drops.index, dtype=str)
    drops = drops.drop(columns="response_id")[["row", "response_key", "reason", "detail"]]
    clean.insert(1, "source", "survey")

    if supplement_path is not None:
        extra = read_supplement(supplement_path, instrument=instrument)
        extra.insert(0, "response_key", [f"supplement-{i}" for i in range(1, len(extra) + 1)])
        extra.insert(1, "source", "supplement")
        extra.insert(2, "row", range(1, len(extra) + 1))
        clean = pd.concat([clean, extra], ignore_index=True)

    # Third persons, in the survey's answers and the supplement's alike; the werkplaats and network name
    # stay as typed and their words are no names in the same response.
    context = [f for it in instrument.with_role("werkplaats", "network_name") for f in it.fields]
    clean = scrub_third_parties(clean, columns=[f for f in instrument.typed_fields if f not in personal],
                                context_columns=context, keep=not_names)
    fields = [f for f in instrument.response_fields if f not in personal]
    columns = ["response_key", "source", "row", *DATE_COLUMNS, "progress", "duration", "distribution_channel",
               "user_language", *fields]
    for column in columns:
        if column not in clean:
            clean[column] = ""
    clean = clean[columns]
    text_columns = [c for c in columns if c not in DATE_COLUMNS and c != "row"]
    clean[text_columns] = clean[text_columns].fillna("").astype(str)
    warnings += limit_numbers(clean, instrument=instrument)
    clean["row"] = clean["row"].astype("int64")
    return IngestResult(export=export, mapping=mapping, values=_values_kind(frame), responses=clean,
                        drops=drops, items_mapped=items_mapped, items_missing=items_missing, warnings=warnings,
                        supplement_path=Path(supplement_path) if supplement_path is not None else None,
                        rows_in_file=rows_in_file)


def file_record(path: str | Path) -> dict:
    """Name, size and SHA-256 of an input file, for the colophon and the manifest."""
    with Path(path).open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return {"name": Path(path).name, "bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def write_ingest(result: IngestResult, processed_dir: str | Path, *, settings: Settings | None = None,
                 personal: frozenset[str] = frozenset()) -> list[Path]:
    """Write responses.parquet, drops.csv, column_mapping.csv and ingest.json (with the settings the
    reading used, for the manifest); returns their paths."""
    processed = Path(processed_dir)
    responses = processed / "responses.parquet"
    write_parquet(result.responses, responses, schema=RESPONSES, extra_text_prefix="q", personal=personal)
    drops = processed / "drops.csv"
    check(result.drops, schema=DROPS, name=str(drops))
    write_atomic(drops, result.drops.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    mapping = processed / "column_mapping.csv"
    frame = pd.DataFrame([{"column": m.position + 1, "export_tag": m.tag, "target": m.target or "",
                           "kind": m.kind, "matched_by": m.matched_by or ""} for m in result.mapping])
    write_atomic(mapping, frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    summary = processed / "ingest.json"
    recorded = result.responses.loc[result.responses["source"] == "survey", "recorded_date"].dropna()
    record = {
        **result.summary(),
        "export_file": file_record(result.export.path),
        "supplement_file": file_record(result.supplement_path) if result.supplement_path else None,
        "supplement_networks": int((result.responses["source"] == "supplement").sum()),
        "first_response": recorded.min().isoformat() if len(recorded) else None,
        "last_response": recorded.max().isoformat() if len(recorded) else None,
        "drops": result.drops[["row", "reason", "detail"]].to_dict(orient="records"),
        "settings": settings.record() if settings else None,
    }
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [responses, drops, mapping, summary]


def run(ctx: Context) -> None:
    """The stage: the export (and supplement) read, filtered and de-identified into the processed folder;
    gives the frame `responses`."""
    config = ctx.config
    ctx.tell(f"ingest     reading {ctx.export}")
    result = ingest(export_path=ctx.export, supplement_path=ctx.supplement, instrument=config.instrument,
                    settings=config.settings, not_names=load_not_names(config.folder))
    written = write_ingest(result, ctx.processed, settings=config.settings, personal=config.instrument.personal_fields)
    s = result.summary()
    dropped = ", ".join(f"{v} {k}" for k, v in s["dropped"].items() if v) or "none"
    from_supplement = int((result.responses["source"] == "supplement").sum())
    ctx.tell(f"ingest     {s['format']} export, {s['responses']} responses: {s['kept']} kept, dropped {dropped}; "
             f"{s['items_mapped']} of {len(config.instrument.items)} items mapped"
             + (f"; {from_supplement} networks from the supplement" if from_supplement else ""))
    ctx.warn(result.warnings)
    again = (ctx.wave.previous_export_warning(export=ctx.export, response_keys=list(result.responses["response_key"]))
             if ctx.wave is not None else None)
    ctx.warn([again] if again else [])
    ctx.wrote(written)
    ctx.give(responses=result.responses)
