"""The Word edition's body: the rendered report.html after its cover and contents, block by block.

Owns the reading of the report's HTML (lxml) into Word content, in the HTML's order: headings, paragraphs
and lists (their class giving the Word style), quotes, tables, figures and lists of facts; a section or a
div gives its own text and then its content. What word.py makes from the context (the cover, the draft
mark, the contents) and what is for a screen only (the downloads, the navigation) is left out. Since the
Word edition follows the HTML, a template override changes it too.

Imports: word_text, word_tables and word_figures (word_text <- word_fields <- word_tables, word_figures <-
word_body <- word). Publishing modules may import pipeline.language, pipeline.core, pipeline.coding,
pipeline.waves, pipeline.analysis and each other, never pipeline.reading or pipeline.app, and import
pipeline modules at the top of the file, never inside a function. lxml is imported where it is used,
like python-docx.
"""

from __future__ import annotations

import copy
import re

from pipeline.publishing.word_figures import figure
from pipeline.publishing.word_tables import Html, drop_needless_separators, facts, table
from pipeline.publishing.word_text import Writer, oxml

# Paragraph classes of the HTML and the Word styles that show them.
CLASS_STYLES = {"warning": "Warning", "note": "Note", "muted": "Note", "choices": "Note", "inherited-mark": "Inherited Mark"}
# The rule beside a paragraph carried over from an earlier wave (the HTML's .inherited): the draft mark's colour.
INHERITED_RULE = {"val": "single", "sz": 18, "space": 8, "color": "9A3B00"}
# What follows w:pBdr in a paragraph's properties (WordprocessingML's order of the elements of w:pPr).
AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
                "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
                "w:rPr", "w:sectPr", "w:pPrChange")
SHORT_BEFORE_TABLE = 400   # characters: a paragraph this short before a table is kept with it
SKIPPED = {"cover", "toc", "downloads", "draft"}   # made from the context (cover, contents) or for screens only


def _text(element) -> str:
    """The element's text as a reader sees it, without what is hidden from screen readers (a short heading
    for phones beside the full one)."""
    hidden = element.xpath('.//*[@aria-hidden="true"]')
    if hidden:
        element = copy.deepcopy(element)
        for part in element.xpath('.//*[@aria-hidden="true"]'):
            part.drop_tree()
    return re.sub(r"\s+", " ", element.text_content()).strip()


def _markup(element) -> str:
    from lxml import html as lxml_html
    return lxml_html.tostring(element, encoding="unicode")


class _Body:
    """The rendered report's body, element by element, as Word content: every heading, paragraph, list,
    quote, table, figure and list of facts the HTML shows, in its order, so a template override changes
    the Word edition too. The cover and the contents are made from the context (a contents field)."""

    def __init__(self, writer: Writer, figures: dict):
        self.w = writer
        self.figures = {f"figuur-{name}": entry for name, entry in figures.items()}

    def walk(self, element):
        for child in element:
            if not isinstance(child.tag, str):
                continue   # comments
            self.block(child)

    def block(self, el):
        tag, classes = el.tag, set((el.get("class") or "").split())
        if classes & SKIPPED or tag in ("nav", "style", "script"):
            return
        if tag in ("h1", "h2", "h3", "h4"):
            self.w.heading(_text(el), int(tag[1]), el.get("id"))
        elif tag in ("p", "ul", "ol"):
            style = next((CLASS_STYLES[c] for c in classes if c in CLASS_STYLES), None)
            previous = el.getprevious()
            if "note" in classes and previous is not None and previous.tag == "table":
                self._keep_last_row_with_next()
            self.w.html(_markup(el), style=style)
        elif tag == "blockquote":
            self.w.para(_text(el), "Quote")
        elif tag == "table":
            self._keep_last_paragraph_with_next()
            self.table(el)
        elif tag == "figure":
            entry = self.figures.get(el.get("id"))
            if entry:
                figure(self.w, entry)
        elif tag == "dl":
            self.facts(el)
        elif "inherited" in classes:
            self.inherited(el)
        else:   # section, div: their content
            if (el.text or "").strip():
                self.w.para(el.text.strip())
            self.walk(el)

    def _keep_last_paragraph_with_next(self):
        """A short paragraph of body text right before a table (the sentence that opens it, a question
        before its grid) goes to the next page with the table's caption rather than stay alone at a page
        foot. Not a caption, a note or any other styled paragraph: keeping those too would chain figures,
        tables and their notes into blocks taller than what is left of a page."""
        from docx.oxml.ns import qn
        last = self.w.doc.element.body[-2] if len(self.w.doc.element.body) > 1 else None   # [-1] is sectPr
        if last is None or last.tag != qn("w:p") or last.find(f"{qn('w:pPr')}/{qn('w:pStyle')}") is not None:
            return
        if len("".join(t.text or "" for t in last.iter(qn("w:t")))) <= SHORT_BEFORE_TABLE:
            last.get_or_add_pPr().get_or_add_keepNext()

    def _keep_last_row_with_next(self):
        """The last row of the table just written stays on the page of the note after it."""
        rows = self.w.doc.tables[-1].rows if self.w.doc.tables else []
        for cell in rows[-1].cells if rows else []:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True

    def inherited(self, el):
        """A paragraph carried over from an earlier wave: its label and text, each with a rule on its left."""
        from docx.oxml.ns import qn
        body = self.w.doc.element.body
        before = len(body.findall(qn("w:p")))
        self.walk(el)
        for paragraph in body.findall(qn("w:p"))[before:]:
            borders = oxml("w:pBdr")
            borders.append(oxml("w:left", **INHERITED_RULE))
            paragraph.get_or_add_pPr().insert_element_before(borders, *AFTER_BORDER)

    def facts(self, el):
        pairs, label = [], None
        for child in el:
            if child.tag == "dt":
                label = _text(child)
            elif child.tag == "dd" and label is not None:
                pairs.append((label, Html(_markup(child))))
        facts(self.w, pairs)

    def table(self, el):
        caption_el = el.find("caption")
        caption = _text(caption_el) if caption_el is not None else None
        head = el.find("thead")
        header_cells = head.findall(".//th") if head is not None else []
        headers = [_text(th) for th in header_cells]
        numeric = {i for i, th in enumerate(header_cells) if "num" in (th.get("class") or "").split()}
        rows, empty = [], None
        body = el.find("tbody")
        for tr in (body if body is not None else el).iter("tr"):
            cells = [c for c in tr if c.tag in ("td", "th")]
            if head is not None and tr.getparent() is head:
                continue
            if len(cells) == 1 and cells[0].get("colspan"):
                empty = _text(cells[0])
                continue
            rows.append([Html(_markup(c)) if c.find(".//p") is not None or c.find(".//ul") is not None
                         or c.find(".//ol") is not None else _text(c) for c in cells])
        table(self.w, headers, rows, numeric=numeric, caption=caption, empty=empty)


def write_body(w: Writer, html: str, figures: dict) -> None:
    """Every block of the rendered report's <body> after the cover and contents (see _Body)."""
    from lxml import html as lxml_html
    body = lxml_html.document_fromstring(html).find("body")
    _Body(w, figures).walk(body)
    drop_needless_separators(w)
