"""Render: the report as HTML and PDF from the tables, figures and texts, and the output folder.

Builds the template context from the files in data/processed (it computes nothing the earlier stages
did not), renders templates/report.html with Jinja (a user template folder is searched first, and
"default:report.html" always names the shipped template), prints the same HTML to PDF with WeasyPrint,
writes the Word edition from the same context (pipeline.publishing.word, on the wave's reference.docx), and moves the complete output folder into place in one step.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import re
import shutil
from dataclasses import dataclass
from functools import partial
from datetime import date
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from pipeline import __version__

from pipeline.waves import output_folder
from pipeline.analysis.aggregate import Table, read_tables
from pipeline.core.config import Config, Instrument
from pipeline.core.files import PROJECT_ROOT
from pipeline.core.errors import PipelineError
from pipeline.coding.quotes import QUOTES_SUMMARY
from pipeline.core.schemas import INVOLVEMENT, NETWORKS, read_parquet
from pipeline.core.stage import Context
from pipeline.core.style import Style, load_style, style_path
from pipeline.waves.wave import TEXT_FILES, inherited_from, without_mark
from pipeline.coding.sheet import reviewed_share
from pipeline.core.background import Job, wait_all
from pipeline.core.errors import ConfigError
from pipeline.core.files import read_yaml
from pipeline.core.wave_files import load_reviews
from pipeline.language import formatting as dutch_format
from pipeline.publishing.word import write_docx
from pipeline.core.files import DEFAULT_TEMPLATES, DEFAULT_TEXTS

# Optional texts of a wave that open a section of the report: <section>.md in its texts folder.
SECTION_TEXTS = ("methode", "wat-doen-ze", "welke-netwerken", "werkzame-elementen", "kansen", "begeleiding",
                 "vergelijking")
DEFAULT_TITLE = "Rapport leernetwerken Werkplaatsen Sociaal Domein"
DEFAULT_SUBTITLE = "Inventarisatie van de leernetwerken van de Werkplaatsen Sociaal Domein"
DEFAULT_AUTHOR = "Werkgroep Lerende Praktijken van de Werkplaatsen Sociaal Domein"
PDF_VARIANT = "pdf/ua-1"   # tagged, for screen readers (the public sector's accessibility rules)
MAX_ANSWER = 4000   # characters of one answer shown in the report; longer ones are cut with a note
DROP_LABELS = {"preview": "voorbeeldweergave (preview)", "test": "testantwoord", "spam": "als spam gemarkeerd",
               "unfinished": "niet afgemaakt", "duplicate": "eerdere inzending van hetzelfde netwerk"}


# ------------------------------------------------------------------------------------------ texts

def _inline(text: str) -> str:
    """Escaped text with **bold** and *italic*."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", escaped)


def text_to_html(text: str, *, hard_breaks: bool = True) -> str:
    """Paragraphs (blank lines between) and lists (lines starting with "- " or "1. ") as HTML; all text
    escaped, so respondents' and researchers' text can never inject markup. With `hard_breaks` a single
    newline is kept as a line break (answers); without it, it joins lines as one paragraph (written texts)."""
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()) if b.strip()]
    out = []
    for block in blocks:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        items = [re.match(r"^(?:[-•*]|\d+[.)])\s+(.*)$", line) for line in lines]
        if not hard_breaks:   # a list item may run over several lines: continuation lines join it
            lines, items = _join_continuations(lines, items)
        if all(items):
            tag = "ol" if re.match(r"^\d", lines[0]) else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(m.group(1))}</li>" for m in items) + f"</{tag}>")
        elif any(items[1:]) and not items[0]:
            rest = [m for m in items[1:] if m]
            out.append(f"<p>{_inline(lines[0])}</p><ul>" + "".join(f"<li>{_inline(m.group(1))}</li>" for m in rest)
                       + "</ul>")
        else:
            out.append("<p>" + ("<br>" if hard_breaks else " ").join(_inline(line) for line in lines) + "</p>")
    return "".join(out)


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


def _text_files(folders: list[Path]) -> dict[str, Path]:
    """Where each text is found: the first folder that has it wins (the section texts are optional)."""
    found = {}
    for name in (*TEXT_FILES, *SECTION_TEXTS):
        for folder in folders:
            if (folder / f"{name}.md").exists():
                found[name] = folder / f"{name}.md"
                break
    return found


