"""Areas as exact integer hundredths (cents) of m², so sums reconcile to the cent."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from onemap.errors import InputError

__all__ = ["to_cents"]


def to_cents(values: ArrayLike, what: str = "TBDLMJ") -> NDArray[np.int64]:
    """Areas in m² with two decimals → exact int64 hundredths of m².

    Parameters
    ----------
    values : array-like
        Areas in m² (numbers or numeric text).
    what : str
        Field name used in the error message.

    Returns
    -------
    numpy.ndarray of int64
        ``value × 100`` rounded to the nearest integer (values carry at most
        two decimals, so the product is within rounding noise of an integer).

    Raises
    ------
    onemap.errors.InputError
        If any value is empty or not a number (a NaN would become a huge negative integer).

    Examples
    --------
    >>> to_cents([1.005e2, 0.01, 12345.67]).tolist()
    [10050, 1, 1234567]
    """
    arr = np.asarray(pd.to_numeric(values, errors="coerce"), dtype="float64")
    if np.isnan(arr).any():
        raise InputError(f"{what} 存在空值，无法统计；请先补算图斑地类面积")
    return np.rint(arr * 100.0).astype(np.int64)
