"""Suggestions for the coder: sentences that no rule coded with a theme but that resemble it.

A model per coded item is fitted on the codebook's examples and on the answers a coder has reviewed (in
this wave and earlier ones): TF-IDF of character n-grams within words, which sees through inflections,
compounds and typing slips, and one logistic regression per theme. It scores every sentence of an answer
for each theme of the item that the answer is not coded with yet. Suggestions are only offered in the
coding workbook and the review; nothing is coded until a coder marks the theme (pipeline.coding.sheet).
During a review ReviewModel is refitted after every decision: it keeps every sentence's vector and refits
only the decided item's regressions (bench/REVIEW.md).

The fit is deterministic (a fixed solver and random state, the training sentences in a fixed order), so
the same codebook, reviews and answers give the same suggestions and the same workbook bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.coding.rules import evidence_sentence_text, sentences
from pipeline.core.codebook import Codebook
from pipeline.core.wave_files import answer_sha
from pipeline.coding.rules import code
from pipeline.core.errors import PipelineError
from pipeline.core.schemas import NETWORKS, read_parquet
from pipeline.core.wave_files import load_corrections, load_reviews

# Chosen on tests/data/coding_development.yaml with `python -m pipeline codebook-eval --suggestions
# --validation tests/data/coding_development.yaml --thresholds ...` (see README, Coding).
THRESHOLD = 0.35
NGRAMS = (3, 5)
SUGGESTION_COLUMNS = ("network_id", "response_key", "item", "theme", "score", "sentence")


@dataclass(frozen=True)
class Labelled:
    """A training sentence of one item: the themes it names, and the themes it speaks for (named or not)."""
    item: str
    text: str
    positive: frozenset[str]
    judged: frozenset[str]


def codebook_sentences(codebook: Codebook) -> list[Labelled]:
    """The codebook's examples: a positive example names its theme and, as far as the model is told, none of
    the item's other themes; a negative example speaks only against its own theme."""
    positive: dict[tuple[str, str], set[str]] = {}
    judged: dict[tuple[str, str], set[str]] = {}
    for theme in codebook.themes:
        item_themes = {t.code for t in codebook.themes_for(theme.item)}
        for text in theme.positive:
            positive.setdefault((theme.item, text), set()).add(theme.code)
            judged.setdefault((theme.item, text), set()).update(item_themes)
        for text in theme.negative:
            positive.setdefault((theme.item, text), set())
            judged.setdefault((theme.item, text), set()).add(theme.code)
    return [Labelled(item, text, frozenset(positive[(item, text)]), frozenset(judged[(item, text)]))
            for item, text in positive]


def evidence_sentence(evidence: str, answer_sentences: list[str]) -> str | None:
    """The sentence of the answer a code's evidence quotes, or None (a manual code with a reason)."""
    core = evidence_sentence_text(evidence)
    if not core:
        return None
    for s in answer_sentences:
        if " ".join(s.split()).startswith(core):
            return s
    return None


def reviewed_answers(*, networks: pd.DataFrame, reviews: pd.DataFrame, codebook: Codebook) -> set[tuple[str, str]]:
    """(network_id, item) of the answers a person reviewed and that have not changed since. Takes networks
    (network_id, response_key and the coded items) and reviews (response_key, item, answer_sha)."""
    done = set(zip(reviews["response_key"], reviews["item"], reviews["answer_sha"]))
    out = set()
    for item in codebook.items:
        if item not in networks.columns:
            continue
        for key, nid, text in zip(networks["response_key"], networks["network_id"], networks[item].fillna("")):
            if text and (key, item, answer_sha(text)) in done:
                out.add((nid, item))
    return out


def reviewed_sentences(*, networks: pd.DataFrame, codes: pd.DataFrame, reviews: pd.DataFrame,
                       codebook: Codebook) -> list[Labelled]:
    """The sentences of reviewed answers, labelled with the codes the answer has after the coder's review.

    Takes networks (network_id, response_key, the coded items), the wave's codes (network_id, item, theme,
    evidence; corrections applied) and its reviews. A theme the answer has names the sentence its evidence
    quotes (the whole answer when the evidence is a coder's reason); a theme it lacks is named by none of
    its sentences."""
    reviewed = reviewed_answers(networks=networks, reviews=reviews, codebook=codebook)
    if not reviewed:
        return []
    by_answer: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for r in codes.itertuples(index=False):
        if (r.network_id, r.item) in reviewed:
            by_answer.setdefault((r.network_id, r.item), []).append((r.theme, r.evidence))
    out = []
    for item in codebook.items:
        if item not in networks.columns:
            continue
        themes = {t.code for t in codebook.themes_for(item)}
        for nid, text in zip(networks["network_id"], networks[item].fillna("")):
            if (nid, item) not in reviewed:
                continue
            parts = sentences(text)
            coded = by_answer.get((nid, item), [])
            named: dict[str, set[str]] = {s: set() for s in parts}
            whole: set[str] = set()
            for theme, evidence in coded:
                sentence = evidence_sentence(evidence, parts)
                (named[sentence] if sentence is not None else whole).add(theme)
            absent = themes - {theme for theme, _ in coded}
            for s in parts:
                out.append(Labelled(item, s, frozenset(named[s]), frozenset(named[s] | absent)))
            if whole:
                out.append(Labelled(item, text, frozenset(whole), frozenset(whole | absent)))
    return out


