"""Code blocks coloured on the server by Pygments: classes only, and the palettes for them.

A fenced block that names a language Pygments knows (```python) becomes spans with
`tok-` classes; the colours live in static/highlight.css, which this module writes
(`make static/highlight.css`; a test fails while the file is out of date).
Readers get one palette for a light setting and one for a dark one, each taken from a
Pygments style and made to pass WCAG's 4.5:1 contrast on its own background.
"""

import colorsys
import html

from pygments import lex
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, Token, Whitespace
from pygments.util import ClassNotFound

CLASS_PREFIX = "tok-"
# Every class a highlighted block may carry: the sanitiser lets these through on <span>.
TOKEN_CLASSES = frozenset(CLASS_PREFIX + name for name in STANDARD_TYPES.values() if name)
# A block past this many characters is left plain. Lexers are regular expressions, and a
# few have slowed badly on odd input: the cap bounds what one save or preview may cost.
HIGHLIGHT_MAX = 20_000

LIGHT_STYLE = "default"  # Pygments' own
DARK_STYLE = "github-dark"
CONTRAST = 4.5  # WCAG 2 AA for body text, which axe checks


def token_class(token_type) -> str:
    """The class of a token: its own standard short name, or its nearest parent's (a
    lexer's private subtypes, which Pygments' HtmlFormatter would name "n-Foo")."""
    if token_type in Whitespace:
        return ""  # nothing to colour
    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    name = STANDARD_TYPES[token_type]
    return CLASS_PREFIX + name if name else ""


def highlight(code: str, language: str, attributes: str = "") -> str | None:
    """The block's code as escaped HTML with token spans, or None to leave it plain
    (no language, one Pygments does not know, or a block past HIGHLIGHT_MAX).

    MarkdownIt's `highlight` option: it passes what follows the language on the fence
    line as `attributes`, which nothing here reads."""
    if not language or len(code) > HIGHLIGHT_MAX:
        return None
    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    runs: list[list] = []  # [class, text]: neighbouring tokens of one class as one span
    for token_type, value in lex(code, lexer):
        css_class = token_class(token_type)
        if runs and runs[-1][0] == css_class:
            runs[-1][1] += value
        else:
            runs.append([css_class, value])
    return "".join(
        f'<span class="{css_class}">{html.escape(text, quote=False)}</span>'
        if css_class
        else html.escape(text, quote=False)
        for css_class, text in runs
    )


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((_luminance(_rgb(one)), _luminance(_rgb(other))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4))


def readable(colour: str, background: str) -> str:
    """`colour` as it is if it reaches CONTRAST on `background`, else with its lightness
    moved (darker on a light background, lighter on a dark one) until it does; its hue
    stays, so the palette keeps its look."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*_rgb(colour))
    step = -0.01 if _luminance(_rgb(background)) > 0.18 else 0.01
    candidate = colour
    # 0.1 above the rule: browsers round colours, and axe measures what they paint.
    while contrast(candidate, background) < CONTRAST + 0.1 and 0 < lightness < 1:
        lightness = min(1.0, max(0.0, lightness + step))
        r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
        candidate = "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in (r, g, b)))
    return candidate.lower()


def palette(style_name: str, scope: str) -> list[str]:
    """CSS rules for one Pygments style: the block's colours, then one rule per class."""
    style = get_style_by_name(style_name)
    background = style.background_color
    text = readable("#" + (style.style_for_token(Token.Text)["color"] or "000000"), background)
    if _luminance(_rgb(background)) <= 0.18 and text == "#000000":
        text = readable("#ffffff", background)
    rules = [f"{scope} pre {{ background: {background}; color: {text}; }}"]
    for token_type, name in sorted(STANDARD_TYPES.items(), key=lambda item: item[1]):
        if not name or token_type in Whitespace:
            continue  # spaces have no colour anyone can see
        found = style.style_for_token(token_type)
        declarations = []
        if found["color"]:
            colour = readable("#" + found["color"].lower(), background)
            declarations.append(f"color: {colour}")
        if found["bold"]:
            declarations.append("font-weight: bold")
        if found["italic"]:
            declarations.append("font-style: italic")
        if declarations:
            rules.append(f"{scope} .{CLASS_PREFIX}{name} {{ {'; '.join(declarations)}; }}")
    return rules


def stylesheet() -> str:
    """static/highlight.css: the light palette, and the dark one for a dark setting."""
    # "main" outweighs the theme's own `.post-body pre` (style.css, which comes later).
    scope = "main .post-body"
    light = palette(LIGHT_STYLE, scope)
    dark = palette(DARK_STYLE, scope)
    return "\n".join(
        [
            "/* Written by `make static/highlight.css` from blog/highlighting.py: edit that. */",
            f"/* Light: Pygments' {LIGHT_STYLE!r}; dark: {DARK_STYLE!r}; every colour reaches "
            f"{CONTRAST}:1 on its background. */",
            *light,
            "@media (prefers-color-scheme: dark) {",
            *("  " + rule for rule in dark),
            "}",
            "",
        ]
    )
