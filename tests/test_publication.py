"""The report as a publication: authors with their institutions, date, commissioning body, publisher, contact,
licence, version and suggested citation, from wave.yaml, on the cover, in the colophon, in the HTML head, in the
PDF's metadata and in the Word edition's core properties; a wave.yaml without them still loads and builds."""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import date
from html import unescape

import pytest
import yaml

from conftest import EPOCH, make_wave
from pipeline import run_pipeline
from pipeline.core.errors import ConfigError
from pipeline.language.citation import reference_name, suggested_citation
from pipeline.waves.wave import load_wave, new_wave

FULL = {
    "title": "Leernetwerken in beeld", "subtitle": "Een tweede inventarisatie",
    "authors": [{"name": "Anne van der Verzon", "institution": "Hogeschool Denkbeeld"},
                {"name": "Bram Bedacht", "institution": "Lectoraat Fictie"}, "Cor de Proef"],
    "institutions": ["Kenniscentrum Elders"],
    "published": "2025-10-01", "commissioner": "Stichting Opdracht", "publisher": "Uitgeverij Verzonnen",
    "place": "Utrecht", "contact": "secretariaat@voorbeeld.invalid", "licence": "cc-by 4.0", "version": "1.2",
    "keywords": ["leernetwerken", "proefwoord"],
}


# ------------------------------------------------------------------------------------------ the citation

@pytest.mark.parametrize("authors, start", [
    (["Erik Jansen"], "Jansen, E. (2019). "),
    (["Erik Jansen", "Suzan van der Pas"], "Jansen, E., & Pas, S. van der (2019). "),
    (["Erik Jansen", "Suzan van der Pas", "Gideon de Lange"], "Jansen, E., Pas, S. van der, & Lange, G. de (2019). "),
])
def test_the_citation_names_one_two_and_three_authors_in_author_year_style(authors, start):
    citation = suggested_citation(authors=authors, year=2019, title="Rapport leernetwerken", subtitle="Een inventarisatie",
                                  place="Utrecht", publisher="Werkplaatsen Sociaal Domein")
    assert citation.text == start + "Rapport leernetwerken: Een inventarisatie. Utrecht: Werkplaatsen Sociaal Domein."
    assert citation.title == "Rapport leernetwerken: Een inventarisatie"     # the part set in italics


def test_names_organisations_missing_parts_and_many_authors():
    assert reference_name("Jean-Pierre Wilken") == "Wilken, J.-P."
    assert reference_name("J.P. ter Horst") == "Horst, J. P. ter"
    organisation = "Werkgroep Lerende Praktijken van de Werkplaatsen Sociaal Domein"
    assert reference_name(organisation) == organisation
    bare = suggested_citation(authors=[organisation], year=None, title="Rapport", version="2", draft=True)
    assert bare.text == f"{organisation} (z.d.). Rapport (versie 2) [Concept]."
    many = suggested_citation(authors=[f"Naam Nummer{i}" for i in range(1, 23)], year=2025, title="T")
    assert many.authors.endswith("Nummer19, N., … Nummer22, N.") and "Nummer20" not in many.authors


# ------------------------------------------------------------------------------------------ wave.yaml

def test_wave_yaml_gives_the_publication_and_an_old_one_still_loads(tmp_path):
    wave = load_wave("vol", waves_dir=make_wave(tmp_path / "waves", "vol", **FULL))
    first = wave.authors[0]
    assert (first.name, first.institution) == ("Anne van der Verzon", "Hogeschool Denkbeeld")
    assert wave.authors[2].name == "Cor de Proef" and wave.authors[2].institution is None
    p = wave.publication
    assert p.published == date(2025, 10, 1) and p.commissioner == "Stichting Opdracht" and p.version == "1.2"
    assert p.licence.name == "CC BY 4.0" and "commerciële" in p.licence.text and p.licence.url.startswith("https://")
    old = load_wave("oud", waves_dir=make_wave(tmp_path / "waves", "oud"))     # title, year, authors only
    assert [a.name for a in old.authors] == ["Test Verzonnen"] and old.publication.published is None
    assert old.publication.licence is None and old.publication.keywords == ()


