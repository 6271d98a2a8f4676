"""Waves: each wave its own folder; corrections that stay in their wave; a report that never speaks with
another wave's voice; a copied wave folder that gives the same report."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, ROOT, make_wave, review_everything, shared_run
from pipeline import run_pipeline
from pipeline.app.cli import main
from pipeline.core.config import load_config
from pipeline.core.wave_files import answer_sha
from pipeline.core.errors import PipelineError
from pipeline.publishing.context import report_status
from pipeline.waves.wave import inherited_from, load_wave, new_wave

EPOCH = "1546300800"


def _digests(folder, *, skip=("manifest.json", "run.log")):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in skip}


def _build(waves, name):
    wave = load_wave(name, waves_dir=waves)
    return run_pipeline(wave=wave), wave


def _built_wave(tmp_path_factory, key: str, name: str, **fields):
    """A folder with waves/<name>/ (make_wave with `fields`) built into reports/<name>/, dated EPOCH, made once
    for the session; a test copies it (`_copy`) before it changes or adds anything."""
    def build(folder):
        patch = pytest.MonkeyPatch()
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        try:
            _build(make_wave(folder / "waves", name, **fields), name)
        finally:
            patch.undo()
    return shared_run(tmp_path_factory, key, build)


def _copy(built, tmp_path):
    """The waves and reports folders of a built wave, copied into tmp_path; gives tmp_path / "waves"."""
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    return tmp_path / "waves"


@pytest.fixture(scope="session")
def built_2018(tmp_path_factory):
    """Wave 2018, the embedded export (a draft), built: the previous wave of the comparison tests."""
    return _built_wave(tmp_path_factory, "waves-2018-built", "2018")


@pytest.fixture(scope="session")
def wave_t(tmp_path_factory):
    """Wave t, the embedded export with its own title, authors and institutions, built (a draft)."""
    return _built_wave(tmp_path_factory, "waves-t", "t", authors=["A. Verzonnen", "B. Bedacht"],
                       institutions=["Hogeschool Denkbeeld"], title="Leernetwerken 2025")


def test_new_wave_copies_the_export_and_marks_the_texts(tmp_path):
    waves = make_wave(tmp_path / "waves", "2018")
    shutil.copy(ROOT / "waves" / "2018" / "group_decisions.csv", waves / "2018")
    raw = tmp_path / "export.csv"
    shutil.copy(EMBEDDED_EXPORT, raw)
    before = raw.read_bytes()
    wave = new_wave("2025", export=raw, previous="2018", waves_dir=waves)
    assert raw.read_bytes() == before
    # the researcher's participant groups go with the labels into the next wave
    assert wave.group_decisions.read_bytes() == (waves / "2018" / "group_decisions.csv").read_bytes()
    assert (wave.folder / "data" / "export.csv").read_bytes() == before and wave.export.parent == wave.folder / "data"
    record = yaml.safe_load((wave.folder / "wave.yaml").read_text(encoding="utf-8"))
    assert record["previous"] == "2018" and record["final"] is False and record["export"] == "data/export.csv"
    for text in ("inleiding", "conclusies", "discussie"):
        assert inherited_from((wave.texts / f"{text}.md").read_text(encoding="utf-8")) == "2018"
    with pytest.raises(PipelineError, match="exists already"):
        new_wave("2025", export=raw, waves_dir=waves)
    with pytest.raises(PipelineError, match="use letters, digits"):
        new_wave("../elders", export=raw, waves_dir=waves)


def test_the_report_is_a_draft_while_texts_are_inherited_and_not_when_they_are_the_waves_own(built_2018, tmp_path,
                                                                                               monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    waves = _copy(built_2018, tmp_path)     # wave 2018 built: the comparison needs its tables
    new_wave("2025", export=EMBEDDED_EXPORT, supplement=EMBEDDED_SUPPLEMENT, previous="2018", waves_dir=waves)
    lines = []
    result = run_pipeline(wave=load_wave("2025", waves_dir=waves), say=lines.append)
    html = (result.out / "report.html").read_text(encoding="utf-8")
    assert result.draft and 'class="draft">Concept' in html and 'content: "CONCEPT"' in html
    assert any("inleiding.md is wave 2018, not yet rewritten" in line for line in lines)
    assert "overgenomen uit meting" not in html          # the mark itself is never printed
    assert "not yet rewritten" in (result.out / "run.log").read_text(encoding="utf-8")

    for text in ("inleiding", "conclusies", "discussie"):
        path = waves / "2025" / "texts" / f"{text}.md"
        path.write_text(f"Eigen tekst van 2025 over {text}.\n", encoding="utf-8")
    wave_file = waves / "2025" / "wave.yaml"
    wave_file.write_text(wave_file.read_text(encoding="utf-8").replace("final: false", "final: true"),
                         encoding="utf-8")
    # Final means reviewed: with the codes and quotes still unreviewed, final: true is refused in one line.
    with pytest.raises(PipelineError, match=r"final: true, but \d+ of \d+ coded answers are unreviewed and \d+ of "
                                            r"\d+ quotes are not chosen by a person; review them with "
                                            r"`python -m pipeline review --wave 2025`"):
        run_pipeline(wave=load_wave("2025", waves_dir=waves), start="render", say=lambda line: None)
    review_everything(waves, "2025")
    lines.clear()
    result = run_pipeline(wave=load_wave("2025", waves_dir=waves), start="aggregate", say=lines.append)
    html = (result.out / "report.html").read_text(encoding="utf-8")
    assert not result.draft and 'class="draft"' not in html and "CONCEPT" not in html
    assert "Eigen tekst van 2025 over inleiding." in html
    assert not any("marked as a draft" in line or "not yet rewritten" in line for line in lines), lines
    # A final report without its date of publication says so once; with the date it is silent.
    undated = [line for line in lines if "has no published date" in line]
    assert len(undated) == 1 and "set published: YYYY-MM-DD" in undated[0], lines
    wave_file.write_text(wave_file.read_text(encoding="utf-8") + "published: 2025-06-01\n", encoding="utf-8")
    wave = load_wave("2025", waves_dir=waves)
    status = report_status(load_config(ROOT / "config", **wave.settings), processed=wave.processed, wave=wave,
                           texts=wave.texts)
    assert status.final and not [w for w in status.warnings if "published" in w], status.warnings


def test_the_report_shows_the_wave_on_its_cover_and_no_developer_messages(wave_t):
    out = wave_t / "reports" / "t"
    html = (out / "report.html").read_text(encoding="utf-8")
    cover = html.split('<section class="cover">', 1)[1].split("</section>", 1)[0]
    assert "Leernetwerken 2025" in cover and "A. Verzonnen<br>B. Bedacht" in cover and "Hogeschool Denkbeeld" in cover
    method = html.split('<h1 id="methode">', 1)[1].split('<h1 id="resultaten">', 1)[0]
    assert "category label" not in method and "warning" not in method.replace('class="warning"', "")
    log = (out / "run.log").read_text(encoding="utf-8")
    assert log.startswith("ingest     reading") and "category label(s) placed uncertainly or in overig" in log


def test_a_correction_stays_in_its_wave_and_a_stale_one_is_reported_not_applied(built_2018, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    waves = _copy(built_2018, tmp_path)
    make_wave(waves, "2025", previous="2018")
    before = _digests(built_2018 / "reports" / "2018")
    wave = load_wave("2025", waves_dir=waves)
    run_pipeline(wave=wave, stop="normalise")        # the networks, to write a correction of an answer
    networks = pd.read_parquet(wave.processed / "networks.parquet").set_index("network_id")
    venlo = networks.loc["wsd-nijmegen-project-venlo"]
    # Both waves hold a network of this werkplaats and name: a correction of 2025 must not reach 2018.
    wave.corrections.write_text(
        "response_key,item,answer_sha,theme,action,coder,reason,network_id\n"
        f"{venlo['response_key']},q23,{answer_sha(venlo['q23'])},draagvlak,add,JV,test,wsd-nijmegen-project-venlo\n"
        f"{venlo['response_key']},q17,{answer_sha('een eerder antwoord')},taal,add,JV,oud,wsd-nijmegen-project-venlo\n",
        encoding="utf-8")
    lines = []
    result = run_pipeline(wave=wave, start="code", say=lines.append)
    codes = pd.read_csv(result.out / "tables" / "codes.csv")
    venlo_codes = codes[codes["network_id"] == "wsd-nijmegen-project-venlo"]
    assert ("q23", "draagvlak", "manual") in set(zip(venlo_codes["item"], venlo_codes["theme"], venlo_codes["origin"]))
    assert "taal" not in set(venlo_codes["theme"])
    assert any("stale" in line for line in lines)
    html = (result.out / "report.html").read_text(encoding="utf-8")
    assert "1 correctie is niet toegepast" in html

    again, _ = _build(waves, "2018")
    assert _digests(again.out) == before, "a correction of wave 2025 changed wave 2018's report"


def test_a_copied_wave_folder_gives_the_same_report(built_2018, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)    # the date built_2018 was built with
    other = tmp_path / "elsewhere" / "waves"
    other.mkdir(parents=True)
    shutil.copytree(built_2018 / "waves" / "2018", other / "2018", ignore=shutil.ignore_patterns("processed"))
    second, _ = _build(other, "2018")
    first = built_2018 / "reports" / "2018"
    assert second.out != first and (other / "2018" / "processed" / "networks.parquet").is_file()
    assert _digests(first) == _digests(second.out)


@pytest.mark.usefixtures("make_and_venv")
def test_make_report_follows_the_wave_and_keeps_its_customisation(tmp_path):
    waves = make_wave(tmp_path / "waves", "eigen")
    mine = waves / "eigen" / "sjablonen"
    mine.mkdir()
    (mine / "report.html").write_text('{% extends "default:report.html" %}{% block colophon %}<p>Eigen colofon'
                                      '</p>{% endblock %}', encoding="utf-8")
    wave_file = waves / "eigen" / "wave.yaml"
    record = yaml.safe_load(wave_file.read_text(encoding="utf-8"))
    record["templates"] = "sjablonen"
    wave_file.write_text(yaml.safe_dump(record), encoding="utf-8")

    def make(*extra):
        return subprocess.run(["make", "--no-print-directory", "report", f"WAVES={waves}", "WAVE=eigen", *extra],
                              cwd=ROOT, capture_output=True, text=True)
    done = make()
    out = tmp_path / "reports" / "eigen"
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Eigen colofon" in (out / "report.html").read_text(encoding="utf-8")
    done = make()
    assert done.returncode == 0 and "report     wave eigen: " in done.stdout and "/reports/eigen/ is up to date" in done.stdout
    (waves / "eigen" / "texts" / "conclusies.md").write_text("Nieuwe conclusie.\n", encoding="utf-8")
    done = make()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert done.returncode == 0 and "Eigen colofon" in html and "Nieuwe conclusie." in html
    assert [line.split()[0] for line in done.stdout.splitlines() if line.startswith(("render", "ingest"))] == \
        ["render", "render"]


def test_a_missing_wave_or_export_is_the_pipelines_message(tmp_path, capsys):
    assert main(["--waves", str(tmp_path), "run", "--wave", "2031"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: wave 2031:") and "new-wave" in err and err.count("\n") == 1


def test_old_corrections_keyed_by_network_id_are_migrated_to_the_answers_of_a_wave(built_2018, tmp_path, capsys):
    waves = _copy(built_2018, tmp_path)     # wave 2018 built (its codes before the migration)
    old = tmp_path / "coding_overrides.csv"
    old.write_text("network_id,item,theme,action,coder,reason\n"
                   "wsd-nijmegen-project-venlo,q23,draagvlak,add,JV,gemist\n"
                   "bestaat-niet,q23,tijd,add,JV,x\n", encoding="utf-8")
    assert main(["--waves", str(waves), "migrate-corrections", str(old), "--wave", "2018"]) == 0
    assert "bestaat-niet: not a network of wave 2018" in capsys.readouterr().out
    run_pipeline(wave=load_wave("2018", waves_dir=waves), start="code", stop="code")
    codes = pd.read_parquet(waves / "2018" / "processed" / "codes.parquet")
    assert ((codes["network_id"] == "wsd-nijmegen-project-venlo") & (codes["theme"] == "draagvlak")
            & (codes["origin"] == "manual")).any()


def _second_wave_export(path):
    """The embedded export as a second wave: a werkplaats and a name rewritten as respondents do, one name
    reworded, a network stopped, one not reported again, one new."""
    import variants
    rows = variants.read_rows(EMBEDDED_EXPORT)
    tags = rows[0]
    q1, q2, q3, q6, q6_text, rid = (tags.index(t) for t in ("Q1", "Q2", "Q3", "Q6", "Q6_2_TEXT", "ResponseId"))
    kept = rows[:3]
    for row in rows[3:]:
        row = list(row)
        if row[q3] == "Vathorst inclusief":
            continue
        if row[q3] == "Leernetwerk wijkverpleegkundigen":
            row[q2] = "Flevoland"
        if row[q3] == "Leerinfrastructuur sociaal wijkteams":
            row[q3] = "Leerinfrastructuur sociaal wijkteams (Zwolle)"
        if row[q3] == "Vier ontwikkelwerkplaatsen provincie Utrecht":
            row[q3] = "Vier ontwikkelwerkplaatsen in de provincie Utrecht"
        if row[q3] == "Project Venlo":
            row[q6], row[q6_text] = "Nee, het is gestopt omdat", "de subsidie was op."
        kept.append(row)
    new = list(next(r for r in kept[3:] if r[q3] == "Project Venlo"))
    new[q2], new[q3], new[rid], new[q1] = "WSD Flevoland", "Buurtnetwerk Almere Haven", "R_nieuw2025a", "Nieuwe Invuller"
    new[q6], new[q6_text] = "Ja", ""
    return variants.write_csv(kept + [new], path)


def test_the_comparison_finds_new_continuing_stopped_and_missing_networks(built_2018, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    waves = _copy(built_2018, tmp_path)
    export = _second_wave_export(tmp_path / "export2025.csv")
    make_wave(waves, "2025", export=export, previous="2018")
    lines = []
    result = run_pipeline(wave=load_wave("2025", waves_dir=waves), say=lines.append)
    table = pd.read_csv(result.out / "tables" / "vergelijking_netwerken.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["Werkplaats", "Leernetwerk", "Status 2018", "Status 2025", "Verandering"]
    change = dict(zip(table["Leernetwerk"], table["Verandering"]))
    assert change["Leernetwerk wijkverpleegkundigen"] == "loopt door"          # "WSD Flevoland" -> "Flevoland"
    assert change["Leerinfrastructuur sociaal wijkteams (Zwolle)"] == "loopt door"
    assert change["Vier ontwikkelwerkplaatsen in de provincie Utrecht"] == "loopt door"
    assert change["Project Venlo"] == "gestopt sinds vorige meting"
    assert change["Leefwereldteam"] == "was al gestopt"
    assert change["Vathorst inclusief"] == "niet opnieuw gemeld"
    assert change["Buurtnetwerk Almere Haven"] == "nieuw"
    # the two networks of the supplement give no status in either wave: reported again, not "loopt door"
    assert (table["Verandering"] == "opnieuw gemeld, status onbekend").sum() == 2
    assert set(table["Verandering"]) <= {"nieuw", "loopt door", "gestopt sinds vorige meting", "was al gestopt",
                                         "niet opnieuw gemeld", "opnieuw gemeld, status onbekend"}
    assert len(table) == 17 + 1                                                 # 17 of 2025 and one of 2018 alone
    suggested = pd.read_csv(waves / "2025" / "processed" / "network_links_suggested.csv", dtype=str)
    assert suggested["leernetwerk"].tolist() == ["Vier ontwikkelwerkplaatsen in de provincie Utrecht"]
    assert any("similar, not the same" in line for line in lines)
    html = (result.out / "report.html").read_text(encoding="utf-8")
    assert "3.6 Vergelijking met de vorige meting" in html and "Niet opnieuw gemeld: 1 netwerk" in html
    assert "1 netwerk is aan een netwerk van meting 2018 gekoppeld op een werkplaats en naam die op elkaar lijken" \
        in " ".join(html.split())
    assert (result.out / "figures" / "vergelijking.png").exists() and 'id="figuur-vergelijking"' in html
    years = pd.read_csv(result.out / "tables" / "vergelijking_startjaren.csv", dtype=str, keep_default_na=False)
    assert list(years.columns) == ["Startjaar", "n 2018", "% 2018", "n 2025", "% 2025"]
    assert years["Startjaar"].tolist()[-1] == "Onbekend" and "2014" in years["Startjaar"].tolist()
    initiators = pd.read_csv(result.out / "tables" / "vergelijking_initiatiefnemers.csv", dtype=str)
    assert initiators.set_index("Type initiatiefnemer").loc["Onderwijs en onderzoek", "n 2018"] == "10"

    # The researcher says the reworded network is another one: the decision wins.
    (waves / "2025" / "network_links.csv").write_text(
        "vorige_werkplaats,vorige_leernetwerk,werkplaats,leernetwerk,besluit\n"
        "Utrecht,Vier ontwikkelwerkplaatsen provincie Utrecht,Utrecht,"
        "Vier ontwikkelwerkplaatsen in de provincie Utrecht,ander\n", encoding="utf-8")
    result = run_pipeline(wave=load_wave("2025", waves_dir=waves), start="aggregate")
    table = pd.read_csv(result.out / "tables" / "vergelijking_netwerken.csv", dtype=str, keep_default_na=False)
    change = dict(zip(table["Leernetwerk"], table["Verandering"]))
    assert change["Vier ontwikkelwerkplaatsen in de provincie Utrecht"] == "nieuw"
    assert change["Vier ontwikkelwerkplaatsen provincie Utrecht"] == "niet opnieuw gemeld"
    assert "gekoppeld op een werkplaats en naam die op elkaar lijken" not in (result.out / "report.html").read_text(
        encoding="utf-8").replace("\n", " ")     # decided: no caveat left


def test_a_wave_compared_with_one_not_built_says_so(tmp_path):
    waves = make_wave(tmp_path / "waves", "2018")
    make_wave(waves, "2025", previous="2018")
    with pytest.raises(PipelineError, match="build it first: make report WAVE=2018"):
        run_pipeline(wave=load_wave("2025", waves_dir=waves), stop="aggregate")


def test_the_methode_follows_the_review_state(wave_t, tmp_path, monkeypatch):
    """No review: said plainly. Some reviewed, with a code added and one removed: both counted."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    wave = load_wave("t", waves_dir=_copy(wave_t, tmp_path))

    def method():
        html = (wave.out / "report.html").read_text(encoding="utf-8")
        return " ".join(html.split('<h1 id="methode">', 1)[1].split('<h1 id="resultaten">', 1)[0].split())
    assert "geen onderzoeker heeft ze nagekeken" in method()
    networks = pd.read_parquet(wave.processed / "networks.parquet").set_index("network_id")
    venlo = networks.loc["wsd-nijmegen-project-venlo"]
    sha = answer_sha(venlo["q23"])
    wave.corrections.write_text(
        "response_key,item,answer_sha,theme,action,coder,reason,network_id\n"
        f"{venlo['response_key']},q23,{sha},draagvlak,add,JV,staat er,wsd-nijmegen-project-venlo\n"
        f"{venlo['response_key']},q23,{sha},bottom_up,remove,JV,niet bedoeld,wsd-nijmegen-project-venlo\n",
        encoding="utf-8")
    wave.reviews.write_text(f"response_key,item,answer_sha,coder,network_id\n{venlo['response_key']},q23,{sha},JV,"
                            "wsd-nijmegen-project-venlo\n", encoding="utf-8")
    run_pipeline(wave=wave, start="code")
    text = method()
    assert "Een onderzoeker heeft 1 code toegevoegd en 1 code verwijderd" in text
    assert "zijn er 1 door een onderzoeker nagekeken" in text