def read_texts(*, folders: list[Path]) -> dict:
    """The researchers' own texts as HTML: inleiding, conclusies and discussie (required), and under
    `sections` the optional texts that open a section. The mark of a text carried over from an earlier
    wave is left out. A missing required text is an error naming where to put it."""
    found = _text_files(folders)
    for name in TEXT_FILES:
        if name not in found:
            raise PipelineError(f"text {name}.md not found in {', '.join(map(str, folders))}; "
                                f"write it there (paragraphs separated by a blank line).")

    def html_of(path: Path) -> Markup:
        return Markup(text_to_html(without_mark(path.read_text(encoding="utf-8")), hard_breaks=False))
    texts = {name: html_of(found[name]) for name in TEXT_FILES}
    texts["sections"] = {name: html_of(found[name]) for name in SECTION_TEXTS if name in found}
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


class TableNumbers:
    """The numbers of the report's tables, given in the order the template first names a table (in a
    reference or its caption), so that "Tabel 5" in the text and the caption of that table agree."""

    def __init__(self):
        self.numbers: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        return self.numbers.setdefault(key, len(self.numbers) + 1)


@dataclass
class ReportStatus:
    """Whether the report is a draft, and why: texts carried over from another wave unchanged, codes
    no person has reviewed. `final` is the wave's own say (final: true in wave.yaml)."""

    draft: bool
    final: bool
    inherited: list[dict]
    reviewed: int
    coded: int
    warnings: list[str]


def report_status(config: Config, *, processed: Path, wave=None, texts: Path | None = None) -> ReportStatus:
    """Takes the texts in use, the wave's reviews and the coded answers in `processed`."""
    folders = [f for f in (texts, DEFAULT_TEXTS) if f]
    inherited = []
    for name, path in _text_files(folders).items():
        source = inherited_from(path.read_text(encoding="utf-8"))
        if source:
            inherited.append({"text": name, "from": source})
    items = list(config.codebook.items)
    networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
                            columns=["network_id", "response_key", *items])
    reviewed, coded = reviewed_share(networks=networks, codebook=config.codebook,
                                     reviews=load_reviews(wave.reviews if wave else None))
    final = bool(wave and wave.final)
    draft = not final and (bool(inherited) or reviewed < coded)
    warnings = []
    if not final:
        for entry in inherited:
            where = "the starting text" if entry["from"] == "sjabloon" else f"wave {entry['from']}"
            warnings.append(f"{entry['text']}.md is {where}, not yet rewritten for this wave (remove its first "
                            "line when it is).")
        if reviewed < coded:
            warnings.append(f"{coded - reviewed} of {coded} coded answers have not been reviewed by a person "
                            "(python -m pipeline coding-sheet, then coding-import).")
        if draft:
            warnings.append("the report is marked as a draft (concept) until then, or until wave.yaml says final: true.")
    return ReportStatus(draft=draft, final=final, inherited=inherited, reviewed=reviewed, coded=coded,
                        warnings=warnings)


# ---------------------------------------------------------------------------------------- context

