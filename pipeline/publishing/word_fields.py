"""The Word edition's fields: what Word computes when the document is opened rather than what the run writes.

Owns the complex field (begin, instruction, separate, cached result, end), the captions numbered by a SEQ
field ("Tabel N.", "Figuur N.", so Word can list the tables and figures), the contents (a TOC field of
levels 1-3 with hyperlinks, its cached entries the headings of level 1 and 2, each linked to its
heading's bookmark, with a PAGEREF field whose cached page is the heading's page in report.pdf, read from
the PDF's named destinations) and the page numbers in the footer ("Pagina N van M", PAGE and NUMPAGES fields). The
cached results are what a reader sees until the fields are updated; the document asks Word to update
them on opening (word.update_fields_on_open).

Imports: word_text only (word_text <- word_fields <- word_tables, word_figures <- word_body <- word).
Publishing modules may import pipeline.language, pipeline.core, pipeline.coding, pipeline.waves,
pipeline.analysis and each other, never pipeline.reading or pipeline.app, and import pipeline modules at
the top of the file, never inside a function. python-docx is imported where it is used.
"""

from __future__ import annotations

import copy

from pipeline.publishing.word_text import TEXT_WIDTH_CM, Writer, clean, oxml, text_runs

_INSTRUCTION_TEXTS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}instrText"


def _with(paragraph, element):
    """A new run at the end of `paragraph` that holds `element`."""
    run = paragraph.add_run()
    run._r.append(element)
    return run


def _begin(paragraph, instruction):
    """A field's begin, its instruction and its separator at the end of `paragraph`."""
    _with(paragraph, oxml("w:fldChar", fldCharType="begin"))
    instr = oxml("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = f" {instruction} "
    _with(paragraph, instr)
    _with(paragraph, oxml("w:fldChar", fldCharType="separate"))


def _end(paragraph):
    _with(paragraph, oxml("w:fldChar", fldCharType="end"))


def field(paragraph, instruction, result=""):
    """A complex field (begin, instruction, separate, cached result, end) at the end of `paragraph`."""
    _begin(paragraph, instruction)
    paragraph.add_run(clean(result))
    _end(paragraph)


def seq_caption(w: Writer, label: str, number, text):
    """A paragraph in the Caption style, "<label> N. <text>", N a SEQ field of the label's sequence whose
    cached result is `number`."""
    paragraph = w.doc.add_paragraph(style="Caption")
    w.run(paragraph, f"{label} ")
    field(paragraph, f"SEQ {label} \\* ARABIC", str(number))
    w.run(paragraph, f". {text}")
    return paragraph


# ---------------------------------------------------------------------------------- the contents

def contents(w: Writer):
    """The heading "Inhoud" and a TOC field (levels 1-3, hyperlinks), its entries filled in at the end
    (fill_contents); returns the field's first and last paragraph."""
    w.para("Inhoud", "TOC Heading")
    begin = w.doc.add_paragraph(style="TOC 1")
    _begin(begin, 'TOC \\o "1-3" \\h \\z \\u')
    end = w.doc.add_paragraph(style="TOC 1")
    _end(end)
    w.page_break()
    return begin, end


def fill_contents(w: Writer, toc, pages: dict[str, int] | None = None):
    """The TOC field's cached result, shown until the field is updated: one entry per heading of level 1
    and 2, a link to its bookmark, a dot leader and a PAGEREF field to the bookmark whose cached result is
    the heading's page in `pages` (HTML id -> page of report.pdf), followed by a note that says so.

    The numbers are the PDF's because the run lays out no other pages: a Word file's pages are those of
    the program and fonts that open it (Word with Georgia, LibreOffice with a substitute differ). Word
    updates the field when the document is opened (word.update_fields_on_open), which replaces the
    entries, their numbers and the note with the document's own; LibreOffice with Tools > Update."""
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Cm
    from docx.text.paragraph import Paragraph
    begin, end = toc
    anchor = begin
    entries = [(level, text, name, pages.get(html_id) if pages and html_id else None)
               for level, text, name, html_id in w.headings if level <= 2]
    numbered = any(page is not None for *_, page in entries)

    def next_paragraph(style):
        new = copy.deepcopy(end._p)
        for child in list(new):
            if child.tag.endswith("}r"):
                new.remove(child)
        anchor._p.addnext(new)
        paragraph = Paragraph(new, begin._parent)
        paragraph.style = style
        return paragraph
    for i, (level, text, name, page) in enumerate(entries):
        paragraph = begin if i == 0 else next_paragraph(f"TOC {level}")
        paragraph.style = f"TOC {level}"
        link = oxml("w:hyperlink", anchor=name, history="1")
        paragraph._p.append(link)
        for run in text_runs(paragraph, text):
            link.append(run._r)
        if numbered:
            paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT,
                                                              WD_TAB_LEADER.DOTS)
            tab = paragraph.add_run()
            tab._r.append(oxml("w:tab"))
            link.append(tab._r)
            runs = len(paragraph._p.findall(_RUN))
            field(paragraph, f"PAGEREF {name} \\h", "" if page is None else str(page))
            for run in paragraph._p.findall(_RUN)[runs:]:
                link.append(run)
        anchor = paragraph
    if numbered:
        note = next_paragraph("Note")
        note.add_run(PDF_PAGES_NOTE)


PDF_PAGES_NOTE = ("De paginanummers zijn die van de pdf-versie (report.pdf). Word zet bij het bijwerken van de "
                  "velden de paginanummers van dit document neer.")
_RUN = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}r"


def pdf_anchor_pages(pdf) -> dict[str, int]:
    """The page (1 for the first) of every named destination of the PDF at `pdf`: WeasyPrint names one
    after each id of the HTML, so this is the PDF page of each heading."""
    from pypdf import PdfReader
    reader = PdfReader(str(pdf))
    return {str(name): reader.get_destination_page_number(destination) + 1
            for name, destination in reader.named_destinations.items()}


# ------------------------------------------------------------------------------ the page numbers

def page_numbers(footer) -> None:
    """"Pagina N van M" (PAGE and NUMPAGES fields) as the only paragraph of `footer`, centred, unless the
    reference's footer has a PAGE field of its own."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    if "PAGE" in "".join(t.text or "" for t in footer._element.iter(_INSTRUCTION_TEXTS)):
        return
    for p in footer.paragraphs[1:]:
        p._p.getparent().remove(p._p)
    paragraph = footer.paragraphs[0]
    for run in list(paragraph.runs):
        run._r.getparent().remove(run._r)
    paragraph.style = "Footer"
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("Pagina ")
    field(paragraph, "PAGE", "1")
    paragraph.add_run(" van ")
    field(paragraph, "NUMPAGES", "1")
