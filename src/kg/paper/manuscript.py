"""A paper as the graph sees it: the citation keys a LaTeX or Pandoc Markdown manuscript
uses and the sentences that cite them; one bibliography with exactly those sources
(`kg paper bib`), and a check of what the paper cites against the evidence (`kg paper
check`).

What is read: in LaTeX, every `\\cite`-like command of natbib and biblatex (`\\cite`,
`\\citep`, `\\citet`, `\\parencite`, `\\textcite`, `\\autocite`, `\\cites`, `\\nocite`,
starred and capitalised forms, with optional arguments), in the file and in the files it
`\\input`s or `\\include`s, comments left out; in Markdown, Pandoc's `[@key]`, `@key` and
`[-@key]` (`@{key}` too), code left out. The citing sentence is the text from the end of
the previous sentence (`.`, `?`, `!`, `。`, a blank line, a table row's end) to the end of
this one.

What the check matches: the keys against the graph's `wf:citationKey`s, and the English
and Chinese labels (`rdfs:label`, `skos:altLabel`) of entities in the citing sentence,
case-insensitively and as whole words (CJK labels as substrings). What it cannot know: what
a sentence asserts. It reports the statements a cited source is evidence for, and it warns
when a sentence names both entities of a Contradicted statement, when it cites a source
that the graph records as contradicting a statement whose object the sentence names (or,
for a fact that is not one triple, whose label it contains), or a source whose every
statement is Unverified or Contradicted; a sentence that marks the contradiction itself (the tables'
mark ✗ or $^{\\times}$, or words such as "contradict", "not", "no longer", "不", "反驳")
gets a note instead of a warning. A sentence that paraphrases an entity with words that
are not among its labels is not recognised.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..errors import KgError
from ..evidence.catalogue import labels as english_labels
from ..namespaces import shorten
from . import cite

_LATEX_CITE = re.compile(r"\\([A-Za-z]*cite[A-Za-z]*)\*?")
_OPTIONAL = re.compile(r"\s*\[[^\]]*\]")
_GROUP = re.compile(r"\s*\{([^{}]*)\}")
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{([^{}]+)\}")
_COMMENT = re.compile(r"(?<!\\)%.*$", re.M)
_MD_KEY = re.compile(r"(?<![\w@.])-?@(?:\{([^{}]+)\}|([\w][\w:.#$%&+?<>~/-]*[\w]|[\w]))")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\\[(\"“])|[。！？]|\n\s*\n|\\\\|\n\|")
_CJK = re.compile(r"[\u3400-\u9fff]")
MARKS_CONTRADICTION = re.compile(
    r"✗|\\times|contradict|disput|\bnot\b|n't\b|\bno longer\b|\bnever\b|\binstead\b"
    r"|不|反驳|矛盾|并非|没有", re.I)
# A sentence or table row that marks its claim as unverified (`kg report table` puts a
# dagger on such a row), so citing evidence that only reaches unverified facts is said;
# "not verified" and the like are already marks of MARKS_CONTRADICTION, which count too.
MARKS_UNVERIFIED = re.compile(r"†|\\dagger|unverified|未经证实|未证实|未验证", re.I)


class PaperError(KgError):
    """A manuscript cannot be read (missing file, unknown format)."""


@dataclass(frozen=True)
class Citation:
    """One key cited at one place of a manuscript."""

    key: str
    file: str
    line: int
    sentence: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end]."""
    before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    after = _SENTENCE_END.search(text, end)
    chunk = text[before[-1] if before else 0:after.start() if after else len(text)]
    return " ".join(chunk.split())


