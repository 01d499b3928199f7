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

    def __init__(self, report):  # report: kg.pipeline.shapes.ValidationReport
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


class ResourceNotFound(QueryError):
    """No resource of the graph has this IRI; `suggestions` are similar names."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None):
        self.suggestions = list(suggestions or [])
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(message + hint)
class StoreNotBuilt(KgError):
    """There is no store yet: run `kg build`."""


class BuildLocked(KgError):
    """Another build or update is running on the same store; try again shortly."""


# --------------------------------------------------------------- the service (kg.query.guard,
# kg.workers, kg.pipeline.remote, kg.pipeline.update); the HTTP layer maps each to one status code.
class Refused(KgError):
    """The request is well-formed but the safety policy forbids it (SERVICE to an endpoint
    not allowed, LOAD, a local-file graph, an update without the right token)."""


class NotAuthenticated(Refused):
    """An update needs the update token and the request did not give it (or gave a
    wrong one)."""


class ReadOnly(Refused):
    """The service is read-only: no update token is configured."""


class LimitExceeded(KgError):
    """A query or request went over one of the service's limits."""


class QueryTimeout(LimitExceeded):
    """A query ran longer than the time limit and was stopped."""


class MemoryLimit(LimitExceeded):
    """A query used more memory than a query worker may have and was stopped."""


class Overloaded(LimitExceeded):
    """The query queue, or the client's share of it, is full: try again after
    `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class QueueTimeout(QueryTimeout):
    """No query worker became free while the query waited in the queue (the query never
    ran): try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class ResultTooLarge(LimitExceeded):
    """A query's answer has more rows or bytes than the result-size limit allows."""


class RequestTooLarge(LimitExceeded):
    """A request body is larger than the body-size limit."""


class FormatNotAcceptable(KgError):
    """No result format the service can produce matches what the client accepts."""


class UnsupportedInput(KgError):
    """The request body has a media type the service does not read."""


class RemoteError(KgError):
    """A remote SPARQL server failed or could not be reached."""


class WorkerFailed(KgError):
    """A query worker process died while running a query."""


class NeedsConfirmation(KgError):
    """An update would remove whole graphs and was not confirmed (`confirm=drop`)."""


class StoreHasUpdates(KgError):
    """The live store holds updates that a build from the files would discard."""


class StoreWriteFailed(KgError):
    """A new store could not be written (a full disk, say); the live store is unchanged."""


class VersionNotFound(KgError):
    """No kept store version has this name."""


class ToolError(KgError):
    """An external tool (a model checker, a compiler) is missing, crashed, or printed
    output that cannot be parsed; no finding is recorded for that check."""


class ToolMissing(ToolError):
    """A tool is not installed; the message names the package that provides it."""


class ModelError(KgError):
    """A model or its manifest (models/<name>/model.toml) is malformed."""


class BenchmarkError(KgError):
    """An engine benchmark cannot run (a missing server or engine), crashed, or its raw
    results cannot be read; no finding is written."""
