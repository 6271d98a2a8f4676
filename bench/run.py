"""Benchmarks of the pipeline, written to bench/RESULTS.md. Run with `make bench`.

(a) `make report` on the embedded dataset against the bare import time of the dependencies;
(b) `make report` when nothing changed; (c) after a template edit, and which stages ran;
(d) ingest to tables on N synthetic responses against pandas.read_csv of the same file, with peak memory;
(e) render (HTML and PDF) for 100 and 500 networks;
and codebook-eval: precision, recall and F1 of the coding rules and of the coder's suggestions.

    python bench/run.py [--sizes 10000 100000] [--networks 100 500] [--out bench/RESULTS.md] [--codebook-only]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
IMPORTS = ("import pandas, pyarrow, pyreadstat, openpyxl, yaml, rapidfuzz, snowballstemmer, jinja2, babel, "
           "matplotlib, matplotlib.figure, weasyprint")
STAGES = ("ingest", "normalise", "code", "aggregate", "charts", "render")


def timed(command: list[str], **kwargs) -> tuple[float, str, int]:
    """(seconds, stdout, peak resident memory in MB of this child) of one command."""
    start = time.perf_counter()
    # A fresh wrapper process per command, so ru_maxrss of RUSAGE_CHILDREN is this command's own peak.
    wrapper = [PYTHON, "-c", "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(r.returncode)", *command]
    done = subprocess.run(wrapper, capture_output=True, text=True, cwd=ROOT, **kwargs)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return seconds, done.stdout, peak // 1024


def best(command: list[str], runs: int = 3) -> float:
    return min(timed(command)[0] for _ in range(runs))


def stages_ran(output: str) -> list[str]:
    return [s for s in STAGES if any(line.startswith(s) for line in output.splitlines())]


def bench_make(work: Path) -> dict:
    processed, out = work / "processed", work / "out"
    make = ["make", "report", f"PROCESSED={processed}", f"OUT={out}"]
    floor = best([PYTHON, "-c", IMPORTS])
    full, _, peak = timed(make)
    nothing, output_nothing, _ = timed(make)
    template = ROOT / "templates" / "report.html"
    os.utime(template)   # a template edit, as make sees it: the file is newer than the report
    after_edit, output_edit, _ = timed(make)
    return {"floor": floor, "full": full, "full_peak": peak, "nothing": nothing,
            "nothing_stages": stages_ran(output_nothing), "edit": after_edit, "edit_stages": stages_ran(output_edit)}


def bench_scale(work: Path, sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        export = generate(n, work / f"export_{n}.csv")
        read_csv = best([PYTHON, "-c", f"import pandas; pandas.read_csv({str(export)!r}, header=[0], skiprows=[1, 2])"],
                        runs=2)
        processed = work / f"processed_{n}"
        total, _, peak = timed([PYTHON, "-m", "pipeline", "run", "--export", str(export), "--processed",
                                str(processed), "--to", "aggregate", "--quiet"])
        shutil.rmtree(processed, ignore_errors=True)
        per_stage, stage_peaks = {}, {}
        for stage in ("ingest", "normalise", "code", "aggregate"):
            args = [PYTHON, "-m", "pipeline", stage, "--processed", str(processed), "--quiet"]
            if stage == "ingest":
                args[4:4] = ["--export", str(export)]
            per_stage[stage], _, stage_peaks[stage] = timed(args)
        rows.append({"n": n, "bytes": export.stat().st_size, "read_csv": read_csv, "pipeline": total,
                     "peak_mb": peak, "stages": per_stage, "stage_peaks": stage_peaks})
        shutil.rmtree(processed, ignore_errors=True)
    return rows


def bench_render(work: Path, networks: list[int]) -> list[dict]:
    rows = []
    for n in networks:
        export = generate(n, work / f"render_{n}.csv")
        processed = work / f"render_processed_{n}"
        timed([PYTHON, "-m", "pipeline", "run", "--export", str(export), "--processed", str(processed),
               "--to", "charts", "--quiet"])
        seconds, _, peak = timed([PYTHON, "-m", "pipeline", "render", "--processed", str(processed),
                                  "--out", str(work / f"render_out_{n}"), "--quiet"])
        rows.append({"networks": n, "render": seconds, "peak_mb": peak})
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def linearity(label: str, a: dict, b: dict, *, time: str, size: str, unit: str) -> str:
    """A table row: how time grew from measurement a to b against how the size grew (1.0 = linear)."""
    grew, scaled = b[time] / a[time], b[size] / a[size]
    return (f"| {label} linearity, {a[size]:,} -> {b[size]:,} | time grew {grew:.1f} x for {scaled:.0f} x {unit} "
            f"({grew / scaled:.2f} of linear) | linear | {verdict(grew / scaled <= 1.3)} |")


def report(make_figures: dict, scale: list[dict], render: list[dict]) -> str:
    m = make_figures
    lines = [
        "# Benchmark results", "",
        f"Measured {date.today().isoformat()} on {machine()}, by `make bench` (bench/run.py).",
        "Times are wall-clock seconds of separate processes, interpreter start included.", "",
        "| Measure | Result | Target | |", "|---|---|---|---|",
        f"| (a) `make report`, embedded dataset, from nothing | {m['full']:.1f} s = {m['full'] / m['floor']:.1f} x the "
        f"import floor ({m['floor']:.2f} s) | at most 3 x | {verdict(m['full'] <= 3 * m['floor'])} |",
        f"| (b) `make report` when nothing changed | {m['nothing']:.2f} s (stages run: "
        f"{', '.join(m['nothing_stages']) or 'none'}) | under 0.5 s | {verdict(m['nothing'] < 0.5)} |",
        f"| (c) `make report` after a template edit | {m['edit']:.1f} s; stages run: {', '.join(m['edit_stages'])} "
        f"| no stage before render | {verdict(m['edit_stages'] == ['render'])} |",
    ]
    for row in scale:
        ratio = row["pipeline"] / row["read_csv"]
        lines.append(f"| (d) ingest to tables, {row['n']:,} responses ({row['bytes'] / 1e6:.0f} MB) | "
                     f"{row['pipeline']:.1f} s = {ratio:.1f} x read_csv ({row['read_csv']:.2f} s); peak "
                     f"{row['peak_mb']} MB | at most 3 x, under 1 GB | time {verdict(ratio <= 3)}, "
                     f"memory {verdict(row['peak_mb'] < 1024)} |")
    if len(scale) >= 2:
        lines.append(linearity("(d)", scale[0], scale[-1], time="pipeline", size="n", unit="the responses"))
    for row in render:
        lines.append(f"| (e) render HTML and PDF, {row['networks']} networks | {row['render']:.1f} s, peak "
                     f"{row['peak_mb']} MB | linear in networks | |")
    if len(render) >= 2:
        lines.append(linearity("(e)", render[0], render[-1], time="render", size="networks", unit="the networks"))
    lines += ["", "## Per stage (d)", "",
              "(d) above is one process, `python -m pipeline run --to aggregate`. Here each stage runs in a process "
              "of its own (time and peak memory), imports included.", "",
              "| Responses | " + " | ".join(scale[0]["stages"]) + " |", "|---|" + "---|" * len(scale[0]["stages"])]
    for row in scale:
        lines.append(f"| {row['n']:,} | " + " | ".join(f"{row['stages'][s]:.1f} s, {row['stage_peaks'][s]} MB"
                                                      for s in row["stages"]) + " |")
    return "\n".join(lines) + "\n"


# --- codebook-eval: how well the rules and the suggestions find the themes -----------------------------
CODEBOOK_HEADING = "## Coding: codebook-eval"


def codebook_section() -> str:
    """The figures of `python -m pipeline codebook-eval --suggestions --json`: precision, recall and F1 of
    the rules on the codebook's examples and on the validation set, and of the coder's suggestions."""
    done = subprocess.run([PYTHON, "-m", "pipeline", "codebook-eval", "--suggestions", "--json"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"codebook-eval failed:\n{done.stderr[-2000:]}")
    result = __import__("json").loads(done.stdout)

    def share(value):
        return "n/a" if value is None else f"{value:.2f}"
    lines = [CODEBOOK_HEADING, "",
             "`python -m pipeline codebook-eval` (written by `make bench`). The rules are written from the codebook's "
             "examples and the development set; the validation set is held out (answers coded by hand from the theme "
             "definitions only). Targets of issue 14: themes F1 at least 0.85 with precision at least 0.85 on unseen "
             "answers, methods F1 at least 0.95.", "",
             "| Set | Answers | Group | Precision | Recall | F1 | tp | fp | fn | Target |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in ("examples", "validation"):
        if name not in result:
            continue
        for r in result[name]["overall"]:
            target = ""
            if name == "validation":
                ok = (r["f1"] or 0) >= 0.85 and (r["precision"] or 0) >= 0.85 if r["set"] == "themes" \
                    else (r["f1"] or 0) >= 0.95
                target = verdict(ok)
            lines.append(f"| {name} | {result[name]['answers']} | {r['set']} | {share(r['precision'])} | "
                         f"{share(r['recall'])} | {share(r['f1'])} | {r['tp']} | {r['fp']} | {r['fn']} | {target} |")
    offered = result.get("validation", {}).get("suggestions")
    if offered:
        lines += ["", "Suggestions for the coder on the validation set (model fitted on the codebook's examples only, "
                  "threshold chosen on the development set): of the themes the rules missed, how many a suggestion "
                  "offers (recall) and how many suggestions are right (precision); *with rules* is the recall a coder "
                  "reaches who accepts every right suggestion.", "",
                  "| Group | Threshold | Suggestions | Precision | Recall | With rules |", "|---|---|---|---|---|---|"]
        for r in offered["after rules"]:
            lines.append(f"| {r['group']} | {r['threshold']:.2f} | {r['suggestions']} | {share(r['precision'])} | "
                         f"{share(r['recall'])} | {share(r['recall_with_rules'])} |")
    return "\n".join(lines) + "\n"


def with_codebook_section(text: str, section: str) -> str:
    """`text` (RESULTS.md) with its codebook-eval section replaced by `section`, or `section` added."""
    start = text.find(CODEBOOK_HEADING)
    if start < 0:
        analysis = text.find("\n## Analysis")    # the section stands above the appended analysis
        if analysis >= 0:
            return text[:analysis + 1] + section + "\n" + text[analysis + 1:]
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(CODEBOOK_HEADING))
    return text[:start] + section + (text[end:] if end >= 0 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the pipeline and write bench/RESULTS.md.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--networks", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--analysis", type=Path, default=ROOT / "bench" / "ANALYSIS.md",
                        help="a hand-written analysis appended under the figures, if it exists")
    parser.add_argument("--codebook-only", action="store_true",
                        help="only run codebook-eval and rewrite its section of --out")
    args = parser.parse_args()
    print("bench      codebook-eval", flush=True)
    codebook = codebook_section()
    if args.codebook_only:
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        args.out.write_text(with_codebook_section(old, codebook), encoding="utf-8")
        print(codebook)
        return
    with tempfile.TemporaryDirectory(prefix="wsd-bench-") as tmp:
        work = Path(tmp)
        print("bench      (a-c) make report on the embedded dataset", flush=True)
        make_figures = bench_make(work)
        print(f"bench      (d) ingest to tables on {', '.join(map(str, args.sizes))} responses", flush=True)
        scale = bench_scale(work, args.sizes)
        print(f"bench      (e) render for {', '.join(map(str, args.networks))} networks", flush=True)
        render = bench_render(work, args.networks)
    text = report(make_figures, scale, render) + "\n" + codebook
    if args.analysis.exists():
        text += "\n" + args.analysis.read_text(encoding="utf-8")
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
