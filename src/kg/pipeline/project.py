"""Where the inputs (ontology/, data/, queries/) and the store live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProjectError

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig",
                ".jsonld": "json-ld", ".rdf": "xml", ".owl": "xml"}
SHAPES_FILE = "shapes.ttl"


@dataclass(frozen=True)
class Project:
    """A Workflow KG project: a folder holding ontology/, data/ and queries/."""

    root: Path
    store_dir: Path

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / SHAPES_FILE

    def ontology_files(self) -> list[Path]:
        """The ontology's RDF files, without the shapes."""
        return [p for p in rdf_files(self.ontology_dir) if p.name != SHAPES_FILE]

    def data_files(self) -> list[Path]:
        return rdf_files(self.data_dir)

    def input_files(self) -> list[Path]:
        """Everything a build reads: ontology, shapes and data."""
        return self.ontology_files() + [self.shapes_file] + self.data_files()

    def relative(self, path: Path) -> str:
        """A path as the user should see it: relative to the project root when inside it."""
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def rdf_files(folder: Path) -> list[Path]:
    """RDF files in a folder and below, sorted so builds are deterministic."""
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in RDF_SUFFIXES)


def _is_project(path: Path) -> bool:
    return (path / "ontology").is_dir() and (path / "data").is_dir()


def _bundled_root() -> Path:
    return Path(__file__).parent.parent / "_project"


def find_project(root: str | os.PathLike[str] | None = None,
                 store: str | os.PathLike[str] | None = None) -> Project:
    """Locate the project: `root`, else $KG_PROJECT, else the nearest folder at or above
    the current directory holding ontology/ and data/, else the copy installed with the
    package. The store is `store`, else $KG_STORE, else `.kg/` in the project (or in
    $XDG_DATA_HOME/workflow-kg for the installed copy)."""
    candidate = root or os.environ.get("KG_PROJECT")
    if candidate:
        path = Path(candidate).resolve()
        if not _is_project(path):
            raise ProjectError(f"{path} is not a Workflow KG project (no ontology/ and data/)")
    else:
        here = Path.cwd().resolve()
        path = next((p for p in [here, *here.parents] if _is_project(p)), None)
        if path is None:
            path = _bundled_root()
            if not _is_project(path):
                raise ProjectError(
                    "no Workflow KG project here: run inside a checkout or set KG_PROJECT")
    store_path = store or os.environ.get("KG_STORE")
    if store_path:
        store_dir = Path(store_path).resolve()
    elif path == _bundled_root():
        data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        store_dir = Path(data_home) / "workflow-kg"
    else:
        store_dir = path / ".kg"
    return Project(root=path, store_dir=store_dir)
