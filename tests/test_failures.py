"""Broken input: exit status 1, one message naming the problem and the fix, no traceback, raw file untouched."""

from __future__ import annotations

import hashlib
import shutil

import pytest

import variants
from conftest import EMBEDDED_EXPORT, shared_fixtures
from pipeline.app.cli import main

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _header_only(path):
    rows = variants.read_rows(EMBEDDED_EXPORT)[:3]
    return variants.write_csv(rows, path)


def _truncated(path):
    data = EMBEDDED_EXPORT.read_bytes()
    cut = data.index(b"Een sociaal wijkteam in Almere") + 20     # inside a quoted multi-line answer
    path.write_bytes(data[:cut])
    return path


def _short_last_row(path):
    data = EMBEDDED_EXPORT.read_bytes().rstrip(b"\r\n")
    last = data.rfind(b"\r\n")
    tail = data[last:]
    path.write_bytes(data[:last] + tail[: tail.index(b",", 40)])
    return path


CASES = {
    "empty": (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    "header_only": (_header_only, "no responses"),
    "truncated_in_cell": (_truncated, "cut off"),
    "truncated_row": (_short_last_row, "cut off"),
    "picture": (lambda p: (p.write_bytes(PNG), p)[1], "PNG image"),
    "binary": (lambda p: (p.write_bytes(b"\x00\x01\x02garbage\x00" * 50), p)[1], "binary"),
    "not_an_export": (lambda p: (p.write_text("naam,leeftijd\nAnna,34\n"), p)[1], "not a Qualtrics export"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["inspect", "run"])
def test_broken_export_fails_with_one_message(case, command, tmp_path, capsys):
    make, expected = CASES[case]
    path = make(tmp_path / "export.csv")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    out_dir = tmp_path / "out"
    argv = ["inspect", str(path)] if command == "inspect" else \
        ["run", "--export", str(path), "--out", str(out_dir), "--processed", str(tmp_path / "processed")]
    code, out, err = _run_cli(capsys, *argv)
    assert code == 1
    assert expected in err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err + out
    assert str(path) in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not out_dir.exists()
    assert not (tmp_path / "processed").exists()


def test_export_of_another_questionnaire_fails_on_run(tmp_path, capsys, instrument):
    source = shared_fixtures() / "qualtRics_api__Beskar_Armor__2025-08-05__fetch_survey_Denver.csv"
    path = shutil.copy(source, tmp_path / "export.csv")
    code, _, err = _run_cli(capsys, "run", "--export", str(path), "--out", str(tmp_path / "out"),
                            "--processed", str(tmp_path / "processed"))
    assert code == 1
    assert "another survey" in err and f"0 of {len(instrument.items)} items" in err
    assert err.count("\n") == 1


def test_missing_file_is_named(tmp_path, capsys):
    code, _, err = _run_cli(capsys, "inspect", str(tmp_path / "nope.csv"))
    assert code == 1 and "file not found" in err


def test_unknown_supplement_column_is_named(tmp_path, capsys):
    supplement = tmp_path / "supplement.csv"
    supplement.write_text("q2,q3,naam\nFlevoland,Netwerk,Anna\n", encoding="utf-8")
    code, _, err = _run_cli(capsys, "run", "--export", str(EMBEDDED_EXPORT), "--supplement", str(supplement),
                            "--out", str(tmp_path / "out"), "--processed", str(tmp_path / "processed"))
    assert code == 1 and "naam" in err


@pytest.mark.parametrize("name", ["ex\nport.csv", "ex\rport.csv", "ex\tport.csv"])
def test_a_file_name_with_a_line_break_still_gives_one_line(name, tmp_path, capsys):
    path = tmp_path / name
    path.write_text("naam,leeftijd\nAnna,34\n", encoding="utf-8")
    code, _, err = _run_cli(capsys, "inspect", str(path))
    assert code == 1 and "not a Qualtrics export" in err
    assert err.startswith("error: ") and err.count("\n") == 1 and "\r" not in err and "\t" not in err
    assert repr(name)[1:-1] in err                  # the name as it can be recognised, its break escaped