@dataclass
class ItemModel:
    vectorizer: object
    themes: tuple[str, ...]
    weights: np.ndarray      # themes x features
    bias: np.ndarray         # themes

    def scores(self, texts: list[str]) -> np.ndarray:
        """Sentences x themes: the probability that the sentence names the theme."""
        if not texts or not self.themes:
            return np.zeros((len(texts), len(self.themes)))
        linear = self.vectorizer.transform(texts) @ self.weights.T + self.bias
        return 1.0 / (1.0 + np.exp(-np.asarray(linear)))


@dataclass
class Suggester:
    models: dict[str, ItemModel]
    trained_on: int            # sentences
    from_reviews: int          # of them from reviewed answers

    def scores(self, item: str, texts: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
        model = self.models.get(item)
        if model is None:
            return (), np.zeros((len(texts), 0))
        return model.themes, model.scores(texts)


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, lowercase=True, strip_accents="unicode",
                           sublinear_tf=True, dtype=np.float64)


def _regressions(codebook: Codebook, item: str, these: list[Labelled], matrix) -> tuple[list[str], list, list]:
    """One logistic regression per theme of the item on the sentences `these` (rows of `matrix`): the themes
    that could be fitted, their weights and biases."""
    from sklearn.linear_model import LogisticRegression
    themes, weights, bias = [], [], []
    for theme in codebook.themes_for(item):
        rows = [i for i, s in enumerate(these) if theme.code in s.judged]
        labels = np.array([theme.code in these[i].positive for i in rows], dtype=int)
        if len(set(labels.tolist())) < 2:
            continue
        model = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", random_state=0,
                                   max_iter=1000)
        model.fit(matrix[rows], labels)
        themes.append(theme.code)
        weights.append(model.coef_[0])
        bias.append(model.intercept_[0])
    return themes, weights, bias


def fit(*, codebook: Codebook, reviewed: list[Labelled] = ()) -> Suggester:
    """The model of each coded item, fitted on the codebook's examples and the reviewed sentences. A theme
    needs at least one sentence that names it and one that does not."""
    training = codebook_sentences(codebook) + list(reviewed)
    models = {}
    for item in codebook.items:
        these = [s for s in training if s.item == item]
        if not these:
            continue
        vectorizer = _vectorizer()
        matrix = vectorizer.fit_transform([s.text for s in these])
        themes, weights, bias = _regressions(codebook, item, these, matrix)
        if themes:
            models[item] = ItemModel(vectorizer, tuple(themes), np.vstack(weights), np.array(bias))
    return Suggester(models=models, trained_on=len(training), from_reviews=len(reviewed))


class ReviewModel(Suggester):
    """The suggestion model of a review, refitted after every decision at little cost.

    Each item's vectoriser is fitted once, on the codebook's examples, the training sentences and every
    sentence of the wave's answers (their words only; nothing of their codes), and the vector of every
    sentence is kept. A decision refits only the regressions of its item. Scores as Suggester does."""

    def __init__(self, *, codebook: Codebook, training: list[Labelled], corpus: dict[str, list[str]]):
        self.codebook = codebook
        self.base = codebook_sentences(codebook) + list(training)
        self.earlier = len(training)
        self.vectorizers, self.rows, self.vectors = {}, {}, {}
        for item in codebook.items:
            texts = list(dict.fromkeys([s.text for s in self.base if s.item == item] + corpus.get(item, [])))
            if not texts:
                continue
            self.vectorizers[item] = _vectorizer()
            self.vectors[item] = self.vectorizers[item].fit_transform(texts).tocsr()
            self.rows[item] = {text: i for i, text in enumerate(texts)}
        super().__init__(models={}, trained_on=len(self.base), from_reviews=len(training))
        self.decided: dict[str, list[Labelled]] = {}
        for item in self.vectorizers:
            self.refit(item, [])

    def _matrix(self, item: str, texts: list[str]):
        known = self.rows[item]
        if all(t in known for t in texts):
            return self.vectors[item][[known[t] for t in texts]]
        return self.vectorizers[item].transform(texts)

    def refit(self, item: str, decided: list[Labelled]) -> None:
        """Fit the item's regressions again on the base sentences and `decided` (this review's)."""
        if item not in self.vectorizers:
            return
        these = [s for s in self.base if s.item == item] + [s for s in decided if s.item == item]
        themes, weights, bias = _regressions(self.codebook, item, these, self._matrix(item, [s.text for s in these]))
        self.decided[item] = decided
        self.trained_on = len(self.base) + sum(map(len, self.decided.values()))
        self.from_reviews = self.earlier + sum(map(len, self.decided.values()))
        if themes:
            self.models[item] = _CachedItemModel(self, item, tuple(themes), np.vstack(weights), np.array(bias))
        else:
            self.models.pop(item, None)


