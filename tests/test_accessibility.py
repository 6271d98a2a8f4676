"""Accessible publication (WCAG 2.1 AA, PDF/UA): the tagged PDF, table headers, figures' alternative text
in HTML, PDF and Word, axe-core in headless Chromium, and the page at phone width (390 px)."""

from __future__ import annotations

import html as html_module
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, shown_figures, skip_or_fail_on_ci

AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def report(embedded_report):
    return embedded_report / "out"


def _figures(out: Path) -> list[dict]:
    """The figures the report shows (charts.json's, without those in_report: false), numbered as the report
    numbers them: by their rank among the shown."""
    import json
    from pipeline.core.config import load_instrument
    shown = shown_figures(load_instrument())
    figures = [f for f in json.loads((out.parent / "processed" / "charts.json").read_text(encoding="utf-8"))
               if f["name"] in shown]
    return [{**f, "number": n} for n, f in enumerate(figures, start=1)]


# ------------------------------------------------------------------------------------------- PDF

def test_the_pdf_is_tagged_in_dutch_with_its_title(report):
    from pypdf import PdfReader
    root = PdfReader(report / "report.pdf").trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert str(root["/Lang"]).lower().startswith("nl")
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])


def _structure(report: Path) -> list:
    """The PDF's structure elements in reading order, as (type, element)."""
    from pypdf import PdfReader
    found = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get") or "/S" not in node:
            return
        found.append((str(node["/S"]), node))
        kids = node.get("/K")
        if kids is not None:
            walk(kids if isinstance(kids, list) else [kids])
    root = PdfReader(report / "report.pdf").trailer["/Root"]["/StructTreeRoot"]
    walk(root["/K"] if isinstance(root["/K"], list) else [root["/K"]])
    return found


def test_pdf_tables_have_header_cells_and_figures_their_numbers(report):
    structure = _structure(report)
    kinds = [kind for kind, _ in structure]
    assert kinds.count("/TH") >= 60 and "/Table" in kinds
    alts = [str(node["/Alt"]) for kind, node in structure if kind == "/Figure" and "/Alt" in node]
    for figure in _figures(report):
        assert any(figure["description"] in alt for alt in alts), figure["name"]


def test_pdf_reading_order_follows_the_text(report):
    """The chapters' headings come in the structure tree in the order of the text."""
    headings = [kind for kind, _ in _structure(report) if kind in ("/H1", "/H2")]
    assert len(headings) >= 20
    html = (report / "report.html").read_text(encoding="utf-8")
    body = html.split("<main>", 1)[1]      # after the cover, whose title is the document's first h1
    h1 = [html_module.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r"<h1[^>]*>(.*?)</h1>", body)]
    assert h1[:4] == ["1. Inleiding", "2. Methode", "3. Resultaten", "4. Conclusies en discussie"]


# ------------------------------------------------------------------------------------------ HTML

