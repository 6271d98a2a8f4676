"""Excel workbooks researchers can open safely: text stays text, headers stay in view, bytes are stable."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from functools import lru_cache
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from xlsxwriter.utility import xl_col_to_name

from pipeline.core.schemas import write_atomic

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
    """Column widths in characters: the given ones, else the longest line of header and values (capped)."""
    out = []
    for j, name in enumerate(frame.columns):
        if widths and name in widths:
            out.append(max(8, widths[name]))
            continue
        out.append(max(8, min(MAX_WIDTH, max(len(str(name)), _longest_line(frame.iloc[:, j])) + 2)))
    return out


def _longest_line(values: pd.Series) -> int:
    """The length of the longest line among the values (as text)."""
    values = values.dropna().astype(str)
    several = values.str.contains("\n", regex=False).to_numpy(dtype=bool)
    return max([0, *values[~several].str.len().nlargest(1).astype(int),
                *(len(line) for value in values[several] for line in value.split("\n"))])


# Excel's limit on the characters of one cell.
CELL_LIMIT = 32767
# Sheets longer than this get their rows written as sheet XML in whole columns at a time (XlsxWriter's cell
# by cell writing takes about a minute per ten million cells); shorter sheets go through XlsxWriter.
ROWS_WRITTEN_DIRECTLY = 5000
_ROWS_PER_CHUNK = 20_000


def _is_plain_column(values: pd.Series) -> bool:
    """Whole-column writing handles integer and float columns and columns of text (with gaps)."""
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values):
        return True
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _rows_xml(frame: pd.DataFrame, styles: dict[int, str]):
    """The <row> elements of `frame` from sheet row 2 on, as text in chunks: strings inline (never formulas),
    without the characters Excel refuses and cut at CELL_LIMIT; numbers as values; empty cells left out."""
    for start in range(0, len(frame), _ROWS_PER_CHUNK):
        part = frame.iloc[start:start + _ROWS_PER_CHUNK]
        numbers = pd.Series(range(start + 2, start + 2 + len(part)), index=part.index).astype(str)
        rows = '<row r="' + numbers + '">'
        for j, column in enumerate(part.columns):
            values = part[column]
            opening = '<c r="' + xl_col_to_name(j) + numbers + (f'" s="{styles[j]}"' if j in styles else '"')
            if pd.api.types.is_numeric_dtype(values):
                present = values.notna().to_numpy(dtype=bool)
                cells = (opening + "><v>" + values.astype(str) + "</v></c>").where(present, "")
            else:
                text = (values.fillna("").astype(str).str.replace(_ILLEGAL.pattern, "", regex=True)
                        .str.slice(0, CELL_LIMIT).str.replace("&", "&amp;", regex=False)
                        .str.replace("<", "&lt;", regex=False).str.replace(">", "&gt;", regex=False))
                cells = (opening + ' t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
                         ).where(text.ne("").to_numpy(dtype=bool), "")
            rows = rows + cells
        yield "".join((rows + "</row>").tolist())


def _lines(value, width: float) -> int:
    """How many lines a wrapped text cell needs in a column `width` characters wide: its words laid out one
    after another as a spreadsheet wraps them, measured in the widths of DejaVu Sans (the font LibreOffice
    puts in Calibri's place, a little wider than Calibri, so the estimate errs on the side of a line too
    many). A column `width` characters wide holds `width` digits of its font, less the cell's margins."""
    if not isinstance(value, str) or not value:
        return 1
    room = (width - CELL_MARGIN) * _advance("0")
    return sum(_wrapped_lines(line, room) for line in value.split("\n"))


CELL_MARGIN = 0.6   # characters of a column's width that its cell's margins take


def _wrapped_lines(text: str, room: float) -> int:
    lines, used, space = 1, 0.0, _advance(" ")
    for word in text.split():
        size = _word_width(word)
        if used and used + space + size <= room:
            used += space + size
            continue
        if used:
            lines += 1
        while size > room:     # a word longer than the line is broken where the line ends
            lines += 1
            size -= room
        used = size
    return lines


