"""The year a version label stands for (``2024``, ``2024-06-30``, ``JCTB-2025-06`` …)."""

from __future__ import annotations

import re

__all__ = ["version_year"]

# A year 1900–2099 not glued to other digits, or the first four digits of an
# eight-digit date (20240630).
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\d{4}(?!\d)|(?!\d))")


def version_year(label: object) -> int | None:
    """Return the year a version label (or a date) stands for, or None.

    The rule: the first year 1900–2099 in the label that is not part of a
    longer number, or the year of an eight-digit date.

    Parameters
    ----------
    label : object
        A version label such as ``"2024"``, ``"2024-06-30"``, ``"20240630"``,
        ``"JCTB-2025-06"``, or a date text.

    Returns
    -------
    int or None

    Examples
    --------
    >>> [version_year(x) for x in ("2024", "2024-06-30", "20240630", "JCTB-2025-06", "v12345", "")]
    [2024, 2024, 2024, 2025, None, None]
    """
    m = _YEAR.search(str(label).strip())
    return int(m.group(1)) if m else None
