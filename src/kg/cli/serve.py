"""`kg serve`, `viz` and `site`: the commands that show the graph to people (the HTTP
service in kg_api, kg.pages)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import QueryError, StoreNotBuilt
from .common import COUNT, SECONDS, Progress, fail, graph_of


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="KG_HOST")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              envvar="KG_PORT")
@click.option("--time-limit", default=10.0, show_default=True, type=SECONDS,
              envvar="KG_TIME_LIMIT", help="Seconds a query may run before it is stopped.")
@click.option("--max-rows", default=10_000, show_default=True, type=COUNT,
              envvar="KG_MAX_ROWS", help="Rows (or triples) an answer may have.")
@click.option("--max-body", default=1_000_000, show_default=True, type=COUNT,
              envvar="KG_MAX_BODY", help="Bytes a request body may have.")
@click.option("--allow-service", multiple=True, envvar="KG_ALLOW_SERVICE", metavar="IRI",
              help="A SERVICE endpoint queries may call (repeatable; an IRI ending in '/' "
                   "allows all below it). Default: none.")
@click.option("--workers", default=None, type=COUNT, envvar="KG_WORKERS",
              help="Query worker processes.  [default: four per CPU, at least 4]")
@click.option("--max-queue", default=None, type=click.IntRange(min=0), envvar="KG_MAX_QUEUE",
              help="Queries that may wait for a worker; more get 429 with Retry-After.  "
                   "[default: 8 per worker]")
@click.option("--allow-drop", is_flag=True, envvar="KG_ALLOW_DROP",
              help="Let updates remove whole graphs without confirm=drop (a scratch store; "
                   "a curated file's graph is still never emptied).")
@click.option("--worker-memory", default=None, type=click.IntRange(0), envvar="KG_WORKER_MEMORY",
              metavar="MIB", help="Memory one query worker may use; a query past it is "
                                  "stopped (503). 0: no cap.  [default: half the machine's "
                                  "memory shared by the workers, 256 to 2048]")
@click.option("--allowed-host", "allowed_hosts", multiple=True, envvar="KG_ALLOWED_HOSTS",
              metavar="NAME", help="A host name requests may give in their Host header "
                                   "(repeatable; '*.example.org' for subdomains, '*' for "
                                   "any). Default: localhost, 127.0.0.1, ::1 and --host.")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, envvar="KG_TRUSTED_PROXIES",
              metavar="ADDRESS", help="A reverse proxy (address or network) whose Forwarded "
                                      "or X-Forwarded-For header names the client, for "
                                      "the client's share of the workers (repeatable).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, time_limit: float, max_rows: int,
          max_body: int, allow_service: tuple[str, ...], workers: int | None,
          max_queue: int | None, allow_drop: bool, worker_memory: int | None,
          allowed_hosts: tuple[str, ...], trusted_proxies: tuple[str, ...]) -> None:
    """Serve the SPARQL endpoint, the named queries as a REST API, and the docs.

    Read-only unless KG_UPDATE_TOKEN is set; then SPARQL Update and Graph Store writes
    with 'Authorization: Bearer <token>' are validated against the shapes.

    \b
    Example:
      kg serve --port 8000 &
      curl 'http://127.0.0.1:8000/api/queries'
    """
    import os

    import uvicorn

    from kg_api import create_app

    from ..query.guard import Policy

    policy = Policy(time_limit=time_limit, max_rows=max_rows, max_body_bytes=max_body,
                    service_allow=tuple(allow_service),
                    update_token=os.environ.get("KG_UPDATE_TOKEN") or None,
                    token_name=os.environ.get("KG_UPDATE_TOKEN_NAME") or "update-token",
                    allow_drop=allow_drop)
    graph = graph_of(ctx)
    _port_free(host, port)
    click.echo(f"serving {graph.remote.endpoint if graph.remote else graph.project.store_dir}"
               f" on http://{host}:{port}/sparql "
               f"({'updates with token' if policy.writable else 'read-only'})", err=True)
    hosts = list(allowed_hosts) or ["localhost", "127.0.0.1", "::1", host]
    options = {} if worker_memory is None else {"memory_limit": worker_memory << 20}
    try:
        app = create_app(graph, policy=policy, workers=workers, max_queue=max_queue,
                         allowed_hosts=hosts, trusted_proxies=list(trusted_proxies),
                         **options)
    except ValueError as err:
        fail(str(err), 2)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _port_free(host: str, port: int) -> None:
    """Fail before saying "serving" when the port is taken or the host is not one this
    machine can serve on (uvicorn would fail after), naming which of the two to change."""
    import errno
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except socket.gaierror as err:
            fail(f"cannot serve on {host}:{port}: the host {host!r} cannot be resolved "
                 f"({err.strerror}); choose another --host", 1)
        except OSError as err:
            if err.errno == errno.EADDRNOTAVAIL:
                fail(f"cannot serve on {host}:{port}: {host!r} is not an address of this "
                     f"machine ({err.strerror}); choose another --host", 1)
            fail(f"cannot serve on {host}:{port}: {err.strerror}; choose another --port", 1)


@click.command()
@click.option("--focus", metavar="IRI", help="Draw the neighbourhood of this resource "
              "(wfr:temporal, a full IRI, or a local name).")
@click.option("--depth", default=1, show_default=True, type=click.IntRange(1, 4),
              help="How many links away from --focus.")
@click.option("--class", "classes", multiple=True, metavar="CLASS",
              help="Only nodes of this class (e.g. wf:Theory); repeatable.")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["verified", "unverified", "contradicted", "none"]),
              help="Only links whose claim has this evidence status; repeatable.")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "zh"]),
              help="Label language.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
@click.pass_context
def viz(ctx: click.Context, focus: str | None, depth: int, classes: tuple[str, ...],
        statuses: tuple[str, ...], lang: str, output: str) -> None:
    """Write one self-contained interactive graph page (pyvis/vis-network inlined, no
    network needed): a neighbourhood, or the whole graph filtered by class and status.
    Clicking a node opens its IRI.

    \b
    Example:
      kg viz --focus wfr:temporal --depth 2 -o temporal.html
    """
    from ..namespaces import expand
    from ..pages.viz import neighbourhood, standalone_html, whole
    from ..query.terms import resolve_all

    graph = graph_of(ctx)
    try:
        if focus:
            center = resolve_all(graph.store, [focus])[0]
            view = neighbourhood(graph.store, center, depth=depth, lang=lang)
        else:
            view = whole(graph.store, classes=[expand(c) for c in classes],
                         statuses=statuses, lang=lang)
    except (QueryError, ValueError) as err:
        fail(str(err), 2)
    except StoreNotBuilt as err:
        fail(str(err), 1)
    Path(output).write_text(standalone_html(view), encoding="utf-8")
    click.echo(f"wrote {output}: {len(view.nodes)} nodes, {len(view.edges)} links"
               + (" (truncated to the most connected)" if view.truncated else ""))


@click.command()
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="The folder to write (replaced if it exists).")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def site(ctx: click.Context, output: str, quiet: bool) -> None:
    """Write the graph as a static site: home, a page per entity, statement, finding and
    source, named-query tables, the whole graph, search and the ontology's documentation,
    with relative links (opens from disk or any static host; no server, no network).

    \b
    Example:
      kg site -o /tmp/workflow-kg-site && xdg-open /tmp/workflow-kg-site/index.html
    """
    from ..pages.site import write_site

    try:
        result = write_site(graph_of(ctx), output, progress=Progress(quiet))
    except StoreNotBuilt as err:
        fail(str(err), 1)
    click.echo(f"wrote {result.pages} pages to {result.folder}; open "
               f"{result.folder / 'index.html'}")


COMMANDS = [serve, viz, site]
