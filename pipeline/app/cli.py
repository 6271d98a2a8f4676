"""Command line: `python -m pipeline <command>`. Parses, calls the library, prints, and is the only
place errors become messages and exit codes.

`run` takes an export through the stages (pipeline.app.runner); `ingest` ... `render` run one stage on the
files in data/processed (one command per row of pipeline.app.stages); `inspect`, `coding-sheet`,
`coding-import`, `agreement` and `quotes` are tools for the researcher.

Over 500 lines because every command's parser and its few lines of printing sit here, where the layering
test lets a command import its modules when it runs (so that `--help` and `make-vars` stay quick); the
commands' work is in the modules they call.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from pipeline import __version__
from pipeline.core.files import CONFIG_DIR
from pipeline.core.errors import PipelineError
from pipeline.app.makefile import stage_rules
from pipeline.app.stages import STAGE_NAMES as STAGES, STAGES as STAGE_TABLE
from pipeline.waves.wave import WAVES_DIR

def _share(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a score between 0 and 1, such as 0.35")
    return value


def _optional_path(text: str) -> Path | None:
    """A path, or none for "" (what an empty shell variable gives: SUPPLEMENT=)."""
    return Path(text) if text else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="From a Qualtrics export of the WSD questionnaire to the report.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    parser.add_argument("--config", type=Path, default=CONFIG_DIR,
                        help="folder with instrument, settings, taxonomies and codebook")
    parser.add_argument("--waves", type=Path, default=WAVES_DIR, help="the folder of the waves (default waves/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def wave(p, *, required=False):
        p.add_argument("--wave", required=required,
                       help="the wave (waves/<name>/): its export, texts, corrections and folders")

    def processed(p):
        p.add_argument("--processed", type=Path,
                       help="folder for the intermediate tables (default: the wave's, else data/processed)")

    def quiet(p):
        p.add_argument("--quiet", action="store_true", help="print nothing but errors")

    OPTIONS = {
        "export": lambda p: p.add_argument("--export", type=Path, help="the Qualtrics export (default: the wave's)"),
        "supplement": lambda p: p.add_argument("--supplement", type=_optional_path,
                                               help="CSV of networks described outside the survey"),
        "keep_unfinished": lambda p: p.add_argument("--keep-unfinished", action="store_true", default=None,
                                                    help="keep responses that Qualtrics marks as not finished"),
        "corrections": lambda p: p.add_argument("--corrections", type=Path,
                                                help="coding corrections (default: the wave's)"),
        "quotes": lambda p: p.add_argument("--quotes", type=Path,
                                           help="quote decisions (default: the wave's quotes.csv)"),
        "out": lambda p: p.add_argument("--out", type=Path, help="the output folder, replaced only when the "
                                                                 "pipeline made it (default: reports/<wave>)"),
        "templates": lambda p: p.add_argument("--templates", type=Path, help="your template folder, searched before templates/"),
        "texts": lambda p: p.add_argument("--texts", type=Path, help="your folder with inleiding.md, conclusies.md, discussie.md"),
    }

    def report_options(p):
        for option in ("out", "templates", "texts"):
            OPTIONS[option](p)

    inspect = sub.add_parser("inspect", help="describe an export: format, counts, drops, item mapping")
    inspect.add_argument("export", type=Path)
    inspect.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    inspect.add_argument("--qsf", type=Path, help="the survey definition (.qsf): report how it differs from "
                                                  "config/instrument.yaml")

    run = sub.add_parser("run", help="run the stages on a wave, or on an export")
    wave(run)
    OPTIONS["export"](run)
    run.add_argument("--from", dest="start", nargs="+", choices=STAGES, default=["ingest"], metavar="STAGE",
                     help="start at the earliest of these stages and read what earlier stages wrote to "
                          "--processed (`make report` passes the stages whose inputs changed)")
    run.add_argument("--to", dest="stop", choices=STAGES, default="render", metavar="STAGE",
                     help="stop after this stage (default render); `--to aggregate` gives the tables only")
    for option in ("supplement", "corrections", "quotes", "keep_unfinished"):
        OPTIONS[option](run)
    report_options(run)
    processed(run)
    quiet(run)

    # One command per stage of the table, with the options its row names.
    for number, row in enumerate(STAGE_TABLE, start=1):
        stage = sub.add_parser(row.name, help=f"stage {number}: {row.help}")
        wave(stage)
        for option in row.options:
            OPTIONS[option](stage)
        processed(stage)
        quiet(stage)

    live = sub.add_parser("preview", help="serve the report's HTML on 127.0.0.1 and rebuild it on every save")
    live.add_argument("--wave", default="2018", help="the wave to preview (default 2018)")
    live.add_argument("--port", type=int, default=8000, help="the port (default 8000; 0: any free port)")

    review = sub.add_parser("review", help="review the automatic codes in the browser, one answer at a time "
                            "(served on 127.0.0.1; every decision written to the wave's corrections and reviews)")
    review.add_argument("--wave", default="2018", help="the wave to review (default 2018)")
    review.add_argument("--port", type=int, default=8010, help="the port (default 8010; 0: any free port)")
    review.add_argument("--blind", action="store_true", help="hide the rule codes and suggestions, for agreement")
    review.add_argument("--sample", type=int, metavar="N",
                        help="draw N coded answers at random first (once per wave: waves/<name>/coding_sample.csv)")
    review.add_argument("--seed", type=int, default=2018, help="the seed of the sample (default 2018)")

    new = sub.add_parser("new-wave", help="start a wave: waves/<name>/ with the export, wave.yaml and texts")
    new.add_argument("name")
    new.add_argument("--export", type=Path, required=True, help="the Qualtrics export (copied into the wave)")
    new.add_argument("--supplement", type=_optional_path, help="CSV of networks described outside the survey (copied)")
    new.add_argument("--previous", help="the wave before it: its texts are the starting point")
    new.add_argument("--qsf", type=Path, help="the survey definition (.qsf): report how it differs from "
                                              "config/instrument.yaml")

    # No abbreviations: `--token SECRET` must be refused, not taken as --token-file SECRET.
    fetch = sub.add_parser("fetch", help="fetch a wave's responses and survey definition from Qualtrics (API token "
                           "in QUALTRICS_API_TOKEN); starts the wave when it is new", allow_abbrev=False)
    fetch.add_argument("--wave", required=True, help="the wave (waves/<name>/); a new name starts a wave")
    fetch.add_argument("--survey", required=True, help="the survey id, SV_... (Account Settings > Qualtrics IDs)")
    fetch.add_argument("--data-center", help="the Datacenter ID, such as fra1 (default: QUALTRICS_DATA_CENTER)")
    fetch.add_argument("--since", help="only responses recorded from this day on (YYYY-MM-DD, UTC)")
    fetch.add_argument("--token-file", type=Path, help="a file holding the API token (instead of QUALTRICS_API_TOKEN)")
    fetch.add_argument("--previous", help="for a new wave: the wave before it, whose texts are the starting point")
    quiet(fetch)

    make_vars = sub.add_parser("make-vars", help="the wave's paths and the stage rules as make text (the Makefile reads them)")
    make_vars.add_argument("name")

    sheet = sub.add_parser("coding-sheet", help="write an Excel workbook for checking the automatic codes")
    wave(sheet)
    sheet.add_argument("--out", type=Path, required=True, help="the .xlsx to write")
    sheet.add_argument("--blind", action="store_true",
                       help="leave the marks empty and hide the automatic codes and suggestions, for independent coding")
    sheet.add_argument("--no-suggestions", action="store_true", help="offer no suggestions of the model")
    sheet.add_argument("--threshold", type=_share, default=None,
                       help="the score from which a sentence is suggested (0-1; default: the one chosen on the "
                            "development set, pipeline.coding.suggest.THRESHOLD)")
    processed(sheet)

    imp = sub.add_parser("coding-import", help="turn a coder's edits in the workbook into the wave's corrections")
    wave(imp, required=True)
    imp.add_argument("workbook", type=Path)
    imp.add_argument("--coder", help="initials to use for reviewed rows that leave 'codeur' empty")
    processed(imp)

    quotes = sub.add_parser("quotes", help="write the wave's quotes file, pre-filled with the quotes the run "
                            "chooses, to approve, replace or withhold them in Excel")
    wave(quotes, required=True)
    quotes.add_argument("--out", type=Path, help="the file to write (default: waves/<name>/quotes.csv)")
    processed(quotes)

    groups = sub.add_parser("groups", help="add the participant categories placed uncertainly or in Overig, with "
                            "the group proposed, to the wave's group_decisions.csv, for you to confirm")
    wave(groups, required=True)
    processed(groups)

    migrate = sub.add_parser("migrate-corrections",
                             help="turn an old coding_overrides.csv (keyed by network id) into a wave's corrections")
    migrate.add_argument("old", type=Path)
    wave(migrate, required=True)
    processed(migrate)

    evaluate = sub.add_parser("codebook-eval", help="precision, recall and F1 of the codebook's rules, on its "
                                                     "examples and on a validation set coded by hand")
    evaluate.add_argument("--validation", type=Path, help="the validation set (default tests/data/coding_validation.yaml)")
    evaluate.add_argument("--themes", action="store_true", help="also print every theme")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object (for scripts and make bench)")
    evaluate.add_argument("--suggestions", action="store_true",
                          help="also judge the coder's suggestions (model fitted on the examples): on what the rules "
                               "missed, and alone (as if no rule coded anything)")
    evaluate.add_argument("--thresholds", type=_share, nargs="+",
                          help="suggestion thresholds to compare (default: the one in use); choose one on the "
                               "development set, never on the validation set")
    evaluate.add_argument("--simulate-review", action="store_true",
                          help="replay a coder who marks the set's codes in the review's order: F1 after each share "
                               "of the answers reviewed, against file order, and WSS@95")

    agree = sub.add_parser("agreement", help="Cohen's kappa per theme between the rules and the coder")
    agree.add_argument("workbook", type=Path)
    agree.add_argument("--out", type=Path, help="also write the table as CSV")
    agree.add_argument("--english", action="store_true",
                       help="print and write the table in English (default: Dutch, like the other tables)")
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


def _wave(args):
    from pipeline.waves.wave import load_wave
    return load_wave(args.wave, waves_dir=args.waves) if getattr(args, "wave", None) else None


def _config(args, wave=None):
    from pipeline.core.config import load_config
    return load_config(args.config, **{**(wave.settings if wave else {}),
                                       "keep_unfinished": getattr(args, "keep_unfinished", None)})


# ----------------------------------------------------------------------------------------- stages

def _wrote(say, paths):
    """Name the files written; a folder with many files is named once with its count."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, []).append(path)
    lines = []
    for folder, files in by_folder.items():
        lines += [str(p) for p in files] if len(files) <= 8 else [f"{folder}/ ({len(files)} files)"]
    say("wrote      " + "\n           ".join(lines))


