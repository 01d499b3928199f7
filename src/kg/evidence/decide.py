"""The technology-selection decision framework (技术选型决策框架): rank workflow engines
(with the backends and SDKs the evidence names) against requirements, rule by rule.

The rules are data (`wf:DecisionRule` nodes, see data/decision-rules.ttl): each decides one
requirement key by a SPARQL SELECT of ?candidate ?fact ?status (and optionally ?component,
?chain, ?generic, ?against). The facts of one chain hold together: a chain of verified
facts meets the requirement; a verified fact against it, or a contradicted fact, fails
it; anything else leaves it undecided. A key no rule decides, or a value outside the
rule's wf:valueQuery, is refused with suggestions (values resolve as `kg query`
parameters do, see kg.query.terms).

>>> from kg import KnowledgeGraph                                       # doctest: +SKIP
>>> decision = decide(KnowledgeGraph(), require={"language": "Go"})     # doctest: +SKIP
>>> print(to_text(decision))                                            # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox

from ..errors import ParameterError, QueryError
from ..namespaces import expand, shorten
from ..query.terms import fold, resolve
from .catalogue import STATUSES, catalogue, labels

MEETS, FAILS, UNDECIDED, NO_RULE = "meets", "fails", "undecided", "no rule"
FITS, EXCLUDED, OPEN = "fits", "excluded", "undecided"

_RULES = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?rule ?key ?query ?label ?definition ?order ?values WHERE {
  ?rule a wf:DecisionRule ; wf:requirementKey ?key ; wf:ruleQuery ?query .
  OPTIONAL { ?rule rdfs:label ?label FILTER (LANG(?label) = "en") }
  OPTIONAL { ?rule skos:definition ?definition }
  OPTIONAL { ?rule wf:ruleOrder ?order }
  OPTIONAL { ?rule wf:valueQuery ?values }
}"""
_ENGINES = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
SELECT ?engine WHERE { ?engine a wf:WorkflowEngine }"""
_KEYS = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX cito: <http://purl.org/spar/cito/>
SELECT ?fact ?key WHERE {
  VALUES ?fact { %s }
  ?fact cito:citesAsEvidence|cito:disputes ?source . ?source wf:citationKey ?key .
}"""


@dataclass(frozen=True)
class Rule:
    iri: str
    key: str
    label: str
    definition: str
    query: str
    order: int = 100
    values: str | None = None  # a SELECT ?value of the values the key accepts


@dataclass(frozen=True)
class Requirement:
    key: str
    value: str
    required: bool  # --require (hard) or --prefer (soft)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class FactUsed:
    fact: str
    status: str  # verified, contradicted, unverified
    keys: tuple[str, ...]  # citation keys of its sources
    component: str | None = None  # the backend, SDK, mechanism or licence it is about
    generic: bool = False  # true of the mechanism or licence in general, not the engine
    against: bool = False  # being true, it speaks against the requirement
    chain: str | None = None  # facts of one line of argument share it


@dataclass(frozen=True)
class Check:
    """One rule applied to one candidate."""

    requirement: Requirement
    verdict: str  # meets, fails, undecided, no rule
    rule: str | None
    facts: tuple[FactUsed, ...] = ()


@dataclass
class Candidate:
    engine: str
    label: str
    checks: list[Check] = field(default_factory=list)

    def count(self, verdict: str, *, required: bool) -> int:
        return sum(1 for c in self.checks
                   if c.verdict == verdict and c.requirement.required == required)

    @property
    def verdict(self) -> str:
        if self.count(FAILS, required=True):
            return EXCLUDED
        if self.count(UNDECIDED, required=True) or self.count(NO_RULE, required=True):
            return OPEN
        return FITS

    @property
    def components(self) -> list[str]:
        """The backends, SDKs and mechanisms named by the lines of argument that meet a
        requirement: a line that fails (an MIT licence since replaced) names none, even
        where its generic step is verified."""
        return sorted({f.component for c in self.checks if c.verdict == MEETS
                       for line in chains(list(c.facts)).values()
                       if _chain_verdict(line) == MEETS
                       for f in line if f.component and f.status == "verified"})

    def sort_key(self) -> tuple:
        verified = sum(1 for c in self.checks for f in c.facts if f.status == "verified")
        return ({FITS: 0, OPEN: 1, EXCLUDED: 2}[self.verdict],
                -self.count(MEETS, required=True), self.count(FAILS, required=True),
                -self.count(MEETS, required=False), self.count(FAILS, required=False),
                -verified, self.label.lower(), self.engine)


