"""The Word edition's tables: the report's data tables and its lists of facts as real Word tables.

Owns the data table (its "Tabel N." caption, numbered by a SEQ field and also the table's description; a
header row marked as one, so it repeats on every page and screen readers announce it; numbers
right-aligned; short rows kept on one page, short tables whole and long ones
without a lone row at either end; cells that hold names not hyphenated; the separator after a table only
where another table follows; a cell that holds paragraphs or lists, Html, written as
such; the sentence of a table without rows), the list of facts (label and value pairs as a borderless
two-column table), the column widths over the page's text width (every column at least as wide as its
longest word, the rest shared among the text columns) and the order of w:tblPr that Word insists on.
The table styles are the reference document's "Report Table" and "Facts Table".

Imports: word_text and word_fields (word_text <- word_fields <- word_tables, word_figures <- word_body <-
word). Publishing modules may import pipeline.language, pipeline.core, pipeline.coding, pipeline.waves,
pipeline.analysis and each other, never pipeline.reading or pipeline.app, and import pipeline modules at
the top of the file, never inside a function. python-docx is imported where it is used.
"""

from __future__ import annotations

import re

from pipeline.publishing.word_fields import seq_caption
from pipeline.publishing.word_text import TEXT_WIDTH_CM, Writer, clean, oxml

TABLE_STYLE, FACTS_STYLE = "Report Table", "Facts Table"
_TABLE_CAPTION = re.compile(r"^Tabel (\d+)\. (.*)$", re.S)


class Html(str):
    """A table cell's content as the rendered HTML has it (paragraphs, lists, emphasis)."""


def table_caption(w: Writer, text, *, keep_with_next=True):
    """A table's caption; "Tabel N. ..." gets its number as a SEQ field, so Word can list the tables."""
    numbered = _TABLE_CAPTION.match(clean(text))
    if numbered:
        paragraph = seq_caption(w, "Tabel", numbered.group(1), numbered.group(2))
    else:
        paragraph = w.doc.add_paragraph(style="Caption")
        w.run(paragraph, text)
    paragraph.paragraph_format.keep_with_next = keep_with_next
    return paragraph


def table(w: Writer, headers, rows, *, numeric=(), caption=None, note=None, empty=None):
    """A data table: a caption above it, a header row that repeats on every page, numbers right-aligned.
    `rows` are lists of cell values (str, numbers, Html); `empty` is the sentence of a table
    without rows. The header row is marked as one (it repeats, and screen readers announce it), and
    the caption is the table's description. A table without headers (`headers` empty) has no header
    row and as many columns as its widest row. Rows are kept together as keep_rows_together says; cells
    that hold names are not hyphenated (no_hyphens)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    if caption:
        table_caption(w, caption)
    columns = len(headers) or max((len(r) for r in rows), default=1)
    table = w.doc.add_table(rows=1 if headers else 0, cols=columns)
    table.style = TABLE_STYLE
    if caption:
        table._tbl.tblPr.append(oxml("w:tblCaption", val=clean(caption)[:255]))
    if headers:
        header = table.rows[0]
        header._tr.get_or_add_trPr().append(oxml("w:tblHeader"))
        for i, title in enumerate(headers):
            cell = header.cells[i]
            paragraph = cell.paragraphs[0]
            paragraph.style = "Table Text"
            w.run(paragraph, title, bold=True)
            if i in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for values in rows:
        row = table.add_row()
        if sum(len(str(v or "")) for v in values) < 600:   # a short row stays on one page
            row._tr.get_or_add_trPr().append(oxml("w:cantSplit"))
        cells = row.cells
        for i, value in enumerate(values[:columns]):
            cell = cells[i]
            if isinstance(value, Html):
                w.html(value, style="Table Text", container=cell)
                continue
            paragraph = cell.paragraphs[0]
            paragraph.style = "Table Text"
            w.run(paragraph, "" if value is None else value)
            if i in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if not rows and empty:
        cells = table.add_row().cells
        merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
        paragraph = merged.paragraphs[0]
        paragraph.style = "Table Text"
        w.run(paragraph, empty, italic=True)
    _set_widths(table, _widths(headers or [""] * columns, rows, numeric))
    keep_rows_together(table, header=bool(headers))
    no_hyphens(table)
    if note:
        w.para(note, "Note")
    else:
        separator(w)
    return table


# A table of at most this many rows (its header included) is kept on one page; a longer one starts with its
# header and two rows and ends with two rows, so no row stands alone at a page's foot or head.
KEEP_WHOLE_ROWS = 12
KEEP_START_ROWS, KEEP_END_ROWS = 3, 2


def keep_rows_together(table, *, header: bool) -> None:
    """keep_with_next on the paragraphs of the rows that must stay with the next one (Word keeps a row with
    the next when its paragraphs are), and cantSplit on those rows. A short table is kept whole, so a grid
    such as the questionnaire's categories never leaves one row on a page of its own."""
    rows = table.rows
    if len(rows) <= KEEP_WHOLE_ROWS:
        kept = range(len(rows) - 1)
    else:
        start = KEEP_START_ROWS if header else KEEP_START_ROWS - 1
        kept = [*range(start), *range(len(rows) - KEEP_END_ROWS, len(rows) - 1)]
    for index in kept:
        tr = rows[index]._tr
        if tr.trPr is None or tr.trPr.find(_CANT_SPLIT) is None:
            tr.get_or_add_trPr().append(oxml("w:cantSplit"))
        for cell in rows[index].cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


_CANT_SPLIT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cantSplit"
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z\u00c0-\u00de][\w\u00c0-\u024f-]+")
SHORT_VALUE = 60


