"""Content negotiation as a pure function: an Accept header and what the service can
produce in, the chosen media type out (RFC 9110 section 12.5.1: quality values, the
most specific range wins, `*/*` and `type/*` wildcards).

>>> choose("application/sparql-results+xml;q=0.9, text/csv", SOLUTION_TYPES)
'text/csv'
"""

from __future__ import annotations

# media type -> kg format name (kg.query.results.QueryResult.serialize), the first is the default
SOLUTION_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/x-turtle": "ttl",
    "text/plain": "nt",
    "application/json": "jsonld",
    "application/xml": "rdfxml",
}
# what a response of each format is labelled with
FORMAT_TYPES: dict[str, str] = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
    "ttl": "text/turtle; charset=utf-8", "nt": "application/n-triples",
    "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml",
}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges with their quality, in header order; malformed parts are skipped."""
    ranges = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media or "/" not in media:
            continue
        quality = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def _specificity(media_range: str, offered: str) -> int | None:
    """How specifically a range matches an offered type: 2 exact, 1 type/*, 0 */*."""
    if media_range == offered:
        return 2
    main, _, sub = media_range.partition("/")
    if sub == "*" and main == offered.partition("/")[0]:
        return 1
    if media_range == "*/*":
        return 0
    return None


def choose(accept: str | None, offered: list[str] | dict[str, str]) -> str | None:
    """The offered media type the client prefers, or None if it accepts none of them.
    No Accept header (or an empty one) means anything: the first offered type."""
    offered = list(offered)
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0] if offered else None
    best: tuple[float, int, int] | None = None
    chosen = None
    for position, media in enumerate(offered):
        matches = [(spec, q) for r, q in ranges
                   if (spec := _specificity(r, media)) is not None]
        if not matches:
            continue
        spec, quality = max(matches)  # the most specific range decides the quality
        if quality <= 0:
            continue
        key = (quality, spec, -position)
        if best is None or key > best:
            best, chosen = key, media
    return chosen
