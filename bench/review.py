"""The review queue's speed: a decision's refit and re-order on a wave of 500 answers (issue 23).

Builds a wave of N answers from the development set's texts (each made distinct by a sentence of its own),
codes it with the rules, and times `decide` followed by `next` (wall clock and CPU) for a run of decisions, as the browser review
does them; once with the queue as it is (ReviewModel: vectors kept, only the decided item refitted) and once
with every item's model fitted from nothing on each decision (suggest.fit, the queue's first version).
Prints the median and the slowest decision. The figures and the orderings compared are in bench/REVIEW.md.

    python bench/review.py [--answers 500] [--decisions 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from pipeline.coding.evaluation import load_validation  # noqa: E402
from pipeline.coding.review_queue import Decision, ReviewQueue  # noqa: E402
from pipeline.coding.rules import code  # noqa: E402
from pipeline.coding.suggest import fit  # noqa: E402
from pipeline.core.codebook import load_codebook  # noqa: E402


class FullRefitQueue(ReviewQueue):
    """The queue with every item's model fitted from nothing on each decision."""

    def refit(self, item=None):
        decided = [s for key, d in self.decisions.items() for s in self._labelled(key, d)]
        self.model = fit(codebook=self.codebook, reviewed=self.training + decided)
        self.scores = {}
        for each in self.codebook.items:
            self._score(each)


def wave(n: int, codebook) -> tuple[pd.DataFrame, dict]:
    answers = load_validation(ROOT / "tests" / "data" / "coding_development.yaml", codebook)
    rows, gold = [], {}
    for i in range(n):
        a = answers[i % len(answers)]
        nid = f"n{i:04}"
        row = {"network_id": nid, "response_key": nid, "werkplaats": "W", "name": nid, "q17": "", "q19": "", "q23": ""}
        row[a.item] = f"{a.text} Netwerk {i} werkt zo al {i % 9 + 2} jaar."
        rows.append(row)
        gold[(nid, a.item)] = a.themes
    return pd.DataFrame(rows), gold


def timed(queue_class, networks, gold, codebook, decisions: int) -> list[float]:
    codes = code(networks=networks, codebook=codebook).codes
    queue = queue_class(networks=networks, codes=codes, codebook=codebook)
    key, times, cpu = queue.next(), [], []
    for _ in range(decisions):
        start, start_cpu = time.perf_counter(), time.process_time()
        queue.decide(key, Decision(gold[key]))
        key = queue.next()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--decisions", type=int, default=40)
    args = parser.parse_args()
    codebook = load_codebook()
    networks, gold = wave(args.answers, codebook)
    for label, queue_class in (("ReviewModel, the decided item refitted", ReviewQueue),
                               ("suggest.fit, every item from nothing", FullRefitQueue)):
        times, cpu = timed(queue_class, networks, gold, codebook, args.decisions)
        print(f"{label}: {args.answers} answers, {args.decisions} decisions: decide + next median "
              f"{statistics.median(times):.3f} s, slowest {max(times):.3f} s (CPU median "
              f"{statistics.median(cpu):.3f} s, slowest {max(cpu):.3f} s)")


if __name__ == "__main__":
    main()
