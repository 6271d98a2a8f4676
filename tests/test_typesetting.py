"""Typesetting of the PDF, read back with pdfplumber: no proper name hyphenated at a line end, no heading
without two lines under it on its page, a table starts with three rows or moves whole and carries over
more than one row, and no page left less than two thirds full before a table or figure; and the one rule
of hyphenation (pipeline.language.hyphenation) on its own. The rules on headings, tables, notes and names
are also held on a second wave of other answers (the golden 2025 report)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from pipeline.language.hyphenation import SOFT_HYPHEN, hyphenated, may_hyphenate, name_words
from pipeline.publishing.typesetting import hyphenate_html

ROOT = Path(__file__).resolve().parent.parent
HYPHEN = "\u2010"           # the hyphen WeasyPrint draws where it breaks a word
TEXT_TOP, TEXT_BOTTOM = 62.0, 774.0    # the text area of an A4 page with the report's margins (pt)
TEXT_RIGHT = (210 - 20) / 25.4 * 72     # its right margin
HEADING_SIZE, CHAPTER_SIZE = 11.0, 18.0


# ---------------------------------------------------------------------------------- the rule itself

def test_a_capitalised_word_a_name_and_a_short_word_never_get_a_soft_hyphen():
    names = name_words(["Leernetwerk wijkverpleegkundigen"])
    assert not may_hyphenate("Leiden") and not may_hyphenate("WSD") and not may_hyphenate("huis")
    assert not may_hyphenate("wijkverpleegkundigen", names=names)
    assert may_hyphenate("samenwerkingsovereenkomsten", names=names)
    text = "In Maastricht werken wijkverpleegkundigen aan samenwerkingsovereenkomsten: zie www.voorbeeld.nl."
    marked = hyphenated(text, names=names)
    assert marked.replace(SOFT_HYPHEN, "") == text
    assert "Maastricht" in marked and "wijkverpleegkundigen" in marked and "www.voorbeeld.nl" in marked
    assert "sa\u00admen" in marked
    files = "Het manifest staat in manifest.json, de tabellen in data/processed, de export in leernetwerken_2018.csv."
    assert hyphenated(files).count(SOFT_HYPHEN) == hyphenated("Het manifest staat in").count(SOFT_HYPHEN) \
        + hyphenated("de tabellen in de export in").count(SOFT_HYPHEN)


def test_soft_hyphens_go_into_body_text_only_never_into_markup_headings_or_short_cells():
    page = ('<html><head><title>samenwerkingsverbanden</title><style>p { hyphens: manual; }</style></head>'
            '<body><h2>samenwerkingsverbanden</h2><p class="x" title="samenwerkingsverbanden">'
            'samenwerkingsverbanden &amp; hogescholen<br>Rotterdam</p>'
            '<table><tr><td class="short">samenwerkingsverbanden</td><td>Hogeschool en samenwerkingsverbanden</td>'
            '</tr></table><code class="digest">abcdefabcdef</code></body></html>')
    out = hyphenate_html(page, names=frozenset())
    assert out.replace(SOFT_HYPHEN, "").replace('<span class="whole">Hogeschool</span>', "Hogeschool") == page
    paragraph = out.split("<p ", 1)[1].split("</p>", 1)[0]
    assert hyphenated("samenwerkingsverbanden") + " &amp; " + hyphenated("hogescholen") + "<br>Rotterdam" in paragraph
    assert SOFT_HYPHEN not in out.split("<table>", 1)[1]    # a table's cells hyphenate themselves
    assert "<h2>samenwerkingsverbanden</h2>" in out and 'title="samenwerkingsverbanden"' in out
    assert '<td class="short">samenwerkingsverbanden</td>' in out and "&amp;" in out
    assert "<td><span class=\"whole\">Hogeschool</span> en samenwerkingsverbanden</td>" in out
    assert "<title>samenwerkingsverbanden</title>" in out and "abcdefabcdef" in out


def test_a_name_joined_by_hyphens_is_kept_whole_and_a_compound_still_may_break():
    page = ("<p>Gemeenten in Zuid-Holland en Noord-Brabant met WSD-netwerken</p>"
            "<table><tr><td>Werkplaats Zuid-Holland samenwerkingsverbanden</td></tr></table>")
    out = hyphenate_html(page, names=frozenset())
    assert out.count('<span class="name">Zuid-Holland</span>') == 2
    assert '<span class="name">Noord-Brabant</span>' in out and "WSD-net" in out and "name\">WSD" not in out
    assert re.sub(r"</?span[^>]*>", "", out).replace(SOFT_HYPHEN, "") == page


def test_a_name_joined_by_hyphens_does_not_break_at_its_hyphen_in_weasyprint(tmp_path):
    """The class report.css gives such a name keeps it on one line where a narrow column would break it
    after "Zuid-"; the same column without the class does break it there (what the test would miss)."""
    import pdfplumber
    from weasyprint import HTML
    css = re.search(r"\.name \{[^}]*\}", (ROOT / "templates" / "report.css").read_text(encoding="utf-8")).group()
    text = "Veel gemeenten in de provincie Zuid-Holland werken samen."

    def lines(html: str) -> list[str]:
        target = tmp_path / f"{len(list(tmp_path.iterdir()))}.pdf"
        HTML(string=f"<style>@page {{ size: 80mm 80mm; margin: 5mm }} p {{ width: 38mm; font: 10pt "
                    f"'DejaVu Serif'; }} {css}</style>{html}").write_pdf(target)
        with pdfplumber.open(target) as pdf:
            return [line["text"] for line in pdf.pages[0].extract_text_lines()]
    assert any(line.endswith("Zuid-") for line in lines(f"<p>{text}</p>"))
    kept = lines(hyphenate_html(f"<p>{text}</p>", names=frozenset()))
    assert not any(line.endswith("Zuid-") for line in kept) and any("Zuid-Holland" in line for line in kept)


# ------------------------------------------------------------------------------------- the PDF

def _lines(page) -> list[dict]:
    """The lines of text in the page's text area (not the running head or the page number)."""
    return [line for line in page.extract_text_lines()
            if line["top"] >= TEXT_TOP - 2 and line["bottom"] <= TEXT_BOTTOM + 2 and line["text"].strip()]


