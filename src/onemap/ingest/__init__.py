"""Ingest: the only way data enters a workspace."""

from onemap.ingest.pipeline import IngestResult, ingest

__all__ = ["IngestResult", "ingest"]
