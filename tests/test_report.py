"""The report end to end: a run into a temporary folder, hostile text shown literally, editable templates."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from conftest import EMBEDDED_EXPORT, ROOT, report_figures, report_tables, shown_figures
from test_ingest import ANSWERS
from pipeline.app.cli import main
from pipeline.publishing.context import build_context
from pipeline.publishing.texts import text_to_html
from pipeline.core.files import DEFAULT_TEMPLATES

HOSTILE = ['<script>alert("x")</script>', "{{ 7*7 }}", '=HYPERLINK("http://evil.invalid","klik")']


@pytest.fixture(scope="module")
def report(embedded_report):
    """The embedded wave's run, dated 1 January 2019, that the other tests share (conftest.embedded_report)."""
    return embedded_report


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_output_folder_holds_the_contract(any_report):
    out = any_report.out
    for name in ("report.html", "report.pdf", "tables.xlsx", "manifest.json", "tables/networks.csv",
                 "tables/involvement.csv", "tables/codes.csv"):
        assert (out / name).stat().st_size > 0, name
    assert sorted(p.name for p in (out / "tables").glob("*.csv")) == sorted(
        f"{name}.csv" for name in report_tables(any_report.instrument))
    for figure in report_figures(any_report.instrument):
        for suffix in ("png", "svg", "pdf", "csv"):
            assert (out / "figures" / f"{figure}.{suffix}").exists()
    staging = [p for p in any_report.folder.iterdir() if p.name.startswith(".out.")]
    assert not staging, "a staging folder was left behind"


def test_the_run_counts_the_tables_and_figures_the_instrument_declares(any_report):
    printed = (any_report.folder / "messages.txt").read_text(encoding="utf-8").splitlines()
    tables, figures = report_tables(any_report.instrument), report_figures(any_report.instrument)
    assert f"aggregate  {len(tables)} tables" in printed
    assert f"charts     {len(figures)} figures, each as PNG, SVG, PDF and CSV" in printed


def test_html_opens_offline_and_links_every_chart_file(any_report):
    out = any_report.out
    html = (out / "report.html").read_text(encoding="utf-8")
    loaded = set(re.findall(r'(?:src|<link[^>]*href)="([^"#]+)"', html))
    assert not [link for link in loaded if "://" in link], "the report must not load anything from the internet"
    links = set(re.findall(r'(?:href|src)="([^"#]+)"', html))
    outside = [link for link in links if "://" in link]
    assert all(re.fullmatch(r"https://[^\s\"<>]+", link) for link in outside), outside   # a page a reader may open
    links -= set(outside)
    for link in links:
        assert (out / link).exists(), link
    for figure in report_figures(any_report.instrument):
        shown = figure in shown_figures(any_report.instrument)
        for suffix in ("png", "svg", "pdf", "csv") if shown else ("png",):
            assert f'figures/{figure}.{suffix}"' in html


def test_every_network_of_bijlage_2_and_every_table_is_in_the_report(report):
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    text = pdf_text(report / "out" / "report.pdf")
    flat = " ".join(text.split())
    for entry in ANSWERS["networks"] + ANSWERS["supplement"]:
        name = entry["q3"]
        assert name.replace("&", "&amp;") in html
    for heading in ("Bijlage 2. De leernetwerken", "3.2 Welke leernetwerken zijn er (geweest)?",
                    "3.3 Werkzame elementen en randvoorwaarden", "3.4 Kansen en uitdagingen",
                    "Deelnemersgroepen en hun betrokkenheid", "Bijlage 1. De vragenlijst", "Colofon"):
        assert heading in flat, heading
    assert re.search(r"Pagina 2 van \d+", flat)
    sha = hashlib.sha256(EMBEDDED_EXPORT.read_bytes()).hexdigest()
    # the build record is in the manifest, the report's date in its colophon
    assert sha in (report / "out" / "manifest.json").read_text(encoding="utf-8") and "1 januari 2019" in html


