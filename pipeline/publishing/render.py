"""Render: the report as HTML and PDF from the tables, figures and texts, and the output folder.

Takes the template context (pipeline.publishing.context, from the files in the processed folder) and
renders templates/report.html with Jinja (a user template folder is searched first, and
"default:report.html" always names the shipped template), prints the same HTML to PDF with WeasyPrint,
writes the Word edition from the same context (pipeline.publishing.word, on the wave's reference.docx),
and moves the complete output folder into place in one step.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from dataclasses import dataclass
from functools import partial
from datetime import date
from pathlib import Path

from markupsafe import Markup

from pipeline import __version__

from pipeline.waves import output_folder
from pipeline.analysis.aggregate import Table
from pipeline.core.config import Config
from pipeline.core.files import PROJECT_ROOT
from pipeline.core.errors import PipelineError
from pipeline.core.stage import Context
from pipeline.core.style import Style
from pipeline.core.background import Job, wait_all
from pipeline.language import formatting as dutch_format
from pipeline.publishing.pdf_tags import finish as finish_tags
from pipeline.publishing.word import build_docx, finish_docx
from pipeline.core.files import DEFAULT_TEMPLATES, DEFAULT_TEXTS
from pipeline.publishing.texts import read_texts, text_to_html
from pipeline.publishing.context import ReportStatus, build_context, report_status
from pipeline.publishing.typesetting import hyphenate_html, report_names

PDF_VARIANT = "pdf/ua-1"   # tagged, for screen readers (the public sector's accessibility rules)


# ------------------------------------------------------------------------------------------ texts


# ---------------------------------------------------------------------------------------- context


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
    env.filters["answer"] = lambda text: Markup(text_to_html(dutch_format.amounts(text or "")))
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
    The PDF is tagged as PDF/UA-1 asks (structure in reading order, table headers with their scope,
    figures' alternative text, page furniture as artifacts, links described in words, the document's
    language and title), for readers who use a screen reader: WeasyPrint tags it, and
    pipeline.publishing.pdf_tags finishes what WeasyPrint leaves out."""
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
        pdf = document.write_pdf(pdf_identifier=b"wsd-leernetwerken", pdf_variant=PDF_VARIANT)
        return finish_tags(pdf, html=html_text), len(document.pages)
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
            pending: list | None = None, pdf_html: str | None = None) -> Published:
    """Assemble the output folder beside OUT and move it into place only when complete; OUT is replaced
    only when the pipeline made it (see pipeline.waves.output_folder). With the template `context`, the folder
    also gets the Word edition, report.docx, in the look of `reference` (templates/reference.docx if none).
    `pending` are background jobs still writing processed/figures (the PNG and PDF files). `pdf_html` is
    the HTML the PDF is laid out from, when it differs from report.html (its soft hyphens)."""
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
        pdf_job = Job(partial(_write_pdf, pdf_html or html_text, base=processed, out=staging / "report.pdf"),
                      what="the PDF (WeasyPrint)")
        wait_all(pending or [])
        shutil.copytree(processed / "figures", staging / "figures", ignore=shutil.ignore_patterns(".*"))
        word = build_docx(context, folder=staging, reference=reference, html=html_text) if context is not None else None
        pages = pdf_job.wait()
        if word is not None:   # its contents gives each heading's page of the PDF
            finish_docx(word, out=staging / "report.docx", pdf=staging / "report.pdf")
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
    written = read_texts(folders=texts_folders, waves_dir=wave.folder.parent if wave else None)
    context = build_context(processed=processed, config=config, texts=written,
                            run_date=day, tables=tables, wave=wave, status=status, style=style)
    return render_html(context, user_templates=templates), context


def run(ctx: Context) -> None:
    """The stage: the report rendered from the processed folder (and the typed tables of aggregate, when
    in the run) and the output folder published; ctx.report gets its folder, pages and draft mark."""
    status = report_status(ctx.config, processed=ctx.processed, wave=ctx.wave, texts=ctx.texts)
    ctx.warn(status.warnings)
    ctx.tell("render     report.html, report.pdf and report.docx" + (" (marked as a draft)" if status.draft else ""))
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
    meta = context["meta"]
    record["report"] = {"title": meta["title"], "authors": meta["authors"], "version": meta["version"],
                        "published": meta["published"].isoformat() if meta["published"] else None}
    published = publish(processed=processed, out=out, html_text=html_text, manifest=record, guard=guard,
                        log="".join(f"{line}\n" for line in log), context=context,
                        reference=word_reference(templates), pending=pending,
                        pdf_html=hyphenate_html(html_text, names=report_names(context, config.taxonomies)))
    return published, len(context["networks"])
