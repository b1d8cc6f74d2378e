"""Analysis engines: pure functions over layer versions (no CLI, no web)."""
