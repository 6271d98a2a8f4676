"""The rules' accuracy on a wave, estimated from the reviewed random sample, and the intervals of the counts."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.analysis.coding_accuracy import MIN_SAMPLED_REVIEWED, accuracy_by_group, count_intervals, wilson_interval
from pipeline.coding.rules import answers, apply_rules
from pipeline.core.codebook import load_codebook

CODEBOOK = load_codebook()

TEXTS = ["We hebben te weinig tijd en er is weinig draagvlak bij de gemeente.",
         "De procesbegeleiding door de hogeschool helpt; deelnemers staan open voor elkaar.",
         "Studenten en docenten leren samen met professionals in de praktijk.",
         "Het werkt omdat het van onderop komt en praktisch is."]


def wave(count: int) -> pd.DataFrame:
    return pd.DataFrame({"network_id": [f"n{i:03d}" for i in range(count)],
                         "response_key": [f"r{i:03d}" for i in range(count)],
                         "q17": "", "q19": "", "q23": [TEXTS[i % len(TEXTS)] + f" ({i})" for i in range(count)]})


def files(networks: pd.DataFrame, *, sampled: int, reviewed: int):
    coded = answers(networks, CODEBOOK.items)
    sample = coded.head(sampled).assign(position=[str(i + 1) for i in range(min(sampled, len(coded)))], seed="7")
    reviews = coded.head(reviewed).assign(coder="AB")
    return sample, reviews


def test_wilson_interval_known_cases():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0.1 < high < 0.2           # 0 of 20: up to about 16 %
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.8 < low < 0.9
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    for successes, trials in [(0, 1), (1, 1), (0, 500), (500, 500), (3, 7)]:
        low, high = wilson_interval(successes, trials)
        assert 0.0 <= low < high <= 1.0


def test_precision_and_recall_from_the_reviewed_sample():
    networks = wave(40)
    rules = apply_rules(networks=networks, codebook=CODEBOOK)
    assert len(rules) > 20
    sample, reviews = files(networks, sampled=25, reviewed=30)
    in_sample = set(sample["network_id"])
    # After review: two rule codes of sampled answers removed, one theme added to a sampled answer.
    wrong = rules[rules["network_id"].isin(in_sample)].head(2)
    codes = rules.drop(wrong.index)
    added_to = sorted(in_sample)[0]
    missing = next(t.code for t in CODEBOOK.themes_for("q23")
                   if not ((rules["network_id"] == added_to) & (rules["theme"] == t.code)).any())
    codes = pd.concat([codes, pd.DataFrame([{"network_id": added_to, "item": "q23", "theme": missing,
                                             "origin": "manual", "evidence": ""}])], ignore_index=True)
    result = accuracy_by_group(networks=networks, codebook=CODEBOOK, codes=codes, sample=sample, reviews=reviews)
    themes = result["themes"]
    found = int(rules["network_id"].isin(in_sample).sum())
    assert themes.estimated and themes.sampled_reviewed == 25 and themes.reviewed == 30
    assert (themes.true_positives, themes.false_positives, themes.false_negatives) == (found - 2, 2, 1)
    assert themes.precision == pytest.approx((found - 2) / found)
    low, high = themes.recall_interval
    assert low < themes.recall < high
    assert not result["methods"].estimated          # no q19 answers at all


def test_fewer_than_twenty_sampled_reviewed_answers_give_a_reason():
    networks = wave(40)
    sample, reviews = files(networks, sampled=30, reviewed=MIN_SAMPLED_REVIEWED - 1)
    codes = apply_rules(networks=networks, codebook=CODEBOOK)
    result = accuracy_by_group(networks=networks, codebook=CODEBOOK, codes=codes, sample=sample, reviews=reviews)
    assert not result["themes"].estimated and "19" in result["themes"].reason
    none = accuracy_by_group(networks=networks, codebook=CODEBOOK, codes=codes, sample=sample.head(0), reviews=reviews)
    assert "geen steekproef" in none["themes"].reason


def test_a_reviewed_answer_that_changed_since_counts_no_more():
    networks = wave(40)
    sample, reviews = files(networks, sampled=25, reviewed=25)
    networks.loc[0, "q23"] = "Een ander antwoord."
    codes = apply_rules(networks=networks, codebook=CODEBOOK)
    result = accuracy_by_group(networks=networks, codebook=CODEBOOK, codes=codes, sample=sample, reviews=reviews)
    assert result["themes"].sampled_reviewed == 24


def test_count_intervals_while_answers_are_unreviewed_and_none_when_all_are():
    networks = wave(60)
    codes = apply_rules(networks=networks, codebook=CODEBOOK)
    sample, reviews = files(networks, sampled=25, reviewed=25)
    accuracy = accuracy_by_group(networks=networks, codebook=CODEBOOK, codes=codes, sample=sample, reviews=reviews)
    counts = count_intervals(networks=networks, codebook=CODEBOOK, codes=codes, reviews=reviews, accuracy=accuracy)
    assert set(counts["theme"]) == {t.code for t in CODEBOOK.themes_for("q23")}
    for row in counts.itertuples():
        assert row.low <= row.estimate <= row.high and row.low < row.high   # 35 answers unreviewed
        assert row.reviewed_count <= row.low and row.high <= row.reviewed_count + 35
    _, everything = files(networks, sampled=25, reviewed=60)
    assert count_intervals(networks=networks, codebook=CODEBOOK, codes=codes, reviews=everything,
                           accuracy=accuracy).empty
    too_few = accuracy_by_group(networks=networks, codebook=CODEBOOK, codes=codes, sample=sample,
                                reviews=reviews.head(10))
    assert count_intervals(networks=networks, codebook=CODEBOOK, codes=codes, reviews=reviews.head(10),
                           accuracy=too_few).empty


def final_wave(tmp_path, final: bool):
    from conftest import make_wave
    from pipeline.waves.wave import load_wave
    waves = make_wave(tmp_path / "waves", "2025", final=final)
    return load_wave("2025", waves_dir=waves)


def test_a_final_wave_with_unreviewed_answers_or_unchosen_quotes_is_refused_in_one_line(tmp_path):
    from pipeline.core.errors import PipelineError
    wave = final_wave(tmp_path, True)
    with pytest.raises(PipelineError) as refused:
        wave.check_final(reviewed=10, coded=40, quotes_chosen=3, quotes_shown=5)
    message = str(refused.value)
    assert "\n" not in message and "30 of 40 coded answers are unreviewed" in message
    assert "python -m pipeline review --wave 2025" in message and "make review WAVE=2025" in message
    assert "2 of 5 quotes" in message and "python -m pipeline quotes --wave 2025" in message
    with pytest.raises(PipelineError, match="unreviewed"):
        wave.check_final(reviewed=39, coded=40, quotes_chosen=5, quotes_shown=5)


def test_a_final_wave_fully_reviewed_and_a_draft_pass(tmp_path):
    final_wave(tmp_path / "a", True).check_final(reviewed=40, coded=40, quotes_chosen=5, quotes_shown=5)
    final_wave(tmp_path / "b", False).check_final(reviewed=0, coded=40, quotes_chosen=0, quotes_shown=5)


def built_with_sample(folder, *, reviewed: int, sampled: int = 25):
    """The embedded export as a wave whose first `sampled` theme answers (q17, q23) were drawn and the first
    `reviewed` of them reviewed (the rules' codes kept); gives the report's HTML."""
    from conftest import make_wave
    from pipeline import run_pipeline
    from pipeline.core.schemas import NETWORKS, read_parquet
    from pipeline.core.wave_files import SAMPLE_COLUMNS, reviews_csv
    from pipeline.waves.wave import load_wave
    waves = make_wave(folder / "waves", "2025")
    wave = load_wave("2025", waves_dir=waves)
    run_pipeline(wave=wave, stop="code", say=lambda line: None)
    networks = read_parquet(wave.processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
    coded = answers(networks, CODEBOOK.items)
    themes = coded[coded["item"].isin(["q17", "q23"])].head(sampled)
    themes.assign(position=[str(i + 1) for i in range(len(themes))], seed="1")[list(SAMPLE_COLUMNS)].to_csv(
        wave.sample, index=False)
    wave.reviews.write_bytes(reviews_csv(themes.head(reviewed).assign(coder="AB")))
    result = run_pipeline(wave=load_wave("2025", waves_dir=waves), start="aggregate", say=lambda line: None)
    return " ".join((result.out / "report.html").read_text(encoding="utf-8").split())


def test_a_reviewed_sample_puts_the_estimate_in_the_methode_and_intervals_on_the_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    html = built_with_sample(tmp_path, reviewed=25)
    assert "25 willekeurig getrokken antwoorden met thema&#39;s (vraag 17 en 23) nagekeken" in html
    assert "95%-betrouwbaarheidsinterval" in html and "Wilson" in html
    assert "werkelijk aantal geschat" in html
    # q19 was not in the sample: the Methode says why its accuracy cannot be estimated.
    assert "werkwijzen (vraag 19) in deze meting coderen, is niet te schatten" in html


def test_a_sample_of_fewer_than_twenty_reviewed_answers_gives_the_reason_and_no_intervals(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    html = built_with_sample(tmp_path, reviewed=12)
    assert "pas 12 antwoorden gecontroleerd, minder dan de 20" in html
    assert "werkelijk aantal geschat" not in html and "95%-betrouwbaarheidsinterval" not in html
