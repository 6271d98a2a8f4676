"""Waves: one round of the questionnaire, and everything that belongs to it, in waves/<name>/.

A wave folder holds wave.yaml (title, year, authors with their institutions, the report's facts as a
publication (pipeline.waves.publication), the export and supplement, the previous wave, template and text folders, settings that differ from config/settings.yaml, whether the report is
final), its texts, its coding corrections and reviews, its quote decisions, its processed data and its links to the
previous wave's networks. Its report goes to reports/<name>/. Paths in wave.yaml are relative to the
wave folder, so a copied folder gives the same report.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.core.config import SETTING_KINDS
from pipeline.core.files import PROJECT_ROOT, read_yaml
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.waves.publication import PUBLICATION_KEYS, Author, Publication, read_authors, read_publication

WAVES_DIR = PROJECT_ROOT / "waves"
CORRECTIONS = "coding_corrections.csv"
REVIEWS = "coding_reviews.csv"
SAMPLE = "coding_sample.csv"
QUOTES = "quotes.csv"
LINKS = "network_links.csv"
GROUP_DECISIONS = "group_decisions.csv"
TEXT_FILES = ("inleiding", "conclusies", "discussie")
# The first line of a text carried over from the previous wave; the researcher removes it on rewriting.
INHERITED = "<!-- overgenomen uit meting {previous}: herschrijf deze tekst en haal dan deze regel weg -->"
INHERITED_PATTERN = re.compile(r"^\s*<!--\s*overgenomen uit meting (.+?):.*?-->\s*\n?")
WAVE_KEYS = ("title", "subtitle", "year", "authors", "institutions", *PUBLICATION_KEYS, "export", "supplement",
             "previous", "templates", "texts", "settings", "final", "qualtrics")
# What fetch records under `qualtrics` (pipeline.app.fetch): where the export came from and when.
QUALTRICS_KEYS = ("survey", "data_center", "exported_at", "since", "export", "definition")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Fetched:
    """The export fetch took from Qualtrics: the survey, its data center, the moment of the export (UTC),
    the first day asked for (or None), and the files it wrote (the export and the survey definition)."""
    survey: str
    data_center: str | None
    exported_at: datetime
    since: str | None
    export: Path
    definition: Path | None


@dataclass(frozen=True)
class Wave:
    name: str
    folder: Path
    title: str
    subtitle: str
    year: int | None
    authors: tuple[Author, ...]
    institutions: tuple[str, ...]
    export: Path
    supplement: Path | None
    previous: str | None
    templates: Path | None
    texts: Path
    settings: dict[str, Any] = field(default_factory=dict)
    final: bool = False
    qualtrics: Fetched | None = None
    publication: Publication = Publication()

    @property
    def fetched(self) -> Fetched | None:
        """The fetch that wrote the export in use; None when the export is another file (given by hand)."""
        return self.qualtrics if self.qualtrics and self.qualtrics.export == self.export else None

    def check_final(self, *, reviewed: int, coded: int, quotes_chosen: int, quotes_shown: int) -> None:
        """Final means reviewed: stops a run of a wave marked final while coded answers are unreviewed or the
        report's quotes not all chosen by a person, with one line saying what is left and how to do it."""
        if not self.final or (reviewed >= coded and quotes_chosen >= quotes_shown):
            return
        left, how = [], []
        if reviewed < coded:
            left.append(f"{coded - reviewed} of {coded} coded answers are unreviewed")
            how.append(f"review them with `python -m pipeline review --wave {self.name}` (or `make review "
                       f"WAVE={self.name}`, or coding-sheet and coding-import)")
        if quotes_chosen < quotes_shown:
            left.append(f"{quotes_shown - quotes_chosen} of {quotes_shown} quotes are not chosen by a person")
            how.append(f"decide on them with `python -m pipeline quotes --wave {self.name}`")
        raise PipelineError(f"{self.folder / 'wave.yaml'}: final: true, but {' and '.join(left)}; "
                            f"{', then '.join(how)}, or set final: false for a draft.")

    @property
    def processed(self) -> Path:
        return self.folder / "processed"

    @property
    def out(self) -> Path:
        """reports/<name>/ beside the waves folder."""
        return self.folder.parent.parent / "reports" / self.name

    @property
    def corrections(self) -> Path:
        return self.folder / CORRECTIONS

    @property
    def quotes(self) -> Path:
        """The researcher's decisions on the report's quotes (pipeline.coding.quotes)."""
        return self.folder / QUOTES

    @property
    def reviews(self) -> Path:
        return self.folder / REVIEWS

    @property
    def sample(self) -> Path:
        """The random sample of coded answers drawn for the review (pipeline.coding.review_queue.draw_sample),
        from which the rules' accuracy on this wave is estimated."""
        return self.folder / SAMPLE

    @property
    def links(self) -> Path:
        return self.folder / LINKS

    @property
    def group_decisions(self) -> Path:
        """The researcher's participant group per category label (pipeline.core.wave_files.load_group_decisions)."""
        return self.folder / GROUP_DECISIONS

    def previous_wave(self) -> "Wave | None":
        return load_wave(self.previous, waves_dir=self.folder.parent) if self.previous else None

    def previous_export_warning(self, *, export: Path, response_keys: list[str]) -> str | None:
        """A warning when this wave's export looks like the previous wave's: the same file, or responses with
        the same Qualtrics response IDs (response_key, salted hashes of them) as that wave's networks;
        None when not, or when there is no previous wave (built)."""
        before = self.previous_wave()
        if before is None:
            return None
        if export.exists() and before.export.exists() and export.stat().st_size == before.export.stat().st_size \
                and export.read_bytes() == before.export.read_bytes():
            return (f"{export}: is byte for byte wave {before.name}'s export ({before.export}); this wave's "
                    "tables then repeat that wave's. Export this wave's responses from Qualtrics and set them as "
                    f"`export` in {self.folder / 'wave.yaml'}.")
        networks = before.processed / "networks.parquet"
        if not networks.exists():
            return None
        survey = {k for k in response_keys if not k.startswith(("supplement-", "row-"))}
        shared = survey & set(pd.read_parquet(networks, columns=["response_key"])["response_key"])
        if not shared:
            return None
        share = "all" if len(shared) == len(survey) else f"{len(shared)} of {len(survey)}"
        return (f"{export}: {share} kept responses have the Qualtrics response IDs of wave {before.name}'s networks: "
                + ("this looks like that wave's export, not this wave's. Export this wave's responses from Qualtrics "
                   "(check the date range) and set them as `export` in wave.yaml."
                   if 2 * len(shared) >= len(survey) else
                   "they were counted in that wave already; check the export's date range in Qualtrics."))


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise PipelineError(f"wave name {name!r}: use letters, digits, '-', '_' or '.', such as 2025 or 2025-najaar.")
    return name


