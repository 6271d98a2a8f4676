"""Benchmarks of the pipeline, written to bench/RESULTS.md. Run with `make bench`.

(a) `make report` on the embedded dataset from nothing against the bare import time of the pipeline's
libraries (the import floor); (b) `make report` when nothing changed; (c) after a template edit, and
which stages ran; (d) ingest to tables on N synthetic responses against pandas.read_csv of the same file,
with peak memory; (e) render (HTML and PDF) for 100 and 500 networks; (f) `python -m pipeline run` from
nothing on a second wave's export (synthetic, 40 networks) against the floor; (g) the live preview: from
saving a text, a template or the codebook to the new HTML being served; and codebook-eval: precision,
recall and F1 of the coding rules and of the coder's suggestions.

The machine may be shared: (a) and (f) are the best of three runs, each from nothing, and the floor the
best of three, all in the same run. `--compare DIR` measures (a) and (f) of another checkout too (for
instance main before a change), alternating with this one, so before and after come from one run.

    python bench/run.py [--sizes 10000 100000] [--networks 100 500] [--compare DIR] [--out bench/RESULTS.md]
                        [--codebook-only]
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
# Every library of pyproject's dependencies (python-docx and XlsxWriter joined the floor with the Word edition
# and the large workbook; the floor without them is measured too, as the figures before were against it).
IMPORTS_BEFORE = ("import pandas, pyarrow, pyreadstat, openpyxl, yaml, rapidfuzz, snowballstemmer, jinja2, babel, "
                  "matplotlib, matplotlib.figure, weasyprint")
IMPORTS = IMPORTS_BEFORE + ", docx, xlsxwriter"
STAGES = ("ingest", "normalise", "code", "aggregate", "charts", "render")


def measured(command: list[str], **kwargs) -> tuple[float, str, int, float]:
    """(seconds, stdout, peak resident memory in MB, CPU seconds) of one command; the CPU seconds are its
    own and its child processes' (user and system), which a busy machine does not inflate as it does
    the wall clock."""
    start = time.perf_counter()
    # A fresh wrapper process per command, so ru_maxrss of RUSAGE_CHILDREN is this command's own peak.
    wrapper = [PYTHON, "-c", "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print('PEAK_KB', u.ru_maxrss, 'CPU_S', u.ru_utime + u.ru_stime, file=sys.stderr); "
               "sys.exit(r.returncode)", *command]
    kwargs.setdefault("cwd", ROOT)
    done = subprocess.run(wrapper, capture_output=True, text=True, **kwargs)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    usage = next(line.split() for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return seconds, done.stdout, int(usage[1]) // 1024, float(usage[3])


def timed(command: list[str], **kwargs) -> tuple[float, str, int]:
    """(seconds, stdout, peak resident memory in MB of this child) of one command."""
    return measured(command, **kwargs)[:3]


def best(command: list[str], runs: int = 3) -> float:
    return min(timed(command)[0] for _ in range(runs))


def stages_ran(output: str) -> list[str]:
    return [s for s in STAGES if any(line.startswith(s) for line in output.splitlines())]


def full_runs(work: Path, projects: dict[str, Path], runs: int = 3) -> dict:
    """(a) `make report` and (f) `python -m pipeline run` from nothing, best of `runs`, for each project
    (a checkout), taking turns so that a busy machine weighs on each alike."""
    export = generate(40, work / "second_wave.csv")
    times: dict[str, dict[str, list[tuple[float, float]]]] = {name: {"make": [], "run": []} for name in projects}
    for i in range(runs):
        for number, (name, root) in enumerate(projects.items()):
            python = str(root / ".venv" / "bin" / "python")
            base = work / f"full_{number}_{i}"
            wall, _, _, cpu = measured(["make", "report", f"PROCESSED={base}/make_processed", f"OUT={base}/make_out"],
                                       cwd=root)
            times[name]["make"].append((wall, cpu))
            wall, _, _, cpu = measured([python, "-m", "pipeline", "run", "--export", str(export), "--processed",
                                        str(base / "run_processed"), "--out", str(base / "run_out"), "--quiet"],
                                       cwd=root)
            times[name]["run"].append((wall, cpu))
            shutil.rmtree(base, ignore_errors=True)
    # The fastest run's wall clock, and the least CPU time of any run.
    return {name: {**{kind: min(w for w, _ in v) for kind, v in t.items()},
                   **{f"{kind}_cpu": min(c for _, c in v) for kind, v in t.items()}} for name, t in times.items()}


def bench_preview(work: Path, root: Path = ROOT) -> dict:
    """(g) Seconds from saving a file to the preview serving the new HTML: a text, a template, the codebook,
    and the first text edit after the start on its own (`first_edit`). Runs the preview of the checkout
    `root` on a copy of wave 2018 and of config/, on a free port."""
    import urllib.request
    work = work / f"preview_{abs(hash(str(root)))}"
    waves, config = work / "preview_waves", work / "preview_config"
    shutil.copytree(ROOT / "waves" / "2018", waves / "2018", ignore=shutil.ignore_patterns("processed"))
    shutil.copytree(ROOT / "config", config)
    (waves / "2018" / "templates").mkdir()
    template = waves / "2018" / "templates" / "report.html"
    template.write_text('{% extends "default:report.html" %}\n', encoding="utf-8")
    wave_yaml = waves / "2018" / "wave.yaml"
    text = wave_yaml.read_text(encoding="utf-8").replace("../../data/raw/", f"{ROOT}/data/raw/")
    wave_yaml.write_text(text.replace("templates: null", "templates: templates"), encoding="utf-8")
    server = subprocess.Popen([PYTHON, "-m", "pipeline", "--config", str(config), "--waves", str(waves), "preview",
                               "--wave", "2018", "--port", "0"], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        start = time.perf_counter()
        for line in server.stdout:
            if "serving http://" in line:
                url = line.split("serving ", 1)[1].split()[0].rstrip("/")
                break
        else:
            raise SystemExit("benchmark: the preview did not start")
        first = time.perf_counter() - start

        def version() -> int:
            with urllib.request.urlopen(url + "/__preview__/version", timeout=30) as answer:
                return int(answer.read())

        def after_save(path: Path, content: str) -> float:
            before = version()
            path.write_text(content, encoding="utf-8")
            saved = time.perf_counter()
            while version() == before:
                time.sleep(0.02)
            with urllib.request.urlopen(url + "/", timeout=30) as answer:
                answer.read()
            return time.perf_counter() - saved

        texts = waves / "2018" / "texts" / "inleiding.md"
        edits = [after_save(texts, texts.read_text(encoding="utf-8") + f"\n\nZin {i}.\n") for i in range(4)]
        first_edit, text_edit = edits[0], min(edits[1:])
        template_edit = min(after_save(template, template.read_text(encoding="utf-8") + "{# edit #}\n")
                            for _ in range(3))
        codebook = config / "codebook.yaml"
        codebook_edit = min(after_save(codebook, codebook.read_text(encoding="utf-8") + f"\n# edit {i}\n")
                            for i in range(2))
    finally:
        server.send_signal(2)   # Ctrl-C
        server.wait(timeout=30)
    return {"first": first, "first_edit": first_edit, "text": text_edit, "template": template_edit,
            "codebook": codebook_edit}


def bench_make(work: Path) -> dict:
    processed, out = work / "processed", work / "out"
    make = ["make", "report", f"PROCESSED={processed}", f"OUT={out}"]
    full, _, peak = timed(make)
    nothing, output_nothing, _ = timed(make)
    template = ROOT / "templates" / "report.html"
    os.utime(template)   # a template edit, as make sees it: the file is newer than the report
    after_edit, output_edit, _ = timed(make)
    return {"full_peak": peak, "nothing": nothing, "nothing_stages": stages_ran(output_nothing),
            "edit": after_edit, "edit_stages": stages_ran(output_edit)}


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


def report(floors: dict, full: dict, make_figures: dict, scale: list[dict], render: list[dict],
           preview: dict | None) -> str:
    m, floor = make_figures, floors["now"]
    lines = [
        "# Benchmark results", "",
        f"Measured {date.today().isoformat()} on {machine()}, by `make bench` (bench/run.py).",
        "Times are wall-clock seconds of separate processes, interpreter start included; (a) and (f) are the "
        "best of three runs from nothing, the floor the best of three imports, all in this one run. The import "
        f"floor is the bare import of every library in pyproject's dependencies: {floor:.2f} s "
        f"({floors['before']:.2f} s without python-docx and XlsxWriter, the floor of the figures before; "
        f"{floors['cpu']:.2f} s of CPU). CPU is the run's own and its child processes' user and system time: "
        "on a machine shared with others it is the steadier figure, and CPU / 2 is what no schedule on two "
        "cores can beat.", "",
        "| Measure | Result | Target | |", "|---|---|---|---|",
    ]
    for name, t in full.items():
        label = "" if name == "this checkout" else f" ({name})"
        lines += [
            f"| (a) `make report`, embedded dataset, from nothing{label} | {t['make']:.1f} s = "
            f"{t['make'] / floor:.1f} x the import floor; CPU {t['make_cpu']:.1f} s | at most 3 x | "
            f"{verdict(t['make'] <= 3 * floor)} |",
            f"| (f) `python -m pipeline run`, a second wave's export (40 networks), from nothing{label} | "
            f"{t['run']:.1f} s = {t['run'] / floor:.1f} x the import floor; CPU {t['run_cpu']:.1f} s | at most 3 x | "
            f"{verdict(t['run'] <= 3 * floor)} |"]
    lines += [
        f"| (a) peak memory of `make report` | {m['full_peak']} MB | | |",
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
    if preview:
        p = preview
        lines += [
            f"| (g) preview: the first text saved after the start, to the new HTML served | {p['first_edit']:.2f} s "
            f"| under 1 s | {verdict(p['first_edit'] < 1)} |",
            f"| (g) preview: a text saved (later edits), to the new HTML served | {p['text']:.2f} s | under 1 s | "
            f"{verdict(p['text'] < 1)} |",
            f"| (g) preview: a template saved, to the new HTML served | {p['template']:.2f} s | under 1 s | "
            f"{verdict(p['template'] < 1)} |",
            f"| (g) preview: the codebook saved, to the new HTML served (code, aggregate, charts, HTML) | "
            f"{p['codebook']:.1f} s | under 5 s | {verdict(p['codebook'] < 5)} |",
            f"| (g) preview: started, to the first HTML served (every stage but the PDF and Word) | "
            f"{p['first']:.1f} s | | |"]
    if not scale:
        return "\n".join(lines) + "\n"
    lines += ["", "## Per stage (d)", "",
              "(d) above is one process, `python -m pipeline run --to aggregate`. Here each stage runs in a process "
              "of its own (time and peak memory), imports included.", "",
              "| Responses | " + " | ".join(scale[0]["stages"]) + " |", "|---|" + "---|" * len(scale[0]["stages"])]
    for row in scale:
        lines.append(f"| {row['n']:,} | " + " | ".join(f"{row['stages'][s]:.1f} s, {row['stage_peaks'][s]} MB"
                                                      for s in row["stages"]) + " |")
    return "\n".join(lines) + "\n"


# --- issue 22.3 and 22.4: many responses, in CPU time and peak memory, and the preview's first edit ----
BIG_HEADING = "## Many responses and the preview's first edit (CPU time, peak memory; before and after)"
BIG_STAGES = ("ingest", "normalise", "code", "aggregate")


def bench_big(work: Path, sizes: list[int], projects: dict[str, Path]) -> dict:
    """Per checkout (taking turns, so a busy machine weighs on each alike) and per size: read_csv of the
    export and ingest-to-tables in one process (`run --to aggregate`), then each stage in a process of its
    own; every figure as (wall seconds, CPU seconds of the process and its children, peak RSS in MB)."""
    out: dict = {name: {} for name in projects}
    for n in sizes:
        export = generate(n, work / f"big_{n}.csv")
        for number, (name, root) in enumerate(projects.items()):
            print(f"bench      {n:,} responses, {name}", flush=True)
            read_csv = min((measured([PYTHON, "-c", f"import pandas; pandas.read_csv({str(export)!r}, header=[0], "
                                      "skiprows=[1, 2])"], cwd=root) for _ in range(2)), key=lambda m: m[3])
            processed = work / f"big_processed_{number}_{n}"
            whole = measured([PYTHON, "-m", "pipeline", "run", "--export", str(export), "--processed", str(processed),
                              "--to", "aggregate", "--quiet"], cwd=root)
            shutil.rmtree(processed, ignore_errors=True)
            stages = {}
            for stage in BIG_STAGES:
                args = [PYTHON, "-m", "pipeline", stage, "--processed", str(processed), "--quiet"]
                if stage == "ingest":
                    args[4:4] = ["--export", str(export)]
                stages[stage] = measured(args, cwd=root)
            shutil.rmtree(processed, ignore_errors=True)
            out[name][n] = {"bytes": export.stat().st_size, "read_csv": read_csv, "whole": whole, "stages": stages}
        export.unlink()
    return out


def big_section(big: dict, previews: dict[str, dict]) -> str:
    """RESULTS.md's section of bench_big's figures and of the preview's first edit, per checkout."""
    lines = [BIG_HEADING, "",
             "Measured while other sessions kept the two CPUs busy, so the wall times (in brackets) were taken on "
             "a loaded machine and say little; the CPU time (user and system of the process and its children, "
             "`resource.getrusage`) and the peak resident memory, which the load changes little, are the "
             "figures to read. The ratio is CPU time against that of `pandas.read_csv` of the same file (both "
             "with interpreter start and imports). Each checkout's runs took turns with the other's.", "",
             "| Checkout | Responses | read_csv CPU | ingest to tables: CPU (wall) | x read_csv | peak | Target |",
             "|---|---|---|---|---|---|---|"]
    for name, sizes in big.items():
        for n, row in sizes.items():
            ratio = row["whole"][3] / row["read_csv"][3]
            lines.append(f"| {name} | {n:,} ({row['bytes'] / 1e6:.0f} MB) | {row['read_csv'][3]:.1f} s | "
                         f"{row['whole'][3]:.1f} s ({row['whole'][0]:.0f} s) | {ratio:.1f} | {row['whole'][2]} MB | "
                         f"at most 30 x: {verdict(ratio <= 30)}; under 1 GB: {verdict(row['whole'][2] < 1024)} |")
        if len(sizes) >= 2:
            first, last = min(sizes), max(sizes)
            grew = sizes[last]["whole"][3] / sizes[first]["whole"][3]
            lines.append(f"| {name} | linearity {first:,} -> {last:,} | | CPU grew {grew:.2f} x for {last / first:.0f} x "
                         f"the responses ({grew / (last / first):.2f} of linear) | | | linear: "
                         f"{verdict(grew / (last / first) <= 1.3)} |")
    lines += ["", "Each stage in a process of its own, CPU seconds and peak memory (imports included):", "",
              "| Checkout | Responses | " + " | ".join(BIG_STAGES) + " |", "|---|---|" + "---|" * len(BIG_STAGES)]
    for name, sizes in big.items():
        for n, row in sizes.items():
            lines.append(f"| {name} | {n:,} | " + " | ".join(f"{row['stages'][s][3]:.1f} s, {row['stages'][s][2]} MB"
                                                           for s in BIG_STAGES) + " |")
    if previews:
        lines += ["", "The live preview, from a save to the new HTML served (wall seconds; the preview is one "
                  "process, so the load weighs on these):", "",
                  "| Checkout | first text edit after the start | later text edits (best of 3) | template | codebook |",
                  "|---|---|---|---|---|"]
        for name, p in previews.items():
            lines.append(f"| {name} | {p['first_edit']:.2f} s | {p['text']:.2f} s | {p['template']:.2f} s | "
                         f"{p['codebook']:.1f} s |")
    return "\n".join(lines) + "\n"


