"""The package's layering: which subpackage may import which, no import circles, no hidden imports.

LAYERS is the one list of allowed edges between subpackages: a module imports its own subpackage and the
ones listed for it, all lower in the list. Function-local imports count like any other (a circle hidden in
a function is still a circle); the only modules that may import pipeline modules inside functions are the
package's root (its lazy run_pipeline and load_config), the command line and the preview, which import a
command's modules when that command runs so that `python -m pipeline --help` stays quick."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

LAYERS = {
    "language": set(),
    "core": {"language"},
    "reading": {"language", "core"},
    "coding": {"language", "core"},
    "waves": {"language", "core"},
    "analysis": {"language", "core", "coding", "waves"},
    "publishing": {"language", "core", "coding", "waves", "analysis"},
    "app": {"language", "core", "reading", "coding", "waves", "analysis", "publishing"},
}
LOCAL_IMPORTS_ALLOWED = {"pipeline", "pipeline.app.cli", "pipeline.app.preview"}


def modules_of(package: Path) -> dict[str, Path]:
    """Every module of the package under `package` (a folder named pipeline), by dotted name."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(package: Path) -> list[tuple[str, str, int, bool]]:
    """(importer, imported module, line, inside a function or class) for every import of a package module."""
    modules = modules_of(package)
    root = package.name
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from pipeline.waves import output_folder` imports the module pipeline.waves.output_folder
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            for target in targets:
                if (target == root or target.startswith(root + ".")) and target != name:
                    found.append((name, target, node.lineno, id(node) not in top))
    return found


def _subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else None


def layering_problems(package: Path) -> list[str]:
    """Every edge against LAYERS, every function-local import outside LOCAL_IMPORTS_ALLOWED and every circle."""
    problems, graph = [], {}
    for importer, imported, line, local in imports_of(package):
        where = f"{importer} (line {line}) imports {imported}"
        if local and importer not in LOCAL_IMPORTS_ALLOWED:
            problems.append(f"{where} inside a function")
        upper, lower = _subpackage(importer), _subpackage(imported)
        if upper and lower and upper != lower and lower not in LAYERS.get(upper, set()):
            problems.append(f"{where}: {upper} may not import {lower}")
        if upper and upper not in LAYERS:
            problems.append(f"{importer}: subpackage {upper} is not in LAYERS")
        # The root's imports are its lazy attributes only; every module may read its __version__.
        if importer != package.name:
            graph.setdefault(importer, set()).add(imported)
    problems += [f"import circle: {' -> '.join(circle)}" for circle in circles(graph)]
    return problems


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path around each circle of the graph (depth-first search, back edges)."""
    found, state, path = [], {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_package_keeps_its_layers_and_has_no_circles():
    assert layering_problems(ROOT / "pipeline") == []


def test_every_subpackage_is_a_layer_and_says_what_it_owns():
    folders = {p.name for p in (ROOT / "pipeline").iterdir() if (p / "__init__.py").exists()}
    assert folders == set(LAYERS)
    for name in folders:
        assert ast.get_docstring(ast.parse((ROOT / "pipeline" / name / "__init__.py").read_text(encoding="utf-8")))


def test_every_stage_of_the_table_is_a_module_with_run():
    import importlib
    from pipeline.app.stages import STAGES
    for stage in STAGES:
        assert callable(getattr(importlib.import_module(stage.module), "run", None)), stage.name
        assert stage.module.replace(".", "/").removeprefix("pipeline/") == stage.modules[0], stage.name


def _package(folder: Path, files: dict[str, str]) -> Path:
    for name, text in {"pipeline/__init__.py": "", **files}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    return folder / "pipeline"


@pytest.mark.parametrize("files, expected", [
    ({"pipeline/core/a.py": "from pipeline.core.b import x\n", "pipeline/core/b.py": "from pipeline.core.a import y\n"},
     "import circle: pipeline.core.a -> pipeline.core.b -> pipeline.core.a"),
    ({"pipeline/core/a.py": "def f():\n    from pipeline.core.b import x\n", "pipeline/core/b.py": "import pipeline.core.a\n"},
     "inside a function"),
    ({"pipeline/core/a.py": "from pipeline.reading import c\n", "pipeline/reading/c.py": ""},
     "core may not import reading"),
    ({"pipeline/extra/a.py": "from pipeline.core import b\n", "pipeline/core/b.py": ""},
     "subpackage extra is not in LAYERS"),
])
def test_the_check_finds_a_circle_an_upward_import_and_a_hidden_one(tmp_path, files, expected):
    problems = layering_problems(_package(tmp_path, files))
    assert any(expected in problem for problem in problems), problems