def _path(folder: Path, value: Any, key: str, where: Path) -> Path | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a path (text), not {value!r}.")
    return (folder / value).resolve() if not Path(value).is_absolute() else Path(value)


def load_wave(name: str, *, waves_dir: Path = WAVES_DIR) -> Wave:
    """The wave of waves/<name>/wave.yaml, checked: unknown keys, types and missing files are named."""
    check_name(name)
    folder = waves_dir / name
    path = folder / "wave.yaml"
    if not path.exists():
        known = sorted(p.name for p in waves_dir.glob("*") if (p / "wave.yaml").exists()) if waves_dir.is_dir() else []
        raise PipelineError(f"wave {name}: {path} not found (waves here: {', '.join(known) or 'none'}); start one with "
                            f"`python -m pipeline new-wave {name} --export FILE`.")
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of {', '.join(WAVE_KEYS)}.")
    unknown = sorted(set(raw) - set(WAVE_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known are {', '.join(WAVE_KEYS)}.")
    if not isinstance(raw.get("institutions") or [], list):
        raise ConfigError(f"{path}: institutions must be a list, such as [Hogeschool Een, Hogeschool Twee].")
    authors = read_authors(raw.get("authors"), path)
    publication = read_publication(raw, path)
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict) or set(settings) - set(SETTING_KINDS):
        raise ConfigError(f"{path}: settings must map keys of config/settings.yaml ({', '.join(SETTING_KINDS)}) "
                          "to their value for this wave.")
    if not isinstance(raw.get("final", False), bool):
        raise ConfigError(f"{path}: final is {raw['final']!r}; expected true or false.")
    year = raw.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise ConfigError(f"{path}: year is {year!r}; expected a year such as 2025.")
    export = _path(folder, raw.get("export"), "export", path)
    if export is None:
        raise ConfigError(f"{path}: export is missing; give the path of the Qualtrics export (relative to {folder}).")
    previous = raw.get("previous")
    if previous is not None:
        check_name(str(previous))
        if str(previous) == name:
            raise ConfigError(f"{path}: previous is this wave itself; give the wave before it, or leave it empty.")
    qualtrics = _fetched(folder, raw.get("qualtrics"), path)
    return Wave(name=name, folder=folder, title=str(raw.get("title") or "Rapport leernetwerken Werkplaatsen Sociaal Domein"),
                subtitle=str(raw.get("subtitle") or ""), year=year,
                authors=authors,
                institutions=tuple(str(i) for i in raw.get("institutions") or ()),
                export=export, supplement=_path(folder, raw.get("supplement"), "supplement", path),
                previous=str(previous) if previous is not None else None,
                templates=_path(folder, raw.get("templates"), "templates", path),
                texts=_path(folder, raw.get("texts") or "texts", "texts", path), settings=dict(settings),
                final=bool(raw.get("final", False)), qualtrics=qualtrics, publication=publication)


def _author_record(author: Author) -> str | dict:
    """An author as wave.yaml writes them: the name alone, or a mapping when there is more to say."""
    if author.institution is None and author.cite_as is None:
        return author.name
    return {k: v for k, v in (("name", author.name), ("institution", author.institution),
                              ("cite_as", author.cite_as)) if v}


def _fetched(folder: Path, value: Any, where: Path) -> Fetched | None:
    if value in (None, {}):
        return None
    if not isinstance(value, dict) or set(value) - set(QUALTRICS_KEYS):
        raise ConfigError(f"{where}: qualtrics is what fetch wrote: a mapping of {', '.join(QUALTRICS_KEYS)}; "
                          "leave it as it is, or remove it entirely.")
    moment = value.get("exported_at")
    try:
        moment = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: qualtrics: exported_at is {moment!r}; expected a moment such as "
                          "2025-10-01T09:30:00Z (fetch writes it).")
    if not value.get("survey") or not value.get("export"):
        raise ConfigError(f"{where}: qualtrics: survey and export are missing; leave what fetch wrote as it is, or "
                          "remove qualtrics entirely.")
    return Fetched(survey=str(value["survey"]), data_center=str(value["data_center"]) if value.get("data_center") else None,
                   exported_at=moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc),
                   since=str(value["since"]) if value.get("since") else None,
                   export=_path(folder, value["export"], "qualtrics: export", where),
                   definition=_path(folder, value.get("definition"), "qualtrics: definition", where))


