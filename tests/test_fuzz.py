"""Seeded mutations of the export (CSV, TSV, .xlsx, .sav) and the supplement: every case ends in a correct read
or in one clean message naming the file; never a traceback, "a bug in the pipeline" or a hang, and the
raw files are never changed. The seeds are fixed, so a failing case is the same case on every run; a case
that found a bug is kept in tests/hardened.py as a regression test.
"""

from __future__ import annotations

import hashlib
import io
import random
import signal
import zipfile
from functools import lru_cache
from pathlib import Path

import pytest

import variants
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT
from pipeline.app.cli import main
from pipeline.core.errors import PipelineError
from pipeline.reading.ingest import ingest

CASES = 240              # mutations; every RUN_EVERY-th goes through `run --to aggregate`, the rest through ingest
RUN_EVERY = 12
SECONDS = 20             # one case longer than this is a hang

HOSTILE_VALUES = [
    "", " ", "NA", "9" * 400, "-" + "9" * 40, "1e400", "0", "-1", "2.0", "٣", "(" + "9" * 30 + ")",
    "Docenten (" + "9" * 300 + ")", "2018-02-30 10:00:00", "2018-10-01T10:00:00Z", "2018-10-01T10:00:00+05:45",
    "0000-00-00 00:00:00", "31-12-99999 10:00", "=HYPERLINK(\"x\")", "+1", "@SUM(A1)", "\t=1", "\r=1", '"', '""',
    "a,b", "a;b", "a\nb", "a\rb", "\x00", "\ufeff", "\u200b", "Zoe\u0308", "ＡＢＣ", "x" * 100_000,
    '{"ImportId":"QID1","timeZone":"Mars/Olympus_Mons"}', '{"ImportId":"QID1","timeZone":"../../etc/passwd"}',
    '{"ImportId":' + "[" * 5000 + "]" * 5000 + "}", "{'ImportId': 'startDate', 'timeZone': 5}",
    "True", "False", "Survey Preview", "Spam", "Ja", "Nee", "Zeer hoge betrokkenheid", "Enorm",
]


@lru_cache(maxsize=None)
def _sources() -> dict[str, bytes]:
    """The containers every mutation starts from, made once from the embedded export."""
    import tempfile

    from pipeline.core.config import load_instrument
    rows = variants.read_rows(EMBEDDED_EXPORT)
    out = {"csv": EMBEDDED_EXPORT.read_bytes(), "supplement": EMBEDDED_SUPPLEMENT.read_bytes()}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        out["tsv"] = variants.write_tsv_utf16(rows, folder / "e.tsv").read_bytes()
        out["xlsx"] = _fixed_time(variants.write_xlsx(rows, folder / "e.xlsx").read_bytes())
        sav = variants.write_sav(rows, folder / "e.sav", load_instrument()).read_bytes()
        out["sav"] = sav[:92] + b"01 Nov 1800:00:00" + sav[109:]    # the header's creation date and time, fixed
    return out


