"""Render: the report as HTML and PDF from the tables, figures and texts, and the output folder.

Builds the template context from the files in data/processed (it computes nothing the earlier stages
did not), renders templates/report.html with Jinja (a user template folder is searched first, and
"default:report.html" always names the shipped template), prints the same HTML to PDF with WeasyPrint,
and moves the complete output folder into place in one step.
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
from datetime import date
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from pipeline import __version__, output_folder
from pipeline.aggregate import YES_NO_TABLES
from pipeline.config import PROJECT_ROOT, Instrument
from pipeline.errors import PipelineError
from pipeline.schemas import INVOLVEMENT, NETWORKS, read_parquet

DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"
DEFAULT_TEXTS = PROJECT_ROOT / "texts"
TEXT_FILES = ("inleiding", "conclusies", "discussie")
LEVEL_MARKS = {1: "ZL", 2: "L", 3: "G", 4: "H", 5: "ZH"}
MAX_ANSWER = 4000   # characters of one answer shown in the report; longer ones are cut with a note
DROP_LABELS = {"preview": "voorbeeldweergave (preview)", "test": "testantwoord", "spam": "als spam gemarkeerd",
               "unfinished": "niet afgemaakt", "duplicate": "eerdere inzending van hetzelfde netwerk"}
FIGURE_CAPTIONS = {
    "betrokkenheid": "Betrokkenheid per deelnemersgroep: aandeel van de deelnemerscategorieën per niveau.",
    "status": "Leernetwerken naar huidige status.",
    "startjaren": "Leernetwerken naar startjaar.",
    "initiatiefnemers": "Leernetwerken naar type initiatiefnemer.",
    "themas_q23": "Werkzame elementen en randvoorwaarden: aantal netwerken dat een thema noemt.",
    "themas_q17": "Kansen en uitdagingen: aantal netwerken dat een thema noemt.",
    "werkvormen": "Werkvormen en methodieken: aantal netwerken dat een werkvorm noemt.",
}


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


def read_texts(*, folders: list[Path]) -> dict[str, str]:
    """The researchers' own texts (inleiding, conclusies, discussie) as HTML; the first folder that
    has a file wins. A missing text is an error naming where to put it."""
    texts = {}
    for name in TEXT_FILES:
        for folder in folders:
            path = folder / f"{name}.md"
            if path.exists():
                texts[name] = Markup(text_to_html(path.read_text(encoding="utf-8"), hard_breaks=False))
                break
        else:
            raise PipelineError(f"text {name}.md not found in {', '.join(map(str, folders))}; "
                                f"write it there (paragraphs separated by a blank line).")
    return texts


# ---------------------------------------------------------------------------------------- context

def _csv_table(folder: Path, name: str, titles: dict) -> dict:
    path = folder / "tables" / f"{name}.csv"
    if not path.exists():
        raise PipelineError(f"{path}: not found; run the aggregate stage first (make report).")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    title, note = titles.get(name, (name, ""))
    return {"name": name, "title": title, "note": note, "columns": list(frame.columns),
            "rows": frame.values.tolist(), "records": frame.to_dict(orient="records"),
            "csv": f"tables/{name}.csv"}


def _instrument_context(instrument: Instrument) -> list[dict]:
    items = []
    for item in instrument.items:
        wording = _inline(item.wording)
        items.append({"id": item.id, "number": item.number, "type": item.type, "wording_html": wording,
                      "personal": item.personal,
                      "choices": [{"value": c.value, "label": c.label, "text_entry": c.text_entry} for c in item.choices],
                      "rows": [r.label for r in item.rows],
                      "scale": [{"value": c.value, "label": c.label, "short": c.short} for c in item.scale]})
    return items


def build_context(*, processed: Path, instrument: Instrument, codebook, taxonomies, texts: dict[str, str],
                  run_date: date, table_titles: dict[str, tuple[str, str]]) -> dict:
    """Everything the templates show; see templates/CONTEXT.md for each key."""
    def summary(name):
        path = processed / name
        if not path.exists():
            raise PipelineError(f"{path}: not found; run the earlier stages first (make report).")
        return json.loads(path.read_text(encoding="utf-8"))

    ingest, normalise_summary, coding = summary("ingest.json"), summary("normalise.json"), summary("coding.json")
    networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
    involvement = read_parquet(processed / "involvement.parquet", schema=INVOLVEMENT)
    tables = {name: _csv_table(processed, name, table_titles) for name in table_titles}
    group_labels = {c.code: c.label.split(" (")[0] for c in taxonomies.participant_groups}
    methods = {r["Leernetwerk"] + "\x00" + r["Werkplaats"]: r["Werkvormen"] for r in tables["werkvormen"]["records"]}
    yes_no = {item: table_titles[name][0].rsplit(" (", 1)[0] for item, (name, _) in YES_NO_TABLES.items()}

    long_answers = []

    def shown(network_id: str, item: str, text: str) -> str:
        if len(text) <= MAX_ANSWER:
            return text
        long_answers.append(f"{item} of {network_id} has {len(text):,} characters; the report shows the first "
                            f"{MAX_ANSWER:,} (the whole answer is in data/processed/networks.parquet).")
        return text[:MAX_ANSWER].rsplit(" ", 1)[0] + f" … [ingekort: {len(text):,} tekens]".replace(",", ".")

    network_list = []
    for n in networks.to_dict(orient="records"):
        people = involvement[involvement["network_id"] == n["network_id"]].sort_values("row")
        network_list.append({
            "id": n["network_id"], "werkplaats": n["werkplaats"], "name": n["name"], "initiator": n["initiator"],
            "start_text": n["start_text"] or "-", "status": n["status"], "stop_reason": n["stop_reason"],
            "source": n["source"],
            "text": {item: shown(n["network_id"], item, n.get(item, "") or "")
                     for item in ("q7", "q8", "q9", "q10", "q11", "q17", "q19", "q23")},
            "participants": [{"label": p["category_label"],
                              "head_count": None if pd.isna(p["head_count"]) else int(p["head_count"]),
                              "group": group_labels.get(p["participant_group"], p["participant_group"]),
                              "level": None if pd.isna(p["level"]) else LEVEL_MARKS[int(p["level"])]}
                             for p in people.to_dict(orient="records")],
            "yes_no": [{"item": item, "question": question, "answer": n.get(item, ""),
                        "text": shown(n["network_id"], item, n.get(f"{item}_text", "") or "")}
                       for item, question in yes_no.items()],
            "methods": methods.get(n["name"] + "\x00" + n["werkplaats"], ""),
        })

    figures = {}
    for name, caption in FIGURE_CAPTIONS.items():
        if (processed / "figures" / f"{name}.png").exists():
            figures[name] = {"name": name, "caption": caption,
                             **{fmt: f"figures/{name}.{fmt}" for fmt in ("png", "svg", "pdf", "csv")}}
    dropped = [{"reason": r, "label": DROP_LABELS.get(r, r), "count": c} for r, c in ingest["dropped"].items() if c]
    scale = instrument.item("q12").scale
    return {
        "meta": {
            "title": "Rapport leernetwerken Werkplaatsen Sociaal Domein",
            "subtitle": "Inventarisatie van de leernetwerken van de Werkplaatsen Sociaal Domein",
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
            "warnings": ingest["warnings"] + normalise_summary["warnings"] + coding["warnings"] + long_answers,
            "codes": coding["codes"], "manual_codes": coding["manual"],
        },
        "texts": texts,
        "tables": tables,
        "figures": figures,
        "themes": {item: [t for t in tables[f"themas_{item}"]["records"] if t["Netwerken"] != "0"]
                   for item in codebook.items},
        "categories": {code: c["label"] for code, c in codebook.categories.items()},
        "networks": network_list,
        "werkplaatsen": list(dict.fromkeys(n["werkplaats"] for n in network_list)),
        "participant_groups": [{"code": c.code, "label": c.label} for c in taxonomies.participant_groups],
        "level_marks": [{"mark": LEVEL_MARKS[c.value], "label": c.label} for c in scale],
        "instrument": _instrument_context(instrument),
    }


def _date(value: str | None) -> date | None:
    return pd.Timestamp(value).date() if value else None


# ------------------------------------------------------------------------------------------ jinja

def environment(*, user_templates: Path | None):
    """Jinja with the user's folder first, then the defaults; "default:<name>" always means the default."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined

    from pipeline import dutch_format
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
        where = f" (line {exc.lineno} of {exc.name})" if getattr(exc, "lineno", None) and getattr(exc, "name", None) else ""
        raise PipelineError(f"template error{where}: {exc.message if hasattr(exc, 'message') else exc}. "
                            "Fix the template; see templates/CONTEXT.md for the fields you can use.")


