"""Writes the embedded 2018 dataset from answers.yaml: a Qualtrics export and its supplement.

    .venv/bin/python scripts/embedded_dataset/build.py   (with the project installed)

The export has the layout Qualtrics writes today (three header rows, the 17 metadata columns,
ImportIds in row 3, timeZone Europe/Amsterdam, choice text, UTF-8 with BOM). Running it twice
gives byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from pipeline.core.config import load_instrument

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

EXPORT = ROOT / "data" / "raw" / "wsd_leernetwerken_2018.csv"
SUPPLEMENT = ROOT / "data" / "raw" / "wsd_leernetwerken_2018_supplement.csv"
TIME_ZONE = "Europe/Amsterdam"

# (export tag, Dutch label as a Dutch-language Qualtrics account writes it, ImportId, zoned)
METADATA = [
    ("StartDate", "Startdatum", "startDate", True),
    ("EndDate", "Einddatum", "endDate", True),
    ("Status", "Antwoordtype", "status", False),
    ("IPAddress", "IP-adres", "ipAddress", False),
    ("Progress", "Voortgang", "progress", False),
    ("Duration (in seconds)", "Duur (in seconden)", "duration", False),
    ("Finished", "Voltooid", "finished", False),
    ("RecordedDate", "Datum vastgelegd", "recordedDate", True),
    ("ResponseId", "Antwoord-ID", "_recordId", False),
    ("RecipientLastName", "Achternaam ontvanger", "recipientLastName", False),
    ("RecipientFirstName", "Voornaam ontvanger", "recipientFirstName", False),
    ("RecipientEmail", "E-mailadres ontvanger", "recipientEmail", False),
    ("ExternalReference", "Externe gegevensreferentie", "externalDataReference", False),
    ("LocationLatitude", "Breedtegraad locatie", "locationLatitude", False),
    ("LocationLongitude", "Lengtegraad locatie", "locationLongitude", False),
    ("DistributionChannel", "Distributiekanaal", "distributionChannel", False),
    ("UserLanguage", "Gebruikerstaal", "userLanguage", False),
]


def html_label(wording: str) -> str:
    """Bold words in the instrument become <strong>, as a rich-text Qualtrics question exports them."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", wording)


def question_columns(instrument) -> list[tuple[str, str, str, str]]:
    """(field, export tag, label, ImportId) for every answer column, in export order."""
    cols = []
    for item in instrument.items:
        tag, qid, label = item.export_tag, item.import_id, html_label(item.wording)
        if item.type == "text":
            cols.append((item.id, tag, label, f"{qid}_TEXT"))
        elif item.type == "choice":
            cols.append((item.id, tag, f"{label} - Selected Choice", qid))
            for choice in item.choices:
                if choice.text_entry:
                    cols.append((f"{item.id}_text", f"{tag}_{choice.value}_TEXT",
                                 f"{label} - {choice.label} - Text", f"{qid}_{choice.value}_TEXT"))
        else:
            for row in item.rows:
                cols.append((f"{item.id}_{row.value}", f"{tag}_{row.value}", f"{label} - {row.label}",
                             f"{qid}_{row.value}"))
            for row in item.rows:
                cols.append((f"{item.id}_{row.value}_text", f"{tag}_{row.value}_TEXT",
                             f"{label} - {row.label} - Text", f"{qid}_{row.value}_TEXT"))
    return cols


def response_id(seed: str) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(15):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    return "R_" + "".join(chars)


def answers_for(net: dict, instrument) -> dict[str, str]:
    """Item fields of one network as the choice-text export writes them."""
    out: dict[str, str] = {}
    for item in instrument.items:
        value = net.get(item.id)
        if item.type == "text":
            out[item.id] = "" if value is None else str(value)
        elif item.id == "q6":
            if value is None:
                continue
            if value == "Ja":
                out["q6"] = "Ja"
            else:
                out["q6"], out["q6_text"] = item.choices[1].label, str(value)
        elif item.id == "q24":
            if value is not None:
                out["q24"] = "Ja" if value else "Nee"
        elif item.type == "choice":
            if item.id in net:
                out[item.id] = item.choices[0].label if value is None else item.choices[1].label
                if value is not None:
                    out[f"{item.id}_text"] = str(value)
        else:
            scale = {c.value: c.label for c in item.scale}
            for n, (category, level) in enumerate(value or [], start=1):
                out[f"{item.id}_{n}_text"] = category
                if level is not None:
                    out[f"{item.id}_{n}"] = scale[level]
    return out


