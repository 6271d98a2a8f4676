"""The order in which a coder reviews a wave's coded answers, learnt from every decision.

A ReviewQueue holds a wave's coded answers, each named by (network_id, item), the codes each has now (rules
and corrections), the suggestion model of pipeline.coding.suggest and the coder's decisions. The answers not
reviewed yet come in the order to read them: the random sample first, when one was drawn (it is what the
rules' accuracy on the wave is estimated from), then the answers with the most errors expected in their codes:
themes the model finds that are not coded, codes it doubts, and sentences no code rests on, counted at the
rate at which the decisions so far found missed themes in such sentences. Every decision refits the model of
its item on the codebook's examples, the reviewed answers given at the start (this wave's and earlier
waves') and the decisions of this review (pipeline.coding.suggest.ReviewModel, which keeps every sentence's
vector), and orders the rest again. The browser review (pipeline.app.review) and the simulated coder of
codebook-eval (pipeline.coding.simulation) use the same queue, so what is measured is what the coder gets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from pipeline.coding.rules import sentences
from pipeline.coding.suggest import THRESHOLD, Labelled, ReviewModel, evidence_sentence
from pipeline.core.codebook import Codebook

Key = tuple[str, str]          # (network_id, item)
# Missed themes and uncovered sentences assumed before the first decision (chosen on the development set).
MISSED_PRIOR = (1.0, 2.0)


@dataclass(frozen=True)
class Decision:
    """The themes a coder says an answer names, and for some of them the sentence that names it."""
    themes: frozenset[str]
    evidence: tuple[tuple[str, str], ...] = ()      # (theme, sentence or evidence text)


def draw_sample(keys: list[Key], n: int, *, seed: int) -> list[Key]:
    """n of the answers drawn at random (seeded, so the same wave and seed give the same sample), in the
    order drawn; all of them when there are fewer."""
    return random.Random(seed).sample(list(keys), min(n, len(keys)))


class ReviewQueue:
    """The coded answers of a wave, in the order a coder should review them.

    Takes networks (network_id and the codebook's items), codes (network_id, item, theme, evidence; the
    corrections applied), the answers already reviewed, the training sentences of earlier reviews
    (pipeline.coding.suggest.reviewed_in_waves) and the random sample, if one was drawn."""

    def __init__(self, *, networks: pd.DataFrame, codes: pd.DataFrame, codebook: Codebook,
                 reviewed: set[Key] = frozenset(), training: list[Labelled] = (), sample: list[Key] = ()):
        self.codebook = codebook
        self.texts: dict[Key, str] = {}
        for item in codebook.items:
            if item in networks.columns:
                for nid, text in zip(networks["network_id"], networks[item].fillna("")):
                    if text:
                        self.texts[(nid, item)] = text
        self.position = {key: i for i, key in enumerate(self.texts)}
        self.parts = {key: sentences(text) for key, text in self.texts.items()}
        self.codes: dict[Key, set[str]] = {key: set() for key in self.texts}
        self.evidence: dict[tuple[str, str, str], str] = {}
        for r in codes.itertuples(index=False):
            key = (r.network_id, r.item)
            if key in self.codes:
                self.codes[key].add(r.theme)
                self.evidence[(r.network_id, r.item, r.theme)] = r.evidence
        self.reviewed = {key for key in reviewed if key in self.texts}
        self.training = list(training)
        self.sample = [key for key in sample if key in self.texts]
        self.decisions: dict[Key, Decision] = {}
        self._uncovered = {key: self.uncovered(key) for key in self.texts}
        self._rate = self.missed_per_sentence()
        self.refit()

    # -- the model -------------------------------------------------------------------------------------

    def _labelled(self, key: Key, decision: Decision) -> list[Labelled]:
        nid, item = key
        parts = self.parts[key]
        themes = {t.code for t in self.codebook.themes_for(item)}
        named: dict[str, set[str]] = {s: set() for s in parts}
        whole: set[str] = set()
        given = dict(decision.evidence)
        for theme in decision.themes:
            text = given.get(theme) or self.evidence.get((nid, item, theme), "")
            sentence = evidence_sentence(text, parts) if text else None
            (named[sentence] if sentence is not None else whole).add(theme)
        absent = themes - decision.themes
        out = [Labelled(item, s, frozenset(named[s]), frozenset(named[s] | absent)) for s in parts]
        if whole:
            out.append(Labelled(item, self.texts[key], frozenset(whole), frozenset(whole | absent)))
        return out

    def _new_model(self) -> ReviewModel:
        corpus: dict[str, list[str]] = {}
        for (_, item), parts in self.parts.items():
            corpus.setdefault(item, []).extend(parts)
        return ReviewModel(codebook=self.codebook, training=self.training, corpus=corpus)

    def refit(self, item: str | None = None) -> None:
        """Fit the model on everything reviewed so far and score every sentence of the unreviewed answers:
        of one item (the one just decided; the others' models have not changed), or of all."""
        if item is None or not hasattr(self, "model"):
            self.model = self._new_model()
            self.scores: dict[Key, dict[str, tuple[float, str]]] = {}
            items = self.codebook.items
        else:
            items = (item,)
        for item in items:
            decided = [s for key, d in self.decisions.items() if key[1] == item for s in self._labelled(key, d)]
            self.model.refit(item, decided)
            self._score(item)

    def _score(self, item: str) -> None:
        keys = [k for k in self.texts if k[1] == item and not self.is_reviewed(k)]
        for key in [k for k in self.scores if k[1] == item]:
            del self.scores[key]
        texts, owners = [], []
        for key in keys:
            for s in self.parts[key]:
                texts.append(s)
                owners.append(key)
        themes, matrix = self.model.scores(item, texts)
        best: dict[Key, dict[str, tuple[float, str]]] = {key: {} for key in keys}
        for row, key in enumerate(owners):
            for col, theme in enumerate(themes):
                score = float(matrix[row, col])
                if theme not in best[key] or score > best[key][theme][0]:
                    best[key][theme] = (score, texts[row])
        self.scores.update(best)

    # -- what the coder sees ---------------------------------------------------------------------------

    def is_reviewed(self, key: Key) -> bool:
        return key in self.reviewed or key in self.decisions

    def uncovered(self, key: Key) -> int:
        """The answer's sentences of more than two words that none of its codes' evidence quotes: where a
        theme the rules missed would be."""
        nid, item = key
        covered = {evidence_sentence(self.evidence.get((nid, item, theme), ""), self.parts[key])
                   for theme in self.codes[key]}
        return sum(1 for s in self.parts[key] if s not in covered and len(s.split()) > 2)

    def missed_per_sentence(self) -> float:
        """The themes the rules missed per uncovered sentence, in the answers decided so far (one missed
        theme in two sentences before any is decided: the prior, worth two sentences)."""
        missed = sum(len(d.themes - self.codes[key]) for key, d in self.decisions.items())
        free = sum(self._uncovered[key] for key in self.decisions)
        return (MISSED_PRIOR[0] + missed) / (MISSED_PRIOR[1] + free)

    def priority(self, key: Key) -> float:
        """The number of errors expected in the answer's codes: themes the model finds that are not coded,
        codes it doubts, and themes the rules missed in sentences no code rests on (at the rate the
        decisions so far show)."""
        return self._model_errors(key) + self._rate * self._uncovered[key]

    def _model_errors(self, key: Key) -> float:
        coded = self.codes[key]
        expected = 0.0
        for theme, (score, _) in self.scores.get(key, {}).items():
            expected += (1.0 - score) if theme in coded else score
        return expected

    def order(self) -> list[Key]:
        """The unreviewed answers in the order to review them: the sample as drawn, then by priority."""
        sampled = [key for key in self.sample if not self.is_reviewed(key)]
        chosen = set(sampled)
        rest = [key for key in self.texts if key not in chosen and not self.is_reviewed(key)]
        rest.sort(key=lambda k: (-self.priority(k), self.position[k]))
        return sampled + rest

    def next(self) -> Key | None:
        ranked = self.order()
        return ranked[0] if ranked else None

    def suggestions(self, key: Key, *, threshold: float = THRESHOLD) -> list[tuple[str, float, str]]:
        """(theme, score, sentence) of the themes the answer is not coded with that the model finds in it,
        the surest first."""
        coded = self.codes.get(key, set())
        found = [(theme, score, sentence) for theme, (score, sentence) in self.scores.get(key, {}).items()
                 if theme not in coded and score >= threshold]
        return sorted(found, key=lambda t: (-t[1], t[0]))

    def expected_remaining(self) -> float:
        """The model's estimate of the themes still to be found in the unreviewed answers (those it finds
        that are not coded)."""
        return float(sum(score for key in self.texts if not self.is_reviewed(key)
                         for theme, (score, _) in self.scores.get(key, {}).items()
                         if theme not in self.codes[key]))

    # -- decisions -------------------------------------------------------------------------------------

    def decide(self, key: Key, decision: Decision, *, refit: bool = True) -> None:
        """The coder's decision on an answer: its codes become the decision's themes; the model learns."""
        if key not in self.texts:
            raise KeyError(f"{key[1]} of {key[0]} is not a coded answer of this wave")
        self.decisions[key] = decision
        self._rate = self.missed_per_sentence()
        if refit:
            self.refit(key[1])

    def undo(self, key: Key, *, refit: bool = True) -> None:
        """Take a decision of this review back: the answer is unreviewed again."""
        self.decisions.pop(key, None)
        self._rate = self.missed_per_sentence()
        if refit:
            self.refit(key[1])

    def codes_now(self, key: Key) -> frozenset[str]:
        """The answer's codes: the coder's decision if there is one, else the rules' and corrections'."""
        decision = self.decisions.get(key)
        return decision.themes if decision is not None else frozenset(self.codes[key])


def keys_in_file_order(queue: ReviewQueue) -> list[Key]:
    """Every coded answer of the queue in the order of the wave's file (the baseline of a review)."""
    return sorted(queue.texts, key=queue.position.__getitem__)