def _run(args) -> int:
    """`run`, or one stage (`ingest`, ..., `render`) on the files in --processed."""
    from pipeline.app.runner import run_pipeline
    say = _say(args)
    if args.command == "run":
        start, stop = args.start, args.stop
    else:
        start = stop = args.command
    wave = _wave(args)
    result = run_pipeline(wave=wave, export=getattr(args, "export", None), supplement=getattr(args, "supplement", None),
                          out=getattr(args, "out", None), processed=args.processed, config=_config(args, wave),
                          templates=getattr(args, "templates", None), texts=getattr(args, "texts", None),
                          corrections=getattr(args, "corrections", None),
                          quotes=getattr(args, "quotes", None), start=start, stop=stop, say=say)
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
    from pipeline.core.config import load_instrument, load_settings
    from pipeline.reading.ingest import ingest
    instrument, settings = load_instrument(args.config / "instrument.yaml"), load_settings(args.config / "settings.yaml")
    survey = _survey_differences(args, instrument)
    result = ingest(export_path=args.export, instrument=instrument, settings=settings, require_instrument=False)
    if args.json:
        summary = result.summary()
        if survey is not None:
            summary["survey_differences"] = survey
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(_describe(result, items=len(instrument.items), minimum=settings.min_items_mapped))
    _print_survey(survey, args)
    return 0


