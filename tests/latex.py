"""Compiling LaTeX for real in the tests, and reading the verdict from the logs: errors
(lines starting with "!"), BibTeX and biber warnings, LaTeX warnings about citations,
references and floats too large for the page, and overfull boxes wider than 1 pt."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_OVERFULL = re.compile(r"^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)", re.M)
# what LaTeX, natbib and biblatex write when another run would change the document (a run
# that still says so is a verdict's warning)
_RERUN = ("Rerun to get", "Please rerun LaTeX")
_LATEX_WARNING = re.compile(r"^(?:LaTeX|Package natbib|Package biblatex) Warning: .*?(?=\n\n|\Z)",
                            re.M | re.S)


@dataclass
class Verdict:
    """What the logs of one compilation say."""

    errors: list[str] = field(default_factory=list)
    bib_warnings: list[str] = field(default_factory=list)
    latex_warnings: list[str] = field(default_factory=list)  # citations, references, rerun
    overfull: list[float] = field(default_factory=list)  # widths in pt, all of them
    pdf: Path | None = None

    @property
    def wide_overfull(self) -> list[float]:
        return [w for w in self.overfull if w > 1.0]

    def assert_clean(self) -> None:
        assert not self.errors, self.errors[:5]
        assert not self.bib_warnings, self.bib_warnings[:5]
        assert not self.latex_warnings, self.latex_warnings[:5]
        assert not self.wide_overfull, self.wide_overfull
        assert self.pdf is not None and self.pdf.read_bytes()[:5] == b"%PDF-"


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (make test installs TeX Live)")


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          errors="replace")


def compile_latex(folder: Path, main: str, *, engine: str = "pdflatex",
                  bib: str = "bibtex") -> Verdict:
    """engine (pdflatex, xelatex) + bib (bibtex, biber) + engine again as long as it asks
    for another run (at most four times), as latexmk would; the verdict from the last
    LaTeX log and the bibliography tool's own log."""
    verdict = Verdict()
    latex = [engine, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main]
    first = _run(latex, folder)
    log = (folder / f"{main}.log").read_text(errors="replace")
    if first.returncode != 0:
        verdict.errors = [line for line in log.splitlines() if line.startswith("!")
                          or re.match(r"^\S+:\d+: ", line)] or [first.stdout[-2000:]]
        return verdict
    tool = _run([bib, main], folder)
    blg = (folder / f"{main}.blg").read_text(errors="replace")
    if bib == "bibtex":
        verdict.bib_warnings = re.findall(r"^Warning--.*$", blg, re.M)
        verdict.errors += [m for m in re.findall(r"^.*(?:error message|I couldn't|I found no).*$",
                                                 blg, re.M)]
    else:
        verdict.bib_warnings = re.findall(r"^WARN - .*$", blg, re.M)
        verdict.errors += re.findall(r"^ERROR - .*$", blg, re.M)
    if tool.returncode != 0 and not verdict.errors:
        verdict.errors.append(f"{bib} exited {tool.returncode}: {tool.stdout[-1000:]}")
    run = _run(latex, folder)
    log = (folder / f"{main}.log").read_text(errors="replace")
    for _ in range(3):  # again while LaTeX asks, as docs/paper/Makefile and latexmk do
        if not any(ask in log for ask in _RERUN) or run.returncode != 0:
            break
        run = _run(latex, folder)
        log = (folder / f"{main}.log").read_text(errors="replace")
    verdict.errors += [line for line in log.splitlines() if line.startswith("!")]
    if run.returncode != 0 and not verdict.errors:
        verdict.errors.append(f"{engine} exited {run.returncode}")
    verdict.latex_warnings = [w for w in _LATEX_WARNING.findall(log)
                              if re.search(r"undefined|Rerun|rerun|empty|Empty|Float too large", w)]
    verdict.overfull = [float(w) for w in _OVERFULL.findall(log)]
    pdf = folder / f"{main}.pdf"
    verdict.pdf = pdf if pdf.exists() else None
    return verdict