def _plain(value):
    """A typed cell as the template sees it: numbers as numbers, missing as None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _table_context(table: Table) -> dict:
    shown = list(table.headers)
    frame = table.frame
    records = [{k: _plain(v) for k, v in zip(frame.columns, row)} for row in frame.itertuples(index=False)]
    return {"name": table.name, "title": table.title, "note": table.note, "item": table.item, "base": table.base,
            "columns": [table.headers[c] for c in shown],
            "percent_columns": [table.headers[c] for c in table.percent],
            "rows": [[r[c] for c in shown] for r in records], "records": records,
            "wide_column": _wide_column(table, records),
            "csv": f"tables/{table.name}.csv"}


def _wide_column(table: Table, records: list[dict]) -> str | None:
    """The header of the column with the longest value, when that value is a long text (over 100
    characters): the layout gives that column room, so the short columns beside it do not squeeze it."""
    longest = {c: max((len(str(r[c])) for r in records if r[c] is not None), default=0) for c in table.headers}
    column = max(longest, key=longest.get, default=None)
    return table.headers[column] if column is not None and longest[column] > 100 else None


def _instrument_context(instrument: Instrument) -> list[dict]:
    items = []
    for item in instrument.items:
        wording = _inline(item.wording)
        items.append({"id": item.id, "number": item.number, "type": item.type, "role": item.role,
                      "wording_html": wording, "personal": item.personal,
                      "choices": [{"value": c.value, "label": c.label, "text_entry": c.text_entry} for c in item.choices],
                      "rows": [r.label for r in item.rows],
                      "scale": [{"value": c.value, "label": c.label, "short": c.short} for c in item.scale]})
    return items


def _appendix_sections(instrument: Instrument) -> list[dict]:
    """What Bijlage 2 shows of each network, in its declared order: text answers, the participants, the
    explanations of yes answers."""
    kinds = {"text": "text", "coded": "text", "involvement": "participants", "yes_no": "yes_no"}
    declared = [it for it in instrument.items if it.report.appendix and it.role in kinds]
    declared.sort(key=lambda it: (it.report.appendix_order if it.report.appendix_order is not None
                                  else 1000 + it.number))
    return [{"kind": kinds[it.role], "item": it.id, "heading": it.report.appendix} for it in declared]


def _figures(processed: Path) -> dict[str, dict]:
    path = processed / "charts.json"
    if not path.exists():
        raise PipelineError(f"{path}: not found; run the charts stage first (make report).")
    return {f["name"]: {"name": f["name"], "number": f["number"], "item": f["item"], "caption": f["caption"],
                        "description": f["description"], **f["files"]}
            for f in json.loads(path.read_text(encoding="utf-8"))}


def build_context(*, processed: Path, config: Config, texts: dict, run_date: date,
                  tables: list[Table] | None = None, wave=None, status: ReportStatus | None = None,
                  style: Style | None = None) -> dict:
    """Everything the templates show; see templates/CONTEXT.md for each key. Reads the typed tables
    (unless given), charts.json and the stage summaries of `processed`; computes nothing the earlier
    stages did not. `style` is the house style (config/style.yaml if none)."""
    style = style or load_style(style_path(wave_folder=None, config_folder=config.folder))
    instrument, codebook, taxonomies = config.instrument, config.codebook, config.taxonomies

    def summary(name):
        path = processed / name
        if not path.exists():
            raise PipelineError(f"{path}: not found; run the earlier stages first (make report).")
        return json.loads(path.read_text(encoding="utf-8"))

    ingest, normalise_summary, coding = summary("ingest.json"), summary("normalise.json"), summary("coding.json")
    quotes = summary(QUOTES_SUMMARY)
    unpublished = set(quotes["unpublished"])
    text_items = [it.id for it in instrument.with_role("text", "coded")]
    networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
    involvement = read_parquet(processed / "involvement.parquet", schema=INVOLVEMENT)
    typed = {t.name: t for t in (tables if tables is not None else read_tables(processed))}
    table_context = {name: _table_context(t) for name, t in typed.items()}
    group_labels = {c.code: c.label.split(" (")[0] for c in taxonomies.participant_groups}
    scale = instrument.the("involvement").scale
    marks = {c.value: c.short or str(c.value) for c in scale}
    yes_no_items = instrument.with_role("yes_no")
    per_network = [(it, it.report.per_network) for it in instrument.with_role("coded") if it.report.per_network]
    facts = {it.id: dict(zip(typed[spec["table"]].frame["network_id"], typed[spec["table"]].frame["themes"]))
             for it, spec in per_network}

    long_answers = []

    def shown(network_id: str, item: str, text: str) -> str:
        if len(text) <= MAX_ANSWER:
            return text
        long_answers.append(f"{item} of {network_id} has {len(text):,} characters; the report shows the first "
                            f"{MAX_ANSWER:,} (the whole answer is in data/processed/networks.parquet).")
        return text[:MAX_ANSWER].rsplit(" ", 1)[0] + f" … [ingekort: {len(text):,} tekens]".replace(",", ".")

    status_shown = dict(zip(typed["overzicht"].frame["network_id"], typed["overzicht"].frame["status_shown"]))
    people_by_network = {key: group.sort_values("row") for key, group in involvement.groupby("network_id", sort=False)}
    no_people = involvement.iloc[:0]
    network_list = []
    for n in networks.to_dict(orient="records"):
        people = people_by_network.get(n["network_id"], no_people)
        published = n["network_id"] not in unpublished
        if not published:
            # Not for publication: no answer of it reaches the report, here or in a table that lists answers.
            n = {**n, "stop_reason": "", **{item: "" for item in text_items},
                 **{f"{it.id}_text": "" for it in yes_no_items}}
        network_list.append({
            "id": n["network_id"], "werkplaats": n["werkplaats"], "name": n["name"], "initiator": n["initiator"],
            "start_text": n["start_text"] or "-", "status": n["status"], "stop_reason": n["stop_reason"],
            "status_shown": status_shown.get(n["network_id"], n["status"]),
            "source": n["source"], "published": published,
            "text": {item: shown(n["network_id"], item, n.get(item, "") or "") for item in text_items},
            "participants": [{"label": p["category_label"],
                              "head_count": None if pd.isna(p["head_count"]) else int(p["head_count"]),
                              "group": group_labels.get(p["participant_group"], p["participant_group"]),
                              "level": None if pd.isna(p["level"]) else marks.get(int(p["level"]))}
                             for p in people.to_dict(orient="records")],
            "yes_no": {it.id: {"item": it.id, "question": it.report.title, "answer": n.get(it.id, ""),
                               "text": shown(n["network_id"], it.id, n.get(f"{it.id}_text", "") or "")}
                       for it in yes_no_items},
            "coded_facts": [{"item": it.id, "heading": spec["heading"], "value": facts[it.id].get(n["network_id"], "")}
                            for it, spec in per_network],
        })

    figures = _figures(processed)
    dropped = [{"reason": r, "label": DROP_LABELS.get(r, r), "count": c} for r, c in ingest["dropped"].items() if c]
    coded_items = []
    for item_id in codebook.items:
        item = instrument.item(item_id)
        table = table_context[item.report.table]
        coded_items.append({
            "item": item.id, "title": item.report.title, "section": item.report.section, "table": item.report.table,
            "figure": item.report.figure.name if item.report.figure else None,
            "categories": [c["label"] for c in codebook.categories.values() if c["item"] == item.id],
            "themes": [t for t in table["records"] if t["networks"]],
            "top": sorted((t for t in table["records"] if t["networks"]),
                          key=lambda t: (-t["networks"], t["theme_label"]))[:3],
        })
    yes_no_sections = [{"item": it.id, "title": _item_title(it), "table": it.report.table,
                        "figure": it.report.figure.name if it.report.figure else None}
                       for it in sorted((it for it in yes_no_items if it.report.results_order is not None),
                                        key=lambda it: it.report.results_order)]
    summary_rows = table_context["ja_nee_vragen"]["records"]
    status = status or report_status(config, processed=processed, wave=wave)
    return {
        "meta": {
            "title": wave.title if wave else DEFAULT_TITLE,
            "subtitle": wave.subtitle if wave else DEFAULT_SUBTITLE,
            "authors": list(wave.authors) if wave and wave.authors else [DEFAULT_AUTHOR],
            "institutions": list(wave.institutions) if wave else [],
            "wave": wave.name if wave else None, "year": wave.year if wave else None,
            "draft": status.draft, "inherited_texts": status.inherited,
            "run_date": run_date, "pipeline_version": __version__, "codebook_version": coding["codebook_version"],
            "python_version": platform.python_version(),
            "export": ingest["export_file"], "supplement": ingest.get("supplement_file"),
        },
        "method": {
            "first_response": _date(ingest.get("first_response")), "last_response": _date(ingest.get("last_response")),
            "responses_in_file": ingest["responses"], "kept": ingest["kept"], "dropped": dropped,
            "dropped_total": sum(d["count"] for d in dropped),
            "networks": len(networks), "survey_networks": int((networks["source"] == "survey").sum()),
            "supplement_networks": int((networks["source"] == "supplement").sum()),
            "items_mapped": ingest["items_mapped"], "items_missing": ingest["items_missing"],
            "format": ingest["format"],
            "notes": len(ingest["warnings"] + normalise_summary["warnings"] + coding["warnings"] + quotes["warnings"]
                         + long_answers),
            "codes": coding["codes"], "manual_codes": coding["manual"],
            "corrections_applied": coding.get("applied", 0), "corrections_stale": coding.get("stale", 0),
            "codes_added": coding.get("added", 0), "codes_removed": coding.get("removed", 0),
            "reviewed_answers": status.reviewed, "coded_answers": status.coded,
            "quotes_shown": quotes["quotes_shown"], "quotes_reviewed": quotes["quotes_reviewed"],
            "quotes_stale": quotes["stale"], "unpublished_networks": len(unpublished),
            "distinct_networks": bool(networks[["werkplaats", "name"]].apply(
                lambda c: c.str.casefold().str.split().str.join(" ")).drop_duplicates().shape[0] == len(networks)),
        },
        "texts": texts,
        "tables": table_context,
        "figures": figures,
        "themes": {c["item"]: c["themes"] for c in coded_items},
        "coded_items": coded_items,
        "coded_sections": {c["section"]: c for c in coded_items if c["section"]},
        "yes_no": {r["item"]: r for r in summary_rows},
        # By the table name instrument.yaml gives the item, so that a template survives a renumbered item.
        "yes_no_by_table": {it.report.table: r for it in yes_no_items if it.report.table
                            for r in summary_rows if r["item"] == it.id},
        "text_item_by_table": {it.report.table: {"item": it.id, "number": it.number}
                               for it in instrument.with_role("text", "coded") if it.report.table},
        "yes_no_sections": yes_no_sections,
        "categories": {code: c["label"] for code, c in codebook.categories.items()},
        "networks": network_list,
        "werkplaatsen": list(dict.fromkeys(n["werkplaats"] for n in network_list)),
        "participant_groups": [{"code": c.code, "label": c.label} for c in taxonomies.participant_groups],
        "level_marks": [{"mark": marks[c.value], "label": c.label, "column": f"level_{c.value}"} for c in scale],
        "appendix_sections": _appendix_sections(instrument),
        "instrument": _instrument_context(instrument),
        "questionnaire": read_questionnaire_texts(config.folder),
        "style": style.context(),
        "table_number": TableNumbers(),
    }


def _item_title(item) -> str:
    return f"{item.report.title} ({item.id})"


def _date(value: str | None) -> date | None:
    return pd.Timestamp(value).date() if value else None


# ------------------------------------------------------------------------------------------ jinja

def environment(*, user_templates: Path | None):
    """Jinja with the user's folder first, then the defaults; "default:<name>" always means the default."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined

    default = FileSystemLoader(str(DEFAULT_TEMPLATES))
    loaders = [FileSystemLoader(str(user_templates))] if user_templates else []
    loaders += [PrefixLoader({"default": default}, delimiter=":"), default]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(dutch_format.FILTERS)
    env.filters["answer"] = lambda text: Markup(text_to_html(text or ""))
    return env


