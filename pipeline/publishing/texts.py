"""The report's written texts: a wave's texts folder (inleiding, conclusies, discussie and the
optional section openings), the questionnaire's own texts for Bijlage 1, and the little Markdown they may
use (paragraphs, lists, bold, italic), turned into HTML with every character of the text escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

from markupsafe import Markup

from pipeline.core.files import PROJECT_ROOT
from pipeline.core.errors import PipelineError
from pipeline.publishing.inherited import Inheritance, blocks, inheritance
from pipeline.waves.wave import TEXT_FILES, without_mark
from pipeline.core.errors import ConfigError
from pipeline.core.files import read_yaml


# Optional texts of a wave that open a section of the report: <section>.md in its texts folder.
SECTION_TEXTS = ("methode", "wat-doen-ze", "welke-netwerken", "werkzame-elementen", "kansen", "begeleiding",
                 "vergelijking")


def inline_markup(text: str) -> str:
    """Escaped text with **bold** and *italic*."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", escaped)


def text_to_html(text: str, *, hard_breaks: bool = True, carried: Inheritance | None = None) -> str:
    """Paragraphs (blank lines between) and lists (lines starting with "- " or "1. ") as HTML; all text
    escaped, so respondents' and researchers' text can never inject markup. With `hard_breaks` a single
    newline is kept as a line break (answers); without it, it joins lines as one paragraph (written texts).
    With `carried`, each paragraph still as the earlier wave wrote it stands in a marked, labelled block."""
    out = []
    for block in blocks(text):
        start = len(out)
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        items = [re.match(r"^(?:[-•*]|\d+[.)])\s+(.*)$", line) for line in lines]
        if not hard_breaks:   # a list item may run over several lines: continuation lines join it
            lines, items = _join_continuations(lines, items)
        if all(items):
            tag = "ol" if re.match(r"^\d", lines[0]) else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{inline_markup(m.group(1))}</li>" for m in items) + f"</{tag}>")
        elif any(items[1:]) and not items[0]:
            rest = [m for m in items[1:] if m]
            out.append(f"<p>{inline_markup(lines[0])}</p><ul>" + "".join(f"<li>{inline_markup(m.group(1))}</li>" for m in rest)
                       + "</ul>")
        else:
            out.append("<p>" + ("<br>" if hard_breaks else " ").join(inline_markup(line) for line in lines) + "</p>")
        if carried is not None and carried.still_inherited(block):
            out[start:] = [_marked("".join(out[start:]), carried.mark)]
    return "".join(out)


def _marked(content: str, mark: str) -> str:
    """A paragraph carried over from an earlier wave: a bordered block whose first line says so, read
    out by screen readers as a note that begins with that line (once: the note has no label of its own
    that would say it again)."""
    label = html.escape(mark, quote=True)
    return f'<div class="inherited" role="note"><p class="inherited-mark">{label}</p>{content}</div>'


def _join_continuations(lines, items):
    joined_lines, joined_items = [], []
    for line, item in zip(lines, items):
        if item or not joined_lines:
            joined_lines.append(line)
            joined_items.append(item)
        else:
            joined_lines[-1] += " " + line
            previous = joined_items[-1]
            if previous:
                joined_items[-1] = re.match(r"^(?:[-•*]|\d+[.)])\s+(.*)$", joined_lines[-1], re.DOTALL)
    return joined_lines, joined_items


def text_files(folders: list[Path]) -> dict[str, Path]:
    """Where each text is found: the first folder that has it wins (the section texts are optional)."""
    found = {}
    for name in (*TEXT_FILES, *SECTION_TEXTS):
        for folder in folders:
            if (folder / f"{name}.md").exists():
                found[name] = folder / f"{name}.md"
                break
    return found


def read_texts(*, folders: list[Path], waves_dir: Path | None = None) -> dict:
    """The researchers' own texts as HTML: inleiding, conclusies and discussie (required), and under
    `sections` the optional texts that open a section. The first-line mark of a text carried over from an
    earlier wave is left out; instead each paragraph still as that wave (found in `waves_dir`) wrote it is
    marked where it stands. A missing required text is an error naming where to put it."""
    found = text_files(folders)
    for name in TEXT_FILES:
        if name not in found:
            raise PipelineError(f"text {name}.md not found in {', '.join(map(str, folders))}; "
                                f"write it there (paragraphs separated by a blank line).")

    def html_of(name: str) -> Markup:
        text = found[name].read_text(encoding="utf-8")
        return Markup(text_to_html(without_mark(text), hard_breaks=False,
                                   carried=inheritance(text, name, waves_dir=waves_dir)))
    texts = {name: html_of(name) for name in TEXT_FILES}
    texts["sections"] = {name: html_of(name) for name in SECTION_TEXTS if name in found}
    return texts


QUESTIONNAIRE_TEXTS = "questionnaire.yaml"


def read_questionnaire_texts(folder: Path) -> dict:
    """The questionnaire's introduction and closing text (config/questionnaire.yaml) as HTML, for Bijlage 1."""
    path = Path(folder) / QUESTIONNAIRE_TEXTS
    if not path.exists():
        path = PROJECT_ROOT / "config" / QUESTIONNAIRE_TEXTS
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict) or set(raw) != {"introduction", "closing"} \
            or not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise ConfigError(f"{path}: expected two texts, introduction: | and closing: |, each with the questionnaire's "
                          "own words (paragraphs separated by a blank line).")
    return {key: Markup(text_to_html(raw[key], hard_breaks=False)) for key in ("introduction", "closing")}