def no_hyphens(table) -> None:
    """w:suppressAutoHyphens on the cell paragraphs that hold a name: a capitalised word that does not start
    a sentence ("Hogeschool Utrecht"), or a short value that starts with one ("Regio Zwolle", "Categorie 6").
    Word can only keep a whole paragraph from hyphenating, so such a cell is not hyphenated at all."""
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                text = paragraph.text.strip()
                if not text:
                    continue
                short_name = len(text) <= SHORT_VALUE and text[0].isupper()
                if short_name or _CAPITALISED.search(text):
                    suppress_hyphens(paragraph._p.get_or_add_pPr())


def suppress_hyphens(ppr) -> None:
    """w:suppressAutoHyphens in the paragraph properties `ppr` (of a paragraph or a style), where the schema
    puts it."""
    if ppr.find(_SUPPRESS) is None:
        ppr.insert_element_before(oxml("w:suppressAutoHyphens"), *_AFTER_SUPPRESS)


_SUPPRESS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}suppressAutoHyphens"
# What follows w:suppressAutoHyphens in a paragraph's properties (WordprocessingML's order of w:pPr).
_AFTER_SUPPRESS = ("w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                   "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                   "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                   "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def separator(w: Writer) -> None:
    """An empty paragraph after a table, which drop_needless_separators removes unless another table
    follows (two tables that touch become one in Word)."""
    w.separators.append(w.para("", "Note"))


def drop_needless_separators(w: Writer) -> None:
    """Removes each separator that a table does not follow; what follows a table instead gets the
    separator's space before it, unless its style has more (a heading)."""
    from docx.shared import Pt
    from docx.text.paragraph import Paragraph
    for paragraph in w.separators:
        following = paragraph._p.getnext()
        if following is None or not following.tag.endswith("}p"):
            continue   # a table, or the end of the body: the separator stays
        paragraph._p.getparent().remove(paragraph._p)
        after = Paragraph(following, paragraph._parent)
        wanted = Pt(10)
        style_space = after.style.paragraph_format.space_before if after.style is not None else None
        if (style_space or 0) < wanted and after.paragraph_format.space_before is None:
            after.paragraph_format.space_before = wanted
    w.separators.clear()


def facts(w: Writer, pairs):
    """Label and value pairs (the HTML's <dl class="facts">) as a borderless two-column table; a value
    is text, a list of lines or the Html of the <dd> (its line breaks, emphasis and links)."""
    table = w.doc.add_table(rows=0, cols=2)
    table.style = FACTS_STYLE
    for label, value in pairs:
        cells = table.add_row().cells
        w.run(cells[0].paragraphs[0], label)
        if isinstance(value, Html):
            w.html(value, container=cells[1])
        else:
            paragraph = cells[1].paragraphs[0]
            for i, line in enumerate(value if isinstance(value, list) else [value]):
                if i:
                    paragraph.add_run().add_break()
                w.run(paragraph, line)
        for paragraph in (p for cell in cells for p in cell.paragraphs):
            paragraph.style = "Table Text"
    _set_widths(table, [4.2, TEXT_WIDTH_CM - 4.2])
    keep_rows_together(table, header=False)
    no_hyphens(table)
    separator(w)
    return table


CHAR_CM = 0.19     # the width of a character of the table text (8.5 pt sans), with some room
CELL_MARGIN_CM = 0.45


def _widths(headers, rows, numeric, total=TEXT_WIDTH_CM) -> list[float]:
    """Column widths in cm over `total`: every column at least as wide as its longest word (header
    included), numeric columns no wider, and the rest shared among the text columns by their average
    length."""
    def longest(text):
        return max((len(w) for w in str(text).split()), default=0)

    def shown(value):
        return re.sub(r"<[^>]+>", " ", value) if isinstance(value, Html) else str(value)
    minimum, weight = [], []
    for i, title in enumerate(headers):
        values = ["" if r[i] is None else shown(r[i]) for r in rows if i < len(r)]
        word = max([longest(title) * 1.15] + [longest(v) for v in values])   # the header is bold
        minimum.append(min(word, 24) * CHAR_CM + CELL_MARGIN_CM)
        mean = sum(len(v) for v in values) / len(values) if values else len(title)
        weight.append(0 if i in numeric else max(mean, 1) ** 0.8)
    spare = total - sum(minimum)
    if spare <= 0 or not sum(weight):
        scale = total / sum(minimum)
        return [round(m * scale, 2) for m in minimum]
    # share the spare width so that the text columns end up near their weights
    widths = list(minimum)
    target = [total * w / sum(weight) for w in weight]
    want = [max(0.0, t - m) if weight[i] else 0.0 for i, (t, m) in enumerate(zip(target, minimum))]
    if sum(want) == 0:
        want = [w for w in weight]
    for i, extra in enumerate(want):
        widths[i] += spare * extra / sum(want)
    return [round(w, 2) for w in widths]


def _set_widths(table, widths_cm):
    from docx.shared import Cm
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}gridCol"),
                          widths_cm):
        col.w = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblW"):
        tbl_pr.remove(old)
    tbl_pr.append(oxml("w:tblW", w=Cm(sum(widths_cm)).twips, type="dxa"))
    _order_tbl_pr(tbl_pr)


_TBL_PR_ORDER = ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                 "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
                 "tblCaption", "tblDescription"]


def _order_tbl_pr(tbl_pr):
    """The children of w:tblPr in the order the schema asks (Word refuses others)."""
    def rank(element):
        local = element.tag.rsplit("}", 1)[1]
        return _TBL_PR_ORDER.index(local) if local in _TBL_PR_ORDER else len(_TBL_PR_ORDER)
    children = sorted(list(tbl_pr), key=rank)
    for child in list(tbl_pr):
        tbl_pr.remove(child)
    for child in children:
        tbl_pr.append(child)
