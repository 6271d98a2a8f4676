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


def streamed_workbook() -> Workbook:
    """A write-only workbook: rows are streamed to disk, for tables of many thousands of rows."""
    return Workbook(write_only=True)


def stream_sheet(wb: Workbook, title: str, frame: pd.DataFrame, *, wrap: tuple[str, ...] = (),
                 widths: dict[str, int] | None = None, number_formats: dict[str, str] | None = None) -> None:
    """The same sheet as add_sheet (bold frozen filterable header, widths, text never a formula), written
    row by row into a write-only workbook."""
    from openpyxl.cell import WriteOnlyCell
    ws = wb.create_sheet(title=title[:31])
    for j, width in enumerate(_widths(frame, widths), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A2"
    if len(frame.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(ws, value=_ILLEGAL.sub("", str(name)))
        cell.data_type = "s"
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        header.append(cell)
    ws.append(header)
    wrapped = Alignment(vertical="top", wrap_text=True)
    styles = [(name in wrap, (number_formats or {}).get(name)) for name in frame.columns]
    for values in frame.itertuples(index=False):
        row = []
        for value, (wrap_it, number_format) in zip(values, styles):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                row.append(None)
                continue
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=_ILLEGAL.sub("", value))
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(ws, value=value.item() if hasattr(value, "item") else value)
                if number_format:
                    cell.number_format = number_format
            if wrap_it:
                cell.alignment = wrapped
            row.append(cell)
        ws.append(row)


def workbook_bytes(wb: Workbook, *, timestamp: datetime) -> bytes:
    """The .xlsx bytes with `timestamp` as creation and modification time, so equal input gives equal bytes."""
    wb.properties.creator = "WSD leernetwerken pipeline"
    raw = io.BytesIO()
    wb.save(raw)
    stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
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
