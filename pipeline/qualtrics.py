"""Reads any file Qualtrics writes into one shape: column descriptions plus a table of text cells.

Detects the variant from the content, never the file name: the current CSV (three header rows, UTF-8
with or without BOM), TSV in UTF-16, the legacy CSV (V1..V10, two header rows, trailing comma), the
2016-17 "insights" CSV (Python-dict ImportIds), Excel .xlsx, SPSS .sav, and a CSV that Excel re-saved
(";" separator, Windows-1252), which is read with a warning. The file is only ever opened for reading.
"""

from __future__ import annotations

import ast
import codecs
import csv
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from html import unescape
from pathlib import Path

import pandas as pd

from pipeline.errors import ExportError

RECOGNISED_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
}
SAV_MAGIC = (b"$FL2", b"$FL3")
ZIP_MAGIC = b"PK\x03\x04"

HOW_TO_EXPORT = ("Export the responses again from Qualtrics (Data & Analysis > Export & Import > "
                 "Export Data, format CSV, TSV, Excel or SPSS).")


@dataclass(frozen=True)
class ExportColumn:
    """What the header rows say about one column: export tag, label, ImportId and its time zone."""

    position: int
    tag: str
    label: str
    import_id: str | None = None
    time_zone: str | None = None


@dataclass
class RawExport:
    """A Qualtrics file as read: `cells` holds every data cell as text ("" when empty), columns 0..n-1."""

    path: Path
    format: str          # new, legacy, insights, tsv, xlsx, sav
    layout: str          # new, legacy, insights or sav: which header rows the file has
    encoding: str | None
    columns: list[ExportColumn]
    cells: pd.DataFrame
    columns_in_file: int
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)
    excel_resaved: bool = False

    @property
    def time_zone(self) -> str | None:
        """The zone of the date columns as row 3 names it ("Z" is UTC), or None when absent."""
        zones = [c.time_zone for c in self.columns if c.time_zone]
        if not zones:
            return None
        return "UTC" if zones[0] == "Z" else zones[0]


def read_export(path: str | Path) -> RawExport:
    """Read a Qualtrics export of any variant. Raises ExportError with what is wrong and what to do."""
    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path}: file not found. Check the path; exports usually live in data/raw/.")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder, not an export file. Give the path of the .csv, .tsv, "
                          ".xlsx or .sav file.")
    raw = path.read_bytes()
    if not raw.strip():
        raise ExportError(f"{path}: the file is empty ({len(raw)} bytes). {HOW_TO_EXPORT}")
    if raw.startswith(SAV_MAGIC):
        return _read_sav(path)
    if raw.startswith(ZIP_MAGIC):
        return _read_xlsx(path, raw)
    for magic, kind in RECOGNISED_MAGIC.items():
        if raw.startswith(magic):
            raise ExportError(f"{path}: this is {kind}, not a Qualtrics export. {HOW_TO_EXPORT}")
    text, encoding, warnings = _decode(path, raw)
    return _read_text(path, text, encoding, warnings)


# ---------------------------------------------------------------------------------------- text files

