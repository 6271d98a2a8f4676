"""The Word edition of the report: report.docx from the same template context as the HTML.

Built with python-docx on a copy of a reference document (templates/reference.docx, or an institution's
own): its body is cleared and its styles, page setup, header and footer are kept, so the look is the
reference's. The content follows templates/report.html in order: cover, a contents field, the chapters
with their tables (real Word tables whose header row repeats on every page) and figures (the 300 dpi
PNGs, 16 cm wide, with "Figuur N." captions numbered by a SEQ field), the appendices and the colophon.

Respondents' text is only ever written as plain text runs (characters XML 1.0 forbids are dropped); the
researchers' texts, which are HTML made from Markdown, are converted tag by tag (p, ul/ol/li, strong, em,
br) with html.parser. The file is byte-identical from run to run: its core properties carry the run date,
and the zip is written with fixed timestamps.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from datetime import datetime, time, timezone
from html.parser import HTMLParser
from pathlib import Path

from pipeline.config import PROJECT_ROOT
from pipeline.dutch_format import count_word, long_date, month_year, number, percent

DEFAULT_REFERENCE = PROJECT_ROOT / "templates" / "reference.docx"
LANGUAGE = "nl-NL"
FIGURE_WIDTH_CM = 16.0
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# The styles the edition uses; a reference that lacks one gets it, based on the style named beside it.
PARAGRAPH_STYLES = {
    "Title": "Normal", "Subtitle": "Normal", "Heading 1": "Normal", "Heading 2": "Normal", "Heading 3": "Normal",
    "Heading 4": "Normal", "Caption": "Normal", "Quote": "Normal", "List Bullet": "Normal",
    "List Number": "Normal", "TOC Heading": "Normal", "TOC 1": "Normal", "TOC 2": "Normal", "TOC 3": "Normal",
    "Footer": "Normal", "Header": "Normal",
    "Note": "Normal", "Table Text": "Normal", "Cover Details": "Normal", "Draft Mark": "Normal",
    "Table List Bullet": "List Bullet", "Table List Number": "List Number",
}
TABLE_STYLE, FACTS_STYLE = "Report Table", "Facts Table"

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text) -> str:
    """Text as XML 1.0 allows it (control characters, lone surrogates and non-characters dropped)."""
    return _FORBIDDEN.sub("", "" if text is None else str(text))


# ------------------------------------------------------------------------------- HTML to blocks

class _Blocks(HTMLParser):
    """The researchers' HTML (and an answer's, after text_to_html) as blocks of runs: a list of
    (kind, runs), kind "p", "ul" or "ol" (a list item, with the number of its list), runs a list of
    (text, bold, italic), a text of "\\n" being a line break. Tags other than those are ignored; their
    text is kept as text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, list]] = []
        self.bold = self.italic = 0
        self.lists: list[str] = []
        self.list_count = 0
        self.current = None

    def _open(self, kind):
        self.current = (kind, [])
        self.blocks.append(self.current)

    def handle_starttag(self, tag, attrs):
        if tag == "p":
            self._open("p")
        elif tag in ("ul", "ol"):
            self.list_count += 1
            self.lists.append(f"{tag}:{self.list_count}")
            self.current = None
        elif tag == "li":
            self._open(self.lists[-1] if self.lists else "ul:0")
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "br":
            self._text("\n")

    def handle_endtag(self, tag):
        if tag in ("p", "li"):
            self.current = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.current = None
        elif tag in ("strong", "b"):
            self.bold = max(0, self.bold - 1)
        elif tag in ("em", "i"):
            self.italic = max(0, self.italic - 1)

    def handle_data(self, data):
        if self.current is None and not data.strip():
            return
        self._text(re.sub(r"\s+", " ", data))

    def _text(self, text):
        if self.current is None:
            self._open("p")
        self.current[1].append((text, bool(self.bold), bool(self.italic)))


def html_blocks(markup: str) -> list[tuple[str, list]]:
    parser = _Blocks()
    parser.feed(str(markup or ""))
    parser.close()
    blocks = []
    for kind, runs in parser.blocks:
        while runs and runs[0][0] != "\n" and not runs[0][0].strip():
            runs = runs[1:]
        if runs:   # no space at the start or end of a paragraph
            runs[0] = (runs[0][0].lstrip(), *runs[0][1:])
            runs[-1] = (runs[-1][0].rstrip(), *runs[-1][1:])
            blocks.append((kind, runs))
    return blocks


# ------------------------------------------------------------------------------------ the writer

