"""Workflow KG: a knowledge-graph research database on workflow engines, distributed
computing and their formal verification."""

from ._version import __version__
from .errors import (
    InconsistentOntology,
    KgError,
    ParameterError,
    QueryError,
    QueryNotFound,
    RdfSyntaxError,
    SparqlSyntaxError,
    StoreNotBuilt,
    ValidationFailed,
)
from .graph import KnowledgeGraph, Stats
from .pipeline.build import BuildResult
from .pipeline.reason import ConsistencyReport
from .pipeline.shapes import ValidationReport, Violation
from .query.queries import NamedQuery, Parameter, QueryRegistry
from .query.results import QueryResult

__all__ = [
    "BuildResult",
    "ConsistencyReport",
    "InconsistentOntology",
    "KgError",
    "KnowledgeGraph",
    "NamedQuery",
    "Parameter",
    "ParameterError",
    "QueryError",
    "QueryNotFound",
    "QueryRegistry",
    "QueryResult",
    "RdfSyntaxError",
    "SparqlSyntaxError",
    "Stats",
    "StoreNotBuilt",
    "ValidationFailed",
    "ValidationReport",
    "Violation",
    "__version__",
]
