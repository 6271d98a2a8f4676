"""The PDF holds what it claims (PDF/UA-1): the machine-checkable failure conditions of the Matterhorn
Protocol 1.1 that apply to the report, each test named with its condition's number, on the embedded wave's
report.pdf read with pikepdf.

No PDF/UA checker installs here, so these tests are the check. Conditions that need a person (is the alt
text right, is the reading order the text's) and those about things the report does not have (forms,
formulas, notes, optional content, embedded files, encryption) are not here.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

# Operators that put something on the page: text, paths painted, shadings, images and forms.
PAINTING = {"Tj", "TJ", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "INLINE IMAGE"}
STANDARD_TYPES = {
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index", "NonStruct",
    "Private", "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl", "LBody", "Table", "TR", "TH",
    "TD", "THead", "TBody", "TFoot", "Span", "Quote", "Note", "Reference", "BibEntry", "Code", "Link", "Annot",
    "Ruby", "RB", "RT", "RP", "Warichu", "WT", "WP", "Figure", "Formula", "Form"}


@pytest.fixture(scope="module")
def pdf_path(embedded_report) -> Path:
    return embedded_report / "out" / "report.pdf"


@lru_cache(maxsize=4)
def read(path: Path) -> "Structure":
    return Structure(pikepdf.open(path))


@pytest.fixture(scope="module")
def pdf(pdf_path):
    return read(pdf_path)


def _kids(node) -> list:
    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_element(node) -> bool:
    return isinstance(node, Dictionary) and "/S" in node


class Structure:
    """A PDF, its structure elements in reading order (type, element, parent type) and its parent tree."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf, self.root = pdf, pdf.Root.StructTreeRoot
        self.elements: list[tuple[str, Dictionary, str]] = []

        def walk(node, parent):
            if _is_element(node):
                kind = str(node.S)[1:]
                self.elements.append((kind, node, parent))
                for kid in _kids(node):
                    walk(kid, kind)
        for kid in _kids(self.root):
            walk(kid, "")
        self.reached = {element.objgen for _, element, _ in self.elements}
        nums = self.root.ParentTree.Nums
        self.parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}

    def of(self, kind: str) -> list[Dictionary]:
        return [element for k, element, _ in self.elements if k == kind]

    def marked_content(self):
        """Per page: (page number, the operators that paint, each with the marked content around it as
        a list of (tag, MCID or None))."""
        for number, page in enumerate(self.pdf.pages, start=1):
            stack, painted = [], []
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op in ("BDC", "BMC"):
                    properties = operands[1] if op == "BDC" and len(operands) > 1 else None
                    mcid = int(properties.MCID) if isinstance(properties, Dictionary) and "/MCID" in properties else None
                    stack.append((str(operands[0]), mcid))
                elif op == "EMC" and stack:
                    stack.pop()
                elif op in PAINTING:
                    painted.append((op, list(stack)))
            yield number, page, painted

    def parent_of(self, page, mcid: int):
        mapping = self.parents.get(int(page.obj.get("/StructParents", -1)))
        if isinstance(mapping, Array) and mcid < len(mapping) and isinstance(mapping[mcid], Dictionary):
            return mapping[mcid]
        return None


# ----------------------------------------------------------------------------- the conditions

def untagged_content(pdf: Structure) -> list[str]:
    """01-005: content that is neither an artifact nor marked content of an element in the tree."""
    found = []
    for number, page, painted in pdf.marked_content():
        for op, stack in painted:
            if any(tag == "/Artifact" for tag, _ in stack):
                continue
            tagged = [mcid for _, mcid in stack if mcid is not None]
            parent = pdf.parent_of(page, tagged[-1]) if tagged else None
            if parent is None or parent.objgen not in pdf.reached:
                found.append(f"page {number}: {op} " + (f"MCID {tagged[-1]}" if tagged else "outside marked content"))
    return found


def artifacts_and_tags_mixed(pdf: Structure) -> list[str]:
    """01-003 and 01-004: an artifact inside tagged content, or tagged content inside an artifact."""
    found = []
    for number, _, painted in pdf.marked_content():
        for op, stack in painted:
            tags = [("artifact" if tag == "/Artifact" else "tagged" if mcid is not None else "") for tag, mcid in stack]
            tags = [t for t in tags if t]
            if len(set(tags)) > 1:
                found.append(f"page {number}: {op} in {' > '.join(tags)}")
    return found


def headings(pdf: Structure) -> list[int]:
    return [int(kind[1:]) for kind, _, _ in pdf.elements if re.fullmatch(r"H[1-6]", kind)]


def skipped_levels(levels: list[int]) -> list[str]:
    return [f"H{b} after H{a} (heading {i + 2})" for i, (a, b) in enumerate(zip(levels, levels[1:])) if b > a + 1]