def _survey_differences(args, instrument):
    """How the .qsf given with --qsf differs from the instrument (None without --qsf)."""
    if not getattr(args, "qsf", None):
        return None
    from pipeline.reading.qsf import differences, read_qsf
    return differences(read_qsf(args.qsf), instrument)


def _print_survey(survey, args) -> None:
    if survey is None:
        return
    if not survey:
        print(f"Survey      {args.qsf}: asks what config/instrument.yaml declares; nothing to edit.")
    for line in survey:
        print(f"Survey      {line}")


def _new_wave(args) -> int:
    from pipeline.core.config import load_instrument
    from pipeline.waves.wave import new_wave
    survey = _survey_differences(args, load_instrument(args.config / "instrument.yaml"))
    wave = new_wave(args.name, export=args.export, supplement=args.supplement, previous=args.previous,
                    waves_dir=args.waves)
    print(f"wrote {wave.folder}: wave.yaml, the export in data/, texts/ started from "
          + (f"wave {wave.previous}" if wave.previous else "the starting texts")
          + f". Fill in wave.yaml (year, authors), rewrite the texts, then run: make report WAVE={wave.name}")
    _print_survey(survey, args)
    return 0


def _fetch(args) -> int:
    from pipeline.app.fetch import TerminalProgress, fetch_wave, parse_since
    from pipeline.core.config import load_instrument, load_settings
    say, progress = _say(args), TerminalProgress(quiet=args.quiet)
    try:
        done = fetch_wave(args.wave, survey=args.survey, waves_dir=args.waves, data_center=args.data_center,
                          since=parse_since(args.since), token_file=args.token_file, previous=args.previous,
                          time_zone=load_settings(args.config / "settings.yaml").default_time_zone, progress=progress)
    finally:
        progress.close()
    wave = done.wave
    say(f"wrote      {done.export} ({done.responses} responses) and {done.definition.name} beside it; "
        f"{wave.folder / 'wave.yaml'} points at them"
        + ("" if done.created else " (the earlier exports in data/ are kept)"))
    if not args.quiet:
        args.qsf = done.definition
        _print_survey(_survey_differences(args, load_instrument(args.config / "instrument.yaml")), args)
    say(("Fill in wave.yaml (year, authors), rewrite the texts, then run: " if done.created else "Next: ")
        + f"make report WAVE={wave.name}")
    return 0


