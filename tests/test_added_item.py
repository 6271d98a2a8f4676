"""A researcher declares one more yes/no item in config/instrument.yaml: the suite stays green.

`build_added_item_report` copies config/ into a temporary folder, declares there one yes/no item after the
instrument's last (its table, a figure after the last figure, a place in section 3.5 and in Bijlage 2, all
numbers taken from the instrument), adds its columns with answers to a copy of the embedded export and
builds the report with them, as `python -m pipeline --config ... run` does (conftest.added_item_report).

The checks of the report run on it without being written again: every test that takes the fixture
`any_report` (conftest) runs on the embedded report and on this one, and takes what it expects from the
instrument the report was built with: the tables and figures of the output folder and the workbook, the
runs' counts of them, the rows of the yes/no table and the item's own table, the figures in the HTML, the
Word edition and their alternative texts, the numbering of the figures, and the answers of each network in
Bijlage 2. The tests here make sure those checks are not empty for the added item: it is in what they read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

import variants
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, ROOT, report_figures, report_tables, run_cli
from pipeline.core.config import Instrument, load_config, load_instrument

WORDING = "Is er een **vervolg** op het leernetwerk gepland?"
EXPLANATION = "Een tweede ronde met nieuwe deelnemers, na de zomer."


def added_item(instrument: Instrument) -> tuple[str, dict]:
    """The id and declaration of a yes/no item after the last of `instrument`, in the style of its yes/no items:
    the next number, export tag and ImportId, its own table, a figure after the last figure, the last place in
    section 3.5 and in Bijlage 2."""
    number = instrument.items[-1].number + 1
    after = {key: max(value for value in values if value is not None) + 1 for key, values in (
        ("figure", [spec.order for _, spec in instrument.figures]),
        ("appendix", [it.report.appendix_order for it in instrument.items]),
        ("results", [it.report.results_order for it in instrument.items]))}
    import_id = max(int(it.import_id.removeprefix("QID")) for it in instrument.items) + 1
    title = "Gepland vervolg op het leernetwerk"
    return f"q{number}", {
        "type": "choice", "export_tag": f"Q{number}", "import_id": f"QID{import_id}", "wording": WORDING,
        "choices": [{"value": 1, "label": "Nee", "meaning": "nee"},
                    {"value": 2, "label": "Ja, namelijk", "text_entry": True, "meaning": "ja"}],
        "role": "yes_no",
        "report": {"table": f"vervolg_q{number}", "title": title, "appendix": title,
                   "appendix_order": after["appendix"], "results_order": after["results"],
                   "figure": {"name": f"vervolg_q{number}", "caption": "Netwerken met een gepland vervolg.",
                              "order": after["figure"]}}}


def added_item_config(folder: Path) -> Path:
    """config/ copied to `folder`, its instrument.yaml with the added item."""
    shutil.copytree(ROOT / "config", folder)
    path = folder / "instrument.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    item_id, declaration = added_item(load_instrument(path))
    raw["items"][item_id] = declaration
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def answers_yes(row_number: int) -> bool:
    """Whether the network of the export's data row `row_number` (0 is the first) answers ja to the added item."""
    return row_number % 3 != 1


def added_item_export(path: Path, declaration: dict) -> Path:
    """The embedded export with the added item's two columns (its choice and the text of "Ja, namelijk"),
    labelled as Qualtrics labels them, answered ja by two networks in three."""
    rows = variants.read_rows(EMBEDDED_EXPORT)
    tag, import_id, wording = declaration["export_tag"], declaration["import_id"], declaration["wording"]
    shown = wording.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
    rows[0] += [tag, f"{tag}_2_TEXT"]
    rows[1] += [f"{shown} - Selected Choice", f"{shown} - Ja, namelijk - Text"]
    rows[2] += [json.dumps({"ImportId": import_id}), json.dumps({"ImportId": f"{import_id}_2_TEXT"})]
    for number, row in enumerate(rows[3:]):
        row += ["Ja, namelijk", EXPLANATION] if answers_yes(number) else ["Nee", ""]
    return variants.write_csv(rows, path)


def build_added_item_report(folder: Path) -> None:
    """The run of conftest.added_item_report: the config with the added item, the export answering it and the
    embedded supplement, into folder/out and folder/processed (what it printed in folder/messages.txt)."""
    config = added_item_config(folder / "config")
    _, declaration = added_item(load_instrument())
    export = added_item_export(folder / "export.csv", declaration)
    run_cli(folder, ["--config", str(config), "run", "--export", str(export), "--supplement", str(EMBEDDED_SUPPLEMENT),
                     "--out", str(folder / "out"), "--processed", str(folder / "processed")])


def test_the_added_item_is_declared_after_the_instruments_own(added_item_report):
    project, added = load_instrument(), load_config(added_item_report / "config").instrument
    item_id, declaration = added_item(project)
    assert [it.id for it in added.items] == [it.id for it in project.items] + [item_id]
    item = added.item(item_id)
    assert item.role == "yes_no" and item.plain_wording == WORDING.replace("**", "")
    assert report_tables(added) == report_tables(project) | {declaration["report"]["table"]}
    assert report_figures(added) == report_figures(project) + [declaration["report"]["figure"]["name"]]


def test_the_checks_of_the_report_meet_the_added_item_with_answers(added_item_report):
    """What the checks of any_report read holds the added item: its answers in the networks table (so that
    the Bijlage 2 check sees it), its row in the yes/no summary, its table, its figure, its section of 3.5."""
    added = load_config(added_item_report / "config").instrument
    item_id, declaration = added_item(load_instrument())
    report = declaration["report"]
    networks = pd.read_parquet(added_item_report / "processed" / "networks.parquet")
    survey = networks["source"] == "survey"
    assert set(networks.loc[survey, item_id]) == {"ja", "nee"} and set(networks.loc[~survey, item_id]) == {""}
    yes = networks[item_id] == "ja"
    assert (networks.loc[yes, f"{item_id}_text"] == EXPLANATION).all()

    out = added_item_report / "out"
    summary = pd.read_csv(out / "tables" / "ja_nee_vragen.csv", dtype=str, keep_default_na=False).set_index("Vraag")
    assert summary.loc[item_id.lstrip("q"), ["Onderwerp", "Ja", "Nee", "Niet ingevuld"]].tolist() == [
        report["title"], str(yes.sum()), str((networks[item_id] == "nee").sum()), str((~survey).sum())]
    table = pd.read_csv(out / "tables" / f"{report['table']}.csv", dtype=str, keep_default_na=False)
    assert (table["Antwoord"] == "Ja").sum() == yes.sum()
    charts = {f["name"]: f for f in json.loads((added_item_report / "processed" / "charts.json").read_text("utf-8"))}
    figure = charts[report["figure"]["name"]]
    assert figure["item"] == item_id and figure["number"] == len(added.figures)

    html = (out / "report.html").read_text(encoding="utf-8")
    results, appendix = html.split('<h1 id="bijlage-2">')
    assert f"<h3>{report['title']}</h3>" in results and EXPLANATION in results
    shown = [spec.name for _, spec in added.figures if spec.in_report]   # the report numbers the figures it shows
    assert f"Figuur {shown.index(figure['name']) + 1}. {report['figure']['caption']}" in results
    assert appendix.count(f"<h4>{report['appendix']}</h4>") == yes.sum()
