"""Command line: `python -m pipeline <command>`. The only place errors become messages and exit codes.

`run` takes an export through every stage; `ingest`, `normalise` and `code` run one stage on the files in
data/processed (the Makefile calls them, so an edit re-runs only what it affects); `inspect`,
`coding-sheet`, `coding-import` and `agreement` are tools for the researcher.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from pipeline import __version__
from pipeline.config import CONFIG_DIR, load_instrument, load_settings, load_taxonomies
from pipeline.errors import PipelineError

DEFAULT_PROCESSED = Path("data/processed")
STAGES = ("ingest", "normalise", "code", "aggregate", "charts", "render")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="From a Qualtrics export of the WSD questionnaire to the report.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    parser.add_argument("--config", type=Path, default=CONFIG_DIR,
                        help="folder with instrument, settings, taxonomies, codebook and coding overrides")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def processed(p):
        p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED,
                       help="folder for the intermediate tables (default data/processed)")

    def quiet(p):
        p.add_argument("--quiet", action="store_true", help="print nothing but errors")

    inspect = sub.add_parser("inspect", help="describe an export: format, counts, drops, item mapping")
    inspect.add_argument("export", type=Path)
    inspect.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")

    run = sub.add_parser("run", help="run every stage on an export")
    run.add_argument("--export", type=Path, help="the Qualtrics export (needed when ingest runs)")
    run.add_argument("--from", dest="start", nargs="+", choices=STAGES, default=["ingest"], metavar="STAGE",
                     help="start at the earliest of these stages and read what earlier stages wrote to "
                          "--processed (`make report` passes the stages whose inputs changed)")
    run.add_argument("--to", dest="stop", choices=STAGES, default="render", metavar="STAGE",
                     help="stop after this stage (default render); `--to aggregate` gives the tables only")
    run.add_argument("--supplement", type=lambda text: Path(text) if text else None,  # "" (SUPPLEMENT=): none
                     help="CSV of networks described outside the survey")
    run.add_argument("--out", type=Path, help="folder for the report and its tables and figures (needed when render runs)")
    run.add_argument("--keep-unfinished", action="store_true", default=None,
                     help="keep responses that Qualtrics marks as not finished")
    run.add_argument("--templates", type=Path, help="your template folder, searched before templates/")
    run.add_argument("--texts", type=Path, help="your folder with inleiding.md, conclusies.md, discussie.md")
    processed(run)
    quiet(run)

    stage = sub.add_parser("ingest", help="stage 1: read the export into data/processed/responses.parquet")
    stage.add_argument("--export", type=Path, required=True)
    stage.add_argument("--supplement", type=lambda text: Path(text) if text else None)
    stage.add_argument("--keep-unfinished", action="store_true", default=None)
    processed(stage)
    quiet(stage)
    for name, text in (("normalise", "stage 2: networks and involvement from the responses"),
                       ("code", "stage 3: code the free text with the codebook and the overrides"),
                       ("aggregate", "stage 4: the report's tables as CSV and one Excel workbook"),
                       ("charts", "stage 5: the report's figures as PNG, SVG, PDF and CSV")):
        stage = sub.add_parser(name, help=text)
        processed(stage)
        quiet(stage)

    render = sub.add_parser("render", help="stage 6: the report (HTML, PDF) and the complete output folder")
    render.add_argument("--out", type=Path, required=True, help="the output folder, replaced only when complete")
    render.add_argument("--templates", type=Path, help="your template folder, searched before templates/")
    render.add_argument("--texts", type=Path, help="your folder with inleiding.md, conclusies.md, discussie.md")
    processed(render)
    quiet(render)

    sheet = sub.add_parser("coding-sheet", help="write an Excel workbook for checking the automatic codes")
    sheet.add_argument("--out", type=Path, required=True, help="the .xlsx to write")
    sheet.add_argument("--blind", action="store_true",
                       help="leave the marks empty and hide the automatic codes, for independent coding")
    processed(sheet)

    imp = sub.add_parser("coding-import", help="turn a coder's edits in the workbook into coding overrides")
    imp.add_argument("workbook", type=Path)
    imp.add_argument("--coder", help="initials to use for reviewed rows that leave 'codeur' empty")
    processed(imp)

    agree = sub.add_parser("agreement", help="Cohen's kappa per theme between the rules and the coder")
    agree.add_argument("workbook", type=Path)
    agree.add_argument("--out", type=Path, help="also write the table as CSV")
    return parser


def _say(args):
    if getattr(args, "quiet", False):
        return lambda *_: None

    def say(text: str) -> None:
        try:
            print(text, flush=True)
        except BrokenPipeError:
            # Whoever read the messages stopped (`make report | head`); the work goes on without them.
            import os
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return say


def _settings(args):
    return load_settings(args.config / "settings.yaml", keep_unfinished=getattr(args, "keep_unfinished", None))


# ----------------------------------------------------------------------------------------- stages

def _warn(say, warnings) -> None:
    for warning in warnings:
        say(f"warning    {warning}")


def _ingest(args, say):
    from pipeline.ingest import ingest, write_ingest
    say(f"ingest     reading {args.export}")
    result = ingest(export_path=args.export, supplement_path=args.supplement,
                    instrument=load_instrument(args.config / "instrument.yaml"), settings=_settings(args))
    s = result.summary()
    dropped = ", ".join(f"{v} {k}" for k, v in s["dropped"].items() if v) or "none"
    supplement = int((result.responses["source"] == "supplement").sum())
    say(f"ingest     {s['format']} export, {s['responses']} responses: {s['kept']} kept, dropped {dropped}; "
        f"{s['items_mapped']} of 24 items mapped" + (f"; {supplement} networks from the supplement" if supplement else ""))
    _warn(say, result.warnings)
    return result, write_ingest(result, args.processed)


def _normalise(args, say, responses=None):
    from pipeline.normalise import normalise, write_normalised
    from pipeline.schemas import RESPONSES, read_parquet
    if responses is None:
        responses = read_parquet(args.processed / "responses.parquet", schema=RESPONSES, extra_text_prefix="q")
    result = normalise(responses=responses, instrument=load_instrument(args.config / "instrument.yaml"),
                       taxonomies=load_taxonomies(args.config / "taxonomies.yaml"))
    unmatched = len(result.unmatched_groups)
    say(f"normalise  {len(result.networks)} networks, {len(result.involvement)} participant categories"
        + (f"; {unmatched} category label(s) match no participant group (see unmatched_groups.csv)" if unmatched else ""))
    _warn(say, result.warnings)
    return result, write_normalised(result, args.processed)


def _code(args, say, networks=None):
    from pipeline.coding import write_coded
    networks, codebook, overrides, result = _coded_networks(args, networks)
    manual = int((result.codes["origin"] == "manual").sum())
    say(f"code       codebook {codebook.version}: {len(result.codes)} codes in "
        f"{result.codes['network_id'].nunique()} networks ({manual} manual); {len(overrides)} override(s) applied")
    _warn(say, result.warnings)
    return result, write_coded(result, args.processed, codebook=codebook)


def _tables(args, networks=None, involvement=None, codes=None):
    from pipeline.aggregate import aggregate
    from pipeline.coding import load_codebook
    from pipeline.schemas import CODES, INVOLVEMENT, NETWORKS, read_parquet
    processed = args.processed
    if networks is None:
        networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
        involvement = read_parquet(processed / "involvement.parquet", schema=INVOLVEMENT)
        codes = read_parquet(processed / "codes.parquet", schema=CODES)
    return aggregate(networks=networks, involvement=involvement, codes=codes,
                     codebook=load_codebook(args.config / "codebook.yaml"),
                     taxonomies=load_taxonomies(args.config / "taxonomies.yaml"),
                     instrument=load_instrument(args.config / "instrument.yaml"))


def _data_time(args) -> datetime:
    """The time the outputs carry inside (workbook properties): the last response, so reruns give equal bytes."""
    path = args.processed / "ingest.json"
    last = json.loads(path.read_text(encoding="utf-8")).get("last_response") if path.exists() else None
    moment = datetime.fromisoformat(last) if last else datetime(2000, 1, 1, tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _aggregate(args, say, tables=None):
    from pipeline.aggregate import write_tables
    tables = tables if tables is not None else _tables(args)
    say(f"aggregate  {len(tables)} tables")
    return tables, write_tables(tables, args.processed, timestamp=_data_time(args))


def _charts(args, say, tables=None):
    from pipeline.charts import draw_and_write
    tables = tables if tables is not None else _tables(args)
    written = draw_and_write(tables, args.processed)
    say(f"charts     {(len(written) - 1) // 4} figures, each as PNG, SVG, PDF and CSV")
    return None, written


def _run_date():
    """Today, or the day SOURCE_DATE_EPOCH names (for reproducible builds)."""
    import os
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
        except ValueError:
            raise PipelineError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970.")
    return datetime.now(timezone.utc).date()


def _render(args, say):
    from pipeline import render
    from pipeline.coding import load_codebook
    config_files = sorted(p for p in args.config.glob("*") if p.suffix in (".yaml", ".csv"))
    texts_folders = [f for f in (args.texts, render.DEFAULT_TEXTS) if f]
    if args.texts and not args.texts.is_dir():
        raise PipelineError(f"{args.texts}: not a folder; give the folder that holds your inleiding.md and the others.")
    if args.templates and not args.templates.is_dir():
        raise PipelineError(f"{args.templates}: not a folder; give the folder with your templates.")
    index = args.processed / "tables.json"
    if not index.exists():
        raise PipelineError(f"{index}: not found; run the aggregate stage first (make report).")
    titles = {t["name"]: (t["title"], t["note"]) for t in json.loads(index.read_text(encoding="utf-8"))}
    codebook = load_codebook(args.config / "codebook.yaml")
    run_date = _run_date()
    context = render.build_context(processed=args.processed, instrument=load_instrument(args.config / "instrument.yaml"),
                                   codebook=codebook, taxonomies=load_taxonomies(args.config / "taxonomies.yaml"),
                                   texts=render.read_texts(folders=texts_folders), run_date=run_date,
                                   table_titles=titles)
    html_text = render.render_html(context, user_templates=args.templates)
    template_files = sorted(p for folder in (args.templates, render.DEFAULT_TEMPLATES) if folder
                            for p in folder.rglob("*") if p.is_file())
    text_files = sorted(p for folder in texts_folders for p in folder.glob("*.md"))
    ingest_summary = json.loads((args.processed / "ingest.json").read_text(encoding="utf-8"))
    manifest = {
        "pipeline_version": __version__, "codebook_version": codebook.version, "run_date": run_date.isoformat(),
        "inputs": {"export": ingest_summary["export_file"], "supplement": ingest_summary.get("supplement_file")},
        "config": render.file_hashes(config_files, root=args.config.parent),
        "templates": render.file_hashes(template_files, root=render.PROJECT_ROOT),
        "texts": render.file_hashes(text_files, root=render.PROJECT_ROOT),
        "versions": _versions(),
        "settings": {"keep_unfinished": _settings(args).keep_unfinished,
                     "user_templates": str(args.templates) if args.templates else None,
                     "user_texts": str(args.texts) if args.texts else None},
    }
    say(f"render     report.html and report.pdf ({len(context['networks'])} networks in Bijlage 2)")
    published = render.publish(processed=args.processed, out=args.out, html_text=html_text, manifest=manifest,
                               inputs=_inputs(args))
    say(f"render     {published.pages} PDF pages; {args.out} is complete")
    return published, [args.out / "report.html", args.out / "report.pdf", args.out / "tables.xlsx",
                       args.out / "manifest.json", args.out / "tables", args.out / "figures"]


def _inputs(args) -> list[Path]:
    """Every file and folder a run reads: the output folder may neither hold nor lie inside one of them."""
    from pipeline.render import DEFAULT_TEMPLATES, DEFAULT_TEXTS
    return [p for p in (getattr(args, "export", None), getattr(args, "supplement", None), args.templates, args.texts,
                        DEFAULT_TEMPLATES, DEFAULT_TEXTS, args.config, args.processed) if p is not None]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    import platform
    out = {"python": platform.python_version()}
    for package in ("pandas", "pyarrow", "openpyxl", "matplotlib", "Jinja2", "weasyprint", "snowballstemmer"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def _wrote(say, paths):
    """Name the files written; a folder with many files is named once with its count."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, []).append(path)
    lines = []
    for folder, files in by_folder.items():
        lines += [str(p) for p in files] if len(files) <= 6 else [f"{folder}/ ({len(files)} files)"]
    say("wrote      " + "\n           ".join(lines))


