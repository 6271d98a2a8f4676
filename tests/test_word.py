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
    entries = [p.text.split("\t")[0] for p in document.paragraphs if p.style.name.startswith("TOC ")]
    assert "3.2 Welke leernetwerken zijn er (geweest)?" in entries and "Colofon" in entries


def _pdf_pages(pdf: Path) -> dict[str, int]:
    from pypdf import PdfReader
    reader = PdfReader(str(pdf))
    return {str(k): reader.get_destination_page_number(v) + 1 for k, v in reader.named_destinations.items()}


def test_each_contents_entry_links_its_heading_and_shows_its_page_of_the_pdf(report):
    """The cached contents: a PAGEREF field to the heading's bookmark per entry (Word updates it to the
    document's own page), its number until then the PDF's page of that heading, and a note that says so."""
    out = report / "out"
    body = _xml(out / "report.docx", "word/document.xml").replace("<w:noBreakHyphen/>", "<w:t>-</w:t>")   # "Zuid-Holland"
    html = (out / "report.html").read_text(encoding="utf-8")
    pdf = _pdf_pages(out / "report.pdf")
    toc = body.split(' TOC \\o "1-3" \\h \\z \\u ', 1)[1].split('w:fldCharType="end"/></w:r></w:p>', 1)[0]
    entries = re.findall(r'<w:hyperlink w:anchor="(_Toc\d+)"[^>]*>(.*?)</w:hyperlink>', toc, re.S)
    bookmarks = {name: "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", inner)) for name, inner in
                 re.findall(r'<w:bookmarkStart w:id="\d+" w:name="(_Toc\d+)"/>(.*?)<w:bookmarkEnd', body, re.S)}
    from html import unescape
    ids = {unescape(_flat(re.sub(r"<[^>]+>", "", text))): anchor
           for anchor, text in re.findall(r'<h[12] id="([^"]+)">(.*?)</h[12]>', html, re.S)}
    # neither "Inhoud" nor the cover's title (an h1 for the PDF's tags) is an entry of the contents
    assert len(entries) == len(_html_headings(html, 1)) + len(_html_headings(html, 2)) - 2
    for bookmark, inner in entries:
        texts = re.findall(r"<w:t[^>]*>([^<]*)</w:t>", inner)
        assert f" PAGEREF {bookmark} \\h " in inner
        heading = bookmarks[bookmark]
        assert "".join(texts[:-1]) == heading
        assert texts[-1] == str(pdf[ids[unescape(heading)]]), heading
    assert "De paginanummers zijn die van de pdf-versie (report.pdf)" in toc


def test_without_a_pdf_the_contents_has_no_numbers(tmp_path):
    """The contents filled in without a PDF to take pages from: the entries without numbers or the note."""
    from pipeline.publishing.word import open_reference
    from pipeline.publishing.word_fields import contents, fill_contents
    from pipeline.publishing.word_text import Writer
    document = open_reference(None)
    writer = Writer(document, tmp_path)
    toc = contents(writer)
    writer.heading("1. Inleiding", 1, "inleiding")
    fill_contents(writer, toc)
    entries = [p.text for p in document.paragraphs if re.match(r"TOC \d$", p.style.name)]
    assert entries == ["1. Inleiding", ""] and "PAGEREF" not in document.element.xml


def test_a_running_head_with_the_title_and_the_draft_mark(report):
    docx = report / "out" / "report.docx"
    with zipfile.ZipFile(docx) as package:
        headers = [package.read(n).decode("utf-8") for n in package.namelist() if re.match(r"word/header\d*\.xml", n)]
    texts = ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", h)) for h in headers]
    assert "Rapport leernetwerken Werkplaatsen Sociaal DomeinCONCEPT" in texts
    section = _document(docx).sections[0]
    assert section.different_first_page_header_footer and not section.first_page_header.paragraphs[0].text


def _writer(tmp_path):
    from pipeline.publishing.word import open_reference
    from pipeline.publishing.word_text import Writer
    return Writer(open_reference(None), tmp_path)


