"""The Word edition as a reader sees it: report.docx converted to PDF by LibreOffice (soffice --headless),
its pages read back with pypdf. Skipped without LibreOffice (`make office` installs it), failed on CI."""

from __future__ import annotations

import re

import pytest

from conftest import converted_by_libreoffice


@pytest.fixture(scope="module")
def pages(embedded_report, tmp_path_factory) -> list[str]:
    """The text of every page of the embedded report's report.docx as LibreOffice lays it out."""
    from pypdf import PdfReader
    folder = tmp_path_factory.mktemp("libreoffice")
    pdf = converted_by_libreoffice(embedded_report / "out" / "report.docx", folder,
                                   packages="libreoffice-writer-nogui hyphen-nl")
    return [page.extract_text() for page in PdfReader(str(pdf)).pages]


def _pdf_pages(embedded_report) -> dict[str, int]:
    from pypdf import PdfReader
    reader = PdfReader(str(embedded_report / "out" / "report.pdf"))
    return {str(k): reader.get_destination_page_number(v) + 1 for k, v in reader.named_destinations.items()}


def test_the_contents_shows_each_headings_page_of_the_pdf(pages, embedded_report):
    contents = next(p for p in pages if "Inhoud" in p.splitlines()[:6] or "\nInhoud\n" in p)
    pdf = _pdf_pages(embedded_report)
    html = (embedded_report / "out" / "report.html").read_text(encoding="utf-8")
    expected = {re.sub(r"\s+", " ", text).strip(): pdf[anchor]
                for anchor, text in re.findall(r'<h[12] id="([^"]+)">(.*?)</h[12]>', html, re.S) if anchor in pdf}
    shown = {}
    for line in contents.splitlines():
        entry = re.match(r"^\s*(.+?)[ .…]*?\.{3,}\s*(\d+)\s*$", line)
        if entry:
            shown[entry.group(1).strip()] = int(entry.group(2))
    assert len(shown) >= 15, contents
    for title in ("2. Methode", "3.2 Welke leernetwerken zijn er (geweest)?", "Bijlage 1. De vragenlijst", "Colofon"):
        assert shown[title] == expected[title], (title, shown.get(title), expected[title])
    assert "De paginanummers zijn die van de pdf-versie" in contents


def test_a_running_head_and_page_number_on_every_page_but_the_cover(pages):
    assert "Rapport leernetwerken" in pages[0] and "Pagina" not in pages[0]
    for number, page in enumerate(pages[1:], start=2):
        top = page.strip().splitlines()[0]
        assert "Rapport leernetwerken Werkplaatsen Sociaal Domein" in top and "CONCEPT" in top, (number, top)
        assert f"Pagina {number} van {len(pages)}" in page, number


def test_the_questionnaires_grid_stays_on_one_page_with_its_header(pages):
    grid = [i for i, page in enumerate(pages) if re.search(r"Categorie\s*[1-6]\b", page)
            and "betrokkenheid" in page and "Bijlage 2" not in page]
    assert grid, "the grid of vraag 12 is not found"
    holding = [i for i, page in enumerate(pages)
               if any(re.search(rf"Categorie\s*{n}\b", page) for n in range(1, 7)) and i in grid]
    page = pages[holding[0]]
    assert all(re.search(rf"Categorie\s*{n}\b", page) for n in range(1, 7)), page
    assert "Zeer hoge" in page


def test_the_title_and_names_are_not_hyphenated(pages):
    assert "Werkplaatsen Sociaal Domein" in pages[0].replace("\n", " ")
    hyphenated = [line for page in pages for line in page.splitlines() if re.search(r"\b[A-Z][a-z]+-$", line)]
    assert not [h for h in hyphenated if re.search(r"\b(Werkplaat|Lei|Maas|Rot|Inhol|Flevo|Hoge)-$", h)], hyphenated