def header_cells_without_scope(pdf: Structure) -> list[str]:
    """15-003: a TH without a Scope (WeasyPrint ties cells to headers with IDs as well; a TH with its Scope
    serves the readers that do not follow Headers)."""
    return [str(th.get("/ID")) for th in pdf.of("TH")
            if not (isinstance(th.get("/A"), Dictionary) and th.A.get("/Scope") in (Name.Row, Name.Column, Name.Both))]


def link_annotations(pdf: Structure) -> list[tuple[int, Dictionary]]:
    return [(number, annotation) for number, page in enumerate(pdf.pdf.pages, start=1)
            for annotation in page.obj.get("/Annots", []) if annotation.get("/Subtype") == Name.Link]


# ------------------------------------------------------------------------------------- tests

def test_01_005_all_content_is_tagged_or_an_artifact(pdf):
    """Running heads and page numbers are pagination artifacts, not marked content outside the tree."""
    untagged = untagged_content(pdf)
    assert not untagged, f"{len(untagged)} painted without a tag or artifact: {untagged[:5]}"


def test_01_003_and_01_004_artifacts_and_tagged_content_never_nest(pdf):
    assert not artifacts_and_tags_mixed(pdf)


def test_every_marked_content_belongs_to_an_element_in_the_tree(pdf):
    """The parent tree names no element the tree does not reach (WeasyPrint's margin boxes did)."""
    outside = [(key, i) for key, mapping in pdf.parents.items() if isinstance(mapping, Array)
               for i, element in enumerate(mapping) if isinstance(element, Dictionary) and element.objgen not in pdf.reached]
    assert not outside, f"{len(outside)} marked-content parents outside the tree"


def test_the_page_furniture_is_a_pagination_artifact_header_or_footer(pdf):
    """18-001 and 18-002 need a person's eye; what a program can see: every page but the cover has a header and
    a footer artifact (the running head and "Pagina n van m")."""
    for number, page in enumerate(pdf.pdf.pages, start=1):
        if number == 1:
            continue
        kinds = set()
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) == "BDC" and str(operands[0]) == "/Artifact" and isinstance(operands[1], Dictionary):
                kinds.add((str(operands[1].get("/Type")), str(operands[1].get("/Subtype"))))
        assert {("/Pagination", "/Header"), ("/Pagination", "/Footer")} <= kinds, (number, kinds)


def test_02_004_and_02_001_only_standard_structure_types(pdf):
    assert "/RoleMap" not in pdf.root
    assert {kind for kind, _, _ in pdf.elements} <= STANDARD_TYPES


def test_06_001_to_06_003_xmp_metadata_with_pdf_ua_identifier_and_title(pdf):
    xmp = pdf.pdf.Root.Metadata.read_bytes().decode("utf-8")
    assert 'pdfuaid:part="1"' in xmp or "<pdfuaid:part>1</pdfuaid:part>" in xmp
    title = re.search(r"<dc:title>.*?<rdf:li[^>]*>([^<]+)</rdf:li>", xmp, re.S)
    assert title and title.group(1).strip()


def test_07_001_and_07_002_the_title_is_shown_not_the_file_name(pdf):
    assert bool(pdf.pdf.Root.ViewerPreferences.DisplayDocTitle) is True


def test_09_004_table_elements_nest_as_iso_32000_table_337_says(pdf):
    allowed_in = {"TR": {"Table", "THead", "TBody", "TFoot"}, "TH": {"TR"}, "TD": {"TR"},
                  "THead": {"Table"}, "TBody": {"Table"}, "TFoot": {"Table"}}
    wrong = [(kind, parent) for kind, _, parent in pdf.elements if kind in allowed_in and parent not in allowed_in[kind]]
    assert not wrong, wrong[:5]
    for table in pdf.of("Table"):
        kids = [str(k.S)[1:] for k in _kids(table) if _is_element(k)]
        assert set(kids) <= {"Caption", "THead", "TBody", "TFoot", "TR"}, kids


def test_11_001_the_language_of_the_text_is_dutch(pdf):
    assert str(pdf.pdf.Root.Lang).lower().startswith("nl")


def test_13_004_every_figure_has_its_alternative_text(pdf):
    figures = pdf.of("Figure")
    assert figures and all(str(f.get("/Alt", "")).strip() for f in figures)


def test_14_002_the_first_heading_is_h1(pdf):
    assert headings(pdf)[0] == 1, headings(pdf)[:3]


def test_14_003_no_heading_level_is_skipped(pdf):
    levels = headings(pdf)
    assert len(levels) >= 20 and not skipped_levels(levels), skipped_levels(levels)[:5]


def test_15_003_every_table_header_cell_has_its_scope(pdf):
    missing = header_cells_without_scope(pdf)
    assert pdf.of("TH") and not missing, f"{len(missing)} of {len(pdf.of('TH'))} TH without Scope"