def _stage(args) -> int:
    say = _say(args)
    stages = {"ingest": _ingest, "normalise": _normalise, "code": _code, "aggregate": _aggregate, "charts": _charts,
              "render": _render}
    _, written = stages[args.command](args, say)
    _wrote(say, written)
    return 0


def _run(args) -> int:
    """The stages from the earliest of args.start on, in one process; each hands its tables to the next,
    and a stage that does not run is read from --processed."""
    say = _say(args)
    first, last = min(STAGES.index(stage) for stage in args.start), STAGES.index(args.stop)
    if first == 0 and args.export is None:
        raise PipelineError("run: give the export with --export (or start later with --from).")
    if last == STAGES.index("render") and args.out is None:
        raise PipelineError("run: give the output folder with --out (or stop earlier with --to).")
    if first > last:
        raise PipelineError(f"run: --from {STAGES[first]} comes after --to {args.stop}.")
    if last == STAGES.index("render"):
        # Before any stage runs: a wrong --out is refused with nothing written.
        from pipeline.output_folder import check_output_folder
        check_output_folder(args.out, inputs=_inputs(args))
    written: list[Path] = []
    networks = involvement = codes = tables = None
    if first <= STAGES.index("ingest") <= last:
        ingested, more = _ingest(args, say)
        written += more
    # Each table is let go as soon as no later stage needs it: a large export's tables add up.
    if first <= STAGES.index("normalise") <= last:
        normalised, more = _normalise(args, say, responses=ingested.responses if first == 0 else None)
        ingested = None
        written += more
        networks, involvement = normalised.networks, normalised.involvement
        normalised = None
    if first <= STAGES.index("code") <= last:
        coded, more = _code(args, say, networks=networks)
        written += more
        codes, coded = coded.codes, None
    if first <= STAGES.index("aggregate") <= last:
        tables = _tables(args, networks, involvement, codes)
        networks = involvement = codes = None
        tables, more = _aggregate(args, say, tables)
        written += more
    if first <= STAGES.index("charts") <= last:
        written += _charts(args, say, tables)[1]
    if last == STAGES.index("render"):
        _, published = _render(args, say)
        written = published
    _wrote(say, written)
    return 0


