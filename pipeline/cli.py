"""Command line: `python -m pipeline <command>`. Parses, calls the library, prints, and is the only
place errors become messages and exit codes.

`run` takes an export through the stages (pipeline.runner); `ingest` ... `render` run one stage on the
files in data/processed; `inspect`, `coding-sheet`, `coding-import` and `agreement` are tools for the
researcher.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from pipeline import __version__
from pipeline.config import CONFIG_DIR
from pipeline.errors import PipelineError
from pipeline.runner import STAGE_NAMES as STAGES

DEFAULT_PROCESSED = Path("data/processed")


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
    run.add_argument("--supplement", type=Path, help="CSV of networks described outside the survey")
    run.add_argument("--out", type=Path, help="folder for the report and its tables and figures (needed when render runs)")
    run.add_argument("--keep-unfinished", action="store_true", default=None,
                     help="keep responses that Qualtrics marks as not finished")
    run.add_argument("--templates", type=Path, help="your template folder, searched before templates/")
    run.add_argument("--texts", type=Path, help="your folder with inleiding.md, conclusies.md, discussie.md")
    processed(run)
    quiet(run)

    stage = sub.add_parser("ingest", help="stage 1: read the export into data/processed/responses.parquet")
    stage.add_argument("--export", type=Path, required=True)
    stage.add_argument("--supplement", type=Path)
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


def _config(args):
    from pipeline.config import load_config
    return load_config(args.config, keep_unfinished=getattr(args, "keep_unfinished", None))


# ----------------------------------------------------------------------------------------- stages

def _wrote(say, paths):
    """Name the files written; a folder with many files is named once with its count."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, []).append(path)
    lines = []
    for folder, files in by_folder.items():
        lines += [str(p) for p in files] if len(files) <= 6 else [f"{folder}/ ({len(files)} files)"]
    say("wrote      " + "\n           ".join(lines))


def _run(args) -> int:
    """`run`, or one stage (`ingest`, ..., `render`) on the files in --processed."""
    from pipeline.runner import run_pipeline
    say = _say(args)
    if args.command == "run":
        start, stop = args.start, args.stop
    else:
        start = stop = args.command
    result = run_pipeline(export=getattr(args, "export", None), supplement=getattr(args, "supplement", None),
                          out=getattr(args, "out", None), processed=args.processed, config=_config(args),
                          templates=getattr(args, "templates", None), texts=getattr(args, "texts", None),
                          start=start, stop=stop, say=say)
    _wrote(say, result.written)
    return 0


# ------------------------------------------------------------------------------------------ tools

def _describe(result, *, items: int, minimum: int) -> str:
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
    lines.append(f"Items       {s['items_mapped']} of {items} mapped"
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
    if s["items_mapped"] < minimum:
        lines.append("Note        this does not look like an export of the WSD questionnaire.")
    return "\n".join(lines)


def _inspect(args) -> int:
    from pipeline.config import load_instrument, load_settings
    from pipeline.ingest import ingest
    instrument, settings = load_instrument(args.config / "instrument.yaml"), load_settings(args.config / "settings.yaml")
    result = ingest(export_path=args.export, instrument=instrument, settings=settings, require_instrument=False)
    print(json.dumps(result.summary(), ensure_ascii=False, indent=2) if args.json else
          _describe(result, items=len(instrument.items), minimum=settings.min_items_mapped))
    return 0


def _coded_networks(args, networks=None):
    """The networks table (read from data/processed unless given), codebook, overrides and the coded result."""
    from pipeline.coding import code
    from pipeline.schemas import NETWORKS, read_parquet
    config = _config(args)
    codebook, overrides = config.codebook, config.overrides
    if networks is None:
        networks = read_parquet(args.processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
                                columns=["network_id", "werkplaats", "name", *codebook.items])
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
    from pipeline.coding_sheet import agreement, read_coding_sheet
    from pipeline.schemas import write_atomic
    codebook = _config(args).codebook
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


COMMANDS = {"inspect": _inspect, "run": _run, "ingest": _run, "normalise": _run, "code": _run,
            "aggregate": _run, "charts": _run, "render": _run,
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


def _terminated(signum, frame):
    """SIGTERM (a closed terminal, a stopped job): remove the staging folder and stop at once. Raising an
    exception here instead could land in a finaliser, where Python ignores it."""
    import os
    from pipeline.output_folder import abandon_staging
    abandon_staging()
    print("error: stopped (SIGTERM); nothing was moved into place.", file=sys.stderr, flush=True)
    os._exit(1)


def main(argv: list[str] | None = None) -> int:
    import signal
    args = _parser().parse_args(argv)
    _arrow_memory_returned_soon()
    previous = signal.signal(signal.SIGTERM, _terminated) if _in_main_thread() else None
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
