"""The `kg` command line: a thin adapter that parses arguments, calls the core and renders.
One module per group of commands, named for what they do: `store` (build, validate,
push, history), `ask` (query, path, decide), `paper` (cite, report, paper, import),
`serve` (serve, viz, site) and `lab` (verify, bench-engines); `common` holds what they
share. No command holds logic of its own: each calls kg.KnowledgeGraph or a subpackage.

Imports: everything (the command line sits above every part, like kg.graph).

Exit codes: 0 success; 1 the data is bad (syntax, SHACL, OWL inconsistency);
2 the request is bad (unknown query, bad parameter, SPARQL syntax, usage)."""

from __future__ import annotations

import click

from .._version import __version__
from ..errors import KgError
from . import ask, lab, paper, serve, store
from .common import fail


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
@click.option("--project", type=click.Path(file_okay=False), envvar="KG_PROJECT",
              help="Project folder holding ontology/, data/, queries/ [default: the nearest "
                   "one above the current folder, else the copy installed with kg].")
@click.option("--store", type=click.Path(file_okay=False), envvar="KG_STORE",
              help="Store folder [default: <project>/.kg].")
@click.option("--endpoint", envvar="KG_ENDPOINT", metavar="URL",
              help="Run against this remote SPARQL 1.1 query endpoint instead of the "
                   "embedded store.")
@click.option("--update-endpoint", envvar="KG_UPDATE_ENDPOINT", metavar="URL",
              help="The remote SPARQL Update endpoint [default: derived from --endpoint "
                   "for the store's kind, else --endpoint].")
@click.option("--store-endpoint", envvar="KG_STORE_ENDPOINT", metavar="URL",
              help="The remote Graph Store Protocol endpoint, for `kg push` "
                   "[default: derived from --endpoint for the store's kind, else --endpoint].")
@click.option("--store-kind", envvar="KG_STORE_KIND", default="auto", show_default=True,
              type=click.Choice(["auto", "oxigraph", "fuseki", "virtuoso", "sparql"]),
              help="The remote store's kind, for its adapter (auto: from its answers). "
                   "Credentials come from KG_REMOTE_USER and KG_REMOTE_PASSWORD, or "
                   "KG_REMOTE_TOKEN, never from the command line.")
@click.pass_context
def main(ctx: click.Context, project: str | None, store: str | None, endpoint: str | None,
         update_endpoint: str | None, store_endpoint: str | None, store_kind: str) -> None:
    """Workflow KG: build, validate, query and cite a knowledge graph of workflow engines,
    distributed computing and formal verification.

    \b
    Example:
      kg build && kg query cases-by-technology --param tech=wfr:temporal
    """
    ctx.obj = {"project": project, "store": store,
               "endpoints": {"endpoint": endpoint, "update_endpoint": update_endpoint,
                             "store_endpoint": store_endpoint, "store_kind": store_kind}}


for _module in (store, ask, paper, serve, lab):
    for _command in _module.COMMANDS:
        main.add_command(_command)


def run() -> None:  # pragma: no cover - console entry with a last-resort handler
    try:
        main()
    except KgError as err:
        fail(str(err), 1)


if __name__ == "__main__":  # pragma: no cover
    run()