# ------------------------------------------------------------------------------------------ tools

def _describe(result) -> str:
    s = result.summary()
    lines = [
        f"Export      {result.export.path}",
        f"Format      {s['format']} (header rows: {s['layout']}), encoding {s['encoding'] or 'binary'}, "
        f"values as {s['values'].replace('_', ' ')}",
        f"Time zone   {s['time_zone'] or 'not given in the export'}",
        f"Responses   {s['responses']} in the file, {s['kept']} kept",
    ]
    dropped = {k: v for k, v in s["dropped"].items() if v}
    lines.append("Dropped     " + (", ".join(f"{v} {k}" for k, v in dropped.items()) if dropped else "none"))
    for _, row in result.drops.iterrows():
        lines.append(f"            data row {row['row']}: {row['reason']} ({row['detail']})")
    lines.append(f"Items       {s['items_mapped']} of 24 mapped"
                 + (f"; missing: {', '.join(s['items_missing'])}" if s["items_missing"] else ""))
    by_item: dict[str, list] = {}
    for m in result.mapping:
        if m.kind == "item":
            by_item.setdefault(m.target.split("_")[0], []).append(m)
    for item_id, columns in by_item.items():
        how = sorted({m.matched_by.replace("_", " ") for m in columns})
        tags = ", ".join(m.tag for m in columns[:4]) + (f" and {len(columns) - 4} more" if len(columns) > 4 else "")
        lines.append(f"            {item_id:<4} <- {tags} (by {' and '.join(how)})")
    if s["unmapped_columns"]:
        lines.append(f"Unmapped    {', '.join(s['unmapped_columns'])}")
    for warning in s["warnings"]:
        lines.append(f"Warning     {warning}")
    if s["items_mapped"] < 12:
        lines.append("Note        this does not look like an export of the WSD questionnaire.")
    return "\n".join(lines)