def _is_heading(line) -> bool:
    chars = [c for c in line["chars"] if c["text"].strip()]
    return bool(chars) and all("Bold" in c["fontname"] and c["size"] >= HEADING_SIZE for c in chars)


def _is_chapter(line) -> bool:
    return _is_heading(line) and line["chars"][0]["size"] >= CHAPTER_SIZE


def capitalised_or_name_hyphens(pdf, names: frozenset[str]) -> list[str]:
    """Each word broken at a line end that starts with a capital or is a word of a name."""
    found = []
    for number, page in enumerate(pdf.pages, 1):
        lines = page.extract_text_lines()
        for line, after in zip(lines, lines[1:]):
            end = re.search(rf"(\w+){HYPHEN}$", line["text"].rstrip())
            rest = re.match(r"\w+", after["text"])
            if end and rest:
                word = end.group(1) + rest.group()
                if word[0].isupper() or word.casefold() in names:
                    found.append(f"p.{number}: {end.group(1)}-{rest.group()}")
    return found


def headings_without_two_lines(pdf) -> list[str]:
    """Each heading with fewer than two lines of text under it on its page, where what it opens goes on
    to the next page."""
    found = []
    pages = list(pdf.pages)
    for number, page in enumerate(pages[2:], 3):    # the cover and the contents are no chapter
        lines = _lines(page)
        following = _lines(pages[number]) if number < len(pages) else []
        if following and _is_heading(following[0]):
            continue    # what the last heading opens ends on this page
        for at, line in enumerate(lines):
            if _is_heading(line) and not (at + 1 < len(lines) and _is_heading(lines[at + 1])):
                after = [other for other in lines[at + 1:] if not _is_heading(other)]
                if len(after) < 2:
                    found.append(f"p.{number}: {line['text']!r} has {len(after)} line(s) under it")
    return found