def test_bijlage_2_shows_every_declared_answer_of_each_network_under_its_heading(any_report):
    """Per network of Bijlage 2, in the order of appendix_order (an item without one after the others, in
    questionnaire order), the heading of each item declared for it that the network answered: a text or coded
    answer, or the explanation of a yes; the participants are a table of their own."""
    import html as html_module
    import json
    import pandas as pd
    def place(it) -> float:
        return it.report.appendix_order if it.report.appendix_order is not None else 1000 + it.number
    parts = sorted((it for it in any_report.instrument.items
                    if it.report.appendix and it.role in ("text", "coded", "yes_no")), key=place)
    assert parts
    networks = pd.read_parquet(any_report.processed / "networks.parquet")
    unpublished = set(json.loads((any_report.processed / "quotes.json").read_text(encoding="utf-8"))["unpublished"])
    html = (any_report.out / "report.html").read_text(encoding="utf-8").split('<h1 id="bijlage-2">', 1)[1]

    def answered(network, item) -> bool:
        if item.role == "yes_no":
            return network[item.id] == "ja" and bool(network.get(f"{item.id}_text") or "")   # q24 has no text
        return bool(network[item.id] or "")
    for network in networks.to_dict(orient="records"):
        section = html.split(f'<section class="network" id="netwerk-{network["network_id"]}">', 1)[1]
        shown = [html_module.unescape(h) for h in re.findall(r"<h4>(.*?)</h4>", section.split("</section>", 1)[0])]
        expected = [] if network["network_id"] in unpublished else \
            [it.report.appendix for it in parts if answered(network, it)]
        assert shown == expected, network["network_id"]


def test_method_section_is_filled_from_the_data(report):
    html = " ".join((report / "out" / "report.html").read_text(encoding="utf-8").split())
    assert "14 september 2018" in html and "19 oktober 2018" in html
    assert "18 antwoorden" in html and "15 ingevulde vragenlijsten" in html
    assert "1 voorbeeldweergave (preview), 1 niet afgemaakt, 1 eerdere inzending" in html
    assert "2 leernetwerken niet via de vragenlijst" in html