def _inspect(args) -> int:
    from pipeline.ingest import ingest
    result = ingest(export_path=args.export, instrument=load_instrument(args.config / "instrument.yaml"),
                    settings=_settings(args), require_instrument=False)
    print(json.dumps(result.summary(), ensure_ascii=False, indent=2) if args.json else _describe(result))
    return 0


def _coded_networks(args, networks=None):
    """The networks table (read from data/processed unless given), codebook, overrides and the coded result."""
    from pipeline.coding import code, load_codebook, load_overrides
    from pipeline.schemas import NETWORKS, read_parquet
    codebook = load_codebook(args.config / "codebook.yaml")
    if networks is None:
        networks = read_parquet(args.processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
                                columns=["network_id", "werkplaats", "name", *codebook.items])
    overrides = load_overrides(args.config / "coding_overrides.csv", codebook=codebook)
    return networks, codebook, overrides, code(networks=networks, codebook=codebook, overrides=overrides)


def _coding_sheet(args) -> int:
    from pipeline.coding_sheet import write_coding_sheet
    networks, codebook, _, coded = _coded_networks(args)
    if args.out.suffix.lower() != ".xlsx":
        raise PipelineError(f"{args.out}: give a file name ending in .xlsx.")
    rows = write_coding_sheet(networks=networks, codes=coded.codes, codebook=codebook, path=args.out,
                              blind=args.blind, timestamp=datetime.now(timezone.utc).replace(microsecond=0))
    print(f"wrote {args.out}: {rows} answers to check on sheets {', '.join(codebook.items)}"
          + (" (blind)" if args.blind else "") + ". Mark themes with x, put your initials under 'codeur', "
          f"then run: python -m pipeline coding-import {args.out}")
    return 0