def _table_parts(page) -> list[dict]:
    """The parts of tables on a page: a header (its tinted cells), whether a caption is right above it
    (a table's start) and how many rows under it end on this page (their bottom borders)."""
    bold = [c for c in page.chars if "Bold" in c["fontname"]]
    headers = sorted({round(r["top"]): r for r in page.rects if r.get("non_stroking_color") not in (None, 0, (0,))
                      and r["height"] > 8 and any(r["x0"] <= c["x0"] and c["x1"] <= r["x1"] and r["top"] <= c["top"]
                                                  and c["bottom"] <= r["bottom"] for c in bold)}.values(),
                     key=lambda r: r["top"])
    rules = sorted({round(line["top"]) for line in page.lines if line.get("linewidth", 0) < 1.2})
    lines = _lines(page)
    parts = []
    for at, header in enumerate(headers):
        below = headers[at + 1]["top"] if at + 1 < len(headers) else TEXT_BOTTOM + 10
        above = [line for line in lines if line["bottom"] <= header["top"] + 1]
        caption = bool(above) and above[-1]["text"].startswith(("Tabel ", "Vraag ")) \
            and header["top"] - above[-1]["bottom"] < 12
        parts.append({"top": header["top"], "start": caption or header["top"] > TEXT_TOP + 30,
                      "rows": len([y for y in rules if header["bottom"] + 2 < y < below])})
    return parts


def _starts_with_table(page) -> bool:
    parts = _table_parts(page)
    lines = _lines(page)
    return bool(parts) and not parts[0]["start"] and (not lines or parts[0]["top"] <= lines[0]["top"] + 2)


def table_breaks(pdf) -> list[str]:
    """Each table that starts with fewer than three rows at a page foot, and each that carries over one row."""
    found = []
    pages = list(pdf.pages)
    for number, page in enumerate(pages, 1):
        parts = _table_parts(page)
        continued = number < len(pages) and _starts_with_table(pages[number])
        for at, part in enumerate(parts):
            last = at == len(parts) - 1
            if part["start"] and last and continued and part["rows"] < 3:
                found.append(f"p.{number}: a table starts with {part['rows']} row(s) at the page foot")
            if not part["start"] and at == 0 and not (last and continued) and part["rows"] == 1:
                found.append(f"p.{number}: one row of a table carried over")
    return found


def _content_bottom(page) -> float:
    bottoms = [line["bottom"] for line in _lines(page)] + [i["bottom"] for i in page.images
                                                            if i["bottom"] <= TEXT_BOTTOM + 2]
    return max(bottoms, default=TEXT_TOP)


def _starts_with_figure_or_table(page) -> bool:
    """Whether the page opens with a table (its caption, or a header carried over) or a figure (the
    figures are vector drawings: nothing but their own labels above their caption)."""
    lines = _lines(page)
    if not lines:
        return False
    if lines[0]["text"].startswith("Tabel ") or _starts_with_table(page):
        return True
    captions = [at for at, line in enumerate(lines) if re.match(r"Figuur \d+\. ", line["text"])]
    return bool(captions) and not any(_is_heading(line) or any("Bold" in c["fontname"] for c in line["chars"])
                                      or "Serif" in line["chars"][0]["fontname"] for line in lines[:captions[0]])


def pages_left_empty(pdf) -> list[str]:
    """Each page less than two thirds full before a page that starts with a figure or a table (where no
    chapter starts)."""
    found = []
    pages = list(pdf.pages)
    limit = TEXT_TOP + 2 / 3 * (TEXT_BOTTOM - TEXT_TOP)
    for number, (page, following) in enumerate(zip(pages[2:], pages[3:]), 3):
        lines = _lines(following)
        if lines and _is_chapter(lines[0]):
            continue
        if _starts_with_figure_or_table(following) and _content_bottom(page) < limit:
            full = (_content_bottom(page) - TEXT_TOP) / (TEXT_BOTTOM - TEXT_TOP)
            found.append(f"p.{number}: {full:.0%} full before the figure or table of p.{number + 1}")
    return found


