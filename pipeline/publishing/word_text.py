"""The Word edition's text: how words reach report.docx, and the writer every other Word module writes with.

Owns clean (text as XML 1.0 allows it), html_blocks (an HTML fragment, escaped when rendered, read tag by
tag with html.parser into paragraphs and list items of bold or italic runs, a web link kept as a link),
oxml (one WordprocessingML
element) and Writer: the document being written, its paragraphs, runs, lists (a numbered list starts again
at 1), headings (each with the bookmark the contents link to) and page breaks. Respondents' text only ever
becomes plain text runs through Writer.run.

Imports: this is the bottom of the Word modules (word_text <- word_fields <- word_tables, word_figures <-
word_body <- word) and imports none of them. Publishing modules may import pipeline.language,
pipeline.core, pipeline.coding, pipeline.waves, pipeline.analysis and each other, never pipeline.reading
or pipeline.app, and import pipeline modules at the top of the file, never inside a function. python-docx
is imported where it is used, so that importing the package does not load it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from pipeline.language.hyphenation import joined_names

TEXT_WIDTH_CM = 16.0   # the width of the page's text, which figures and tables fill

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text) -> str:
    """Text as XML 1.0 allows it (control characters, lone surrogates and non-characters dropped)."""
    return _FORBIDDEN.sub("", "" if text is None else str(text))


# ------------------------------------------------------------------------------- HTML to blocks

class _Blocks(HTMLParser):
    """The researchers' HTML (and an answer's, after text_to_html) as blocks of runs: a list of
    (kind, runs), kind "p", "ul" or "ol" (a list item, with the number of its list), runs a list of
    (text, bold, italic, link), a text of "\\n" being a line break and link the https:// or http://
    address of an <a> around it (else None). Tags other than those are ignored; their text is kept as
    text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, list]] = []
        self.bold = self.italic = 0
        self.link: str | None = None
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
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = href if re.match(r"https?://", href) else None

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
        elif tag == "a":
            self.link = None

    def handle_data(self, data):
        if self.current is None and not data.strip():
            return
        self._text(re.sub(r"\s+", " ", data))

    def _text(self, text):
        if self.current is None:
            self._open("p")
        self.current[1].append((text, bool(self.bold), bool(self.italic), self.link if text != "\n" else None))


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

NO_BREAK_HYPHEN = object()    # a piece of a run's text that is Word's non-breaking hyphen (w:noBreakHyphen)


def text_runs(paragraph, text, *, bold=False, italic=False) -> list:
    """`text` as a run of `paragraph`, or as runs where a name joined by hyphens ("Zuid-Holland") is in it:
    each of that name's hyphens is Word's non-breaking hyphen, so the name does not break at a line end
    (python-docx reads it back as "-")."""
    text, pieces, last = clean(text), [], 0
    for start, end in joined_names(text):
        pieces += [text[last:start], *_hyphens_apart(text[start:end])]
        last = end
    runs = []
    for piece in [p for p in [*pieces, text[last:]] if p != ""] or [""]:
        run = paragraph.add_run(None if piece is NO_BREAK_HYPHEN else piece)
        if piece is NO_BREAK_HYPHEN:
            run._r.append(oxml("w:noBreakHyphen"))
        if bold:
            run.bold = True
        if italic:
            run.italic = True
        runs.append(run)
    return runs


def _hyphens_apart(name: str) -> list:
    """"Zuid-Holland" as ["Zuid", NO_BREAK_HYPHEN, "Holland"]."""
    parts = name.split("-")
    return [piece for part in parts[:-1] for piece in (part, NO_BREAK_HYPHEN)] + [parts[-1]]


def oxml(tag, **attrs):
    """A new element `tag` ("w:..."), each keyword an attribute in the w: namespace."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), str(value))
    return element


class Writer:
    """The document being written and what the contents need of it: its headings (level, text, bookmark, and
    the HTML id whose page the PDF knows)."""

    def __init__(self, document, folder: Path):
        self.doc = document
        self.folder = folder
        self.headings: list[tuple[int, str, str, str | None]] = []   # level, text, bookmark, HTML id
        self.bookmark_id = 0
        self.separators: list = []   # the empty paragraphs after tables (word_tables.separator)

    def para(self, text="", style=None, *, bold=False, italic=False):
        paragraph = self.doc.add_paragraph(style=style)
        if text:
            self.run(paragraph, text, bold=bold, italic=italic)
        return paragraph

    @staticmethod
    def run(paragraph, text, *, bold=False, italic=False):
        """`text` as a run of `paragraph` (see text_runs). Gives the first run."""
        return text_runs(paragraph, text, bold=bold, italic=italic)[0]

    @staticmethod
    def hyperlink(paragraph, text, url):
        """`text` in `paragraph` as a link to the web address `url`, underlined in the text's colour."""
        from docx.opc.constants import RELATIONSHIP_TYPE
        from docx.oxml.ns import qn
        link = oxml("w:hyperlink")
        link.set(qn("r:id"), paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
        run = oxml("w:r")
        properties = oxml("w:rPr")
        properties.append(oxml("w:u", val="single"))
        run.append(properties)
        shown = oxml("w:t")
        shown.text = clean(text)
        shown.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        run.append(shown)
        link.append(run)
        paragraph._p.append(link)

    def heading(self, text, level, anchor=None):
        """A heading of `level` with a bookmark the contents link to; `anchor` is its id in the HTML."""
        paragraph = self.doc.add_paragraph(style=f"Heading {level}")
        name = f"_Toc{len(self.headings) + 1:05d}"
        self._bookmark(paragraph, name, lambda: self.run(paragraph, text))
        self.headings.append((level, clean(text), name, anchor))
        return paragraph

    def _bookmark(self, paragraph, name, add_content):
        self.bookmark_id += 1
        paragraph._p.append(oxml("w:bookmarkStart", id=self.bookmark_id, name=name))
        add_content()
        paragraph._p.append(oxml("w:bookmarkEnd", id=self.bookmark_id))

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
            for text, bold, italic, link in runs:
                if text == "\n":
                    paragraph.add_run().add_break()
                elif link:
                    self.hyperlink(paragraph, text, link)
                elif text:
                    self.run(paragraph, text, bold=bold, italic=italic)

    def html(self, markup, *, style=None, container=None):
        self.blocks(html_blocks(markup), style=style, container=container)

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

    def page_break(self):
        from docx.enum.text import WD_BREAK
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
