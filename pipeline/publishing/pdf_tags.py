"""The PDF's tags finished after WeasyPrint, for what PDF/UA-1 asks and WeasyPrint does not write.

Takes the PDF WeasyPrint made of the report HTML, and that HTML; gives the same pages (not one mark
moves) with:
- every table header cell (TH) with its Scope, Column or Row, as the HTML's th says (scope="col" or "row");
- the running heads and page numbers (the page's margin boxes) marked as pagination artifacts, Header or
  Footer, where WeasyPrint leaves them as marked content whose structure elements hang outside the tree;
- a table that runs over a page one Table element: WeasyPrint starts a new Table, without its caption,
  on every page; its rows join the first one's, and the header row repeated on the next page becomes
  an artifact;
- every link annotation described in words (its Contents): the text of the heading it leads to, where
  WeasyPrint writes the target's id ("bijlage-1").
The result is byte-reproducible: the same input gives the same bytes.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pikepdf
from pikepdf import Array, Dictionary, Name

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A marked-content sequence of one structure element, as WeasyPrint begins it: "/Span <</MCID 12>> BDC".
MARKED_CONTENT = re.compile(rb"/[A-Za-z]+\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")


def finish(pdf_bytes: bytes, *, html: str) -> bytes:
    """The PDF `pdf_bytes` (WeasyPrint's, tagged) with its tags finished as the module docstring says;
    `html` is the report HTML it was printed from."""
    from_html = _read_html(html)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        tree = _Tree(pdf)
        furniture = tree.outside_the_tree()
        repeated = _join_continued_tables(tree)
        _scope_header_cells(tree, from_html.scopes)
        artifacts: dict[tuple[int, int], dict[int, Dictionary]] = {}
        for page, mcid, kind in furniture:
            artifacts.setdefault(page, {})[mcid] = kind
        for page, mcid in repeated:
            artifacts.setdefault(page, {})[mcid] = Dictionary(Type=Name.Pagination)
        _mark_artifacts(pdf, tree, artifacts)
        _describe_links(pdf, from_html.texts)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


# ------------------------------------------------------------------------------------------- HTML

@dataclass
class _Html:
    scopes: list[str] = field(default_factory=list)        # the scope of every th, in document order
    texts: dict[str, str] = field(default_factory=dict)    # id -> the text of the heading with that id


class _HtmlReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.open_heading, self.words = _Html(), None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "th":
            self.found.scopes.append(attrs.get("scope") or "col")
        if tag in HEADINGS and attrs.get("id") and self.open_heading is None:
            self.open_heading, self.words = (tag, attrs["id"]), []

    def handle_endtag(self, tag):
        if self.open_heading and tag == self.open_heading[0]:
            self.found.texts[self.open_heading[1]] = " ".join("".join(self.words).split())
            self.open_heading = None

    def handle_data(self, data):
        if self.open_heading:
            self.words.append(data)


def _read_html(html: str) -> _Html:
    reader = _HtmlReader()
    reader.feed(html)
    reader.close()
    return reader.found


# ------------------------------------------------------------------------------------------- tree

def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_element(node) -> bool:
    return isinstance(node, Dictionary) and "/S" in node


class _Tree:
    """The structure tree and its parent tree (which structure element each marked content belongs to)."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf, self.root = pdf, pdf.Root.StructTreeRoot
        nums = self.root.ParentTree.Nums
        self.parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        self.page_key = {page.objgen: int(page.obj.get("/StructParents", -1)) for page in pdf.pages}
        self.page_number = {page.objgen: number for number, page in enumerate(pdf.pages)}

    def page_of(self, element) -> int:
        page = element.get("/Pg")
        return self.page_number.get(page.objgen, -1) if page is not None else -1

    def elements(self) -> list:
        """Every structure element reachable from the root, in reading order."""
        found = []

        def walk(node):
            if _is_element(node):
                found.append(node)
                for kid in _kids(node):
                    walk(kid)
        for kid in _kids(self.root):
            walk(kid)
        return found

    def outside_the_tree(self) -> list[tuple[tuple[int, int], int, Dictionary]]:
        """The marked content whose structure element the tree does not reach (WeasyPrint's margin boxes):
        (page, MCID, artifact properties) with the artifact Header or Footer by where it stands."""
        reached = {element.objgen for element in self.elements()}
        found = []
        for page in self.pdf.pages:
            mapping = self.parents.get(self.page_key[page.objgen])
            if not isinstance(mapping, Array):
                continue
            orphans = {mcid for mcid, element in enumerate(mapping)
                       if isinstance(element, Dictionary) and element.objgen not in reached}
            if orphans:
                heights = _heights(page, orphans)
                half = float(page.mediabox[3] + page.mediabox[1]) / 2
                for mcid in sorted(orphans):
                    subtype = Name.Header if heights.get(mcid, half + 1) > half else Name.Footer
                    found.append((page.objgen, mcid, Dictionary(Type=Name.Pagination, Subtype=subtype)))
        return found

    def detach(self, element) -> None:
        """Take `element` out of its parent; a parent left empty goes too (never the document)."""
        parent = element.get("/P")
        if parent is None or not _is_element(parent):
            return
        parent.K = Array([kid for kid in _kids(parent) if not (_is_element(kid) and kid.objgen == element.objgen)])
        if not _kids(parent) and str(parent.S) != "/Document":
            self.detach(parent)


def _multiply(m, n):
    """The matrix m then n (PDF's row-vector convention), as six numbers."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _heights(page, mcids: set[int]) -> dict[int, float]:
    """How high on `page` (in PDF units from the bottom) the first text of each marked content in `mcids`
    starts."""
    ctm, stack, heights, open_mcid = (1, 0, 0, 1, 0, 0), [], {}, None
    for operands, operator in pikepdf.parse_content_stream(page, "q Q cm BDC Tm"):
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q" and stack:
            ctm = stack.pop()
        elif op == "cm":
            ctm = _multiply(tuple(float(x) for x in operands), ctm)
        elif op == "BDC" and isinstance(operands[1], Dictionary) and "/MCID" in operands[1]:
            mcid = int(operands[1].MCID)
            open_mcid = mcid if mcid in mcids and mcid not in heights else None
        elif op == "Tm" and open_mcid is not None:
            e, f = float(operands[4]), float(operands[5])
            heights[open_mcid] = ctm[1] * e + ctm[3] * f + ctm[5]
            open_mcid = None
    return heights


# ----------------------------------------------------------------------------------------- tables

def _header_cells(element) -> list:
    found = []

    def walk(node):
        if _is_element(node):
            if str(node.S) == "/TH":
                found.append(node)
            else:
                for kid in _kids(node):
                    walk(kid)
    walk(element)
    return found


def _marked_content(element) -> list[tuple[tuple[int, int], int]]:
    """(page, MCID) of every marked content under `element`."""
    found = []

    def walk(node, page):
        page = node.get("/Pg", page) if _is_element(node) else page
        for kid in _kids(node):
            if isinstance(kid, int):
                found.append((page.objgen, kid))
            elif _is_element(kid):
                walk(kid, page)
    walk(element, element.get("/Pg"))
    return found


def _join_continued_tables(tree: _Tree) -> list[tuple[tuple[int, int], int]]:
    """A Table element without a Caption that begins the page after the one where the table before it
    ends, with as many header cells, is the rest of that table (every table of the report has a caption,
    and WeasyPrint gives it only to the first part): its rows go into the first part's body, its cells'
    Headers point at the first part's header cells, and it leaves the tree. Gives the marked content of
    the header rows repeated on the continuation pages."""
    repeated, first, last_page, seen_on_page = [], None, -1, set()
    for table in [e for e in tree.elements() if str(e.S) == "/Table"]:
        kinds = [str(kid.S) for kid in _kids(table) if _is_element(kid)]
        page = tree.page_of(table)
        starts_page = page not in seen_on_page
        seen_on_page.add(page)
        if "/Caption" in kinds or first is None or not (starts_page and page == last_page + 1):
            first, last_page = table, page
            continue
        head = [kid for kid in _kids(table) if _is_element(kid) and str(kid.S) == "/THead"]
        first_head = [kid for kid in _kids(first) if _is_element(kid) and str(kid.S) == "/THead"]
        headers = [cell for part in head for cell in _header_cells(part)]
        first_headers = [cell for part in first_head for cell in _header_cells(part)]
        if len(headers) != len(first_headers):
            first, last_page = table, page      # not the same table after all: leave both as they are
            continue
        last_page = page
        renamed = {str(h.get("/ID")): first_h.get("/ID") for h, first_h in zip(headers, first_headers) if "/ID" in h}
        bodies = [kid for kid in _kids(first) if _is_element(kid) and str(kid.S) == "/TBody"]
        body = bodies[-1] if bodies else first
        rows = []
        for kid in _kids(table):
            if not _is_element(kid) or str(kid.S) == "/THead":
                continue
            rows += [row for row in _kids(kid) if _is_element(row)] if str(kid.S) == "/TBody" else [kid]
        for row in rows:
            row.P = body
            for cell in _kids(row):
                if _is_element(cell) and "/A" in cell and "/Headers" in cell.A:
                    cell.A.Headers = Array([renamed.get(str(h), h) for h in cell.A.Headers])
        body.K = Array(_kids(body) + rows)
        for part in head:
            repeated += _marked_content(part)
        tree.detach(table)
    return repeated


def _scope_header_cells(tree: _Tree, html_scopes: list[str]) -> None:
    """Scope on every TH: from the HTML's th, one to one in reading order; where the two do not pair up
    (a user's template that hides a table in print), from the cell's place: a header row's cells head
    columns, a header cell in a body row heads its row."""
    cells = [e for e in tree.elements() if str(e.S) == "/TH"]
    paired = len(cells) == len(html_scopes)
    for index, cell in enumerate(cells):
        if paired:
            row = html_scopes[index] == "row"
        else:
            row_parent = cell.get("/P")
            group = row_parent.get("/P") if row_parent is not None else None
            row = not (group is not None and str(group.get("/S")) == "/THead")
        attributes = cell.get("/A")
        if not isinstance(attributes, Dictionary):
            attributes = Dictionary(O=Name.Table)
        attributes = Dictionary({**{k: attributes[k] for k in attributes.keys()},
                                 "/Scope": Name.Row if row else Name.Column})
        cell.A = attributes


# -------------------------------------------------------------------------------------- artifacts

def _mark_artifacts(pdf: pikepdf.Pdf, tree: _Tree, artifacts: dict) -> None:
    """The marked content in `artifacts` ({page: {MCID: artifact properties}}) becomes an artifact in the
    page's content, and leaves the parent tree. Only the marked-content operators change: the rest of the
    page's content keeps its bytes."""
    for page in pdf.pages:
        wanted = artifacts.get(page.objgen)
        if not wanted:
            continue

        def artifact(match: re.Match) -> bytes:
            properties = wanted.get(int(match.group(1)))
            if properties is None:
                return match.group(0)
            return b"/Artifact " + properties.unparse() + b" BDC"
        content = page.obj.Contents
        streams = list(content) if isinstance(content, Array) else [content]
        for stream in streams:
            stream.write(MARKED_CONTENT.sub(artifact, stream.read_bytes()))
        mapping = tree.parents.get(tree.page_key[page.objgen])
        if isinstance(mapping, Array):
            for mcid in wanted:
                if mcid < len(mapping):
                    mapping[mcid] = None


# ------------------------------------------------------------------------------------------ links

def _describe_links(pdf: pikepdf.Pdf, headings: dict[str, str]) -> None:
    """Each link annotation to a heading says that heading's text in its Contents (an external link keeps
    its address)."""
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") != Name.Link:
                continue
            target = annotation.get("/Dest")
            if isinstance(target, pikepdf.String) and str(target) in headings:
                annotation.Contents = pikepdf.String(headings[str(target)])
            elif "/A" in annotation and "/URI" in annotation.A:
                annotation.Contents = pikepdf.String(re.sub(r"^mailto:", "", str(annotation.A.URI)))