def notes_apart_from_their_table(pdf, html: str) -> list[str]:
    """Each note written right after a table (`</table><p class="note">` in the HTML) that starts a page
    of the PDF, away from the table's last rows; and each such note the PDF does not show."""
    notes = [" ".join(re.sub(r"<[^>]+>", "", note).split())
             for note in re.findall(r'</table>\s*<p class="note">(.*?)</p>', html, re.S)]
    found = []
    pages = [[" ".join(line["text"].split()) for line in _lines(page)] for page in pdf.pages]
    for note in notes:
        start = note[:30]
        where = [(number, lines.index(line)) for number, lines in enumerate(pages, 1) for line in lines
                 if line.startswith(start)]
        if not where:
            found.append(f"note {start!r} not found in the PDF")
        found += [f"p.{number}: the note {start!r} starts the page" for number, at in where if at == 0]
    return found


def early_hyphen_breaks(pdf) -> list[str]:
    """Each line of body text (the serif face: not a table, a caption or a heading) that ends in a hyphen
    although the whole word, with what follows it up to the next space, would have fitted before the
    text block's right margin."""
    found = []
    for number, page in enumerate(pdf.pages, 1):
        lines = [line for line in _lines(page) if "Serif" in line["chars"][0]["fontname"]]
        for line, after in zip(lines, lines[1:]):
            if not line["text"].endswith(HYPHEN) or after["top"] - line["bottom"] > line["bottom"] - line["top"]:
                continue
            rest = []
            for char in after["chars"]:
                if not char["text"].strip() or (rest and char["x0"] - rest[-1]["x1"] > 1):
                    break
                rest.append(char)
            if rest and line["chars"][-1]["x0"] + rest[-1]["x1"] - rest[0]["x0"] <= TEXT_RIGHT:
                found.append(f"p.{number}: {line['text'][-30:]!r} broken, {''.join(c['text'] for c in rest)!r} fits")
    return found


def lonely_first_words(pdf, header: str) -> list[str]:
    """Each cell of the table column headed `header` whose first line holds one word although the next
    word would have fitted beside it (the column's right edge: the furthest any of its words reaches)."""
    found, seen = [], False
    for number, page in enumerate(pdf.pages, 1):
        words = [w for w in page.extract_words(extra_attrs=["fontname", "size"])
                 if "Sans" in w["fontname"] and w["size"] <= 9.5]    # a table's text, not a heading's
        heads = [w for w in words if "Bold" in w["fontname"] and " ".join(
            x["text"] for x in words if abs(x["top"] - w["top"]) < 1 and x["x0"] >= w["x0"] - 1).startswith(header)]
        if not heads:
            continue
        head, seen = heads[0], True
        column = [w for w in words if w["x0"] >= head["x0"] - 1 and w["top"] > head["bottom"] + 4
                  and w["bottom"] <= TEXT_BOTTOM + 2 and "Bold" not in w["fontname"]]
        right = max((w["x1"] for w in column), default=head["x1"])
        lines: dict[int, list[dict]] = {}
        for w in column:
            lines.setdefault(round(w["top"]), []).append(w)
        tops = sorted(lines)
        for at, top in enumerate(tops[:-1]):
            line = sorted(lines[top], key=lambda w: w["x0"])
            height = line[0]["bottom"] - line[0]["top"]
            starts_cell = at == 0 or top - tops[at - 1] > 2 * height    # a row's padding above it
            following = sorted(lines[tops[at + 1]], key=lambda w: w["x0"])[0]
            if starts_cell and len(line) == 1 and line[0]["x1"] + height / 3 + following["x1"] - following["x0"] <= right:
                found.append(f"p.{number}: {line[0]['text']!r} alone on a line, {following['text']!r} would fit")
    assert seen, f"no table column headed {header!r}"
    return found