def _coding_import(args) -> int:
    from pipeline.coding import overrides_csv
    from pipeline.coding_sheet import overrides_from_sheet, read_coding_sheet
    from pipeline.schemas import write_atomic
    networks, codebook, existing, _ = _coded_networks(args)
    reviewed, _ = read_coding_sheet(args.workbook, codebook=codebook, default_coder=args.coder)
    if not reviewed:
        raise PipelineError(f"{args.workbook}: no row has initials under 'codeur', so nothing was reviewed; "
                            "fill them in, or pass --coder INITIALS to take every row as reviewed.")
    merged, counts, warnings = overrides_from_sheet(reviewed=reviewed, networks=networks, codebook=codebook,
                                                    existing=existing, sheet_name=args.workbook.name)
    target = args.config / "coding_overrides.csv"
    write_atomic(target, overrides_csv(merged))
    for warning in warnings:
        print(f"warning    {warning}")
    print(f"read {counts['rows']} reviewed answers: {counts['add']} code(s) added and {counts['remove']} removed "
          f"against the rules" + (f", {counts['skipped']} row(s) skipped" if counts["skipped"] else "")
          + f". {target} now holds {len(merged)} override(s); run `make report` to follow them.")
    return 0


def _agreement(args) -> int:
    from pipeline.coding import load_codebook
    from pipeline.coding_sheet import agreement, read_coding_sheet
    from pipeline.schemas import write_atomic
    codebook = load_codebook(args.config / "codebook.yaml")
    reviewed, rule_codes = read_coding_sheet(args.workbook, codebook=codebook)
    if not reviewed:
        raise PipelineError(f"{args.workbook}: no row has initials under 'codeur'; there is nothing to compare.")
    table = agreement(reviewed=reviewed, rule_codes=rule_codes, codebook=codebook)
    print(f"Agreement between the codebook rules and the coder, {len(reviewed)} reviewed answers")
    print(f"{'item':<5} {'theme':<24} {'n':>3} {'both':>5} {'rules':>6} {'coder':>6} {'none':>5} {'agree':>6} {'kappa':>6}")
    for r in table.itertuples(index=False):
        kappa = "  n/a" if r.kappa is None or r.kappa != r.kappa else f"{r.kappa:6.2f}"
        agree = "" if r.agreement is None or r.agreement != r.agreement else f"{r.agreement:6.0%}"
        print(f"{r.item:<5} {r.theme:<24} {r.rows:>3} {r.both:>5} {r.rules_only:>6} {r.coder_only:>6} "
              f"{r.neither:>5} {agree:>6} {kappa}")
    print("n/a: kappa is undefined when rules and coder both gave one answer throughout.")
    if args.out:
        write_atomic(args.out, table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        print(f"wrote {args.out}")
    return 0


COMMANDS = {"inspect": _inspect, "run": _run, "ingest": _stage, "normalise": _stage, "code": _stage,
            "aggregate": _stage, "charts": _stage, "render": _stage,
            "coding-sheet": _coding_sheet, "coding-import": _coding_import, "agreement": _agreement}


def _arrow_memory_returned_soon() -> None:
    """Use Arrow's jemalloc pool with no decay delay: it gives freed memory back to the system at once,
    where the default pool keeps it (about a fifth more peak memory on a large export)."""
    try:
        import pyarrow as pa
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except (ImportError, NotImplementedError):   # a build of pyarrow without jemalloc: keep its default
        pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal
    args = _parser().parse_args(argv)
    _arrow_memory_returned_soon()
    # SIGTERM (a closed terminal, a stopped job) ends the run like Ctrl-C: staging folders are removed.
    previous = signal.signal(signal.SIGTERM, _interrupt) if _in_main_thread() else None
    try:
        return COMMANDS[args.command](args)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing was moved into place.", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line for the researcher, the traceback with --debug
        if args.debug:
            raise
        print(f"error: unexpected {exc.__class__.__name__}: {exc}. This is a bug in the pipeline; run again "
              "with --debug and report the output.", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()
