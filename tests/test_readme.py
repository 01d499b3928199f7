"""The README is true: its two commands are what CI runs, and its `kg` examples and
Python example run as written (against the fixture project)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SERVER_COMMANDS = ("serve", "push")  # exercised by the HTTP tests, which start servers


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def kg_lines() -> list[str]:
    lines = []
    for block in code_blocks("sh"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("kg ") and line.split()[1] not in SERVER_COMMANDS:
                lines.append(line)
    return lines


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    first_block = code_blocks("sh")[0]
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == [
        "make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))
            ] == ["make test"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The real project, built once into a temporary store."""
    path = tmp_path_factory.mktemp("readme-store")
    result = CliRunner().invoke(main, ["--project", str(ROOT), "--store", str(path), "build",
                                       "-q"])
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def in_project(store, tmp_path, monkeypatch):
    """Run as a user would in a checkout: paths relative to the project root."""
    monkeypatch.setenv("KG_STORE", str(store))
    monkeypatch.chdir(ROOT)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("line", kg_lines())
def test_readme_kg_example_runs(in_project, line):
    args = [a if a != "my-query.rq" else str(in_project / a) for a in shlex.split(line)[1:]]
    args = [a if a != "workflow-kg.trig" else str(in_project / a) for a in args]
    # an output (`-o /tmp/...`) goes to this test's own folder: two runs at once never clash
    args = [str(in_project / Path(a).name) if i and args[i - 1] == "-o" else a
            for i, a in enumerate(args)]
    (in_project / "my-query.rq").write_text("SELECT ?e WHERE { ?e a wf:WorkflowEngine }")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (line, result.stderr)


def test_the_named_query_table_lists_every_named_query():
    section = README.split("### The named queries", 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.M)
    named = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    assert sorted(listed) == named


READ_ONLY = ("cite", "decide", "export", "history", "path", "prefixes", "queries", "query",
             "report", "stats", "viz")  # commands whose examples change nothing but -o files


def help_examples() -> list[str]:
    lines = []
    for name in READ_ONLY:
        text = CliRunner().invoke(main, [name, "--help"]).stdout
        lines += [line.strip() for line in text.split("Example", 1)[1].splitlines()
                  if line.strip().startswith(f"kg {name}")]
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("line", help_examples())
def test_help_example_runs(in_project, line):
    """Every example a read-only command's --help shows works as written."""
    args = shlex.split(line)[1:]
    args = [str(in_project / Path(a).name) if i and args[i - 1] == "-o" else a
            for i, a in enumerate(args)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (line, result.stderr)


@pytest.mark.slow
def test_readme_python_example_runs(in_project):
    [example] = [b for b in code_blocks("python") if "from kg import" in b]
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - the README's own example


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for name in main.commands:
        text = runner.invoke(main, [name, "--help"]).stdout
        assert "Example" in text, name
        example_lines = [line.strip() for line in text.split("Example", 1)[1].splitlines()
                         if line.strip().startswith("kg ")]
        assert any(name in line.split() for line in example_lines), (name, example_lines)
