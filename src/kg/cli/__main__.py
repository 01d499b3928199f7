"""`python -m kg.cli`, as the console script `kg`."""

from . import run

run()
