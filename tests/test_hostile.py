"""The hostile corpus of tests/hostile.py through the whole run: a complete report with a warning, or exit
status 1 with one clear line; never a traceback, never a partial output folder, never a changed raw file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import shared_run
from hostile import CASES
from pipeline.app.cli import main


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hostile_run(tmp_path_factory, case: str) -> Path:
    """The run of one case of the corpus, made once for the session (the one-megabyte answer is read by two
    tests): the export, out/, processed/, and run.json with the exit status, what the run printed and the
    export's digest before it."""
    def build(folder: Path) -> None:
        import contextlib
        import io
        export = CASES[case][0](folder / f"{case}.csv")
        before = _digest(export)
        printed, errors = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
            code = main(["run", "--export", str(export), "--out", str(folder / "out"),
                         "--processed", str(folder / "processed")])
        record = {"export": str(export), "before": before, "code": code, "out": printed.getvalue(),
                  "err": errors.getvalue()}
        (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return shared_run(tmp_path_factory, f"hostile-{case}", build)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_export(case, tmp_path_factory):
    _, outcome, text = CASES[case]
    folder = hostile_run(tmp_path_factory, case)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    code, out = run["code"], folder / "out"
    assert "Traceback" not in run["err"] + run["out"]
    assert _digest(Path(run["export"])) == run["before"], "the raw export was changed"
    assert not [p for p in folder.iterdir() if p.name.startswith(".out")], "a staging folder was left behind"
    if outcome == "error":
        assert code == 1
        assert run["err"].startswith("error: ") and run["err"].count("\n") == 1 and text in run["err"]
        assert not out.exists()
    else:
        assert code == 0, run["err"]
        assert (out / "report.pdf").stat().st_size > 0 and (out / "manifest.json").exists()
        assert text in run["out"]


def test_a_one_megabyte_answer_is_shortened_in_the_report_and_kept_whole(tmp_path_factory):
    folder = hostile_run(tmp_path_factory, "one_megabyte_answer")
    assert json.loads((folder / "run.json").read_text(encoding="utf-8"))["code"] == 0
    html = (folder / "out" / "report.html").read_text(encoding="utf-8")
    assert "[ingekort: 1.000.000 tekens]" in html and len(html) < 500_000
    import pandas as pd
    networks = pd.read_parquet(folder / "processed" / "networks.parquet")
    assert networks["q7"].str.len().max() > 990_000


def test_an_export_where_nothing_is_dropped(tmp_path):
    """Regression: with no preview, test, unfinished or duplicate response, the empty drop log failed its schema."""
    import variants
    from conftest import EMBEDDED_EXPORT
    rows = variants.read_rows(EMBEDDED_EXPORT)
    status, finished = rows[0].index("Status"), rows[0].index("Finished")
    q3 = rows[0].index("Q3")
    clean = rows[:3] + [r for r in rows[3:] if r[status] == "IP Address" and r[finished] == "True"]
    names = [r[q3] for r in clean[3:]]
    clean = clean[:3] + [r for i, r in enumerate(clean[3:]) if names.index(r[q3]) == i or r[q3] == "Geen naam"]
    export = variants.write_csv(clean, tmp_path / "clean.csv")
    assert main(["run", "--export", str(export), "--out", str(tmp_path / "out"),
                 "--processed", str(tmp_path / "processed"), "--quiet"]) == 0
    assert (tmp_path / "processed" / "drops.csv").read_text(encoding="utf-8") == "row,response_key,reason,detail\n"