@dataclass
class Decision:
    requirements: list[Requirement]
    rules: list[Rule]
    candidates: list[Candidate]  # ranked, best first
    labels: dict[str, str]

    @property
    def undecidable(self) -> list[Requirement]:
        """Requirements no rule decides, or that the evidence decides for no candidate."""
        out = []
        for req in self.requirements:
            verdicts = {c.verdict for cand in self.candidates for c in cand.checks
                        if c.requirement == req}
            if verdicts <= {UNDECIDED, NO_RULE}:
                out.append(req)
        return out

    def to_dict(self) -> dict:
        return {"requirements": [asdict(r) for r in self.requirements],
                "undecidable": [str(r) for r in self.undecidable],
                "rules": [{"iri": r.iri, "key": r.key, "label": r.label} for r in self.rules],
                "candidates": [{
                    "engine": shorten(c.engine), "label": c.label, "verdict": c.verdict,
                    "components": [shorten(x) for x in c.components],
                    "checks": [{
                        "requirement": str(ch.requirement), "required": ch.requirement.required,
                        "verdict": ch.verdict, "rule": ch.rule and shorten(ch.rule),
                        "facts": [{"fact": shorten(f.fact), "says": self.labels.get(f.fact),
                                   "status": f.status, "sources": list(f.keys),
                                   "component": f.component and shorten(f.component),
                                   "generic": f.generic, "against": f.against}
                                  for f in ch.facts]} for ch in c.checks]}
                    for c in self.candidates]}


def parse_requirements(items: Mapping[str, str] | list[str], *, required: bool
                       ) -> list[Requirement]:
    """KEY=VALUE strings (or a mapping) to requirements."""
    pairs = list(items.items()) if isinstance(items, Mapping) else []
    if not isinstance(items, Mapping):
        for item in items:
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ParameterError(f"a requirement is KEY=VALUE, got {item!r}")
            pairs.append((key.strip(), value.strip()))
    return [Requirement(k, v, required) for k, v in pairs]


def rules(store) -> list[Rule]:
    found = []
    for row in store.query(_RULES).rows():
        value = {k: t.value for k, t in row.items()}
        found.append(Rule(value["rule"], value["key"], value.get("label", value["key"]),
                          value.get("definition", ""), value["query"],
                          int(value.get("order", 100)), value.get("values")))
    return sorted(found, key=lambda r: (r.order, r.key))


def _value_term(value: str) -> ox.NamedNode | ox.Literal:
    if value.startswith("<") or (":" in value and value.split(":", 1)[0].isalpha()
                                 and " " not in value):
        try:
            return ox.NamedNode(expand(value))
        except ValueError:
            pass
    return ox.Literal(value)


def accepted(store, rule: Rule) -> list[ox.NamedNode | ox.Literal]:
    """The values the rule's key accepts (its wf:valueQuery), or [] if it lists none."""
    if rule.values is None:
        return []
    try:
        rows = store.query(rule.values).rows()
    except QueryError as err:
        raise QueryError(f"decision rule {shorten(rule.iri)} ({rule.key}), its value "
                         f"query: {err}") from err
    return [row["value"] for row in rows if isinstance(row.get("value"), ox.NamedNode |
                                                       ox.Literal)]