def test_the_scope_is_the_htmls_column_or_row(pdf, pdf_path):
    html = (pdf_path.parent / "report.html").read_text(encoding="utf-8")
    in_html = Counter(re.findall(r'<th\b[^>]*\bscope="(col|row)"', html))
    in_pdf = Counter(str(th.A.Scope) for th in pdf.of("TH"))
    assert in_html["row"] > 0
    assert in_pdf == Counter({"/Column": in_html["col"], "/Row": in_html["row"]})


def test_a_table_over_two_pages_is_one_table_with_its_caption(pdf, pdf_path):
    """WeasyPrint starts a Table again on each page; the PDF has one per HTML table, each with its caption,
    and every cell's Headers name header cells of its own table."""
    html = (pdf_path.parent / "report.html").read_text(encoding="utf-8")
    tables = pdf.of("Table")
    assert len(tables) == html.count("<table")
    assert all(any(_is_element(k) and k.S == Name.Caption for k in _kids(t)) for t in tables)
    split = [t for t in tables if len({str(e.get("/Pg").objgen) for e in _descendants(t) if "/Pg" in e}) > 1]
    assert split, "the embedded report has tables that run over a page"
    for table in tables:
        ids = {str(th.get("/ID")) for th in _descendants(table) if th.get("/S") == Name.TH}
        for td in (e for e in _descendants(table) if e.get("/S") == Name.TD):
            assert {str(h) for h in td.A.get("/Headers", [])} <= ids


def _descendants(element) -> list[Dictionary]:
    found = []
    for kid in _kids(element):
        if _is_element(kid):
            found.append(kid)
            found += _descendants(kid)
    return found


def test_28_011_every_link_annotation_is_in_a_link_element(pdf):
    links = {element.objgen for element in pdf.of("Link")}
    annotations = link_annotations(pdf)
    assert annotations
    for number, annotation in annotations:
        parent = pdf.parents.get(int(annotation.get("/StructParent", -1)))
        assert isinstance(parent, Dictionary) and parent.objgen in links, f"page {number}: {annotation.get('/Contents')}"


def test_28_012_every_link_annotation_is_described_in_words(pdf, pdf_path):
    """Its Contents is the text of the heading it leads to, not the target's id ("bijlage-1")."""
    html = (pdf_path.parent / "report.html").read_text(encoding="utf-8")
    heading_text = {m.group(2): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m.group(3))).strip()
                    for m in re.finditer(r'<(h[1-6]) id="([^"]+)"[^>]*>(.*?)</\1>', html, re.S)}
    for number, annotation in link_annotations(pdf):
        contents, target = str(annotation.get("/Contents", "")), annotation.get("/Dest")
        assert contents.strip(), f"page {number}: a link without Contents"
        if target is not None:
            assert contents != str(target), f"page {number}: described by its target's id {contents!r}"
            assert contents == heading_text[str(target)]


def test_28_008_and_28_009_pages_with_annotations_tab_in_structure_order(pdf):
    for page in pdf.pdf.pages:
        if "/Annots" in page.obj:
            assert page.obj.get("/Tabs") == Name.S


def test_a_long_table_is_one_table_and_the_scope_follows_the_cells_place_when_the_html_does_not_pair(tmp_path):
    """A table over three pages is one Table; a table the print style hides leaves the HTML's th without a
    PDF TH to pair with, and then the scope comes from where the cell stands (a header row's cells head
    columns, a header cell in a body row heads its row)."""
    from pipeline.publishing.render import render_pdf
    rows = "".join(f"<tr><th scope='row'>Rij {i}</th><td>{i}</td></tr>" for i in range(160))
    html = ("<!DOCTYPE html><html lang='nl'><head><title>Proef</title><style>@media print { .screen { display: none } }"
            "</style></head><body><h1 id='a'>Een</h1><table class='screen'><caption>Alleen op het scherm</caption>"
            "<thead><tr><th scope='col'>X</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
            "<table><caption>Lang</caption><thead><tr><th scope='col'>Rij</th><th scope='col'>Waarde</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><p><a href='#a'>terug</a></p></body></html>")
    pdf, pages = render_pdf(html, base=tmp_path)
    (tmp_path / "proef.pdf").write_bytes(pdf)
    structure = Structure(pikepdf.open(tmp_path / "proef.pdf"))
    assert pages >= 3 and len(structure.of("Table")) == 1
    scopes = Counter(str(th.A.Scope) for th in structure.of("TH"))
    assert scopes == Counter({"/Column": 2, "/Row": 160})
    assert not untagged_content(structure)
    assert [str(a.Contents) for _, a in link_annotations(structure)] == ["Een"]
    assert render_pdf(html, base=tmp_path)[0] == pdf
