"""Aggregate and charts on the embedded dataset: the report's figures, safe workbooks, stable bytes."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from PIL import Image

from conftest import report_figures, report_tables
from test_coding import REPORT_COUNTS
from pipeline.analysis.aggregate import read_tables, sheet_name, write_tables
from pipeline.core.codebook import load_codebook
from pipeline.core import excel as workbook
from pipeline.core.excel import StreamedWorkbook, new_workbook, add_sheet, workbook_bytes
from pipeline.coding.quotes import MAX_QUOTE, is_complete


@pytest.fixture(scope="module")
def processed(embedded_report) -> Path:
    """The processed folder of the shared run of the embedded export and supplement (conftest)."""
    return embedded_report / "processed"


def _table(processed: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(processed / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_overview_of_section_3_2(processed):
    overview = _table(processed, "overzicht")
    assert list(overview.columns) == ["Werkplaats", "Leernetwerk", "Initiatiefnemer", "Opstart", "Huidige status", "Bron"]
    assert len(overview) == 17 and (overview["Bron"] == "aanvulling").sum() == 2
    venlo = overview.set_index("Leernetwerk").loc["Project Venlo"]
    assert (venlo["Werkplaats"], venlo["Opstart"], venlo["Huidige status"]) == ("WSD Nijmegen", "2016", "Loopt")
    # A reason follows as the respondent wrote it: after "omdat" only where they wrote it themselves.
    assert overview.set_index("Leernetwerk").loc["Leefwereldteam", "Huidige status"].startswith("Gestopt; reden: Me'kaar")


def test_counts_by_status_start_year_and_initiator(processed):
    status = _table(processed, "status").set_index("Status")["Netwerken"].astype(int).to_dict()
    assert status == {"Loopt": 10, "Gestopt": 5, "Onbekend": 2}
    years = _table(processed, "startjaren").set_index("Startjaar")["Netwerken"].astype(int).to_dict()
    assert years == {"2013": 1, "2014": 0, "2015": 4, "2016": 5, "2017": 1, "Onbekend": 6}
    initiators = _table(processed, "initiatiefnemers").set_index("Type initiatiefnemer")["Netwerken"].astype(int)
    assert initiators["Onderwijs en onderzoek"] == 10 and initiators["Financier (ZonMw en andere)"] == 1


def test_involvement_per_participant_group(processed):
    table = _table(processed, "betrokkenheid").set_index("Deelnemersgroep")
    onderwijs = table.loc["Onderwijs (lectoraten, docenten, studenten, management)"]
    assert onderwijs["Netwerken"] == "11" and onderwijs["Categorieën"] == "19" and onderwijs["Niet ingevuld"] == "1"
    levels = ["Zeer laag", "Laag", "Gemiddeld", "Hoog", "Zeer hoog", "Niet ingevuld"]
    assert table[levels].astype(int).to_numpy().sum() == table["Categorieën"].astype(int).sum() == 69
    rated = sum(int(onderwijs[level]) for level in levels[:-1])
    high = int(onderwijs["Hoog"]) + int(onderwijs["Zeer hoog"])
    assert float(onderwijs["Percentage hoog of zeer hoog"]) == round(100 * high / rated, 1)


def test_yes_no_items(any_report):
    processed, yes_no = any_report.processed, any_report.instrument.with_role("yes_no")
    summary = _table(processed, "ja_nee_vragen").set_index("Vraag")
    assert summary.index.tolist() == [str(it.number) for it in yes_no]   # every yes/no item, in questionnaire order
    assert summary.loc["16", ["Ja", "Nee", "Niet ingevuld"]].tolist() == ["15", "0", "2"]
    costs = _table(processed, "kosten")
    assert costs.loc[costs["Antwoord"] == "Ja", "Toelichting"].str.len().min() > 0
    for item in yes_no:
        table = _table(processed, item.report.table)
        assert summary.loc[str(item.number), "Onderwerp"] == item.report.title, item.id
        assert (table["Antwoord"] == "Ja").sum() == int(summary.loc[str(item.number), "Ja"]), item.id


def test_theme_tables_carry_the_report_counts_and_quotes(processed):
    for item, expected in REPORT_COUNTS.items():
        table = _table(processed, f"themas_{item}")
        named = table[table["Netwerken"].astype(int) > 0]
        assert dict(zip(named["Code"], named["Netwerken"].astype(int))) == expected
        if item in load_codebook().method_items:     # the working methods are listed per network, never quoted
            assert (table[["Citaat 1", "Citaat 2", "Citaat 3"]] == "").all().all(), item
            continue
        # a named theme without a quote is one whose sentences are all fragments ("Practice development.")
        codes = _table(processed, "codes")
        for theme in named.loc[named["Citaat 1"] == "", "Code"]:
            evidence = codes.loc[codes["theme"] == theme, "evidence"]
            assert len(evidence) and not any(is_complete(e) for e in evidence), theme
        assert (table[table["Netwerken"] == "0"]["Citaat 1"] == "").all()
        quotes = table[["Citaat 1", "Citaat 2", "Citaat 3"]]
        assert quotes.map(len).max().max() <= MAX_QUOTE and not quotes.map(lambda q: q.endswith("…")).any().any()
    tijd = _table(processed, "themas_q23").set_index("Code").loc["tijd"]
    assert tijd["Percentage"] == str(round(100 * 5 / 14, 1))


def test_contract_tables(processed):
    assert list(_table(processed, "networks").columns) == [
        "network_id", "werkplaats", "name", "initiator", "initiator_types", "start_year", "start_text", "status",
        "stop_reason", "source"]
    assert list(_table(processed, "involvement").columns) == ["network_id", "category_label", "participant_group", "level"]
    assert list(_table(processed, "codes").columns) == ["network_id", "item", "theme", "origin", "evidence"]
    assert _table(processed, "networks")["start_year"].isin(["", "2013", "2015", "2016", "2017"]).all()


def test_workbook_has_every_table_with_a_frozen_header(any_report):
    processed = any_report.processed
    wb = load_workbook(processed / "tables.xlsx")
    csvs = sorted(p.stem for p in (processed / "tables").glob("*.csv"))
    assert csvs == sorted(report_tables(any_report.instrument))
    tables = {t.name: t for t in read_tables(processed)}
    assert sorted(wb.sheetnames) == sorted(["Inhoud", *(sheet_name(tables[n], any_report.instrument) for n in csvs)])
    for name in csvs:
        ws = wb[sheet_name(tables[name], any_report.instrument)]
        assert ws.freeze_panes == "A2" and ws["A1"].font.bold, name
        assert all(ws.column_dimensions[c].width >= 8 for c in "AB")


def test_workbook_writes_formulas_as_text(tmp_path):
    wb = new_workbook()
    add_sheet(wb, "t", pd.DataFrame({"a": ["=HYPERLINK(\"http://x.invalid\")", "+1", "-2", "@SUM(A1)", "gewoon"]}))
    path = tmp_path / "t.xlsx"
    path.write_bytes(workbook_bytes(wb, timestamp=pd.Timestamp("2018-10-31").to_pydatetime()))
    cells = [c for c in load_workbook(path)["t"]["A"][1:]]
    assert [c.data_type for c in cells] == ["s"] * 5
    assert cells[0].value.startswith("=HYPERLINK")


def test_long_sheets_written_as_xml_read_back_like_short_ones(monkeypatch):
    rows = 4000
    frame = pd.DataFrame({
        "Toelichting": ['=HYPERLINK("http://x")', "a & b < c > d", "regel 1\nregel 2", "", None, " spatie ",
                        "x\x01y", "é ’ 😀"] * (rows // 8),
        "Netwerken": pd.array(list(range(rows - 1)) + [None], dtype="Int64"),
        "Percentage": [12.5, float("nan"), 100.0, 0.1] * (rows // 4)})

    def written(limit):
        monkeypatch.setattr(workbook, "ROWS_WRITTEN_DIRECTLY", limit)
        book = StreamedWorkbook()
        book.add("tabel", frame, wrap=("Toelichting",), number_formats={"Percentage": "0.0"})
        sheet = load_workbook(io.BytesIO(book.bytes(timestamp=datetime(2018, 10, 31)))).active
        cells = [[(c.value, c.data_type, c.number_format, c.alignment.wrap_text) for c in row] for row in sheet.iter_rows()]
        return cells, sheet.dimensions, sheet.auto_filter.ref, sheet.freeze_panes

    as_xml, by_cell = written(limit=10), written(limit=10 ** 9)
    assert as_xml == by_cell
    cells = as_xml[0]
    assert cells[1][0] == ('=HYPERLINK("http://x")', "s", "General", True)   # text, not a formula
    assert [row[0][0] for row in cells[2:9]] == ["a & b < c > d", "regel 1\nregel 2", None, None, " spatie ", "xy",
                                                  "é ’ 😀"]
    assert cells[1][2][:3] == (12.5, "n", "0.0") and cells[-1][1][0] is None and as_xml[1] == f"A1:C{rows + 1}"


def test_every_figure_in_every_format(any_report):
    folder, names = any_report.processed / "figures", report_figures(any_report.instrument)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.{suffix}" for name in names
                                                              for suffix in ("png", "svg", "pdf", "csv", "smal.svg"))
    for name in names:
        for suffix in ("png", "svg", "pdf", "csv"):
            assert (folder / f"{name}.{suffix}").stat().st_size > 0, f"{name}.{suffix}"
        with Image.open(folder / f"{name}.png") as image:
            assert round(image.info["dpi"][0]) == 300
            assert abs(image.width - 16 / 2.54 * 300) <= 1   # the fixed width of 16 cm
        svg = (folder / f"{name}.svg").read_text(encoding="utf-8")
        assert "<text" in svg, f"{name}.svg has its text as paths, not editable"
        assert b"/FontFile2" in (folder / f"{name}.pdf").read_bytes(), f"{name}.pdf lacks embedded TrueType text"


def test_figure_data_is_exactly_what_is_plotted(processed):
    folder = processed / "figures"
    involvement = pd.read_csv(folder / "betrokkenheid.csv")
    levels = ["Zeer laag", "Laag", "Gemiddeld", "Hoog", "Zeer hoog"]
    assert (involvement[levels].sum(axis=1) == involvement["n met niveau"]).all()
    assert involvement["Niet ingevuld"].sum() == 1
    q23 = pd.read_csv(folder / "themas_q23.csv")
    themes = {t.label: t.code for t in load_codebook().themes}
    assert {themes[t]: n for t, n in zip(q23["Thema"], q23["Netwerken"])} == REPORT_COUNTS["q23"]
    methods = pd.read_csv(folder / "werkvormen.csv")
    assert {themes[t]: n for t, n in zip(methods["Thema"], methods["Netwerken"])} == REPORT_COUNTS["q19"]
    assert pd.read_csv(folder / "status.csv")["Netwerken"].tolist() == [10, 5, 2]


def _digests(folder: Path) -> dict[str, str]:
    files = [*folder.glob("tables/*"), *folder.glob("figures/*"), *folder.glob("typed/*"), folder / "tables.xlsx"]
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def test_two_runs_give_byte_identical_tables_and_figures(processed, embedded_report_again, instrument):
    first, second = _digests(processed), _digests(embedded_report_again / "processed")
    tables, figures = report_tables(instrument), report_figures(instrument)
    assert len(first) == 2 * len(tables) + 1 + 2 + 5 * len(figures)   # each table's CSV and parquet, tables.xlsx,
    # the two .sav files; per figure png, svg, pdf, csv and the phone svg
    assert first == second


def test_write_tables_replaces_nothing_half(tmp_path):
    """A table is written atomically: no temporary file is left beside it."""
    from pipeline.analysis.aggregate import Table
    write_tables([Table("t", "T", pd.DataFrame({"a": [1]}), {"a": "A"})], tmp_path,
                 timestamp=pd.Timestamp("2018-10-31").to_pydatetime())
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["t.csv", "t.parquet", "tables", "tables.json",
                                                            "tables.xlsx", "typed"]
    assert (tmp_path / "tables" / "t.csv").read_text(encoding="utf-8") == "A\n1\n"


def test_typed_tables_keep_network_id_and_numbers_and_csv_gets_dutch_headers(processed):
    from pipeline.analysis.aggregate import read_tables
    tables = {t.name: t for t in read_tables(processed)}
    werkvormen = tables["werkvormen"]
    assert "network_id" in werkvormen.frame.columns and "network_id" not in _table(processed, "werkvormen").columns
    assert list(_table(processed, "werkvormen").columns) == ["Werkplaats", "Leernetwerk", "Werkvormen", "Werkwijze (vraag 19)"]
    status = tables["status"].frame
    assert status["networks"].dtype.kind == "i" and status["percent"].dtype.kind == "f"
    assert list(tables["betrokkenheid"].headers.values())[3:8] == ["Zeer laag", "Laag", "Gemiddeld", "Hoog", "Zeer hoog"]
    for table in tables.values():
        if table.item and "werkplaats" in table.headers:
            assert table.frame["network_id"].is_unique, table.name


def test_workbook_prints_a_page_wide_links_its_contents_and_gives_wrapped_rows_room(processed):
    wb = load_workbook(processed / "tables.xlsx")
    contents = wb["Inhoud"]
    assert contents["A2"].hyperlink is not None and contents["A2"].hyperlink.location.startswith("'Overzicht'")
    # Too wide for one page at 8 pt: its wrapped columns narrowed until it fits, landscape, one page across,
    # at a scale set (fitting to the width is left to no spreadsheet: LibreOffice fitted it at 6 pt).
    overview = wb["Overzicht"]
    assert overview.page_setup.paperSize == 9 and overview.page_setup.orientation == "landscape"
    assert not (overview.sheet_properties.pageSetUpPr and overview.sheet_properties.pageSetUpPr.fitToPage)
    assert 73 <= overview.page_setup.scale <= 100
    assert overview.print_title_rows == "$1:$1"
    # Still too wide with them narrowed: at the scale of 8 pt, over pages with its first columns repeated.
    networks = wb["Netwerken"]
    assert networks.page_setup.scale == 73 and networks.print_title_cols == "$A:$B"
    status = wb["Status"]
    assert status.page_setup.orientation == "portrait"
    assert not (status.sheet_properties.pageSetUpPr and status.sheet_properties.pageSetUpPr.fitToPage)
    long = [r for r in range(2, overview.max_row + 1) if len(str(overview.cell(r, 3).value or "")) > 120]
    assert long and all((overview.row_dimensions[r].height or 0) > 15 for r in long)
