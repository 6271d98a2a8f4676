"""Every input of tests/hardened.py through `run --to aggregate`: a correct read (with its warning) or exit
status 1 with one clean line naming the file; never "a bug in the pipeline", never a hang, raw file untouched."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import pandas as pd
import pytest

import variants
from conftest import EMBEDDED_EXPORT
from hardened import CASES, NETWORKS
from pipeline.app.cli import main


def _digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    if path.stat().st_size > 1 << 26:   # the sparse giant: its size and time, not 32 GB read
        return f"{path.stat().st_size} {path.stat().st_mtime_ns}"
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def run_to_aggregate(export: Path, supplement: Path | None, processed: Path, capsys, seconds: int = 60):
    """(exit status, stdout, stderr) of `run --to aggregate`; fails the test after `seconds`."""
    argv = ["run", "--to", "aggregate", "--export", str(export), "--processed", str(processed)]
    if supplement is not None:
        argv += ["--supplement", str(supplement) if supplement != "" else ""]
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        code = main(argv)
    except _Timeout:
        pytest.fail(f"the run took more than {seconds} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_clean(code: int, out: str, err: str) -> None:
    """A correct read, or one line "error: ..." and exit status 1; no traceback, no bug message."""
    assert "Traceback" not in out + err
    assert "bug in the pipeline" not in err, err
    if code != 0:
        assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_hardened_input(case, tmp_path, capsys):
    make, outcome, text = CASES[case]
    made = make(tmp_path)
    export, supplement = made if isinstance(made, tuple) else (made, None)
    before = {p: _digest(p) for p in (export, supplement) if p is not None}
    processed = tmp_path / "processed"
    code, out, err = run_to_aggregate(export, supplement, processed, capsys)
    check_clean(code, out, err)
    assert {p: _digest(p) for p in before} == before, "an input was changed"
    if outcome == "error":
        assert code == 1, out
        assert text in err
        named = supplement if supplement is not None else export
        assert str(named) in err, err
        assert not (processed / "responses.parquet").exists()
    else:
        assert code == 0, err
        assert text in out
        networks = pd.read_parquet(processed / "networks.parquet")
        expected = NETWORKS.get(case, 15 + (2 if supplement is not None else 0))
        assert len(networks) == expected


def test_dates_with_z_and_offsets_are_read_in_the_exports_zone(tmp_path, instrument, settings):
    from pipeline.reading.ingest import ingest
    table = variants.read_rows(EMBEDDED_EXPORT)
    recorded, q3 = table[0].index("RecordedDate"), table[0].index("Q3")
    stamps = {"Project Venlo": "2018-10-01T10:00:00Z", "Leefwereldteam": "2018-10-01T10:00:00+01:00"}
    for row in table[3:]:
        row[recorded] = stamps.get(row[q3], row[recorded])
    result = ingest(export_path=variants.write_csv(table, tmp_path / "e.csv"), instrument=instrument, settings=settings)
    dates = dict(zip(result.responses["q3"], result.responses["recorded_date"]))
    assert dates["Project Venlo"] == pd.Timestamp("2018-10-01 12:00", tz="Europe/Amsterdam")
    assert dates["Leefwereldteam"] == pd.Timestamp("2018-10-01 11:00", tz="Europe/Amsterdam")
    assert not [w for w in result.warnings if "could not be read" in w]


def test_a_time_zone_is_looked_up_by_name_only():
    from pipeline.reading.qualtrics import time_zone_name
    assert time_zone_name("Europe/Amsterdam") == "Europe/Amsterdam"
    assert time_zone_name("Z") == "UTC"
    for bad in ("../../../../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", "Mars/Olympus_Mons", 5,
                None, {"a": 1}, "Europe/Amsterdam\x00", "", "a" * 500):
        assert time_zone_name(bad) is None, bad


def test_a_huge_head_count_leaves_the_label_and_no_count(tmp_path, capsys):
    make = CASES["head_count_400_digits"][0]
    code, out, err = run_to_aggregate(make(tmp_path), None, tmp_path / "p", capsys)
    assert code == 0, err
    involvement = pd.read_parquet(tmp_path / "p" / "involvement.parquet")
    assert "Docenten" in set(involvement["category_label"])
    assert "9" * 20 not in involvement.to_csv()


def test_rows_repeating_the_header_are_not_counted_and_keep_their_file_numbers(tmp_path, instrument, settings):
    from pipeline.reading.ingest import ingest
    table = variants.read_rows(EMBEDDED_EXPORT)
    table.insert(5, list(table[0]))
    result = ingest(export_path=variants.write_csv(table, tmp_path / "e.csv"), instrument=instrument, settings=settings)
    assert result.rows_in_file == 18 and (result.responses["source"] == "survey").sum() == 15
    assert any("data row(s) 3)" in w for w in result.warnings)
    assert 3 not in set(result.responses["row"]) | set(result.drops["row"])
    assert max(set(result.responses["row"]) | set(result.drops["row"])) == 19


def test_cr_line_endings_read_like_the_original(tmp_path, instrument, settings):
    from pipeline.reading.ingest import ingest
    made = CASES["cr_line_endings"][0](tmp_path)
    old_mac = ingest(export_path=made, instrument=instrument, settings=settings).responses
    original = ingest(export_path=EMBEDDED_EXPORT, instrument=instrument, settings=settings).responses
    pd.testing.assert_frame_equal(old_mac.drop(columns=[]), original)


def test_empty_supplement_path_runs_without_one(tmp_path, capsys):
    code, out, err = run_to_aggregate(EMBEDDED_EXPORT, "", tmp_path / "p", capsys)
    assert code == 0, err
    assert "networks from the supplement" not in out
    assert len(pd.read_parquet(tmp_path / "p" / "networks.parquet")) == 15


def test_supplement_without_read_permission(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads a file without read permission; the check cannot be seen as root")
    path = tmp_path / "supplement.csv"
    path.write_text("q2,q3\nWSD X,Netwerk A\n", encoding="utf-8")
    path.chmod(0)
    code, out, err = run_to_aggregate(EMBEDDED_EXPORT, path, tmp_path / "p", capsys)
    check_clean(code, out, err)
    assert code == 1 and "no read permission" in err and str(path) in err


def test_zip_bomb_is_refused_by_its_unpacked_size(tmp_path, capsys, monkeypatch):
    from pipeline.reading import qualtrics
    monkeypatch.setattr(qualtrics, "MAX_XLSX_RATIO", 10 ** 6)
    monkeypatch.setattr(qualtrics, "MAX_XLSX_UNPACKED", 32 << 20)
    export = CASES["xlsx_zip_bomb"][0](tmp_path)
    code, out, err = run_to_aggregate(export, None, tmp_path / "p", capsys)
    check_clean(code, out, err)
    assert code == 1 and "MAX_XLSX_UNPACKED" in err


def test_cell_and_row_limits_are_named(tmp_path, capsys, monkeypatch):
    from pipeline.reading import qualtrics
    monkeypatch.setattr(qualtrics, "MAX_CELLS", 500)
    code, out, err = run_to_aggregate(EMBEDDED_EXPORT, None, tmp_path / "p", capsys)
    assert code == 1 and "MAX_CELLS" in err and str(EMBEDDED_EXPORT) in err
    monkeypatch.setattr(qualtrics, "MAX_CELLS", 10 ** 8)
    monkeypatch.setattr(qualtrics, "MAX_ROWS", 5)
    code, out, err = run_to_aggregate(EMBEDDED_EXPORT, None, tmp_path / "p", capsys)
    assert code == 1 and "MAX_ROWS" in err
    monkeypatch.setattr(qualtrics, "MAX_COLUMNS", 10)
    code, out, err = run_to_aggregate(EMBEDDED_EXPORT, None, tmp_path / "p", capsys)
    assert code == 1 and "MAX_COLUMNS" in err


def test_an_export_without_the_q12_text_columns_says_so_at_ingest(tmp_path, capsys):
    from hardened import _without_q12_text
    export = _without_q12_text(tmp_path)
    code, out, err = run_to_aggregate(export, None, tmp_path / "p", capsys)
    check_clean(code, out, err)
    assert code == 1 and str(export) in err and "q12" in err and "participant categories" in err
    assert not (tmp_path / "p" / "responses.parquet").exists()
    assert main(["inspect", str(export)]) == 0
    assert "participant categories" in capsys.readouterr().out


@pytest.mark.parametrize("suffix, expected", [(".csv", "new"), (".tsv", "tsv")])
def test_a_one_column_export_is_named_by_its_file_not_called_tsv(tmp_path, suffix, expected):
    from pipeline.core.config import load_instrument, load_settings
    from pipeline.reading.ingest import ingest
    path = tmp_path / f"api{suffix}"
    path.write_text('ResponseId\nResponse ID\n{"ImportId":"_recordId"}\nR_1\nR_2\n', encoding="utf-8")
    result = ingest(export_path=path, instrument=load_instrument(), settings=load_settings(),
                    require_instrument=False)
    assert result.summary()["format"] == expected and result.summary()["responses"] == 2


def test_an_export_where_no_network_names_a_participant_category_gives_empty_involvement(tmp_path):
    """The q12 columns are there but every box is empty: a report with an empty involvement table, not a
    schema error about a processed file."""
    from pipeline import run_pipeline
    rows = variants.read_rows(EMBEDDED_EXPORT)
    q12 = [i for i, tag in enumerate(rows[0]) if tag.startswith("Q12_")]
    for row in rows[3:]:
        for i in q12:
            row[i] = ""
    export = variants.write_csv(rows, tmp_path / "export.csv")
    run_pipeline(export=export, processed=tmp_path / "processed", stop="charts")
    involvement = pd.read_parquet(tmp_path / "processed" / "involvement.parquet")
    assert involvement.empty
    assert (tmp_path / "processed" / "figures" / "betrokkenheid.png").exists()
