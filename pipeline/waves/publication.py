"""What a wave's report says about itself as a publication, read from wave.yaml and checked: the authors with
their institutions, the date of publication, the commissioning body, publisher and place, contact, licence,
version and keywords. Every field is optional: a wave.yaml without them gives a report that omits the line
(and, without a date of publication, calls itself a concept)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.core.errors import ConfigError

PUBLICATION_KEYS = ("published", "commissioner", "publisher", "place", "contact", "licence", "version", "keywords")
AUTHOR_KEYS = ("name", "institution", "cite_as")


@dataclass(frozen=True)
class Author:
    """An author as the cover names them, their institution (or None), and how the citation names them
    (None: from the name, as "Pas, S. van der")."""
    name: str
    institution: str | None = None
    cite_as: str | None = None


@dataclass(frozen=True)
class Licence:
    name: str
    text: str | None = None
    url: str | None = None


_COMMON = "mits de makers worden genoemd, naar de licentie wordt verwezen en wordt aangegeven wat er is veranderd"
# The Creative Commons licences by their short name: what each allows, in a sentence of the report's own, and
# the Dutch page of the licence.
LICENCES = {
    "CC BY 4.0": Licence("CC BY 4.0", "Dit werk mag worden gekopieerd, verspreid en bewerkt, ook voor commerciële "
                         f"doeleinden, {_COMMON}.", "https://creativecommons.org/licenses/by/4.0/deed.nl"),
    "CC BY-SA 4.0": Licence("CC BY-SA 4.0", "Dit werk mag worden gekopieerd, verspreid en bewerkt, ook voor "
                            f"commerciële doeleinden, {_COMMON}; een bewerking wordt onder dezelfde licentie "
                            "verspreid.", "https://creativecommons.org/licenses/by-sa/4.0/deed.nl"),
    "CC BY-NC 4.0": Licence("CC BY-NC 4.0", "Dit werk mag worden gekopieerd, verspreid en bewerkt, niet voor "
                            f"commerciële doeleinden, {_COMMON}.",
                            "https://creativecommons.org/licenses/by-nc/4.0/deed.nl"),
    "CC BY-NC-SA 4.0": Licence("CC BY-NC-SA 4.0", "Dit werk mag worden gekopieerd, verspreid en bewerkt, niet voor "
                               f"commerciële doeleinden, {_COMMON}; een bewerking wordt onder dezelfde licentie "
                               "verspreid.", "https://creativecommons.org/licenses/by-nc-sa/4.0/deed.nl"),
    "CC BY-ND 4.0": Licence("CC BY-ND 4.0", "Dit werk mag ongewijzigd worden gekopieerd en verspreid, ook voor "
                            "commerciële doeleinden, mits de makers worden genoemd en naar de licentie wordt "
                            "verwezen; een bewerking mag niet worden verspreid.",
                            "https://creativecommons.org/licenses/by-nd/4.0/deed.nl"),
    "CC BY-NC-ND 4.0": Licence("CC BY-NC-ND 4.0", "Dit werk mag ongewijzigd worden gekopieerd en verspreid, niet "
                               "voor commerciële doeleinden, mits de makers worden genoemd en naar de licentie wordt "
                               "verwezen; een bewerking mag niet worden verspreid.",
                               "https://creativecommons.org/licenses/by-nc-nd/4.0/deed.nl"),
    "CC0 1.0": Licence("CC0 1.0", "De makers hebben afstand gedaan van hun rechten op dit werk, voor zover de wet dat "
                       "toestaat: het mag zonder toestemming worden gekopieerd, verspreid en bewerkt, ook voor "
                       "commerciële doeleinden.", "https://creativecommons.org/publicdomain/zero/1.0/deed.nl"),
}


@dataclass(frozen=True)
class Publication:
    published: date | None = None
    commissioner: str | None = None
    publisher: str | None = None
    place: str | None = None
    contact: str | None = None
    licence: Licence | None = None
    version: str | None = None
    keywords: tuple[str, ...] = ()

    def record(self) -> dict:
        """The fields as wave.yaml writes them (a new wave carries them over, except date and version)."""
        licence = self.licence
        return {"commissioner": self.commissioner, "publisher": self.publisher, "place": self.place,
                "contact": self.contact,
                "licence": None if licence is None else licence.name if licence.name in LICENCES
                else {k: v for k, v in (("name", licence.name), ("text", licence.text), ("url", licence.url)) if v},
                "keywords": list(self.keywords)}


def _squeezed(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name).strip().upper()


def read_authors(value: Any, where: Path) -> tuple[Author, ...]:
    """wave.yaml's authors: each a name, or a mapping of name, institution and cite_as."""
    if not isinstance(value or [], list):
        raise ConfigError(f"{where}: authors must be a list, such as [Naam Een, Naam Twee], or of "
                          "{name: Naam Een, institution: Hogeschool Een}.")
    authors = []
    for entry in value or []:
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - set(AUTHOR_KEYS))
            if unknown or not isinstance(entry.get("name"), str) or not entry["name"].strip() \
                    or any(not isinstance(entry.get(k) or "", str) for k in ("institution", "cite_as")):
                raise ConfigError(f"{where}: authors: {entry!r} is not an author; give a name, or a mapping of "
                                  f"{', '.join(AUTHOR_KEYS)} (text), such as {{name: Naam Een, institution: Hogeschool Een}}.")
            authors.append(Author(entry["name"].strip(), (entry.get("institution") or "").strip() or None,
                                  (entry.get("cite_as") or "").strip() or None))
        elif isinstance(entry, (str, int)) and not isinstance(entry, bool) and str(entry).strip():
            authors.append(Author(str(entry).strip()))
        else:
            raise ConfigError(f"{where}: authors: {entry!r} is not an author; give a name, or a mapping such as "
                              "{name: Naam Een, institution: Hogeschool Een}.")
    return tuple(authors)


