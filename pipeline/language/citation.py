"""A report's suggested citation in author-year style (APA as Dutch publications write it): the authors as
surname and initials, the particles after the initials ("Pas, S. van der"), the year, the title, and the
place and publisher."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.language.names import PARTICLES

# Words that make an author an organisation (a working group, a school), cited as written.
ORGANISATION_WORDS = frozenset("""
    werkgroep werkplaats werkplaatsen hogeschool universiteit lectoraat kenniscentrum gemeente stichting
    instituut ministerie vereniging centrum netwerk afdeling redactie onderzoeksgroep academie faculteit
    domein team consortium
""".split())
# APA lists up to 20 authors; of more, the first 19, an ellipsis and the last.
MAX_LISTED = 20
NO_DATE = "z.d."


def reference_name(name: str) -> str:
    """How a reference list names an author: "Suzan van der Pas" as "Pas, S. van der", "Jean-Pierre Wilken"
    as "Wilken, J.-P."; an organisation, or a name of another shape, as written."""
    words = name.split()
    if len(words) < 2 or any(w.casefold() in ORGANISATION_WORDS for w in words):
        return name.strip()
    start = next((i for i, w in enumerate(words) if i and w.casefold() in PARTICLES), None)
    if start is None:
        given, particles, surname = words[:-1], [], words[-1:]
    else:
        end = start
        while end < len(words) and words[end].casefold() in PARTICLES:
            end += 1
        given, particles, surname = words[:start], words[start:end], words[end:]
    if not 1 <= len(given) <= 3 or len(surname) != 1 or not all(w[:1].isupper() for w in given + surname):
        return name.strip()
    initials = " ".join(_initials(w) for w in given)
    return f"{surname[0]}, {initials}" + (f" {' '.join(particles)}" if particles else "")


def _initials(given: str) -> str:
    """"Jean-Pierre" as "J.-P.", "J.P." as "J. P."."""
    if "." in given.rstrip("."):
        return " ".join(f"{part[0]}." for part in given.split(".") if part)
    return "-".join(f"{part[0]}." for part in given.split("-") if part)


def author_list(names: list[str]) -> str:
    """The authors of a reference: "A", "A, & B", "A, B, & C" (the comma before & as APA writes it)."""
    if len(names) > MAX_LISTED:
        return ", ".join(names[:MAX_LISTED - 1]) + ", … " + names[-1]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + ", & " + names[-1]


@dataclass(frozen=True)
class Citation:
    """A suggested citation in its parts, so that a template can set the title in italics:
    `authors (year). *title*after_title`."""
    authors: str
    year: str
    title: str
    after_title: str

    @property
    def text(self) -> str:
        return f"{self.authors} ({self.year}). {self.title}{self.after_title}"


def suggested_citation(*, authors: list[str], year: int | None, title: str, subtitle: str = "",
                       version: str | None = None, draft: bool = False, place: str | None = None,
                       publisher: str | None = None) -> Citation:
    """The report's citation: authors (each a name as written on the cover, or how it is cited), year (None:
    z.d.), title and subtitle, version, a draft marked [Concept], place and publisher where known."""
    names = author_list([reference_name(a) for a in authors])
    full_title = f"{title}: {subtitle}" if subtitle else title
    after = f" (versie {version})" if version else ""
    after += " [Concept]" if draft else ""
    after += "" if re.search(r"[.?!]$", full_title + after) else "."
    where = ": ".join(part for part in (place, publisher) if part)
    return Citation(authors=names, year=str(year) if year else NO_DATE, title=full_title,
                    after_title=after + (f" {where}." if where else ""))
