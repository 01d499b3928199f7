"""Store versions: every build and every accepted update publishes a new store, and old
ones are kept by number, age and size (kg.pipeline.store.StoreLayout.clean); the version before a
confirmed large removal is pinned, kept until removed by hand. `kg history` lists them
with what made each one; `kg rollback` makes a kept version live again, atomically (the
same symlink swap as a build). The PROV record of each update is also in the store itself,
in the graph <https://w3id.org/workflow-kg/graph/history>."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import StoreNotBuilt, VersionNotFound
from .project import Project
from .store import StoreLayout


@dataclass(frozen=True)
class Version:
    """One kept store version: what made it (a build or an update) and when."""

    name: str
    kind: str  # "build" or "update"
    created: str  # ISO 8601, UTC
    live: bool
    triples: int
    agent: str | None = None  # the update token's name
    added: int | None = None
    removed: int | None = None
    what: str | None = None  # the update's text (shortened)
    previous: str | None = None  # the version the update was applied to
    pinned: bool = False  # kept until removed by hand (the version before a large removal)

    def to_dict(self) -> dict:
        return asdict(self)


def _version(path: Path, live: Path | None) -> Version:
    info_file = path.with_suffix(".json")
    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    kind = info.get("kind", "build")
    stamp = info.get("updated_at" if kind == "update" else "built_at", path.stat().st_mtime)
    created = datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
    return Version(path.name, kind, created, path == live, sum(info.get("graphs", {}).values()),
                   info.get("agent"), info.get("added"), info.get("removed"),
                   info.get("what"), info.get("previous"), bool(info.get("pinned")))


def versions(project: Project) -> list[Version]:
    """The kept store versions, newest first."""
    layout = StoreLayout(project.store_dir)
    live = layout.live()
    return [_version(p, live) for p in reversed(layout.versions())]


def rollback(project: Project, version: str | None = None) -> Version:
    """Make a kept version live again: `version` is its name (or a unique start of it);
    None means the version before the live one (the one its update was applied to)."""
    layout = StoreLayout(project.store_dir)
    with layout.locked():
        live = layout.live()
        if live is None:
            raise StoreNotBuilt(f"no store in {project.store_dir}: run `kg build` first")
        kept = layout.versions()
        names = [p.name for p in kept]
        if version is None:
            previous = _version(live, live).previous
            older = [n for n in names if n < live.name]
            version = previous if previous in names else (older[-1] if older else None)
            if version is None:
                raise VersionNotFound("no version older than the live one is kept")
        matches = [p for p in kept if p.name == version] or \
                  [p for p in kept if p.name.startswith(version)]
        if len(matches) != 1:
            listed = ", ".join(reversed(names)) or "none"
            what = "matches several" if matches else "is not"
            raise VersionNotFound(f"{version!r} {what} a kept version (kept: {listed})")
        layout.activate(matches[0])
        return _version(matches[0], matches[0])
