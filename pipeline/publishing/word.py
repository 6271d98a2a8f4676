"""The Word edition of the report: report.docx from the rendered HTML and the same template context.

Built with python-docx on a copy of a reference document (templates/reference.docx, or an institution's
own): its body is cleared and its styles, page setup, header and footer are kept. On the shipped
reference the house style (pipeline.core.style) sets the fonts and colours; an institution's own reference
is its Word house style and keeps them. The cover and a contents field come from the context;
everything after them is taken from the rendered report.html block by block, so a template override
changes Word too. The file is byte-identical from run to run: its core properties carry the run date, and
the zip is written with fixed timestamps.

This module is the document: write_docx (what the render stage calls), the reference opened and cleared,
the styles the edition needs (added to a reference that lacks them) and the house style on them, the
cover, the sections' footers and headers, the language, the settings and core properties, and the
deterministic save. The rest is in modules of one job each, which it calls:
  word_text     clean, the HTML fragments as runs, the writer of paragraphs, lists and headings
  word_fields   the complex field, SEQ captions, the contents' TOC field, the page numbers
  word_tables   the data tables and the lists of facts
  word_figures  the figures with their alternative text
  word_body     the rendered HTML, block by block, as Word content

Imports: the top of the Word modules (word_text <- word_fields <- word_tables, word_figures <- word_body <-
word), imported by render and scripts/make_reference_docx.py. Publishing modules may import pipeline.language,
pipeline.core, pipeline.coding, pipeline.waves, pipeline.analysis and each other, never pipeline.reading
or pipeline.app, and import pipeline modules at the top of the file, never inside a function.
python-docx is imported where it is used, so that importing the package does not load it.
"""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, time, timezone
from pathlib import Path

from pipeline.core.files import PROJECT_ROOT
from pipeline.language.formatting import long_date, month_year
from pipeline.publishing.word_body import write_body
from pipeline.publishing.word_fields import contents, fill_contents, page_numbers, pdf_anchor_pages
from pipeline.publishing.word_tables import FACTS_STYLE, TABLE_STYLE, suppress_hyphens
from pipeline.publishing.word_text import Writer, clean, oxml

