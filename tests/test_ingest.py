"""Ingest on the embedded dataset and on small frames: filtering, privacy, the inspect contract."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml

import variants
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, ROOT, embedded_export_lacks
from pipeline.app.cli import main
from pipeline.reading.ingest import ingest
from pipeline.reading.filtering import filter_responses
from pipeline.reading.privacy import remove_personal_data

ANSWERS = yaml.safe_load((ROOT / "scripts" / "embedded_dataset" / "answers.yaml").read_text(encoding="utf-8"))


def _frame(**columns):
    n = len(next(iter(columns.values())))
    base = {"row": list(range(1, n + 1)), "status": ["IP Address"] * n, "finished": ["True"] * n,
            "response_id": [f"R_{i}" for i in range(n)], "q1": [""] * n, "q2": ["W"] * n, "q3": ["N"] * n,
            "recorded_date": pd.to_datetime([f"2018-10-{i + 1:02d} 10:00" for i in range(n)]).tz_localize("Europe/Amsterdam")}
    base.update(columns)
    return pd.DataFrame(base)


def test_status_text_and_numeric_codes_are_filtered(instrument):
    frame = _frame(status=["IP Address", "Survey Preview", "1", "Survey Test", "2", "Spam", "8", "0", "Imported"])
    kept, log = filter_responses(responses=frame, keep_unfinished=False, instrument=instrument)
    assert kept["row"].tolist() == [1, 8, 9]
    assert log["reason"].tolist() == ["preview", "preview", "test", "test", "spam", "spam"]


@pytest.mark.parametrize("keep", [False, True])
def test_unfinished_dropped_unless_kept(keep, instrument):
    frame = _frame(finished=["True", "False", "0", "1"])
    kept, log = filter_responses(responses=frame, keep_unfinished=keep, instrument=instrument)
    assert len(kept) == (4 if keep else 2)
    assert (log["reason"] == "unfinished").sum() == (0 if keep else 2)


def test_duplicate_keeps_the_latest_recorded_date_whatever_the_row_order(instrument):
    frame = _frame(q1=["Anna Voorbeeld", "anna  voorbeeld", "Bram"], q3=["Netwerk A", "netwerk a", "Netwerk A"])
    frame["recorded_date"] = pd.to_datetime(["2018-10-05", "2018-10-01", "2018-10-02"]).tz_localize("UTC")
    kept, log = filter_responses(responses=frame, keep_unfinished=False, instrument=instrument)
    assert kept["row"].tolist() == [1, 3]
    assert log.to_dict("records")[0]["row"] == 2 and log["reason"].tolist() == ["duplicate"]


def test_same_respondent_about_another_network_is_not_a_duplicate(instrument):
    frame = _frame(q1=["Anna", "Anna"], q3=["Netwerk A", "Netwerk B"])
    kept, log = filter_responses(responses=frame, keep_unfinished=False, instrument=instrument)
    assert len(kept) == 2 and log.empty


def test_the_duplicate_rule_follows_the_roles_when_an_item_is_renumbered(instrument, settings):
    """q3 renumbered q30 (the same role and export tag): the embedded export still has 15 kept responses
    and 1 duplicate, as with q3; the rule reads the network-name item by its role, not by its number."""
    from dataclasses import replace
    renumbered = replace(instrument, items=tuple(replace(it, id="q30") if it.id == "q3" else it
                                                 for it in instrument.items))
    as_declared = ingest(export_path=EMBEDDED_EXPORT, instrument=instrument, settings=settings)
    result = ingest(export_path=EMBEDDED_EXPORT, instrument=renumbered, settings=settings)
    for found in (as_declared, result):
        survey = found.responses[found.responses["source"] == "survey"]
        assert len(survey) == 15 and found.dropped_counts()["duplicate"] == 1
    assert "q30" in result.responses and "q3" not in result.responses


def test_personal_data_is_removed_and_ids_hashed():
    frame = _frame(q1=["Anna Voorbeeld"], q7=["Anna Voorbeeld (anna@x.invalid, 192.0.2.7) leidt dit; Voorbeeld ook."],
                   ip_address=["192.0.2.7"], recipient_email=["anna@x.invalid"], location_latitude=["52.1"])
    clean = remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7"], salt="s")
    assert {"q1", "ip_address", "recipient_email", "location_latitude", "response_id"}.isdisjoint(clean.columns)
    assert clean.at[0, "q7"] == "[naam] ([e-mail], [ip-adres]) leidt dit; [naam] ook."
    assert re.fullmatch(r"[0-9a-f]{16}", clean.at[0, "response_key"])


def test_literal_na_and_newlines_are_kept_as_text(tmp_path, instrument, settings):
    rows = variants.read_rows(EMBEDDED_EXPORT)
    q11 = rows[0].index("Q11")
    for row in rows[3:]:
        row[q11] = "NA"
    result = ingest(export_path=variants.write_csv(rows, tmp_path / "na.csv"), instrument=instrument, settings=settings)
    assert set(result.responses.loc[result.responses["source"] == "survey", "q11"]) == {"NA"}
    assert any("\n" in text for text in result.responses["q7"])


def test_embedded_dataset_inspect_json_contract(capsys, instrument):
    assert main(["inspect", str(EMBEDDED_EXPORT), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"format", "encoding", "responses", "kept", "dropped", "items_mapped", "items_missing",
            "unmapped_columns"} <= set(summary)
    assert summary["format"] == "new" and summary["encoding"] == "utf-8-sig"
    assert summary["responses"] == 18 and summary["kept"] == 15
    assert summary["dropped"] == {"preview": 1, "test": 0, "spam": 0, "unfinished": 1, "duplicate": 1}
    lacking = embedded_export_lacks(instrument)      # none of the 2018 questionnaire; an item added since
    assert summary["items_mapped"] == len(instrument.items) - len(lacking) and summary["items_missing"] == lacking
    assert summary["unmapped_columns"] == []
    assert summary["time_zone"] == "Europe/Amsterdam"


def test_embedded_dataset_has_the_report_networks(instrument, settings):
    result = ingest(export_path=EMBEDDED_EXPORT, supplement_path=EMBEDDED_SUPPLEMENT, instrument=instrument,
                    settings=settings)
    responses = result.responses
    assert (responses["source"] == "survey").sum() == 15
    assert (responses["source"] == "supplement").sum() == 2
    assert responses["q3"].tolist() == [n["q3"] for n in ANSWERS["networks"]] + [n["q3"] for n in ANSWERS["supplement"]]
    recorded = responses["recorded_date"].dropna()
    assert recorded.min() >= pd.Timestamp("2018-09-01", tz="Europe/Amsterdam")
    assert recorded.max() < pd.Timestamp("2018-11-01", tz="Europe/Amsterdam")
    # the later of the two Zwolle submissions is the one kept
    zwolle = responses[responses["q3"] == "Leerinfrastructuur sociaal wijkteams"]
    assert len(zwolle) == 1 and zwolle["q23"].iloc[0].startswith("Eerst doen en dan samen reflecteren")


def _personal_values() -> list[str]:
    rows = variants.read_rows(EMBEDDED_EXPORT)
    tags = rows[0]
    values = set()
    for row in rows[3:]:
        record = dict(zip(tags, row))
        # full names only: single name parts such as "Voorbeeld" are also ordinary Dutch words
        for tag in ("Q1", "IPAddress", "RecipientEmail", "ExternalReference", "LocationLatitude",
                    "LocationLongitude", "ResponseId"):
            if record[tag]:
                values.add(record[tag])
    values.add("info@werkplaats-zhz.invalid")      # an address inside a free-text answer
    return sorted(values)


def test_no_personal_data_reaches_processed(embedded_report):
    processed = embedded_report / "processed"
    written = sorted(p for p in processed.rglob("*") if p.is_file())
    assert {p.name for p in written} >= {"responses.parquet", "drops.csv", "column_mapping.csv", "ingest.json"}
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in written]
    texts.append(pd.read_parquet(processed / "responses.parquet").to_csv())   # parquet pages may be compressed
    personal = _personal_values()
    assert len(personal) > 90
    for value in personal:
        pattern = re.compile(rf"(?<![\w.]){re.escape(value)}(?!\w)")
        for path, text in zip(written + ["responses as text"], texts):
            assert not pattern.search(text), f"{value!r} found in {path}"


def test_a_respondent_name_is_scrubbed_from_typed_answers_only():
    # Someone who typed a place as their name must not erase that place from the questionnaire's labels.
    frame = _frame(q1=["Utrecht"], q2=["Werkplaats Sociaal Domein Utrecht"], q7=["In Utrecht werken we samen."])
    clean = remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7"], salt="s")
    assert clean.at[0, "q2"] == "Werkplaats Sociaal Domein Utrecht"
    assert clean.at[0, "q7"] == "In [naam] werken we samen."


# The respondent's own name and e-mail typed in another form than the metadata holds them.
NAME_FORMS = {
    "capitals": ("Anna Voorbeeld", "ANNA VOORBEELD leidt dit.", "[naam] leidt dit."),
    "lower case": ("Anna Voorbeeld", "anna voorbeeld leidt dit.", "[naam] leidt dit."),
    "non-breaking space": ("Anna Voorbeeld", "Anna\u00a0Voorbeeld leidt dit.", "[naam] leidt dit."),
    "narrow no-break space": ("Anna Voorbeeld", "Anna\u202fVoorbeeld leidt dit.", "[naam] leidt dit."),
    "zero-width space": ("Anna Voorbeeld", "An\u200bna Voor\u200bbeeld leidt dit.", "[naam] leidt dit."),
    "soft hyphen": ("Anna Voorbeeld", "Anna Voor\u00adbeeld leidt dit.", "[naam] leidt dit."),
    "two spaces and a tab": ("Anna Voorbeeld", "Anna \t Voorbeeld leidt dit.", "[naam] leidt dit."),
    "full-width letters": ("Anna Voorbeeld", "\uff21\uff4e\uff4e\uff41 Voorbeeld leidt dit.", "[naam] leidt dit."),
    "decomposed accent in the answer": ("Zoë Testpersoon", "Zoe\u0308 Testpersoon leidt dit.", "[naam] leidt dit."),
    "decomposed accent in the metadata": ("Zoe\u0308 Testpersoon", "Zoë Testpersoon leidt dit.", "[naam] leidt dit."),
    "first name alone, decomposed": ("Zoë Testpersoon", "Vraag het Zoe\u0308.", "Vraag het [naam]."),
    "surname, first name": ("Anna Voorbeeld", "Voorbeeld, Anna leidt dit.", "[naam] leidt dit."),
    "surname first name": ("Anna Voorbeeld", "Voorbeeld Anna leidt dit.", "[naam] leidt dit."),
    "with tussenvoegsel, reversed": ("Anna de Proef", "De Proef, Anna leidt dit.", "[naam] leidt dit."),
}


@pytest.mark.parametrize("form", sorted(NAME_FORMS))
def test_own_name_in_another_form_is_scrubbed(form):
    name, answer, expected = NAME_FORMS[form]
    frame = _frame(q1=[name], q7=[answer])
    clean = remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7"], salt="s")
    assert clean.at[0, "q7"] == expected


EMAIL_FORMS = {
    "capitals": "Mail ANNA.VOORBEELD@WERKPLAATS.INVALID gerust.",
    "full-width at": "Mail anna.voorbeeld\uff20werkplaats.invalid gerust.",
    "small at": "Mail anna.voorbeeld\ufe6bwerkplaats.invalid gerust.",
    "mailto": "Mail mailto:anna.voorbeeld@werkplaats.invalid gerust.",
    "spaces around the at": "Mail anna.voorbeeld @ werkplaats.invalid gerust.",
    "zero-width space inside": "Mail anna.voor\u200bbeeld@werkplaats.invalid gerust.",
}


@pytest.mark.parametrize("form", sorted(EMAIL_FORMS))
def test_own_email_in_another_form_is_scrubbed(form):
    frame = _frame(q1=[""], q7=[EMAIL_FORMS[form]], recipient_email=["anna.voorbeeld@werkplaats.invalid"])
    clean = remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7"], salt="s")
    assert clean.at[0, "q7"] == "Mail [e-mail] gerust."


def test_scrubbing_keeps_words_that_only_look_like_a_name():
    frame = _frame(q1=["Anna van Dam"], q7=["Annabel van de gemeente en Van Dammen: anna van dam ook."])
    clean = remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7"], salt="s")
    assert clean.at[0, "q7"] == "Annabel van de gemeente en Van Dammen: [naam] ook."


def test_scrubbing_a_ten_megabyte_name_is_linear():
    import time
    name = " ".join(f"Naam{i}" for i in range(1_100_000))[:10_000_000]
    frame = _frame(q1=[name], q7=[f"Ik ben {name}, echt."], q23=[name + "\n" + name])
    started = time.perf_counter()
    clean = remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7", "q23"], salt="s")
    assert time.perf_counter() - started < 30
    assert clean.at[0, "q7"] == "Ik ben [naam], echt." and "Naam5" not in clean.at[0, "q23"]


def test_an_email_scan_over_a_long_answer_is_linear():
    import time
    answer = "a" * 2_000_000 + " @ " + "b" * 2_000_000
    frame = _frame(q1=[""], q7=[answer])
    started = time.perf_counter()
    remove_personal_data(responses=frame, personal_fields=["q1"], typed_fields=["q7"], salt="s")
    assert time.perf_counter() - started < 10


def test_no_stage_writes_a_column_of_a_personal_item_whatever_its_number(instrument, tmp_path):
    """The personal items come from instrument.yaml (personal: true), not from a list of numbers: the
    responses table refuses the respondent's name column under the name the instrument gives it."""
    from pipeline.core.errors import PipelineError
    from pipeline.core.schemas import RESPONSES, write_parquet
    assert instrument.personal_fields == {"q1"}
    frame = pd.DataFrame({"response_key": ["k"], "source": ["survey"], "row": [1], "start_date": pd.NaT,
                          "end_date": pd.NaT, "recorded_date": pd.NaT, "progress": [""], "duration": [""],
                          "distribution_channel": [""], "user_language": [""], "q0": ["Anna Voorbeeld"]})
    for column in ("start_date", "end_date", "recorded_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
    write_parquet(frame, tmp_path / "fine.parquet", schema=RESPONSES, extra_text_prefix="q")
    with pytest.raises(PipelineError, match="personal data column.*q0"):
        write_parquet(frame, tmp_path / "refused.parquet", schema=RESPONSES, extra_text_prefix="q",
                      personal=frozenset({"q0"}))
    assert not (tmp_path / "refused.parquet").exists()