@pytest.mark.parametrize("field, value, message", [
    ("published", "15-3-2019", "published is '15-3-2019'; expected the date of publication as year-month-day"),
    ("published", 2019, "published is 2019; expected the date"),
    ("licence", "CC BY 3.0", "licence 'CC BY 3.0' is not one this pipeline knows"),
    ("licence", {"text": "zonder naam"}, "licence is {'text': 'zonder naam'}; give a name"),
    ("licence", {"name": "Eigen", "url": "javascript:alert(1)"}, "the licence's url 'javascript:alert(1)' is no web"),
    ("version", 1.1, 'version is 1.1; expected text (quote a number: version: "1.1")'),
    ("commissioner", ["a", "b"], "commissioner is ['a', 'b']; expected text"),
    ("keywords", "leernetwerken", "keywords must be a list of words"),
    ("authors", [{"naam": "Anne"}], "authors: {'naam': 'Anne'} is not an author"),
    ("authors", "Anne Verzonnen", "authors must be a list"),
])
def test_a_wrong_type_is_one_line_naming_the_key(tmp_path, field, value, message):
    with pytest.raises(ConfigError) as caught:
        load_wave("w", waves_dir=make_wave(tmp_path / "waves", "w", **{field: value}))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_new_wave_carries_the_publishers_and_authors_but_not_the_date(tmp_path):
    waves = make_wave(tmp_path / "waves", "vol", **FULL)
    export = tmp_path / "export.csv"
    export.write_text("x\n", encoding="utf-8")
    wave = new_wave("volgende", export=export, previous="vol", waves_dir=waves)
    assert wave.authors == load_wave("vol", waves_dir=waves).authors
    assert wave.publication.commissioner == "Stichting Opdracht" and wave.publication.licence.name == "CC BY 4.0"
    assert wave.publication.published is None and wave.publication.version is None


# ------------------------------------------------------------------------------------------ the report

def _rendered(embedded_report, folder, name, **fields):
    """Wave <name> (make_wave with `fields`) over the embedded report's processed tables, rendered."""
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        wave = load_wave(name, waves_dir=make_wave(folder / "waves", name, **fields))
        shutil.copytree(embedded_report / "processed", wave.processed)
        run_pipeline(wave=wave, start="render", say=lambda line: None)
    finally:
        patch.undo()
    return wave.out


@pytest.fixture(scope="module")
def full_report(embedded_report, tmp_path_factory):
    return _rendered(embedded_report, tmp_path_factory.mktemp("publication"), "vol", **FULL)


@pytest.fixture(scope="module")
def plain_report(embedded_report, tmp_path_factory):
    return _rendered(embedded_report, tmp_path_factory.mktemp("plain"), "oud")


CITATION = ("Verzon, A. van der, Bedacht, B., & Proef, C. de (2025). Leernetwerken in beeld: Een tweede "
            "inventarisatie (versie 1.2) [Concept]. Utrecht: Uitgeverij Verzonnen.")


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _part(html: str, start: str, end: str) -> str:
    return _squeeze(unescape(re.sub(r"<[^>]+>", " ", html.split(start, 1)[1].split(end, 1)[0])))


def test_the_cover_colophon_and_head_show_every_field(full_report):
    html = (full_report / "report.html").read_text(encoding="utf-8")
    head = html.split("</head>", 1)[0]
    for author in ("Anne van der Verzon", "Bram Bedacht", "Cor de Proef"):
        assert f'<meta name="author" content="{author}">' in head
    assert '<meta name="description" content="Een tweede inventarisatie">' in head
    assert '<meta name="keywords" content="leernetwerken, proefwoord">' in head
    # nothing loaded from the internet; the one web address is the licence's, a link a reader may follow
    assert [link for link in re.findall(r'(?:href|src)="([^"]+)"', html) if "://" in link] \
        == ["https://creativecommons.org/licenses/by/4.0/deed.nl"]
    assert '<a href="https://creativecommons.org/licenses/by/4.0/deed.nl">' in html
    cover = _part(html, '<section class="cover">', "</section>")
    for shown in ("Leernetwerken in beeld", "Een tweede inventarisatie", "Anne van der Verzon (Hogeschool Denkbeeld)",
                  "Bram Bedacht (Lectoraat Fictie)", "Cor de Proef", "Kenniscentrum Elders",
                  "In opdracht van Stichting Opdracht", "Utrecht, 1 oktober 2025"):
        assert shown in cover, shown
    assert "Rapport gemaakt op" not in cover and "januari 2019" not in cover.split("Gegevens verzameld")[0]
    colophon = _part(html, '<h1 id="colofon">', "</main>")
    for shown in ("Opdrachtgever Stichting Opdracht", "Uitgever Uitgeverij Verzonnen, Utrecht",
                  "Contact secretariaat@voorbeeld.invalid", "Versie 1.2, 1 oktober 2025 (concept)",
                  "Licentie CC BY 4.0 Dit werk mag worden gekopieerd",
                  "https://creativecommons.org/licenses/by/4.0/deed.nl", "Citeren als " + CITATION):
        assert shown in colophon, shown
    assert "SHA-256" not in colophon and "Python" not in colophon
    method = _part(html, '<h1 id="methode">', '<h1 id="resultaten">')
    assert "manifest.json bij het rapport noemt van elk invoer- en uitvoerbestand de SHA-256-hash" in method