def fetch_record(*, survey: str, data_center: str | None, exported_at: datetime, since: str | None,
                 export: str, definition: str) -> dict:
    """wave.yaml's `qualtrics` mapping for a fetched export (paths relative to the wave folder)."""
    return {"survey": survey, "data_center": data_center,
            "exported_at": exported_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "since": since, "export": export, "definition": definition}


def free_stem(data: Path, stem: str, suffixes: tuple[str, ...]) -> str:
    """`stem`, or stem-2, stem-3, ...: the first for which no file data/<stem><suffix> exists yet."""
    candidate, number = stem, 1
    while any((data / f"{candidate}{suffix}").exists() for suffix in suffixes):
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def record_fetch(wave: Wave, *, export: Path, definition: Path, qualtrics: dict) -> Wave:
    """File a fetched export and its survey definition into the wave's data/ under their own names (an earlier
    file is never replaced) and point wave.yaml at them: `export` and `qualtrics`. When anything fails, data/ and
    wave.yaml are as they were."""
    data = wave.folder / "data"
    data.mkdir(exist_ok=True)
    targets = [data / Path(qualtrics["export"]).name, data / Path(qualtrics["definition"]).name]
    if any(t.exists() for t in targets):
        raise PipelineError(f"{data}: {targets[0].name} exists already; fetch again (a new name is chosen).")
    path = wave.folder / "wave.yaml"
    text = path.read_text(encoding="utf-8")
    written: list[Path] = []
    try:
        for source, target in zip((export, definition), targets):
            part = target.with_name(f".{target.name}.part")
            shutil.copyfile(source, part)
            written.append(part)
            _place(part, target)
            written.remove(part)
            written.append(target)
        _write_text_atomic(path, _pointed_at(text, qualtrics))
    except BaseException:
        for made in written:
            made.unlink(missing_ok=True)
        raise
    return load_wave(wave.name, waves_dir=wave.folder.parent)


def _place(part: Path, target: Path) -> None:
    """Move a finished file to its name, never over an existing file (a hard link refuses one)."""
    try:
        os.link(part, target)
        part.unlink()
    except FileExistsError:
        raise PipelineError(f"{target}: exists already; fetch again (a new name is chosen).")
    except OSError:   # a file system without hard links
        if target.exists():
            raise PipelineError(f"{target}: exists already; fetch again (a new name is chosen).")
        os.replace(part, target)


def _pointed_at(text: str, qualtrics: dict) -> str:
    """wave.yaml's text with `export` set to the fetched file and `qualtrics` replaced; the researcher's
    comments and order kept where the file's layout allows, else the mapping written anew."""
    raw = yaml.safe_load(text) or {}
    wanted = {**raw, "export": qualtrics["export"], "qualtrics": qualtrics}
    block = yaml.safe_dump({"qualtrics": qualtrics}, allow_unicode=True, sort_keys=False)
    edited = re.sub(r"^qualtrics:.*\n(?:[ \t]+.*\n|[ \t]*\n)*", "", text if text.endswith("\n") else text + "\n",
                    flags=re.M)
    line = yaml.safe_dump({"export": qualtrics["export"]}, allow_unicode=True).strip()
    edited, found = re.subn(r"^export:.*$", lambda _: line, edited, count=1, flags=re.M)
    edited = (edited if found else edited + line + "\n") + block
    try:
        if yaml.safe_load(edited) == wanted:
            return edited
    except yaml.YAMLError:
        pass
    header = "".join(l for l in text.splitlines(keepends=True) if l.startswith("#"))
    return header + yaml.safe_dump(wanted, allow_unicode=True, sort_keys=False)


