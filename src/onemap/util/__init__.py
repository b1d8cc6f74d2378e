"""Small helpers shared across layers: exact area sums in cents, the year of a version label."""

from onemap.util.amounts import to_cents
from onemap.util.labels import version_year

__all__ = ["to_cents", "version_year"]
