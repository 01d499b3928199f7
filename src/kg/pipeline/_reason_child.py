"""The child process of kg.pipeline.reason, run by path: reason over the parts of the data
it is given (a JSON list of [schema file, verified part, unverified part, answer
prefix] on stdin), one after the other, each answer written to `<prefix>.here` and
`<prefix>.added`, then its index among all parts (the prefix's number) printed; "same"
instead when a closure says two resources are the same (the caller then reasons over
all the data at once)."""

import json
import sys
from pathlib import Path


def main() -> int:
    sys.path.insert(0, sys.argv[1])  # the folder of the caller's kg package
    from kg.pipeline.reason import _reason_part

    check = sys.argv[2] == "1"
    for schema, first, second, prefix in json.loads(sys.stdin.buffer.read()):
        found = _reason_part(schema, first, second, check)
        if found is None:
            print("same", flush=True)
            return 0
        out = Path(prefix)
        out.with_suffix(".here").write_bytes(found[0])
        out.with_suffix(".added").write_bytes(found[1])
        print(out.name.removeprefix("out-"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
