"""The tables of a mid-size synthetic export (bench/generate.py, 1,500 responses about as many networks),
byte for byte: aggregate made faster must make the same tables. Every file of tables/ and tables.xlsx of a
run to the aggregate stage is held to the digests in tests/snapshots/many_responses_tables.json; a change
that means to alter the tables rewrites them with `--update-snapshots` and says why in its commit."""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import ROOT, synthetic_export

RECORD = ROOT / "tests" / "snapshots" / "many_responses_tables.json"
RESPONSES = 1500


def test_the_tables_of_a_mid_size_export_are_the_same_bytes_as_recorded(tmp_path, request):
    from pipeline import run_pipeline
    export = synthetic_export(RESPONSES, tmp_path / "export.csv")
    processed = tmp_path / "processed"
    run_pipeline(export=export, processed=processed, stop="aggregate", say=lambda line: None)
    files = sorted([*(processed / "tables").iterdir(), processed / "tables.xlsx", processed / "tables.json",
                    processed / "quotes.json", processed / "coding_accuracy.json"])
    found = {path.relative_to(processed).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    assert len(found) > 20, "the run wrote almost no tables"
    if request.config.getoption("--update-snapshots") or not RECORD.exists():
        RECORD.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not request.config.getoption("--update-snapshots"):
            pytest.fail(f"{RECORD} did not exist; written now from this run: commit it")
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    changed = sorted(path for path in recorded.keys() | found.keys() if recorded.get(path) != found.get(path))
    assert not changed, f"these tables differ from {RECORD.name}: {changed}"