@lru_cache(maxsize=65536)
def _word_width(word: str) -> float:
    return sum(map(_advance, word))


@lru_cache(maxsize=None)
def _advance(char: str) -> float:
    """The advance of `char` in DejaVu Sans (matplotlib's copy, present wherever the pipeline runs), in
    units of its em; a character the font lacks (a spreadsheet draws it from another font) counts as an em."""
    font = _font()
    if not font.get_char_index(ord(char)):
        return 1.0
    try:
        return font.load_char(ord(char)).linearHoriAdvance / 65536 / _EM
    except RuntimeError:
        return 1.0


_EM = 100.0


@lru_cache(maxsize=1)
def _font():
    import matplotlib
    from matplotlib import ft2font
    font = ft2font.FT2Font(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"))
    font.set_size(_EM, 72)   # an em of _EM pixels
    return font


def _column_styles(sheet_xml: str) -> dict[int, str]:
    """Column number (from 0) -> the style XlsxWriter gave that column, from the sheet's <cols>."""
    styles = {}
    for match in re.finditer(r'<col min="(\d+)" max="(\d+)"[^>]*?style="(\d+)"', sheet_xml):
        for column in range(int(match.group(1)) - 1, int(match.group(2))):
            styles[column] = match.group(3)
    return styles


# On paper: A4 with Excel's default margins (0.7 inch left and right), type of 11 pt (the workbook's font) that
# is never printed smaller than 8 pt.
FONT_PT = 11
SMALLEST_PRINTED_PT = 8
SMALLEST_SCALE = -(-100 * SMALLEST_PRINTED_PT // FONT_PT)   # percent: 73, a whole percent at 8 pt or more
PRINTABLE_INCHES = {"portrait": 8.27 - 1.4, "landscape": 11.69 - 1.4}


def columns_inches(widths: list[float]) -> float:
    """How wide columns of these widths (in characters of the 11 pt font) print: 7 pixels a character and
    5 of padding, at 96 pixels an inch, as Excel reckons them."""
    return sum(width * 7 + 5 for width in widths) / 96


def page_layout(widths: list[float]) -> dict:
    """How a sheet with these column widths goes on A4: {"landscape": bool, "scale": percent}. Portrait
    when it fits at full size; else landscape, at the scale that fits the page's width when that keeps the
    type at 8 pt or more, else at the scale of 8 pt, over several pages across (with the first columns
    repeated). The scale is set, not left to the spreadsheet to fit: LibreOffice, measuring the columns
    in a wider substitute font, fitted sheets to their width at about 6 pt."""
    wide = columns_inches(widths)
    # a spreadsheet whose substitute font is a little wider than Excel's must not spill onto a second page
    if wide <= PRINTABLE_INCHES["portrait"] * 0.92:
        return {"landscape": False, "scale": 100}
    stored = wide + 6 * len(widths) / 96   # a spreadsheet stores each column a few pixels wider
    fitted = int(PRINTABLE_INCHES["landscape"] / stored * 100 + 1e-9)
    return {"landscape": True, "scale": min(100, max(SMALLEST_SCALE, fitted))}


MIN_WRAPPED_WIDTH = 24   # a wrapped text column is not made narrower than this (characters) to fit the page


def overlong_columns(frame: pd.DataFrame, widths: list[float]) -> set[str]:
    """The text columns of `frame` with a line longer than its width: they wrap, so that on paper no text runs
    past its column (and off the page)."""
    return {name for j, (name, width) in enumerate(zip(frame.columns, widths))
            if not pd.api.types.is_numeric_dtype(frame.iloc[:, j]) and _longest_line(frame.iloc[:, j]) > width - 2}


def fitted_widths(widths: list[float], wrapped: list[bool], *, repeated: int = 0) -> list[float]:
    """Column widths (characters) that print on one landscape page across at 8 pt where narrowing the wrapped
    columns (to MIN_WRAPPED_WIDTH at the least) can make them; where it cannot, no wrapped column after the
    first `repeated` is wider than the page holds beside those repeated columns."""
    # pixels across at the scale of 8 pt, less what a spreadsheet adds to a column's width when it stores it
    room = PRINTABLE_INCHES["landscape"] * 96 * 100 / SMALLEST_SCALE - 6 * len(widths)

    def pixels(width):
        return width * 7 + 5
    if sum(map(pixels, widths)) <= room:
        return list(widths)
    fixed = sum(pixels(w) for w, wrap in zip(widths, wrapped) if not wrap)
    flexible = sum(w for w, wrap in zip(widths, wrapped) if wrap)
    if not flexible:
        return list(widths)
    factor = (room - fixed - 5 * sum(wrapped)) / (7 * flexible)
    out = [max(min(w, MIN_WRAPPED_WIDTH), int(w * factor)) if wrap else w for w, wrap in zip(widths, wrapped)]
    if sum(map(pixels, out)) <= room:
        return out
    beside = (room - sum(map(pixels, out[:repeated])) - 5) / 7
    return [min(w, max(MIN_WRAPPED_WIDTH, int(beside))) if wrap and j >= repeated else w
            for j, (w, wrap) in enumerate(zip(out, wrapped))]


class StreamedWorkbook:
    """A workbook for tables of many thousands of rows, written with XlsxWriter (several times faster than
    openpyxl); same look as add_sheet: bold frozen filterable header, widths, text as text. The rows of long
    sheets are added as sheet XML when the workbook is finished (see ROWS_WRITTEN_DIRECTLY)."""

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
        self.top = self.book.add_format({"valign": "top"})   # a row's cells line up at its top, wrapped or not
        self.link = self.book.add_format({"valign": "top", "font_color": "#0563C1", "underline": 1})
        self.formats: dict[str, object] = {}
        self._bodies: dict[str, pd.DataFrame] = {}

    def number_format(self, pattern: str):
        if pattern not in self.formats:
            self.formats[pattern] = self.book.add_format({"num_format": pattern, "valign": "top"})
        return self.formats[pattern]

    def add(self, title: str, frame: pd.DataFrame, *, wrap: tuple[str, ...] = (),
            widths: dict[str, int] | None = None, number_formats: dict[str, str] | None = None,
            links: str | None = None, repeat_columns: int = 1) -> None:
        """A sheet of `frame`; the values of the column `links` become links to the sheets they name.
        Printed (see page_layout), the header row repeats on every page and, on a sheet that needs more
        than one page across, the first `repeat_columns` columns too."""
        ws = self.book.add_worksheet(title[:31])
        column_widths = _widths(frame, widths)
        overlong = overlong_columns(frame, column_widths)
        wrap = tuple(name for name in frame.columns if name in wrap or name in overlong)
        column_widths = fitted_widths(column_widths, [name in wrap for name in frame.columns],
                                      repeated=repeat_columns)
        for j, (name, width) in enumerate(zip(frame.columns, column_widths)):
            fmt = self.wrapped if name in wrap else (self.number_format((number_formats or {})[name])
                                                      if name in (number_formats or {}) else self.top)
            ws.set_column(j, j, width, fmt)
            ws.write_string(0, j, _ILLEGAL.sub("", str(name)), self.header)
        ws.freeze_panes(1, 0)
        ws.set_paper(9)
        ws.repeat_rows(0)
        # On paper each page names its sheet and its place, so a loose page can be put back.
        ws.set_header("&L&A")
        ws.set_footer("&CPagina &P van &N")
        layout = page_layout(column_widths)
        if layout["landscape"]:
            ws.set_landscape()
        ws.set_print_scale(layout["scale"])
        if layout["scale"] < 100 and repeat_columns and len(frame.columns) > repeat_columns:
            ws.repeat_columns(0, repeat_columns - 1)
        if len(frame.columns):
            ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
        if len(frame) > ROWS_WRITTEN_DIRECTLY and all(_is_plain_column(frame[c]) for c in frame.columns):
            self._bodies[f"xl/worksheets/sheet{len(self.book.worksheets())}.xml"] = frame
            return
        wrapped = [(j, w) for j, (name, w) in enumerate(zip(frame.columns, column_widths)) if name in wrap]
        link = list(frame.columns).index(links) if links in frame.columns else None
        for i, values in enumerate(frame.itertuples(index=False), start=1):
            lines = max([_lines(values[j], w) for j, w in wrapped] or [1])
            if lines > 1:
                # Spreadsheets do not grow a row for wrapped text they did not lay out themselves.
                ws.set_row(i, min(409, 15 * lines))
            for j, value in enumerate(values):
                if j == link and isinstance(value, str) and value:
                    # In a reference to a sheet, an apostrophe of its name is doubled.
                    ws.write_url(i, j, "internal:'" + value[:31].replace("'", "''") + "'!A1", self.link,
                                 string=value)
                elif isinstance(value, str):
                    if value:
                        ws.write_string(i, j, _ILLEGAL.sub("", value))
                elif value is not None and not pd.isna(value):
                    ws.write_number(i, j, float(value) if not isinstance(value, (int, bool)) else int(value))

    def bytes(self, *, timestamp: datetime) -> bytes:
        self.book.set_properties({"author": "WSD leernetwerken pipeline", "created": timestamp})
        self.book.close()
        try:
            return normalised_zip(self._path, timestamp=timestamp, bodies=self._bodies)
        finally:
            self._folder.cleanup()


def workbook_bytes(wb: Workbook, *, timestamp: datetime) -> bytes:
    """The .xlsx bytes with `timestamp` as creation and modification time, so equal input gives equal bytes."""
    wb.properties.creator = "WSD leernetwerken pipeline"
    raw = io.BytesIO()
    wb.save(raw)
    return normalised_zip(io.BytesIO(raw.getvalue()), timestamp=timestamp)


def normalised_zip(source_file, *, timestamp: datetime, bodies: dict[str, pd.DataFrame] | None = None) -> bytes:
    """An .xlsx whose zip entries and document times all carry `timestamp`; the sheets named in `bodies`
    get those frames' rows after their header row. Entries are copied in pieces, never whole."""
    stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(source_file) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=timestamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(),
                              source.read(info.filename))
                target.writestr(entry, data)
            elif bodies and info.filename in bodies:
                frame = bodies[info.filename]
                head, tail = source.read(info.filename).decode("utf-8").split("</sheetData>", 1)
                if len(frame.columns):
                    last = f"{xl_col_to_name(len(frame.columns) - 1)}{len(frame) + 1}"
                    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1)
                with target.open(entry, "w", force_zip64=False) as sheet:
                    sheet.write(head.encode("utf-8"))
                    for chunk in _rows_xml(frame, _column_styles(head)):
                        sheet.write(chunk.encode("utf-8"))
                    sheet.write(("</sheetData>" + tail).encode("utf-8"))
            else:
                with source.open(info) as part, target.open(entry, "w", force_zip64=False) as copy:
                    shutil.copyfileobj(part, copy, 1 << 20)
    return out.getvalue()


def save(wb: Workbook, path: Path, *, timestamp: datetime) -> None:
    write_atomic(path, workbook_bytes(wb, timestamp=timestamp))


# A cell a spreadsheet would take for a formula when it opens a CSV (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` for CSV in which text cells that start like a formula (=, +, -, @, tab, CR) get a
    leading single quote, so Excel shows them as text. Numbers, a lone "-" and text that is a plain
    number ("-3") are left as they are: a spreadsheet reads them as the values they are."""
    out = frame.copy(deep=False)
    for column in out.columns:
        values = out[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        text = values.where(values.map(lambda v: isinstance(v, str)), "")
        risky = text.str.startswith(_FORMULA_START) & text.ne("-") & ~text.str.fullmatch(_PLAIN_NUMBER)
        if risky.any():
            out[column] = values.where(~risky, "'" + text)
    return out
