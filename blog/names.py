"""Names made from what people type: slugs, and free names (a name, or it with -2, -3…).

Post slugs, category and tag slugs and uploaded file names all come through here, so
"make a slug" and "take the name, or number it" each have one meaning everywhere.
"""

from collections.abc import Callable

from slugify import slugify

SLUG_MAX = 200
# As WordPress does, "Don't" becomes "dont", not "don-t".
APOSTROPHES = [("'", ""), ("\u2019", ""), ("\u02bc", "")]


def make_slug(text: str, max_length: int = SLUG_MAX) -> str:
    """Lower-case words joined by dashes, transliterated ("Ünïcode" -> "unicode")."""
    return slugify(
        text, max_length=max_length, word_boundary=True, save_order=True, replacements=APOSTROPHES
    )


def first_free(base: str, is_taken: Callable[[str], bool], max_length: int = 0) -> str:
    """`base` if it is free, else `base-2`, `base-3`…; cut so that it fits `max_length`.

    The number always goes on `base` itself, so a taken "x-2" gives "x-3", never "x-2-2".
    """
    candidate, number = base, 1
    while is_taken(candidate):
        number += 1
        suffix = f"-{number}"
        stem = base[: max_length - len(suffix)] if max_length else base
        candidate = stem + suffix
    return candidate
