"""Query results, kept in a standard serialisation (SPARQL JSON for solutions and
booleans, N-Triples for graphs) so that embedded and remote stores give the same
object, and every output format is produced by pyoxigraph's serialisers."""

from __future__ import annotations

import csv
import html
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal as Kind

import pyoxigraph as ox

from ..namespaces import PREFIXES, sparql_name

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}
TEXT_FORMATS = ("table", "md")
XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class QueryResult:
    """The answer to a query. `payload` is SPARQL JSON (select, ask) or N-Triples (graph)."""

    kind: Kind["select", "ask", "graph"]
    payload: bytes
    withheld: int = field(default=0, compare=False)  # rows an evidence view left out

    @classmethod
    def from_pyoxigraph(cls, result) -> QueryResult:
        if isinstance(result, ox.QueryBoolean):
            return cls("ask", json.dumps({"head": {}, "boolean": bool(result)}).encode())
        if isinstance(result, ox.QueryTriples):
            return cls("graph", ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b"")
        return cls("select", result.serialize(format=ox.QueryResultsFormat.JSON) or b"")

    @property
    def variables(self) -> list[str]:
        if self.kind != "select":
            return []
        # the head alone: the parser streams, so the solutions are not read (json.loads
        # of a large answer took a quarter of a second, holding the interpreter lock)
        parsed = ox.parse_query_results(self.payload, format=ox.QueryResultsFormat.JSON)
        return [v.value for v in parsed.variables]

    @property
    def boolean(self) -> bool | None:
        return bool(json.loads(self.payload)["boolean"]) if self.kind == "ask" else None

    def rows(self) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        """Solutions as dicts from variable name to pyoxigraph term (unbound omitted)."""
        if self.kind != "select":
            return []
        solutions = ox.parse_query_results(self.payload, format=ox.QueryResultsFormat.JSON)
        names = self.variables
        out = []
        for solution in solutions:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            out.append(row)
        return out

    def values(self, variable: str) -> list[str]:
        """The plain values (IRI or lexical form) of one variable, in order."""
        return [term.value for row in self.rows() if (term := row.get(variable)) is not None]

    def triples(self) -> list[ox.Triple]:
        if self.kind != "graph":
            return []
        return list(ox.parse(self.payload, format=ox.RdfFormat.N_TRIPLES))

    def serialize(self, fmt: str, *, max_width: int | None = None) -> bytes:
        """Serialise to a result format (json, xml, csv, tsv), a graph format (ttl, nt,
        jsonld, rdfxml) or a text format (table, md); `max_width` clamps the table's
        lines to that many columns (see to_text)."""
        if fmt in TEXT_FORMATS:
            return self.to_text(markdown=fmt == "md", max_width=max_width).encode()
        if self.kind == "graph":
            fmt = "rdfxml" if fmt == "xml" else fmt  # the XML of a graph is RDF/XML
            if fmt not in GRAPH_FORMATS:
                raise ValueError(f"a graph result cannot be written as {fmt!r}; "
                                 f"choose one of {', '.join([*GRAPH_FORMATS, *TEXT_FORMATS])}")
            return ox.serialize(self.triples(), format=GRAPH_FORMATS[fmt],
                                prefixes=prefixes_for(fmt)) or b""
        if fmt not in RESULT_FORMATS:
            raise ValueError(f"a {self.kind} result cannot be written as {fmt!r}; "
                             f"choose one of {', '.join([*RESULT_FORMATS, *TEXT_FORMATS])}")
        if fmt == "json":
            return self.payload
        if self.kind == "ask" and fmt in ("csv", "tsv"):
            return f"{'true' if self.boolean else 'false'}\n".encode()
        parsed = ox.parse_query_results(self.payload, format=ox.QueryResultsFormat.JSON)
        return parsed.serialize(format=RESULT_FORMATS[fmt]) or b""

    def to_dataframe(self):
        """A pandas DataFrame (install the `dataframe` extra): one column per variable
        (subject, predicate, object for a graph; `boolean` for ASK), IRIs as strings,
        numbers and booleans as Python values, unbound as None."""
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError("QueryResult.to_dataframe needs pandas: "
                              "pip install 'workflow-kg[dataframe]'") from err
        if self.kind == "ask":
            return pd.DataFrame({"boolean": [self.boolean]})
        if self.kind == "graph":
            return pd.DataFrame([[_python(t.subject), _python(t.predicate), _python(t.object)]
                                 for t in self.triples()],
                                columns=["subject", "predicate", "object"])
        names = self.variables
        return pd.DataFrame([[_python(row.get(v)) for v in names] for row in self.rows()],
                            columns=names)

    def with_labels(self, labels: dict[str, str]) -> QueryResult:
        """A select result with a `<var>Label` column after each variable that has an
        IRI with a label in `labels` (IRI -> label); other results unchanged."""
        if self.kind != "select":
            return self
        document = json.loads(self.payload)
        names = document["head"].get("vars", [])
        labelled = [v for v in names if any(
            b.get(v, {}).get("type") == "uri" and b[v]["value"] in labels
            for b in document["results"]["bindings"])]
        head = [n for v in names for n in ([v, f"{v}Label"] if v in labelled else [v])]
        for binding in document["results"]["bindings"]:
            for v in labelled:
                term = binding.get(v)
                if term and term.get("type") == "uri" and term["value"] in labels:
                    binding[f"{v}Label"] = {"type": "literal", "value": labels[term["value"]]}
        document["head"]["vars"] = head
        return QueryResult("select", json.dumps(document).encode(), withheld=self.withheld)

    def keep_rows(self, keep: list[bool]) -> QueryResult:
        """A select result with only the rows whose flag in `keep` is true (in order);
        other results unchanged."""
        if self.kind != "select":
            return self
        document = json.loads(self.payload)
        bindings = document["results"]["bindings"]
        document["results"]["bindings"] = [b for b, k in zip(bindings, keep, strict=True) if k]
        return QueryResult("select", json.dumps(document).encode(),
                           withheld=self.withheld + keep.count(False))

    def sorted_lists(self, separators: dict[str, str]) -> QueryResult:
        """A select result whose cells in the given columns (a list joined by the
        column's separator, as GROUP_CONCAT writes it) list their items in sorted order:
        GROUP_CONCAT's order is the engine's, so without this a cell differs between
        stores and runs."""
        if self.kind != "select" or not separators:
            return self
        document = json.loads(self.payload)
        for binding in document["results"]["bindings"]:
            for var, sep in separators.items():
                cell = binding.get(var)
                if cell and cell.get("type") == "literal" and sep in cell["value"]:
                    cell["value"] = sep.join(sorted(cell["value"].split(sep)))
        return QueryResult("select", json.dumps(document).encode(), withheld=self.withheld)

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows as text for people (IRIs shortened)."""
        if self.kind == "graph":
            return (["subject", "predicate", "object"],
                    [[_display(t.subject), _display(t.predicate), _display(t.object)]
                     for t in self.triples()])
        header = self.variables
        return header, [[_display(row.get(v)) for v in header] for row in self.rows()]

    def _repr_html_(self) -> str:
        """The table as HTML for notebooks (escaped; the first 100 rows)."""
        if self.kind == "ask":
            return f"<code>{'true' if self.boolean else 'false'}</code>"
        header, body = self._cells()
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                       for r in body[:100])
        more = f"<p>{len(body) - 100} more rows</p>" if len(body) > 100 else ""
        return (f"<table><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table>"
                f"<p>({len(body)} row{'s' if len(body) != 1 else ''})</p>{more}")

    def to_text(self, *, markdown: bool = False, max_width: int | None = None) -> str:
        """A table for people: IRIs shortened with the graph's prefixes. With
        `max_width` (a terminal's columns), the widest cells are cut with "…" until each
        line fits; the other formats keep the full text."""
        if self.kind == "ask":
            return "true\n" if self.boolean else "false\n"
        header, body = self._cells()
        if markdown:
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
            return "\n".join(lines) + "\n"
        body = [[" ".join(c.split()) for c in r] for r in body]  # one line per row
        widths = [max([width(h)] + [width(r[i]) for r in body]) for i, h in enumerate(header)]
        if max_width is not None:
            widths = _fit(widths, max_width)
            header = [clip(h, w) for h, w in zip(header, widths, strict=True)]
            body = [[clip(c, w) for c, w in zip(r, widths, strict=True)] for r in body]

        def line(cells: list[str]) -> str:
            return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True))

        lines = [line(header), line(["-" * w for w in widths])]
        lines += [line(r).rstrip() for r in body]
        lines.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
        return "\n".join(lines) + "\n"


def _fit(widths: list[int], total: int, floor: int = 6) -> list[int]:
    """Column widths whose sum with two-space gaps is at most `total` where possible:
    the widest column gives up a column at a time, none below `floor` (or its own)."""
    widths = list(widths)
    while sum(widths) + 2 * (len(widths) - 1) > total:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= floor:
            break
        widths[widest] -= 1
    return widths


def clip(text: str, columns: int) -> str:
    """`text` cut to `columns` terminal columns, ending in "…" when cut."""
    if width(text) <= columns:
        return text
    out, used = "", 0
    for c in text:
        w = width(c)
        if used + w > columns - 1:
            break
        out, used = out + c, used + w
    return out + "…"


def width(text: str) -> int:
    """Columns `text` takes in a terminal: two for wide (e.g. Chinese) characters, none
    for combining marks."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


_NUMBERS = {XSD + t: int for t in ("integer", "int", "long", "short", "nonNegativeInteger",
                                    "positiveInteger")}
_NUMBERS.update({XSD + t: float for t in ("decimal", "double", "float")})


def _python(term):
    """A term as a plain Python value: IRIs and most literals as strings, numbers and
    booleans as such."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        kind = _NUMBERS.get(term.datatype.value)
        if kind is not None:
            try:
                return kind(term.value)
            except ValueError:
                return term.value
        if term.datatype.value == XSD + "boolean":
            return term.value in ("true", "1")
    return term.value


def _display(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return sparql_name(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def prefixes_for(fmt: str) -> dict[str, str] | None:
    """The graph's prefixes for the formats that use them (Turtle, TriG), else None."""
    return dict(PREFIXES) if fmt in ("ttl", "trig") else None


def rows_as_csv(header: list[str], rows: list[list[str]]) -> str:
    """Plain CSV for tabular reports that are not SPARQL results (e.g. `kg stats`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def streamed_rows(store, sparql: str) -> Iterator[dict]:
    """The rows of a SELECT as QueryResult.rows gives them: streamed from an embedded
    store (EmbeddedStore.solution_rows), else from the store's ordinary answer."""
    if hasattr(store, "solution_rows"):
        return store.solution_rows(sparql)
    return iter(store.query(sparql).rows())