def render_html(context: dict, *, user_templates: Path | None) -> str:
    from jinja2 import TemplateError
    env = environment(user_templates=user_templates)
    try:
        return env.get_template("report.html").render(**context)
    except TemplateError as exc:
        where = f" (line {exc.lineno} of {exc.name})" if getattr(exc, "lineno", None) and getattr(exc, "name", None) \
            else _template_line(exc)
        raise PipelineError(f"template error{where}: {exc.message if hasattr(exc, 'message') else exc}. "
                            "Fix the template; see templates/CONTEXT.md for the fields you can use.")


def _template_line(exc: Exception) -> str:
    """Where in a template an error at render time happened (Jinja puts the template's file and line in
    the traceback, not on the error): the innermost template frame."""
    import traceback
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".css"))]
    return f" (line {frames[-1].lineno} of {frames[-1].filename})" if frames else ""


def render_pdf(html_text: str, *, base: Path) -> tuple[bytes, int]:
    """The PDF of the report HTML and its page count; `base` is the folder relative links resolve against.
    The PDF is tagged as PDF/UA-1 asks (structure in reading order, table headers, figures' alternative
    text, the document's language and title), for readers who use a screen reader."""
    import logging

    from weasyprint import HTML
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # fontTools stamps the font subsets it embeds with the current time unless SOURCE_DATE_EPOCH is set;
    # a fixed stamp makes equal reports equal bytes.
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        document = HTML(string=html_text, base_url=str(base) + "/").render(pdf_variant=PDF_VARIANT)
        return document.write_pdf(pdf_identifier=b"wsd-leernetwerken", pdf_variant=PDF_VARIANT), len(document.pages)
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