def value_of(store, rule: Rule, req: Requirement) -> ox.NamedNode | ox.Literal:
    """The requirement's value as the RDF term the rule binds to ?value: a resource of
    the rule's values (named as `kg query` parameters are), or one of its words."""
    allowed = accepted(store, rule)
    if not allowed:
        return _value_term(req.value)
    iris = {t.value for t in allowed if isinstance(t, ox.NamedNode)}
    if iris:
        try:
            return resolve(store, req.value, parameter=req.key, among=iris,
                           what=f"value of '{rule.key}'")
        except ParameterError as err:
            raise ParameterError(f"{err}{_elsewhere(store, rule, req.value)}") from None
    words = {fold(t.value): t for t in allowed}
    if fold(req.value) in words:
        return words[fold(req.value)]
    listed = ", ".join(sorted({t.value for t in allowed}, key=str.lower))
    wanted = fold(req.value)
    close = [w for w in words if w.startswith(wanted) or wanted.startswith(w)]
    close += [c for c in difflib.get_close_matches(wanted, list(words), n=3, cutoff=0.5)
              if c not in close]
    hint = f"; did you mean {', '.join(words[c].value for c in close[:3])}?" if close else ""
    raise ParameterError(f"{req.key}={req.value!r} is not a value of '{rule.key}' "
                         f"({rule.label.lower()}): it takes {listed}{hint}")


def _elsewhere(store, rule: Rule, raw: str) -> str:
    """A hint naming the rules that do take the value (guarantee=wfr:saga: saga is a
    mechanism), or nothing."""
    try:
        iri = resolve(store, raw).value
    except ParameterError:
        return ""
    keys = [other.key for other in rules(store) if other.key != rule.key
            and any(t.value == iri for t in accepted(store, other))]
    return f" ({', '.join(f'{k}={shorten(iri)}' for k in keys)} takes it)" if keys else ""


def describe_values(store, rule: Rule, *, shown: int = 6) -> str:
    """The values a rule takes, in words: its words, or a few of its resources."""
    allowed = accepted(store, rule)
    if not allowed:
        return "any"
    names = sorted({shorten(t.value) if isinstance(t, ox.NamedNode) else t.value
                    for t in allowed}, key=str.lower)
    more = f", ... ({len(names)} in all)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _truth(term) -> bool:
    return term is not None and term.value in ("true", "1")


def _run_rule(store, rule: Rule, value: ox.NamedNode | ox.Literal
              ) -> dict[str, list[FactUsed]]:
    try:
        result = store.query(rule.query, bindings={"value": value})
    except QueryError as err:
        raise QueryError(f"decision rule {shorten(rule.iri)} ({rule.key}): {err}") from err
    by_candidate: dict[str, list[FactUsed]] = {}
    rows = result.rows()
    facts = {r["fact"] for r in rows if "fact" in r}
    keys: dict[str, set[str]] = {}
    if facts:
        query = _KEYS % " ".join(str(f) for f in sorted(facts, key=str))
        for row in store.query(query).rows():
            keys.setdefault(row["fact"].value, set()).add(row["key"].value)
    for row in rows:
        if "candidate" not in row or "fact" not in row:
            continue
        fact = row["fact"].value
        used = FactUsed(fact, STATUSES.get(row["status"].value, "unverified")
                        if "status" in row else "unverified",
                        tuple(sorted(keys.get(fact, ()))),
                        row["component"].value if "component" in row else None,
                        generic=_truth(row.get("generic")), against=_truth(row.get("against")),
                        chain=row["chain"].value if "chain" in row else None)
        found = by_candidate.setdefault(row["candidate"].value, [])
        if used not in found:
            found.append(used)
    for found in by_candidate.values():  # the engine's own facts first, generic steps last
        found.sort(key=lambda f: (f.generic, f.chain or "", f.fact))
    return by_candidate


def chains(facts: list[FactUsed]) -> dict[str, list[FactUsed]]:
    """The facts grouped by line of argument (a fact with no chain stands alone)."""
    out: dict[str, list[FactUsed]] = {}
    for f in facts:
        out.setdefault(f.chain or f.fact, []).append(f)
    return out


def _chain_verdict(facts: list[FactUsed]) -> str:
    if any(f.against and f.status == "verified" for f in facts):
        return FAILS
    statuses = {f.status for f in facts}
    if statuses == {"verified"}:
        return MEETS
    if "contradicted" in statuses:
        return FAILS
    return UNDECIDED