def _migrate_corrections(args) -> int:
    """Each old override is tied to the answer its network gives in this wave's processed data now."""
    import pandas as pd
    from pipeline.core.wave_files import LEGACY_COLUMNS, answer_sha, corrections_csv, load_corrections
    from pipeline.core.schemas import write_atomic
    wave, networks, codebook, existing, _ = _coded_networks(args)
    try:
        old = pd.read_csv(args.old, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PipelineError(f"{args.old}: not a readable CSV ({exc.__class__.__name__}).")
    if list(old.columns) != list(LEGACY_COLUMNS):
        raise PipelineError(f"{args.old}: expected the old columns {','.join(LEGACY_COLUMNS)}.")
    by_id = networks.set_index("network_id")
    rows, missing = [], []
    for o in old.itertuples(index=False):
        if o.network_id not in by_id.index or o.item not in by_id.columns:
            missing.append(o.network_id)
            continue
        network = by_id.loc[o.network_id]
        rows.append({"response_key": network["response_key"], "item": o.item,
                     "answer_sha": answer_sha(network[o.item]), "theme": o.theme, "action": o.action,
                     "coder": o.coder, "reason": o.reason, "network_id": o.network_id, "evidence": ""})
    merged = pd.concat([existing, pd.DataFrame(rows, columns=existing.columns)], ignore_index=True).astype(str)
    write_atomic(wave.corrections, corrections_csv(merged))
    load_corrections(wave.corrections, codebook=codebook)   # the result must read back cleanly
    for network_id in sorted(set(missing)):
        print(f"warning    {network_id}: not a network of wave {wave.name}; its corrections were left out.")
    print(f"wrote {wave.corrections}: {len(rows)} correction(s) tied to the answers of wave {wave.name}"
          + (f", {len(missing)} left out" if missing else "") + f". {args.old} was only read.")
    return 0


def _codebook_eval(args) -> int:
    from pipeline.coding.evaluation import VALIDATION, evaluate, examples, load_validation
    codebook = _config(args).codebook
    if args.simulate_review:
        return _simulated_review(args, codebook)
    sets = {"examples": examples(codebook)}
    path = args.validation or VALIDATION
    if path.exists():
        sets["validation"] = load_validation(path, codebook)
    elif args.validation:
        raise PipelineError(f"{path}: not found; give the YAML file of hand-coded answers.")
    results = {name: evaluate(answers, codebook) for name, answers in sets.items()}
    offered = {}
    if args.suggestions:
        from pipeline.coding.evaluation import evaluate_suggestions
        from pipeline.coding.suggest import THRESHOLD
        thresholds = tuple(args.thresholds or (THRESHOLD,))
        offered = {name: {"after rules": evaluate_suggestions(answers, codebook, thresholds=thresholds),
                          "alone": evaluate_suggestions(answers, codebook, thresholds=thresholds, rules=False)}
                   for name, answers in sets.items() if name != "examples"}
    if args.json:
        print(json.dumps({name: {"answers": len(sets[name]), "overall": overall.to_dict(orient="records"),
                                 "themes": per_theme.to_dict(orient="records"),
                                 **({"suggestions": {mode: table.to_dict(orient="records")
                                                     for mode, table in offered[name].items()}}
                                    if name in offered else {})}
                          for name, (per_theme, overall) in results.items()}, ensure_ascii=False, indent=2))
        return 0

    def share(value):
        return "   n/a" if value is None or value != value else f"{value:6.2f}"
    print(f"Codebook {codebook.version}: rules judged on the codebook's examples (what they were written from) "
          "and on the validation set (answers they never saw, coded by hand).")
    for name, (per_theme, overall) in results.items():
        print(f"\n{name} ({len(sets[name])} answers)")
        print(f"  {'':<9} {'precision':>9} {'recall':>7} {'F1':>6}   tp   fp   fn")
        for r in overall.itertuples(index=False):
            print(f"  {r.set:<9} {share(r.precision):>9} {share(r.recall):>7} {share(r.f1):>6} {r.tp:>4} {r.fp:>4} {r.fn:>4}")
        if args.themes:
            for r in per_theme.itertuples(index=False):
                print(f"    {r.item:<4} {r.theme:<24} {share(r.precision):>6} {share(r.recall):>6} {share(r.f1):>6}"
                      f"  {r.tp}/{r.answers} found, {r.fp} false")
        for mode, table in offered.get(name, {}).items():
            what = "of what the rules missed" if mode == "after rules" else "the model alone, no rules"
            print(f"  suggestions, {what}:")
            print(f"  {'':<9} {'threshold':>9} {'offered':>7} {'precision':>9} {'recall':>7} {'with rules':>10}"
                  "   tp   fp   fn")
            for r in table.itertuples(index=False):
                print(f"  {r.group:<9} {r.threshold:>9.2f} {r.suggestions:>7} {share(r.precision):>9} "
                      f"{share(r.recall):>7} {share(r.recall_with_rules):>10} {r.tp:>4} {r.fp:>4} {r.fn:>4}")
    return 0


def _simulated_review(args, codebook) -> int:
    from pipeline.coding.evaluation import VALIDATION, load_validation
    from pipeline.coding.simulation import simulate_review
    path = args.validation or VALIDATION
    if not path.exists():
        raise PipelineError(f"{path}: not found; give the YAML file of hand-coded answers (--validation FILE).")
    replays = simulate_review(load_validation(path, codebook), codebook)
    if args.json:
        print(json.dumps({group: {"answers": r.answers, "curve": [list(p) for p in r.curve],
                                  "file_order": [list(p) for p in r.file_order], "wss95": r.wss95,
                                  "read_for_95_recall": r.read_for_recall}
                          for group, r in replays.items()}, indent=2))
        return 0

    def f1(value):
        return "  n/a" if value is None else f"{value:5.2f}"
    print(f"Codebook {codebook.version}: a coder who marks the codes of {path} reviews its answers one by one; "
          "the F1 of the codes after each share reviewed (the rest keep the rules' codes).")
    for group, r in replays.items():
        print(f"\n{group} ({r.answers} answers)")
        print(f"  {'reviewed':<12}" + "".join(f"{share:>7.0%}" for share, _ in r.curve))
        print(f"  {'review order':<12}" + "".join(f"{f1(v):>7}" for _, v in r.curve))
        print(f"  {'file order':<12}" + "".join(f"{f1(v):>7}" for _, v in r.file_order))
        if r.wss95 is None:
            print("  WSS@95: n/a (no codes in the set)")
        else:
            print(f"  WSS@95: {r.wss95:.2f} (95 % of the set's codes after {r.read_for_recall} of {r.answers} answers "
                  "read in the review's order)")
    return 0


def _make_vars(args) -> int:
    import os
    from pipeline.waves.wave import load_wave
    wave = load_wave(args.name, waves_dir=args.waves)

    def shown(path):
        if path is None:
            return ""
        text = os.path.relpath(path) if Path(path).is_absolute() else str(path)
        if any(c in text for c in " #$%:\n"):
            raise PipelineError(f"{path}: make cannot use a path with spaces or {{#$%:}}; rename the folder or "
                                "file, or run `python -m pipeline run --wave NAME` without make.")
        return text
    before = wave.previous_wave()
    # The comparison reads the previous wave's tables and its reviews (how its codes were made).
    previous = " ".join(shown(p) for p in (*(before.processed / f for f in ("networks.parquet", "involvement.parquet",
                                                                            "codes.parquet")), before.reviews)) \
        if before else ""
    print(f"WAVE_EXPORT := {shown(wave.export)}\nWAVE_SUPPLEMENT := {shown(wave.supplement)}\n"
          f"WAVE_TEMPLATES := {shown(wave.templates)}\nWAVE_TEXTS := {shown(wave.texts)}\n"
          f"WAVE_PREVIOUS_TABLES := {previous}")
    print("\n# The stage rules, from the table of stages (pipeline/app/stages.py).")
    print(stage_rules(STAGE_TABLE))
    return 0


def _coded_networks(args):
    """The wave (or none), the networks table of its processed folder, the codebook and the coded result."""
    from pipeline.coding.rules import code
    from pipeline.core.wave_files import load_corrections
    from pipeline.core.schemas import NETWORKS, read_parquet
    wave = _wave(args)
    processed = args.processed or (wave.processed if wave else None)
    if processed is None:
        raise PipelineError(f"{args.command}: say which wave with --wave NAME (or give --processed FOLDER).")
    codebook = _config(args, wave).codebook
    networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
                            columns=["network_id", "response_key", "werkplaats", "name", *codebook.items])
    corrections = load_corrections(wave.corrections if wave else None, codebook=codebook)
    return wave, networks, codebook, corrections, code(networks=networks, codebook=codebook, corrections=corrections)


