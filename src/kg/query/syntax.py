"""SPARQL syntax errors people can read. The engine's parser reports the furthest place
it could not continue and every token it would have accepted (Unicode ranges included);
this says what is wrong in words, with line and column: an unknown prefix by name, a
misspelt query form with the keyword meant, a group never closed, else the engine's
expectation without the character classes, and the line with a caret under the place.

>>> print(explain("SELEC * WHERE { ?s ?p ?o }", "error at 1:10: expected CONSTRUCT"))
line 1, column 1: 'SELEC' is not a SPARQL keyword here; did you mean SELECT?
  SELEC * WHERE { ?s ?p ?o }
  ^
"""

from __future__ import annotations

import difflib
import re

from ..errors import Refused
from ..namespaces import PREFIXES
from .guard import tokens

FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATES = ("INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
           "COPY")
PROLOGUE = ("PREFIX", "BASE")
_WHERE = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _caret(text: str, line: int, column: int) -> str:
    lines = text.splitlines() or [""]
    shown = lines[min(line, len(lines)) - 1]
    return f"\n  {shown}\n  {' ' * (column - 1)}^"


def explain(text: str, message: str) -> str:
    """A readable version of the engine's syntax error `message` about `text`."""
    try:
        toks = list(tokens(text))
    except Refused:
        toks = []
    declared = dict(PREFIXES)
    for i, tok in enumerate(toks[:-2]):
        if tok.text.upper() == "PREFIX" and toks[i + 1].kind == "pname":
            declared[toks[i + 1].text.rstrip(":")] = toks[i + 2].text
    for tok in toks:
        prefix = tok.text.split(":", 1)[0]
        if tok.kind == "pname" and prefix not in declared:
            line, column = _position(text, tok.start)
            return (f"line {line}, column {column}: unknown prefix '{prefix}:' in {tok.text}; "
                    f"declare it with PREFIX {prefix}: <...>, or use one of "
                    f"{', '.join(sorted(declared))}" + _caret(text, line, column))
    words = [t for t in toks if not (t.kind == "word" and t.text.upper() in PROLOGUE)
             and t.kind not in ("pname", "iri")]
    if words and words[0].kind == "word" and words[0].text.upper() not in FORMS + UPDATES:
        first = words[0]
        line, column = _position(text, first.start)
        close = difflib.get_close_matches(first.text.upper(), FORMS + UPDATES, n=1)
        hint = f"did you mean {close[0]}?" if close else \
            f"a query starts with {', '.join(FORMS)}"
        return (f"line {line}, column {column}: '{first.text}' is not a SPARQL keyword "
                f"here; {hint}" + _caret(text, line, column))
    depth: list = []
    for tok in toks:
        if tok.kind == "punct" and tok.text == "{":
            depth.append(tok)
        elif tok.kind == "punct" and tok.text == "}" and depth:
            depth.pop()
    if depth:
        line, column = _position(text, depth[-1].start)
        return (f"line {line}, column {column}: this '{{' is never closed"
                + _caret(text, line, column))
    match = _WHERE.match(message)
    if not match:
        return message
    line, column, rest = int(match.group(1)), int(match.group(2)), match.group(3)
    expected = rest.removeprefix("expected one of ").removeprefix("expected ")
    readable = [e for e in re.findall(r'"[^"]*"|\[[^\]]*\]|[^,\s\[]+', expected)
                if not e.startswith("[")]
    what = (f"expected {', '.join(readable[:12])}" + (" ..." if len(readable) > 12 else "")
            if readable else "unexpected text")
    return f"line {line}, column {column}: {what}" + _caret(text, line, column)
