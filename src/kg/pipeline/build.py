"""`kg build` and `kg validate`: parse, derive, validate, reason, and load a new store
that replaces the live one atomically. A failed build changes nothing."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from .._version import __version__
from ..errors import StoreHasUpdates, StoreWriteFailed, ValidationFailed
from ..namespaces import BASE, INFERRED_GRAPH, META_GRAPH, SD, VOID
from . import evidence
from .load import SourceFile, load_into, parse_files
from .project import Project, rdf_files
from .reason import materialise_store
from .shapes import ValidationReport, validate_store
from .store import StoreLayout, term_from_rdflib, term_to_rdflib

Progress = Callable[[str], None]
DATASET = URIRef(BASE + "dataset")


@dataclass
class BuildResult:
    """What a build did."""

    built: bool  # False when the inputs were unchanged (a no-op)
    store_path: Path | None
    input_hash: str
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI -> triples
    derived: int = 0
    inferred: int = 0
    seconds: float = 0.0

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def input_hash(project: Project) -> str:
    """A hash of every input file's name and bytes, and the builder's version."""
    digest = hashlib.sha256(f"workflow-kg {__version__}\n".encode())
    for path in project.input_files():
        digest.update(project.relative(path).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class Compiled:
    """Parsed, derived and validated inputs, held once: in an in-memory pyoxigraph store
    with one named graph per file and one per evidence status of derived triples."""

    ontology: list[SourceFile]
    data: list[SourceFile]
    shapes: SourceFile  # parsed with rdflib (small): the shapes drive the validation
    report: ValidationReport
    store: ox.Store
    derived_counts: dict[URIRef, int]  # derived graph IRI -> triples

    @property
    def files(self) -> list[SourceFile]:
        return self.ontology + [self.shapes] + self.data

    @property
    def derived(self) -> int:
        return sum(self.derived_counts.values())

    def graph_names(self, *, verified_only: bool = False) -> list[str]:
        """The asserted graphs: ontology, data and derived (only verified if asked)."""
        names = [f.graph_iri for f in self.ontology + self.data]
        return names + [str(g) for g in self.derived_counts
                        if not verified_only or str(g) not in evidence.UNVERIFIED_GRAPHS]

    def asserted(self, *, verified_only: bool = False) -> Graph:
        """Ontology, data and derived triples (only the verified ones if asked), as an
        rdflib graph: for small inputs only (kg check, tests)."""
        return _rdflib(self.store, self.graph_names(verified_only=verified_only))

    def ontology_graph(self) -> Graph:
        return _rdflib(self.store, [f.graph_iri for f in self.ontology])


def _rdflib(store: ox.Store, names: Sequence[str]) -> Graph:
    graph = Graph()
    for name in names:
        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(name)):
            graph.add((term_to_rdflib(q.subject), term_to_rdflib(q.predicate),
                       term_to_rdflib(q.object)))
    return graph


def compile_inputs(project: Project, data_paths: Sequence[Path] | None = None, *,
                   progress: Progress | None = None) -> Compiled:
    """Parse the ontology, shapes and data, derive statement triples and validate.
    With `data_paths` (files or folders), those files are checked in the context of the
    whole project (so references into other files resolve) and only their violations
    are reported. Raises RdfSyntaxError on a syntax error; returns the SHACL report."""
    show = project.relative
    shapes_path = project.shapes_file.resolve()
    ontology_files = project.ontology_files()
    data_files = project.data_files()
    selected: set[str] | None = None
    if data_paths is not None:
        expanded = [p for path in data_paths for p in rdf_files(path)
                    if p.resolve() != shapes_path]
        onto_dir = project.ontology_dir.resolve()
        known = {p.resolve() for p in ontology_files + data_files}
        for path in expanded:
            if path.resolve() in known:
                continue
            target = ontology_files if path.resolve().is_relative_to(onto_dir) else data_files
            target.append(path)
        selected = {show(p) for p in expanded}
    store = ox.Store()  # in memory: the one copy of the inputs
    ontology = load_into(store, ontology_files, display=show, progress=progress)
    shapes = parse_files([project.shapes_file], display=show, progress=progress)[0]
    data = load_into(store, data_files, display=show, progress=progress)
    derived = evidence.apply_in_store(store, [f.graph_iri for f in ontology + data])
    if progress:
        progress(f"validating {len(data)} data file(s) against the shapes")
    compiled = Compiled(ontology, data, shapes, ValidationReport(conforms=True), store,
                        derived)
    report = validate_store(store, shapes.graph, graphs=compiled.graph_names(),
                            files=[(f.graph_iri, f.name) for f in ontology + data])
    if selected is not None:
        report.files = sorted(selected)
        report.violations = [v for v in report.violations if v.file in selected]
        report.warnings = [v for v in report.warnings if v.file in selected]
        report.conforms = not report.violations
    compiled.report = report
    return compiled


def validate(project: Project, paths: Sequence[Path] | None = None, *,
             progress: Progress | None = None) -> ValidationReport:
    """Validate files or folders (default: the project's ontology/ and data/)."""
    return compile_inputs(project, paths, progress=progress).report


def _void(graphs: dict[str, int], files: dict[str, SourceFile], hash_: str,
          project: Project) -> Graph:
    meta = Graph()
    meta.add((DATASET, RDF.type, VOID.Dataset))
    meta.add((DATASET, DCTERMS.created, Literal(datetime.now(UTC).isoformat(timespec="seconds"),
                                                datatype=XSD.dateTime)))
    meta.add((DATASET, DCTERMS.identifier, Literal(f"sha256:{hash_}")))
    meta.add((DATASET, DCTERMS.hasVersion, Literal(__version__)))
    meta.add((DATASET, VOID.triples, Literal(sum(graphs.values()))))
    for iri, count in sorted(graphs.items()):
        subset = URIRef(iri)
        meta.add((DATASET, VOID.subset, subset))
        meta.add((subset, RDF.type, VOID.Dataset))
        meta.add((subset, SD.name, subset))
        meta.add((subset, VOID.triples, Literal(count)))
        source = files.get(iri)
        if source is not None:
            meta.add((subset, DCTERMS.source, Literal(source.name)))
            checksum = hashlib.sha256(source.path.read_bytes()).hexdigest()
            meta.add((subset, DCTERMS.identifier, Literal(f"sha256:{checksum}")))
    return meta


def _quads(graph: Graph, graph_iri: str):
    name = ox.NamedNode(graph_iri)
    for s, p, o in graph:
        yield ox.Quad(term_from_rdflib(s), term_from_rdflib(p), term_from_rdflib(o), name)


def build(project: Project, *, force: bool = False, progress: Progress | None = None,
          before_publish: Callable[[Path], None] | None = None) -> BuildResult:
    """Build the store from the project's inputs. Unchanged inputs: a no-op unless `force`.
    Raises RdfSyntaxError or ValidationFailed and leaves the live store untouched."""
    started = time.monotonic()
    layout = StoreLayout(project.store_dir)
    with layout.locked():
        layout.clean()  # leftovers of interrupted builds
        updates = layout.info().get("updates", 0)
        if updates and not force:
            raise StoreHasUpdates(
                f"the store holds {updates} update(s) made since it was built from the "
                "files, which a build would discard: keep them with `kg export -o FILE` "
                "(and add the file to data/), or rebuild from the files with `kg build "
                "--force` (`kg history` and `kg rollback` can bring the updated version back)")
        hash_ = input_hash(project)
        if not force and layout.live() and layout.info().get("input_hash") == hash_:
            if progress:
                progress("inputs unchanged: nothing to build")
            return BuildResult(False, layout.live(), hash_, layout.info().get("graphs", {}))
        compiled = compile_inputs(project, progress=progress)
        if not compiled.report.conforms:
            raise ValidationFailed(compiled.report)
        derived = compiled.derived
        if progress:
            progress("materialising OWL 2 RL inferences")
        # what holds on verified facts alone, and what only the unverified ones add
        work = compiled.store
        inferred, inferred_unverified = materialise_store(
            work, verified=compiled.graph_names(verified_only=True),
            unverified=[str(evidence.UNVERIFIED_GRAPH)],
            ontology=compiled.ontology_graph(),
            schema_graphs=[f.graph_iri for f in compiled.ontology],
            cache=project.store_dir / "cache")
        for iri, triples in ((INFERRED_GRAPH, inferred),
                             (evidence.UNVERIFIED_INFERRED_GRAPH, inferred_unverified)):
            name = ox.NamedNode(str(iri))
            work.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
        work.load(compiled.shapes.path.read_bytes(), format=ox.RdfFormat.TURTLE,
                  base_iri=compiled.shapes.path.resolve().as_uri(),
                  to_graph=ox.NamedNode(compiled.shapes.graph_iri))
        partial = layout.new_partial()
        if progress:
            progress(f"loading into a new store at {partial.name}")
        files = {f.graph_iri: f for f in compiled.files}
        graphs = {str(row["g"].value): int(row["n"].value) for row in work.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
        order = list(files) + [str(g) for g in compiled.derived_counts] + [
            str(INFERRED_GRAPH), str(evidence.UNVERIFIED_INFERRED_GRAPH)]
        graphs = {iri: graphs.get(iri, 0) for iri in order}
        try:
            store = ox.Store(str(partial))
            store.bulk_extend(iter(work))  # every quad: a little faster than a pattern
            del work, compiled
            meta = _void(graphs, files, hash_, project)
            store.bulk_extend(_quads(meta, str(META_GRAPH)))
            store.flush()
            del store
            if before_publish:
                before_publish(partial)
            info = {"input_hash": hash_, "graphs": graphs, "built_at": time.time(),
                    "version": __version__, "derived": derived}
            final = layout.publish(partial, info)
        except OSError as err:  # a full disk, say: leave no partial store behind
            layout.discard(partial)
            raise StoreWriteFailed(f"could not write the new store: {err.strerror or err}; "
                                   "the live store is unchanged") from err
        layout.clean()
    result = BuildResult(True, final, hash_, graphs, derived,
                         len(inferred) + len(inferred_unverified),
                         time.monotonic() - started)
    if progress:
        progress(f"built {result.triples} triples in {len(graphs)} graphs "
                 f"({result.seconds:.1f} s)")
    return result

