"""Spellings of a route's path that a client, a proxy or an attacker may send instead of the route
itself: the access tests (unit and end to end) and `make fuzz` walk every route through them."""

from __future__ import annotations

# A value for each path parameter of the access table's routes.
SAMPLE_PARAMETERS = {
    "{event_id}": "5f0c1d3e-6a9b-4c2d-8e7f-0a1b2c3d4e5f",
    "{schedule_id}": "6a1d2e4f-7b0c-4d3e-9f80-1b2c3d4e5f60",
    "{user_id}": "7b2e3f50-8c1d-4e4f-a091-2c3d4e5f6071",
    "{key_id}": "0123456789ab",
    "{topic}": "news",
    "{channel}": "email",
    "{address}": "a%40example.com",
}
# Appended as they are: stray characters a lax matcher (`$`, `startswith`) lets through.
STRAY_ENDINGS = ("\n", "%0a", "%0A", "%00", ";", ";x", "%20", " ", "\t", "\\", ".", "%2e", "#", "?")


def concrete(path: str) -> str:
    """The access table's path (`/events/{event_id}`) with a sample value in each parameter."""
    for name, value in SAMPLE_PARAMETERS.items():
        path = path.replace(name, value)
    return path


def path_variants(path: str) -> list[str]:
    """Every variant of a concrete path (`/keys/0123456789ab`), without the path itself."""
    segments = path.strip("/").split("/")
    variants: list[str] = []

    def add(variant: str) -> None:
        if variant != path and variant not in variants:
            variants.append(variant)

    # Trailing, leading and doubled slashes; empty segments.
    for tail in ("/", "//", "///", "/./", "//."):
        add(path + tail)
    add("/" + path)
    add("//" + path.lstrip("/") + "/")
    for index in range(1, len(segments)):
        add("/" + "/".join(segments[:index]) + "//" + "/".join(segments[index:]))
        add("/" + "/".join(segments[:index]) + "///" + "/".join(segments[index:]))
    # Percent-encoded separators, in both cases, and a backslash for one.
    for index in range(1, len(segments)):
        for separator in ("%2F", "%2f", "%5C", "\\"):
            add("/" + "/".join(segments[:index]) + separator + "/".join(segments[index:]))
    add("/%2F" + path.lstrip("/"))
    # Percent-encoded letters: the first letter of each segment, hex in upper and lower case.
    for index, segment in enumerate(segments):
        first = next((pos for pos, char in enumerate(segment) if char.isalpha()), None)
        if first is None:
            continue
        for spelled in (f"%{ord(segment[first]):02X}", f"%{ord(segment[first]):02x}"):
            changed = [*segments]
            changed[index] = segment[:first] + spelled + segment[first + 1 :]
            add("/" + "/".join(changed))
    # Letter case.
    add(path.upper())
    add("/" + "/".join(segment[:1].upper() + segment[1:] for segment in segments))
    # Dot segments, literal and encoded.
    for index in range(len(segments)):
        head, rest = "/".join(segments[:index]), "/".join(segments[index:])
        prefix = "/" + head + "/" if head else "/"
        add(prefix + "./" + rest)
        add(prefix + "x/../" + rest)
        add(prefix + "%2e/" + rest)
        add(prefix + "x/%2e%2e/" + rest)
    add(path + "/..")
    add(path + "/x/..")
    # Stray characters after the path and after its first segment.
    for ending in STRAY_ENDINGS:
        add(path + ending)
        add("/" + segments[0] + ending + ("/" + "/".join(segments[1:]) if segments[1:] else ""))
    return variants
