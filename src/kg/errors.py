"""The one exception hierarchy of Workflow KG. The CLI maps these to exit codes and the
HTTP service to status codes, each in one place."""

from __future__ import annotations

from dataclasses import dataclass


class KgError(Exception):
    """Base class of every error Workflow KG raises on purpose."""


class ProjectError(KgError):
    """The project layout (ontology/, data/, queries/) or the store cannot be found."""


@dataclass
class SyntaxProblem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class RdfSyntaxError(KgError):
    """An input file is not well-formed RDF."""

    def __init__(self, problem: SyntaxProblem):
        super().__init__(str(problem))
        self.problem = problem


class ValidationFailed(KgError):
    """The data violates the SHACL shapes; `report` holds every violation."""

    def __init__(self, report):  # report: kg.shapes.ValidationReport
        super().__init__(f"{len(report.violations)} SHACL violation(s)")
        self.report = report


class InconsistentOntology(KgError):
    """The OWL reasoner found the ontology and data inconsistent."""


class QueryError(KgError):
    """A query cannot run: unknown name, bad parameter or SPARQL syntax error."""


class QueryNotFound(QueryError):
    """No named query has this name."""


class ParameterError(QueryError):
    """A query parameter is missing, unknown or of the wrong type."""


class SparqlSyntaxError(QueryError):
    """The SPARQL text does not parse."""


class StoreNotBuilt(KgError):
    """There is no store yet: run `kg build`."""


class BuildLocked(KgError):
    """Another build is running on the same store."""
