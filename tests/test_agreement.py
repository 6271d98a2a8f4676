"""Agreement between the rules and a coder says little when it knows little: a theme that one or two
answers name gets its counts and "te weinig antwoorden", no coefficient and no interval; the table is Dutch."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from openpyxl import load_workbook

from conftest import networks_frame
from pipeline.app.cli import main
from pipeline.coding.rules import apply_rules
from pipeline.coding.sheet import (MIN_THEME_ANSWERS, agreement, kappa_interval, read_coding_sheet,
                                   write_coding_sheet)
from pipeline.core.codebook import load_codebook

CODEBOOK = load_codebook()
STAMP = datetime(2018, 10, 31, tzinfo=timezone.utc)
TIME = "Er is te weinig tijd om samen te leren."


def _sheet(tmp_path, *, with_time: int, answers: int = 30):
    """A reviewed blind sheet of `answers` q23 answers, the first `with_time` naming tijd; the coder marks
    tijd on the first one only when the rules found it, and leaves the one answer naming tijd unmarked."""
    frame = networks_frame(**{f"n{i:02}": {"q23": TIME if i < with_time else f"We leren van casus {i}."}
                              for i in range(answers)})
    path = tmp_path / "blad.xlsx"
    write_coding_sheet(networks=frame, codes=apply_rules(networks=frame, codebook=CODEBOOK), codebook=CODEBOOK,
                       path=path, blind=True, timestamp=STAMP)
    wb = load_workbook(path)
    ws = wb["q23"]
    header = [c.value for c in ws[1]]
    column = next(i for i, h in enumerate(header, start=1) if h and h.endswith("(tijd)"))
    for row in ws.iter_rows(min_row=2):
        ws.cell(row=row[0].row, column=header.index("codeur") + 1).value = "JV"
        if row[0].value != "n00" and row[4].value == TIME:
            ws.cell(row=row[0].row, column=column).value = "x"
    wb.save(path)
    return path


def test_a_theme_of_one_answer_gets_counts_and_no_coefficient(tmp_path, capsys):
    path = _sheet(tmp_path, with_time=1)
    reviewed, rule_codes = read_coding_sheet(path, codebook=CODEBOOK)
    tijd = agreement(reviewed=reviewed, rule_codes=rule_codes, codebook=CODEBOOK).set_index("theme").loc["tijd"]
    assert tijd[["rows", "both", "rules_only", "coder_only", "present"]].tolist() == [30, 0, 1, 0, 1]
    assert tijd["too_few"] and all(pd.isna(tijd[c]) for c in ("kappa", "kappa_low", "kappa_high", "ac1"))
    assert main(["agreement", str(path), "--out", str(tmp_path / "k.csv")]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("q23   tijd "))
    assert line.endswith("te weinig antwoorden")
    assert "0.00" not in line and "-1.00" not in line and " tot " not in line
    table = pd.read_csv(tmp_path / "k.csv", keep_default_na=False).set_index("Thema")
    assert table.loc["tijd", "Opmerking"] == "te weinig antwoorden"
    assert table.loc["tijd", "Kappa"] == "" and table.loc["tijd", "AC1"] == ""
    assert table.loc["tijd", "Met thema"] == 1 and table.loc["tijd", "Alleen regels"] == 1


def test_enough_answers_get_a_coefficient_and_an_interval(tmp_path, capsys):
    path = _sheet(tmp_path, with_time=MIN_THEME_ANSWERS + 5)
    reviewed, rule_codes = read_coding_sheet(path, codebook=CODEBOOK)
    tijd = agreement(reviewed=reviewed, rule_codes=rule_codes, codebook=CODEBOOK).set_index("theme").loc["tijd"]
    assert not tijd["too_few"] and 0 < tijd["kappa"] < 1 and tijd["kappa_low"] < tijd["kappa"] <= tijd["kappa_high"]
    assert main(["agreement", str(path)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("q23   tijd "))
    assert " tot " in line and "te weinig" not in line


def test_an_interval_is_never_a_single_point():
    # Perfect agreement on every resample is no certainty: the sample cannot show how much it varies.
    assert kappa_interval([(True, True)] * 6 + [(False, False)] * 24) == (None, None)


def test_the_table_is_dutch_and_english_on_request(tmp_path, capsys):
    path = _sheet(tmp_path, with_time=8)
    assert main(["agreement", str(path), "--out", str(tmp_path / "nl.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Overeenstemming tussen de regels") and "beide" in out and "Agreement" not in out
    header = (tmp_path / "nl.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("Vraag,Thema,Label,Antwoorden,Beide,Alleen regels,Alleen codeur")
    assert "Overeenstemming (%)" in header
    assert main(["agreement", str(path), "--english", "--out", str(tmp_path / "en.csv")]) == 0
    assert capsys.readouterr().out.startswith("Agreement between")
    assert (tmp_path / "en.csv").read_text(encoding="utf-8").startswith("item,theme,label,rows,both")
