"""BibTeX files in two dialects, written by pybtex:

- `biblatex` for biblatex with biber: the entry types biblatex has (`@online`,
  `@software`), ISO `date` and `urldate`, `doi` and `url` as verbatim fields, and the CiTO
  relations in `keywords` (so `\\printbibliography[keyword=cito:disputes]` works);
- `bibtex` for classic BibTeX styles (natbib's plainnat, abbrvnat, unsrtnat, and plain):
  only the thirteen standard entry types, web pages as `@misc` with `howpublished =
  {\\url{...}}` and `note = {Accessed YYYY-MM-DD}`, a `year` on every entry ("n.d." when
  the source has no date), the month as BibTeX's macro (`month = mar`, unbraced, so that
  the style spells it out), and an entry type whose required fields are missing downgraded
  to `@misc`, so that bibtex reports no warning. It needs `\\usepackage{url}` (or hyperref).

Every text field is LaTeX-escaped (`$ % & # _ ^ ~ \\ { }`); URLs and DOIs are left verbatim.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
from collections.abc import Iterable

import latexcodec  # noqa: F401 - registers the "ulatex" codec

DIALECTS = ("biblatex", "bibtex")
VERBATIM = ("url", "doi", "urldate")
# BibTeX's month macros: a style expands them (plainnat: "March") only when unbraced
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Fields a classic BibTeX style needs for each standard type (plainnat warns without them);
# an entry missing one becomes @misc. Author is checked apart (an organisation counts).
_REQUIRED = {"article": ("journal",), "inproceedings": ("booktitle",),
             "incollection": ("booktitle", "publisher"), "book": ("publisher",),
             "phdthesis": ("school",), "mastersthesis": ("school",),
             "techreport": ("institution",)}
# Kinds that share a biblatex entry type with others, told apart by entrysubtype (which
# biblatex's standard styles ignore for these types).
ENTRYSUBTYPES = {"BlogPost": "blogpost", "Talk": "talk", "Preprint": "preprint",
                 "CoursePage": "coursepage", "Repository": "repository",
                 "Standard": "standard", "ResearchPlanDocument": "researchplan"}
_BIBLATEX_ONLY = {"online": "misc", "software": "misc"}
_SPECIAL = re.compile(r"[\\{}$^]")
_SPECIAL_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$",
                "^": r"\textasciicircum{}"}


def unescape(text: str) -> str:
    """The inverse of `escape`, for text this module wrote: LaTeX decoded (latexcodec),
    braces that only protect case dropped."""
    text = text.replace("-{}", "\0" + str(ord("-")) + "\0")
    for plain, tex in _SPECIAL_TEX.items():
        text = text.replace(tex, "\0" + str(ord(plain)) + "\0")
    text = codecs.decode(text, "ulatex").replace("{", "").replace("}", "")
    text = re.sub("\0(\\d+)\0", lambda m: chr(int(m.group(1))), text)
    return " ".join(text.split())


def escape(text: str, *, ligatures: bool = False) -> str:
    """LaTeX-escape a text field: backslash, braces, `$` and `^` here, then latexcodec
    (the codec pybtex uses) for `% & # _ ~` and the like; non-ASCII text (CJK, accents,
    dashes) stays as it is, for UTF-8 engines and biber."""
    text = _SPECIAL.sub(lambda m: _SPECIAL_TEX[m.group()], text)
    text = str(codecs.encode(text, "ulatex+utf8"))
    if ligatures:  # a page range's "--" is meant as an en dash
        return text
    return text.replace("--", "-{}-").replace("-{}--", "-{}-{}-")


def _date_parts(date: str | None) -> list[int]:
    if not date:
        return []
    return [int(p) for p in date.split("T")[0].split("-") if p.isdigit()][:3]


def fields(ref, relations: list[str], dialect: str = "biblatex"
           ) -> tuple[str, list[tuple[str, str]]]:
    """(entry type, [(field, value)]) of a kg.cite.Reference in a dialect; text values are
    already LaTeX-escaped, verbatim ones (url, doi, urldate) are not."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown BibTeX dialect {dialect!r}; choose one of "
                         f"{', '.join(DIALECTS)}")
    entry_type = ref.types[0]
    out: list[tuple[str, str]] = [("title", "{" + escape(ref.title) + "}")]
    container = {"article": "journal", "inproceedings": "booktitle",
                 "incollection": "booktitle"}.get(entry_type, "howpublished")
    if ref.venue:
        out.append((container, escape(ref.venue)))
    # A periodical numbered by issue alone (no volume): classic BibTeX styles warn on a
    # number without a volume, so there the issue is the volume, as BibTeX's own docs do.
    volume, number = ref.volume, ref.issue
    if dialect == "bibtex" and number and not volume:
        volume, number = number, None
    for name, value in (("series", ref.series), ("volume", volume), ("number", number)):
        if value:
            out.append((name, escape(value)))
    if ref.version and dialect == "biblatex":
        out.append(("version", escape(ref.version)))
    if ref.pages:
        out.append(("pages", escape(re.sub(r"\s*[-–]+\s*", "--", ref.pages), ligatures=True)))
    if publisher := ref.publisher_shown:
        out.append(({"phdthesis": "school", "techreport": "institution"}.get(
            entry_type, "publisher"), escape(publisher)))
    parts = _date_parts(ref.issued)
    if dialect == "biblatex":
        if parts:
            out.append(("date", "-".join(f"{p:02d}" if i else str(p)
                                         for i, p in enumerate(parts))))
        if ref.doi:
            out.append(("doi", ref.doi))
        if ref.url:
            out.append(("url", ref.url))
        if ref.accessed:
            out.append(("urldate", ref.accessed.split("T")[0]))
        if note := _note(ref):
            out.append(("note", note))
        if ref.kind in ENTRYSUBTYPES:  # the kind a shared entry type hides, for importers
            out.append(("entrysubtype", ENTRYSUBTYPES[ref.kind]))
        out.append(("keywords", ", ".join(relations)))
        return entry_type, out
    return _classic(entry_type, out, ref, parts)