def metadata_row(*, seed: str, index: int, recorded: str, duration: int, status: str, finished: bool,
                 progress: int, name: str | None, email: str | None, channel: str) -> dict[str, str]:
    end = datetime.strptime(recorded, "%Y-%m-%d %H:%M:%S")
    start = end - timedelta(seconds=duration)
    first, _, last = (name or "").partition(" ")
    row = {
        "StartDate": start.strftime("%Y-%m-%d %H:%M:%S"),
        "EndDate": (end - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "Status": status,
        "IPAddress": "" if channel == "preview" else f"192.0.2.{10 + index}",
        "Progress": str(progress),
        "Duration (in seconds)": str(duration),
        "Finished": "True" if finished else "False",
        "RecordedDate": recorded,
        "ResponseId": response_id(seed),
        "RecipientLastName": last if email else "",
        "RecipientFirstName": first if email else "",
        "RecipientEmail": email or "",
        "ExternalReference": f"WSD-2018-{index:02d}" if email else "",
        "LocationLatitude": "" if channel == "preview" else f"{52.0 + index / 100:.4f}",
        "LocationLongitude": "" if channel == "preview" else f"{5.0 + index / 100:.4f}",
        "DistributionChannel": channel,
        "UserLanguage": "NL",
    }
    return row


def build_rows(data: dict, instrument) -> list[dict[str, str]]:
    rows = []
    by_key = {}
    for index, net in enumerate(data["networks"], start=1):
        meta = metadata_row(seed=net["key"], index=index, recorded=net["recorded"], duration=net["duration"],
                            status="IP Address", finished=True, progress=100, name=net["q1"],
                            email=net["email"], channel="email")
        row = {**meta, **answers_for(net, instrument)}
        rows.append(row)
        by_key[net["key"]] = (index, net)

    extra = data["extra_rows"]
    preview = extra["preview"]
    rows.append({**metadata_row(seed="preview", index=90, recorded=preview["recorded"], duration=95,
                                status="Survey Preview", finished=True, progress=100, name=None, email=None,
                                channel="preview"),
                 "q1": preview["q1"], "q2": preview["q2"], "q3": preview["q3"]})

    partial = extra["unfinished"]
    rows.append({**metadata_row(seed="unfinished", index=91, recorded=partial["recorded"], duration=412,
                                status="IP Address", finished=False, progress=partial["progress"],
                                name=partial["q1"], email=partial["email"], channel="email"),
                 **{k: partial[k] for k in ("q1", "q2", "q3", "q4")}})

    index, original = by_key[extra["duplicate_of"]]
    earlier = {**original, **{k: v for k, v in extra["duplicate"].items() if k != "recorded"}}
    rows.append({**metadata_row(seed=original["key"] + "-earlier", index=index,
                                recorded=extra["duplicate"]["recorded"], duration=1502, status="IP Address",
                                finished=True, progress=100, name=original["q1"], email=original["email"],
                                channel="email"),
                 **answers_for(earlier, instrument)})
    rows.sort(key=lambda r: r["RecordedDate"])
    return rows


def write_export(rows: list[dict[str, str]], instrument) -> bytes:
    questions = question_columns(instrument)
    tags = [m[0] for m in METADATA] + [q[1] for q in questions]
    labels = [m[1] for m in METADATA] + [q[2] for q in questions]
    import_ids = []
    for _, _, qid, zoned in METADATA:
        spec = {"ImportId": qid, "timeZone": TIME_ZONE} if zoned else {"ImportId": qid}
        import_ids.append(json.dumps(spec, separators=(",", ":")))
    import_ids += [json.dumps({"ImportId": q[3]}, separators=(",", ":")) for q in questions]
    keys = [m[0] for m in METADATA] + [q[0] for q in questions]

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(tags)
    writer.writerow(labels)
    writer.writerow(import_ids)
    for row in rows:
        writer.writerow([row.get(k, "") for k in keys])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


SUPPLEMENT_FIELDS = ["q2", "q3", "q4", "q5", "q6", "q6_text", "q7", "q17", "q19", "q23"]


def write_supplement(data: dict) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(SUPPLEMENT_FIELDS)
    for net in data["supplement"]:
        writer.writerow([str(net.get(f) or "") for f in SUPPLEMENT_FIELDS])
    return buf.getvalue().encode("utf-8")


def main() -> None:
    instrument = load_instrument()
    data = yaml.safe_load((HERE / "answers.yaml").read_text(encoding="utf-8"))
    EXPORT.write_bytes(write_export(build_rows(data, instrument), instrument))
    SUPPLEMENT.write_bytes(write_supplement(data))
    print(f"wrote {EXPORT.relative_to(ROOT)} and {SUPPLEMENT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