def report_names(out: Path) -> frozenset[str]:
    with (out / "tables" / "networks.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return name_words([r[key] for r in rows for key in ("werkplaats", "name", "initiator")])


@pytest.fixture(scope="module")
def report_pdf(embedded_report):
    import pdfplumber
    with pdfplumber.open(embedded_report / "out" / "report.pdf") as pdf:
        yield pdf


def test_no_proper_name_is_hyphenated_at_a_line_end(report_pdf, embedded_report):
    assert capitalised_or_name_hyphens(report_pdf, report_names(embedded_report / "out")) == []


def test_the_pdf_text_has_no_soft_hyphen_and_words_stay_searchable(report_pdf):
    text = "".join(page.extract_text() for page in report_pdf.pages)
    assert SOFT_HYPHEN not in text
    assert "samenwerking" in text and "vragenlijst" in text


def test_every_heading_has_two_lines_under_it_on_its_page(report_pdf):
    assert headings_without_two_lines(report_pdf) == []


def test_a_table_starts_with_three_rows_and_never_carries_over_one(report_pdf):
    assert table_breaks(report_pdf) == []


def test_no_page_is_left_less_than_two_thirds_full_before_a_figure_or_table(report_pdf):
    assert pages_left_empty(report_pdf) == []


def test_a_tables_note_stays_on_the_page_of_its_last_rows(report_pdf, embedded_report):
    html = (embedded_report / "out" / "report.html").read_text(encoding="utf-8")
    assert re.search(r'</table>\s*<p class="note">', html)
    assert notes_apart_from_their_table(report_pdf, html) == []


def test_no_line_of_body_text_ends_in_a_hyphen_where_the_whole_word_fitted(report_pdf):
    assert early_hyphen_breaks(report_pdf) == []


def test_a_cell_of_a_long_answer_never_starts_with_one_word_alone_on_its_line(report_pdf):
    assert lonely_first_words(report_pdf, "Centrale vraag") == []


def test_the_column_of_long_answers_gets_its_room_and_the_table_stays_inside_the_margin(report_pdf):
    """Tabel 5: the status column (th.wide) is at least 28 % of the text width, not the sixth it got
    beside the names of the other columns, and the table ends at the right margin."""
    page = next(page for page in report_pdf.pages if "Tabel 5. " in page.extract_text())
    header = {w["text"]: w for w in page.extract_words(extra_attrs=["fontname"]) if "Bold" in w["fontname"]}
    width = TEXT_RIGHT - 22 / 25.4 * 72
    assert header["Bron"]["x0"] - header["Huidige"]["x0"] >= 0.28 * width
    assert max(r["x1"] for r in page.rects) <= TEXT_RIGHT + 0.5


@pytest.fixture(scope="module")
def second_wave(two_waves):
    """The golden pair's second wave (reports/2025: 48 generated networks after the embedded 2018), laid
    out from other answers than the embedded wave's: its PDF and its report folder."""
    import pdfplumber
    out = two_waves / "reports" / "2025"
    with pdfplumber.open(out / "report.pdf") as pdf:
        yield pdf, out


def test_a_second_wave_keeps_names_whole_headings_with_their_lines_and_tables_with_their_rows(second_wave):
    pdf, out = second_wave
    html = (out / "report.html").read_text(encoding="utf-8")
    found = {"names hyphenated": capitalised_or_name_hyphens(pdf, report_names(out)),
             "headings alone": headings_without_two_lines(pdf),
             "table breaks": table_breaks(pdf),
             "notes apart": notes_apart_from_their_table(pdf, html)}
    assert len(pdf.pages) > 100    # Bijlage 2 of 48 networks: many page breaks to get right
    assert found == {check: [] for check in found}
