"""Every item is declared once in config/instrument.yaml: a new item reaches every output with no code
change, an inconsistent declaration stops with a message, and per-network tables join on network_id."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

import variants
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, ROOT
from pipeline import run_pipeline
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError

Q25 = {"type": "choice", "role": "yes_no", "export_tag": "Q25", "import_id": "QID40",
       "wording": "Gebruikt het netwerk **digitale middelen** om samen te leren?",
       "choices": [{"value": 1, "label": "Nee", "meaning": "nee"},
                   {"value": 2, "label": "Ja, namelijk", "text_entry": True, "meaning": "ja"}],
       "report": {"table": "digitaal", "title": "Digitale middelen om samen te leren", "results_order": 8,
                  "appendix": "Digitale middelen om samen te leren", "appendix_order": 19,
                  "figure": {"name": "digitaal", "caption": "Netwerken die digitale middelen gebruiken.", "order": 8}}}
Q26 = {"type": "text", "role": "coded", "export_tag": "Q26", "import_id": "QID41",
       "wording": "Wat heeft het netwerk **geleerd** van het afgelopen jaar?",
       "report": {"table": "themas_q26", "title": "Lessen van het afgelopen jaar", "appendix": "Geleerde lessen",
                  "appendix_order": 9.5,
                  "figure": {"name": "themas_q26", "caption": "Lessen: aantal netwerken dat een thema noemt.",
                             "order": 9}}}
CODEBOOK_ADDITION = {
    "category": {"les": {"item": "q26", "label": "Lessen"}},
    "themes": {
        "fouten": {"label": "Leren van fouten", "category": "les",
                   "definition": "Wat misging, wordt besproken en benut.",
                   "rules": [{"id": "fouten.termen", "terms": ["fout", "misgegaan"]}],
                   "examples": {"positive": ["We leerden het meest van onze fouten."], "negative": ["Alles liep goed."]}},
        "elkaar": {"label": "Leren van elkaar", "category": "les",
                   "definition": "Deelnemers leren van elkaars ervaring.",
                   "rules": [{"id": "elkaar.termen", "terms": ["van elkaar leren", "van elkaar geleerd"]}],
                   "examples": {"positive": ["We hebben veel van elkaar geleerd."], "negative": ["Ieder leert apart."]}},
    },
}
Q26_ANSWERS = ["We hebben veel van elkaar geleerd. Ook van fouten.", "Dat je van fouten het meest leert.",
               "Vooral van elkaar leren werkt.", "Geen idee."]


def _config_with_q25_q26(folder: Path) -> Path:
    shutil.copytree(ROOT / "config", folder)
    instrument = yaml.safe_load((folder / "instrument.yaml").read_text(encoding="utf-8"))
    instrument["items"]["q25"], instrument["items"]["q26"] = Q25, Q26
    (folder / "instrument.yaml").write_text(yaml.safe_dump(instrument, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    codebook = yaml.safe_load((folder / "codebook.yaml").read_text(encoding="utf-8"))
    codebook["categories"].update(CODEBOOK_ADDITION["category"])
    codebook["themes"].update(CODEBOOK_ADDITION["themes"])
    (folder / "codebook.yaml").write_text(yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    return folder


def _export_with_q25_q26(path: Path) -> Path:
    rows = variants.read_rows(EMBEDDED_EXPORT)
    rows[0] += ["Q25", "Q25_2_TEXT", "Q26"]
    rows[1] += ["Gebruikt het netwerk <strong>digitale middelen</strong> om samen te leren? - Selected Choice",
                "Gebruikt het netwerk <strong>digitale middelen</strong> om samen te leren? - Ja, namelijk - Text",
                "Wat heeft het netwerk <strong>geleerd</strong> van het afgelopen jaar?"]
    rows[2] += ['{"ImportId":"QID40"}', '{"ImportId":"QID40_2_TEXT"}', '{"ImportId":"QID41_TEXT"}']
    for i, row in enumerate(rows[3:]):
        yes = i % 2 == 0
        row += ["Ja, namelijk" if yes else "Nee", "Een gedeelde online omgeving voor casussen." if yes else "",
                Q26_ANSWERS[i % len(Q26_ANSWERS)]]
    return variants.write_csv(rows, path)


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    folder = tmp_path_factory.mktemp("extended")
    config = _config_with_q25_q26(folder / "config")
    export = _export_with_q25_q26(folder / "export.csv")
    run_pipeline(export=export, supplement=EMBEDDED_SUPPLEMENT, out=folder / "out", processed=folder / "processed",
                 config=config)
    return folder


def test_a_new_yes_no_item_and_a_new_coded_item_reach_every_output(extended):
    networks = pd.read_parquet(extended / "processed" / "networks.parquet")
    assert {"q25", "q25_text", "q26"} <= set(networks.columns)
    assert set(networks["q25"]) == {"ja", "nee", ""}          # the supplement's networks did not answer
    sheets = load_workbook(extended / "out" / "tables.xlsx").sheetnames
    assert {"Digitaal", "Thema's vraag 26"} <= set(sheets)
    for figure in ("digitaal", "themas_q26"):
        for suffix in ("png", "svg", "pdf", "csv"):
            assert (extended / "out" / "figures" / f"{figure}.{suffix}").stat().st_size > 0
    codes = pd.read_csv(extended / "out" / "tables" / "codes.csv")
    assert set(codes.loc[codes["item"] == "q26", "theme"]) == {"fouten", "elkaar"}

    html = (extended / "out" / "report.html").read_text(encoding="utf-8")
    results, appendix = html.split('<h1 id="bijlage-2">')
    # A figure's number is its rank among the figures the instrument declares for the report.
    shown = [spec for _, spec in load_config(extended / "config").instrument.figures if spec.in_report]
    number = {spec.name: n for n, spec in enumerate(shown, 1)}
    assert "<h3>Digitale middelen om samen te leren</h3>" in results
    assert "Een gedeelde online omgeving voor casussen." in results
    assert f"Figuur {number['digitaal']}. Netwerken die digitale middelen gebruiken." in results
    assert "<h2 id=\"thema-q26\">Lessen van het afgelopen jaar</h2>" in results
    assert "Leren van fouten (" in results and "Leren van elkaar (" in results
    assert f"Figuur {number['themas_q26']}. Lessen: aantal netwerken dat een thema noemt." in results
    assert appendix.count("<h4>Digitale middelen om samen te leren</h4>") == (networks["q25"] == "ja").sum()
    assert appendix.count("<h4>Geleerde lessen</h4>") == networks["q26"].ne("").sum()
    # Bijlage 2 puts the new answer where appendix_order says: after Kansen en uitdagingen (9).
    first = appendix.split('<section class="network"')[2]
    assert first.index("<h4>Kansen en uitdagingen</h4>") < first.index("<h4>Geleerde lessen</h4>")


def _write(folder: Path, name: str, change) -> Path:
    data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    change(data)
    (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize("items, message", [
    ({"q26": Q26}, r"codebook\.yaml: item q26 is declared coded .* add a category with item: q26"),
    ({"q25": {**Q25, "report": {"figure": Q25["report"]["figure"]}}},
     r"instrument\.yaml: item q25: .*figure digitaal has no table"),
    ({"q25": {**Q25, "choices": [{"value": 1, "label": "Nee", "meaning": "nee"}, {"value": 2, "label": "Ja"}]}},
     r"item q25: role yes_no needs choices .* meaning: ja"),
], ids=["coded item without a category", "figure without a table", "yes/no without a meaning of ja"])
def test_an_inconsistent_declaration_stops_with_the_file_the_item_and_the_fix(tmp_path, items, message):
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    _write(folder, "instrument.yaml", lambda d: d["items"].update(items))
    with pytest.raises(ConfigError, match=message):
        load_config(folder)


def test_yes_no_answers_are_read_by_meaning_not_by_recode_value(tmp_path):
    """A survey that recoded Ja as 1 and Nee as 4 still reads as ja/nee."""
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    _write(folder, "instrument.yaml", lambda d: d["items"]["q24"].update(
        choices=[{"value": 4, "label": "Nee", "meaning": "nee"}, {"value": 1, "label": "Ja", "meaning": "ja"}]))
    rows = variants.numeric(variants.read_rows(EMBEDDED_EXPORT), load_config(folder).instrument)
    export = variants.write_csv(rows, tmp_path / "numeric.csv")
    run_pipeline(export=export, processed=tmp_path / "processed", config=folder, stop="normalise")
    answers = pd.read_parquet(tmp_path / "processed" / "networks.parquet")["q24"]
    reference = tmp_path / "reference"
    run_pipeline(export=EMBEDDED_EXPORT, processed=reference, stop="normalise")
    assert answers.tolist() == pd.read_parquet(reference / "networks.parquet")["q24"].tolist()
    assert set(answers) >= {"ja", "nee"}


@pytest.mark.parametrize("value, message", [
    ('"12"', r"min_items_mapped is '12'; expected a whole number of items, such as 12 \(without quotes\)"),
    ('"no"', r"keep_unfinished is 'no'; expected true or false \(without quotes\)"),
    ("yes please", r"keep_unfinished is 'yes please'; expected true or false"),
])
def test_settings_are_type_checked_with_the_file_the_key_and_what_is_expected(tmp_path, value, message):
    from pipeline.core.config import load_settings
    key = "min_items_mapped" if "min_items" in message else "keep_unfinished"
    path = tmp_path / "settings.yaml"
    path.write_text(f"{key}: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ": " + message):
        load_settings(path)


def test_two_respondents_describing_networks_of_the_same_name_keep_their_own_methods(tmp_path):
    """Bijlage 2 joins per-network tables on network_id, not on the name: each copy shows its own methods."""
    rows = variants.read_rows(EMBEDDED_EXPORT)
    tags = rows[0]
    original = next(r for r in rows[3:] if r[tags.index("Q3")] == "Leernetwerk wijkverpleegkundigen")
    copy = list(original)
    copy[tags.index("ResponseId")] = "R_tweedeInvuller01"
    copy[tags.index("Q1")] = "Tweede Verzonnen Invuller"
    copy[tags.index("RecipientEmail")] = ""
    copy[tags.index("Q19")] = "Eens per jaar organiseren we een symposium voor alle wijkverpleegkundigen."
    export = variants.write_csv(rows + [copy], tmp_path / "export.csv")
    run_pipeline(export=export, out=tmp_path / "out", processed=tmp_path / "processed")
    networks = pd.read_parquet(tmp_path / "processed" / "networks.parquet")
    same = networks[networks["name"] == "Leernetwerk wijkverpleegkundigen"]
    assert len(same) == 2 and same["network_id"].is_unique
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    sections = {nid: html.split(f'id="netwerk-{nid}"', 1)[1].split("</section>", 1)[0] for nid in same["network_id"]}
    first, second = (sections[nid] for nid in same["network_id"])
    methods = re.compile(r"<dt>Werkvormen</dt><dd>(.*?)</dd>")
    assert methods.search(second).group(1) == "Symposium"
    assert "Symposium" not in (methods.search(first).group(1) if methods.search(first) else "")


def test_network_ids_are_whole_words_and_differ_where_names_differ():
    from pipeline.analysis.normalise import _network_ids
    long = "Leernetwerk samenspel formele en informele zorg in de wijk"
    ids = _network_ids(pd.Series(["Utrecht"] * 4), pd.Series([f"{long} Overvecht", f"{long} Kanaleneiland",
                                                                 f"{long} Overvecht", "Vathorst inclusief"]))
    assert ids[0] != ids[1] and ids[0].endswith("overvecht") and ids[1].endswith("kanaleneiland")
    assert ids[2] == ids[0] + "-2" and ids[3] == "utrecht-vathorst-inclusief"
    assert not any(i.endswith("-") or "--" in i for i in ids)
    short = _network_ids(pd.Series(["Zuid-Holland Zuid"]), pd.Series(["Werkplaats Sociaal Domein Zuid-Holland Zuid"]))
    assert short == ["zuid-holland-zuid-werkplaats-sociaal-domein-zuid-holland"]   # cut between words, at most 60


def test_the_library_runner_is_documented_for_notebooks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "run_pipeline(" in readme
