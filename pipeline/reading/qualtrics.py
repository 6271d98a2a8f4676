"""Reads any file Qualtrics writes into one shape: column descriptions plus a table of text cells.

Detects the variant from the content, never the file name: the current CSV (three header rows, UTF-8
with or without BOM), TSV in UTF-16, the legacy CSV (V1..V10, two header rows, trailing comma), the
2016-17 "insights" CSV (Python-dict ImportIds), Excel .xlsx, SPSS .sav, and a CSV that Excel re-saved
(";" separator, Windows-1252), which is read with a warning. The file is only ever opened for reading.

Over 500 lines: the variants share the reading of the header rows and the messages that say where a broken
file breaks, so they are kept in one module of two sections (text files; Excel and SPSS).
"""

from __future__ import annotations

import ast
import codecs
import csv
import io
import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from html import unescape
from pathlib import Path

import pandas as pd

from pipeline.core.errors import ExportError

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

# Limits on what one export may hold; each is named in the message of a file that exceeds it. They lie far
# above any real wave (100,000 responses of this questionnaire are 224 MB and 6 million cells).
MAX_FILE_BYTES = 1 << 30              # an export or supplement on disk
MAX_COLUMNS = 20_000                  # columns in the header (Excel itself stops at 16,384)
MAX_ROWS = 2_000_000                  # data rows
MAX_CELLS = 50_000_000                # data rows x columns
MAX_XLSX_UNPACKED = 1 << 30           # the parts of an .xlsx, unpacked
MAX_XLSX_RATIO = 200                  # unpacked size / packed size of one part of an .xlsx (a zip bomb: ~1000)
MAX_IMPORT_ID_CHARS = 2_000           # one cell of the ImportId row
MAX_NESTING = 20                      # brackets inside one ImportId


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
        """The zone of the date columns as row 3 names it (an IANA name, "UTC" for "Z"), or None when absent."""
        zones = [c.time_zone for c in self.columns if c.time_zone]
        return zones[0] if zones else None


