"""Writes templates/reference.docx: the styles of the Word edition (report.docx) in the report's house style.

    .venv/bin/python scripts/make_reference_docx.py [OUT]

The Word edition is built on a copy of this document (pipeline/publishing/word.py clears its body and keeps its
styles, page setup, header and footer). An institution replaces it with its own reference document:
open this one in Word, change the styles (Heading 1-4, Normal, Title, Subtitle, Caption, Quote, List
Bullet, List Number, TOC Heading, TOC 1-3, Note, Table Text, Table List Bullet, Table List Number,
Cover Details, Draft Mark and the table
styles "Report Table" and "Facts Table"), save it as reference.docx in the wave's template folder. The
file written here is byte-identical on every run.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docx import Document  # noqa: E402
from docx.enum.style import WD_STYLE_TYPE  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402
from docx.oxml.ns import nsdecls, qn  # noqa: E402
from docx.shared import Cm, Pt, RGBColor  # noqa: E402

from pipeline.publishing.word import LANGUAGE, save_deterministic, set_language  # noqa: E402

ACCENT, INK, MUTED, LINE, TINT, DRAFT = "2F5F8A", "1F2328", "5B6470", "D0D7DE", "EEF3F8", "9A3B00"
SANS, SERIF = "Arial", "Georgia"


def _fonts(rpr_owner, name):
    """rFonts naming `name` for every script, without the theme fonts that would win over it."""
    if hasattr(rpr_owner, "get_or_add_rPr"):
        rpr = rpr_owner.get_or_add_rPr()
    else:
        rpr = rpr_owner.find(qn("w:rPr"))
        if rpr is None:
            rpr = parse_xml(f"<w:rPr {nsdecls('w')}/>")
            rpr_owner.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        if attribute.endswith("Theme"):
            del fonts.attrib[attribute]
    for script in ("ascii", "hAnsi", "cs", "eastAsia"):
        fonts.set(qn(f"w:{script}"), name)


def paragraph_style(document, name, *, font=SANS, size=None, color=INK, bold=False, italic=False, before=None,
                    after=None, line=None, keep_next=None, page_break=None, indent=None, outline=None, base=None):
    styles = document.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base:
        style.base_style = styles[base]
    _fonts(style.element, font)
    f = style.font
    if size:
        f.size = Pt(size)
    f.color.rgb = RGBColor.from_string(color)
    color_element = style.element.rPr.find(qn("w:color"))
    for attribute in ("themeColor", "themeShade", "themeTint"):
        color_element.attrib.pop(qn(f"w:{attribute}"), None)
    f.bold, f.italic = bold, italic
    p = style.paragraph_format
    if before is not None:
        p.space_before = Pt(before)
    if after is not None:
        p.space_after = Pt(after)
    if line is not None:
        p.line_spacing = line
    if keep_next is not None:
        p.keep_with_next = keep_next
    if page_break is not None:
        p.page_break_before = page_break
    if indent is not None:
        p.left_indent = Cm(indent)
    if outline is not None:
        ppr = style.element.get_or_add_pPr()
        for old in ppr.findall(qn("w:outlineLvl")):
            ppr.remove(old)
        ppr.append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{outline}"/>'))
    style.quick_style = True
    return style


def _border(style, xml):
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:pBdr")):
        ppr.remove(old)
    border = parse_xml(f"<w:pBdr {nsdecls('w')}>{xml}</w:pBdr>")
    # w:pBdr comes after keepNext/keepLines/pageBreakBefore/framePr/widowControl/numPr/suppressLineNumbers
    after = [qn(f"w:{t}") for t in ("shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct",
                                    "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
                                    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents",
                                    "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap",
                                    "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")]
    for child in ppr:
        if child.tag in after:
            child.addprevious(border)
            return
    ppr.append(border)


def table_styles(document):
    styles = document.styles.element
    for old in [s for s in styles.findall(qn("w:style")) if s.get(qn("w:styleId")) in ("ReportTable", "FactsTable")]:
        styles.remove(old)
    styles.append(parse_xml(f"""
<w:style {nsdecls('w')} w:type="table" w:styleId="ReportTable">
  <w:name w:val="Report Table"/><w:basedOn w:val="TableNormal"/><w:uiPriority w:val="40"/><w:qFormat/>
  <w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:rFonts w:ascii="{SANS}" w:hAnsi="{SANS}" w:cs="{SANS}"/><w:sz w:val="17"/><w:szCs w:val="17"/></w:rPr>
  <w:tblPr>
    <w:tblBorders>
      <w:top w:val="single" w:sz="4" w:space="0" w:color="{LINE}"/>
      <w:bottom w:val="single" w:sz="4" w:space="0" w:color="{LINE}"/>
      <w:insideH w:val="single" w:sz="4" w:space="0" w:color="{LINE}"/>
    </w:tblBorders>
    <w:tblCellMar><w:top w:w="45" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>
      <w:bottom w:w="45" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>
  </w:tblPr>
  <w:tblStylePr w:type="firstRow">
    <w:rPr><w:b/><w:bCs/><w:color w:val="{INK}"/></w:rPr>
    <w:trPr><w:tblHeader/></w:trPr>
    <w:tcPr>
      <w:tcBorders><w:bottom w:val="single" w:sz="12" w:space="0" w:color="{ACCENT}"/></w:tcBorders>
      <w:shd w:val="clear" w:color="auto" w:fill="{TINT}"/>
    </w:tcPr>
  </w:tblStylePr>
</w:style>"""))
    styles.append(parse_xml(f"""
