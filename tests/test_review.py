"""The coding review in the browser (`python -m pipeline review`): keyboard only in headless Chromium, every
decision in the wave's CSVs at once, nothing lost when the server is killed, the place found again, blind mode,
hostile answer text shown as text; and the same files as the Excel route for the same decisions.

The browser tests need Chromium, chromedriver and selenium (see tests/test_preview.py): without them they skip,
and fail when CI is "true".
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT
from test_preview import CHROMEDRIVER, CHROMIUM, _browser_or_skip

SCRIPT = '<script>window.pwned = 1</script> "aanhalingstekens" \'enkel\''


def _wave(tmp_path: Path) -> Path:
    """waves/2018 copied into tmp_path/waves, its export named absolutely."""
    waves = tmp_path / "waves"
    shutil.copytree(ROOT / "waves" / "2018", waves / "2018", ignore=shutil.ignore_patterns("processed"))
    wave_yaml = waves / "2018" / "wave.yaml"
    wave_yaml.write_text(wave_yaml.read_text(encoding="utf-8").replace("../../data/raw/", f"{ROOT}/data/raw/"),
                         encoding="utf-8")
    return waves


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else pd.DataFrame()


class _Server:
    def __init__(self, waves: Path, *extra: str, port: int = 0):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--waves", str(waves), "review", "--wave", "2018", "--port", str(port),
             *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.console: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(x.rstrip("\n")) for x in self.process.stdout],
                         daemon=True).start()

    def url(self, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.console.append(line)
            if "serving http://" in line:
                return line.split("serving ", 1)[1].split()[0]
        raise AssertionError("the review never served; it said:\n" + "\n".join(self.console))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=20)


@pytest.fixture
def page():
    """Headless Chromium, as in the preview's tests."""
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--window-size=1280,1400"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _press(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains
    for key in keys:
        ActionChains(driver).send_keys(key).perform()


def _shown(driver):
    """network_id and item of the answer on screen."""
    return driver.find_element("id", "network").get_attribute("data-answer")


def _wait_message(driver, wait, text):
    wait.until(lambda d: text in d.find_element("id", "message").text)


