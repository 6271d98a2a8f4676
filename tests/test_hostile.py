"""The hostile corpus of tests/hostile.py through the whole run: a complete report with a warning, or exit
status 1 with one clear line; never a traceback, never a partial output folder, never a changed raw file."""

from __future__ import annotations

import hashlib

import pytest

from hostile import CASES
from pipeline.cli import main


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_export(case, tmp_path, capsys):
    make, outcome, text = CASES[case]
    export = make(tmp_path / f"{case}.csv")
    before = hashlib.sha256(export.read_bytes()).hexdigest()
    out = tmp_path / "out"
    code = main(["run", "--export", str(export), "--out", str(out), "--processed", str(tmp_path / "processed")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert hashlib.sha256(export.read_bytes()).hexdigest() == before, "the raw export was changed"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "a staging folder was left behind"
    if outcome == "error":
        assert code == 1
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1 and text in captured.err
        assert not out.exists()
    else:
        assert code == 0, captured.err
        assert (out / "report.pdf").stat().st_size > 0 and (out / "manifest.json").exists()
        assert text in captured.out


def test_a_one_megabyte_answer_is_shortened_in_the_report_and_kept_whole(tmp_path, capsys):
    make = CASES["one_megabyte_answer"][0]
    export = make(tmp_path / "long.csv")
    assert main(["run", "--export", str(export), "--out", str(tmp_path / "out"),
                 "--processed", str(tmp_path / "processed"), "--quiet"]) == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "[ingekort: 1.000.000 tekens]" in html and len(html) < 500_000
    import pandas as pd
    networks = pd.read_parquet(tmp_path / "processed" / "networks.parquet")
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
