"""Accuracy of the participant-group matching on a set of category labels assigned by hand
(tests/data/group_labels_validation.yaml by default): the share placed in the group their definition gives,
how each was placed, and every wrong one.

    python bench/groups.py [FILE ...]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from pipeline.analysis.normalise import assign_groups
from pipeline.core.config import load_taxonomies

ROOT = Path(__file__).resolve().parent.parent


def evaluate(path: Path) -> None:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["labels"]
    placed = assign_groups(pd.Series([c["label"] for c in cases], dtype=object), taxonomies=load_taxonomies())
    found = {r.category_label: r for r in placed.itertuples(index=False)}
    wrong = [(c, found[c["label"]]) for c in cases if found[c["label"]].participant_group != c["group"]]
    right = len(cases) - len(wrong)
    print(f"{path.name}: {right} of {len(cases)} right ({100 * right / len(cases):.1f} %); placed by "
          + ", ".join(f"{how} {n}" for how, n in sorted(Counter(found[c['label']].how for c in cases).items())))
    silent = [c for c, got in wrong if got.how in ("head", "complement") and got.participant_group != "overig"]
    print(f"  wrong without being listed for the researcher (placed by a head, not in overig): {len(silent)}")
    for case, got in wrong:
        print(f"  {case['label']!r}: expected {case['group']}, got {got.participant_group} ({got.how}"
              + (f" {got.term!r}" if got.term else "") + ")")


if __name__ == "__main__":
    for name in sys.argv[1:] or [ROOT / "tests" / "data" / "group_labels_validation.yaml"]:
        evaluate(Path(name))
