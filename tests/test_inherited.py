"""Texts carried over from the previous wave: every paragraph still as that wave wrote it is marked where
it stands, in the HTML, the PDF and the Word edition; a rewritten paragraph is not; and the run lists the
carried-over paragraphs that name a subject the tables measure, one line each."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, build_embedded_wave, shared_run
from pipeline import run_pipeline
from pipeline.publishing.inherited import Inheritance, blocks, mark_text
from pipeline.publishing.texts import text_to_html
from pipeline.waves.wave import load_wave, new_wave, without_mark

EPOCH = "1546300800"
MARK = "Overgenomen uit meting 2018, nog niet herschreven"
REWRITTEN = "Het eerste is de rol van de begeleider, die in deze meting anders uitpakt."




@pytest.fixture(scope="session")
def second_wave(tmp_path_factory):
    """Wave 2025 started with new-wave from the built wave 2018 (its texts carried over, each with its mark),
    one paragraph of discussie.md rewritten, built; messages.txt holds what the run said."""
    built_2018 = shared_run(tmp_path_factory, "waves-2018-built", build_embedded_wave)

    def build(folder):
        shutil.copytree(built_2018, folder, dirs_exist_ok=True)
        wave = new_wave("2025", export=EMBEDDED_EXPORT, supplement=EMBEDDED_SUPPLEMENT, previous="2018",
                        waves_dir=folder / "waves")
        discussie = wave.texts / "discussie.md"
        text = discussie.read_text(encoding="utf-8")
        second = blocks(without_mark(text))[1]
        discussie.write_text(text.replace(second, REWRITTEN), encoding="utf-8")
        lines = []
        patch = pytest.MonkeyPatch()
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        try:
            run_pipeline(wave=load_wave("2025", waves_dir=folder / "waves"), say=lines.append)
        finally:
            patch.undo()
        (folder / "messages.txt").write_text("\n".join(lines), encoding="utf-8")
    return shared_run(tmp_path_factory, "inherited-2025", build)


def _carried_blocks(folder) -> int:
    """Paragraphs and lists of the three texts of wave 2025 that are still wave 2018's."""
    own = folder / "waves" / "2018" / "texts"
    return sum(len(blocks((own / f"{name}.md").read_text(encoding="utf-8")))
               for name in ("inleiding", "conclusies", "discussie")) - 1


def test_every_carried_over_paragraph_is_marked_in_the_html(second_wave):
    html = (second_wave / "reports" / "2025" / "report.html").read_text(encoding="utf-8")
    marked = re.findall(r'<div class="inherited" role="note"><p class="inherited-mark">([^<]+)</p>', html)
    assert len(marked) == _carried_blocks(second_wave)
    assert set(marked) == {MARK}
    rewritten = html.index(REWRITTEN)
    assert html.rindex('<div class="inherited"', 0, rewritten) < html.rindex("</div>", 0, rewritten)
    assert "Drie punten verdienen verdere aandacht." in html    # a carried-over paragraph keeps its text


def test_the_pdf_and_the_word_edition_mark_them_too(second_wave):
    from docx import Document
    from pypdf import PdfReader
    out = second_wave / "reports" / "2025"
    text = "".join(page.extract_text() for page in PdfReader(str(out / "report.pdf")).pages)
    assert re.sub(r"\s+", " ", text).count(MARK) == _carried_blocks(second_wave)
    document = Document(str(out / "report.docx"))
    labels = [p for p in document.paragraphs if p.style.name == "Inherited Mark"]
    assert len(labels) == _carried_blocks(second_wave) and {p.text for p in labels} == {MARK}
    paragraphs = document.paragraphs
    ruled = [p.text for p in paragraphs if p._p.pPr is not None and p._p.pPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr") is not None]
    assert any(t.startswith("Drie punten verdienen") for t in ruled)
    assert not any(t.startswith(REWRITTEN[:30]) for t in ruled)


def test_the_run_lists_carried_over_paragraphs_that_name_what_the_tables_measure(second_wave):
    lines = (second_wave / "messages.txt").read_text(encoding="utf-8").splitlines()
    checks = [line for line in lines if "still as wave 2018 wrote it" in line]
    reflection = [line for line in checks if '"Reflectie als vaste leervorm.' in line]
    assert len(reflection) == 1 and "werkvormen: Intervisie, casuïstiek en reflectiebijeenkomsten" in reflection[0]
    leads = [line for line in checks if '"Trekkers uit onderwijs en onderzoek.' in line]
    assert len(leads) == 1 and "initiatiefnemers: Onderwijs en onderzoek" in leads[0]
    assert all(re.search(r"\b(inleiding|conclusies|discussie)\.md, still as wave 2018", line) for line in checks)
    assert not any("Het eerste is de rol" in line for line in checks)                 # rewritten
    assert not any('"Drie punten verdienen verdere aandacht."' in line for line in checks)   # names nothing


def test_a_wave_with_its_own_texts_marks_nothing(second_wave):
    html = (second_wave / "reports" / "2018" / "report.html").read_text(encoding="utf-8")
    assert 'class="inherited"' not in html and "nog niet herschreven" not in html


def test_the_mark_and_the_text_are_escaped_and_a_rewritten_paragraph_is_not_marked():
    carried = Inheritance(source="2018", earlier=frozenset({"Oud <b>stuk</b> tekst."}))
    html = text_to_html("Oud <b>stuk</b>\ntekst.\n\nNieuw stuk.", hard_breaks=False, carried=carried)
    assert html == ('<div class="inherited" role="note"><p class="inherited-mark">Overgenomen uit meting 2018, nog niet herschreven</p>'
                    "<p>Oud &lt;b&gt;stuk&lt;/b&gt; tekst.</p></div><p>Nieuw stuk.</p>")
    unknown = Inheritance(source='<x"y>', earlier=None)      # the earlier text is not there: all of it counts
    html = text_to_html("Een.\n\nTwee.", hard_breaks=False, carried=unknown)
    assert html.count('class="inherited"') == 2 and "<x" not in html and mark_text("&lt;x&quot;y&gt;") in html


def test_a_screen_reader_reads_the_mark_once():
    """What assistive technology reads of a marked paragraph: its label (aria-label) and its text, less
    what is hidden from it (aria-hidden); the mark's words are in it once."""
    from html.parser import HTMLParser

    class Spoken(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.words, self.hidden = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            self.hidden.append(attrs.get("aria-hidden") == "true" or bool(self.hidden and self.hidden[-1]))
            if attrs.get("aria-label") and not self.hidden[-1]:
                self.words.append(attrs["aria-label"])

        def handle_endtag(self, tag):
            self.hidden.pop()

        def handle_data(self, data):
            if not (self.hidden and self.hidden[-1]):
                self.words.append(data)

    reader = Spoken()
    reader.feed(text_to_html("Oude zin.", hard_breaks=False, carried=Inheritance(source="2018", earlier=None)))
    assert " ".join(reader.words).count(mark_text("2018")) == 1