DEFAULT_REFERENCE = PROJECT_ROOT / "templates" / "reference.docx"
LANGUAGE = "nl-NL"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# The styles the edition uses; a reference that lacks one gets it, based on the style named beside it.
PARAGRAPH_STYLES = {
    "Title": "Normal", "Subtitle": "Normal", "Heading 1": "Normal", "Heading 2": "Normal", "Heading 3": "Normal",
    "Heading 4": "Normal", "Caption": "Normal", "Quote": "Normal", "List Bullet": "Normal",
    "List Number": "Normal", "TOC Heading": "Normal", "TOC 1": "Normal", "TOC 2": "Normal", "TOC 3": "Normal",
    "Footer": "Normal", "Header": "Normal",
    "Note": "Normal", "Table Text": "Normal", "Cover Details": "Normal", "Draft Mark": "Normal",
    "Inherited Mark": "Note", "Warning": "Normal",
    "Table List Bullet": "List Bullet", "Table List Number": "List Number",
}


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
    from docx.shared import RGBColor
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
                style.element.get_or_add_pPr().append(oxml("w:outlineLvl", val=level - 1))
            elif name == "Inherited Mark":   # the label of a paragraph carried over from an earlier wave
                style.font.bold = True
                style.font.color.rgb = RGBColor.from_string("9A3B00")
                style.paragraph_format.keep_with_next = True
            elif name == "Warning":   # the report's own cautions (the HTML's .warning), unlike a quoted answer
                borders = oxml("w:pBdr")
                borders.append(oxml("w:left", val="single", sz=18, space=8, color="C99700"))
                properties = style.element.get_or_add_pPr()
                properties.append(borders)
                properties.append(oxml("w:shd", val="clear", color="auto", fill="FFF8E5"))
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
        defaults = oxml("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = oxml("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = oxml("w:rPr")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = oxml("w:lang")
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


# The children of w:settings from autoHyphenation on, in the schema's order (a new one goes before the first
# of those after it).
_SETTINGS_ORDER = ["autoHyphenation", "consecutiveHyphenLimit", "hyphenationZone", "doNotHyphenateCaps", "showEnvelope",
                   "summaryLength", "clickAndTypeStyle", "defaultTableStyle", "evenAndOddHeaders",
                   "bookFoldRevPrinting", "bookFoldPrinting", "bookFoldPrintingSheets", "drawingGridHorizontalSpacing",
                   "drawingGridVerticalSpacing", "displayHorizontalDrawingGridEvery",
                   "displayVerticalDrawingGridEvery", "doNotUseMarginsForDrawingGridOrigin",
                   "drawingGridHorizontalOrigin", "drawingGridVerticalOrigin", "doNotShadeFormData",
                   "noPunctuationKerning", "characterSpacingControl", "printTwoOnOne", "strictFirstAndLastChars",
                   "noLineBreaksAfter", "noLineBreaksBefore", "savePreviewPicture", "doNotValidateAgainstSchema",
                   "saveInvalidXml", "ignoreMixedContent", "alwaysShowPlaceholderText", "doNotDemarcateInvalidXml",
                   "saveXmlDataOnly", "useXSLTWhenSaving", "saveThroughXslt", "showXMLTags",
                   "alwaysMergeEmptyNamespace", "updateFields", "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
                   "mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
                   "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType",
                   "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator"]


def _settings_child(settings, name):
    """A new child `name` of w:settings, inserted where the schema puts it."""
    element = oxml(f"w:{name}")
    later = _SETTINGS_ORDER[_SETTINGS_ORDER.index(name) + 1:]
    for child in settings:
        if child.tag.rsplit("}", 1)[1] in later:
            child.addprevious(element)
            return element
    settings.append(element)
    return element


def update_fields_on_open(document):
    """w:updateFields in settings.xml: Word updates the fields (contents, captions, page numbers) on opening."""
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
    core.subject = clean(context["meta"]["description"])
    core.author = clean("; ".join(context["meta"]["authors"]))
    core.last_modified_by = "wsd-leernetwerken"
    core.comments = f"Gemaakt door wsd-leernetwerken {context['meta']['pipeline_version']}"
    core.keywords = clean("; ".join(context["meta"]["keywords"]))
    core.category = "Concept" if context["meta"]["draft"] else ""
    core.revision = 1
    core.created = stamp
    core.modified = stamp
    core.last_printed = stamp
    core.language = LANGUAGE


def page_furniture(document, *, title: str, draft: bool):
    """The running head on every page but the cover: the report's title, and "CONCEPT" at the right
    margin while it is a draft; page numbers in the footer ("Pagina N van M", PAGE and NUMPAGES fields)
    unless the reference's footer has its own PAGE field. A reference whose header has text of its own
    keeps it."""
    for section in document.sections:
        section.different_first_page_header_footer = True
        footer = section.footer
        footer.is_linked_to_previous = False
        page_numbers(footer)
        header = section.header
        header.is_linked_to_previous = False
        running_head(document, header, title, draft=draft, width=section.page_width - section.left_margin
                     - section.right_margin)


def running_head(document, header, title: str, *, draft: bool, width) -> None:
    """The title (in the footer's muted colour) and, for a draft, "CONCEPT" (the Header style: bold, the
    draft colour) at a right tab stop, as the first paragraph of `header`; a header with text of its own
    keeps it, and gets "CONCEPT" below it."""
    from docx.enum.text import WD_TAB_ALIGNMENT
    if any(p.text.strip() for p in header.paragraphs):
        if draft:
            header.add_paragraph(style="Header").add_run("CONCEPT").bold = True
        return
    paragraph = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
    paragraph.style = "Header"
    paragraph.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    head = paragraph.add_run(clean(title))
    head.bold = False
    muted = document.styles["Footer"].font.color
    if muted.type is not None and muted.rgb is not None:
        head.font.color.rgb = muted.rgb
    if draft:
        paragraph.add_run("\t")
        paragraph.add_run("CONCEPT").bold = True


# Styles whose words are names or stand alone (the title, headings, the contents, the running head): never
# hyphenated.
UNHYPHENATED_STYLES = ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "TOC Heading", "TOC 1",
                       "TOC 2", "TOC 3", "Header", "Footer", "Cover Details", "Draft Mark")


def hyphenate(document) -> None:
    """Automatic hyphenation (w:autoHyphenation in settings.xml), as the PDF has it, except in the styles of
    UNHYPHENATED_STYLES and the table cells that hold names (word_tables.no_hyphens), which carry
    w:suppressAutoHyphens."""
    from docx.oxml.ns import qn
    settings = document.settings.element
    element = settings.find(qn("w:autoHyphenation"))
    if element is None:
        element = _settings_child(settings, "autoHyphenation")
    element.set(qn("w:val"), "true")
    names = {s.name for s in document.styles}
    for name in UNHYPHENATED_STYLES:
        if name in names:
            suppress_hyphens(document.styles[name].element.get_or_add_pPr())