def _sheet_time() -> datetime:
    """Now, or the moment SOURCE_DATE_EPOCH names, so that a rerun can give the same workbook bytes."""
    import os
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise PipelineError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970; unset it or give one.")


def _coding_sheet(args) -> int:
    from pipeline.coding.sheet import write_coding_sheet
    wave, networks, codebook, _, coded = _coded_networks(args)
    if args.out.suffix.lower() != ".xlsx":
        raise PipelineError(f"{args.out}: give a file name ending in .xlsx.")
    offered = None
    if not args.blind and not args.no_suggestions:
        from pipeline.core.wave_files import load_reviews
        from pipeline.coding.suggest import THRESHOLD, fit, reviewed_answers, reviewed_in_waves, suggest
        reviews = load_reviews(wave.reviews if wave else None)
        training, notes = reviewed_in_waves(wave, config=_config(args, wave), networks=networks, codes=coded.codes,
                                            reviews=reviews)
        for note in notes:
            print(f"warning    {note}")
        model = fit(codebook=codebook, reviewed=training)
        offered = suggest(networks=networks, codes=coded.codes, codebook=codebook, model=model,
                          threshold=THRESHOLD if args.threshold is None else args.threshold,
                          skip=reviewed_answers(networks=networks, reviews=reviews, codebook=codebook))
    rows = write_coding_sheet(networks=networks, codes=coded.codes, codebook=codebook, path=args.out,
                              blind=args.blind, timestamp=_sheet_time(), suggestions=offered,
                              wave=wave.name if wave else None)
    print(f"wrote {args.out}: {rows} answers to check on sheets {', '.join(codebook.items)}"
          + (" (blind)" if args.blind else "")
          + (f", {len(offered)} suggestion(s) in {offered[['network_id', 'item']].drop_duplicates().shape[0]} "
             f"answer(s) first (model of {model.trained_on} sentences, {model.from_reviews} of them reviewed)"
             if offered is not None else "")
          + ". Mark themes with x (a suggestion counts only when you mark it), put your initials under 'codeur', "
          f"then run: python -m pipeline coding-import --wave {wave.name if wave else 'NAME'} {args.out}")
    return 0


