"""The survey definition (.qsf) against config/instrument.yaml: changes are caught before a wave runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.app.cli import main
from pipeline.core.config import load_instrument
from pipeline.core.errors import PipelineError
from pipeline.reading.qsf import differences, read_qsf
from conftest import EMBEDDED_EXPORT

FIXTURES = Path(__file__).parent / "fixtures" / "qsf"
INSTRUMENT = load_instrument()
# A question the instrument does not declare: the next number, an export tag and an ImportId no item has.
NEW_TAG = f"Q{INSTRUMENT.items[-1].number + 1}"
NEW_QID = f"QID{max(int(it.import_id[3:]) for it in INSTRUMENT.items) + 1}"


def _wsd_qsf(path: Path, change=None) -> Path:
    """A .qsf of the WSD questionnaire as Qualtrics writes one, from config/instrument.yaml."""
    elements = [{"Element": "BL", "Payload": [{"Type": "Default", "BlockElements": [
        {"Type": "Question", "QuestionID": it.import_id} for it in INSTRUMENT.items]},
        {"Type": "Trash", "BlockElements": [{"Type": "Question", "QuestionID": "QID99"}]}]}]
    for item in INSTRUMENT.items:
        payload = {"QuestionID": item.import_id, "DataExportTag": item.export_tag,
                   "QuestionText": item.wording.replace("**", "<strong>", 1).replace("**", "</strong>", 1),
                   "QuestionType": {"text": "TE", "choice": "MC", "matrix": "Matrix"}[item.type]}
        options = item.rows if item.type == "matrix" else item.choices
        if options:
            payload["Choices"] = {str(c.value): {"Display": c.label} for c in options}
        if item.scale:
            payload["Answers"] = {str(c.value): {"Display": c.label} for c in item.scale}
        elements.append({"Element": "SQ", "PrimaryAttribute": item.import_id, "Payload": payload})
    elements.append({"Element": "SQ", "Payload": {"QuestionID": "QID99", "DataExportTag": "Q99",
                                                  "QuestionText": "In de prullenbak", "QuestionType": "TE"}})
    survey = {"SurveyEntry": {"SurveyName": "Lerende Praktijken"}, "SurveyElements": elements}
    if change:
        change(survey)
    path.write_text(json.dumps(survey, ensure_ascii=False), encoding="utf-8")
    return path


def _question(survey, tag):
    return next(e["Payload"] for e in survey["SurveyElements"] if e["Element"] == "SQ"
                and e["Payload"]["DataExportTag"] == tag)


def test_the_questionnaire_as_declared_has_no_differences(tmp_path):
    questions = read_qsf(_wsd_qsf(tmp_path / "wsd.qsf"))
    assert len(questions) == len(INSTRUMENT.items) and "QID99" not in {q.qid for q in questions}   # not the trash
    assert differences(questions, INSTRUMENT) == []


def test_added_removed_reworded_items_and_changed_choices_and_scale_are_named(tmp_path):
    def change(survey):
        _question(survey, "Q9")["QuestionText"] = "Welke vraag staat centraal in het netwerk, en waarom?"
        _question(survey, "Q6")["Choices"]["2"]["Display"] = "Nee, gestopt"
        _question(survey, "Q12")["Answers"]["3"]["Display"] = "Neutraal"
        survey["SurveyElements"] = [e for e in survey["SurveyElements"]
                                    if not (e["Element"] == "SQ" and e["Payload"]["DataExportTag"] == "Q24")]
        survey["SurveyElements"].append({"Element": "SQ", "Payload": {
            "QuestionID": NEW_QID, "DataExportTag": NEW_TAG, "QuestionType": "MC",
            "QuestionText": "Gebruikt het netwerk digitale middelen?", "Choices": {"1": {"Display": "Nee"}}}})
    lines = differences(read_qsf(_wsd_qsf(tmp_path / "wsd.qsf", change)), INSTRUMENT)
    text = "\n".join(lines)
    assert "q9 is reworded" in text and "Welke vraag staat centraal" in text
    assert "q6: its choices are Ja, Nee, gestopt" in text
    assert "q12: its scale is" in text and "Neutraal" in text
    assert "q24 (Q24) is not in the survey" in text
    assert f"{NEW_TAG} is new in the survey" in text
    assert len(lines) == 5


def test_a_real_qsf_of_another_survey_is_read_and_called_so():
    for name, count in (("qualtreats-combined-test.qsf", 13), ("qualtreats-output-survey.qsf", 3)):
        questions = read_qsf(FIXTURES / name)
        assert len(questions) == count and all(q.qid.startswith("QID") for q in questions)
        lines = differences(questions, INSTRUMENT)
        assert lines[0].startswith(f"only 0 of the {len(INSTRUMENT.items)} items") and "another survey" in lines[0]
    multiple = [q for q in read_qsf(FIXTURES / "qualtreats-combined-test.qsf") if q.kind == "MC"]
    assert multiple and multiple[0].choices == ((1, "Yes"), (2, "No"))


def test_inspect_and_new_wave_report_the_differences(tmp_path, capsys):
    qsf = _wsd_qsf(tmp_path / "wsd.qsf", lambda s: _question(s, "Q9").update(QuestionText="Iets heel anders?"))
    assert main(["inspect", str(EMBEDDED_EXPORT), "--qsf", str(qsf)]) == 0
    assert "Survey      q9 is reworded" in capsys.readouterr().out
    assert main(["inspect", str(EMBEDDED_EXPORT), "--qsf", str(qsf), "--json"]) == 0
    assert any("q9 is reworded" in line for line in json.loads(capsys.readouterr().out)["survey_differences"])
    assert main(["--waves", str(tmp_path / "waves"), "new-wave", "w", "--export", str(EMBEDDED_EXPORT),
                 "--qsf", str(qsf)]) == 0
    assert "q9 is reworded" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"SurveyEntry": {}}', b"\x89PNG\r\n\x1a\n"])
def test_a_file_that_is_not_a_qsf_is_one_clear_error(tmp_path, content):
    path = tmp_path / "survey.qsf"
    path.write_bytes(content)
    with pytest.raises(PipelineError, match="survey definition|SurveyElements"):
        read_qsf(path)
