"""The Workflow KG HTTP service (FastAPI): a thin adapter over the `kg` core."""

from .app import create_app

__all__ = ["create_app"]
