"""The editor's finish of the report (issue 21, items 6 and 7): no item codes where a reader looks, captions
that say what each table holds, every table and figure named in the text, one rule for percentages, amounts
in the Dutch style, one form of address in Bijlage 1, and a workbook that prints at 8 pt or more."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from conftest import ROOT
from pipeline.core.excel import PRINTABLE_INCHES, columns_inches
from pipeline.language.formatting import amounts, percent

ITEM_CODE = re.compile(r"\bq\d+\b")
CAPTION = re.compile(r"<(caption|figcaption|h[1-6])\b[^>]*>(.*?)</\1>", re.S)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.fixture(scope="module")
def report_html(embedded_report) -> str:
    return (embedded_report / "out" / "report.html").read_text(encoding="utf-8")


def _body(page: str) -> str:
    """The report before its appendices, as text, without captions, download links and alternative texts:
    what a reader reads as the text around the tables and figures."""
    main = page[page.index("<main>"):page.index('id="bijlage-1"')]
    main = re.sub(r"<(caption|figcaption)\b.*?</\1>", " ", main, flags=re.S)
    main = re.sub(r'<p class="downloads">.*?</p>', " ", main, flags=re.S)
    return _text(main)


def test_no_item_codes_in_headings_or_captions(report_html):
    found = [_text(m.group(2)) for m in CAPTION.finditer(report_html) if ITEM_CODE.search(_text(m.group(2)))]
    assert not found, found


def test_no_item_codes_in_the_text_around_the_tables(report_html):
    assert not ITEM_CODE.findall(_body(report_html))


def test_table_captions_are_distinct(report_html):
    captions = [re.sub(r"^Tabel \d+\. ", "", _text(m.group(2))) for m in CAPTION.finditer(report_html)
                if m.group(1) == "caption"]
    repeated = sorted({c for c in captions if captions.count(c) > 1})
    assert not repeated, repeated


def test_no_caption_names_its_own_section(report_html):
    assert not re.findall(r"<caption>[^<]*\(paragraaf \d", report_html)


def test_every_table_and_figure_is_named_in_the_text(report_html):
    body = _body(report_html)
    named = {(kind.lower(), int(n)) for kind, n in re.findall(r"\b(Tabel|tabel|Figuur|figuur) (\d+)\b", body)}
    for first, last in re.findall(r"\btabel (\d+) tot en met (\d+)\b", body):
        named |= {("tabel", n) for n in range(int(first), int(last) + 1)}
    shown = {("tabel", int(n)) for n in re.findall(r"<caption>Tabel (\d+)\.", report_html)} | \
            {("figuur", int(n)) for n in re.findall(r"<figcaption>Figuur (\d+)\.", report_html)}
    assert shown, "no numbered table or figure found"
    assert sorted(shown - named) == []
    numbers = sorted(n for kind, n in shown if kind == "figuur")
    assert numbers == list(range(1, len(numbers) + 1))     # no gaps for the figures left to figures/


def test_a_figure_is_not_beside_a_table_of_the_same_counts(report_html):
    """The count tables of section 3.2 (status, start year, initiator type) are the figures' numbers; the
    figures stay in figures/ and the text says so."""
    section = report_html[report_html.index('id="welke-netwerken"'):report_html.index('id="werkzame-elementen"')]
    assert "<figure" not in section
    assert "figures/" in _text(section)


def test_one_rule_for_percentages(report_html):
    """Whole percents everywhere in the report: "83,3%" never stands beside "50%"."""
    with_decimals = re.findall(r"\d+,\d+\s?%", _text(report_html))
    assert not with_decimals, with_decimals[:5]
    assert "hele procenten" in _text(report_html[report_html.index('id="methode"'):report_html.index('id="resultaten"')])
    assert [percent(v) for v in (21.4, 42.9, 12.5, 50, None)] == ["21%", "43%", "13%", "50%", ""]


def test_amounts_in_the_dutch_style(report_html):
    assert amounts("betaalt 3000 euro per team") == "betaalt €\u00a03.000 per team"
    assert amounts("€3000, €12.500,- en 250 EUR.") == "€\u00a03.000, €\u00a012.500 en €\u00a0250."
    for untouched in ("€ 12,50 per uur", "2,5 euro", "de euro-zone", "2018"):
        assert amounts(untouched) == untouched
    text = _text(report_html)
    assert not re.findall(r"\d{4,} euro", text)
    assert "€ 3.000" in text   # (the text is split on white space, the no-break space included)


def test_one_form_of_address_in_the_questionnaire(report_html):
    appendix = _text(report_html[report_html.index('id="bijlage-1"'):report_html.index('id="bijlage-2"')])
    assert re.search(r"\b(je|jij|jou|jouw)\b", appendix, re.I)
    assert not re.findall(r"\b(u|uw|Hebt u)\b", appendix), "u and je mixed in Bijlage 1"


def test_themes_in_the_order_of_their_figure(embedded_report, report_html):
    section = report_html[report_html.index('id="werkzame-elementen"'):report_html.index('id="kansen"')]
    in_text = [re.sub(r" \(\d+ netwerk.*$", "", _text(h)) for h in re.findall(r"<h4>(.*?)</h4>", section, re.S)]
    with open(embedded_report / "out" / "figures" / "themas_q23.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    label = rows[0].index(next(h for h in rows[0] if h.lower() in ("thema", "label")))
    assert in_text == [r[label] for r in rows[1:] if r[label] in in_text]
    assert len(in_text) > 3


def test_table_notes_stay_with_their_tables():
    css = (ROOT / "templates" / "report.css").read_text(encoding="utf-8")
    assert re.search(r"table\.data \+ p\.note\s*\{[^}]*break-before:\s*avoid", css)


def test_questionnaire_texts_address_the_respondent_as_the_questions_do():
    texts = yaml.safe_load((ROOT / "config" / "questionnaire.yaml").read_text(encoding="utf-8"))
    for text in texts.values():
        assert not re.findall(r"\b(u|uw|Uw|U)\b", text)


# ------------------------------------------------------------------------------------------ the workbook

@pytest.fixture(scope="module")
def workbook(embedded_report):
    return load_workbook(embedded_report / "out" / "tables.xlsx")


def _printed_points(ws) -> tuple[float, float]:
    """The type size a sheet prints at (the workbook's 11 pt font times the scale) and how many pages wide."""
    widths = [ws.column_dimensions[letter].width or 8.43 for letter in
              [c.column_letter for c in ws[1]]]
    orientation = ws.page_setup.orientation or "portrait"
    printable = PRINTABLE_INCHES[orientation]
    wide = columns_inches(widths)
    fitted = bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    if fitted:
        assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0
        scale = min(1.0, printable / wide)
    else:
        scale = (ws.page_setup.scale or 100) / 100
    return 11 * scale, wide * scale / printable


def test_every_sheet_prints_at_8_pt_or_more(workbook):
    for ws in workbook.worksheets:
        points, pages_across = _printed_points(ws)
        assert points >= 8, (ws.title, points)
        assert ws.page_setup.paperSize in (9, "9")
        assert ws.print_title_rows == "$1:$1", ws.title
        if pages_across > 1:
            assert ws.print_title_cols, f"{ws.title} is {pages_across:.1f} pages wide without repeated columns"


def _widths_of(ws) -> list[float]:
    from openpyxl.utils import column_index_from_string
    widths = {}
    for letter, dimension in ws.column_dimensions.items():
        first = dimension.min or column_index_from_string(letter)
        for column in range(first, (dimension.max or first) + 1):
            widths[column] = dimension.width or 8.43
    return [widths.get(j, 8.43) for j in range(1, ws.max_column + 1)]


def test_on_paper_no_text_runs_past_its_column_or_the_page_and_rows_line_up_at_the_top(workbook):
    room = PRINTABLE_INCHES["landscape"] * 96 * 11 / 8     # pixels across a landscape page at 8 pt
    for ws in workbook.worksheets:
        widths = _widths_of(ws)
        repeated = len(ws.print_title_cols.split(":")) - 1 if ws.print_title_cols else 0
        beside = room - sum(w * 7 + 5 for w in widths[:repeated])
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.alignment.vertical == "top", (ws.title, cell.coordinate)
                longest = max(len(line) for line in str(cell.value).split("\n"))
                if longest > widths[cell.column - 1]:
                    assert cell.alignment.wrap_text, (ws.title, cell.coordinate, longest, widths[cell.column - 1])
        assert all(w * 7 + 5 <= beside for w in widths[repeated:]), (ws.title, widths)
        assert ws.oddHeader.left.text == "&A" and "&P" in ws.oddFooter.center.text, ws.title
    overview = workbook["Overzicht"]
    assert _printed_points(overview)[1] <= 1    # narrower wrapped columns put it on one page across


def test_percentages_are_numbers_in_a_percentage_format(workbook):
    checked = 0
    for ws in workbook.worksheets:
        headers = [c.value for c in ws[1]]
        for j, header in enumerate(headers, start=1):
            if not (str(header).startswith("Percentage") or str(header).startswith("%")):
                continue
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                if cell.value is None:
                    continue
                assert isinstance(cell.value, (int, float)) and 0 <= cell.value <= 1, (ws.title, cell.value)
                assert cell.value == round(cell.value, 6), (ws.title, cell.value)    # 0.438, not 0.43799999999
                assert cell.number_format.endswith("%"), (ws.title, header, cell.number_format)
                checked += 1
    assert checked > 20
    status = workbook["Status"]
    assert [c.value for c in status[2]][2] == pytest.approx(10 / 17, abs=0.001)


def test_sheet_names_are_dutch_without_item_codes(workbook, embedded_report):
    names = workbook.sheetnames
    assert not [n for n in names if ITEM_CODE.search(n) or "_" in n], names
    assert not {"networks", "involvement", "codes", "spss_codebook", "inhoud"} & set(names)
    assert {"Inhoud", "Netwerken", "Deelnemerscategorieën", "Thema's vraag 17"} <= set(names)
    contents = workbook["Inhoud"]
    linked = [c.value for (c,) in contents.iter_rows(min_row=2, max_col=1)]
    assert linked == names[1:]
    # The CSV files keep their names (the output contract).
    tables = Path(embedded_report / "out" / "tables")
    assert {"networks.csv", "involvement.csv", "codes.csv", "themas_q17.csv"} <= {p.name for p in tables.iterdir()}
