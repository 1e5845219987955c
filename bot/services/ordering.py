"""Names in the order a reader expects: numbers by their value («№ 3» before «№ 14»), letters
case-insensitively, ё with е and й after и as in the Russian alphabet. No system locale is
needed, so every machine sorts the same way."""

from __future__ import annotations

from typing import Any

from natsort import natsort_keygen, ns

_natural = natsort_keygen(alg=ns.IGNORECASE)


def _letters(value: str) -> str:
    # natsort compares decomposed text (NFD): й would be и with a breve and sort before и.
    return value.casefold().replace("ё", "е").replace("й", "и\uffff")


def natural_key(*parts: str | None) -> tuple[Any, ...]:
    """A sort key of one name, or of a name in parts (a surname, then the given names)."""
    return tuple(_natural(_letters(part or "")) for part in parts)