_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def read_input(path: str | Path, *, what: str, fix: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of an input file; ExportError unless it is a readable regular file of at most `limit` bytes.

    Opened without blocking and checked before reading, so a pipe, a device or a sparse giant never hangs
    the run or fills the memory.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ExportError(f"{path}: file not found ({what}). {fix}")
    except IsADirectoryError:
        raise ExportError(f"{path}: is a folder, not {what}. {fix}")
    except PermissionError:
        raise ExportError(f"{path}: {what} cannot be read (no read permission). Give yourself read access "
                          f"(for example `chmod u+r {path}`) or copy the file.")
    except OSError as exc:
        raise ExportError(f"{path}: {what} cannot be opened ({exc.strerror or exc}). {fix}")
    info = os.fstat(fd)
    for is_kind, kind in _FILE_KINDS:
        if is_kind(info.st_mode):
            os.close(fd)
            raise ExportError(f"{path}: is {kind}, not a file; only a regular file can be read as {what}. {fix}")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise ExportError(f"{path}: {what} is {info.st_size:,} bytes, over the limit of {limit:,} bytes "
                              f"(MAX_FILE_BYTES). {fix}")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ExportError(f"{path}: {what} cannot be read ({exc.strerror or exc}). {fix}")
    if len(data) > limit:    # grew while being read
        raise ExportError(f"{path}: {what} is over the limit of {limit:,} bytes (MAX_FILE_BYTES). {fix}")
    return data


def read_export(path: str | Path) -> RawExport:
    """Read a Qualtrics export of any variant. Raises ExportError with what is wrong and what to do."""
    path = Path(path)
    raw = read_input(path, what="the export", fix="Give the path of the .csv, .tsv, .xlsx or .sav file "
                     "as Qualtrics wrote it; exports usually live in data/raw/.")
    if not raw or raw.isspace():
        raise ExportError(f"{path}: the file is empty ({len(raw)} bytes). {HOW_TO_EXPORT}")
    if raw.startswith(SAV_MAGIC):
        return _read_sav(path)
    if raw.startswith(ZIP_MAGIC):
        return _read_xlsx(path, raw)
    for magic, kind in RECOGNISED_MAGIC.items():
        if raw.startswith(magic):
            raise ExportError(f"{path}: this is {kind}, not a Qualtrics export. {HOW_TO_EXPORT}")
    data, start, encoding, warnings = _as_utf8(path, raw)
    return _read_text(path, data, start, encoding, warnings)


# ---------------------------------------------------------------------------------------- text files

# Qualtrics allows long answers; the csv module's default cell limit (128 kB) would refuse them.
MAX_CELL = 16 * 1024 * 1024


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as Windows-1252 (a stray Latin-1 letter), instead of failing."""
    bad = error.object[error.start:error.start + 1]
    return bad.decode("cp1252", errors="replace"), error.start + 1


codecs.register_error("wsd_latin1_fallback", _latin1_fallback)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def _first_bad_utf8(data: bytes, start: int) -> int | None:
    """Offset of the first byte that is not UTF-8, or None; checked in slices so no copy of the file is made."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for at in range(start, len(data), 1 << 20):
            decoder.decode(view[at:at + (1 << 20)])
        decoder.decode(b"", final=True)
        return None
    except UnicodeDecodeError:
        try:
            data[start:].decode("utf-8")
        except UnicodeDecodeError as exc:
            return start + exc.start
        return None


def _as_utf8(path: Path, raw: bytes) -> tuple[bytes, int, str, list[str]]:
    """(UTF-8 bytes, offset of the text in them, the file's encoding, warnings); a UTF-8 file is not copied."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").encode("utf-8"), 0, "utf-16", []
        except UnicodeDecodeError:
            raise ExportError(f"{path}: starts like UTF-16 text but cannot be decoded; the file may be "
                              f"damaged. {HOW_TO_EXPORT}")
    bom = raw.startswith(codecs.BOM_UTF8)
    start = len(codecs.BOM_UTF8) if bom else 0
    if not bom and b"\x00" in raw[:4096]:
        raise ExportError(f"{path}: contains binary data, not text; this is not a Qualtrics export. "
                          f"{HOW_TO_EXPORT}")
    first = _first_bad_utf8(raw, start)
    if first is None:
        return raw, start, "utf-8-sig" if bom else "utf-8", []
    body = raw[start:]
    if bom or _UTF8_MULTIBYTE.search(body):
        # UTF-8 with a few stray bytes (text pasted from another program): keep the UTF-8, read the strays as
        # Windows-1252 letters.
        text = body.decode("utf-8", errors="wsd_latin1_fallback")
        return text.encode("utf-8"), 0, "utf-8-sig" if bom else "utf-8", [
            f"the file is UTF-8 but holds bytes that are not (the first at offset {first}); they were read as "
            "Windows-1252 letters. Check the accented letters of that answer in the report."]
    return body.decode("cp1252", errors="replace").encode("utf-8"), 0, "cp1252", [
        f"the file is not UTF-8 (first bad byte at offset {first}); it was read as Windows-1252, as Excel "
        "writes it. Check accented letters in the report."]


class _Lines:
    """The lines of UTF-8 bytes as text, one at a time, remembering where the next one starts."""

    def __init__(self, data: bytes, start: int):
        self.data, self.position = data, start
        head = data[start:start + (1 << 16)]
        # Old Mac Excel ends lines with CR alone and keeps LF for the line breaks inside cells.
        cr_only = b"\r" in head and b"\r\n" not in head and head.count(b"\r") >= head.count(b"\n")
        self.end_of_line = b"\r" if cr_only else b"\n"

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.position >= len(self.data):
            raise StopIteration
        end = self.data.find(self.end_of_line, self.position)
        end = len(self.data) if end < 0 else end + 1
        line = self.data[self.position:end].decode("utf-8")
        self.position = end
        return line


def _sniff_delimiter(first_line: str, path: Path | None = None) -> str:
    """The separator the header row uses most; a header of one column has none, and then the file's name
    says it (a one-column API export is a CSV, not a TSV)."""
    counts = {sep: first_line.count(sep) for sep in ("\t", ",", ";")}
    if not any(counts.values()):
        return "\t" if path is not None and path.suffix.lower() in (".tsv", ".tab") else ","
    return max(counts, key=lambda sep: counts[sep])


def _parse_rows(path: Path, lines, delimiter: str, limit: int | None = None) -> tuple[list[list[str]], list[int]]:
    """Split lines into rows with the csv module, which keeps newlines inside quoted cells.

    Gives the rows and, after each row, how far `lines` had read (its position, when it has one).
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    ends: list[int] = []
    row_starts_at = 1
    while limit is None or len(rows) < limit:
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
        ends.append(getattr(lines, "position", 0))
        row_starts_at = reader.line_num + 1
    return rows, ends


def _body_fast(data: bytes, offset: int, width: int, delimiter: str) -> pd.DataFrame | None:
    """The data rows parsed by Arrow's CSV reader (fast, compact text columns); None when a row is malformed,
    so that the csv module can say exactly where."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(offset)),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None
    frame = table.to_pandas()
    frame.columns = range(width)
    end = len(frame)
    while end and not any(cell.strip() for cell in frame.iloc[end - 1]):
        end -= 1   # Excel leaves rows of empty cells at the end of a re-saved file
    return frame.iloc[:end]


def _looks_json_ids(row: list[str]) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and sum(c.startswith("{") and "ImportId" in c for c in cells) >= len(cells) / 2


def _parse_import_id(cell: str) -> tuple[str | None, object]:
    """(ImportId, the timeZone value as given) of one cell of row 3; (None, None) when it is not one."""
    cell = cell.strip()
    if not cell or len(cell) > MAX_IMPORT_ID_CHARS or cell.count("{") + cell.count("[") > MAX_NESTING:
        return None, None    # not an ImportId; deep nesting would exhaust the parsers' recursion
    try:
        spec = json.loads(cell)
    except (ValueError, RecursionError):
        try:
            spec = ast.literal_eval(cell)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None, None
    if not isinstance(spec, dict):
        return None, None
    import_id = spec.get("ImportId")
    if isinstance(import_id, (dict, list)):
        import_id = None
    return (str(import_id) if import_id is not None else None), spec.get("timeZone")


# An IANA name: Area/Location[/Sub] of letters, digits, "_", "-", "+"; never "..", never a leading "/".
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,30}(?:/[A-Za-z0-9][A-Za-z0-9_+-]{0,30}){0,2}")


def time_zone_name(value: object) -> str | None:
    """`value` as an IANA time zone name ("Z" is UTC) when the zone database has it, else None.

    The name's shape is checked first, so a value is only ever looked up by name, never as a path.
    """
    if not isinstance(value, str):
        return None
    name = "UTC" if value.strip() == "Z" else value.strip()
    if not _ZONE_NAME.fullmatch(name):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


def _read_text(path: Path, data: bytes, start: int, encoding: str, warnings: list[str]) -> RawExport:
    lines = _Lines(data, start)
    first_line = next(lines, "")
    delimiter = _sniff_delimiter(first_line, path)
    lines.position = start
    container = "tsv" if delimiter == "\t" else "csv"
    ends_with_newline = data.endswith((b"\n", b"\r"))
    head, ends = _parse_rows(path, lines, delimiter, limit=4)
    if head:
        _check_size(path, columns=len(head[0]))
        if data.count(b"\n") + data.count(b"\r") + data.count(delimiter.encode()) > 4 * MAX_CELLS:
            raise ExportError(f"{path}: holds far more than {MAX_CELLS:,} cells, the limit (MAX_CELLS). Export "
                              "fewer responses at a time, or only the questions of the WSD questionnaire.")
        noted = list(warnings)
        header = _header_rows(path, head, noted)
        body = _body_fast(data, ends[header[-1]], len(head[0]), delimiter)
        if body is not None and len(body):
            return _from_cells(path, [head[i] for i in header], body, container=container, encoding=encoding,
                               delimiter=delimiter, warnings=noted)
    # A malformed or empty file: the csv module, row by row, finds what is wrong and where.
    rows, _ = _parse_rows(path, _Lines(data, start), delimiter)
    return _from_rows(path, rows, container=container, encoding=encoding, delimiter=delimiter,
                      warnings=warnings, ends_with_newline=ends_with_newline)


def _check_size(path: Path, *, columns: int, rows: int = 0) -> None:
    """ExportError when a header or a body exceeds MAX_COLUMNS, MAX_ROWS or MAX_CELLS."""
    if columns > MAX_COLUMNS:
        raise ExportError(f"{path}: the header has {columns:,} columns, over the limit of {MAX_COLUMNS:,} "
                          "(MAX_COLUMNS). The file may be damaged, or export only the questions of the WSD "
                          "questionnaire.")
    if rows > MAX_ROWS:
        raise ExportError(f"{path}: has {rows:,} data rows, over the limit of {MAX_ROWS:,} (MAX_ROWS). Export "
                          "fewer responses at a time.")
    if rows * columns > MAX_CELLS:
        raise ExportError(f"{path}: has {rows:,} rows of {columns:,} columns, over the limit of {MAX_CELLS:,} "
                          "cells (MAX_CELLS). Export fewer responses at a time.")


def _header_like(header: list[list[str]], cells: pd.DataFrame) -> pd.Series:
    """Per data row: does it repeat a header row (export tags, labels or ImportIds)? Such rows come from
    a header pasted twice or from two exports joined into one file, and are no responses."""
    like = pd.Series(False, index=cells.index)
    if cells.empty:
        return like
    stripped = {i: cells[i].str.strip() for i in cells.columns}
    for row in header:
        wanted = {i: cell.strip() for i, cell in enumerate(row) if i in stripped and cell.strip()}
        if len(wanted) < 2:
            continue
        same = sum(stripped[i].eq(cell).to_numpy(dtype=int) for i, cell in wanted.items())
        like |= same >= max(2, (len(wanted) + 1) // 2)
    ids = sum((stripped[i].str.startswith("{") & stripped[i].str.contains("ImportId", regex=False))
              .to_numpy(dtype=int) for i in stripped)
    filled = sum(stripped[i].ne("").to_numpy(dtype=int) for i in stripped)
    return like | ((ids >= 2) & (ids * 2 >= filled))


FIRST_ROW_TWICE = ("the first header row is in the file twice (a header pasted twice); the second is skipped. "
                   "Check that the file holds one export.")


def _header_rows(path: Path, rows: list[list[str]], warnings: list[str]) -> list[int]:
    """Which of the first rows are the header (0, 1, 2; or 0, 1 in the legacy layout). A first row repeated
    right below itself, above the label and ImportId rows, is skipped with a warning: read as it stands it
    looks like the legacy layout, and its label row would become a response."""
    if (len(rows) >= 4 and rows[1] == rows[0] and not _looks_json_ids(rows[2]) and _looks_json_ids(rows[3])):
        warnings.append(FIRST_ROW_TWICE)
        return [0, 2, 3]
    return list(range(_layout_of(path, rows)[1]))


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
    """A RawExport from rows of cells, after checking that every data row is as wide as the header."""
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise ExportError(f"{path}: the file is empty. {HOW_TO_EXPORT}")
    warnings = list(warnings)
    kept = _header_rows(path, rows, warnings)
    header, body = [rows[i] for i in kept], rows[kept[-1] + 1:]
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
    cells = pd.DataFrame(body, columns=range(width), dtype=str)
    return _from_cells(path, header, cells, container=container, encoding=encoding, delimiter=delimiter,
                       warnings=warnings)


def _from_cells(path: Path, header: list[list[str]], cells: pd.DataFrame, *, container: str,
                encoding: str | None, delimiter: str | None, warnings: list[str]) -> RawExport:
    """A RawExport from the header rows and the data cells (columns 0..width-1, text)."""
    layout, n_header = _layout_of(path, header)
    width = len(header[0])
    _check_size(path, columns=width, rows=len(cells))
    repeated = _header_like(header, cells)
    if repeated.any():
        numbers = [int(n) + 1 for n in cells.index[repeated.to_numpy()]]
        shown = ", ".join(map(str, numbers[:5])) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
        warnings = warnings + [f"{len(numbers)} data row(s) repeat the header rows (data row(s) {shown}): a "
                               "header pasted twice, or two exports joined into one file. They are skipped, not "
                               "counted as responses; check that the file holds one export."]
        cells = cells[~repeated.to_numpy()]
        if cells.empty:
            raise ExportError(f"{path}: has the header rows of a Qualtrics export but no responses (only rows "
                              f"that repeat the header). {HOW_TO_EXPORT}")
    tags = header[0]
    labels = header[1] if n_header >= 2 else tags
    id_row = header[2] if n_header >= 3 else [""] * width
    columns: list[ExportColumn] = []
    keep: list[int] = []
    for i in range(width):
        tag, label = tags[i].strip(), labels[i] if i < len(labels) else ""
        if not tag and not label.strip() and cells[i].str.strip().eq("").all():
            continue  # the legacy format's trailing comma
        import_id, given_zone = _parse_import_id(id_row[i]) if i < len(id_row) else (None, None)
        zone = time_zone_name(given_zone)
        if given_zone is not None and zone is None:
            shown = given_zone if isinstance(given_zone, str) else json.dumps(given_zone)
            warnings = warnings + [f"column {i + 1} ({tag}): the time zone {shown[:60]!r} in the ImportId row is "
                                   "not a time zone of the IANA database (such as Europe/Amsterdam); it is ignored."]
        columns.append(ExportColumn(position=len(columns), tag=tag, label=label, import_id=import_id,
                                    time_zone=zone))
        keep.append(i)
    cells = cells[keep].set_axis(range(len(keep)), axis=1)

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


def _check_zip(path: Path, raw: bytes) -> None:
    """ExportError for a workbook that is encrypted, or would unpack past MAX_XLSX_UNPACKED (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise ExportError(f"{path}: a zip file but not a readable Excel workbook ({exc}). {HOW_TO_EXPORT}")
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise ExportError(f"{path}: the workbook is encrypted (password-protected); save it without a password, "
                          f"or export again. {HOW_TO_EXPORT}")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_XLSX_UNPACKED:
        raise ExportError(f"{path}: the workbook would unpack to {unpacked:,} bytes, over the limit of "
                          f"{MAX_XLSX_UNPACKED:,} (MAX_XLSX_UNPACKED). Export as CSV instead, or fewer responses.")
    for entry in entries:
        if entry.file_size > (1 << 20) and entry.file_size > MAX_XLSX_RATIO * max(entry.compress_size, 1):
            raise ExportError(f"{path}: part {entry.filename} of the workbook unpacks to {entry.file_size:,} bytes "
                              f"from {entry.compress_size:,}, more than {MAX_XLSX_RATIO} times (MAX_XLSX_RATIO): "
                              f"not a workbook Excel or Qualtrics writes. {HOW_TO_EXPORT}")


def _read_xlsx(path: Path, raw: bytes) -> RawExport:
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook

    _check_zip(path, raw)
    rows: list[list[str]] = []
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            if not book.worksheets:
                raise ExportError(f"{path}: the workbook has no worksheets. {HOW_TO_EXPORT}")
            sheet = book.worksheets[0]
            # The size the sheet claims is ignored: a false "A1:XFD1048576" would pad every row to 16,384 cells.
            sheet.reset_dimensions()
            cells = 0
            for row in sheet.iter_rows(values_only=True):
                while row and row[-1] is None:
                    row = row[:-1]
                _check_size(path, columns=len(row))
                cells += len(row)
                if len(rows) > MAX_ROWS or cells > MAX_CELLS:
                    _check_size(path, columns=max(len(r) for r in rows), rows=len(rows))
                    raise ExportError(f"{path}: the workbook holds more than {MAX_CELLS:,} cells, the limit "
                                      "(MAX_CELLS). Export fewer responses at a time.")
                rows.append([_cell_text(v) for v in row])
        finally:
            book.close()
    except ExportError:
        raise
    except MemoryError:
        raise ExportError(f"{path}: the workbook needs more memory than is free to read; export as CSV instead.")
    # A damaged workbook fails inside openpyxl, zipfile, zlib or the XML parser in ways of their own (cut XML,
    # shared strings out of range, missing parts, corrupt deflate data, broken styles, entity bombs): all of
    # them mean the same to the researcher.
    except (zipfile.BadZipFile, zlib.error, ParseError, KeyError, IndexError, ValueError, TypeError, NotImplementedError,
            AttributeError, OSError, EOFError, RecursionError, LookupError, SyntaxError, OverflowError,
            struct.error) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ExportError(f"{path}: the Excel workbook is damaged and cannot be read ({exc.__class__.__name__}"
                          f"{': ' + reason if reason else ''}). Open it in Excel and save it again, or "
                          f"{HOW_TO_EXPORT[0].lower()}{HOW_TO_EXPORT[1:]}")
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
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
