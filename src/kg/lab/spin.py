"""Checking Promela models with SPIN: compile the verifier, run it, parse its report.

Each check is one verifier run: a safety run (assertions and invalid end states, the
never claims compiled out) or one LTL claim (`-a -N name`, with `-f` for weak fairness).
An error leaves a trail file, which SPIN replays into a readable counterexample.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ToolError
from .runs import require, run_tool

SPIN_PACKAGE = "spin"
CC_PACKAGE = "gcc"
PAN_OPTIONS = ("-m100000", "-w19", "-n")   # depth bound, hash table 2^19 slots, no unreached

_VERSION = re.compile(r"Spin Version (\S+)")
_SUMMARY = re.compile(r"State-vector \d+ byte, depth reached (\d+), errors: (\d+)")
_STORED = re.compile(r"^\s*(\d+) states, stored", re.M)
_TRANSITIONS = re.compile(r"^\s*(\d+) transitions \(= (?:stored|visited)\+matched\)", re.M)
_MEMORY = re.compile(r"^\s*([\d.]+)\s+total actual memory usage", re.M)
_TRUNCATED = ("max search depth too small", "Search not completed", "out of memory")


@dataclass(frozen=True)
class SpinCheck:
    """One verifier run over a Promela file."""

    ltl: str | None = None          # the claim's name; None: safety run without claims
    fairness: bool = False
    defines: tuple[str, ...] = ()   # preprocessor macros, e.g. SEEDED_BUG
    invariant: bool = False         # the claim is `[] p`: breadth-first, shortest trail

    @property
    def cc_args(self) -> tuple[str, ...]:
        if self.ltl is None:
            return ("-DNOCLAIM",)
        return ("-DBFS",) if self.invariant else ()

    @property
    def pan_args(self) -> tuple[str, ...]:
        if self.ltl is None:
            return PAN_OPTIONS
        if self.invariant:
            return ("-N", self.ltl, *PAN_OPTIONS)
        return ("-a", *(("-f",) if self.fairness else ()), "-N", self.ltl, *PAN_OPTIONS)

    def command(self, model: str) -> str:
        """The shell command that reproduces this run, from the repository root."""
        defines = "".join(f" -D{d}" for d in self.defines)
        return (f"spin -a{defines} {model} && cc -w {' '.join(self.cc_args)} "
                f"-o pan pan.c && ./pan {' '.join(self.pan_args)}").replace("  ", " ")


@dataclass(frozen=True)
class SpinResult:
    errors: int
    states: int
    transitions: int
    depth: int
    memory_mb: float
    output: str
    trail: str | None = None            # the trail file's text
    trail_steps: int | None = None      # the counterexample's length, in steps
    replay: str | None = None           # the counterexample as SPIN replays it


def is_invariant(formula: str) -> bool:
    """Whether an LTL formula is `[] p` with p free of temporal operators: a safety
    property whose shortest counterexample a breadth-first search finds. Anything else is
    searched depth-first for acceptance cycles, which is complete for all of LTL."""
    body = formula.strip()
    if not body.startswith("[]"):
        return False
    rest = body[2:]
    return not ("[]" in rest or "<>" in rest or re.search(r"\b[UVWX]\b", rest))


def spin_version() -> str:
    require("spin", SPIN_PACKAGE)
    out = run_tool(["spin", "-V"], cwd=Path.cwd())
    found = _VERSION.search(out.stdout)
    if not found:
        raise ToolError(f"cannot read SPIN's version from 'spin -V': {out.stdout.strip()!r}")
    return found.group(1)


def parse_pan(output: str) -> SpinResult:
    """The figures of a verifier report; a ToolError when the report is not one."""
    summary = _SUMMARY.search(output)
    stored, transitions, memory = (_STORED.search(output), _TRANSITIONS.search(output),
                                   _MEMORY.search(output))
    if not (summary and stored and transitions and memory):
        head = " | ".join(output.strip().splitlines()[:3]) or "(no output)"
        raise ToolError(f"cannot parse the SPIN verifier's report: {head}")
    errors = int(summary.group(2))
    if errors == 0:
        for sign in _TRUNCATED:
            if sign in output:
                raise ToolError(f"the SPIN search was not exhaustive ({sign}); "
                                "no result is recorded")
    return SpinResult(errors=errors, states=int(stored.group(1)),
                      transitions=int(transitions.group(1)), depth=int(summary.group(1)),
                      memory_mb=float(memory.group(1)), output=output)


def trail_steps(trail: str) -> int:
    """Steps of a trail file: lines 'step:process:transition' with a step >= 0 (negative
    lines mark the claim's process and the start of a cycle)."""
    steps = 0
    for line in trail.splitlines():
        head = line.split(":", 1)[0].strip()
        if head.lstrip("-").isdigit() and int(head) >= 0:
            steps += 1
    return steps


def _replay(lines: str) -> str:
    """The replay's steps only: one line per executed statement."""
    keep = [line.strip() for line in lines.splitlines()
            if re.match(r"\s*\d+:\s+proc\s", line) or "assertion violated" in line
            or "<<<<<START OF CYCLE>>>>>" in line]
    return "\n".join(keep)


def run_checks(model: Path, specs: Sequence[SpinCheck], *, timeout: float = 600,
               progress: Callable[[int, SpinResult], None] | None = None) -> list[SpinResult]:
    """Run each check in one scratch folder, compiling each distinct verifier once."""
    require("spin", SPIN_PACKAGE)
    cc = require("cc", CC_PACKAGE)
    results = []
    with tempfile.TemporaryDirectory(prefix="kg-spin-") as scratch:
        work = Path(scratch)
        shutil.copy(model, work / model.name)
        verifiers: dict[tuple, str] = {}
        for index, spec in enumerate(specs):
            key = (spec.defines, spec.cc_args)
            if key not in verifiers:
                verifiers[key] = _compile(work, model.name, spec, cc, len(verifiers), timeout)
            results.append(_verify(work, model.name, spec, verifiers[key], timeout))
            if progress:
                progress(index, results[-1])
    return results


def _compile(work: Path, name: str, spec: SpinCheck, cc: str, n: int, timeout: float) -> str:
    (work / "pan.c").unlink(missing_ok=True)
    run_tool(["spin", "-a", *(f"-D{d}" for d in spec.defines), name], cwd=work,
             timeout=timeout)
    if not (work / "pan.c").exists():
        raise ToolError(f"'spin -a {name}' wrote no pan.c")
    binary = f"pan{n}"
    run_tool([cc, "-w", *spec.cc_args, "-o", binary, "pan.c"], cwd=work,
             timeout=timeout)
    return binary


def _verify(work: Path, name: str, spec: SpinCheck, binary: str, timeout: float
            ) -> SpinResult:
    trail_file = work / f"{name}.trail"
    trail_file.unlink(missing_ok=True)
    out = run_tool([f"./{binary}", *spec.pan_args], cwd=work, timeout=timeout)
    result = parse_pan(out.stdout)
    if result.errors == 0:
        return result
    if not trail_file.exists():
        raise ToolError(f"the SPIN verifier reported {result.errors} error(s) "
                        "but wrote no trail file")
    trail = trail_file.read_text()
    replay = run_tool(["spin", "-t", "-p", *(f"-D{d}" for d in spec.defines), name],
                      cwd=work, timeout=timeout)
    return replace(result, trail=trail, trail_steps=trail_steps(trail),
                   replay=_replay(replay.stdout))