@pytest.mark.usefixtures("make_and_venv")
def test_make_report_of_a_wave_that_does_not_exist_says_so_and_makes_nothing(tmp_path):
    waves = tmp_path / "waves"
    waves.mkdir()
    done = subprocess.run(["make", "--no-print-directory", "report", f"WAVES={waves}", "WAVE=2031"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "wave 2031" in done.stderr and "new-wave 2031" in done.stderr and done.stderr.count("\n") == 1
    assert list(waves.iterdir()) == [] and not (tmp_path / "reports").exists()


def test_a_network_reported_again_without_a_status_or_started_again_is_not_said_to_continue():
    from pipeline.waves.compare import compare_networks
    before = pd.DataFrame({"network_id": ["a", "b", "c"], "werkplaats": "WSD Oost", "name": ["Alfa", "Beta", "Gamma"],
                           "status": ["loopt", "gestopt", "onbekend"]})
    now = before.assign(status=["onbekend", "loopt", "loopt"])
    from pipeline.core.wave_files import load_links
    rows = compare_networks(previous=before, current=now, links=load_links(None), previous_name="2018").networks
    assert dict(zip(rows["name"], rows["change"])) == {"Alfa": "opnieuw gemeld, status onbekend",
                                                       "Beta": "weer gestart", "Gamma": "loopt door"}
