"""The pipeline as a library call: one table of stages, and `run_pipeline`, a loop over it.

run_pipeline runs the rows of pipeline.app.stages.STAGES from --from to --to, handing each stage's
frames to the next in memory; a stage that does not run is read from the processed folder by the next one.

    from pipeline import run_pipeline
    result = run_pipeline(wave="2018")                                  # everything from waves/2018/wave.yaml
    result = run_pipeline(export="data/raw/export.csv", out="reports/probeersel")   # no wave: a draft
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.core.background import wait_all
from pipeline.core.config import Config, load_config
from pipeline.core.errors import PipelineError
from pipeline.core.files import CONFIG_DIR, PROJECT_ROOT
from pipeline.app.stages import STAGE_NAMES, STAGES
from pipeline.core.stage import Context
from pipeline.core.style import load_style, style_path
from pipeline.core.files import DEFAULT_TEMPLATES, DEFAULT_TEXTS
from pipeline.waves.output_folder import check_output_folder
from pipeline.waves.wave import Wave, load_wave



@dataclass
class RunResult:
    """What a run did: the files it wrote (the output folder's, when render ran) and its warnings."""

    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    out: Path | None = None
    pages: int | None = None
    draft: bool | None = None


def sources_of(*, templates, texts, config: Config) -> list[Path]:
    """The folders whose files a run reads and hashes: the output folder may not lie inside one."""
    return [Path(p) for p in (templates, texts, DEFAULT_TEMPLATES, DEFAULT_TEXTS, config.folder) if p is not None]


def inputs_of(*, export, supplement, templates, texts, config: Config, processed: Path) -> list[Path]:
    """Every file and folder a run reads: the output folder may not hold one of them."""
    return [Path(p) for p in (export, supplement, processed) if p is not None] + \
        sources_of(templates=templates, texts=texts, config=config)


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
        check_output_folder(out, **guard)

    ctx = Context(config=config, processed=processed, wave=wave if isinstance(wave, Wave) else None,
                  export=export, supplement=supplement, corrections=corrections, quotes=quotes, out=out,
                  templates=templates, texts=texts, style=style, guard=guard, defer=defer, say=say)
    due = STAGES[first:last + 1]
    try:
        for at, stage in enumerate(due):
            importlib.import_module(stage.module).run(ctx)
            # A frame is let go as soon as no later stage of the run takes it: a large export's tables add up.
            later = {name for s in due[at + 1:] for name in s.takes}
            ctx.frames = {name: frame for name, frame in ctx.frames.items() if name in later}
        # The figures' PNG and PDF are written in a second process while render lays out the report;
        # render waits for them before it copies the figures, and so does a run without render.
        wait_all(ctx.background)
    except PipelineError:
        try:   # the figures are finished all the same, so that processed/figures is whole
            wait_all(ctx.background)
        except PipelineError:
            pass
        raise
    except BaseException:
        for job in ctx.background:
            job.stop()
        raise
    result = RunResult(written=ctx.written, warnings=ctx.warnings)
    if ctx.report:
        result.out, result.pages, result.draft = ctx.report["out"], ctx.report["pages"], ctx.report["draft"]
        result.written = [out / "report.html", out / "report.pdf", out / "report.docx", out / "tables.xlsx",
                          out / "manifest.json", out / "tables", out / "figures"]
    return result