def test_a_table_without_headers_has_no_header_row_and_its_widest_rows_columns(tmp_path):
    from pipeline.publishing.word_tables import table
    writer = _writer(tmp_path)
    written = table(writer, [], [["Een", "twee"], ["drie", "vier", "vijf"]])
    assert len(written.columns) == 3 and len(written.rows) == 2
    assert all(r._tr.trPr is None or r._tr.trPr.find(f"{W}tblHeader") is None for r in written.rows)
    assert [c.text for c in written.rows[1].cells] == ["drie", "vier", "vijf"]


def test_a_header_less_html_table_reaches_word(tmp_path):
    from pipeline.publishing.word_body import write_body
    writer = _writer(tmp_path)
    write_body(writer, "<html><body><table><tr><td>Naam</td><td>Waarde</td></tr><tr><td>a</td><td>b</td></tr>"
                       "</table><p>Daarna.</p></body></html>", {})
    assert [[c.text for c in r.cells] for r in writer.doc.tables[0].rows] == [["Naam", "Waarde"], ["a", "b"]]


def test_no_empty_paragraph_after_a_table_unless_a_table_follows(report):
    """Two tables that touch become one in Word, so only then (and at the body's end, where Word wants a
    paragraph) an empty paragraph separates a table from what follows."""
    body = _document(report / "out" / "report.docx").element.body

    def empty(element):
        return element.tag == f"{W}p" and not "".join(element.itertext()).strip() \
            and element.find(f".//{W}drawing") is None

    tables = body.findall(f"{W}tbl")
    followed = [(t.getnext(), t.getnext().getnext()) for t in tables]
    assert len(tables) > 30
    assert not [p for p, after in followed if empty(p) and after.tag not in (f"{W}tbl", f"{W}sectPr")]
    assert not [t for t in tables if t.getnext().tag == f"{W}tbl"]


def test_the_sentence_before_a_table_and_a_tables_note_keep_with_the_table(report):
    """Word moves a short paragraph before a table (or before its caption) to the table's page, and keeps
    a table's last row with the note under it."""
    body = _document(report / "out" / "report.docx").element.body
    blocks = [b for b in body if b.tag in (f"{W}p", f"{W}tbl")]

    def text(element):
        return "".join(t.text or "" for t in element.iter(f"{W}t"))

    def keeps(paragraph):
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        heading = style is not None and style.get(f"{W}val").startswith("Heading")   # the style keeps it
        return heading or paragraph.find(f"{W}pPr/{W}keepNext") is not None
    opened = 0
    for at, block in enumerate(blocks):
        if block.tag != f"{W}tbl" or at < 2:
            continue
        before = blocks[at - 1]
        if before.tag == f"{W}p" and before.find(f"{W}pPr/{W}pStyle[@{W}val='Caption']") is not None:
            before = blocks[at - 2]
        if before.tag != f"{W}p" or not text(before).strip():
            continue
        body_text = before.find(f"{W}pPr/{W}pStyle") is None
        if body_text and len(text(before)) <= 400:
            assert keeps(before), text(before)
            opened += 1
    assert opened > 5
    # a table's note does not keep with what follows it, not even the next table: such chains outgrow a page
    notes = [b for b in blocks if b.tag == f"{W}p" and b.find(f"{W}pPr/{W}pStyle[@{W}val='Note']") is not None]
    assert notes and not [n for n in notes if n.find(f"{W}pPr/{W}keepNext") is not None]
    note = next(at for at, b in enumerate(blocks) if b.tag == f"{W}p" and "n.i. = niet ingevuld" in text(b))
    table = next(b for b in reversed(blocks[:note]) if b.tag == f"{W}tbl")
    last_row = table.findall(f"{W}tr")[-1]
    assert all(keeps(p) for p in last_row.iter(f"{W}p")), "the table's last row does not keep with its note"


def _kept(row) -> bool:
    return all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)


