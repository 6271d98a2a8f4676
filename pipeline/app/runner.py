"""The pipeline as a library call: one table of stages, and `run_pipeline`, which runs them in order.

The table says, for each stage, what it reads and writes in data/processed, its modules and the config
files it depends on; `run --from/--to` and the Makefile follow it (a test holds the Makefile to it).
Each stage hands its frames to the next in memory; a stage that does not run is read from `processed`.

    from pipeline import run_pipeline
    result = run_pipeline(wave="2018")                                  # everything from waves/2018/wave.yaml
    result = run_pipeline(export="data/raw/export.csv", out="reports/probeersel")   # no wave: a draft
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline.core.config import Config, load_config
from pipeline.core.files import CONFIG_DIR, PROJECT_ROOT
from pipeline.core.errors import PipelineError


@dataclass(frozen=True)
class Stage:
    name: str
    modules: tuple[str, ...]     # pipeline/<package>/<module>.py files it runs
    config: tuple[str, ...]      # files of the config folder it depends on
    reads: tuple[str, ...]       # files in data/processed it reads when run on its own
    writes: tuple[str, ...]      # files in data/processed it writes; the first is its Makefile target
    wave: tuple[str, ...] = ()   # files of the wave folder it depends on


STAGES = (
    Stage("ingest", ("reading/ingest", "reading/qualtrics", "reading/deidentify"), ("instrument.yaml", "settings.yaml", "not_names.txt"), (),
          ("responses.parquet", "drops.csv", "column_mapping.csv", "ingest.json"), ("wave.yaml",)),
    Stage("normalise", ("analysis/normalise", "language/matching"), ("taxonomies.yaml", "instrument.yaml"), ("responses.parquet",),
          ("networks.parquet", "involvement.parquet", "unmatched_groups.csv", "normalise.json")),
    Stage("code", ("coding/rules", "language/matching"), ("codebook.yaml",), ("networks.parquet",),
          ("codes.parquet", "code_audit.csv", "coding.json"), ("coding_corrections.csv",)),
    Stage("aggregate", ("analysis/aggregate", "core/excel", "waves/compare", "analysis/spss", "coding/quotes"), ("codebook.yaml", "taxonomies.yaml", "instrument.yaml"),
          ("codes.parquet", "networks.parquet", "involvement.parquet"),
          ("tables.json", "tables.xlsx", "typed/", "tables/", "quotes.json"), ("network_links.csv", "quotes.csv")),
    Stage("charts", ("publishing/charts", "core/style", "core/background"), ("instrument.yaml", "style.yaml"), ("tables.json",),
          ("charts.json", "figures/"), ("style.yaml",)),
    Stage("render", ("publishing/render", "publishing/word", "publishing/word_text", "publishing/word_fields",
                     "publishing/word_tables", "publishing/word_figures", "publishing/word_body", "language/formatting",
                     "waves/output_folder", "coding/sheet", "waves/wave", "core/style", "core/background"),
          ("instrument.yaml", "codebook.yaml", "taxonomies.yaml", "style.yaml"),
          ("tables.json", "charts.json", "networks.parquet", "involvement.parquet", "ingest.json", "normalise.json",
           "coding.json", "quotes.json"), (), ("wave.yaml", "coding_reviews.csv", "style.yaml")),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


@dataclass
class RunResult:
    """What a run did: the files it wrote (the output folder's, when render ran) and its warnings."""

    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    out: Path | None = None
    pages: int | None = None
    draft: bool | None = None


def _data_time(processed: Path) -> datetime:
    """The time the outputs carry inside (workbook properties): the last response, so reruns give equal bytes."""
    import json
    path = processed / "ingest.json"
    last = json.loads(path.read_text(encoding="utf-8")).get("last_response") if path.exists() else None
    moment = datetime.fromisoformat(last) if last else datetime(2000, 1, 1, tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def sources_of(*, templates, texts, config: Config) -> list[Path]:
    """The folders whose files a run reads and hashes: the output folder may not lie inside one."""
    from pipeline.publishing.render import DEFAULT_TEMPLATES, DEFAULT_TEXTS
    return [Path(p) for p in (templates, texts, DEFAULT_TEMPLATES, DEFAULT_TEXTS, config.folder) if p is not None]


def inputs_of(*, export, supplement, templates, texts, config: Config, processed: Path) -> list[Path]:
    """Every file and folder a run reads: the output folder may not hold one of them."""
    return [Path(p) for p in (export, supplement, processed) if p is not None] + \
        sources_of(templates=templates, texts=texts, config=config)


def _previous(wave):
    """The previous wave's tables (from its processed folder), or None when the wave names none."""
    from pipeline.analysis.aggregate import Previous
    from pipeline.core.wave_files import load_links
    from pipeline.core.schemas import CODES, INVOLVEMENT, NETWORKS, read_parquet
    before = wave.previous_wave()
    if before is None:
        return None
    for name in ("networks.parquet", "involvement.parquet", "codes.parquet"):
        if not (before.processed / name).exists():
            raise PipelineError(f"wave {wave.name} is compared with wave {before.name}, whose tables are not built "
                                f"yet ({before.processed / name}); build it first: make report WAVE={before.name}.")
    return Previous(name=before.name,
                    networks=read_parquet(before.processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q"),
                    involvement=read_parquet(before.processed / "involvement.parquet", schema=INVOLVEMENT),
                    codes=read_parquet(before.processed / "codes.parquet", schema=CODES),
                    links=load_links(wave.links))


def run_pipeline(*, wave=None, export: str | Path | None = None, supplement: str | Path | None = None,
                 out: str | Path | None = None, processed: str | Path | None = None,
                 config: Config | str | Path = CONFIG_DIR, templates: str | Path | None = None,
                 texts: str | Path | None = None, corrections: str | Path | None = None,
                 quotes: str | Path | None = None, start: str | list[str] = "ingest", stop: str = "render", keep_unfinished: bool | None = None,
                 say: Callable[[str], None] = lambda line: None,
                 defer: Callable[[Callable[[], None]], None] | None = None) -> RunResult:
    """Run the stages from the earliest of `start` to `stop`, into `processed` and `out`.

    `wave` (a name or a pipeline.waves.wave.Wave) gives the export, supplement, texts, templates, corrections,
    quote decisions, settings and the folders; anything given here as well wins. Without a wave, `processed` defaults to
    data/processed and the report is a draft. `config` is a loaded Config or the folder to load it from.
    `say` receives one line per stage and per warning (the command line prints them). Raises
    PipelineError with a message for the researcher. The figures' PNG and PDF files are written by a forked
    second process while the report is rendered (see pipeline.core.background; render lays out the report's
    PDF in one too); with `defer`, they are handed to it as a function to call instead (the preview, which
    runs threads of its own, writes them after it has served the new HTML)."""
    from pipeline.waves.wave import Wave, load_wave
    if isinstance(wave, str):
        wave = load_wave(wave)
    if isinstance(wave, Wave):
        export = export if export is not None else wave.export
        supplement = supplement if supplement is not None else wave.supplement
        out = out if out is not None else wave.out
        processed = processed if processed is not None else wave.processed
        templates = templates if templates is not None else wave.templates
        texts = texts if texts is not None else wave.texts
        corrections = corrections if corrections is not None else wave.corrections
        quotes = quotes if quotes is not None else wave.quotes
    # Without a wave: the project's data/processed, wherever the command is started from.
    processed = processed if processed is not None else PROJECT_ROOT / "data" / "processed"
    starts = [start] if isinstance(start, str) else list(start)
    unknown = [s for s in [*starts, stop] if s not in STAGE_NAMES]
    if unknown:
        raise PipelineError(f"run: unknown stage {unknown[0]!r}; the stages are {', '.join(STAGE_NAMES)}.")
    first, last = min(STAGE_NAMES.index(s) for s in starts), STAGE_NAMES.index(stop)
    if first > last:
        raise PipelineError(f"run: --from {STAGE_NAMES[first]} comes after --to {stop}.")
    if first == 0 and export is None:
        raise PipelineError("run: give the export with --export (or start later with --from).")
    if last == STAGE_NAMES.index("render") and out is None:
        raise PipelineError("run: give the output folder with --out (or stop earlier with --to).")
    if isinstance(config, (str, Path)):
        config = load_config(Path(config), **{**(wave.settings if wave else {}), "keep_unfinished": keep_unfinished})
    from pipeline.core.style import load_style, style_path
    style = load_style(style_path(wave_folder=wave.folder if wave else None, config_folder=config.folder))
    processed = Path(processed)
    export, supplement, corrections, quotes = (Path(p) if p is not None else None
                                               for p in (export, supplement, corrections, quotes))
    templates, texts, out = (Path(p) if p is not None else None for p in (templates, texts, out))
    guard = {"inputs": inputs_of(export=export, supplement=supplement, templates=templates, texts=texts,
                                 config=config, processed=processed),
             "sources": sources_of(templates=templates, texts=texts, config=config)}
    if out is not None and last == STAGE_NAMES.index("render"):
        # Before any stage runs: a wrong --out is refused with nothing written.
        from pipeline.waves.output_folder import check_output_folder
        check_output_folder(out, **guard)

    def due(name: str) -> bool:
        return first <= STAGE_NAMES.index(name) <= last

    result = RunResult()
    log: list[str] = []   # what the run said, for run.log in the output folder

    def tell(line: str) -> None:
        log.append(line)
        say(line)

    def warn(warnings):
        for warning in warnings:
            tell(f"warning    {warning}")
        result.warnings += warnings

    responses = networks = involvement = codes = tables = None
    if due("ingest"):
        from pipeline.reading import ingest
        tell(f"ingest     reading {export}")
        ingested, written = ingest.run(config, export=export, supplement=supplement, processed=processed)
        s = ingested.summary()
        dropped = ", ".join(f"{v} {k}" for k, v in s["dropped"].items() if v) or "none"
        from_supplement = int((ingested.responses["source"] == "supplement").sum())
        tell(f"ingest     {s['format']} export, {s['responses']} responses: {s['kept']} kept, dropped {dropped}; "
            f"{s['items_mapped']} of {len(config.instrument.items)} items mapped"
            + (f"; {from_supplement} networks from the supplement" if from_supplement else ""))
        warn(ingested.warnings)
        result.written += written
        responses, ingested = ingested.responses, None
    # Each frame is let go as soon as no later stage needs it: a large export's tables add up.
    if due("normalise"):
        from pipeline.analysis import normalise
        normalised, written = normalise.run(config, processed=processed, responses=responses)
        responses = None
        unmatched = len(normalised.unmatched_groups)
        tell(f"normalise  {len(normalised.networks)} networks, {len(normalised.involvement)} participant categories"
            + (f"; {unmatched} category label(s) match no participant group (see unmatched_groups.csv)"
               if unmatched else ""))
        warn(normalised.warnings)
        result.written += written
        networks, involvement = normalised.networks, normalised.involvement
    if due("code"):
        from pipeline.coding import rules as coding
        coded, written = coding.run(config, processed=processed, networks=networks, corrections=corrections)
        manual = int((coded.codes["origin"] == "manual").sum())
        tell(f"code       codebook {config.codebook.version}: {len(coded.codes)} codes in "
             f"{coded.codes['network_id'].nunique()} networks ({manual} manual); {len(coded.audit)} correction(s)"
             + (f", {coded.stale} stale" if coded.stale else ""))
        warn(coded.warnings)
        result.written += written
        codes = coded.codes
    if due("aggregate"):
        from pipeline.analysis import aggregate
        from pipeline.core.schemas import CODES, INVOLVEMENT, NETWORKS, read_parquet
        if networks is None:
            networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
        if involvement is None:
            involvement = read_parquet(processed / "involvement.parquet", schema=INVOLVEMENT)
        if codes is None:
            codes = read_parquet(processed / "codes.parquet", schema=CODES)
        previous = _previous(wave) if wave is not None else None
        tables, written, notes = aggregate.run(config, networks=networks, involvement=involvement, codes=codes,
                                               processed=processed, timestamp=_data_time(processed),
                                               previous=previous, quotes=quotes)
        networks = involvement = codes = None
        tell(f"aggregate  {len(tables)} tables" + (f", compared with wave {previous.name}" if previous else ""))
        warn(notes)
        result.written += written
    # The figures' PNG and PDF are written in a second process while render lays out the report (which
    # shows the SVG); render waits for them before it copies the figures, and so does a run without render.
    figure_files: list = []
    try:
        if due("charts"):
            from pipeline.publishing import charts
            from pipeline.analysis.aggregate import read_tables
            from pipeline.core.background import Job
            if tables is None:
                tables = read_tables(processed)
            written = charts.run(config, tables=tables, processed=processed, style=style,
                                 defer=defer or (lambda write: figure_files.append(Job(write,
                                                                                       what="writing the figures"))))
            tell(f"charts     {sum(p.suffix == '.pdf' for p in written)} figures, each as PNG, SVG, PDF and CSV")
            result.written += written
        if due("render"):
            from pipeline.publishing import render
            status = render.report_status(config, processed=processed, wave=wave, texts=texts)
            warn(status.warnings)
            tell("render     report.html and report.pdf" + (" (marked as a draft)" if status.draft else ""))
            published, networks_shown = render.run(config, processed=processed, out=out, templates=templates,
                                                   texts=texts, tables=tables, guard=guard, wave=wave,
                                                   status=status, log=log, pending=figure_files, style=style)
        from pipeline.core.background import wait_all
        wait_all(figure_files)
    except PipelineError:
        from pipeline.core.background import wait_all
        try:   # the figures are finished all the same, so that processed/figures is whole
            wait_all(figure_files)
        except PipelineError:
            pass
        raise
    except BaseException:
        for job in figure_files:
            job.stop()
        raise
    if due("render"):
        say(f"render     {published.pages} PDF pages, {networks_shown} networks in Bijlage 2; {out} is complete")
        result.out, result.pages, result.draft = published.out, published.pages, status.draft
        result.written = [out / "report.html", out / "report.pdf", out / "tables.xlsx", out / "manifest.json",
                          out / "tables", out / "figures"]
    return result