def _quotes(args) -> int:
    import shutil
    from pipeline.coding.quotes import load_decisions, quotes_file, select
    from pipeline.core.wave_files import read_quotes_file, write_quotes_file
    wave, networks, codebook, _, coded = _coded_networks(args)
    path = args.out or wave.quotes
    existing = read_quotes_file(path)
    decisions = load_decisions(path, frame=existing, codebook=codebook, networks=networks, codes=coded.codes)
    chosen, review = select(codes=coded.codes, networks=networks, codebook=codebook, decisions=decisions)
    frame = quotes_file(chosen=chosen, networks=networks, codebook=codebook, existing=existing)
    if path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))    # the researcher's file as it was
    write_quotes_file(path, frame)
    for warning in review.warnings:
        print(f"warning    {warning}")
    new = int(((frame["kind"] == "quote") & (frame["decision"] == "")).sum())
    print(f"wrote {path}: {review.shown} quotes shown, {review.reviewed} decided by a researcher, {new} to review, and "
          f"a row per network. In the decision column write approve, replace (with the sentence in replacement) or "
          f"withhold; on a network's row withhold keeps its answers out of the report. Then run "
          f"`make report WAVE={wave.name}`.")
    return 0


def _groups(args) -> int:
    from pipeline.analysis.normalise import assign_groups, groups_to_review
    from pipeline.core.schemas import INVOLVEMENT, read_parquet
    from pipeline.core.wave_files import add_group_proposals, load_group_decisions
    wave = _wave(args)
    taxonomies = _config(args, wave).taxonomies
    processed = args.processed or wave.processed
    source = processed / "involvement.parquet"
    if not source.exists():
        raise PipelineError(f"{source}: not found; build the wave first (make report WAVE={wave.name}).")
    involvement = read_parquet(source, schema=INVOLVEMENT)
    path = wave.group_decisions
    decisions = load_group_decisions(path, groups=tuple(c.code for c in taxonomies.participant_groups))
    placed = assign_groups(involvement["category_label"], taxonomies=taxonomies, decisions=decisions)
    review = groups_to_review(involvement=involvement, placed=placed)
    added = add_group_proposals(path, review.rename(columns={"category_label": "label", "participant_group": "group"}))
    print(f"{path}: {added} label(s) added with the group proposed, {len(review) - added} already there without "
          "a name under who. Check each group (the codes are "
          f"{', '.join(c.code for c in taxonomies.participant_groups)}), put your name under who on every line "
          f"you confirm, then run `make report WAVE={wave.name}`.")
    return 0


