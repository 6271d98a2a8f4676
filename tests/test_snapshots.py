"""Snapshots of rendered fragments: a change of a template or a stage shows here as a readable diff.

After a change you meant, rewrite them and review the diff before committing:

    .venv/bin/python -m pytest tests/test_snapshots.py --update-snapshots
    git diff tests/snapshots/
"""

from __future__ import annotations

from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
FRAGMENTS = {
    "method": ('<h1 id="methode">', '<h1 id="resultaten">'),
    "themes_q23": ('<h2 id="werkzame-elementen">', '<h2 id="kansen">'),
    "network_wijkverpleegkundigen": ('<section class="network" id="netwerk-wsd-flevoland-leernetwerk-wijkverpleegkundigen">',
                                     "</section>"),
    "yes_no_sections": ('<h2 id="begeleiding">', '<h1 id="conclusies">'),
}


def fragment(html: str, start: str, end: str) -> str:
    assert start in html, f"{start} is not in the report"
    body = html.split(start, 1)[1]
    assert end in body, f"{end} does not follow {start}"
    return start + body.split(end, 1)[0] + (end if end.startswith("</") else "")


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_rendered_fragment_matches_its_snapshot(name, embedded_report, request):
    html = (embedded_report / "out" / "report.html").read_text(encoding="utf-8")
    text = fragment(html, *FRAGMENTS[name])
    path = SNAPSHOTS / f"{name}.html"
    if request.config.getoption("--update-snapshots"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; write it with --update-snapshots and review it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if you meant it, run pytest tests/test_snapshots.py --update-snapshots and review "
        "git diff tests/snapshots/")