def test_manifest(report):
    import json
    manifest = json.loads((report / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["export"]["sha256"] == hashlib.sha256(EMBEDDED_EXPORT.read_bytes()).hexdigest()
    assert "config/codebook.yaml" in manifest["config"] and "templates/report.html" in manifest["templates"]
    outputs = manifest["outputs"]
    assert "report.pdf" in outputs and "tables/codes.csv" in outputs and "manifest.json" not in outputs
    for name, digest in outputs.items():
        assert hashlib.sha256((report / "out" / name).read_bytes()).hexdigest() == digest, name
    assert manifest["run_date"] == "2019-01-01" and manifest["versions"]["weasyprint"]


def test_two_runs_are_byte_identical_pdf_included(report, embedded_report_again):
    again = embedded_report_again / "out"
    first = {str(p.relative_to(report / "out")): p.read_bytes() for p in (report / "out").rglob("*") if p.is_file()}
    second = {str(p.relative_to(again)): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def _hostile_export(tmp_path: Path) -> Path:
    """The embedded export with hostile text in a network name and in the q23 and q7 answers."""
    with EMBEDDED_EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    q3, q7, q23 = header.index("Q3"), header.index("Q7"), header.index("Q23")
    for row in rows[3:]:
        if row[q3] == "Project Venlo":
            row[q3] = f"Project Venlo {HOSTILE[0]}"
            row[q7] = " ".join(HOSTILE)
            row[q23] = HOSTILE[2] + " Eerst doen en dan reflecteren."
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return path


def test_hostile_text_appears_literally_everywhere(hostile_report):
    out = hostile_report / "out"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html.split("</style>", 1)[1]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html
    assert '=HYPERLINK("http://evil.invalid","klik") Eerst doen' in html
    flat = " ".join(pdf_text(out / "report.pdf").split())
    assert '<script>alert("x")</script>' in flat and "{{ 7*7 }}" in flat
    with zipfile.ZipFile(out / "tables.xlsx") as book:
        xml = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/"))
    assert "<f>" not in xml, "a cell of tables.xlsx holds a formula"
    assert '=HYPERLINK("http://evil.invalid","klik")' in xml


def test_an_override_template_changes_one_block(report, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text('{% extends "default:report.html" %}\n'
                                      '{% block colophon %}<h1 id="colofon">Eigen colofon</h1>{% endblock %}\n',
                                      encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", "--processed", str(report / "processed"), "--out", str(out), "--templates", str(mine),
                 "--quiet"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Eigen colofon" in html and "Exportbestand" not in html and "3.2 Welke leernetwerken" in html


def test_researchers_texts_come_from_their_folder_and_are_never_written(report, tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "conclusies.md").write_text("Onze eigen **conclusie**.\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (ROOT / "texts").iterdir()}
    out = tmp_path / "out"
    assert main(["render", "--processed", str(report / "processed"), "--out", str(out), "--texts", str(texts),
                 "--quiet"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Onze eigen <strong>conclusie</strong>." in html and "Deze inleiding is nog niet geschreven" in html
    assert (texts / "conclusies.md").read_text(encoding="utf-8") == "Onze eigen **conclusie**.\n"
    assert {p.name: p.read_bytes() for p in (ROOT / "texts").iterdir()} == before


def test_a_broken_template_is_one_clear_error_and_keeps_the_old_report(report, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(report / "out", out)
    before = (out / "report.pdf").read_bytes()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text('{% extends "default:report.html" %}{% block cover %}{{ meta.nonsense }}'
                                      '{% endblock %}', encoding="utf-8")
    assert main(["render", "--processed", str(report / "processed"), "--out", str(out), "--templates", str(mine)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: template error") and "nonsense" in err and "Traceback" not in err
    assert f"(line 1 of {mine / 'report.html'})" in err        # an undefined name says where it is used
    assert (out / "report.pdf").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def _documented() -> tuple[set[str], dict[str, set[str]]]:
    """Top-level keys of templates/CONTEXT.md's variable list, and every name documented under each."""
    doc = (DEFAULT_TEMPLATES / "CONTEXT.md").read_text(encoding="utf-8").split("## Variables", 1)[1]
    top, under, current = set(), {}, None
    for line in doc.splitlines():
        names = re.findall(r"`([a-z_0-9]+)`", line)
        if line.startswith("- ") and names:
            current = names[0]
            top.add(current)
            under[current] = set(names[1:])
        elif current and line.startswith(" "):
            under[current] |= set(names)
    return top, under


def _keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys_anywhere(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys_anywhere(v) for v in value)) if value else set()
    return set()


def _entry_keys(key: str, value) -> set[str]:
    """The keys a template reads off the entries of a top-level variable (not the names or ids it is keyed by)."""
    by_name = {"tables", "figures", "themes", "coded_sections", "yes_no"}
    entries = list(value.values()) if key in by_name else value if isinstance(value, list) else [value]
    if key == "themes":
        entries = [record for records in entries for record in records]
    keys = set()
    for entry in entries:
        if isinstance(entry, dict):
            keys |= set(entry) - ({"records", "rows"} if key == "tables" else set())
            for sub in ("dropped", "participants", "yes_no", "coded_facts", "choices", "scale"):
                if isinstance(entry.get(sub), list):
                    keys |= set().union(*(set(e) for e in entry[sub] if isinstance(e, dict)))
                elif isinstance(entry.get(sub), dict) and key == "networks" and sub == "yes_no":
                    keys |= set().union(*(set(e) for e in entry[sub].values()))
    return keys


def test_the_context_and_its_documentation_agree_both_ways(report, tmp_path):
    from pipeline.core.config import load_config
    # The embedded wave has no review sample, so no count intervals: give one theme an interval, as a wave
    # with a reviewed sample has, so that every documented name is in the context.
    processed = tmp_path / "processed"
    shutil.copytree(report / "processed", processed)
    accuracy = json.loads((processed / "coding_accuracy.json").read_text(encoding="utf-8"))
    accuracy["counts"] = [{"item": "q23", "theme": load_config().codebook.themes_for("q23")[0].code, "count": 3,
                           "reviewed_count": 1, "estimate": 4.2, "low": 2, "high": 7}]
    (processed / "coding_accuracy.json").write_text(json.dumps(accuracy), encoding="utf-8")
    context = build_context(processed=processed, config=load_config(),
                            texts={"inleiding": "", "conclusies": "", "discussie": "", "sections": {}},
                            run_date=date(2019, 1, 1))
    top, under = _documented()
    assert set(context) == top, "CONTEXT.md lists other variables than build_context makes"
    # mappings and lists of plain values, and the mappings keyed by the instrument's table names
    skip = {"categories", "werkplaatsen", "yes_no_by_table", "text_item_by_table"}
    undocumented = {key: sorted(_entry_keys(key, value) - under[key]) for key, value in context.items()
                    if key not in skip}
    assert {k: v for k, v in undocumented.items() if v} == {}
    stale = {key: sorted(under[key] - _keys_anywhere(context[key])) for key in top if key not in skip}
    assert {k: v for k, v in stale.items() if v} == {}, "CONTEXT.md documents names the context does not have"


def test_answers_become_escaped_paragraphs_and_lists():
    assert text_to_html("Doel:\n- een <b>\n- twee") == "<p>Doel:</p><ul><li>een &lt;b&gt;</li><li>twee</li></ul>"
    assert text_to_html("regel een\nregel twee") == "<p>regel een<br>regel twee</p>"
    assert text_to_html("regel een\nregel twee", hard_breaks=False) == "<p>regel een regel twee</p>"


# ------------------------------------------------------------------------------------ the finish

def _shared(embedded_report) -> Path:
    return embedded_report / "out"


def _visible_text(html: str) -> str:
    import html as html_module
    body = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", body))


def test_tables_are_numbered_in_order_and_every_reference_points_to_one(any_report):
    html = (any_report.out / "report.html").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"<caption>Tabel (\d+)\. ", html)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 15
    text = re.sub(r"<caption>.*?</caption>", " ", html, flags=re.S)
    referenced = {int(n) for n in re.findall(r"\b[Tt]abel (\d+)(?![.\d])", _visible_text(text))}
    assert referenced and referenced <= set(numbers)
    assert "Tabel 3.2" not in html
    overview = re.search(r"<caption>Tabel (\d+)\. Werkplaats, initiatiefnemer, opstart en huidige status", html).group(1)
    assert f"Tabel {overview} geeft per leernetwerk" in html
    figures = [int(n) for n in re.findall(r"<figcaption>Figuur (\d+)\. ", html)]
    assert figures == list(range(1, len(shown_figures(any_report.instrument)) + 1))
    assert {int(n) for n in re.findall(r"\b[Ff]iguur (\d+)\b", _visible_text(html))} <= set(figures)


def test_every_table_of_the_html_links_its_csv(any_report):
    out = any_report.out
    html = (out / "report.html").read_text(encoding="utf-8")
    wrappers = re.findall(r'<div class="table-wrap[^"]*">(.*?)</div>', html, flags=re.S)
    tables = re.findall(r'<table class="data(?: [^"]*)?">', html)
    assert len(tables) >= 20 and len(wrappers) == len(tables)
    for wrapper in wrappers:
        links = re.findall(r'<a href="(tables/[^"]+\.csv)">', wrapper)
        assert links, wrapper[:200]
        assert all((out / link).is_file() for link in links)


def test_the_percentages_3_3_and_3_4_announce_are_shown(embedded_report):
    html = (_shared(embedded_report) / "report.html").read_text(encoding="utf-8")
    for start, end in (('id="werkzame-elementen"', 'id="kansen"'), ('id="kansen"', 'id="begeleiding"')):
        section = html.split(start, 1)[1].split(end, 1)[0]
        assert "percentage" in section.lower()
        themes = re.findall(r"<h4>[^<]*\((\d+) netwerk(?:en)?, (\d+(?:,\d)?)%\)</h4>", section)
        assert len(themes) >= 5 and all(re.fullmatch(r"\d+(,\d)?", p) for _, p in themes)


def test_a_one_word_column_is_not_hyphenated_in_the_pdf(embedded_report):
    text = pdf_text(_shared(embedded_report) / "report.pdf")
    assert "vragen-" not in text and "vra-" not in text
    assert text.count("vragenlijst") >= 15


@pytest.fixture(scope="module")
def pdf_layout(embedded_report):
    """WeasyPrint's layout of the embedded report, as the PDF has it."""
    from weasyprint import HTML
    return HTML(filename=str(_shared(embedded_report) / "report.html")).render()


def _text_at_page_foot(document) -> list[tuple[int, tuple]]:
    """For each PDF page whose last line of text belongs to a heading or a table's caption: the page and
    the elements that line sits in."""
    from weasyprint.formatting_structure import boxes

    def walk(box, chain, out):
        if isinstance(box, boxes.MarginBox):
            return
        if isinstance(box, boxes.TextBox):
            out.append((box.position_y, chain))
            return
        tag = getattr(box, "element_tag", None)
        inline = isinstance(box, (boxes.InlineBox, boxes.LineBox))
        for child in getattr(box, "children", []):
            walk(child, chain + ((tag,) if tag and not inline else ()), out)
    found = []
    for number, page in enumerate(document.pages, 1):
        lines = []
        walk(page._page_box, (), lines)
        if lines:
            chain = max(lines, key=lambda line: line[0])[1]
            if set(chain) & {"h1", "h2", "h3", "h4", "caption"}:
                found.append((number, chain))
    return found


def test_no_heading_or_caption_is_left_at_the_foot_of_a_pdf_page(pdf_layout):
    assert _text_at_page_foot(pdf_layout) == []


def test_every_table_fits_the_width_of_the_pdf_page(pdf_layout):
    from weasyprint.formatting_structure import boxes
    too_wide = []
    for number, page in enumerate(pdf_layout.pages, 1):
        content = page._page_box.children[0]   # the page's body area
        right = content.content_box_x() + content.width
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableBox) and box.position_x + box.margin_width() > right + 1:
                too_wide.append((number, round(box.position_x + box.margin_width() - right)))
    assert too_wide == []


def test_bijlage_1_has_the_questionnaires_own_texts_and_q12_as_its_grid(embedded_report):
    import yaml
    html = (_shared(embedded_report) / "report.html").read_text(encoding="utf-8")
    appendix = html.split('id="bijlage-1"', 1)[1].split('id="bijlage-2"', 1)[0]
    texts = yaml.safe_load((ROOT / "config" / "questionnaire.yaml").read_text(encoding="utf-8"))
    first_intro = " ".join(texts["introduction"].split("\n\n")[0].split())
    first_close = " ".join(texts["closing"].split("\n\n")[0].split())
    flat = " ".join(appendix.split())
    assert flat.index(first_intro) < flat.index("<strong>1.</strong>") < flat.index(first_close)
    grid = re.search(r'<table class="grid">(.*?)</table>', appendix, flags=re.S).group(1)
    assert re.findall(r'<th scope="row">([^<]+)</th>', grid) == [f"Categorie {i}" for i in range(1, 7)]
    assert re.findall(r'<th scope="col">(?:<span class="scale-label">)?([^<]+)<', grid)[2:] == [
        "Zeer lage betrokkenheid", "Lage betrokkenheid", "Gemiddelde betrokkenheid", "Hoge betrokkenheid",
        "Zeer hoge betrokkenheid"]
    # on a phone the short headings, hidden from screen readers, which read the full ones
    assert re.findall(r'<span class="scale-short" aria-hidden="true">([^<]+)<', grid) == [
        "Zeer laag", "Laag", "Gemiddeld", "Hoog", "Zeer hoog"]
    assert grid.count("○") == 30


def test_questionnaire_texts_are_checked(tmp_path):
    from pipeline.core.errors import ConfigError
    from pipeline.publishing.texts import read_questionnaire_texts
    (tmp_path / "questionnaire.yaml").write_text("introduction: Welkom\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"questionnaire\.yaml: expected two texts, introduction: \| and closing: \|"):
        read_questionnaire_texts(tmp_path)


def test_every_sheet_of_the_workbook_has_dutch_headers_and_words_while_the_csvs_keep_the_contract(embedded_report):
    import openpyxl
    out = _shared(embedded_report)
    workbook = openpyxl.load_workbook(out / "tables.xlsx", read_only=True)
    english = {"network_id", "werkplaats", "name", "initiator", "initiator_types", "start_year", "start_text", "status",
               "stop_reason", "source", "category_label", "participant_group", "level", "item", "theme", "origin",
               "evidence"}
    for sheet in workbook.worksheets:
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        assert not set(header) & english, (sheet.title, header)
    levels = {row[3] for row in workbook["Deelnemerscategorieën"].iter_rows(min_row=2, values_only=True)}
    assert levels - {None} <= {"Zeer lage betrokkenheid", "Lage betrokkenheid", "Gemiddelde betrokkenheid",
                               "Hoge betrokkenheid", "Zeer hoge betrokkenheid"} and len(levels - {None}) >= 3
    types = " ".join(str(row[4] or "") for row in workbook["Netwerken"].iter_rows(min_row=2, values_only=True))
    assert "Onderwijs en onderzoek" in types and "onderwijs_onderzoek" not in types
    with open(out / "tables" / "involvement.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["network_id", "category_label", "participant_group", "level"]
    assert {r[3] for r in rows[1:]} <= {"", "1", "2", "3", "4", "5", "1.0", "2.0", "3.0", "4.0", "5.0"}