def render_pdf(html_text: str, *, base: Path) -> tuple[bytes, int]:
    """The PDF of the report HTML and its page count; `base` is the folder relative links resolve against."""
    import logging

    from weasyprint import HTML
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # fontTools stamps the font subsets it embeds with the current time unless SOURCE_DATE_EPOCH is set;
    # a fixed stamp makes equal reports equal bytes.
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        document = HTML(string=html_text, base_url=str(base) + "/").render()
        return document.write_pdf(pdf_identifier=b"wsd-leernetwerken"), len(document.pages)
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


def publish(*, processed: Path, out: Path, html_text: str, manifest: dict, inputs=()) -> Published:
    """Assemble the output folder beside OUT and move it into place only when complete; OUT is replaced
    only when the pipeline made it (see pipeline.output_folder)."""
    out = output_folder.check_output_folder(out, inputs=inputs)
    staging = output_folder.new_staging(out)
    try:
        shutil.copytree(processed / "tables", staging / "tables")
        shutil.copytree(processed / "figures", staging / "figures", ignore=shutil.ignore_patterns(".*"))
        shutil.copy2(processed / "tables.xlsx", staging / "tables.xlsx")
        (staging / "report.html").write_text(html_text, encoding="utf-8")
        pdf, pages = render_pdf(html_text, base=staging)
        (staging / "report.pdf").write_bytes(pdf)
        files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != output_folder.STAGING_MARK)
        manifest = {**manifest, "outputs": {str(p.relative_to(staging)): _sha256(p) for p in files}}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                               encoding="utf-8")
        output_folder.swap_in(staging, out, inputs=inputs)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
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
