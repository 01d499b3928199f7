"""Values kept per store version: a value being made holds up only the callers that need
that value, never another page's (the whole graph's layout used to stop every page)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from kg.query.versions import in_background, per_version, ready


def test_a_value_being_made_does_not_hold_up_another(tmp_path):
    store = SimpleNamespace(path=tmp_path / "v1")
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append("slow")
        started.set()
        release.wait(60)
        return "layout"

    first = threading.Thread(target=per_version, args=(store, "slow", slow))
    second = threading.Thread(target=per_version, args=(store, "slow", slow))
    first.start()
    assert started.wait(60)
    second.start()  # the same value: waits for the first caller, does not make it again
    # another value of the same version is made and returned while "slow" is not done
    assert per_version(store, "fast", lambda: "catalogue") == "catalogue"
    assert not release.is_set() and first.is_alive()
    assert not ready(store, "slow")
    release.set()
    first.join(60)
    second.join(60)
    assert calls == ["slow"]
    assert ready(store, "slow") and per_version(store, "slow", lambda: "again") == "layout"


def test_a_background_value_is_made_once_and_then_ready(tmp_path):
    store = SimpleNamespace(path=tmp_path / "v2")
    done = threading.Event()
    calls = []

    def make():
        calls.append(1)
        done.set()
        return 42

    in_background(store, "layout", make)
    assert done.wait(60)
    assert per_version(store, "layout", lambda: 0) == 42  # waits for the thread, if need be
    in_background(store, "layout", make)
    assert calls == [1] and ready(store, "layout")
