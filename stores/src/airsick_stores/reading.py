"""How every store reads the lake: read-only, parameters bound, one error for "cannot read".

A table or a raw folder that does not exist yet is nothing to read (an empty frame): a new
person has no diary, a new home no build. Anything else is :class:`Unavailable`, with one
sentence a person can act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airsick_lakehouse import Lakehouse, connect

if TYPE_CHECKING:
    import pandas as pd


class Unavailable(RuntimeError):
    """The lake or the registry cannot be read right now."""


def query(lakehouse: Lakehouse, sql: str, parameters: list, attach: bool = True) -> pd.DataFrame:
    """Run ``sql`` on the lakehouse (``attach=False``: on its raw files only)."""
    import pandas as pd

    try:
        with connect(lakehouse, read_only=True, attach=attach) as con:
            return con.execute(sql, parameters).df()
    except Exception as error:
        if _nothing_yet(error):
            return pd.DataFrame()
        raise Unavailable(
            f"The lake at {lakehouse.lake_url} cannot be read right now ({type(error).__name__}); "
            "check that it is reachable and try again."
        ) from error


def _nothing_yet(error: Exception) -> bool:
    """Whether ``error`` says only that a table or a raw folder does not exist yet."""
    text = str(error)
    return "does not exist" in text or "No files found" in text