def _oxml(tag, **attrs):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), str(value))
    return element


class Answer(str):
    """A respondent's answer in a table cell: paragraphs and lists as in the HTML, always as text."""


class _Writer:
    def __init__(self, document, folder: Path):
        self.doc = document
        self.folder = folder
        self.headings: list[tuple[int, str, str]] = []   # level, text, bookmark
        self.bookmark_id = 0

    # paragraphs and runs
    def para(self, text="", style=None, *, bold=False, italic=False):
        paragraph = self.doc.add_paragraph(style=style)
        if text:
            self.run(paragraph, text, bold=bold, italic=italic)
        return paragraph

    @staticmethod
    def run(paragraph, text, *, bold=False, italic=False):
        run = paragraph.add_run(clean(text))
        if bold:
            run.bold = True
        if italic:
            run.italic = True
        return run

    def heading(self, text, level):
        paragraph = self.doc.add_paragraph(style=f"Heading {level}")
        name = f"_Toc{len(self.headings) + 1:05d}"
        self._bookmark(paragraph, name, lambda: self.run(paragraph, text))
        self.headings.append((level, clean(text), name))
        return paragraph

    def _bookmark(self, paragraph, name, add_content):
        self.bookmark_id += 1
        paragraph._p.append(_oxml("w:bookmarkStart", id=self.bookmark_id, name=name))
        add_content()
        paragraph._p.append(_oxml("w:bookmarkEnd", id=self.bookmark_id))

    def blocks(self, blocks, *, style=None, container=None):
        """Blocks of runs (see html_blocks) as paragraphs and list items, in `container` (the document
        or a table cell)."""
        container = container or self.doc
        in_table = container is not self.doc
        bullet, numbers = ("Table List Bullet", "Table List Number") if in_table else ("List Bullet", "List Number")
        numbered: dict[str, int] = {}
        first = True
        for kind, runs in blocks:
            if kind.startswith("ol"):
                paragraph = self._add(container, numbers, first)
                if kind not in numbered:
                    numbered[kind] = self._new_numbering(numbers)
                if numbered[kind]:
                    paragraph._p.get_or_add_pPr().get_or_add_numPr().get_or_add_numId().val = numbered[kind]
            elif kind.startswith("ul"):
                paragraph = self._add(container, bullet, first)
            else:
                paragraph = self._add(container, style, first)
            first = False
            for text, bold, italic in runs:
                if text == "\n":
                    paragraph.add_run().add_break()
                elif text:
                    self.run(paragraph, text, bold=bold, italic=italic)

    def html(self, markup, *, style=None, container=None):
        self.blocks(html_blocks(markup), style=style, container=container)

    def answer(self, text, *, style=None, container=None):
        """A respondent's text: the paragraphs and lists the HTML shows (render.text_to_html escapes it,
        so every character of it comes back as text, never as markup)."""
        from pipeline.render import text_to_html
        self.blocks(html_blocks(text_to_html(text or "")), style=style, container=container)

    @staticmethod
    def _add(container, style, first):
        from docx.table import _Cell
        if isinstance(container, _Cell) and first and len(container.paragraphs) == 1 \
                and not container.paragraphs[0].text:
            paragraph = container.paragraphs[0]
            if style:
                paragraph.style = style
            return paragraph
        return container.add_paragraph(style=style)

    def _new_numbering(self, style_name) -> int | None:
        """A numbering that starts again at 1, for one numbered list, on the style's own list definition."""
        style = self.doc.styles[style_name]
        while style is not None:   # the list definition may be the base style's
            ppr = style.element.pPr
            if ppr is not None and ppr.numPr is not None and ppr.numPr.numId is not None:
                break
            style = style.base_style
        if style is None:
            return None
        numbering = self.doc.part.numbering_part.element
        num = numbering.num_having_numId(ppr.numPr.numId.val)
        new = numbering.add_num(num.abstractNumId.val)
        new.add_lvlOverride(ilvl=0).add_startOverride(1)
        return new.numId

    # fields
    @staticmethod
    def field(paragraph, instruction, result=""):
        """A complex field (begin, instruction, separate, cached result, end) at the end of `paragraph`."""
        def run_with(element):
            run = paragraph.add_run()
            run._r.append(element)
            return run
        run_with(_oxml("w:fldChar", fldCharType="begin"))
        instr = _oxml("w:instrText")
        instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        instr.text = f" {instruction} "
        run_with(instr)
        run_with(_oxml("w:fldChar", fldCharType="separate"))
        paragraph.add_run(clean(result))
        run_with(_oxml("w:fldChar", fldCharType="end"))

    # tables and figures
    def caption(self, text, *, keep_with_next=True):
        paragraph = self.para(text, "Caption")
        paragraph.paragraph_format.keep_with_next = keep_with_next
        return paragraph

    def table(self, headers, rows, *, numeric=(), caption=None, note=None, empty=None):
        """A data table: a caption above it, a header row that repeats on every page, numbers right-aligned.
        `rows` are lists of cell values (str, numbers, Answer); `empty` is the sentence of a table
        without rows."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        if caption:
            self.caption(caption)
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = TABLE_STYLE
        header = table.rows[0]
        header._tr.get_or_add_trPr().append(_oxml("w:tblHeader"))
        for i, title in enumerate(headers):
            cell = header.cells[i]
            paragraph = cell.paragraphs[0]
            paragraph.style = "Table Text"
            paragraph.paragraph_format.keep_with_next = True
            self.run(paragraph, title, bold=True)
            if i in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for values in rows:
            row = table.add_row()
            if sum(len(str(v or "")) for v in values) < 600:   # a short row stays on one page
                row._tr.get_or_add_trPr().append(_oxml("w:cantSplit"))
            cells = row.cells
            for i, value in enumerate(values):
                cell = cells[i]
                if isinstance(value, Answer):
                    self.answer(value, style="Table Text", container=cell)
                    continue
                paragraph = cell.paragraphs[0]
                paragraph.style = "Table Text"
                self.run(paragraph, "" if value is None else value)
                if i in numeric:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if not rows and empty:
            cells = table.add_row().cells
            merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
            paragraph = merged.paragraphs[0]
            paragraph.style = "Table Text"
            self.run(paragraph, empty, italic=True)
        _set_widths(table, _widths(headers, rows, numeric))
        if note:
            self.para(note, "Note")
        else:
            self.para("", "Note")   # a table must not touch what follows it
        return table

    def facts(self, pairs):
        """Label and value pairs (the HTML's <dl class="facts">) as a borderless two-column table; a value
        may be a list of lines."""
        table = self.doc.add_table(rows=0, cols=2)
        table.style = FACTS_STYLE
        for label, value in pairs:
            cells = table.add_row().cells
            self.run(cells[0].paragraphs[0], label)
            lines = value if isinstance(value, list) else [value]
            paragraph = cells[1].paragraphs[0]
            for i, line in enumerate(lines):
                if i:
                    paragraph.add_run().add_break()
                self.run(paragraph, line)
            for cell in cells:
                cell.paragraphs[0].style = "Table Text"
        _set_widths(table, [4.2, FIGURE_WIDTH_CM - 4.2])
        self.para("", "Note")
        return table

    def figure(self, figure):
        """The 300 dpi PNG, 16 cm wide, and its caption "Figuur N. ..." with a SEQ field; the caption is the
        picture's alternative text."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm
        path = self.folder / figure["png"]
        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run()
        shape = run.add_picture(str(path), width=Cm(FIGURE_WIDTH_CM))
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", clean(f"Figuur {figure['number']}. {figure['caption']}"))
        doc_pr.set("name", clean(figure["name"]))
        caption = self.doc.add_paragraph(style="Caption")
        self.run(caption, "Figuur ")
        self.field(caption, "SEQ Figuur \\* ARABIC", str(figure["number"]))
        self.run(caption, f". {figure['caption']}")

    def page_break(self):
        from docx.enum.text import WD_BREAK
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


CHAR_CM = 0.19     # the width of a character of the table text (8.5 pt sans), with some room
CELL_MARGIN_CM = 0.45


def _widths(headers, rows, numeric, total=FIGURE_WIDTH_CM) -> list[float]:
    """Column widths in cm over `total`: every column at least as wide as its longest word (header
    included), numeric columns no wider, and the rest shared among the text columns by their average
    length."""
    def longest(text):
        return max((len(w) for w in str(text).split()), default=0)
    minimum, weight = [], []
    for i, title in enumerate(headers):
        values = ["" if r[i] is None else str(r[i]) for r in rows if i < len(r)]
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
    tbl_pr.append(_oxml("w:tblW", w=Cm(sum(widths_cm)).twips, type="dxa"))
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


# ---------------------------------------------------------------------------------- the document

def open_reference(reference: Path | None):
    """A copy of the reference document with its body cleared (its last section's page setup kept), and
    every style the edition uses present."""
    from docx import Document
    document = Document(str(reference or DEFAULT_REFERENCE))
    body = document.element.body
    for child in list(body):
        if child.tag.rsplit("}", 1)[1] != "sectPr":
            body.remove(child)
    ensure_styles(document)
    return document


def _style_ids_looked_up_once(document) -> None:
    """python-docx finds a style by its name by walking every style of the document, and walks them again
    to see whether it is the default, for each of the report's ~1,600 styled paragraphs and cells (half
    the time of the Word edition). Every style exists once open_reference is done and none changes while
    the edition is written, so each name is looked up once."""
    part = document.part
    look_up, known = part.get_style_id, {}

    def get_style_id(style_or_name, style_type):
        if not isinstance(style_or_name, str):
            return look_up(style_or_name, style_type)
        if (style_or_name, style_type) not in known:
            known[style_or_name, style_type] = look_up(style_or_name, style_type)
        return known[style_or_name, style_type]
    part.get_style_id = get_style_id


def ensure_styles(document):
    from docx.enum.style import WD_STYLE_TYPE
    styles = document.styles
    names = {s.name for s in styles}
    for name, base in PARAGRAPH_STYLES.items():
        if name not in names:
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = styles[base]
            if name.startswith("Heading "):
                level = int(name.split()[1])
                style.font.bold = True
                style.paragraph_format.keep_with_next = True
                style.element.get_or_add_pPr().append(_oxml("w:outlineLvl", val=level - 1))
    for name in (TABLE_STYLE, FACTS_STYLE):
        if name not in names:
            style = styles.add_style(name, WD_STYLE_TYPE.TABLE)
            if name == TABLE_STYLE and "Table Grid" in names:
                style.base_style = styles["Table Grid"]


def set_language(document, language=LANGUAGE):
    """The document's language: w:lang on the default run properties (styles.xml), the theme font
    language (settings.xml) and the core properties."""
    from docx.oxml.ns import qn
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = _oxml("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = _oxml("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = _oxml("w:rPr")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = _oxml("w:lang")
        after = rpr.find(qn("w:eastAsianLayout"))
        if after is not None:
            after.addprevious(lang)
        else:
            rpr.append(lang)
    lang.set(qn("w:val"), language)
    settings = document.settings.element
    theme = settings.find(qn("w:themeFontLang"))
    if theme is None:
        theme = _settings_child(settings, "themeFontLang")
    theme.set(qn("w:val"), language)
    document.core_properties.language = language


# The children of w:settings that follow updateFields and themeFontLang, in the schema's order.
_SETTINGS_ORDER = ["updateFields", "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                   "mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
                   "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType",
                   "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator"]


def _settings_child(settings, name):
    """A new child `name` of w:settings, inserted where the schema puts it."""
    element = _oxml(f"w:{name}")
    later = _SETTINGS_ORDER[_SETTINGS_ORDER.index(name) + 1:]
    for child in settings:
        if child.tag.rsplit("}", 1)[1] in later:
            child.addprevious(element)
            return element
    settings.append(element)
    return element


def update_fields_on_open(document):
    from docx.oxml.ns import qn
    settings = document.settings.element
    element = settings.find(qn("w:updateFields"))
    if element is None:
        element = _settings_child(settings, "updateFields")
    element.set(qn("w:val"), "true")


def set_core_properties(document, context):
    day = context["meta"]["run_date"]
    stamp = datetime.combine(day, time(0, 0), tzinfo=timezone.utc).replace(tzinfo=None)
    core = document.core_properties
    core.title = clean(context["meta"]["title"])
    core.subject = clean(context["meta"]["subtitle"] or "")
    core.author = clean(", ".join(context["meta"]["authors"]))
    core.last_modified_by = "wsd-leernetwerken"
    core.comments = f"Gemaakt door wsd-leernetwerken {context['meta']['pipeline_version']}"
    core.keywords = "leernetwerken; Werkplaatsen Sociaal Domein"
    core.category = "Concept" if context["meta"]["draft"] else ""
    core.revision = 1
    core.created = stamp
    core.modified = stamp
    core.last_printed = stamp
    core.language = LANGUAGE


def page_furniture(document, *, draft: bool):
    """Page numbers in the footer ("Pagina N van M", PAGE and NUMPAGES fields) unless the reference's
    footer has its own PAGE field; "CONCEPT" in the header of a draft; none of it on the cover."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    for section in document.sections:
        section.different_first_page_header_footer = True
        footer = section.footer
        footer.is_linked_to_previous = False
        if "PAGE" not in "".join(t.text or "" for t in footer._element.iter(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}instrText")):
            for p in footer.paragraphs[1:]:
                p._p.getparent().remove(p._p)
            paragraph = footer.paragraphs[0]
            for run in list(paragraph.runs):
                run._r.getparent().remove(run._r)
            paragraph.style = "Footer"
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run("Pagina ")
            _Writer.field(paragraph, "PAGE", "1")
            paragraph.add_run(" van ")
            _Writer.field(paragraph, "NUMPAGES", "1")
        if draft:
            header = section.header
            header.is_linked_to_previous = False
            paragraph = header.add_paragraph(style="Header")
            run = paragraph.add_run("CONCEPT")
            run.bold = True


def save_deterministic(document, out: Path) -> Path:
    """The document as a zip whose entries carry a fixed date, so equal documents are equal bytes."""
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    result = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            target.writestr(info, source.read(entry.filename))
    out.write_bytes(result.getvalue())
    return out


# ---------------------------------------------------------------------------------- the contents

def write_docx(context: dict, *, out: Path, folder: Path, reference: Path | None, html: str = "") -> Path:
    """report.docx at `out` from the template context; `folder` holds figures/<name>.png (300 dpi);
    `reference` the document whose styles and page setup it takes (templates/reference.docx if none);
    `html` the rendered report, whose Methode it takes as written."""
    document = open_reference(reference)
    _style_ids_looked_up_once(document)
    writer = _Writer(document, Path(folder))
    _cover(writer, context)
    toc = _contents(writer)
    _introduction(writer, context)
    _method(writer, context, html)
    _results(writer, context)
    _conclusions(writer, context)
    _appendix_questionnaire(writer, context)
    _appendix_networks(writer, context)
    _colophon(writer, context)
    _fill_contents(writer, toc)
    set_language(document)
    update_fields_on_open(document)
    page_furniture(document, draft=context["meta"]["draft"])
    set_core_properties(document, context)
    return save_deterministic(document, Path(out))


def _cover(w: _Writer, context):
    meta, method = context["meta"], context["method"]
    if meta["draft"]:
        reasons = "Concept: nog niet definitief"
        if meta["inherited_texts"]:
            reasons += "; teksten overgenomen uit een eerdere meting"
        if method["reviewed_answers"] < method["coded_answers"]:
            reasons += "; codes niet (alle) door een onderzoeker nagekeken"
        w.para(reasons, "Draft Mark")
    w.para(meta["title"], "Title")
    if meta["subtitle"]:
        w.para(meta["subtitle"], "Subtitle")
    details = w.para("", "Cover Details")
    lines = [", ".join(meta["authors"]), *meta["institutions"],
             f"Gegevens verzameld {month_year(method['first_response'])} tot en met "
             f"{month_year(method['last_response'])}",
             f"Rapport gemaakt op {long_date(meta['run_date'])}"]
    for i, line in enumerate(lines):
        if i:
            details.add_run().add_break()
        w.run(details, line)
    w.page_break()


def _contents(w: _Writer):
    """The heading "Inhoud" and a TOC field (levels 1-3, hyperlinks), its entries filled in at the end."""
    w.para("Inhoud", "TOC Heading")
    begin = w.doc.add_paragraph(style="TOC 1")

    def run_with(element):
        run = begin.add_run()
        run._r.append(element)
    run_with(_oxml("w:fldChar", fldCharType="begin"))
    instr = _oxml("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = ' TOC \\o "1-3" \\h \\z \\u '
    run_with(instr)
    run_with(_oxml("w:fldChar", fldCharType="separate"))
    end = w.doc.add_paragraph(style="TOC 1")
    end_run = end.add_run()
    end_run._r.append(_oxml("w:fldChar", fldCharType="end"))
    w.page_break()
    return begin, end


def _fill_contents(w: _Writer, toc):
    """The TOC field's cached result, shown until the field is updated: one entry per heading of level 1
    and 2, a link to its bookmark, without page numbers (Word rebuilds the field, levels 1-3 with their
    pages, when the document is opened; LibreOffice with Tools > Update)."""
    from docx.text.paragraph import Paragraph
    begin, end = toc
    anchor = begin
    entries = [(level, text, name) for level, text, name in w.headings if level <= 2]
    for i, (level, text, name) in enumerate(entries):
        if i == 0:
            paragraph = begin
        else:
            new = copy.deepcopy(end._p)
            for child in list(new):
                if child.tag.endswith("}r"):
                    new.remove(child)
            anchor._p.addnext(new)
            paragraph = Paragraph(new, begin._parent)
        paragraph.style = f"TOC {level}"
        link = _oxml("w:hyperlink", anchor=name, history="1")
        paragraph._p.append(link)
        link.append(paragraph.add_run(text)._r)
        anchor = paragraph


def _introduction(w: _Writer, context):
    w.heading("1. Inleiding", 1)
    w.html(context["texts"]["inleiding"])


def _section_text(w: _Writer, context, section):
    if section in context["texts"]["sections"]:
        w.html(context["texts"]["sections"][section])


# Paragraph classes of the HTML and the Word styles that show them.
PARAGRAPH_STYLES = {"warning": "Quote", "note": "Note"}
_TOP_BLOCK = re.compile(r'<(p|ul|ol)(?: class="([^"]*)")?>.*?</\1>', re.S)


def _html_section(html: str, start: str, end: str) -> str:
    body = html.split(start, 1)[1] if start in html else ""
    return body.split(end, 1)[0]


def _method(w: _Writer, context, html: str):
    """The Methode as the template wrote it: its paragraphs and lists taken from the rendered HTML, so
    the Word edition says what the HTML says, a template override included."""
    w.heading("2. Methode", 1)
    for match in _TOP_BLOCK.finditer(_html_section(html, '<h1 id="methode">', '<h1 id="resultaten">')):
        w.html(match.group(0), style=PARAGRAPH_STYLES.get(match.group(2) or ""))


def _cell(value, column, table):
    if column in table["percent_columns"]:
        return percent(value)
    return value


def _data_table(w: _Writer, table, numeric=(), caption=True):
    columns = table["columns"]
    shown_numeric = {i for i, c in enumerate(columns) if c in numeric or c in table["percent_columns"]}
    rows = [[_cell(v, columns[i], table) for i, v in enumerate(row)] for row in table["rows"]]
    w.table(columns, rows, numeric=shown_numeric, caption=table["title"] if caption else None, note=table["note"])


def _count_table(w: _Writer, table):
    rows = [[r["label"], r["networks"], percent(r["percent"])] for r in table["records"]]
    w.table([table["columns"][0], "Netwerken", "%"], rows, numeric={1, 2}, caption=table["title"], note=table["note"])


def _figure(w: _Writer, context, name):
    if name and name in context["figures"]:
        w.figure(context["figures"][name])


def _theme_list(w: _Writer, themes, categories):
    for category in categories:
        w.heading(category, 3)
        named = [t for t in themes if t["category_label"] == category]
        if not named:
            w.para("Geen netwerk noemde een thema uit deze categorie.", "Note")
        for theme in named:
            w.heading(f"{theme['theme_label']} ({count_word(theme['networks'], 'netwerk', 'netwerken')})", 4)
            for quote in (theme["quote_1"], theme["quote_2"], theme["quote_3"]):
                if quote:
                    w.para(quote, "Quote")


def _results(w: _Writer, context):
    t, figures = context["tables"], context["figures"]
    w.heading("3. Resultaten", 1)

    w.heading("3.1 Wat doen de leernetwerken?", 2)
    _section_text(w, context, "wat-doen-ze")
    w.heading("3.1.1 Samenwerking en werkvormen", 3)
    q16 = context["yes_no"]["q16"]
    w.para(f"In {q16['yes']} van de {q16['answered']} netwerken die de vraag beantwoordden, werken verschillende "
           "praktijken, disciplines, professionals en burgers samen. Hoe die samenwerking eruitziet, beschrijven de "
           "netwerken zelf:")
    _data_table(w, t["samenwerking"])
    c = context["coded_sections"]["wat-doen-ze"]
    text = ""
    if c["top"]:
        text = "Het vaakst genoemd: " + "; ".join(
            f"{th['theme_label'].lower()} ({count_word(th['networks'], 'netwerk', 'netwerken')})"
            for th in c["top"]) + ". "
    if c["figure"]:
        text += f"Figuur {figures[c['figure']]['number']} telt de werkvormen die de netwerken bij vraag 19 noemen."
    if text:
        w.para(text.strip())
    _figure(w, context, c["figure"])
    _data_table(w, t["werkvormen"])

    w.heading("3.1.2 Deelnemersgroepen en hun betrokkenheid", 3)
    w.para("De deelnemers die de netwerken noemen, zijn ingedeeld in deze groepen:")
    for row in t["betrokkenheid"]["records"]:
        w.para(f"{row['label']}: genoemd door {count_word(row['networks'], 'netwerk', 'netwerken')} "
               f"({count_word(row['categories'], 'categorie', 'categorieën')})", "List Bullet")
    if "betrokkenheid" in figures:
        w.para("Per categorie schatten de invullers de betrokkenheid in op een schaal van zeer laag tot zeer hoog "
               f"(figuur {figures['betrokkenheid']['number']}).")
    _figure(w, context, "betrokkenheid")
    marks = context["level_marks"]
    headers = ["Deelnemersgroep", "Netwerken", "Categorieën", *(m["mark"] for m in marks), "n.i.", "% (zeer) hoog"]
    rows = [[r["label"], r["networks"], r["categories"], *(r[m["column"]] for m in marks), r["not_given"],
             percent(r["percent_high"])] for r in t["betrokkenheid"]["records"]]
    note = "".join(f"{m['mark']} = {m['label'].lower()}; " for m in marks) + "n.i. = niet ingevuld. " \
        + (t["betrokkenheid"]["note"] or "")
    w.table(headers, rows, numeric=set(range(1, len(headers))), caption=t["betrokkenheid"]["title"],
            note=note.strip())

    w.heading("3.1.3 Leer- en werkonderwerpen", 3)
    w.para("De centrale vraag van elk netwerk (vraag 9):")
    rows = [[n["werkplaats"], n["name"], Answer(n["text"]["q9"])] for n in context["networks"] if n["text"].get("q9")]
    w.table(["Werkplaats", "Leernetwerk", "Centrale vraag"], rows, caption="Centrale inhoudelijke vraag per leernetwerk")

    w.heading("3.2 Welke leernetwerken zijn er (geweest)?", 2)
    _section_text(w, context, "welke-netwerken")
    loopt = next((r for r in t["status"]["records"] if r["status"] == "loopt"), None)
    if loopt:
        w.para(f"Van de {len(context['networks'])} leernetwerken lopen er {loopt['networks']} nog "
               f"({percent(loopt['percent'])}). Tabel 3.2 geeft het overzicht.")
    _data_table(w, t["overzicht"])
    for name in ("status", "startjaren", "initiatiefnemers"):
        _figure(w, context, name)
        _count_table(w, t[name])

    w.heading("3.3 Werkzame elementen en randvoorwaarden", 2)
    _section_text(w, context, "werkzame-elementen")
    c = context["coded_sections"]["werkzame-elementen"]
    w.para(f"Wat werkt er volgens de invullers (vraag 23)? {t[c['table']]['note']} Per thema staan hieronder het "
           "aantal netwerken en enkele citaten.")
    _figure(w, context, c["figure"])
    _theme_list(w, c["themes"], c["categories"])

    w.heading("3.4 Kansen en uitdagingen", 2)
    _section_text(w, context, "kansen")
    c = context["coded_sections"]["kansen"]
    w.para(f"Welke kansen en uitdagingen brengt de samenwerking mee (vraag 17)? {t[c['table']]['note']}")
    _figure(w, context, c["figure"])
    _theme_list(w, c["themes"], c["categories"])

    w.heading("3.5 Begeleiding, hulpmiddelen, kosten en evaluatie", 2)
    _section_text(w, context, "begeleiding")
    _data_table(w, t["ja_nee_vragen"], numeric=("Ja", "Nee", "Niet ingevuld", "Percentage ja"))
    for section in context["yes_no_sections"]:
        table = t[section["table"]]
        w.heading(table["title"], 3)
        rows = [[r["werkplaats"], r["name"], Answer(r["explanation"] or "")] for r in table["records"]
                if r["answer"] == "ja"]
        w.table(["Werkplaats", "Leernetwerk", "Toelichting"], rows, empty="Geen netwerk antwoordde ja.")
        _figure(w, context, section["figure"])
    if "q24" in context["yes_no"]:
        q24 = context["yes_no"]["q24"]
        w.para(f"{q24['yes']} van de {q24['answered']} invullers willen meewerken aan vervolgonderzoek.")

    if "vergelijking_netwerken" in t:
        w.heading("3.6 Vergelijking met de vorige meting", 2)
        _section_text(w, context, "vergelijking")
        w.para(f"{t['vergelijking_netwerken']['note']} Per netwerk van een van beide metingen:")
        for row in t["vergelijking_verandering"]["records"]:
            w.para(f"{row['label']}: {count_word(row['networks'], 'netwerk', 'netwerken')}", "List Bullet")
        if "vergelijking" in context["figures"]:
            _figure(w, context, "vergelijking")
        _data_table(w, t["vergelijking_netwerken"])
        for name, first in (("vergelijking_status", 1), ("vergelijking_startjaren", 1),
                            ("vergelijking_initiatiefnemers", 1), ("vergelijking_deelnemers", 1),
                            ("vergelijking_themas", 2)):
            _data_table(w, t[name], numeric=t[name]["columns"][first:])

    for c in context["coded_items"]:
        if c["section"] in ("wat-doen-ze", "werkzame-elementen", "kansen"):
            continue
        w.heading(c["title"], 2)
        w.para(t[c["table"]]["note"])
        _figure(w, context, c["figure"])
        _theme_list(w, c["themes"], c["categories"])


def _conclusions(w: _Writer, context):
    w.heading("4. Conclusies en discussie", 1)
    w.heading("4.1 Conclusies", 2)
    w.html(context["texts"]["conclusies"])
    w.heading("4.2 Discussie", 2)
    w.html(context["texts"]["discussie"])


def _appendix_questionnaire(w: _Writer, context):
    w.heading("Bijlage 1. De vragenlijst", 1)
    for q in context["instrument"]:
        paragraph = w.para("")
        paragraph.paragraph_format.keep_with_next = bool(q["choices"] or q["rows"])
        w.run(paragraph, f"{q['number']}. ", bold=True)
        for kind, runs in html_blocks(q["wording_html"]):
            for text, bold, italic in runs:
                if text == "\n":
                    paragraph.add_run().add_break()
                else:
                    w.run(paragraph, text, bold=bold, italic=italic)
        if q["choices"]:
            w.para(" / ".join(c["label"] + (" …" if c["text_entry"] else "") for c in q["choices"]), "Note")
        if q["rows"]:
            w.para(", ".join(q["rows"]) + ", elk met de schaal: " + ", ".join(s["label"] for s in q["scale"]), "Note")


def _appendix_networks(w: _Writer, context):
    w.heading("Bijlage 2. De leernetwerken", 1)
    marks = context["level_marks"]
    w.para("Per leernetwerk de antwoorden zoals gegeven, met de deelnemers en hun betrokkenheid ("
           + ", ".join(f"{m['mark']} = {m['label'].lower()}" for m in marks) + ").")
    for werkplaats in context["werkplaatsen"]:
        w.heading(werkplaats, 2)
        for n in context["networks"]:
            if n["werkplaats"] != werkplaats:
                continue
            w.heading(n["name"], 3)
            status = n["status_shown"]
            facts = [("Initiatiefnemer", n["initiator"] or "onbekend"), ("Opstart", n["start_text"]),
                     ("Status", status)]
            facts += [(f["heading"], f["value"]) for f in n["coded_facts"] if f["value"]]
            if n["source"] == "supplement":
                facts.append(("Bron", "beschreven buiten de vragenlijst om (aanvulling)"))
            w.facts(facts)
            if not n["published"]:
                w.para("De antwoorden van dit leernetwerk zijn niet voor publicatie bestemd.", "Note")
                continue
            for part in context["appendix_sections"]:
                if part["kind"] == "participants":
                    if n["participants"]:
                        rows = [[p["label"], p["head_count"], p["group"], p["level"] or "–"] for p in n["participants"]]
                        w.table(["Categorie", "Aantal", "Groep", "Betrokkenheid"], rows, numeric={1},
                                caption=part["heading"])
                elif part["kind"] == "yes_no":
                    yn = n["yes_no"][part["item"]]
                    if yn["answer"] == "ja" and yn["text"]:
                        w.heading(part["heading"], 4)
                        w.answer(yn["text"])
                elif n["text"].get(part["item"]):
                    w.heading(part["heading"], 4)
                    w.answer(n["text"][part["item"]])


def _colophon(w: _Writer, context):
    meta = context["meta"]
    w.heading("Colofon", 1)
    facts = [("Exportbestand", [f"{meta['export']['name']} ({number(meta['export']['bytes'])} bytes)",
                                f"SHA-256 {meta['export']['sha256']}"])]
    if meta["supplement"]:
        facts.append(("Aanvulling", [meta["supplement"]["name"], f"SHA-256 {meta['supplement']['sha256']}"]))
    facts += [("Gemaakt op", long_date(meta["run_date"])),
              ("Pijplijn", f"wsd-leernetwerken {meta['pipeline_version']} (Python {meta['python_version']})"),
              ("Codeboek", f"versie {meta['codebook_version']}"),
              ("Tabellen en figuren", "tables.xlsx, tables/ en figures/ in dezelfde map als dit rapport")]
    w.facts(facts)
