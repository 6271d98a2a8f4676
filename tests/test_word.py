"""The Word edition, report.docx: read back with python-docx and from its XML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from test_ingest import ANSWERS
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, shown_figures
from test_report import HOSTILE

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def report(embedded_report):
    """The embedded wave's run that the other tests share (conftest.embedded_report)."""
    return embedded_report


def _document(path: Path):
    from docx import Document
    return Document(str(path))


def _xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as package:
        return package.read(name).decode("utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _text(document) -> str:
    """Every paragraph's text, those in table cells included, one a line."""
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                lines += [p.text for p in cell.paragraphs]
    return "\n".join(lines)


def _html_headings(html: str, level: int) -> list[str]:
    import html as html_module
    found = re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html, re.DOTALL)
    return [_flat(html_module.unescape(re.sub(r"<[^>]+>", "", h))) for h in found]


def test_the_folder_holds_report_docx_and_the_manifest_lists_it(report):
    import json
    out = report / "out"
    assert (out / "report.docx").stat().st_size > 100_000
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "report.docx" in manifest["outputs"] and "templates/reference.docx" in manifest["templates"]


def test_every_h1_and_h2_of_the_html_is_a_word_heading(report):
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    document = _document(report / "out" / "report.docx")
    by_style = {}
    for paragraph in document.paragraphs:
        by_style.setdefault(paragraph.style.name, []).append(_flat(paragraph.text))
    h1 = _html_headings(html.split("<main>", 1)[1], 1)     # the cover's h1 is the Word edition's Title
    h2 = [h for h in _html_headings(html, 2) if h != "Inhoud"]
    assert h1 == by_style["Heading 1"]
    assert h2 == by_style["Heading 2"]
    assert set(_html_headings(html, 3)) <= set(by_style["Heading 3"])
    assert by_style["Heading 1"][:4] == ["1. Inleiding", "2. Methode", "3. Resultaten", "4. Conclusies en discussie"]
    assert by_style["Title"] == ["Rapport leernetwerken Werkplaatsen Sociaal Domein"]


def test_the_method_section_says_what_the_html_says(report):
    import html as html_module
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    section = html.split('<h1 id="methode">', 1)[1].split('<h1 id="resultaten">', 1)[0]
    expected = _flat(html_module.unescape(re.sub(r"<[^>]+>", " ", section.split("</h1>", 1)[1])))
    document = _document(report / "out" / "report.docx")
    texts = [p.text for p in document.paragraphs if not p.style.name.startswith("TOC")]
    start, end = texts.index("2. Methode"), texts.index("3. Resultaten")
    assert _flat(" ".join(texts[start + 1:end])) == expected.replace(" ,", ",").replace(" .", ".").replace("( ", "(")


def test_a_contents_field_updated_on_opening(report):
    docx = report / "out" / "report.docx"
    body = _xml(docx, "word/document.xml")
    instructions = re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body)
    assert ' TOC \\o "1-3" \\h \\z \\u ' in instructions
    assert re.search(r'<w:updateFields w:val="(true|1)"/>', _xml(docx, "word/settings.xml"))
    document = _document(docx)
    entries = [p.text for p in document.paragraphs if p.style.name.startswith("TOC ")]
    assert "3.2 Welke leernetwerken zijn er (geweest)?" in entries and "Colofon" in entries


def test_every_figure_is_embedded_at_print_resolution_with_a_seq_caption(any_report):
    from docx.shared import Cm
    out = any_report.out
    docx = out / "report.docx"
    with zipfile.ZipFile(docx) as package:
        media = sorted(package.read(n) for n in package.namelist() if n.startswith("word/media/"))
    pngs = sorted((out / "figures" / f"{name}.png").read_bytes() for name in shown_figures(any_report.instrument))
    assert media == pngs, "every figure's 300 dpi PNG, byte for byte, and nothing else"
    document = _document(docx)
    shapes = document.inline_shapes
    assert len(shapes) == len(pngs)
    assert all(abs(s.width - Cm(16)) < Cm(0.01) for s in shapes)
    body = _xml(docx, "word/document.xml")
    assert body.count("SEQ Figuur \\* ARABIC") == len(pngs)
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption" and p.text.startswith("Figuur ")]
    assert [int(re.match(r"Figuur (\d+)\.", c).group(1)) for c in captions] == list(range(1, len(pngs) + 1))
    assert "Figuur 2. Betrokkenheid per deelnemersgroep" in "\n".join(captions)
    assert len(re.findall(r'<wp:docPr [^>]*descr="Figuur \d+\. ', body)) == len(pngs)


