"""Negated sentences code nothing and are never quoted (issue 25): a clause that says its theme is absent,
no problem, not done, went easily or (for a positive theme) went badly is no evidence of that theme."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import variants
from conftest import EMBEDDED_EXPORT, networks_frame
from pipeline import run_pipeline
from pipeline.coding.quotes import Decisions, choose
from pipeline.coding.rules import code
from pipeline.core.codebook import load_codebook
from pipeline.core.wave_files import answer_sha, empty_corrections

CODEBOOK = load_codebook()
SECURED = "De continuïteit is geborgd doordat de gemeente het netwerk structureel financiert."

# (item, theme, a sentence that denies the theme, a sentence that names it, for contrast)
DENIED = [
    ("q17", "tijd_ruimte", "Tijd en ruimte zijn bij ons geen probleem.",
     "Tijd en ruimte zijn bij ons een groot probleem."),
    ("q17", "prestatiedruk", "Gelukkig geen druk van de financier om snel resultaten te laten zien.",
     "Er is veel druk van de financier om snel resultaten te laten zien."),
    ("q17", "taal", "Elkaars taal spreken ging vanaf het begin vrij vanzelf.",
     "Elkaars taal spreken was vanaf het begin lastig."),
    ("q19", "symposium", "Een symposium of congres doen we niet, daar is geen budget voor.",
     "Een symposium doen we elk jaar, daar is budget voor."),
    ("q17", "verbinding", "De samenwerking verloopt stroef.", "De samenwerking verloopt soepel."),
    ("q17", "continuiteit", SECURED, "Het netwerk borgen na afloop van de subsidie blijft lastig."),
]


def _coded(item: str, text: str) -> set[str]:
    codes = code(networks=networks_frame(a={item: text}), codebook=CODEBOOK).codes
    return set(codes.loc[codes["item"] == item, "theme"])


@pytest.mark.parametrize("item, theme, denied, named", DENIED, ids=[d[1] for d in DENIED])
def test_a_clause_that_denies_its_theme_codes_nothing_for_it(item, theme, denied, named):
    assert theme not in _coded(item, denied)
    assert theme in _coded(item, named)


def test_the_denial_holds_for_its_clause_only():
    assert "tijd_ruimte" in _coded("q17", "Taal is geen probleem, maar tijd vrijmaken blijft lastig.")
    assert "continuiteit" in _coded("q17", "De continuïteit is niet geborgd zodra de subsidie stopt.")
    assert "intervisie" in _coded("q19", "Intervisie doen we elke maand; een leergang hebben we nooit gehad.")
    assert "leergang" not in _coded("q19", "Intervisie doen we elke maand; een leergang hebben we nooit gehad.")
    # "hebben ... nooit" denies what stands before it, back to "en": the intervision is done
    assert _coded("q19", "We doen intervisie en hebben nooit een symposium gehad.") == {"intervisie"}
    assert "procesbegeleiding" in _coded("q23", "Een procesbegeleider is niet te missen.")


def test_a_challenge_that_went_easily_is_no_challenge_and_an_opportunity_that_went_badly_no_opportunity():
    # the same clause cue, read by the sense of the theme's category
    assert "taal" in _coded("q17", "Elkaars taal spreken blijft moeilijk.")
    assert "kennis_innovatie" not in _coded("q17", "Kennis delen blijft moeilijk.")
    assert "verbinding" in _coded("q17", "De samenwerking verloopt soepel.")


def _rule_codes(rows):
    """Codes as a rule that missed the negation would give them (network, item, theme, evidence)."""
    return pd.DataFrame([{"network_id": n, "item": i, "theme": t, "origin": f"{t}.termen", "evidence": e}
                         for n, i, t, e in rows])


@pytest.mark.parametrize("item, theme, denied, named", DENIED, ids=[d[1] for d in DENIED])
def test_a_denied_sentence_is_never_quoted_even_when_coded(item, theme, denied, named):
    networks = networks_frame(a={item: denied}, b={item: named})
    codes = _rule_codes([("a", item, theme, denied), ("b", item, theme, named)])
    chosen = choose(codes=codes, networks=networks, codebook=CODEBOOK, item=item, decisions=Decisions())
    assert [q.candidate.sentence for q in chosen[theme]] == [named]


def test_after_a_coder_removes_a_code_the_next_quote_is_positive_evidence_too():
    challenge = "Het netwerk borgen na afloop van de subsidie blijft lastig."
    networks = networks_frame(a={"q17": challenge}, b={"q17": f"{SECURED} Verder weinig te melden."})
    corrections = empty_corrections()
    corrections.loc[0] = {**{c: "" for c in corrections.columns}, "response_key": "rk-a", "item": "q17",
                          "answer_sha": answer_sha(challenge), "theme": "continuiteit", "action": "remove",
                          "coder": "JV", "reason": "gaat over iets anders", "network_id": "a"}
    coded = code(networks=networks, codebook=CODEBOOK, corrections=corrections).codes
    # a rule that missed the denial would code b by its secured sentence: it still is no quote
    codes = pd.concat([coded, _rule_codes([("b", "q17", "continuiteit", SECURED)])], ignore_index=True)
    chosen = choose(codes=codes, networks=networks, codebook=CODEBOOK, item="q17", decisions=Decisions())
    assert chosen["continuiteit"] == []


def test_a_coders_evidence_may_be_quoted():
    sentence = "Het voortbestaan hangt af van een handvol trekkers die het volhouden."
    networks = networks_frame(a={"q17": sentence})
    codes = pd.DataFrame([{"network_id": "a", "item": "q17", "theme": "lerende_houding", "origin": "manual",
                           "evidence": sentence}])
    chosen = choose(codes=codes, networks=networks, codebook=CODEBOOK, item="q17", decisions=Decisions())
    assert [q.candidate.sentence for q in chosen["lerende_houding"]] == [sentence]


def test_a_wave_codes_and_quotes_none_of_the_denied_sentences(tmp_path):
    """The planted answers in a run of the embedded export: not in codes.csv, not quoted, and the method
    not done not in the network's Bijlage 2."""
    rows = variants.read_rows(EMBEDDED_EXPORT)
    tags = rows[0]
    planted = next(r for r in rows[3:] if r[tags.index("Q3")] == "Leernetwerk wijkverpleegkundigen")
    q17 = " ".join(text for item, _, text, _ in DENIED if item == "q17")
    planted[tags.index("Q17")] = q17
    planted[tags.index("Q19")] = "Een symposium of congres doen we niet, daar is geen budget voor."
    export = variants.write_csv(rows, tmp_path / "export.csv")
    run_pipeline(export=export, out=tmp_path / "out", processed=tmp_path / "processed")
    networks = pd.read_parquet(tmp_path / "processed" / "networks.parquet")
    network_id = networks.loc[networks["name"] == "Leernetwerk wijkverpleegkundigen", "network_id"].item()
    codes = pd.read_csv(tmp_path / "out" / "tables" / "codes.csv", dtype=str, keep_default_na=False)
    mine = codes[codes["network_id"] == network_id]
    assert set(mine["theme"]).isdisjoint(theme for _, theme, _, _ in DENIED)
    quotes = "".join((tmp_path / "out" / "tables" / f"themas_{item}.csv").read_text(encoding="utf-8")
                     for item in ("q17", "q19"))
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    for item, _, denied, _ in DENIED:
        assert denied not in quotes
        if item == "q17":   # the q19 answers are shown whole in the table of working methods
            assert denied not in html.split('<h1 id="bijlage-2">')[0]
    section = html.split(f'id="netwerk-{network_id}"', 1)[1].split("</section>", 1)[0]
    methods = re.search(r"<dt>Werkvormen</dt><dd>(.*?)</dd>", section)
    assert "Symposium" not in (methods.group(1) if methods else "")