def test_small_tables_and_the_grid_stay_whole_and_long_ones_keep_their_first_and_last_rows(report):
    from pipeline.publishing.word_tables import KEEP_WHOLE_ROWS
    document = _document(report / "out" / "report.docx")
    data = [t for t in document.tables if t.style.name == "Report Table"]
    grid = next(t for t in data if t.rows[1].cells[0].text == "Categorie 1")
    assert [r.cells[0].text for r in grid.rows[1:]] == [f"Categorie {n}" for n in range(1, 7)]
    for table in data:
        rows = table.rows
        assert all(r._tr.trPr is not None and r._tr.trPr.find(f"{W}cantSplit") is not None for r in rows[:-1]
                   if len(rows) <= KEEP_WHOLE_ROWS)
        if len(rows) <= KEEP_WHOLE_ROWS:
            assert all(_kept(r) for r in rows[:-1])
        else:
            assert all(_kept(r) for r in rows[:3]) and _kept(rows[-2]) and not _kept(rows[len(rows) // 2])
    assert any(len(t.rows) > KEEP_WHOLE_ROWS for t in data)


def test_hyphenation_is_on_but_not_for_names_in_cells_or_titles(report):
    docx = report / "out" / "report.docx"
    assert re.search(r'<w:autoHyphenation w:val="(true|1)"/>', _xml(docx, "word/settings.xml"))
    document = _document(docx)
    suppress = f"{W}suppressAutoHyphens"

    def suppressed(paragraph):
        ppr = paragraph._p.pPr
        return ppr is not None and ppr.find(suppress) is not None
    cells = [p for t in document.tables for r in t.rows for c in r.cells for p in c.paragraphs if p.text.strip()]
    named = [p for p in cells if p.text in ("Regio Zwolle", "Zuyd Hogeschool", "Categorie 1")]
    assert named and all(suppressed(p) for p in named)
    sentences = [p for p in cells if len(p.text) > 80 and not re.search(r"(?<![.!?:] )(?<!^)\b[A-Z]", p.text)]
    assert sentences and not any(suppressed(p) for p in sentences)
    for name in ("Title", "Heading 1", "Heading 2", "TOC 2"):
        assert document.styles[name].element.pPr.find(suppress) is not None, name


def test_a_name_joined_by_hyphens_has_non_breaking_hyphens_and_reads_as_before(report):
    """"Zuid-Holland" (a werkplaats of the embedded wave) never breaks at its hyphen in Word: it is written
    with w:noBreakHyphen, and its text still reads "Zuid-Holland"; a compound such as "WSD-netwerk" keeps
    its ordinary hyphen."""
    xml = _xml(report / "out" / "report.docx", "word/document.xml")
    texts = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)
    assert not [t for t in texts if re.search(r"\b(?:Zuid|Noord)-[A-Z]", t)]
    assert xml.count("<w:noBreakHyphen/>") >= 2
    assert any("Zuid-Holland" in p.text for p in _document(report / "out" / "report.docx").paragraphs)


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
    assert blocks[0] == ("p", [("Een ", False, False, None), ("vet", True, False, None), (" en ", False, False, None),
                               ("schuin", False, True, None), (" woord.", False, False, None)])
    assert [b[0].split(":")[0] for b in blocks[1:]] == ["ul", "ul", "ol"]
    assert html_blocks("<p>&lt;script&gt; &amp; {{ x }}</p>") == [("p", [("<script> & {{ x }}", False, False, None)])]
    # A web address stays a link; any other href (a script, a page of the report) is text only.
    assert html_blocks('<p>Zie <a href="https://voorbeeld.invalid/x">de site</a>, <a href="javascript:x()">dit</a>'
                       ' of <a href="#bijlage-1">Bijlage 1</a>.</p>') \
        == [("p", [("Zie ", False, False, None), ("de site", False, False, "https://voorbeeld.invalid/x"),
                   (", ", False, False, None), ("dit", False, False, None), (" of ", False, False, None),
                   ("Bijlage 1", False, False, None), (".", False, False, None)])]


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
