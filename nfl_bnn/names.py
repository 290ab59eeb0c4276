"""Player-name keys for joining sources that do not share player ids (books, NFL.com, nflverse).

One rule everywhere, so a name that matches in one join matches in all: accents folded to ASCII,
lower case, punctuation dropped, hyphens as spaces, Jr/Sr/II/III/IV/V suffixes removed.
"""
from __future__ import annotations

import re
import unicodedata

_SUFFIX = re.compile(r"\b(jr|sr|ii|iii|iv|v)\b")


def normalise_name(name: str) -> str:
    """'Kenneth Walker III' -> 'kenneth walker'; 'J.K. Dobbins Jr.' -> 'jk dobbins'; 'Jamaal Charles' unchanged
    but lower case. Used only as a join key."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z ]", "", s.replace("-", " "))
    return " ".join(_SUFFIX.sub("", s).split())