def apply_style(document, style: dict) -> None:
    """The house style on the styles of the edition: the accent colour on the title and the headings of
    level 1 and 2, and, when the style names Word fonts (word_text, word_headings), the text font on Normal
    and the headings font on headings, captions, tables and the title. Sizes, spacing and page setup
    stay the reference document's."""
    from docx.shared import RGBColor
    styles = document.styles
    if style["word_text_font"]:
        for name in ("Normal", "Quote", "List Bullet", "List Number", "Note"):
            if name in [s.name for s in styles]:
                _font(styles[name], style["word_text_font"])
    if style["word_heading_font"]:
        for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Caption", "Table Text",
                     "TOC Heading", "Cover Details"):
            if name in [s.name for s in styles]:
                _font(styles[name], style["word_heading_font"])
    for name in ("Title", "Heading 1", "Heading 2", "TOC Heading"):
        if name in [s.name for s in styles]:
            styles[name].font.color.rgb = RGBColor.from_string(style["accent"].lstrip("#").upper())


def _font(paragraph_style, name: str) -> None:
    """`name` for every script of the style, the theme fonts that would win over it removed."""
    from docx.oxml.ns import qn
    rpr = paragraph_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = oxml("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute in ("ascii", "hAnsi", "cs", "eastAsia"):
        fonts.set(qn(f"w:{attribute}"), name)


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


# ----------------------------------------------------------------------------------- the edition

def write_docx(context: dict, *, out: Path, folder: Path, reference: Path | None, html: str = "",
               pdf: Path | None = None) -> Path:
    """report.docx at `out` from the template context; `folder` holds figures/<name>.png (300 dpi);
    `reference` the document whose styles and page setup it takes (templates/reference.docx if none);
    `html` the rendered report, whose every block after the contents it takes as written, so the Word
    edition says what the HTML says; `pdf` the report's PDF, whose page of each heading the contents
    shows (none without it). On the shipped reference the house style (`context["style"]`) sets the fonts
    and colours; an institution's own reference keeps its own."""
    return finish_docx(build_docx(context, folder=folder, reference=reference, html=html), out=out, pdf=pdf)


def build_docx(context: dict, *, folder: Path, reference: Path | None, html: str = "") -> WordEdition:
    """The Word edition in memory, all but the contents' page numbers (see write_docx for the arguments);
    finish_docx adds them from the PDF and saves it, so the render stage can build it while the PDF is
    laid out."""
    document = open_reference(reference)
    _style_ids_looked_up_once(document)
    if reference is None or Path(reference).resolve() == DEFAULT_REFERENCE.resolve():
        apply_style(document, context["style"])   # an institution's own reference is its Word house style
    writer = Writer(document, Path(folder))
    _cover(writer, context)
    toc = contents(writer)
    write_body(writer, html, context["figures"])
    set_language(document)
    update_fields_on_open(document)
    hyphenate(document)
    page_furniture(document, title=context["meta"]["title"], draft=context["meta"]["draft"])
    set_core_properties(document, context)
    return WordEdition(writer, toc)


def finish_docx(edition: WordEdition, *, out: Path, pdf: Path | None = None) -> Path:
    """The contents filled in, with each heading's page of the PDF at `pdf` when given, and the edition
    saved at `out`."""
    fill_contents(edition.writer, edition.toc, pdf_anchor_pages(pdf) if pdf is not None else None)
    return save_deterministic(edition.writer.doc, Path(out))


@dataclass
class WordEdition:
    """A Word edition being written: its writer (document and headings) and its contents field."""
    writer: Writer
    toc: tuple


def _cover(w: Writer, context):
    meta, method = context["meta"], context["method"]
    logo = context["style"]["logo"]
    if logo:
        from docx.shared import Cm
        data = base64.b64decode(logo["src"].split(",", 1)[1])
        run = w.doc.add_paragraph().add_run()
        shape = run.add_picture(io.BytesIO(data), height=Cm(2.0))
        shape._inline.docPr.set("descr", clean(logo["alt"]))
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
    lines = [a["name"] + (f" ({a['institution']})" if a["institution"] else "") for a in meta["author_details"]]
    lines += [*meta["more_institutions"], ""]
    if meta["commissioner"]:
        lines.append(f"In opdracht van {meta['commissioner']}")
    lines.append(f"Gegevens verzameld {month_year(method['first_response'])} tot en met "
                 f"{month_year(method['last_response'])}")
    if meta["published"]:
        lines.append((f"{meta['place']}, " if meta["place"] else "") + long_date(meta["published"]))
    elif meta["draft"]:
        lines.append("Concept, nog niet gepubliceerd")
    for i, line in enumerate(lines):
        if i:
            details.add_run().add_break()
        w.run(details, line)
    w.page_break()
