"""How well the codebook's rules code this wave, estimated from the answers a person reviewed in the wave's
random review sample, and what that says about each theme's true count while answers are unreviewed.

An answer counts as sampled-and-reviewed when its (response_key, item, answer_sha) is in both the sample
(coding_sample.csv) and the reviews (coding_reviews.csv): its codes after review are then the truth the rules'
codes are compared with. Intervals are Wilson score intervals (95 %), which stay inside [0, 1] and do not
collapse to a point at 0 of n or n of n; they treat each code (or each answer-theme slot) as independent,
which codes clustered in one answer are not quite, so they are somewhat too narrow rather than too wide."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from pipeline.coding.rules import answers, apply_rules
from pipeline.core.codebook import Codebook


MIN_SAMPLED_REVIEWED = 20   # below this many sampled reviewed answers a group gets no estimate
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, *, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes` of `trials`; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes of {trials} trials")
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 of n and n of n the bound equals the share exactly; rounding must not push it across.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass
class GroupAccuracy:
    """The rules' accuracy on one group of coded items (themes of q17+q23, or the methods of q19)."""

    group: str
    items: tuple[str, ...]
    sampled_reviewed: int       # answers of the group both in the sample and reviewed (and unchanged)
    answers: int                # coded answers of the group in the wave
    reviewed: int               # answers of the group reviewed, in or out of the sample
    true_positives: int
    false_positives: int
    false_negatives: int
    slots: int                  # sampled reviewed answers times the themes of their item
    reason: str | None          # why no estimate is given, in Dutch; None when it is

    @property
    def estimated(self) -> bool:
        return self.reason is None

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def precision_interval(self) -> tuple[float, float]:
        return wilson_interval(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float | None:
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else None

    @property
    def recall_interval(self) -> tuple[float, float]:
        return wilson_interval(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def miss_rate_interval(self) -> tuple[float, float]:
        """The share of answer-theme slots holding a theme the rules missed."""
        return wilson_interval(self.false_negatives, self.slots)


GROUP_NAMES = {"themes": "thema's (vraag 17 en 23)", "methods": "werkwijzen (vraag 19)"}


def _keys(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(zip(frame["response_key"], frame["item"], frame["answer_sha"]))


def accuracy_by_group(*, networks: pd.DataFrame, codebook: Codebook, codes: pd.DataFrame, sample: pd.DataFrame,
                      reviews: pd.DataFrame) -> dict[str, GroupAccuracy]:
    """The rules' accuracy per group ("themes", "methods"). Takes networks (response_key, network_id and the
    coded items' text), the codes after the wave's corrections (network_id, item, theme), the sample
    (SAMPLE_COLUMNS) and the reviews (REVIEW_COLUMNS)."""
    answered = answers(networks, codebook.items)
    reviewed_keys = _keys(reviews)
    checked_keys = _keys(sample) & reviewed_keys
    groups = {"themes": tuple(i for i in codebook.items if i not in codebook.method_items),
              "methods": tuple(codebook.method_items)}
    is_checked = pd.Series([k in checked_keys for k in zip(answered["response_key"], answered["item"],
                                                              answered["answer_sha"])], index=answered.index, dtype=bool)
    # The rules' own codes are needed only for the answers of the sample a person checked; the rules code each
    # answer on its own, so running them on those networks alone gives the same codes for them (and not the
    # whole coding stage again, which at 100,000 responses was a third of aggregate).
    sampled = networks[networks["network_id"].isin(set(answered.loc[is_checked, "network_id"]))]
    rule_codes = apply_rules(networks=sampled, codebook=codebook)
    result = {}
    for group, items in groups.items():
        in_group = answered[answered["item"].isin(items)]
        keys = list(zip(in_group["response_key"], in_group["item"], in_group["answer_sha"]))
        checked = in_group[is_checked[in_group.index]]
        reviewed = sum(k in reviewed_keys for k in keys)
        pairs = set(zip(checked["network_id"], checked["item"]))
        by_rules = {(n, i, t) for n, i, t in zip(rule_codes["network_id"], rule_codes["item"], rule_codes["theme"])
                    if (n, i) in pairs}
        after_review = {(n, i, t) for n, i, t in zip(codes["network_id"], codes["item"], codes["theme"])
                        if (n, i) in pairs}
        slots = sum(len(codebook.themes_for(i)) for i in checked["item"])
        if len(sample) == 0:
            reason = "er is geen steekproef voor de controle getrokken"
        elif len(checked) < MIN_SAMPLED_REVIEWED:
            reason = (f"van de steekproef zijn pas {len(checked)} antwoorden gecontroleerd, minder dan "
                      f"de {MIN_SAMPLED_REVIEWED} die een schatting nodig heeft")
        else:
            reason = None
        result[group] = GroupAccuracy(
            group=group, items=items, sampled_reviewed=len(checked), answers=len(in_group), reviewed=reviewed,
            true_positives=len(by_rules & after_review), false_positives=len(by_rules - after_review),
            false_negatives=len(after_review - by_rules), slots=slots, reason=reason)
    return result


def count_intervals(*, networks: pd.DataFrame, codebook: Codebook, codes: pd.DataFrame, reviews: pd.DataFrame,
                    accuracy: dict[str, GroupAccuracy]) -> pd.DataFrame:
    """Per theme an estimate and 95 % interval of its true count of answers. Gives item, theme, count (the
    printed count: codes after review), reviewed_count, estimate, low, high; empty when every answer is
    reviewed or no group has an estimate; an item whose answers are all reviewed gets no rows.

    The reviewed answers count as they are. In the unreviewed answers the theme's rule codes are right with
    the group's precision, and each unreviewed answer holds the theme although the rules missed it with the
    group's miss rate (missed codes per answer-theme slot in the sample); the interval joins the bounds of
    both. Rounded outward to whole answers, and never more than the answers there are."""
    answered = answers(networks, codebook.items)
    reviewed_keys = _keys(reviews)
    is_reviewed = pd.Series([k in reviewed_keys for k in zip(answered["response_key"], answered["item"],
                                                               answered["answer_sha"])], index=answered.index, dtype=bool)
    reviewed_pairs = set(zip(answered["network_id"][is_reviewed], answered["item"][is_reviewed]))
    unreviewed_per_item = answered[~is_reviewed]["item"].value_counts().to_dict()
    if not unreviewed_per_item:
        return pd.DataFrame(columns=["item", "theme", "count", "reviewed_count", "estimate", "low", "high"])
    rows = []
    for group in accuracy.values():
        if not group.estimated:
            continue
        p_low, p_high = group.precision_interval
        precision = group.precision if group.precision is not None else (p_low + p_high) / 2
        m_low, m_high = group.miss_rate_interval
        miss = group.false_negatives / group.slots if group.slots else 0.0
        for item in group.items:
            unreviewed = int(unreviewed_per_item.get(item, 0))
            if not unreviewed:
                continue        # every answer to this item reviewed: its counts are plain
            for theme in codebook.themes_for(item):
                mine = codes[(codes["item"] == item) & (codes["theme"] == theme.code)]
                in_reviewed = [(n, item) in reviewed_pairs for n in mine["network_id"]]
                done = int(sum(in_reviewed))
                by_rules = len(mine) - done
                low = done + max(0, math.floor(by_rules * p_low + (unreviewed - by_rules) * m_low))
                high = done + min(unreviewed, math.ceil(by_rules * p_high + (unreviewed - by_rules) * m_high))
                estimate = done + by_rules * precision + (unreviewed - by_rules) * miss
                rows.append({"item": item, "theme": theme.code, "count": len(mine), "reviewed_count": done,
                             "estimate": round(estimate, 1), "low": low, "high": max(high, low)})
    return pd.DataFrame(rows, columns=["item", "theme", "count", "reviewed_count", "estimate", "low", "high"])


ACCURACY_SUMMARY = "coding_accuracy.json"


def _percent(share: float | None) -> int | None:
    return None if share is None else int(round(100 * share))


def accuracy_summary(*, networks: pd.DataFrame, codebook: Codebook, codes: pd.DataFrame, sample: pd.DataFrame,
                     reviews: pd.DataFrame) -> dict:
    """What the Methode says about the rules' accuracy (processed/coding_accuracy.json): per group its sample
    size, precision and recall with their 95 % intervals (as whole percentages) or the reason none is given, and the
    intervals of the themes' true counts (see count_intervals)."""
    accuracy = accuracy_by_group(networks=networks, codebook=codebook, codes=codes, sample=sample, reviews=reviews)
    counts = count_intervals(networks=networks, codebook=codebook, codes=codes, reviews=reviews, accuracy=accuracy)
    groups = {}
    for name, group in accuracy.items():
        if not group.answers:
            continue
        groups[name] = {"label": GROUP_NAMES[name], "answers": group.answers, "reviewed": group.reviewed,
                        "sampled_reviewed": group.sampled_reviewed, "reason": group.reason,
                        "precision": _percent(group.precision),
                        "precision_interval": [_percent(v) for v in group.precision_interval],
                        "recall": _percent(group.recall),
                        "recall_interval": [_percent(v) for v in group.recall_interval]}
    return {"sample": len(sample), "groups": groups,
            "counts": [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                       for row in counts.to_dict("records")]}
