"""The report follows instrument.yaml, not item numbers: an item dropped from it leaves its passage out of
the report, and an item renumbered keeps its passage, with the new number where the report names it."""

from __future__ import annotations

import shutil

import yaml

from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, EPOCH, ROOT


def _config_with(tmp_path, change):
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    instrument = yaml.safe_load((folder / "instrument.yaml").read_text(encoding="utf-8"))
    change(instrument["items"])
    (folder / "instrument.yaml").write_text(yaml.safe_dump(instrument, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    return folder


def _report(tmp_path, config, monkeypatch) -> str:
    from pipeline import run_pipeline
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run_pipeline(export=EMBEDDED_EXPORT, supplement=EMBEDDED_SUPPLEMENT, processed=tmp_path / "processed",
                 out=tmp_path / "out", config=config)
    return (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_dropped_item_and_a_renumbered_one_give_a_report_that_follows_the_instrument(tmp_path, monkeypatch):
    def change(items):
        del items["q16"]                      # samenwerking: its paragraph in 3.1.1 goes
        items["q90"] = items.pop("q9")        # the central question: same role, export tag and table
    html = _report(tmp_path, _config_with(tmp_path, change), monkeypatch)
    assert "werken verschillende praktijken" not in html
    assert "De centrale vraag van elk netwerk (vraag 90) staat in tabel" in html
    assert html.count('data-label="Centrale vraag"') > 10
