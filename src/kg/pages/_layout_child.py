"""The child process of kg.pages.viz, run by path: the seeded spring layout of the graph
it is given (JSON on stdin: {"nodes": [...], "edges": [[a, b], ...], "k": float, "seed":
int, "iterations": int}), as JSON {node: [x, y]} on stdout. A layout of a large graph is
seconds of Python and NumPy; made here, it holds no lock and no interpreter that a page
being served needs."""

import json
import sys


def main() -> int:
    try:  # stop with the service that asked (Linux): a layout nobody waits for is waste
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    import networkx as nx

    job = json.loads(sys.stdin.buffer.read())
    graph = nx.Graph()
    graph.add_nodes_from(job["nodes"])
    graph.add_edges_from(job["edges"])
    pos = nx.spring_layout(graph, seed=job["seed"], iterations=job["iterations"], k=job["k"])
    json.dump({n: [float(x), float(y)] for n, (x, y) in pos.items()}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