@dataclass
class _CachedItemModel:
    owner: ReviewModel
    item: str
    themes: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray

    def scores(self, texts: list[str]) -> np.ndarray:
        if not texts or not self.themes:
            return np.zeros((len(texts), len(self.themes)))
        linear = self.owner._matrix(self.item, texts) @ self.weights.T + self.bias
        return 1.0 / (1.0 + np.exp(-np.asarray(linear)))


def suggest(*, networks: pd.DataFrame, codes: pd.DataFrame, codebook: Codebook, model: Suggester,
            threshold: float = THRESHOLD, skip: set[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    """Per answer and theme it is not coded with, the best-scoring sentence when its score reaches the
    threshold. Takes networks (network_id, response_key, the coded items) and codes (network_id, item,
    theme); `skip` holds (network_id, item) of answers not to suggest for (a coder reviewed them already).
    Gives SUGGESTION_COLUMNS, the best score of each answer first."""
    coded: dict[tuple[str, str], set[str]] = {}
    for nid, item, theme in zip(codes["network_id"], codes["item"], codes["theme"]):
        coded.setdefault((nid, item), set()).add(theme)
    rows = []
    for item in codebook.items:
        if item not in networks.columns:
            continue
        texts, owners = [], []
        for nid, key, text in zip(networks["network_id"], networks["response_key"], networks[item].fillna("")):
            if not text or (nid, item) in skip:
                continue
            for s in sentences(text):
                owners.append((nid, key))
                texts.append(s)
        themes, scores = model.scores(item, texts)
        if not len(texts) or not themes:
            continue
        best: dict[tuple[str, str], tuple[float, int]] = {}
        hits = np.argwhere(scores >= threshold)
        for row, col in hits.tolist():
            nid = owners[row][0]
            if themes[col] in coded.get((nid, item), ()):
                continue
            score = float(scores[row, col])
            key = (nid, themes[col])
            if key not in best or score > best[key][0]:
                best[key] = (score, row)
        for nid, theme in sorted(best):
            score, row = best[(nid, theme)]
            rows.append({"network_id": nid, "response_key": owners[row][1], "item": item, "theme": theme,
                         "score": round(score, 2), "sentence": texts[row]})
    frame = pd.DataFrame(rows, columns=list(SUGGESTION_COLUMNS))
    return frame.sort_values(["item", "network_id", "score", "theme"], ascending=[True, True, False, True],
                             kind="stable").reset_index(drop=True)


def reviewed_in_waves(wave, *, config, networks: pd.DataFrame, codes: pd.DataFrame,
                      reviews: pd.DataFrame) -> tuple[list[Labelled], list[str]]:
    """The reviewed sentences of `wave` (its networks, codes and reviews given) and of every earlier wave
    (read from their processed folders); with a note for an earlier wave that cannot be read."""
    codebook = config.codebook
    out = reviewed_sentences(networks=networks, codes=codes, reviews=reviews, codebook=codebook)
    notes, seen = [], {wave.name} if wave else set()

    def before(w):
        try:
            return w.previous_wave()
        except PipelineError as exc:
            notes.append(f"the wave before {w.name} was left out of the suggestions' model: {exc}")
            return None
    earlier = before(wave) if wave else None
    while earlier is not None and earlier.name not in seen:
        seen.add(earlier.name)
        past_reviews = load_reviews(earlier.reviews)
        if len(past_reviews):
            path = Path(earlier.processed) / "networks.parquet"
            try:
                past = read_parquet(path, schema=NETWORKS, extra_text_prefix="q",
                                    columns=["network_id", "response_key", "werkplaats", "name", *codebook.items])
            except (PipelineError, OSError):
                notes.append(f"wave {earlier.name}: its reviews were left out of the suggestions' model, because "
                             f"{path} cannot be read; run `make report WAVE={earlier.name}` first.")
            else:
                past_codes = code(networks=past, codebook=codebook,
                                  corrections=load_corrections(earlier.corrections, codebook=codebook)).codes
                out += reviewed_sentences(networks=past, codes=past_codes, reviews=past_reviews, codebook=codebook)
        earlier = before(earlier)
    return out, notes
