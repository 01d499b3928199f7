"""The child process of kg.pipeline.intake, run by path so that it imports pyoxigraph only: read an
RDF body on stdin under an address-space and CPU limit, write its triples as N-Triples
on stdout. Exit 2: the body is not valid (message on stderr); 3: the triples pass the
expansion limit."""

import resource
import sys

import pyoxigraph as ox


def main() -> int:
    media_type, limit, memory, cpu = sys.argv[1], *map(int, sys.argv[2:5])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    rdf_format = ox.RdfFormat.from_media_type(media_type)
    data = sys.stdin.buffer.read()
    out, size = sys.stdout.buffer, 0
    try:
        for quad in ox.parse(data, format=rdf_format):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                print("the body names a graph of its own; send one graph", file=sys.stderr)
                return 2
            line = str(quad.triple).encode() + b" .\n"
            size += len(line)
            if size > limit:
                return 3
            out.write(line)
    except SyntaxError as err:
        print(str(err).splitlines()[0] if str(err) else "syntax error", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
