"""Workflow KG: a knowledge-graph research database on workflow engines, distributed
computing and their formal verification."""

from ._version import __version__
from .build import BuildResult
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
from .queries import NamedQuery, Parameter, QueryRegistry
from .reason import ConsistencyReport
from .results import QueryResult
from .shapes import ValidationReport, Violation

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