<w:style {nsdecls('w')} w:type="table" w:styleId="FactsTable">
  <w:name w:val="Facts Table"/><w:basedOn w:val="TableNormal"/><w:uiPriority w:val="41"/>
  <w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:rFonts w:ascii="{SANS}" w:hAnsi="{SANS}" w:cs="{SANS}"/><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr>
  <w:tblPr>
    <w:tblCellMar><w:top w:w="20" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>
      <w:bottom w:w="20" w:type="dxa"/><w:right w:w="115" w:type="dxa"/></w:tblCellMar>
  </w:tblPr>
  <w:tblStylePr w:type="firstCol"><w:rPr><w:color w:val="{MUTED}"/></w:rPr></w:tblStylePr>
</w:style>"""))


def build() -> Document:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.4)
    section.left_margin, section.right_margin = Cm(2.2), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)

    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    _fonts(defaults, SERIF)
    set_language(document, LANGUAGE)

    paragraph_style(document, "Normal", font=SERIF, size=10.5, before=0, after=6, line=1.2)
    paragraph_style(document, "Title", size=28, color=ACCENT, bold=True, before=150, after=12, line=1.05)
    title = document.styles["Title"].element.get_or_add_pPr()
    for old in title.findall(qn("w:pBdr")):   # the default template's rule under the title
        title.remove(old)
    paragraph_style(document, "Subtitle", size=14, color=INK, before=0, after=0)
    paragraph_style(document, "Heading 1", size=18, color=ACCENT, bold=True, before=0, after=12, keep_next=True,
                    page_break=True, outline=0)
    paragraph_style(document, "Heading 2", size=14, bold=True, before=18, after=6, keep_next=True, outline=1)
    paragraph_style(document, "Heading 3", size=12, bold=True, before=12, after=4, keep_next=True, outline=2)
    paragraph_style(document, "Heading 4", size=10.5, bold=True, before=10, after=3, keep_next=True, outline=3)
    paragraph_style(document, "Caption", size=9, color=MUTED, before=3, after=10)
    quote = paragraph_style(document, "Quote", font=SERIF, size=10, color="333333", italic=True, before=3, after=6,
                            indent=0.8)
    _border(quote, f'<w:left w:val="single" w:sz="18" w:space="8" w:color="{LINE}"/>')
    paragraph_style(document, "List Bullet", font=SERIF, size=10.5, after=3)
    paragraph_style(document, "List Number", font=SERIF, size=10.5, after=3)
    paragraph_style(document, "TOC Heading", size=18, color=ACCENT, bold=True, before=0, after=12, outline=9,
                    page_break=False)
    paragraph_style(document, "TOC 1", size=10.5, bold=True, before=6, after=2, base="Normal")
    paragraph_style(document, "TOC 2", size=10, before=0, after=2, indent=0.6, base="Normal")
    paragraph_style(document, "TOC 3", size=9.5, before=0, after=1, indent=1.2, base="Normal")
    paragraph_style(document, "Header", size=8, color=DRAFT, bold=True)
    paragraph_style(document, "Footer", size=8, color=MUTED)
    paragraph_style(document, "Note", size=8.5, color=MUTED, before=3, after=10, base="Normal")
    paragraph_style(document, "Table Text", size=8.5, before=0, after=0, line=1.0, base="Normal")
    paragraph_style(document, "Table List Bullet", size=8.5, before=0, after=0, line=1.0, base="List Bullet")
    paragraph_style(document, "Table List Number", size=8.5, before=0, after=0, line=1.0, base="List Number")
    paragraph_style(document, "Cover Details", size=10.5, color=MUTED, before=60, after=0, line=1.4, base="Normal")
    draft = paragraph_style(document, "Draft Mark", size=11, color=DRAFT, bold=True, before=0, after=24,
                            base="Normal")
    _border(draft, "".join(f'<w:{side} w:val="single" w:sz="12" w:space="4" w:color="{DRAFT}"/>'
                           for side in ("top", "left", "bottom", "right")))
    table_styles(document)

    document.add_paragraph("Referentiedocument van het rapport leernetwerken", style="Title")
    document.add_paragraph("De opmaak van de Word-editie (report.docx)", style="Subtitle")
    document.add_paragraph("1. Kop 1", style="Heading 1")
    document.add_paragraph(
        "De pijplijn neemt uit dit document alleen de opmaak over: de stijlen, de pagina-instelling, de kop- en "
        "voettekst. De inhoud hier is een voorbeeld en wordt vervangen door die van het rapport. Vervang dit "
        "bestand door het referentiedocument van uw instelling, met dezelfde stijlnamen.")
    document.add_paragraph("1.1 Kop 2", style="Heading 2")
    document.add_paragraph("1.1.1 Kop 3", style="Heading 3")
    document.add_paragraph("Kop 4", style="Heading 4")
    document.add_paragraph("Een citaat van een invuller.", style="Quote")
    document.add_paragraph("Een opsomming", style="List Bullet")
    document.add_paragraph("Een toelichting bij een tabel.", style="Note")
    document.add_paragraph("Figuur 1. Een bijschrift", style="Caption")
    table = document.add_table(rows=2, cols=2)
    table.style = "Report Table"
    for cell, text in zip(table._cells, ("Kolom", "Netwerken", "Een rij", "3")):
        cell.paragraphs[0].style = "Table Text"
        cell.paragraphs[0].add_run(text)

    core = document.core_properties
    core.title, core.author, core.last_modified_by = "Referentiedocument rapport leernetwerken", "wsd-leernetwerken", \
        "wsd-leernetwerken"
    core.comments = "Geschreven door scripts/make_reference_docx.py"
    core.created = core.modified = core.last_printed = datetime(2025, 1, 1)
    core.revision = 1
    return document


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "templates" / "reference.docx"
    save_deterministic(build(), out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