def test_tables_are_word_tables_whose_header_row_repeats(report):
    document = _document(report / "out" / "report.docx")
    data = [t for t in document.tables if t.style.name == "Report Table"]
    assert len(data) > 30
    for table in data:
        first = table.rows[0]._tr
        assert first.trPr is not None and first.trPr.find(f"{W}tblHeader") is not None
        assert not any(r._tr.trPr is not None and r._tr.trPr.find(f"{W}tblHeader") is not None
                       for r in table.rows[1:])
    headers = [[c.text for c in t.rows[0].cells] for t in data]
    assert ["Werkplaats", "Leernetwerk", "Initiatiefnemer", "Opstart", "Huidige status", "Bron"] in headers
    status = next(t for t in data if [c.text for c in t.rows[0].cells] == ["Status", "Netwerken", "%"])
    assert [c.text for c in status.rows[1].cells] == ["Loopt", "10", "59%"]


def test_page_numbers_language_and_core_properties(report):
    docx = report / "out" / "report.docx"
    with zipfile.ZipFile(docx) as package:
        footers = "".join(package.read(n).decode("utf-8") for n in package.namelist()
                          if re.match(r"word/footer\d*\.xml", n))
    assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", footers)
    styles = _xml(docx, "word/styles.xml")
    defaults = styles.split("<w:rPrDefault>", 1)[1].split("</w:rPrDefault>", 1)[0]
    assert re.search(r'<w:lang [^>]*w:val="nl-NL"', defaults)
    core = _document(docx).core_properties
    assert core.language == "nl-NL" and core.title == "Rapport leernetwerken Werkplaatsen Sociaal Domein"
    assert core.created.year == 2019 and core.modified == core.created


def test_every_network_of_bijlage_2_and_its_answers(report):
    document = _document(report / "out" / "report.docx")
    texts = [p.text for p in document.paragraphs if not p.style.name.startswith("TOC")]
    appendix = texts[texts.index("Bijlage 2. De leernetwerken"):texts.index("Colofon")]
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 3"]
    for entry in ANSWERS["networks"] + ANSWERS["supplement"]:
        assert entry["q3"] in appendix and entry["q3"] in headings, entry["q3"]
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    assert len(_html_headings(html, 4)) == sum(1 for p in document.paragraphs if p.style.name == "Heading 4")


def test_two_runs_give_the_same_bytes(report, embedded_report_again):
    assert (embedded_report_again / "out" / "report.docx").read_bytes() == (report / "out" / "report.docx").read_bytes()


def test_hostile_text_is_written_literally(hostile_report):
    out = hostile_report / "out"
    text = _flat(_text(_document(out / "report.docx")))
    assert f"Project Venlo {HOSTILE[0]}" in text
    assert " ".join(HOSTILE) in text and "{{ 7*7 }}" in text
    assert f"{HOSTILE[2]} Eerst doen en dan reflecteren." in text
    body = _xml(out / "report.docx", "word/document.xml")
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "HYPERLINK" not in "".join(re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body))


def test_control_characters_are_dropped_and_markup_in_researchers_texts_becomes_runs():
    from pipeline.publishing.word_text import clean, html_blocks
    assert clean("a\x00b\x0bc\ufffed\te\n") == "abcd\te\n"
    blocks = html_blocks("<p>Een <strong>vet</strong> en <em>schuin</em> woord.</p><ul><li>een</li><li>twee</li></ul>"
                         "<ol><li>drie</li></ol>")
    assert blocks[0] == ("p", [("Een ", False, False), ("vet", True, False), (" en ", False, False),
                               ("schuin", False, True), (" woord.", False, False)])
    assert [b[0].split(":")[0] for b in blocks[1:]] == ["ul", "ul", "ol"]
    assert html_blocks("<p>&lt;script&gt; &amp; {{ x }}</p>") == [("p", [("<script> & {{ x }}", False, False)])]


