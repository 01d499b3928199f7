"""The verified view of an answer, row by row: one meaning of "verified" for queries,
named queries, pages and citations.

The verified view's graphs leave out the plain triples that only an Unverified statement
states, but a query may also read the statement nodes themselves (`?st rdf:subject ...;
wf:evidenceStatus ?status`), and those sit in the data files' graphs whatever their
status. So an answer in the verified view also leaves out each row that rests on a fact
no source verifies, judged as `kg cite --evidence verified` judges the facts of an
answer (kg.paper.cite.facts_of_answer): a fact (statement, case study, finding, plan claim)
named in the row that is not Verified, or two resources of the row that only statements
that are not Verified link.

Statuses and claims come from the store version's catalogue (read once per version)."""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from ..query.results import QueryResult
from .catalogue import catalogue, per_version


def _links(store) -> dict[tuple[str, str], set[str]]:
    """(subject, object) -> the statuses of the statements linking them."""
    def make() -> dict[tuple[str, str], set[str]]:
        cat = catalogue(store)
        links: dict[tuple[str, str], set[str]] = defaultdict(set)
        for statement, claim in cat.claims.items():
            links[(claim.subject, claim.object)].add(cat.status.get(statement, "unverified"))
        return dict(links)
    return per_version(store, "statement-links", make)


def rests_on_verified(store, row: dict) -> bool:
    """Whether every fact a row of an answer rests on is Verified."""
    cat = catalogue(store)
    links = _links(store)
    values = [t.value for t in row.values() if isinstance(t, ox.NamedNode | ox.Literal)]
    iris = [t.value for t in row.values() if isinstance(t, ox.NamedNode)]
    if any(cat.status.get(iri, "verified") != "verified" for iri in iris):
        return False
    for subject in iris:
        for obj in values:
            statuses = links.get((subject, obj))
            if statuses and "verified" not in statuses:
                return False
    return True


def verified_rows(store, result: QueryResult) -> QueryResult:
    """The rows of a SELECT answer that rest only on Verified facts, the count of the
    others in `withheld`; other answers as they are (an ASK or CONSTRUCT answer is
    judged by the view's graphs alone)."""
    if result.kind != "select":
        return result
    return result.keep_rows([rests_on_verified(store, row) for row in result.rows()])


def in_view(store, result: QueryResult, evidence: str) -> QueryResult:
    """`result` as the evidence view `evidence` ("all" or "verified") answers it."""
    return verified_rows(store, result) if evidence == "verified" else result


def withheld_note(count: int) -> str:
    """What to tell a reader about rows the verified view left out."""
    return (f"{count} row{'s' if count != 1 else ''} left out: "
            f"{'they rest' if count != 1 else 'it rests'} on facts no cited source "
            "verifies (see --evidence all)")


__all__ = ["in_view", "rests_on_verified", "verified_rows", "withheld_note"]
