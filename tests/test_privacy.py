"""Privacy proven over every output: no personal value of the export in any file a run writes."""

from __future__ import annotations

import re
import zipfile

import pandas as pd

from conftest import EMBEDDED_EXPORT
from test_ingest import _personal_values
from test_report import pdf_text
import variants


def _all_personal_values() -> list[str]:
    """Names, IP addresses, e-mail addresses, locations, response ids and recipient fields of the export."""
    rows = variants.read_rows(EMBEDDED_EXPORT)
    values = set(_personal_values())
    for row in rows[3:]:
        record = dict(zip(rows[0], row))
        # the recipient's full name; single parts such as "Voorbeeld" are also ordinary Dutch words
        full = f"{record.get('RecipientFirstName', '').strip()} {record.get('RecipientLastName', '').strip()}".strip()
        if " " in full:
            values.add(full)
        if record.get("RecipientEmail", "").strip():
            values.add(record["RecipientEmail"].strip())
    return sorted(values)


def _readable(path) -> str:
    """The text a person or program could read from an output file."""
    if path.suffix == ".pdf":
        raw = path.read_bytes().decode("latin-1")
        return raw + "\n" + pdf_text(path) if path.name == "report.pdf" else raw
    if path.suffix in (".xlsx", ".docx"):   # zip packages: every part's XML (and a document's text)
        with zipfile.ZipFile(path) as book:
            xml = "\n".join(book.read(name).decode("utf-8", errors="replace") for name in book.namelist())
        if path.suffix == ".docx":
            from test_word import _document, _text
            xml += "\n" + _text(_document(path))
        return xml
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv()
    if path.suffix == ".png":
        return path.read_bytes().decode("latin-1")
    return path.read_text(encoding="utf-8", errors="replace")


def test_no_personal_value_in_any_output(embedded_report):
    """The shared run of the embedded export and supplement: its output folder, its processed tables and
    everything it printed (conftest.embedded_report keeps that in messages.txt)."""
    out, processed = embedded_report / "out", embedded_report / "processed"
    files = sorted(p for folder in (out, processed) for p in folder.rglob("*") if p.is_file())
    kinds = {p.suffix for p in files}
    assert {".html", ".pdf", ".docx", ".svg", ".csv", ".xlsx", ".json", ".png", ".parquet"} <= kinds
    texts = {str(p.relative_to(embedded_report)): _readable(p) for p in files}
    texts["the run's messages"] = (embedded_report / "messages.txt").read_text(encoding="utf-8")
    assert texts["the run's messages"].startswith("ingest     reading")
    personal = _all_personal_values()
    assert len(personal) > 90 and any("@" in v for v in personal) and any(v.startswith("192.0.2.") for v in personal)
    found = [f"{value!r} in {name}" for name, value in _occurrences(personal, texts)]
    assert found == []


def _occurrences(values: list[str], texts: dict[str, str]) -> list[tuple[str, str]]:
    """(text name, value) for each value that stands in a text as a whole word. One pass over each text
    finds the texts that hold any value (one pattern of them all); only those are searched value by value."""
    def whole(alternatives: str) -> re.Pattern:
        return re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w])")
    anyone = whole("|".join(re.escape(v) for v in values))
    holding = [name for name, text in texts.items() if anyone.search(text)]
    return [(name, value) for value in values for name in holding if whole(re.escape(value)).search(texts[name])]