# Qualtrics allows long answers; the csv module's default cell limit (128 kB) would refuse them.
MAX_CELL = 16 * 1024 * 1024


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as Windows-1252 (a stray Latin-1 letter), instead of failing."""
    bad = error.object[error.start:error.start + 1]
    return bad.decode("cp1252", errors="replace"), error.start + 1


codecs.register_error("wsd_latin1_fallback", _latin1_fallback)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def _decode(path: Path, raw: bytes) -> tuple[str, str, list[str]]:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            raise ExportError(f"{path}: starts like UTF-16 text but cannot be decoded; the file may be "
                              f"damaged. {HOW_TO_EXPORT}")
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8):] if bom else raw
    if not bom and b"\x00" in raw[:4096]:
        raise ExportError(f"{path}: contains binary data, not text; this is not a Qualtrics export. "
                          f"{HOW_TO_EXPORT}")
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8", []
    except UnicodeDecodeError as exc:
        first = exc.start + (len(codecs.BOM_UTF8) if bom else 0)
    if bom or _UTF8_MULTIBYTE.search(body):
        # UTF-8 with a few stray bytes (text pasted from another program): keep the UTF-8, read the strays as
        # Windows-1252 letters.
        text = body.decode("utf-8", errors="wsd_latin1_fallback")
        return text, "utf-8-sig" if bom else "utf-8", [
            f"the file is UTF-8 but holds bytes that are not (the first at offset {first}); they were read as "
            "Windows-1252 letters. Check the accented letters of that answer in the report."]
    return body.decode("cp1252", errors="replace"), "cp1252", [
        f"the file is not UTF-8 (first bad byte at offset {first}); it was read as Windows-1252, as Excel "
        "writes it. Check accented letters in the report."]


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {sep: first_line.count(sep) for sep in ("\t", ",", ";")}
    return max(counts, key=lambda sep: counts[sep])


def _parse_rows(path: Path, text: str, delimiter: str) -> list[list[str]]:
    """Split text into rows with the csv module, which keeps newlines inside quoted cells."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    row_starts_at = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "end of data" in str(exc):
                raise ExportError(f"{path}: the file is cut off inside a quoted cell that starts in line "
                                  f"{row_starts_at}. Download the export again.")
            raise ExportError(f"{path}: cannot be split into cells in line {row_starts_at} ({exc}). "
                              f"The file may be damaged. {HOW_TO_EXPORT}")
        rows.append(row)
        row_starts_at = reader.line_num + 1
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    return rows


def _looks_json_ids(row: list[str]) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and sum(c.startswith("{") and "ImportId" in c for c in cells) >= len(cells) / 2


def _parse_import_id(cell: str) -> tuple[str | None, str | None]:
    cell = cell.strip()
    if not cell:
        return None, None
    try:
        spec = json.loads(cell)
    except ValueError:
        try:
            spec = ast.literal_eval(cell)
        except (ValueError, SyntaxError):
            return None, None
    if not isinstance(spec, dict):
        return None, None
    import_id = spec.get("ImportId")
    return (str(import_id) if import_id is not None else None), spec.get("timeZone")


def _read_text(path: Path, text: str, encoding: str, warnings: list[str]) -> RawExport:
    delimiter = _sniff_delimiter(text)
    rows = _parse_rows(path, text, delimiter)
    return _from_rows(path, rows, container="tsv" if delimiter == "\t" else "csv", encoding=encoding,
                      delimiter=delimiter, warnings=warnings, ends_with_newline=text.endswith(("\n", "\r")))


def _layout_of(path: Path, rows: list[list[str]]) -> tuple[str, int]:
    """(layout, number of header rows) from the header cells themselves."""
    if len(rows) >= 3 and _looks_json_ids(rows[2]):
        first_id = next(c for c in rows[2] if c.strip())
        return ("insights" if first_id.strip().startswith("{'") else "new"), 3
    if rows and [c.strip() for c in rows[0][:10]] == [f"V{i}" for i in range(1, 11)]:
        return "legacy", 2
    if len(rows) >= 2 and rows[1][:1] and rows[1][0].strip() in ("ResponseID", "StartDate", "Start Date"):
        return "legacy", 2
    raise ExportError(f"{path}: not a Qualtrics export: the header has no ImportId row (row 3) and does not "
                      f"start with V1..V10. {HOW_TO_EXPORT}")


