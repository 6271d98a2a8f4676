"""Command line: `python -m pipeline inspect|run`. The only place errors become messages and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.config import CONFIG_DIR, load_instrument, load_settings, load_taxonomies
from pipeline.errors import PipelineError
from pipeline.ingest import IngestResult, ingest, write_ingest
from pipeline.normalise import normalise, write_normalised

LATER_STAGES = ("code", "aggregate", "charts", "render")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="From a Qualtrics export of the WSD questionnaire to the report.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    parser.add_argument("--config", type=Path, default=CONFIG_DIR, help="folder with instrument.yaml and settings.yaml")
    sub = parser.add_subparsers(dest="command", required=True)

    inspect = sub.add_parser("inspect", help="describe an export: format, counts, drops, item mapping")
    inspect.add_argument("export", type=Path)
    inspect.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")

    run = sub.add_parser("run", help="run the pipeline on an export")
    run.add_argument("--export", type=Path, required=True)
    run.add_argument("--supplement", type=Path, help="CSV of networks described outside the survey")
    run.add_argument("--out", type=Path, required=True, help="folder for the report and its tables and figures")
    run.add_argument("--processed", type=Path, default=Path("data/processed"),
                     help="folder for the intermediate tables (default data/processed)")
    run.add_argument("--keep-unfinished", action="store_true", default=None,
                     help="keep responses that Qualtrics marks as not finished")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def _describe(result: IngestResult) -> str:
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


def _inspect(args, instrument, settings) -> int:
    result = ingest(export_path=args.export, instrument=instrument, settings=settings, require_instrument=False)
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    else:
        print(_describe(result))
    return 0


def _run(args, instrument, settings) -> int:
    say = (lambda *_: None) if args.quiet else (lambda text: print(text, flush=True))
    say(f"ingest     reading {args.export}")
    result = ingest(export_path=args.export, supplement_path=args.supplement, instrument=instrument,
                    settings=settings)
    s = result.summary()
    dropped = ", ".join(f"{v} {k}" for k, v in s["dropped"].items() if v) or "none"
    supplement = int((result.responses["source"] == "supplement").sum())
    say(f"ingest     {s['format']} export, {s['responses']} responses: {s['kept']} kept, dropped {dropped}; "
        f"{s['items_mapped']} of 24 items mapped" + (f"; {supplement} networks from the supplement" if supplement else ""))
    for warning in result.warnings:
        say(f"warning    {warning}")
    taxonomies = load_taxonomies(args.config / "taxonomies.yaml")
    normalised = normalise(responses=result.responses, instrument=instrument, taxonomies=taxonomies)
    unmatched = len(normalised.unmatched_groups)
    say(f"normalise  {len(normalised.networks)} networks, {len(normalised.involvement)} participant categories"
        + (f"; {unmatched} category label(s) match no participant group (see unmatched_groups.csv)" if unmatched else ""))
    for warning in normalised.warnings:
        say(f"warning    {warning}")
    written = write_ingest(result, args.processed) + write_normalised(normalised, args.processed)
    say("wrote      " + "\n           ".join(str(p) for p in written))
    say(f"not yet    the stages {', '.join(LATER_STAGES)} are not built yet, so no report was written to {args.out}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        instrument = load_instrument(args.config / "instrument.yaml")
        overrides = {"keep_unfinished": getattr(args, "keep_unfinished", None)}
        settings = load_settings(args.config / "settings.yaml", **overrides)
        return {"inspect": _inspect, "run": _run}[args.command](args, instrument, settings)
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