def read_publication(raw: dict, where: Path) -> Publication:
    """The publication fields of a wave.yaml mapping, checked with one line naming the key and the fix."""
    published = raw.get("published")
    if isinstance(published, datetime):
        published = published.date()
    elif isinstance(published, str) and published.strip():
        try:
            published = date.fromisoformat(published.strip())
        except ValueError:
            published = "wrong"
    if published in ("", None):
        published = None
    elif not isinstance(published, date):
        raise ConfigError(f"{where}: published is {raw['published']!r}; expected the date of publication as "
                          "year-month-day, such as 2025-10-01 (or leave it out while the report is a concept).")
    texts = {}
    for key in ("commissioner", "publisher", "place", "contact", "version"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key == "version":
            value = str(value)
        if value is not None and not isinstance(value, str):
            hint = f' (quote a number: version: "{value}")' if key == "version" else ""
            raise ConfigError(f"{where}: {key} is {value!r}; expected text{hint}, or leave it out.")
        texts[key] = (value or "").strip() or None
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise ConfigError(f"{where}: keywords must be a list of words, such as [leernetwerken, sociaal domein].")
    return Publication(published=published, licence=_licence(raw.get("licence"), where),
                       keywords=tuple(k.strip() for k in keywords), **texts)


def _licence(value: Any, where: Path) -> Licence | None:
    known = ", ".join(LICENCES)
    if value in (None, ""):
        return None
    if isinstance(value, str):
        for name, licence in LICENCES.items():
            if _squeezed(name) == _squeezed(value):
                return licence
        raise ConfigError(f"{where}: licence {value!r} is not one this pipeline knows ({known}); name one of those, "
                          "or give your own as {name: ..., text: ..., url: ...}.")
    if isinstance(value, dict) and not set(value) - {"name", "text", "url"} and isinstance(value.get("name"), str) \
            and value["name"].strip() and all(isinstance(value.get(k) or "", str) for k in ("text", "url")):
        url = (value.get("url") or "").strip() or None
        if url is not None and not re.fullmatch(r"https?://[^\s<>\"']+", url):
            raise ConfigError(f"{where}: the licence's url {url!r} is no web address; give one that starts with "
                              "https:// (the report links to it).")
        return Licence(value["name"].strip(), (value.get("text") or "").strip() or None, url)
    raise ConfigError(f"{where}: licence is {value!r}; give a name ({known}) or a mapping of name, text and url.")
