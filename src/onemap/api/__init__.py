"""HTTP adapters: REST API, OGC API – Features, vector tiles (FastAPI)."""

from onemap.api.app import create_app, serve

__all__ = ["create_app", "serve"]