def _classic(entry_type: str, out: list[tuple[str, str]], ref, parts: list[int]
             ) -> tuple[str, list[tuple[str, str]]]:
    """The classic-BibTeX form of an entry: a standard type with its required fields."""
    entry_type = _BIBLATEX_ONLY.get(entry_type, entry_type)
    present = {name for name, _ in out}
    if any(f not in present for f in _REQUIRED.get(entry_type, ())):
        entry_type = "misc"
    if entry_type == "misc":  # misc has no journal/booktitle/publisher: say it in words
        kept = [(n, v) for n, v in out if n in ("title", "series", "volume", "number", "pages")]
        where = [v for n, v in out if n in ("journal", "booktitle", "howpublished",
                                             "publisher", "school", "institution")]
        out = kept
        if ref.url:
            where.append(r"\url{" + ref.url + "}")
        if where:
            out.append(("howpublished", ", ".join(dict.fromkeys(where))))
    elif ref.url:
        out.append(("url", ref.url))
    out.append(("year", str(parts[0]) if parts else "n.d."))
    if len(parts) > 1:  # a month macro, written unbraced (see _writer)
        out.append(("month", MONTHS[parts[1] - 1]))
    if ref.doi:
        out.append(("doi", ref.doi))
    notes = []
    if ref.version:
        notes.append("Version " + escape(ref.version))
    if note := _note(ref):
        notes.append(note)
    if ref.url and ref.accessed:
        notes.append("Accessed " + ref.accessed.split("T")[0])
    if notes:
        out.append(("note", ". ".join(notes)))
    return entry_type, out


def _note(ref) -> str | None:
    """The note; a repository artefact's path as \\path{} (url.sty, which biblatex loads
    and the bibtex dialect needs), so that LaTeX can break it, and its hash as `digest`."""
    if ref.path:
        hashed = digest(ref.content_hash) if ref.content_hash else "no content hash"
        return rf"\path{{{ref.path}}} ({hashed})"
    if not ref.note:
        return None
    parts = _LONG_TOKEN.split(ref.note)  # odd indices: URLs and digests, kept verbatim
    return "".join((digest(p) if p.startswith("sha256:") else rf"\path{{{p}}}") if i % 2
                   else escape(p) for i, p in enumerate(parts))


def digest(text: str) -> str:
    """A hash such as sha256:<64 hex digits> in full, in typewriter type, with a break
    allowed after every four digits: \\path breaks only at punctuation, and the hash
    ran off the page."""
    algorithm, _, hexdigits = text.rpartition(":")
    groups = [hexdigits[i:i + 4] for i in range(0, len(hexdigits), 4)]
    head = escape(algorithm) + ":" if algorithm else ""
    return r"\texttt{" + head + r"\allowbreak{}".join(["", *groups] if head else groups) + "}"


_LONG_TOKEN = re.compile(r"(https?://[^\s{}]+[^\s{}.,;:)]|sha256:[0-9a-f]{16,})")


def to_bibtex(entries: Iterable, *, dialect: str = "biblatex") -> str:
    """kg.cite Entries as a .bib file in a dialect (see the module docstring)."""
    from pybtex.database import BibliographyData, Person
    from pybtex.database import Entry as BibEntry

    data = BibliographyData()
    for entry in entries:
        ref = entry.reference
        persons = {}
        names = ref.author_names
        if names:
            persons["author"] = [Person(_person(n)) for n in names]
        elif ref.publisher:
            persons["author"] = [Person("{" + escape(ref.publisher) + "}")]
        entry_type, values = fields(ref, entry.relations, dialect)
        data.add_entry(ref.key, BibEntry(entry_type, fields=values, persons=persons))
    out = io.StringIO()
    _writer()().write_stream(data, out)
    return out.getvalue()


def _person(name: str) -> str:
    """A name for pybtex: "others" stays BibTeX's own `and others` (et al.); a name with
    no comma is an organisation, kept whole in braces."""
    if name == "others":
        return name
    if "," not in name:
        return "{" + escape(name) + "}"
    family, given = (escape(p.strip()) for p in name.split(",", 1))
    return f"{family}, {given}"


@functools.cache
def _writer() -> type:
    """pybtex's BibTeX writer, writing values as they are: text fields come escaped from
    `fields`, verbatim ones (url, doi, urldate) must stay verbatim, and a month macro
    unbraced (`month = mar`: braced, styles print "mar" as it is). (pybtex is imported
    when first used: query worker processes import this module and start faster.)"""
    from pybtex.database.output.bibtex import Writer

    class Verbatim(Writer):
        def _encode(self, text):
            return text

        def _write_field(self, stream, type, value):
            self.check_braces(value)
            if type == "month" and value in MONTHS:
                stream.write(f",\n    {type} = {value}")
            else:
                stream.write(f",\n    {type} = {{{value}}}")

    return Verbatim