def _verdict(facts: list[FactUsed]) -> str:
    verdicts = {_chain_verdict(c) for c in chains(facts).values()}
    if MEETS in verdicts:
        return MEETS
    if FAILS in verdicts:
        return FAILS
    return UNDECIDED


def rule_for(store, by_key: Mapping[str, Rule], key: str) -> Rule:
    """The rule of a requirement key; ParameterError listing the rules otherwise."""
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)
    close += [f"{r.key}={key}" for r in by_key.values() if r.values and
              any(fold(t.value) == fold(key) for t in accepted(store, r))]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    listed = "; ".join(f"{r.key} ({r.label.lower()})" for r in
                       sorted(by_key.values(), key=lambda r: (r.order, r.key)))
    raise ParameterError(f"no decision rule decides {key!r}: {hint}the rules are {listed} "
                         "(see `kg decide --rules`)")


def decide(graph, *, require: Mapping[str, str] | list[str] = (),
           prefer: Mapping[str, str] | list[str] = ()) -> Decision:
    """Rank every workflow engine against the requirements (hard) and preferences (soft),
    with the facts and sources each rule used."""
    requirements = (parse_requirements(require, required=True)
                    + parse_requirements(prefer, required=False))
    if not requirements:
        raise ParameterError("give at least one requirement, e.g. --require language=Go")
    store = graph.store
    by_key = {rule.key: rule for rule in rules(store)}
    values = {req: value_of(store, rule_for(store, by_key, req.key), req) for req in requirements}
    engines = store.query(_ENGINES).values("engine")
    results = {req: _run_rule(store, by_key[req.key], values[req]) for req in requirements}
    used_facts = [f for found in results.values() for facts in found.values() for f in facts]
    names = labels(store, set(engines) | {f.component for f in used_facts if f.component})
    cat = catalogue(store)
    names.update({f.fact: cat.label(f.fact) for f in used_facts})
    candidates = []
    for engine in engines:
        candidate = Candidate(engine, names.get(engine, shorten(engine)))
        for req in requirements:
            rule = by_key.get(req.key)
            if rule is None:
                candidate.checks.append(Check(req, NO_RULE, None))
                continue
            facts = results[req].get(engine, [])
            candidate.checks.append(Check(req, _verdict(facts), rule.iri, tuple(facts)))
        candidates.append(candidate)
    candidates.sort(key=Candidate.sort_key)
    used = [by_key[r.key] for r in requirements if r.key in by_key]
    return Decision(requirements, used, candidates, names)


# ------------------------------------------------------------------------- rendering

def _fact_text(f: FactUsed, names: Mapping[str, str]) -> str:
    said = names.get(f.fact, shorten(f.fact))
    short = shorten(f.fact)
    ref = f" ({short})" if said != short else ""
    cites = f" [{', '.join(f.keys)}]" if f.keys else " [no source]"
    against = ", against it" if f.against else ""
    return f"{'generic step: ' if f.generic else ''}{said}{ref}: {f.status}{against}{cites}"


def _explain(check: Check, names: Mapping[str, str]) -> str:
    """One line per requirement: the verdict, then each line of argument, the engine's
    own facts first and the generic steps marked as such."""
    kind = "require" if check.requirement.required else "prefer"
    if check.verdict == NO_RULE:
        return (f"{kind} {check.requirement}: no rule decides '{check.requirement.key}'; "
                "the evidence cannot decide it")
    if not check.facts:
        return f"{kind} {check.requirement}: undecided, no fact found"
    argued = sorted(chains(list(check.facts)).values(),
                    key=lambda c: ({MEETS: 0, FAILS: 1}.get(_chain_verdict(c), 2),
                                   c[0].chain or c[0].fact))
    lines = [" then ".join(_fact_text(f, names) for f in chain) for chain in argued]
    return f"{kind} {check.requirement}: {check.verdict} by " + "; or ".join(lines)


