"""`make report` as researchers run it: the stages an edit affects run, in one process, and nothing else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, report_tables
from pipeline.app.cli import STAGES, main

def _make(processed: Path, out: Path, *extra: str) -> tuple[int, list[str], str]:
    done = subprocess.run(["make", "--no-print-directory", "report", f"PROCESSED={processed}", f"OUT={out}", *extra],
                          cwd=ROOT, capture_output=True, text=True)
    ran = [s for s in STAGES if any(line.startswith(s) for line in done.stdout.splitlines())]
    return done.returncode, ran, done.stdout + done.stderr


@pytest.mark.usefixtures("make_and_venv")
def test_make_report_runs_only_what_changed_and_resumes_after_a_failure(tmp_path):
    """Also: an edit of any file the table of stages names re-runs the stage that names it."""
    processed, out = tmp_path / "processed", tmp_path / "out"
    code, ran, output = _make(processed, out)
    assert code == 0 and ran == list(STAGES), output
    assert (out / "report.pdf").exists() and not (processed / ".due-stages").exists()

    code, ran, output = _make(processed, out)
    assert code == 0 and ran == [] and "report     wave 2018 (the default: WAVE=<name> builds another" in output \
        and f"{out}/ is up to date" in output, output
    _each_named_file_makes_its_stage_due(processed, out)

    texts = tmp_path / "texts"
    shutil.copytree(ROOT / "waves" / "2018" / "texts", texts)
    code, ran, output = _make(processed, out, f"TEXTS={texts}")
    assert code == 0 and ran == ["render"], output

    # A run that stopped after noting the coding stage as due starts there next time.
    (processed / ".due-stages").write_text("code\naggregate\n")
    code, ran, output = _make(processed, out, f"TEXTS={texts}")
    assert code == 0 and ran == ["code", "aggregate", "charts", "render"], output
    assert not (processed / ".due-stages").exists()


def test_run_from_a_later_stage_reads_the_earlier_ones(embedded_report, tmp_path, capsys):
    processed, out = tmp_path / "processed", tmp_path / "out"
    shutil.copytree(embedded_report / "processed", processed)     # a complete run, to start again from charts
    shutil.copytree(embedded_report / "out", out)
    before = (processed / "responses.parquet").stat().st_mtime_ns
    assert main(["run", "--from", "render", "charts", "--processed", str(processed), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("charts ") and "ingest" not in printed and "aggregate" not in printed
    assert (processed / "responses.parquet").stat().st_mtime_ns == before

    assert main(["run", "--processed", str(processed), "--out", str(out)]) == 1
    assert "--export" in capsys.readouterr().err


def test_run_to_a_stage_stops_there(tmp_path, capsys, instrument):
    processed = tmp_path / "processed"
    assert main(["run", "--export", str(ROOT / "data" / "raw" / "wsd_leernetwerken_2018.csv"),
                 "--processed", str(processed), "--to", "aggregate"]) == 0
    printed = capsys.readouterr().out
    assert f"aggregate  {len(report_tables(instrument))} tables" in printed
    assert "charts" not in printed and "render" not in printed
    assert (processed / "tables.xlsx").exists() and not (processed / "charts.json").exists()



def _makefile_prerequisites(folder: Path) -> dict[str, list[str]]:
    """Every target of the Makefile with its prerequisites, variables expanded (make's own database), the
    processed folder shown as P/ and the output folder as O/. Make writes its notes into `folder`."""
    processed, out = folder / "P", folder / "O"
    done = subprocess.run(["make", "-pRrn", f"PROCESSED={processed}", f"OUT={out}", "report"], cwd=ROOT,
                          capture_output=True, text=True)
    rules = {}
    for line in done.stdout.splitlines():
        if ":" in line and not line.startswith(("#", "\t", " ")) and "=" not in line.split(":", 1)[0]:
            target, _, prerequisites = line.partition(":")
            names = [p.replace(f"{processed}/", "P/").replace(f"{out}/", "O/") for p in prerequisites.split()]
            target = target.replace(f"{processed}/", "P/").replace(f"{out}/", "O/")
            if target.startswith(("P/", "O/")) and not prerequisites.startswith("="):
                rules[target] = names
    return rules


@pytest.mark.usefixtures("make_and_venv")
def test_the_makefile_follows_the_table_of_stages(tmp_path):
    """Each stage's Makefile target depends on its modules, its config files and (through the target of the
    stage that writes them) on what it reads, and on no pipeline module or config file the table omits."""
    from pipeline.app.stages import STAGES as TABLE
    rules = _makefile_prerequisites(tmp_path)
    writer = {f: stage.writes[0] for stage in TABLE for f in stage.writes}
    common = {"pipeline/app/cli.py", "pipeline/app/runner.py", "pipeline/app/stages.py", "pipeline/core/stage.py",
              "pipeline/core/config.py", "pipeline/core/schemas.py", "pipeline/core/errors.py"}
    for stage in TABLE:
        target = f"P/{stage.writes[0]}" if stage.writes else "O/manifest.json"
        assert target in rules, f"the Makefile has no target for stage {stage.name}"
        prerequisites = set(rules[target])
        expected = {f"pipeline/{m}.py" for m in stage.modules} | {f"config/{c}" for c in stage.config}
        expected |= {f"P/{writer[f]}" for f in stage.reads}
        expected |= {f"waves/2018/{f}" for f in stage.wave if (ROOT / "waves" / "2018" / f).exists()}
        assert expected <= prerequisites, (stage.name, sorted(expected - prerequisites))
        declared = {p for p in prerequisites if p.startswith(("pipeline/", "config/"))}
        assert declared <= expected | common, (stage.name, sorted(declared - expected - common))
    assert [s.name for s in TABLE] == list(STAGES)


def _each_named_file_makes_its_stage_due(processed: Path, out: Path) -> None:
    """For every module, config file and wave file in the table, make (told with -W that the file is new)
    notes as due the earliest stage that names it, and so re-runs it and what follows. A file the table
    forgets (config/questionnaire.yaml once) would leave the report as it was."""
    from pipeline.app.stages import STAGES as TABLE
    named = {}
    for stage in TABLE:
        files = [f"pipeline/{m}.py" for m in stage.modules] + [f"config/{c}" for c in stage.config] + \
                [f"waves/2018/{w}" for w in stage.wave if (ROOT / "waves" / "2018" / w).exists()]
        for name in files:
            named.setdefault(name, stage.name)
    assert "config/questionnaire.yaml" in named
    for name, stage in named.items():
        done = subprocess.run(["make", "--no-print-directory", "-n", "-W", name, "report", f"PROCESSED={processed}",
                               f"OUT={out}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        noted = [s.name for s in TABLE if f"echo {s.name} >>" in done.stdout]
        if stage == "render":
            assert noted == [] and " run --wave " in done.stdout, (name, done.stdout)
        else:
            assert noted and noted[0] == stage, (name, noted)
