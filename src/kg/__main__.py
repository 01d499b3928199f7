"""`python -m kg`, as the console script `kg`."""

from .cli import run

run()