def to_text(decision: Decision, *, limit: int = 10) -> str:
    lines = ["requirements: " + ", ".join(
        f"{'require' if r.required else 'prefer'} {r}" for r in decision.requirements)]
    if decision.undecidable:
        lines.append("the evidence cannot decide: "
                     + ", ".join(str(r) for r in decision.undecidable))
    for rank, cand in enumerate(decision.candidates[:limit], 1):
        comps = ", ".join(decision.labels.get(c, shorten(c)) for c in cand.components)
        lines.append(f"{rank}. {cand.label} ({shorten(cand.engine)}): {cand.verdict}"
                     + (f"; with {comps}" if comps else ""))
        lines += [f"   - {_explain(ch, decision.labels)}" for ch in cand.checks]
    rest = len(decision.candidates) - limit
    if rest > 0:
        lines.append(f"... {rest} more candidate(s); raise --limit to see them")
    return "\n".join(lines) + "\n"


def to_markdown(decision: Decision, *, limit: int = 10) -> str:
    reqs = decision.requirements
    lines = ["| Rank | Engine | Verdict | " + " | ".join(str(r) for r in reqs) + " |",
             "|---|---|---|" + "---|" * len(reqs)]
    for rank, cand in enumerate(decision.candidates[:limit], 1):
        cells = []
        for ch in cand.checks:
            keys = sorted({k for f in ch.facts if f.status != "unverified" for k in f.keys})
            cells.append(ch.verdict + (" [" + "; ".join(f"@{k}" for k in keys) + "]"
                                       if keys else ""))
        lines.append(f"| {rank} | {cand.label} | {cand.verdict} | " + " | ".join(cells) + " |")
    if decision.undecidable:
        lines += ["", "The evidence cannot decide: "
                  + ", ".join(str(r) for r in decision.undecidable) + "."]
    return "\n".join(lines) + "\n"


def to_json(decision: Decision) -> str:
    return json.dumps(decision.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def to_mermaid(decision: Decision) -> str:
    """The decision tree the rules imply for these requirements: one question per
    required rule, in rule order; candidates leave the tree where a rule fails them or
    cannot decide, and the ones left at the end fit."""
    order = {r.iri: r.order for r in decision.rules}
    required = sorted((r for r in decision.requirements if r.required),
                      key=lambda r: order.get(next((x.iri for x in decision.rules
                                                    if x.key == r.key), ""), 1000))
    lines = ["flowchart TD", f'  start(["{len(decision.candidates)} workflow engines"])']
    remaining = list(decision.candidates)
    previous = "start"
    for n, req in enumerate(required, 1):
        node = f"q{n}"
        lines.append(f'  {previous} --> {node}{{"{_mermaid_text(str(req))}?"}}')
        groups: dict[str, list[Candidate]] = {MEETS: [], FAILS: [], UNDECIDED: []}
        for cand in remaining:
            check = next(c for c in cand.checks if c.requirement == req)
            groups[MEETS if check.verdict == MEETS else
                   FAILS if check.verdict == FAILS else UNDECIDED].append(cand)
        for verdict, label in ((FAILS, "no (contradicted)"), (UNDECIDED, "cannot decide")):
            if groups[verdict]:
                names = ", ".join(c.label for c in groups[verdict])
                lines.append(f'  {node} -- "{label}" --> {node}{verdict[0]}["'
                             f'{_mermaid_text(names)}"]')
        remaining = groups[MEETS]
        lines.append(f'  {node} -- "yes" --> {node}y(("{len(remaining)}"))')
        previous = f"{node}y"
    names = ", ".join(c.label for c in remaining) or "none"
    lines.append(f'  {previous} --> fit["fit: {_mermaid_text(names)}"]')
    return "\n".join(lines) + "\n"


DECIDE_FORMATS = {"text": to_text, "md": to_markdown, "json": to_json, "mermaid": to_mermaid}


def render(decision: Decision, fmt: str = "text", *, limit: int = 10) -> str:
    if fmt not in DECIDE_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(DECIDE_FORMATS)}")
    if fmt in ("text", "md"):
        return DECIDE_FORMATS[fmt](decision, limit=limit)  # type: ignore[operator]
    return DECIDE_FORMATS[fmt](decision)  # type: ignore[operator]
