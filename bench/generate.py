"""Synthetic Qualtrics exports of N responses in the real format, for the benchmarks.

Each response copies one of the fifteen networks of the embedded 2018 export (so every item carries a
realistic answer) and gets its own response id, respondent, IP address, date and network name. Every
free-text answer gets a sentence of its own too, so that no answer repeats, as in a real wave (caches
per distinct answer then help the benchmark no more than they would help real data).

    python bench/generate.py N OUT.csv [--supplement-free]
"""

from __future__ import annotations

import argparse
import csv
import re
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED = ROOT / "data" / "raw" / "wsd_leernetwerken_2018.csv"
FREE_TEXT_TAGS = ("Q7", "Q8", "Q9", "Q10", "Q11", "Q17", "Q19", "Q23")


def generate(n: int, path: Path) -> Path:
    """Write an export of `n` finished responses about `n` different networks to `path`."""
    with EMBEDDED.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[:3], rows[3:]
    tags = header[0]
    at = {tag: tags.index(tag) for tag in ("ResponseId", "Q1", "Q3", "IPAddress", "RecordedDate", "StartDate",
                                          "EndDate", "Status", "Finished", "Progress", "RecipientEmail")}
    templates = [row for row in body if row[at["Status"]] == "IP Address" and row[at["Finished"]] == "True"]
    free_text = [i for i, tag in enumerate(tags) if tag in FREE_TEXT_TAGS or re.fullmatch(r"Q(?!12_)\d+_2_TEXT", tag)]
    start = datetime(2018, 9, 1, 9, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerows(header)
        for i in range(n):
            row = list(templates[i % len(templates)])
            moment = start + timedelta(seconds=37 * i)
            row[at["ResponseId"]] = f"R_bench{i:010d}"
            row[at["Q1"]] = f"Proef Persoon {i}"
            row[at["Q3"]] = f"{row[at['Q3']]} {i}"
            row[at["IPAddress"]] = f"192.0.2.{i % 250 + 1}"
            row[at["RecipientEmail"]] = f"persoon{i}@voorbeeld.invalid"
            for tag in ("StartDate", "EndDate", "RecordedDate"):
                row[at[tag]] = moment.strftime("%Y-%m-%d %H:%M:%S")
            for column in free_text:
                if row[column].strip():
                    row[column] = f"{row[column]} Kenmerk {i}-{column}."
            writer.writerow(row)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(generate(args.n, args.out))
