"""The printed workbook as LibreOffice lays it out (tables.xlsx converted to PDF by soffice --headless, read
back with pdfplumber): its type is 8 pt or larger on every page, a sheet's rows are as tall as their wrapped text, not a line or two taller, so no
page holds a single row that would have fitted on the page before it. Skipped without LibreOffice
(`make office` installs it), failed on CI."""

from __future__ import annotations


import pytest

from conftest import converted_by_libreoffice

SHEET = "Thema's vraag 23"


@pytest.fixture(scope="module")
def printed(embedded_report, tmp_path_factory):
    import pdfplumber
    folder = tmp_path_factory.mktemp("workbook")
    converted = converted_by_libreoffice(embedded_report / "out" / "tables.xlsx", folder,
                                         packages="libreoffice-calc-nogui")
    with pdfplumber.open(converted) as pdf:
        yield [(page.extract_text().splitlines(), [char["size"] for char in page.chars]) for page in pdf.pages]


def test_every_printed_page_has_type_of_8_pt_or_more(printed):
    """The scale a sheet sets keeps its 11 pt type at 8 pt; LibreOffice, left to fit sheets to the page's
    width, shrank them to 6 pt."""
    small = {(at + 1, lines[0][:30] if lines else ""): round(min(sizes), 1)
             for at, (lines, sizes) in enumerate(printed) if sizes and min(sizes) < 7.9}
    assert small == {}


def test_no_page_of_the_themes_sheet_holds_a_single_row(printed, embedded_report):
    from openpyxl import load_workbook
    sheet = load_workbook(embedded_report / "out" / "tables.xlsx", read_only=True)[SHEET]
    firsts = {str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    pages = [lines for lines, _ in printed if lines and lines[0].strip() == SHEET]
    assert pages, f"no printed page of {SHEET!r}"
    # the pages of one set of columns (their header line), in the order they print
    strips: dict[str, list[int]] = {}
    for lines in pages:
        strips.setdefault(lines[1], []).append(sum(line.startswith(tuple(firsts)) for line in lines[2:]))
    # rows as tall as their text give this sheet one page for each set of columns; a page of one row is
    # where rows a line or two too tall pushed the last row over
    lonely = [(header[:40], at + 1) for header, rows in strips.items() if len(rows) > 1
              for at, count in enumerate(rows) if count <= 1]
    assert lonely == [], strips
