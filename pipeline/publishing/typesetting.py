"""Typesetting of the HTML the PDF is laid out from: where a word may break at a line end, decided once
per distinct word (pipeline.language.hyphenation), so that a proper name never breaks across lines.

`report_names` gives the words the report must not hyphenate beyond the capitalised ones: the words of
the networks' names, werkplaatsen and initiators (this wave's and, in a comparison, the previous wave's),
and the taxonomies' labels and terms. `hyphenate_html` writes soft hyphens into the body text, which
report.css lays out with `hyphens: manual` (report.html itself keeps none: a reader's copy and search
stay plain, and the browser hyphenates nothing); not into headings, table headers, a table's short values
(td.short), the cover, the contents, code (digests) or the downloads, and never into a tag, an attribute
or an entity. In a table's other cells a word that may not break is wrapped in <span class="whole">
instead, and the cell hyphenates itself (`hyphens: auto`): WeasyPrint (70) measures the narrowest width
of a cell with soft hyphens as if the words up to the first of them were one, and would widen the
column past the page. The space before such a word goes into its span: a run of text that ends in a space
and fits its line only without that space is broken by WeasyPrint after its first word ("Met" alone on a
line of Tabel 4). A name of parts joined by hyphens, each after the first with a capital ("Zuid-Holland",
"Noord-Brabant"), is wrapped in <span class="name"> (report.css: no break in it), so that it does not
break at its own hyphen; a compound such as "WSD-netwerken" still may."""

from __future__ import annotations

import re

from pipeline.core.config import Taxonomies
from pipeline.language.hyphenation import hyphenated, joined_names, may_hyphenate, name_words, words_marked

# Elements whose text is never hyphenated: what report.css sets apart as headings, names and short values.
_WHOLE_TAGS = frozenset({"head", "title", "h1", "h2", "h3", "h4", "h5", "h6", "th", "nav", "code", "pre", "kbd",
                         "samp", "abbr"})
_WHOLE_CLASSES = frozenset({"short", "cover", "digest", "downloads"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})
_MARKUP = re.compile(r"(<!--.*?-->|<(style|script)\b.*?</\2\s*>|<[^>]*>)", re.S | re.I)
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w-]*)([^>]*?)(/?)\s*>", re.S)
_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_ENTITY = re.compile(r"(&#?\w+;)")
_CELL = "td"
WHOLE = '<span class="whole">{}</span>'   # a word a table cell must not hyphenate
NAME = '<span class="name">{}</span>'     # a hyphenated name, which must not break at its hyphens
_SPACE_BEFORE_WHOLE = re.compile(r'([ \t\r\n]+)<span class="whole">(.*?)</span>', re.S)
# The comparison's table of networks names the previous wave's networks too.
_NAME_COLUMNS = ("Werkplaats", "Leernetwerk")


def report_names(context: dict, taxonomies: Taxonomies) -> frozenset[str]:
    """The words the report never hyphenates, besides those with a capital: from the template context's
    `networks` (werkplaats, name, initiator) and tables' Werkplaats and Leernetwerk columns, and from
    the taxonomies' labels and terms."""
    texts = [n[key] for n in context["networks"] for key in ("werkplaats", "name", "initiator")]
    for table in context["tables"].values():
        for column in _NAME_COLUMNS:
            if column in table["columns"]:
                at = table["columns"].index(column)
                texts += [row[at] for row in table["rows"]]
    for category in (*taxonomies.participant_groups, *taxonomies.initiator_types):
        texts += [category.label, *(t.text.lstrip("=") for t in category.terms)]
    return name_words(texts)


def hyphenate_html(html: str, *, names: frozenset[str]) -> str:
    """`html` with soft hyphens (U+00AD) in the words of its body text that may break (see
    pipeline.language.hyphenation.may_hyphenate); the rest byte for byte as it was."""
    out, stack, last = [], [], 0

    def typeset(text: str) -> str:
        if any(whole for _, whole in stack):
            return text
        return _text_hyphenated(text, names, in_cell=any(name == _CELL for name, _ in stack))
    for markup in _MARKUP.finditer(html):
        out.append(typeset(html[last:markup.start()]))
        out.append(markup.group())
        last = markup.end()
        tag = _TAG.fullmatch(markup.group())
        if tag is None:
            continue
        closing, name, attributes, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3), tag.group(4)
        if closing:
            names_open = [n for n, _ in stack]
            if name in names_open:
                del stack[len(names_open) - 1 - names_open[::-1].index(name):]
        elif name not in _VOID and not self_closing:
            stack.append((name, name in _WHOLE_TAGS or bool(_classes(attributes) & _WHOLE_CLASSES)))
    out.append(typeset(html[last:]))
    return "".join(out)


def _classes(attributes: str) -> set[str]:
    found = _CLASS.search(attributes)
    return set(next(g for g in found.groups() if g is not None).split()) if found else set()


def _text_hyphenated(text: str, names: frozenset[str], *, in_cell: bool) -> str:
    if not text.strip():
        return text
    out, last = [], 0
    for start, end in joined_names(text):
        out += [_words_hyphenated(text[last:start], names, in_cell=in_cell), NAME.format(text[start:end])]
        last = end
    return "".join(out) + _words_hyphenated(text[last:], names, in_cell=in_cell)


def _words_hyphenated(text: str, names: frozenset[str], *, in_cell: bool) -> str:
    if not text.strip():
        return text
    if in_cell:
        def mark(word: str) -> str:
            return word if may_hyphenate(word, names=names) else WHOLE.format(word)
        marked = "".join(piece if _ENTITY.fullmatch(piece) else words_marked(piece, mark)
                         for piece in _ENTITY.split(text))
        return _SPACE_BEFORE_WHOLE.sub(lambda m: WHOLE.format(m.group(1) + m.group(2)), marked)
    return "".join(piece if _ENTITY.fullmatch(piece) else hyphenated(piece, names=names)
                   for piece in _ENTITY.split(text))