def _coding_import(args) -> int:
    from pipeline.core.wave_files import corrections_csv
    from pipeline.coding.sheet import corrections_from_sheet, read_coding_sheet
    from pipeline.core.wave_files import load_reviews, reviews_csv
    from pipeline.core.schemas import write_atomic
    wave, networks, codebook, existing, _ = _coded_networks(args)
    reviewed, _ = read_coding_sheet(args.workbook, codebook=codebook, default_coder=args.coder)
    if not reviewed:
        raise PipelineError(f"{args.workbook}: no row has initials under 'codeur', so nothing was reviewed; "
                            "fill them in, or pass --coder INITIALS to take every row as reviewed.")
    corrections, reviews, counts, warnings = corrections_from_sheet(
        reviewed=reviewed, networks=networks, codebook=codebook, existing=existing,
        reviews=load_reviews(wave.reviews), sheet_name=args.workbook.name)
    write_atomic(wave.corrections, corrections_csv(corrections))
    write_atomic(wave.reviews, reviews_csv(reviews))
    for warning in warnings:
        print(f"warning    {warning}")
    print(f"read {counts['rows']} reviewed answers: {counts['add']} code(s) added ({counts['accepted']} of them "
          f"accepted suggestions) and {counts['remove']} removed against the rules" + (f", {counts['skipped']} row(s) skipped" if counts["skipped"] else "")
          + f". {wave.corrections} now holds {len(corrections)} correction(s) and {wave.reviews} "
          f"{len(reviews)} reviewed answer(s); run `make report WAVE={wave.name}` to follow them.")
    return 0


