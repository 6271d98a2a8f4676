"""The simulated review (codebook-eval --simulate-review) and the review queue it replays."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import networks_frame
from pipeline.app.cli import main
from pipeline.coding.evaluation import Answer, evaluate
from pipeline.coding.review_queue import Decision, ReviewQueue, draw_sample
from pipeline.coding.rules import code
from pipeline.coding.simulation import SHARES, simulate_review
from pipeline.core.codebook import load_codebook

CODEBOOK = load_codebook()
# No rule codes "commitment" in this sentence; the model, fitted on the codebook's examples, finds it.
PARAPHRASE = "Partners die zich voor jaren binden aan elkaar."
FILLER = "Tijd."


def _known_set() -> list[Answer]:
    """Twelve answers the rules code right, then four (last in the file) that hold a theme they miss in a
    sentence no code rests on."""
    right = [Answer(f"a{i:02}", "q23", FILLER, frozenset({"tijd"})) for i in range(12)]
    missed = [Answer(f"b{i}", "q23", f"{FILLER} {PARAPHRASE}", frozenset({"tijd", "commitment"})) for i in range(4)]
    return right + missed


def test_the_review_order_beats_file_order_where_the_answer_is_known():
    answers = _known_set()
    replay = simulate_review(answers, CODEBOOK)["themes"]
    curve, file_order = dict(replay.curve), dict(replay.file_order)
    # Four answers of sixteen hold every error: the queue reads them first, file order last.
    assert curve[0.25] == 1.0 and file_order[0.25] == file_order[0.0] < 1.0
    # 20 codes: 95 % (19) are in after three of the four are read.
    assert replay.read_for_recall == 3 and replay.wss95 == pytest.approx(1 - 3 / 16 - 0.05)


def test_the_curve_starts_at_the_rules_f1_and_ends_at_one():
    answers = [Answer("x1", "q23", "Dat kost veel tijd.", frozenset({"tijd"})),
               Answer("x2", "q23", "Niets bijzonders.", frozenset({"tijd"})),
               Answer("x3", "q23", "Er was tijd genoeg en een procesbegeleider.", frozenset()),
               Answer("x4", "q17", "Het geld stopt volgend jaar.", frozenset({"continuiteit"})),
               Answer("x5", "q19", "We doen aan intervisie.", frozenset({"intervisie"})),
               Answer("x6", "q19", "Een symposium.", frozenset())]
    _, overall = evaluate(answers, CODEBOOK)
    rules = overall.set_index("set")["f1"]
    replays = simulate_review(answers, CODEBOOK)
    for group in ("themes", "methods"):
        curve = dict(replays[group].curve)
        assert [share for share, _ in replays[group].curve] == list(SHARES)
        assert curve[0.0] == pytest.approx(rules[group]) and curve[1.0] == 1.0
    assert replays["themes"].answers == 4 and replays["methods"].answers == 2


def test_the_command_prints_one_object_per_group(tmp_path, capsys):
    answers = [{"id": a.id, "item": a.item, "text": a.text, "themes": sorted(a.themes)} for a in _known_set()]
    answers.append({"id": "m1", "item": "q19", "text": "Intervisie en een symposium.", "themes": ["intervisie"]})
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump({"answers": answers}, allow_unicode=True), encoding="utf-8")
    assert main(["codebook-eval", "--simulate-review", "--validation", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"themes", "methods"}
    for group in result.values():
        assert {"curve", "file_order", "wss95"} <= set(group)
        assert [share for share, _ in group["curve"]] == [0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0]
        assert [share for share, _ in group["file_order"]] == [0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0]
        assert all(0 <= f1 <= 1 for _, f1 in group["curve"] + group["file_order"])
        assert -0.05 <= group["wss95"] <= 0.95
    assert result["themes"]["curve"][3][1] == 1.0
    assert main(["codebook-eval", "--simulate-review", "--validation", str(path)]) == 0
    assert "WSS@95" in capsys.readouterr().out


def _queue(sample=()):
    networks = networks_frame(**{f"n{i}": {"q23": FILLER} for i in range(6)},
                              m={"q23": f"{FILLER} {PARAPHRASE}"})
    codes = code(networks=networks, codebook=CODEBOOK).codes
    return ReviewQueue(networks=networks, codes=codes, codebook=CODEBOOK, sample=list(sample))


def test_a_decision_and_its_undo_leave_the_queue_as_it_was():
    queue = _queue()
    key = ("m", "q23")
    before, suggested = queue.order(), queue.suggestions(key)
    assert before[0] == key and "commitment" in {theme for theme, _, _ in suggested}
    queue.decide(key, Decision(frozenset({"tijd", "commitment"})))
    assert queue.codes_now(key) == {"tijd", "commitment"} and queue.is_reviewed(key) and key not in queue.order()
    queue.undo(key)
    assert queue.codes_now(key) == {"tijd"} and not queue.is_reviewed(key)
    assert queue.order() == before and queue.suggestions(key) == suggested


def test_the_sample_comes_first_in_the_order_drawn():
    keys = [(f"n{i}", "q23") for i in range(6)]
    sample = draw_sample(keys, 3, seed=7)
    assert sample == draw_sample(keys, 3, seed=7) and len(set(sample)) == 3
    queue = _queue(sample)
    assert queue.order()[:3] == sample and queue.next() == sample[0]
    queue.decide(sample[0], Decision(frozenset({"tijd"})))
    assert queue.next() == sample[1]
    assert queue.order()[2] == ("m", "q23"), "after the sample, the answer the rules err on"