def test_a_reference_docx_in_the_template_folder_gives_its_styles(report, tmp_path, monkeypatch):
    from docx import Document
    from pipeline import run_pipeline
    from pipeline.core.files import DEFAULT_TEMPLATES
    mine = tmp_path / "huisstijl"
    mine.mkdir()
    reference = Document(str(DEFAULT_TEMPLATES / "reference.docx"))
    reference.styles["Heading 1"].font.name = "Courier New"
    reference.save(str(mine / "reference.docx"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    run_pipeline(processed=report / "processed", out=tmp_path / "out", templates=mine, start="render")
    theirs = _document(tmp_path / "out" / "report.docx")
    ours = _document(report / "out" / "report.docx")
    assert theirs.styles["Heading 1"].font.name == "Courier New"
    assert ours.styles["Heading 1"].font.name == "Arial"
    assert [p.text for p in theirs.paragraphs if p.style.name == "Heading 1"][:2] == ["1. Inleiding", "2. Methode"]
    assert "Referentiedocument" not in _text(theirs) and "Referentiedocument" not in _text(ours)


def test_the_shipped_reference_is_what_its_script_writes(tmp_path):
    import subprocess
    import sys
    from pipeline.core.files import DEFAULT_TEMPLATES
    out = tmp_path / "reference.docx"
    subprocess.run([sys.executable, str(Path(__file__).parent.parent / "scripts" / "make_reference_docx.py"), str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == (DEFAULT_TEMPLATES / "reference.docx").read_bytes()


def _html_paragraphs(html: str) -> list[str]:
    """The text of every paragraph, list item and quote of the HTML after the contents, minus the
    screen-only download links."""
    import html as html_module
    body = html.split("</nav>", 1)[1]
    found = re.findall(r"<(p|li|blockquote)\b([^>]*)>(.*?)</\1>", body, re.S)
    texts = [_flat(html_module.unescape(re.sub(r"<[^>]+>", " ", inner))) for _, attrs, inner in found
             if "downloads" not in attrs]
    return [t.replace(" ,", ",").replace(" .", ".").replace(" ?", "?").replace("( ", "(").replace(" )", ")")
            for t in texts if t]


def test_every_paragraph_of_the_html_is_in_word(report):
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    word = _flat(_text(_document(report / "out" / "report.docx")))
    missing = [t for t in _html_paragraphs(html) if _flat(t) not in word]
    assert not missing, missing[:5]


def test_word_table_captions_are_numbered_as_in_the_html(report):
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    body = _xml(report / "out" / "report.docx", "word/document.xml")
    assert body.count(" SEQ Tabel \\* ARABIC ") == len(re.findall(r"<caption>Tabel \d+\. ", html))
    document = _document(report / "out" / "report.docx")
    captions = [_flat(p.text) for p in document.paragraphs if p.style.name == "Caption" and p.text.startswith("Tabel")]
    assert captions[:3] == [_flat(c) for c in re.findall(r"<caption>(Tabel \d+\. [^<]*)</caption>", html)[:3]]


def test_a_template_override_changes_the_word_edition_too(tmp_path, monkeypatch):
    from pipeline import run_pipeline
    mine = tmp_path / "sjablonen"
    mine.mkdir()
    (mine / "report.html").write_text(
        '{% extends "default:report.html" %}\n{% block conclusions %}<h1 id="conclusies">4. Wat we leerden</h1>\n'
        "<p>Een zin die alleen in dit sjabloon staat, met {{ networks | length }} netwerken.</p>\n"
        "<ul><li>eerste les</li><li>tweede les</li></ul>{% endblock %}\n", encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    run_pipeline(export=EMBEDDED_EXPORT, supplement=EMBEDDED_SUPPLEMENT, out=tmp_path / "out",
                 processed=tmp_path / "processed", templates=mine)
    document = _document(tmp_path / "out" / "report.docx")
    paragraphs = [(p.style.name, _flat(p.text)) for p in document.paragraphs]
    assert ("Heading 1", "4. Wat we leerden") in paragraphs
    assert ("Normal", "Een zin die alleen in dit sjabloon staat, met 17 netwerken.") in paragraphs
    assert ("List Bullet", "eerste les") in paragraphs
    assert "4.1 Conclusies" not in [text for _, text in paragraphs]
