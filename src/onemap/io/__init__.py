"""Reading the vector files the bureau receives."""

from onemap.io.readers import SourceData, list_layers, read_source

__all__ = ["SourceData", "list_layers", "read_source"]