# ---------------------------------------------------------------------------------------- publish

@dataclass
class Published:
    out: Path
    files: list[Path]
    pages: int


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def word_reference(templates: Path | None) -> Path:
    """The reference document of the Word edition: reference.docx in the user's template folder if it
    has one, else the shipped templates/reference.docx."""
    if templates and (templates / "reference.docx").is_file():
        return templates / "reference.docx"
    return DEFAULT_TEMPLATES / "reference.docx"


def _write_pdf(html_text: str, *, base: Path, out: Path) -> int:
    pdf, pages = render_pdf(html_text, base=base)
    out.write_bytes(pdf)
    return pages


def publish(*, processed: Path, out: Path, html_text: str, manifest: dict, guard: dict | None = None,
            log: str = "", context: dict | None = None, reference: Path | None = None,
            pending: list | None = None) -> Published:
    """Assemble the output folder beside OUT and move it into place only when complete; OUT is replaced
    only when the pipeline made it (see pipeline.waves.output_folder). With the template `context`, the folder
    also gets the Word edition, report.docx, in the look of `reference` (templates/reference.docx if none).
    `pending` are background jobs still writing processed/figures (the PNG and PDF files)."""
    guard = guard or {}
    out = output_folder.check_output_folder(out, **guard)
    staging = output_folder.new_staging(out)
    pdf_job = None
    try:
        shutil.copytree(processed / "tables", staging / "tables")
        shutil.copy2(processed / "tables.xlsx", staging / "tables.xlsx")
        (staging / "report.html").write_text(html_text, encoding="utf-8")
        (staging / "run.log").write_text(log, encoding="utf-8")
        # The PDF layout is the longest step: a second process does it (from the SVG figures in processed/)
        # while this one waits for the figures' PNG and PDF files and writes the Word edition from them.
        # A function and its arguments (not a closure), so that a fresh interpreter can be handed it.
        pdf_job = Job(partial(_write_pdf, html_text, base=processed, out=staging / "report.pdf"),
                      what="the PDF (WeasyPrint)")
        wait_all(pending or [])
        shutil.copytree(processed / "figures", staging / "figures", ignore=shutil.ignore_patterns(".*"))
        if context is not None:
            write_docx(context, out=staging / "report.docx", folder=staging, reference=reference, html=html_text)
        pages = pdf_job.wait()
        files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != output_folder.STAGING_MARK)
        manifest = {**manifest, "outputs": {str(p.relative_to(staging)): _sha256(p) for p in files}}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                               encoding="utf-8")
        output_folder.swap_in(staging, out, **guard)
    except BaseException:
        if pdf_job is not None:
            pdf_job.stop()
        output_folder.discard_staging(staging)
        raise
    return Published(out=out, files=sorted(out.rglob("*")), pages=pages)


