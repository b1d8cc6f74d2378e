"""OneMap 自然资源一张图: one workspace for a city's natural-resource data."""

__version__ = "0.1.0"