def _write_text_atomic(path: Path, text: str) -> None:
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def inherited_from(text: str) -> str | None:
    """The wave a text was carried over from, while its first line still says so."""
    match = INHERITED_PATTERN.match(text)
    return match.group(1) if match else None


def without_mark(text: str) -> str:
    return INHERITED_PATTERN.sub("", text, count=1)


TEMPLATE_SOURCE = "sjabloon"   # what the mark names when a text started from the project's starting texts


def earlier_text(source: str, name: str, *, waves_dir: Path) -> str | None:
    """Text `name` (inleiding, conclusies, ...) of wave `source` as that wave has it now, without its own
    mark; None when that wave or its text is not there (a wave folder copied without its predecessor)."""
    try:
        before = load_wave(source, waves_dir=waves_dir)
    except PipelineError:
        return None
    path = before.texts / f"{name}.md"
    return without_mark(path.read_text(encoding="utf-8")) if path.is_file() else None


def new_wave(name: str, *, export: Path, supplement: Path | None = None, previous: str | None = None,
             waves_dir: Path = WAVES_DIR, fallback_texts: Path = PROJECT_ROOT / "texts",
             definition: Path | None = None, qualtrics: dict | None = None) -> Wave:
    """Scaffold waves/<name>/: the export (and supplement) copied in, a wave.yaml, texts started from the
    previous wave's (or the project's), each marked as not yet rewritten, and the previous wave's participant
    group decisions. Refuses an existing wave. A fetched export comes with its survey definition (copied in
    too) and its `qualtrics` record."""
    check_name(name)
    folder = waves_dir / name
    if folder.exists():
        raise PipelineError(f"wave {name}: {folder} exists already; choose another name, or edit its wave.yaml.")
    for given, what in ((export, "export"), (supplement, "supplement")):
        if given is not None and not Path(given).is_file():
            raise PipelineError(f"{given}: the {what} is not a file; give the file Qualtrics exported.")
    before = load_wave(previous, waves_dir=waves_dir) if previous else None
    source_texts = before.texts if before else fallback_texts
    staging = waves_dir / f".{name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "data").mkdir(parents=True)
        (staging / "texts").mkdir()
        shutil.copy2(export, staging / "data" / Path(export).name)
        if supplement is not None:
            shutil.copy2(supplement, staging / "data" / Path(supplement).name)
        # A researcher's group per category label holds for the same label in the next wave too; without it
        # the same answers would land in other groups and the comparison would show a change that is none.
        if before is not None and before.group_decisions.is_file():
            shutil.copy2(before.group_decisions, staging / GROUP_DECISIONS)
        if definition is not None:
            shutil.copy2(definition, staging / "data" / Path(definition).name)
        for text in TEXT_FILES:
            source = source_texts / f"{text}.md"
            body = without_mark(source.read_text(encoding="utf-8")) if source.exists() else ""
            mark = INHERITED.format(previous=before.name if before else TEMPLATE_SOURCE)
            (staging / "texts" / f"{text}.md").write_text(f"{mark}\n{body}", encoding="utf-8")
        record = {
            "title": before.title if before else "Rapport leernetwerken Werkplaatsen Sociaal Domein",
            "subtitle": before.subtitle if before else "",
            "year": None, "authors": [_author_record(a) for a in before.authors] if before else [],
            "institutions": list(before.institutions) if before else [],
            # who writes, publishes and commissions carries over; the date and version are the new report's own
            **({k: v for k, v in before.publication.record().items() if v} if before else {}),
            "export": f"data/{Path(export).name}",
            "supplement": f"data/{Path(supplement).name}" if supplement is not None else None,
            "previous": previous, "templates": None, "texts": "texts", "settings": {}, "final": False,
            **({"qualtrics": qualtrics} if qualtrics else {}),
        }
        header = (f"# Wave {name}. Paths are relative to this folder. Set `final: true` when the texts are this\n"
                  "# wave's own and the codes have been reviewed (until then the report is marked as a draft).\n")
        (staging / "wave.yaml").write_text(header + yaml.safe_dump(record, allow_unicode=True, sort_keys=False),
                                           encoding="utf-8")
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load_wave(name, waves_dir=waves_dir)