def file_hashes(paths: list[Path], *, root: Path) -> dict[str, str]:
    """SHA-256 of each file, keyed by its path relative to `root` where possible."""
    out = {}
    for path in sorted(paths):
        try:
            key = str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            key = str(path)
        out[key] = _sha256(path)
    return out


def run_date() -> date:
    """Today, or the day SOURCE_DATE_EPOCH names (for reproducible builds)."""
    from datetime import datetime, timezone
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise PipelineError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970.")
    return datetime.now(timezone.utc).date()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": platform.python_version()}
    for package in ("pandas", "pyarrow", "openpyxl", "matplotlib", "Jinja2", "weasyprint", "python-docx",
                    "snowballstemmer"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def manifest(*, config: Config, processed: Path, templates: Path | None, texts_folders: list[Path],
             day: date) -> dict:
    """The manifest of a report folder (its outputs' hashes are added when the folder is complete): the
    inputs, the config, templates and texts with their hashes, the versions, and the settings ingest used."""
    ingest_summary = json.loads((processed / "ingest.json").read_text(encoding="utf-8"))
    template_files = sorted(p for folder in (templates, DEFAULT_TEMPLATES) if folder
                            for p in folder.rglob("*") if p.is_file())
    text_files = sorted(p for folder in texts_folders for p in folder.glob("*.md"))
    return {
        "pipeline_version": __version__, "codebook_version": config.codebook.version, "run_date": day.isoformat(),
        "inputs": {"export": ingest_summary["export_file"], "supplement": ingest_summary.get("supplement_file")},
        "config": file_hashes(config.files, root=config.folder.parent),
        "templates": file_hashes(template_files, root=PROJECT_ROOT),
        "texts": file_hashes(text_files, root=PROJECT_ROOT),
        "versions": _versions(),
        "settings": {**(ingest_summary.get("settings") or {}),
                     "user_templates": str(templates) if templates else None,
                     "user_texts": str(texts_folders[0]) if len(texts_folders) > 1 else None},
    }


def report_html(config: Config, *, processed: Path, templates: Path | None = None, texts: Path | None = None,
                day: date, tables: list[Table] | None = None, wave=None,
                status: ReportStatus | None = None, style: Style | None = None) -> tuple[str, dict]:
    """The report's HTML from `processed` and the template context it was rendered from (the preview
    shows this HTML alone; the stage also prints it to PDF and Word)."""
    if texts and not texts.is_dir():
        raise PipelineError(f"{texts}: not a folder; give the folder that holds your inleiding.md and the others.")
    if templates and not templates.is_dir():
        raise PipelineError(f"{templates}: not a folder; give the folder with your templates.")
    texts_folders = [f for f in (texts, DEFAULT_TEXTS) if f]
    context = build_context(processed=processed, config=config, texts=read_texts(folders=texts_folders),
                            run_date=day, tables=tables, wave=wave, status=status, style=style)
    return render_html(context, user_templates=templates), context


def run(ctx: Context) -> None:
    """The stage: the report rendered from the processed folder (and the typed tables of aggregate, when
    in the run) and the output folder published; ctx.report gets its folder, pages and draft mark."""
    status = report_status(ctx.config, processed=ctx.processed, wave=ctx.wave, texts=ctx.texts)
    ctx.warn(status.warnings)
    ctx.tell("render     report.html and report.pdf" + (" (marked as a draft)" if status.draft else ""))
    published, networks_shown = render_report(ctx.config, processed=ctx.processed, out=ctx.out, templates=ctx.templates,
                                       texts=ctx.texts, tables=ctx.frames.get("tables"), guard=ctx.guard,
                                       wave=ctx.wave, status=status, log=ctx.log, pending=ctx.background,
                                       style=ctx.style)
    ctx.say(f"render     {published.pages} PDF pages, {networks_shown} networks in Bijlage 2; {ctx.out} is complete")
    ctx.report.update(out=published.out, pages=published.pages, draft=status.draft)


def render_report(config: Config, *, processed: Path, out: Path, templates: Path | None = None, texts: Path | None = None,
           tables: list[Table] | None = None, guard: dict | None = None, wave=None,
           status: ReportStatus | None = None, log: list[str] = (), pending: list | None = None,
           style: Style | None = None) -> tuple[Published, int]:
    """The report rendered from `processed` (and the typed tables, when given) and the output folder
    published; gives the published folder and the number of networks in Bijlage 2. `pending`:
    background jobs still writing figures (see publish)."""
    texts_folders = [f for f in (texts, DEFAULT_TEXTS) if f]
    day = run_date()
    html_text, context = report_html(config, processed=processed, templates=templates, texts=texts, day=day,
                                     tables=tables, wave=wave, status=status, style=style)
    record = manifest(config=config, processed=processed, templates=templates, texts_folders=texts_folders, day=day)
    if style is not None:
        record["style"] = file_hashes(style.files, root=PROJECT_ROOT)
    record["wave"] = wave.name if wave else None
    record["draft"] = context["meta"]["draft"]
    published = publish(processed=processed, out=out, html_text=html_text, manifest=record, guard=guard,
                        log="".join(f"{line}\n" for line in log), context=context,
                        reference=word_reference(templates), pending=pending)
    return published, len(context["networks"])
