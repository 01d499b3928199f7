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
_LOCK = threading.RLock()  # reentrant: one cached value may be made from another


def version_key(store) -> str:
    """Identifies one version of a store: its folder (embedded) or its build record."""
    path = getattr(store, "path", None)
    if path is not None:
        return f"embedded:{path}"
    return f"{type(store).__name__}:{json.dumps(store.info, sort_keys=True, default=str)}"


def per_version(store, name: str, make: Callable[[], T]) -> T:
    """What `make` computes from this version of the store, computed on first use and
    then kept: a store only changes at a build or an update, and either publishes a new
    version. `name` tells apart the kinds of value (catalogue, layout, ...)."""
    key = (version_key(store), name)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = make()
            while len(_CACHE) > _KEEP:
                _CACHE.popitem(last=False)
        _CACHE.move_to_end(key)
        return _CACHE[key]  # type: ignore[return-value]


__all__ = ["per_version", "version_key"]
