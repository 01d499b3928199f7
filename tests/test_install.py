"""`pip install .` (not editable) into a new virtual environment gives a working `kg`
outside the repository, with the ontology, data and queries installed alongside."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_pip_install_gives_working_kg_outside_the_repo(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)  # the tests' pip installs into it (--python)
    python = env_dir / "bin" / "python"
    # The package itself is built and installed as a wheel; its dependencies, already
    # installed for the tests, are lent by path (their .pth files, such as this checkout's
    # editable install, are not read), so the test does not download them again.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", str(ROOT)], check=True, cwd=tmp_path, timeout=900)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    lent = [p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir()]
    (site / "zz-test-dependencies.pth").write_text("".join(f"{p}\n" for p in lent))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KG_", "PYTHON"))}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    kg = env_dir / "bin" / "kg"
    help_text = subprocess.run([kg, "--help"], cwd=elsewhere, env=env, capture_output=True,
                               text=True, check=True).stdout
    assert "Workflow KG" in help_text and "query" in help_text
    listing = subprocess.run([kg, "queries"], cwd=elsewhere, env=env, capture_output=True,
                             text=True, check=True).stdout
    assert "cases-by-technology" in listing
    # the installed copy builds and answers from its own bundled data
    subprocess.run([kg, "build", "-q"], cwd=elsewhere, env=env, check=True, timeout=600)
    answer = subprocess.run(
        [kg, "query", "engine-backends", "--param", "engine=wfr:temporal", "--format", "csv"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert "https://w3id.org/workflow-kg/resource/postgresql" in answer
    # the pages' templates and assets are installed: a graph page renders from them
    subprocess.run([kg, "viz", "--focus", "wfr:temporal", "-o", "temporal.html"], cwd=elsewhere,
                   env=env, check=True, timeout=300)
    assert "vis.Network" in (elsewhere / "temporal.html").read_text(encoding="utf-8")
    assets = subprocess.run(
        [python, "-c", "from kg.pages.render import STATIC, TEMPLATES; "
         "print(sorted(p.name for p in [STATIC / 'yasgui' / 'yasgui.min.js', "
         "STATIC / 'site.css', TEMPLATES / 'resource.html'] if p.is_file()))"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert assets.strip() == "['resource.html', 'site.css', 'yasgui.min.js']"
    # nothing was imported from the source tree
    origin = subprocess.run([python, "-c", "import kg; print(kg.__file__)"], cwd=elsewhere,
                            env=env, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in origin and sys.prefix not in origin