def with_section(text: str, heading: str, section: str) -> str:
    """`text` (RESULTS.md) with the section under `heading` replaced by `section`, or `section` added above
    the appended analysis."""
    start = text.find(heading)
    if start < 0:
        analysis = text.find("\n## Analysis")
        if analysis >= 0:
            return text[:analysis + 1] + section + "\n" + text[analysis + 1:]
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(heading))
    return text[:start] + section + (text[end:] if end >= 0 else "")


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
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="none: skip (d)")
    parser.add_argument("--networks", type=int, nargs="*", default=[100, 500], help="none: skip (e)")
    parser.add_argument("--compare", type=Path, help="another checkout (with its .venv) to measure (a) and (f) of too")
    parser.add_argument("--no-preview", action="store_true", help="skip (g)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--analysis", type=Path, default=ROOT / "bench" / "ANALYSIS.md",
                        help="a hand-written analysis appended under the figures, if it exists")
    parser.add_argument("--codebook-only", action="store_true",
                        help="only run codebook-eval and rewrite its section of --out")
    parser.add_argument("--big", type=int, nargs="*", default=None, metavar="N",
                        help="only measure ingest-to-tables at these sizes (with --compare, of that checkout too) "
                             "and the preview's first edit, and rewrite that section of --out")
    args = parser.parse_args()
    if args.big is not None:
        projects = {"this checkout": ROOT, **({str(args.compare): args.compare.resolve()} if args.compare else {})}
        with tempfile.TemporaryDirectory(prefix="wsd-bench-") as tmp:
            previews = {} if args.no_preview else {name: bench_preview(Path(tmp), root)
                                                   for name, root in projects.items()}
            big = bench_big(Path(tmp), args.big or [25_000, 50_000, 100_000], projects)
        section = big_section(big, previews)
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        args.out.write_text(with_section(old, BIG_HEADING, section), encoding="utf-8")
        print(section)
        return
    print("bench      codebook-eval", flush=True)
    codebook = codebook_section()
    if args.codebook_only:
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        args.out.write_text(with_codebook_section(old, codebook), encoding="utf-8")
        print(codebook)
        return
    with tempfile.TemporaryDirectory(prefix="wsd-bench-") as tmp:
        work = Path(tmp)
        print("bench      (a, f) full runs from nothing, and the import floor", flush=True)
        floors = {"now": best([PYTHON, "-c", IMPORTS]), "before": best([PYTHON, "-c", IMPORTS_BEFORE]),
                  "cpu": min(measured([PYTHON, "-c", IMPORTS])[3] for _ in range(3))}
        projects = {"this checkout": ROOT}
        if args.compare:
            projects[str(args.compare)] = args.compare.resolve()
        full = full_runs(work, projects)
        print("bench      (b, c) make report with nothing changed, and after a template edit", flush=True)
        make_figures = bench_make(work)
        preview = None
        if not args.no_preview:
            print("bench      (g) the live preview", flush=True)
            preview = bench_preview(work)
        print(f"bench      (d) ingest to tables on {', '.join(map(str, args.sizes))} responses", flush=True)
        scale = bench_scale(work, args.sizes)
        print(f"bench      (e) render for {', '.join(map(str, args.networks))} networks", flush=True)
        render = bench_render(work, args.networks)
    text = report(floors, full, make_figures, scale, render, preview) + "\n" + codebook
    if args.analysis.exists():
        text += "\n" + args.analysis.read_text(encoding="utf-8")
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