def _fixed_time(xlsx: bytes) -> bytes:
    """The workbook with its save time fixed, so a seed mutates the same bytes on every run."""
    import re
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2018-11-01T00:00:00Z",
                                        parts["docProps/core.xml"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for name, content in parts.items():
            book.writestr(zipfile.ZipInfo(name, date_time=(2018, 11, 1, 0, 0, 0)), content,
                          compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _bytes_mutation(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    kind = rng.choice(["cut", "flip", "insert", "delete", "repeat"])
    at = rng.randrange(len(data))
    if kind == "cut":
        return bytes(data[:at])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == "insert":
        data[at:at] = rng.choice([b"\x00", b"\r", b"\n", b'"', b",", b";", b"\t", b"\xff\xfe", b"\xe9", b"\r\n" * 3])
    elif kind == "delete":
        del data[at:at + rng.randint(1, 200)]
    else:
        end = min(len(data), at + rng.randint(1, 5000))
        data[at:at] = data[at:end] * rng.randint(1, 3)
    return bytes(data)


def _rows_mutation(rng: random.Random, rows: list[list[str]]) -> list[list[str]]:
    rows = [list(r) for r in rows]
    kind = rng.choice(["cell", "cell", "cell", "row_copy", "row_drop", "column_drop", "column_copy", "widen"])
    r, c = rng.randrange(len(rows)), rng.randrange(len(rows[0]))
    if kind == "cell":
        rows[r][c] = rng.choice(HOSTILE_VALUES)
    elif kind == "row_copy":
        rows.insert(rng.randrange(len(rows) + 1), list(rows[r]))
    elif kind == "row_drop":
        del rows[r]
    elif kind == "column_drop":
        rows = [row[:c] + row[c + 1:] for row in rows]
    elif kind == "column_copy":
        rows = [row[:c] + [row[c]] + row[c:] for row in rows]
    else:
        rows[r] = rows[r] + [""] * rng.choice([1, 5, 10_000])
    return rows


def _csv_bytes(rows, delimiter=",") -> bytes:
    buffer = io.StringIO()
    import csv
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_mutation(rng: random.Random, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    name = rng.choice(sorted(parts))
    kind = rng.choice(["part_bytes", "part_drop", "sheet_value", "container"])
    if kind == "container":
        return _bytes_mutation(rng, data)
    if kind == "part_drop":
        del parts[name]
    elif kind == "part_bytes":
        parts[name] = _bytes_mutation(rng, parts[name])
    else:
        sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
        value = rng.choice(["<v>" + "9" * 400 + "</v>", "<v>1e308</v>", "<v>-5</v>", '<c r="XFD1048576"><v>1</v></c>',
                            "<t>=1+1</t>", "<t>\x01</t>", "&unknown;"])
        at = rng.randrange(len(sheet))
        parts["xl/worksheets/sheet1.xml"] = (sheet[:at] + value + sheet[at:]).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for part, content in parts.items():
            book.writestr(part, content)
    return buffer.getvalue()


def _case(seed: int, folder: Path) -> tuple[Path, Path | None]:
    """The files of one case: the export and, for some, a supplement."""
    rng = random.Random(seed)
    sources = _sources()
    target = rng.choice(["csv", "csv", "csv_rows", "csv_rows", "tsv", "xlsx", "xlsx", "sav", "supplement",
                         "supplement_rows"])
    export, supplement = folder / "export.csv", None
    if target == "csv":
        export.write_bytes(_bytes_mutation(rng, sources["csv"]))
    elif target == "csv_rows":
        rows = variants.read_rows(EMBEDDED_EXPORT)
        for _ in range(rng.randint(1, 3)):
            rows = _rows_mutation(rng, rows)
        export.write_bytes(_csv_bytes(rows, rng.choice([",", ",", ";", "\t"])))
    elif target == "tsv":
        export = folder / "export.tsv"
        export.write_bytes(_bytes_mutation(rng, sources["tsv"]))
    elif target == "xlsx":
        export = folder / "export.xlsx"
        export.write_bytes(_xlsx_mutation(rng, sources["xlsx"]))
    elif target == "sav":
        export = folder / "export.sav"
        export.write_bytes(_bytes_mutation(rng, sources["sav"]))
    else:
        export = EMBEDDED_EXPORT
        supplement = folder / "supplement.csv"
        if target == "supplement":
            supplement.write_bytes(_bytes_mutation(rng, sources["supplement"]))
        else:
            rows = variants.read_rows(EMBEDDED_SUPPLEMENT)
            rows = _rows_mutation(rng, rows)
            supplement.write_bytes(_csv_bytes(rows))
    return export, supplement


def _digest(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None


class _Hang(Exception):
    pass


def _hang(signum, frame):
    raise _Hang


@pytest.mark.parametrize("seed", range(CASES))
def test_mutated_input_is_read_or_refused_cleanly(seed, tmp_path, capsys, instrument, settings):
    export, supplement = _case(seed, tmp_path)
    before = (_digest(export), _digest(supplement))
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(SECONDS)
    try:
        if seed % RUN_EVERY == 0:
            argv = ["run", "--to", "aggregate", "--export", str(export), "--processed", str(tmp_path / "p"), "--quiet"]
            code = main(argv + (["--supplement", str(supplement)] if supplement else []))
            err = capsys.readouterr().err
            assert "Traceback" not in err and "bug in the pipeline" not in err, err
            assert code == 0 or (code == 1 and err.startswith("error: ") and err.count("\n") == 1), err
        else:
            try:
                result = ingest(export_path=export, supplement_path=supplement, instrument=instrument,
                                settings=settings)
            except PipelineError as exc:
                named = [str(p) for p in (export, supplement) if p is not None]
                assert any(name in str(exc) for name in named), str(exc)
                assert "\n" not in str(exc).strip() or str(exc).count("\n") < 3, str(exc)
            else:
                survey = result.responses[result.responses["source"] == "survey"]
                assert len(survey) <= result.rows_in_file
                assert not survey["q3"].isin({"Q3", "Wat is de naam van het leernetwerk?"}).any(), \
                    "a header row was counted as a response"
    except _Hang:
        pytest.fail(f"case {seed} took more than {SECONDS} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert (_digest(export), _digest(supplement)) == before, "an input was changed"
