"""A review replayed: how good a wave's codes get after a coder read part of its answers.

A simulated coder reviews a set of hand-coded answers (tests/data/coding_validation.yaml's format) one at a
time, in the order the review queue gives (pipeline.coding.review_queue, refitted after every decision, as
in the browser review), and marks exactly the set's codes. After each answer the wave's codes are the
coder's codes on the answers reviewed and the rules' codes on the rest; their F1 against the set is read
off at fixed shares of the answers reviewed, and the same is done for the answers taken in file order.

WSS@95 (work saved over sampling at 95 % recall, as in screening tools): with n the fewest answers read, in
the queue's order, after which the wave's codes hold at least 95 % of the set's codes, and N the answers,
WSS@95 = 1 - n / N - 0.05. It is 0 when reading in a random order would be expected to cost as much, and
at most 0.95 (when the rules alone find 95 %).

Themes (q17 and q23) and methods (q19) are replayed apart, each with a queue of its own items' answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.coding.evaluation import Answer
from pipeline.coding.review_queue import Decision, Key, ReviewQueue, keys_in_file_order
from pipeline.coding.rules import apply_rules
from pipeline.core.codebook import Codebook

SHARES = (0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0)
RECALL = 0.95


@dataclass(frozen=True)
class Replay:
    """One group's replay: F1 at each share reviewed, in the queue's order and in file order, and WSS@95."""
    group: str
    answers: int
    curve: tuple[tuple[float, float | None], ...]
    file_order: tuple[tuple[float, float | None], ...]
    wss95: float | None
    read_for_recall: int | None        # answers read, in the queue's order, to reach 95 % recall


def _frame(answers: list[Answer], items: tuple[str, ...]) -> pd.DataFrame:
    """A networks table (network_id, response_key, werkplaats, name and the items) with one row per answer."""
    ids = [a.id for a in answers]
    frame = pd.DataFrame({"network_id": ids, "response_key": ids, "werkplaats": "", "name": ""})
    for item in items:
        frame[item] = [a.text if a.item == item else "" for a in answers]
    return frame


def _counts(codes: dict[Key, frozenset[str]], gold: dict[Key, frozenset[str]]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for key, truth in gold.items():
        found = codes.get(key, frozenset())
        tp += len(found & truth)
        fp += len(found - truth)
        fn += len(truth - found)
    return tp, fp, fn


def _f1(tp: int, fp: int, fn: int) -> float | None:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def _trajectory(order: list[Key], rules: dict[Key, frozenset[str]],
                gold: dict[Key, frozenset[str]]) -> list[tuple[int, int, int]]:
    """(tp, fp, fn) of the wave's codes after 0, 1, ..., len(order) answers reviewed in that order."""
    codes = dict(rules)
    out = [_counts(codes, gold)]
    tp, fp, fn = out[0]
    for key in order:
        found, truth = codes.get(key, frozenset()), gold[key]
        # The reviewed answer's codes become the set's: its errors go, its hits stay.
        tp += len(truth - found)
        fp -= len(found - truth)
        fn -= len(truth - found)
        codes[key] = truth
        out.append((tp, fp, fn))
    return out


def _at_shares(trajectory: list[tuple[int, int, int]], shares) -> tuple[tuple[float, float | None], ...]:
    n = len(trajectory) - 1
    return tuple((share, _f1(*trajectory[round(share * n)])) for share in shares)


def replay_group(answers: list[Answer], codebook: Codebook, *, group: str, items: tuple[str, ...],
                 shares=SHARES, queue_options: dict | None = None, codes: pd.DataFrame | None = None) -> Replay:
    """Replay the review of the answers to `items`. `queue_options` go to ReviewQueue; `codes` (network_id =
    answer id, item, theme, evidence) stand in for the rules' codes (the bench's rules with errors made)."""
    these = [a for a in answers if a.item in items]
    frame = _frame(these, items)
    rule_codes = apply_rules(networks=frame, codebook=codebook) if codes is None else \
        codes[codes["item"].isin(items)]
    queue = ReviewQueue(networks=frame, codes=rule_codes, codebook=codebook, **(queue_options or {}))
    gold = {(a.id, a.item): a.themes for a in these}
    rules: dict[Key, frozenset[str]] = {}
    for nid, item, theme in zip(rule_codes["network_id"], rule_codes["item"], rule_codes["theme"]):
        rules[(nid, item)] = rules.get((nid, item), frozenset()) | {theme}
    reviewed = []
    key = queue.next()
    while key is not None:
        reviewed.append(key)
        queue.decide(key, Decision(gold[key]))
        key = queue.next()
    in_queue = _trajectory(reviewed, rules, gold)
    in_file = _trajectory(keys_in_file_order(queue), rules, gold)
    total = sum(len(t) for t in gold.values())
    read = next((n for n, (tp, _, _) in enumerate(in_queue) if total and tp >= RECALL * total), None)
    n = len(reviewed)
    wss = round(1 - read / n - (1 - RECALL), 4) if read is not None and n else None
    return Replay(group=group, answers=n, curve=_at_shares(in_queue, shares), file_order=_at_shares(in_file, shares),
                  wss95=wss, read_for_recall=read)


def simulate_review(answers: list[Answer], codebook: Codebook, *, shares=SHARES,
                    queue_options: dict | None = None, codes: pd.DataFrame | None = None) -> dict[str, Replay]:
    """The replay of the themes (every coded item but the methods') and of the methods."""
    methods = tuple(codebook.method_items)
    themes = tuple(item for item in codebook.items if item not in methods)
    return {group: replay_group(answers, codebook, group=group, items=items, shares=shares,
                                queue_options=queue_options, codes=codes)
            for group, items in (("themes", themes), ("methods", methods)) if items}
