"""One version of a store, and what is computed from it once: a store only changes at a
build or an authorised update, and either publishes a new version, so a value computed
from one version (its catalogue, its names, a graph layout) is kept until it falls out
of a small cache, and never goes stale.

>>> per_version(store, "names", lambda: read_names(store))         # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_CACHE: OrderedDict[tuple[str, str], object] = OrderedDict()
_KEEP = 16  # values kept: a few kinds for a few store versions (a process may serve several)
_LOCK = threading.Lock()  # guards _CACHE and _MAKING; never held while a value is made
_MAKING: dict[tuple[str, str], threading.Lock] = {}  # one lock per value being made


def version_key(store) -> str:
    """Identifies one version of a store: its folder (embedded); for a remote store, its
    version probe (kg.pipeline.remote.RemoteStore.version), else its build record."""
    path = getattr(store, "path", None)
    if path is not None:
        return f"embedded:{path}"
    probe = getattr(store, "version", None)
    version = (probe() if probe is not None else "") or json.dumps(
        store.info, sort_keys=True, default=str)
    return f"{type(store).__name__}:{version}"


def _kept(key: tuple[str, str]) -> tuple[bool, object]:
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return True, _CACHE[key]
        return False, None


def per_version(store, name: str, make: Callable[[], T]) -> T:
    """What `make` computes from this version of the store, computed on first use and
    then kept: a store only changes at a build or an update, and either publishes a new
    version. `name` tells apart the kinds of value (catalogue, layout, ...). Only the
    callers that need the same value wait while it is made; no other value waits (one
    value may be made from another)."""
    key = (version_key(store), name)
    found, value = _kept(key)
    if found:
        return value  # type: ignore[return-value]
    with _LOCK:
        making = _MAKING.setdefault(key, threading.Lock())
    with making:
        found, value = _kept(key)  # made by the caller we waited for
        if found:
            return value  # type: ignore[return-value]
        value = make()
        with _LOCK:
            _CACHE[key] = value
            _MAKING.pop(key, None)
            while len(_CACHE) > _KEEP:
                _CACHE.popitem(last=False)
        return value


def ready(store, name: str) -> bool:
    """Whether this version's value `name` is made already (no waiting)."""
    return _kept((version_key(store), name))[0]


def in_background(store, name: str, make: Callable[[], object]) -> None:
    """Make this version's value `name` in a thread of its own unless it is made or
    being made: for values a page can do without until they are ready."""
    key = (version_key(store), name)
    with _LOCK:
        if key in _CACHE or key in _MAKING:
            return
    threading.Thread(target=per_version, args=(store, name, make), daemon=True,
                     name=f"kg-{name}").start()


__all__ = ["in_background", "per_version", "ready", "version_key"]