def _blank_out(text: str, pattern: re.Pattern) -> str:
    """Text with the matches of `pattern` replaced by spaces (lines and offsets kept)."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _latex(path: Path, seen: set[Path], root: Path) -> list[Citation]:
    if path in seen:
        return []
    seen.add(path)
    try:
        text = _blank_out(path.read_text(encoding="utf-8"), _COMMENT)
    except OSError as err:
        raise PaperError(f"cannot read {path}: {err.strerror}") from err
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    found: list[Citation] = []
    for match in _LATEX_CITE.finditer(text):
        pos = match.end()
        groups = []
        while True:
            optional = _OPTIONAL.match(text, pos)
            if optional:
                pos = optional.end()
                continue
            group = _GROUP.match(text, pos)
            if not group:
                break
            groups.append(group.group(1))
            pos = group.end()
            if not match.group(1).endswith("s"):  # \cites{a}{b}: several groups
                break
        sentence = _sentence(text, match.start(), pos)
        for group in groups:
            for key in (k.strip() for k in group.split(",")):
                if key:
                    found.append(Citation(key, name, _line(text, match.start()), sentence))
    for include in _INPUT.finditer(text):
        child = (path.parent / include.group(1).strip())
        if not child.suffix:
            child = child.with_suffix(".tex")
        if child.exists():
            found += _latex(child.resolve(), seen, root)
        else:
            raise PaperError(f"{name}:{_line(text, include.start())}: \\input file "
                             f"{include.group(1)} not found")
    return found


def _markdown(path: Path) -> list[Citation]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PaperError(f"cannot read {path}: {err.strerror}") from err
    text = _blank_out(_blank_out(text, _FENCE), _INLINE_CODE)
    found = []
    for match in _MD_KEY.finditer(text):
        key = (match.group(1) or match.group(2)).strip()
        found.append(Citation(key, path.name, _line(text, match.start()),
                              _sentence(text, match.start(), match.end())))
    return found


def citations(paper: str | Path) -> list[Citation]:
    """Every citation of a manuscript (.tex with its \\input files, or .md), in order."""
    path = Path(paper)
    if not path.is_file():
        raise PaperError(f"no such file: {paper}")
    if path.suffix == ".tex":
        return _latex(path.resolve(), set(), path.resolve().parent)
    if path.suffix in (".md", ".markdown"):
        return _markdown(path)
    raise PaperError(f"{paper}: a paper is a .tex (LaTeX) or .md (Pandoc Markdown) file")


Papers = str | Path | Sequence[str | Path]


def _all(papers: Papers) -> list[Citation]:
    """The citations of one manuscript or of several files read in order (a Pandoc
    paper assembled from parts)."""
    if isinstance(papers, str | Path):
        papers = [papers]
    return [c for paper in papers for c in citations(paper)]


def keys(papers: Papers) -> list[str]:
    """The distinct keys a manuscript cites, in order of first use (`*` of \\nocite{*}
    left out)."""
    return list(dict.fromkeys(c.key for c in _all(papers) if c.key != "*"))


# --------------------------------------------------------------------- one bibliography

class UnknownKeys(KgError):
    """A manuscript cites keys that the graph does not have."""

    def __init__(self, unknown: dict[str, list[str]]):
        self.unknown = unknown
        parts = [f"{k}" + (f" (did you mean {', '.join(s)}?)" if s else "")
                 for k, s in unknown.items()]
        super().__init__(f"{len(unknown)} key(s) not in the graph: " + "; ".join(parts))


def _suggest(key: str, known: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)


def bibliography(graph, paper: Papers) -> list[cite.Entry]:
    """The entries of exactly the keys a manuscript cites, each with every relation the
    graph records for its source (one bibliography for the whole paper, whatever tables,
    figures and citations it was assembled from). The dataset's own key counts too.
    Unknown keys raise UnknownKeys with suggestions."""
    wanted = keys(paper)
    every = {e.key: e for e in cite.every_source(graph.store)}
    dataset = None
    try:
        dataset = cite.Entry(graph.dataset().reference)
        every[dataset.key] = dataset
    except KgError:
        pass
    unknown = {k: _suggest(k, every) for k in wanted if k not in every}
    if unknown:
        raise UnknownKeys(unknown)
    return [every[k] for k in wanted]


# --------------------------------------------------------------------- checking

_STATEMENTS = """
SELECT ?fact ?status ?s ?o ?source WHERE {
  ?fact a wf:EvidencedFact ; wf:evidenceStatus ?status .
  OPTIONAL { ?fact rdf:subject ?s ; rdf:object ?o }
  OPTIONAL { ?fact cito:citesAsEvidence|cito:disputes|wf:contradictedBy ?source }
}"""
_LABELLED = """
SELECT ?entity ?label WHERE {
  ?entity rdfs:label|skos:altLabel ?label .
  FILTER NOT EXISTS { ?entity a wf:Source }
  FILTER NOT EXISTS { ?entity a wf:EvidencedFact }
}"""


@dataclass
class Finding:
    """What the check says about one citation."""

    citation: Citation
    known: bool
    statements: list[dict] = field(default_factory=list)  # fact, label, status, relation
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        c = self.citation
        return {"key": c.key, "file": c.file, "line": c.line, "sentence": c.sentence,
                "known": self.known, "statements": self.statements,
                "warnings": self.warnings, "notes": self.notes,
                "suggestions": self.suggestions}


@dataclass
class PaperCheck:
    paper: str
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.known]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.warnings]

    def to_dict(self) -> dict:
        return {"paper": self.paper, "citations": len(self.findings),
                "errors": len(self.errors),
                "warnings": sum(len(f.warnings) for f in self.findings),
                "findings": [f.to_dict() for f in self.findings]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        lines = []
        for f in self.findings:
            c = f.citation
            if not f.known:
                hint = f" (did you mean {', '.join(f.suggestions)}?)" if f.suggestions else ""
                lines.append(f"{c.where}: error: {c.key} is not a citation key of the graph{hint}")
                continue
            facts = ", ".join(f"{s['label']} [{s['status']}]" for s in f.statements[:4])
            more = f" and {len(f.statements) - 4} more" if len(f.statements) > 4 else ""
            lines.append(f"{c.where}: {c.key}: evidence for {facts or 'no statement'}{more}")
            lines += [f"{c.where}: warning: {w}" for w in f.warnings]
            lines += [f"{c.where}: note: {n}" for n in f.notes]
        lines.append(f"{len(self.findings)} citation(s), {len(self.errors)} error(s), "
                     f"{sum(len(f.warnings) for f in self.findings)} warning(s)")
        return "\n".join(lines) + "\n"


def _mentions(sentence: str, labels: dict[str, set[str]]) -> set[str]:
    """Entities whose label the sentence contains (whole words; CJK as substrings)."""
    lowered = sentence.lower()
    found = set()
    for label, entities in labels.items():
        if _CJK.search(label):
            hit = label in sentence
        else:
            hit = re.search(r"(?<![\w-])" + re.escape(label) + r"(?![\w-])", lowered) is not None
        if hit:
            found |= entities
    return found


def check(graph, paper: Papers) -> PaperCheck:
    """Each citation of a manuscript against the graph (see the module docstring)."""
    cited = _all(paper)
    store = graph.store
    every = {e.key: e for e in cite.every_source(store)}
    dataset_key = None
    with contextlib.suppress(KgError):
        dataset_key = graph.dataset().reference.key
    status: dict[str, str] = {}
    triple: dict[str, tuple[str, str]] = {}
    for row in graph.sparql(_STATEMENTS).rows():
        fact = row["fact"].value
        status[fact] = row["status"].value.rsplit("#", 1)[-1].lower()
        if "s" in row and isinstance(row["o"], ox.NamedNode):  # a literal is named by no label
            triple[fact] = (row["s"].value, row["o"].value)
    label_index: dict[str, set[str]] = {}
    for row in graph.sparql(_LABELLED).rows():
        text = row["label"].value.strip()
        if len(text) >= 3 or _CJK.search(text):
            label_index.setdefault(text if _CJK.search(text) else text.lower(),
                                   set()).add(row["entity"].value)
    contradicted = {f: t for f, t in triple.items() if status.get(f) == "contradicted"}
    names = english_labels(store, set(status) | {e for t in contradicted.values() for e in t})
    findings = []
    for c in cited:
        if c.key == "*" or c.key == dataset_key:
            continue
        entry = every.get(c.key)
        if entry is None:
            findings.append(Finding(c, False, suggestions=_suggest(c.key, every)))
            continue
        finding = Finding(c, True)
        for relation, facts in (("supports", entry.supports), ("disputes", entry.disputes),
                                ("background", entry.background)):
            for fact in facts:
                finding.statements.append({"fact": shorten(fact), "relation": relation,
                                           "label": names.get(fact, shorten(fact)),
                                           "status": status.get(fact, "")})
        contradiction = MARKS_CONTRADICTION.search(c.sentence) is not None
        unverified = contradiction or MARKS_UNVERIFIED.search(c.sentence) is not None
        problems = []  # (what, whether the sentence marks it, as what)
        mentioned = _mentions(c.sentence, label_index)
        against = [f for f in entry.disputes
                   if (triple[f][1] in mentioned if f in triple
                       else names.get(f, "\0").lower() in c.sentence.lower())]
        if against:
            problems.append((f"{c.key} is recorded as contradicting "
                             + "; ".join(f'"{names.get(f, shorten(f))}"' for f in against),
                             contradiction, "the contradiction"))
        backed = [s for s in finding.statements if s["relation"] == "supports"]
        if finding.statements and backed and all(s["status"] != "verified" for s in backed):
            problems.append((f"every statement {c.key} is evidence for is unverified or "
                             "contradicted", unverified,
                             "the contradiction" if contradiction else "the claim unverified"))
        for fact, (s, o) in sorted(contradicted.items()):
            if s in mentioned and o in mentioned:
                problems.append((f"the sentence names {names.get(s, shorten(s))} and "
                                 f"{names.get(o, shorten(o))}, and the graph marks "
                                 f"\"{names.get(fact, shorten(fact))}\" contradicted "
                                 f"({shorten(fact)})", contradiction, "the contradiction"))
        for text, marked, mark in problems:
            if marked:
                finding.notes.append(f"{text} (the sentence marks {mark})")
            else:
                finding.warnings.append(text)
        findings.append(finding)
    name = str(paper) if isinstance(paper, str | Path) else " ".join(map(str, paper))
    return PaperCheck(name, findings)
