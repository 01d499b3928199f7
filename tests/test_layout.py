"""The package's layout as its subpackages' docstrings state it: imports only point down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kg

PACKAGE = Path(kg.__file__).parent
BASE = {"errors", "namespaces", "_version"}
TOP = {"__init__", "__main__", "graph", "cli", "workers"}
# What each part may import besides itself (the diagram in the README).
ALLOWED = {
    "base": set(),
    "query": {"base"},
    "pipeline": {"base", "query"},
    "evidence": {"base", "query", "pipeline"},
    "paper": {"base", "query", "pipeline", "evidence"},
    "pages": {"base", "query", "pipeline", "evidence", "paper"},
    "lab": {"base", "query", "pipeline"},
}


def part_of(module: str) -> str:
    """'kg.paper.cite' -> 'paper'; 'kg.errors' -> 'base'; 'kg.graph' -> 'top'."""
    names = module.split(".")[1:]
    if not names:
        return "top"
    if names[0] in BASE:
        return "base"
    if names[0] in TOP:
        return "top"
    return names[0]


def imports_of(path: Path, text: str | None = None) -> set[str]:
    """The kg modules a file (or `text` placed at that path) imports, as absolute names."""
    here = ["kg", *path.relative_to(PACKAGE).with_suffix("").parts]
    found = set()
    source = path.read_text(encoding="utf-8") if text is None else text
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(here[:-node.level] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from kg.pages import render` imports the module kg.pages.render
            package = PACKAGE.joinpath(*target.split(".")[1:])
            is_package = (package / "__init__.py").is_file()
            targets = [f"{target}.{a.name}" for a in node.names] if is_package else [target]
            found.update(t for t in targets if t.startswith("kg."))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("kg."))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "_project" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    module = "kg." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    part = part_of(module)
    if part == "top":
        return  # the API, the CLI and the worker pool sit above every part
    wrong = sorted(t for t in imports_of(path)
                   if part_of(t) != part and part_of(t) not in ALLOWED[part])
    assert not wrong, f"{module} ({part}) imports upwards or sideways: {wrong}"


def test_every_subpackage_says_what_it_owns_and_may_import():
    for folder in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        if folder.name == "_project":
            continue
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
        assert doc and "Imports" in doc, f"kg.{folder.name} has no docstring naming its imports"
        assert folder.name in ALLOWED or folder.name in TOP, \
            f"kg.{folder.name} is not in the layout's table"


def test_the_checker_resolves_relative_imports(tmp_path):
    # What the checker is for: `from ..pages import render` inside kg/pipeline/ is the
    # upward import kg.pages.render, which the pipeline may not make.
    module = PACKAGE / "pipeline" / "_layout_probe.py"
    found = imports_of(module, text="from ..pages import render\nfrom .store import x\n")
    assert found == {"kg.pages.render", "kg.pipeline.store"}
    assert sorted(t for t in found if part_of(t) not in ALLOWED["pipeline"] | {"pipeline"}) \
        == ["kg.pages.render"]
