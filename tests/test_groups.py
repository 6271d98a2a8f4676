"""Participant groups: a category label is placed by what it is (the head of a compound, the noun of a phrase),
what is uncertain is listed, the wave's decisions win, and the accuracy on the validation set is held."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.analysis.normalise import assign_groups, normalise
from pipeline.core.config import load_taxonomies
from pipeline.core.errors import ConfigError
from pipeline.core.wave_files import load_group_decisions
from test_normalise import _responses

DATA = Path(__file__).parent / "data"
TAXONOMIES = load_taxonomies()
GROUPS = tuple(c.code for c in TAXONOMIES.participant_groups)


def _placed(*labels, decisions=None) -> dict[str, tuple[str, str]]:
    frame = assign_groups(pd.Series(labels, dtype=object), taxonomies=TAXONOMIES, decisions=decisions)
    return {r.category_label: (r.participant_group, r.how) for r in frame.itertuples(index=False)}


@pytest.mark.parametrize("label, group", [
    ("Jongerenwerkers", "zorg"),                   # a werker, not a jongere
    ("jongeren-werker", "zorg"),                   # the compound written with a hyphen
    ("wijkverpleegkundige", "zorg"),
    ("Ouderenconsulenten", "zorg"),
    ("Onderzoekers universiteit", "onafhankelijk"),  # the phrase's first noun names it
    ("Ouders van kinderen met autisme", "burgers"),
    ("medewerkers van de gemeente", "gemeente"),   # a generic head: what it is of decides
    ("Wijkteammedewerkers", "wijkteam"),
    ("Gezinscoaches", "zorg"),                     # the longer term at the same word
])
def test_a_label_is_placed_by_its_head(label, group):
    placed, how = _placed(label)[label]
    assert placed == group and how in ("head", "complement")


def test_a_modifier_alone_places_a_label_but_uncertainly():
    assert _placed("Vrijwilligerspool")["Vrijwilligerspool"] == ("vrijwilligers", "modifier")


def test_a_typing_slip_is_read_and_said():
    assert _placed("Procesbegleider")["Procesbegleider"] == ("onafhankelijk", "fuzzy")


def test_overig_and_uncertain_labels_are_listed_in_the_messages(instrument):
    frame = _responses(instrument, q12_1_text="Ruimtevaarders (2)", q12_2_text="Vrijwilligerspool",
                       q12_3_text="Docenten", q12_4_text="Procesbegleider")
    result = normalise(responses=frame, instrument=instrument, taxonomies=TAXONOMIES)
    review = result.group_review.set_index("category_label")
    assert sorted(review.index) == ["Procesbegleider", "Ruimtevaarders", "Vrijwilligerspool"]
    assert review.loc["Ruimtevaarders", "participant_group"] == "overig"
    messages = " ".join(result.warnings)
    assert "'Ruimtevaarders'" in messages and "overig" in messages
    assert "'Vrijwilligerspool'" in messages and "modifier 'vrijwilliger'" in messages
    assert "'Procesbegleider'" in messages and "typing slip" in messages
    assert "'Docenten'" not in messages


def test_a_decision_of_the_wave_wins_and_is_no_longer_listed(instrument, tmp_path):
    path = tmp_path / "group_decisions.csv"
    path.write_text("label;group;who\nJongerenwerkers;burgers;AB\n ruimtevaarders ;vrijwilligers;AB\n"
                    "Docenten;onafhankelijk;\n", encoding="utf-8-sig")     # Excel's semicolons; no who: a proposal
    decisions = load_group_decisions(path, groups=GROUPS)
    frame = _responses(instrument, q12_1_text="Jongerenwerkers", q12_2_text="Ruimtevaarders", q12_3_text="Docenten")
    result = normalise(responses=frame, instrument=instrument, taxonomies=TAXONOMIES, group_decisions=decisions)
    assert result.involvement["participant_group"].tolist() == ["burgers", "vrijwilligers", "onderwijs"]
    assert result.group_review.empty and result.decided_labels == 2


@pytest.mark.parametrize("content, expected", [
    ("label,group,who\nDocenten,leraren,AB\n", "line 2: group 'leraren' is not a participant group"),
    ("label,group,who\nDocenten,onderwijs,AB\n,zorg,AB\n", "line 3: the label is empty"),
    ("label,group,who\nDocenten,onderwijs,AB\ndocenten,zorg,CD\n", "line 3: 'docenten' was given group onderwijs on line 2"),
    ("label,groep\nDocenten,onderwijs\n", "missing column(s) group, who"),
])
def test_an_invalid_decisions_file_gives_one_line_with_file_and_line(tmp_path, content, expected):
    path = tmp_path / "group_decisions.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_group_decisions(path, groups=GROUPS)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(str(path)) and expected in message


def _accuracy(name: str) -> tuple[float, list]:
    cases = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["labels"]
    placed = _placed(*(c["label"] for c in cases))
    wrong = [(c["label"], c["group"], placed[c["label"]]) for c in cases if placed[c["label"]][0] != c["group"]]
    return 1 - len(wrong) / len(cases), wrong


def test_accuracy_on_the_development_set():
    accuracy, wrong = _accuracy("group_labels_development.yaml")
    assert accuracy == 1.0, wrong


def test_accuracy_on_the_second_development_set():
    # Written by a second person from the definitions; 116 of 150 before its terms were added, 135 after.
    accuracy, wrong = _accuracy("group_labels_development_2.yaml")
    assert accuracy >= 0.9, wrong


def test_accuracy_on_the_validation_set_holds_its_floor():
    # Measured, not tuned on: 161 of 186 labels (86.6 %) in the group their definition gives; see README.
    accuracy, wrong = _accuracy("group_labels_validation.yaml")
    assert accuracy >= 0.86, wrong


def test_the_groups_command_adds_the_undecided_labels_and_keeps_the_researchers_lines(tmp_path, instrument):
    from conftest import make_wave
    from pipeline.app.cli import main
    from pipeline.analysis.normalise import write_normalised
    from pipeline.waves.wave import load_wave
    waves = make_wave(tmp_path / "waves", "W")
    wave = load_wave("W", waves_dir=waves)
    frame = _responses(instrument, q12_1_text="Ruimtevaarders", q12_2_text="Vrijwilligerspool", q12_3_text="Docenten")
    wave.processed.mkdir()
    write_normalised(normalise(responses=frame, instrument=instrument, taxonomies=TAXONOMIES), wave.processed)
    own = "label;who;group;opmerking\r\nRuimtevaarders;AB;overig;bekeken\r\n".encode("utf-8-sig")
    wave.group_decisions.write_bytes(own)
    assert main(["--waves", str(waves), "groups", "--wave", "W"]) == 0
    written = wave.group_decisions.read_bytes()
    assert written.startswith(own) and written[len(own):] == "Vrijwilligerspool;;vrijwilligers;\r\n".encode()
    assert load_group_decisions(wave.group_decisions, groups=GROUPS) == {"ruimtevaarders": "overig"}
    assert main(["--waves", str(waves), "groups", "--wave", "W"]) == 0       # nothing new: the file stays
    assert wave.group_decisions.read_bytes() == written
