"""The Word edition's figures: a chart of the report as a picture with its caption.

Owns the figure: the 300 dpi PNG the charts stage wrote (figures/<name>.png), centred and as wide as the
page's text (16 cm), kept with its caption "Figuur N. ..." (N a SEQ field), its alternative text the
description charts.json gives it, with its numbers.

Imports: word_text and word_fields (word_text <- word_fields <- word_tables, word_figures <- word_body <-
word). Publishing modules may import pipeline.language, pipeline.core, pipeline.coding, pipeline.waves,
pipeline.analysis and each other, never pipeline.reading or pipeline.app, and import pipeline modules at
the top of the file, never inside a function. python-docx is imported where it is used.
"""

from __future__ import annotations

from pipeline.publishing.word_fields import seq_caption
from pipeline.publishing.word_text import TEXT_WIDTH_CM, Writer, clean

FIGURE_WIDTH_CM = TEXT_WIDTH_CM


def figure(w: Writer, entry: dict) -> None:
    """The 300 dpi PNG, 16 cm wide, and its caption "Figuur N. ..." with a SEQ field; the picture's
    alternative text says what it shows, with its numbers (charts.json's description). `entry` is the
    figure's entry in charts.json; its PNG is found in the writer's folder."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm
    path = w.folder / entry["png"]
    paragraph = w.doc.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    shape = run.add_picture(str(path), width=Cm(FIGURE_WIDTH_CM))
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", clean(f"Figuur {entry['number']}. {entry['description']}"))
    doc_pr.set("name", clean(entry["name"]))
    seq_caption(w, "Figuur", entry["number"], entry["caption"])