def _agreement(args) -> int:
    from pipeline.coding.sheet import (MIN_AGREEMENT_ROWS, MIN_THEME_ANSWERS, TOO_FEW, agreement,
                                       agreement_table, read_coding_sheet, was_blind)
    from pipeline.core.schemas import write_atomic
    codebook = _config(args).codebook
    reviewed, rule_codes = read_coding_sheet(args.workbook, codebook=codebook)
    if not reviewed:
        raise PipelineError(f"{args.workbook}: no row has initials under 'codeur'; there is nothing to compare.")
    table = agreement(reviewed=reviewed, rule_codes=rule_codes, codebook=codebook)
    en = args.english
    print(f"Agreement between the codebook rules and the coder, {len(reviewed)} reviewed answers" if en else
          f"Overeenstemming tussen de regels van het codeboek en de codeur, {len(reviewed)} beoordeelde antwoorden")
    if not was_blind(args.workbook, codebook=codebook):
        print("warning    this sheet showed the rules' codes as marks, which anchors a coder towards them; for "
              "agreement, have the answers coded on a blind sheet: python -m pipeline coding-sheet --blind ..."
              if en else
              "let op     dit blad toonde de codes van de regels als kruisjes, wat een codeur naar die codes trekt; "
              "laat voor de overeenstemming coderen op een blind blad: python -m pipeline coding-sheet --blind ...")

    def shown(value, pattern="6.2f"):
        return "   n/a" if value is None or value != value else format(value, pattern)
    heads = (("item", "theme", "n", "both", "rules", "coder", "none", "with", "agree", "kappa", "95% interval", "AC1")
             if en else
             ("vraag", "thema", "n", "beide", "regels", "codeur", "geen", "met", "overeen", "kappa", "95%-interval",
              "AC1"))
    print(f"{heads[0]:<5} {heads[1]:<24} {heads[2]:>3} {heads[3]:>5} {heads[4]:>6} {heads[5]:>6} {heads[6]:>5} "
          f"{heads[7]:>4} {heads[8]:>7} {heads[9]:>6} {heads[10]:>14} {heads[11]:>6}")
    for r in table.itertuples(index=False):
        counts = (f"{r.item:<5} {r.theme:<24} {r.rows:>3} {r.both:>5} {r.rules_only:>6} {r.coder_only:>6} "
                  f"{r.neither:>5} {r.present:>4} {shown(r.agreement, '7.0%'):>7}")
        if r.too_few:
            print(f"{counts} {'too few answers' if en else TOO_FEW}")
            continue
        interval = "" if r.kappa_low is None or r.kappa_low != r.kappa_low else \
            f"{r.kappa_low:.2f} {'to' if en else 'tot'} {r.kappa_high:.2f}"
        print(f"{counts} {shown(r.kappa)} {interval:>14} {shown(r.ac1)}" + (" *" if r.few else ""))
    if en:
        print(f"too few answers: fewer than {MIN_THEME_ANSWERS} answers with the theme in either coding, so no "
              "coefficient. n/a: undefined when rules and coder both gave one answer throughout; no interval "
              "where the resamples cannot vary. AC1 (Gwet) does not mislead for rare themes as kappa does.")
    else:
        print(f"{TOO_FEW}: minder dan {MIN_THEME_ANSWERS} antwoorden met het thema in een van beide coderingen, "
              "dus geen coëfficiënt. n/a: niet gedefinieerd als regels en codeur overal hetzelfde ene antwoord "
              "gaven; geen interval waar de trekkingen niet kunnen variëren. AC1 (Gwet) misleidt niet bij "
              "zeldzame thema's, zoals kappa dat doet.")
    if table["few"].any():
        print(f"*: fewer than {MIN_AGREEMENT_ROWS} answers; the coefficient says little." if en else
              f"*: minder dan {MIN_AGREEMENT_ROWS} antwoorden; de coëfficiënt zegt weinig.")
    if args.out:
        written = agreement_table(table, codebook=codebook, english=en)
        write_atomic(args.out, written.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        print(f"wrote {args.out}")
    return 0


def _preview(args) -> int:
    from pipeline.app.preview import serve
    if not 0 <= args.port <= 65535:
        raise PipelineError(f"preview: --port {args.port} is not a port; give a number from 1024 to 65535 "
                            "(0: any free one).")
    serve(wave=args.wave, waves=args.waves, config=args.config, port=args.port, say=_say(args))
    return 0


def _review(args) -> int:
    from pipeline.app.review import serve
    if not 0 <= args.port <= 65535:
        raise PipelineError(f"review: --port {args.port} is not a port; give a number from 1024 to 65535 "
                            "(0: any free one).")
    if args.sample is not None and args.sample < 1:
        raise PipelineError(f"review: --sample {args.sample}: give the number of answers to draw, such as 40.")
    serve(wave=args.wave, waves=args.waves, config=args.config, port=args.port, blind=args.blind,
          sample=args.sample, seed=args.seed, say=_say(args))
    return 0


COMMANDS = {"inspect": _inspect, "preview": _preview, "review": _review, "run": _run, **{name: _run for name in STAGES},
            "new-wave": _new_wave, "fetch": _fetch, "make-vars": _make_vars, "migrate-corrections": _migrate_corrections,
            "codebook-eval": _codebook_eval, "coding-sheet": _coding_sheet, "coding-import": _coding_import, "agreement": _agreement,
            "quotes": _quotes, "groups": _groups}


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
    from pipeline.waves.output_folder import abandon_staging
    abandon_staging()
    print("error: stopped (SIGTERM); nothing was moved into place.", file=sys.stderr, flush=True)
    os._exit(1)


def _one_line(message: str) -> str:
    """A message as one line: control characters (a newline in a file name, say) shown as their escapes."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], message)


def main(argv: list[str] | None = None) -> int:
    import signal
    args = _parser().parse_args(argv)
    _arrow_memory_returned_soon()
    previous = signal.signal(signal.SIGTERM, _terminated) if _in_main_thread() else None
    try:
        return COMMANDS[args.command](args)
    except PipelineError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing was moved into place.", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line for the researcher, the traceback with --debug
        if args.debug:
            raise
        print(f"error: unexpected {exc.__class__.__name__}: {_one_line(str(exc))}. This is a bug in the pipeline; run again "
              "with --debug and report the output.", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()
