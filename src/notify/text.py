"""What text may hold where it ends up: a line of a message header, a database field, a log line.

One rule for every field that is a single line (names, titles, addresses, tokens, cursors' halves):
no control character (Unicode category Cc: C0, DEL and C1, so CR, LF, TAB and NUL among them) and
no line or paragraph separator (U+2028, U+2029), which some readers take as a line break too.
"""

import unicodedata
from collections.abc import Iterator
from typing import Any

_LINE_SEPARATORS = {"\u2028", "\u2029"}
CONTROL_CHARACTER = "contains a control character or a line break"


def single_line(value: str) -> str:
    """`value`, or ValueError when it is not one line (a pydantic validator)."""
    if control_character_in(value):
        raise ValueError(CONTROL_CHARACTER)
    return value


def control_character_in(text: str) -> bool:
    """Whether `text` holds a character no single-line field may hold."""
    return any(unicodedata.category(char) == "Cc" or char in _LINE_SEPARATORS for char in text)


def storable_problem(text: str) -> str | None:
    """Why PostgreSQL text cannot hold `text` (None when it can): a NUL, or an unpaired surrogate."""
    if "\x00" in text:
        return "contains a NUL character"
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "contains an unpaired surrogate (not Unicode text)"
    return None


def strings_in(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string of a JSON document (keys too), with where it is; iterative, so depth costs no stack."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(loc, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield (*where, key), key
                stack.append(((*where, key), child))
        elif isinstance(item, list):
            stack.extend(((*where, index), child) for index, child in enumerate(item))