def test_every_table_header_has_a_scope_and_every_table_a_caption(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    headers = re.findall(r"<th\b[^>]*>", html)
    assert headers and all('scope="' in th for th in headers), [th for th in headers if "scope" not in th][:3]
    assert html.count("<table") == html.count("<caption")


def test_every_figure_alt_text_says_what_it_shows_with_its_numbers(any_report):
    html = (any_report.out / "report.html").read_text(encoding="utf-8")
    alts = {m.group(1): html_module.unescape(m.group(2))
            for m in re.finditer(r'<img src="figures/([a-z0-9_]+)\.svg" alt="([^"]*)"', html)}
    shown = shown_figures(any_report.instrument)
    assert sorted(alts) == sorted(shown)
    for figure in (f for f in _figures(any_report.out) if f["name"] in shown):
        alt = alts[figure["name"]]
        assert alt != f"Figuur {figure['number']}. {figure['caption']}", "the alt text is only the caption"
        assert len(re.findall(r"\d+", alt)) >= 3, alt
        assert figure["description"] in alt


def test_the_involvement_description_gives_each_groups_share(report):
    figure = next(f for f in _figures(report) if f["name"] == "betrokkenheid")
    assert "Aandeel hoog of zeer hoog" in figure["description"]
    assert re.search(r"Onderwijs \d+(,\d)?% \(n = \d+\)", figure["description"])


# ------------------------------------------------------------------------------------------ Word

def test_word_pictures_have_alternative_text_and_tables_a_marked_header_row(report):
    with zipfile.ZipFile(report / "report.docx") as package:
        body = package.read("word/document.xml").decode("utf-8")
    descriptions = [html_module.unescape(d) for d in re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', body)]
    for figure in _figures(report):
        assert f"Figuur {figure['number']}. {figure['description']}" in descriptions
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", body, re.S)
    data_tables = [t for t in tables if "FactsTable" not in t]
    assert data_tables and all("<w:tblHeader/>" in t.split("</w:tr>")[0] for t in data_tables)
    assert all("<w:tblCaption " in t for t in data_tables if 'w:val="Caption"' not in t)


# --------------------------------------------------------------------------------------- browser

def _browser_parts() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not AXE.exists():
        missing.append(f"{AXE} (make install puts axe-core there with npm)")
    import importlib.util
    if importlib.util.find_spec("selenium") is None:
        missing.append("selenium (make install)")
    if missing:
        skip_or_fail_on_ci(f"the browser checks need {', '.join(missing)} (apt-get install chromium chromium-driver; "
                           "make install)", on_ci="CI must have Chromium, chromedriver and axe-core")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _browser_parts()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _open(browser, report: Path, width: int):
    browser.set_window_size(width, 900)
    browser.get((report / "report.html").as_uri())
    inner = browser.execute_script("return window.innerWidth")
    browser.set_window_size(width + (width - inner), 900)   # the window's frame is not the page's width
    browser.get((report / "report.html").as_uri())


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_violation_at_all(browser, report, width):
    """WCAG 2.0, 2.1 and 2.2 A and AA and axe's best practices: no finding of any impact, on a screen and
    on a phone (target-size, 2.5.8, failed on the contents' links)."""
    _open(browser, report, width)
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    browser.set_script_timeout(120)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',"
        " 'best-practice']}})"
        ".then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
        " target: v.nodes[0].target.join(' ')})), passes: r.passes.length}));")
    assert result["passes"] > 10
    assert not result["violations"], result["violations"]


def test_at_390_px_nothing_scrolls_sideways_and_answers_are_on_screen(browser, report):
    _open(browser, report, 390)
    assert browser.execute_script("return window.innerWidth") == 390
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at 390 px"
    # (the header rows of the data tables are hidden at this width, kept for screen readers: each cell
    # shows its column's name itself)
    overflowing = browser.execute_script(
        "return [...document.querySelectorAll('td, th, p, li, h1, h2, h3, h4, figure, dd, table')]"
        ".filter(e => !e.closest('table.data thead'))"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length")
    assert overflowing == 0
    # the answer column of the first table with answers: its cells start inside the screen
    lefts = browser.execute_script(
        "return [...document.querySelectorAll('td[data-label=\"Toelichting\"]')].slice(0, 5)"
        ".map(e => [e.getBoundingClientRect().left, e.getBoundingClientRect().width])")
    assert lefts and all(0 <= left and width_ >= 250 for left, width_ in lefts), lefts


BROKEN_WORDS = """
const broken = [];
for (const cell of document.querySelectorAll('table.grid th, table.grid td')) {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const shown = node.parentElement;
    if (!shown.getClientRects().length || shown.getBoundingClientRect().width <= 1) continue;  // hidden
    for (const word of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
  }
}
return broken;
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_no_word_of_the_questionnaires_grid_breaks_over_two_lines(browser, report, width):
    _open(browser, report, width)
    assert browser.execute_script("return document.querySelectorAll('table.grid th').length") > 5
    assert browser.execute_script(BROKEN_WORDS) == []


def test_at_390_px_the_charts_text_is_legible(browser, report):
    """The phone figure is shown, and its smallest text is at least 9 px high on the screen."""
    _open(browser, report, 390)
    shown = browser.execute_script(
        "return [...document.querySelectorAll('figure img')].map(i => [i.currentSrc, i.getBoundingClientRect().width])")
    assert shown and all(src.endswith(".smal.svg") for src, _ in shown), shown
    for src, width in shown:
        svg = (report / "figures" / src.rsplit("/", 1)[1]).read_text(encoding="utf-8")
        view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
        smallest = min(float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg))
        assert smallest * width / view_width >= 9, (src, round(smallest * width / view_width, 1))


def test_at_1280_px_the_print_figure_is_shown(browser, report):
    _open(browser, report, 1280)
    shown = browser.execute_script("return [...document.querySelectorAll('figure img')].map(i => i.currentSrc)")
    assert shown and not any(src.endswith(".smal.svg") for src in shown)


def test_the_browser_parts_are_found_where_the_makefile_puts_them():
    """A guard for the skip above: the Makefile installs axe-core where this test looks for it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--prefix $(VENV)/axe axe-core@$(AXE_VERSION)" in makefile
    assert shutil.which("python3")