def test_review_by_keyboard_survives_a_killed_server(tmp_path, page):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    waves = _wave(tmp_path)
    wave = waves / "2018"
    corrections_before = _csv(wave / "coding_corrections.csv")
    server = _Server(waves, "--sample", "3", "--seed", "7")
    try:
        url = server.url()
        page.get(url)
        wait = WebDriverWait(page, 30, poll_frequency=0.1)
        wait.until(lambda d: d.find_element("id", "coder").is_displayed())
        _press(page, "JV", Keys.ENTER)                     # the initials, asked once
        wait.until(lambda d: d.find_element("id", "answer").is_displayed())
        sample = _csv(wave / "coding_sample.csv")
        assert len(sample) == 3 and set(sample["seed"]) == {"7"}
        first = _shown(page)
        assert first == f"{sample['network_id'].iloc[0]} {sample['item'].iloc[0]}"   # the sample first

        # Remove the first rule code (its key toggles it off), write a note, keep the rest: Enter.
        marked = page.find_elements("css selector", "#themes li.on kbd")
        assert marked, "the first answer of the sample has a rule code"
        removed_key = marked[0].text
        removed = marked[0].find_element("xpath", "..").get_attribute("data-theme")
        _press(page, removed_key, "n", "past niet bij de vraag", Keys.ESCAPE, Keys.ENTER)
        _wait_message(page, wait, "Opgeslagen")
        corrections, reviews = _csv(wave / "coding_corrections.csv"), _csv(wave / "coding_reviews.csv")
        mine = corrections[corrections["coder"] == "JV"]
        assert mine[["network_id", "item", "theme", "action", "reason"]].values.tolist() == [
            [sample["network_id"].iloc[0], sample["item"].iloc[0], removed, "remove", "past niet bij de vraag"]]
        assert reviews[["network_id", "item", "coder", "note"]].values.tolist() == [
            [sample["network_id"].iloc[0], sample["item"].iloc[0], "JV", "past niet bij de vraag"]]
        assert "1 van 46" in page.find_element("id", "progress").text

        # Skip the second; add a theme to the third and undo it; then keep the third as it is.
        second = _shown(page)
        _press(page, "s")
        wait.until(lambda d: _shown(d) != second)
        third = _shown(page)
        off = page.find_elements("css selector", "#themes li:not(.on)")[0]
        added = off.get_attribute("data-theme")
        _press(page, off.find_element("css selector", "kbd").text, Keys.ENTER)
        _wait_message(page, wait, "Opgeslagen")
        assert [added, "add"] in _csv(wave / "coding_corrections.csv")[["theme", "action"]].values.tolist()
        _press(page, "u")
        _wait_message(page, wait, "Ongedaan")
        assert _shown(page) == third
        assert [added, "add"] not in _csv(wave / "coding_corrections.csv")[["theme", "action"]].values.tolist()
        assert len(_csv(wave / "coding_reviews.csv")) == 1
        page.execute_script("localStorage.removeItem('wsd-review-draft')")
        page.get(url)                                     # the marks come from the server again
        wait.until(lambda d: _shown(d) == third)
        _press(page, Keys.ENTER)
        _wait_message(page, wait, "Opgeslagen")
        saved = (_csv(wave / "coding_corrections.csv"), _csv(wave / "coding_reviews.csv"))
        assert len(saved[1]) == 2
        next_one = _shown(page)
    finally:
        server.kill()                                        # SIGKILL, mid-review

    # Nothing lost, the earlier corrections kept, and the place found again.
    assert saved[0].equals(_csv(wave / "coding_corrections.csv")) and saved[1].equals(_csv(wave / "coding_reviews.csv"))
    assert set(map(tuple, corrections_before.values.tolist())) <= set(map(tuple, saved[0].values.tolist()))
    server = _Server(waves, port=int(url.rstrip("/").rsplit(":", 1)[1]))   # the same page (origin) again
    try:
        page.get(server.url())
        WebDriverWait(page, 30).until(lambda d: d.find_element("id", "answer").is_displayed())
        assert _shown(page) in (second, next_one)          # the skipped one, or the one after: unreviewed
        assert "2 van 46" in page.find_element("id", "progress").text
        assert page.find_element("id", "initials").is_displayed() is False   # initials remembered
        # Another page cannot write: no token, or the wrong host, is refused.
        request = urllib.request.Request(server_url := page.current_url.rstrip("/") + "/api/skip", data=b"{}",
                                         headers={"Content-Type": "application/json"}, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403, server_url
    finally:
        server.kill()


def test_blind_review_hides_codes_and_shows_hostile_text_as_text(tmp_path, page):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    from pipeline.app.cli import main
    waves = _wave(tmp_path)
    assert main(["--waves", str(waves), "run", "--wave", "2018", "--to", "normalise", "--quiet"]) == 0
    path = waves / "2018" / "processed" / "networks.parquet"
    networks = pd.read_parquet(path)
    for item in ("q17", "q19", "q23"):
        networks[item] = networks[item].where(networks[item].fillna("") == "", networks[item] + " " + SCRIPT)
    networks.to_parquet(path)
    server = _Server(waves, "--blind")
    try:
        page.get(server.url())
        wait = WebDriverWait(page, 30, poll_frequency=0.1)
        wait.until(lambda d: d.find_element("id", "coder").is_displayed())
        _press(page, "AB", Keys.ENTER)
        wait.until(lambda d: d.find_element("id", "answer").is_displayed())
        assert SCRIPT in page.find_element("id", "text").text
        assert page.execute_script("return window.pwned === undefined")
        assert not page.find_elements("css selector", "#themes li.on, #text mark, #suggestions li[data-theme]")
        assert not page.find_element("id", "suggestions-box").is_displayed()
        assert "(" not in "".join(e.text for e in page.find_elements("css selector", "#themes li > .muted"))
    finally:
        server.kill()


def test_the_browser_decision_gives_the_files_of_the_excel_route(tmp_path):
    """The same decisions through the workbook (coding-sheet, marks, coding-import) and through the review
    give the same corrections and reviews."""
    from openpyxl import load_workbook
    from pipeline.app.cli import main
    from pipeline.app.review import Review
    from pipeline.core.config import load_config
    from pipeline.waves.wave import load_wave
    results = {}
    for route in ("sheet", "browser"):
        waves = _wave(tmp_path / route)
        assert main(["--waves", str(waves), "run", "--wave", "2018", "--to", "code", "--quiet"]) == 0
        wave = load_wave("2018", waves_dir=waves)
        review = Review(wave=wave, config=load_config(ROOT / "config", **wave.settings), say=lambda _: None)
        key = ("wsd-nijmegen-project-venlo", "q23")
        now = set(review.queue.codes_now(key))
        decided = (now - {"bottom_up"}) | {"diversiteit"}
        if route == "browser":
            review.decide(key=key, themes=sorted(decided), mentions={}, note="gaat over lokaal leren", coder="JV")
        else:
            sheet = tmp_path / route / "blad.xlsx"
            assert main(["--waves", str(waves), "coding-sheet", "--wave", "2018", "--out", str(sheet),
                         "--no-suggestions"]) == 0
            wb = load_workbook(sheet)
            ws = wb["q23"]
            header = [c.value for c in ws[1]]
            for row in ws.iter_rows(min_row=2):
                if row[0].value == key[0]:
                    for cell, name in zip(row, header):
                        code = str(name).rsplit("(", 1)[-1].rstrip(")") if name and "(" in str(name) else None
                        if code in {t.code for t in review.codebook.themes_for("q23")}:
                            cell.value = "x" if code in decided else None
                        elif name == "codeur":
                            cell.value = "JV"
                        elif name == "toelichting":
                            cell.value = "gaat over lokaal leren"
            wb.save(sheet)
            assert main(["--waves", str(waves), "coding-import", "--wave", "2018", str(sheet)]) == 0
        results[route] = [(wave.folder / name).read_bytes() for name in ("coding_corrections.csv", "coding_reviews.csv")]
    assert results["sheet"] == results["browser"]
    assert b"diversiteit,add,JV,gaat over lokaal leren" in results["browser"][0]


def test_a_second_sample_of_another_size_is_refused(tmp_path):
    from pipeline.app.review import Review
    from pipeline.core.config import load_config
    from pipeline.core.errors import PipelineError
    from pipeline.app.cli import main
    from pipeline.waves.wave import load_wave
    waves = _wave(tmp_path)
    assert main(["--waves", str(waves), "run", "--wave", "2018", "--to", "normalise", "--quiet"]) == 0
    wave = load_wave("2018", waves_dir=waves)
    config = load_config(ROOT / "config", **wave.settings)
    first = Review(wave=wave, config=config, sample=5, seed=3, say=lambda _: None)
    drawn = wave.sample.read_bytes()
    assert Review(wave=wave, config=config, sample=5, seed=3, say=lambda _: None).sample == first.sample
    assert first.state()["answer"]["network_id"] == first.sample[0][0]
    with pytest.raises(PipelineError, match="already drawn.*remove that file"):
        Review(wave=wave, config=config, sample=6, seed=3, say=lambda _: None)
    assert wave.sample.read_bytes() == drawn


def test_cross_item_mention_is_a_code_of_the_other_answer(tmp_path):
    from pipeline.app.cli import main
    from pipeline.app.review import Review
    from pipeline.core.config import load_config
    from pipeline.waves.wave import load_wave
    waves = _wave(tmp_path)
    assert main(["--waves", str(waves), "run", "--wave", "2018", "--to", "normalise", "--quiet"]) == 0
    wave = load_wave("2018", waves_dir=waves)
    review = Review(wave=wave, config=load_config(ROOT / "config", **wave.settings), say=lambda _: None)
    key = next(k for k in review.keys if k[1] == "q23" and (k[0], "q17") in review.keys)
    missing = next(t.code for t in review.codebook.themes_for("q17") if t.code not in review.queue.codes_now((key[0], "q17")))
    review.decide(key=key, themes=sorted(review.queue.codes_now(key)), mentions={"q17": [missing]}, note="", coder="JV")
    rows = _csv(wave.corrections)
    mention = rows[(rows["item"] == "q17") & (rows["network_id"] == key[0])]
    assert mention[["theme", "action", "reason"]].values.tolist() == [[missing, "add", "genoemd bij q23"]]
    review.undo()
    rows = _csv(wave.corrections)
    assert rows[(rows["item"] == "q17") & (rows["network_id"] == key[0])].empty