def _from_rows(path: Path, rows: list[list[str]], *, container: str, encoding: str | None,
               delimiter: str | None, warnings: list[str], ends_with_newline: bool) -> RawExport:
    if not rows:
        raise ExportError(f"{path}: the file is empty. {HOW_TO_EXPORT}")
    layout, n_header = _layout_of(path, rows)
    header, body = rows[:n_header], rows[n_header:]
    width = len(header[0])
    if not body:
        raise ExportError(f"{path}: has the header rows of a Qualtrics export but no responses. Check the "
                          "export's filters in Qualtrics (for example 'only finished responses' or a date "
                          "range) and export again.")
    for number, row in enumerate(body, start=1):
        if len(row) < width and number == len(body) and not ends_with_newline:
            raise ExportError(f"{path}: the file is cut off in data row {number} (it has {len(row)} of {width} "
                              f"columns and no line end). Download the export again.")
        if len(row) != width:
            raise ExportError(f"{path}: data row {number} has {len(row)} cells where the header has {width}. "
                              f"The file may be damaged or cut off. {HOW_TO_EXPORT}")

    tags = header[0]
    labels = header[1] if n_header >= 2 else tags
    id_row = header[2] if n_header >= 3 else [""] * width
    columns: list[ExportColumn] = []
    keep: list[int] = []
    for i in range(width):
        tag, label = tags[i].strip(), labels[i] if i < len(labels) else ""
        if not tag and not label.strip() and all(not r[i].strip() for r in body):
            continue  # the legacy format's trailing comma
        import_id, zone = _parse_import_id(id_row[i]) if i < len(id_row) else (None, None)
        columns.append(ExportColumn(position=len(columns), tag=tag, label=label, import_id=import_id,
                                    time_zone=zone))
        keep.append(i)
    cells = pd.DataFrame([[row[i] for i in keep] for row in body], columns=range(len(keep)), dtype=object)

    excel_resaved = delimiter == ";" or encoding == "cp1252"
    if excel_resaved:
        warnings = warnings + ["the file looks re-saved by Excel (separator "
                               f"{'semicolon' if delimiter == ';' else repr(delimiter)}, encoding {encoding}); "
                               "dates are read day-first. Prefer the file exactly as Qualtrics wrote it."]
    fmt = {"csv": layout, "tsv": "tsv"}.get(container, container)
    return RawExport(path=path, format=fmt, layout=layout, encoding=encoding, columns=columns, cells=cells,
                     columns_in_file=width, delimiter=delimiter, warnings=warnings, excel_resaved=excel_resaved)


# ---------------------------------------------------------------------------------------- Excel, SPSS

def _cell_text(value: object) -> str:
    """A spreadsheet or SPSS value as the text a CSV export would hold."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _read_xlsx(path: Path, raw: bytes) -> RawExport:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExportError(f"{path}: a zip file but not a readable Excel workbook ({exc.__class__.__name__}). "
                          f"{HOW_TO_EXPORT}")
    sheet = book.worksheets[0]
    rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    return _from_rows(path, rows, container="xlsx", encoding=None, delimiter=None, warnings=[],
                      ends_with_newline=True)


def _read_sav(path: Path) -> RawExport:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=False)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and plain exceptions alike
        raise ExportError(f"{path}: starts like an SPSS file but cannot be read ({exc}). {HOW_TO_EXPORT}")
    if frame.empty:
        raise ExportError(f"{path}: has the variables of a Qualtrics export but no responses. Check the "
                          "export's filters in Qualtrics and export again.")
    columns = []
    for i, name in enumerate(meta.column_names):
        label = (meta.column_labels[i] if meta.column_labels else None) or name
        columns.append(ExportColumn(position=i, tag=name, label=label))
    cells = pd.DataFrame({i: [_cell_text(v) for v in frame[name].tolist()]
                          for i, name in enumerate(meta.column_names)}, dtype=object)
    return RawExport(path=path, format="sav", layout="sav", encoding=meta.file_encoding, columns=columns,
                     cells=cells, columns_in_file=len(columns))


def strip_html(text: str) -> str:
    """Label text without tags and entities, as a researcher reads it."""
    return unescape(re.sub(r"<[^>]+>", " ", text))
