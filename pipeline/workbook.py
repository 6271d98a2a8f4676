"""Excel workbooks researchers can open safely: text stays text, headers stay in view, bytes are stable."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.schemas import write_atomic

HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
MAX_WIDTH = 80
# Excel refuses characters below 0x20 other than tab and newline inside cells.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def put(ws: Worksheet, row: int, column: int, value) -> Cell:
    """Write one value; strings are always stored as text, so "=HYPERLINK(...)" is never a formula."""
    cell = ws.cell(row=row, column=column)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return cell
    if isinstance(value, str):
        cell.value = _ILLEGAL.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value.item() if hasattr(value, "item") else value
    return cell


def add_sheet(wb: Workbook, title: str, frame: pd.DataFrame, *, wrap: tuple[str, ...] = (),
              widths: dict[str, int] | None = None) -> Worksheet:
    """A sheet with a bold, frozen, filterable header row and readable column widths."""
    ws = wb.create_sheet(title=title[:31])
    for j, name in enumerate(frame.columns, start=1):
        cell = put(ws, 1, j, str(name))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for i, values in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(values, start=1):
            cell = put(ws, i, j, value)
            if frame.columns[j - 1] in wrap:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
    for j, width in enumerate(_widths(frame, widths), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A2"
    if len(frame.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    return ws


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def _widths(frame: pd.DataFrame, widths: dict[str, int] | None) -> list[float]:
    out = []
    for j, name in enumerate(frame.columns):
        if widths and name in widths:
            out.append(max(8, widths[name]))
            continue
        longest = max([len(str(name))] + [max(len(line) for line in str(v).split("\n"))
                                          for v in frame.iloc[:, j] if isinstance(v, str) or not pd.isna(v)])
        out.append(max(8, min(MAX_WIDTH, longest + 2)))
    return out


class StreamedWorkbook:
    """A workbook for tables of many thousands of rows, written with XlsxWriter (several times faster than
    openpyxl) into memory; same look as add_sheet: bold frozen filterable header, widths, text as text."""

    def __init__(self) -> None:
        import tempfile

        import xlsxwriter
        # constant_memory flushes every row to a temporary file, so memory does not grow with the table.
        self._folder = tempfile.TemporaryDirectory(prefix="wsd-xlsx-")
        self._path = Path(self._folder.name) / "tables.xlsx"
        self.book = xlsxwriter.Workbook(str(self._path), {
            "constant_memory": True, "tmpdir": self._folder.name, "strings_to_formulas": False,
            "strings_to_numbers": False, "strings_to_urls": False})
        self.header = self.book.add_format({"bold": True, "bg_color": "#DDE3EA", "text_wrap": True, "valign": "top"})
        self.wrapped = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.formats: dict[str, object] = {}

    def number_format(self, pattern: str):
        if pattern not in self.formats:
            self.formats[pattern] = self.book.add_format({"num_format": pattern, "valign": "top"})
        return self.formats[pattern]

    def add(self, title: str, frame: pd.DataFrame, *, wrap: tuple[str, ...] = (),
            widths: dict[str, int] | None = None, number_formats: dict[str, str] | None = None) -> None:
        ws = self.book.add_worksheet(title[:31])
        for j, (name, width) in enumerate(zip(frame.columns, _widths(frame, widths))):
            fmt = self.wrapped if name in wrap else (self.number_format((number_formats or {})[name])
                                                      if name in (number_formats or {}) else None)
            ws.set_column(j, j, width, fmt)
            ws.write_string(0, j, _ILLEGAL.sub("", str(name)), self.header)
        ws.freeze_panes(1, 0)
        if len(frame.columns):
            ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
        for i, values in enumerate(frame.itertuples(index=False), start=1):
            for j, value in enumerate(values):
                if isinstance(value, str):
                    if value:
                        ws.write_string(i, j, _ILLEGAL.sub("", value))
                elif value is not None and not pd.isna(value):
                    ws.write_number(i, j, float(value) if not isinstance(value, (int, bool)) else int(value))

    def bytes(self, *, timestamp: datetime) -> bytes:
        self.book.set_properties({"author": "WSD leernetwerken pipeline", "created": timestamp})
        self.book.close()
        try:
            return normalised_zip(self._path.read_bytes(), timestamp=timestamp)
        finally:
            self._folder.cleanup()


def workbook_bytes(wb: Workbook, *, timestamp: datetime) -> bytes:
    """The .xlsx bytes with `timestamp` as creation and modification time, so equal input gives equal bytes."""
    wb.properties.creator = "WSD leernetwerken pipeline"
    raw = io.BytesIO()
    wb.save(raw)
    return normalised_zip(raw.getvalue(), timestamp=timestamp)


def normalised_zip(data: bytes, *, timestamp: datetime) -> bytes:
    """An .xlsx whose zip entries and document times all carry `timestamp`."""
    stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            entry = zipfile.ZipInfo(info.filename, date_time=timestamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return out.getvalue()


def save(wb: Workbook, path: Path, *, timestamp: datetime) -> None:
    write_atomic(path, workbook_bytes(wb, timestamp=timestamp))