def test_the_pdf_shows_them_and_carries_them_in_its_metadata(full_report):
    from pypdf import PdfReader
    reader = PdfReader(full_report / "report.pdf")
    cover = _squeeze(reader.pages[0].extract_text())
    assert "Anne van der Verzon (Hogeschool Denkbeeld)" in cover and "In opdracht van Stichting Opdracht" in cover
    assert "Utrecht, 1 oktober 2025" in cover
    colophon = _squeeze(" ".join(page.extract_text() for page in reader.pages[-2:]))
    colophon = colophon.split("Colofon", 1)[1].replace("- ", "-")
    for shown in ("Uitgeverij Verzonnen", "secretariaat@voorbeeld.invalid", "CC BY 4.0", "Versie 1.2"):
        assert shown in colophon, shown
    assert "Verzon, A. van der, Bedacht, B., & Proef, C. de (2025)" in colophon
    meta = reader.metadata
    assert meta["/Title"] == "Leernetwerken in beeld"
    assert meta["/Author"] == "Anne van der Verzon, Bram Bedacht, Cor de Proef"
    assert meta["/Subject"] == "Een tweede inventarisatie" and meta["/Keywords"] == "leernetwerken, proefwoord"
    assert reader.xmp_metadata.dc_creator == ["Anne van der Verzon", "Bram Bedacht", "Cor de Proef"]


def test_the_word_edition_has_them_on_its_cover_and_in_its_core_properties(full_report):
    from docx import Document
    from docx.oxml.ns import qn
    document = Document(str(full_report / "report.docx"))
    core = document.core_properties
    assert core.title == "Leernetwerken in beeld" and core.subject == "Een tweede inventarisatie"
    assert core.author == "Anne van der Verzon; Bram Bedacht; Cor de Proef"
    assert core.keywords == "leernetwerken; proefwoord"
    cover = [p.text for p in document.paragraphs if p.style.name == "Cover Details"][0]
    assert "Bram Bedacht (Lectoraat Fictie)" in cover and "In opdracht van Stichting Opdracht" in cover
    assert "Utrecht, 1 oktober 2025" in cover
    with zipfile.ZipFile(full_report / "report.docx") as package:
        body = package.read("word/document.xml").decode("utf-8")
    assert "Uitgeverij Verzonnen" in body and "Dit werk mag worden gekopieerd" in body
    citation = next(p for t in document.tables for r in t.rows if r.cells[0].text == "Citeren als"
                    for p in r.cells[1].paragraphs)
    assert " ".join(citation.text.split()) == CITATION
    assert [run.text for run in citation.runs if run.italic] == ["Leernetwerken in beeld: Een tweede inventarisatie"]
    licence = next(r.cells[1] for t in document.tables for r in t.rows if r.cells[0].text == "Licentie")
    links = licence.paragraphs[0]._p.findall(qn("w:hyperlink"))
    url = "https://creativecommons.org/licenses/by/4.0/deed.nl"
    assert len(links) == 1 and "".join(t.text for t in links[0].iter(qn("w:t"))) == url
    assert document.part.rels[links[0].get(qn("r:id"))].target_ref == url


def test_the_manifest_names_the_report_and_holds_the_build_record(full_report):
    import json
    manifest = json.loads((full_report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["report"] == {"title": "Leernetwerken in beeld", "version": "1.2", "published": "2025-10-01",
                                  "authors": ["Anne van der Verzon", "Bram Bedacht", "Cor de Proef"]}
    assert len(manifest["inputs"]["export"]["sha256"]) == 64 and manifest["versions"]["python"]


def test_a_wave_without_the_fields_still_builds_and_says_concept(plain_report):
    html = (plain_report / "report.html").read_text(encoding="utf-8")
    cover = _part(html, '<section class="cover">', "</section>")
    assert "Test Verzonnen" in cover and "Concept, nog niet gepubliceerd" in cover and "In opdracht" not in cover
    colophon = _part(html, '<h1 id="colofon">', "</main>")
    assert "Versie concept van 1 januari 2019" in colophon
    assert "Citeren als Verzonnen, T. (z.d.). Rapport leernetwerken (test) [Concept]." in colophon
    for absent in ("Opdrachtgever", "Uitgever", "Contact", "Licentie"):
        assert absent not in colophon
    assert '<meta name="author" content="Test Verzonnen">' in html


def test_the_embedded_wave_names_the_2019_reports_authors():
    record = yaml.safe_load((load_wave("2018").folder / "wave.yaml").read_text(encoding="utf-8"))
    wave = load_wave("2018")
    assert [(a.name, a.institution) for a in wave.authors] == [
        ("Erik Jansen", "HAN"), ("Suzan van der Pas", "HSL"), ("Gideon de Lange", "HSL")]
    assert wave.publication.published == date(2019, 3, 15) and "publisher" not in record
