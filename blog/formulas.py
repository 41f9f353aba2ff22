"""Math in posts: `$...$` inline and `$$...$$` on its own lines become MathML on the server.

Browsers draw MathML themselves, so a page with formulas loads no script and nothing
from another site. latex2mathml turns the LaTeX into MathML; the sanitiser then keeps
exactly the elements and attributes below, as for any other markup.

The dollar rules are Pandoc's, so prices stay prices: the opening `$` is followed by
something other than a space, the closing one follows something other than a space, and
a digit may not touch either from outside ("$5 and $10" is text).
"""

import html

from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

# What latex2mathml writes, as browsers draw it (MathML Core and its common extras).
# Nothing here can link or run anything: latex2mathml's \href becomes an href, which
# stays out, as do style and every event handler.
MATHML_TAGS = {
    "math", "menclose", "merror", "mfrac", "mi", "mmultiscripts", "mn", "mo", "mover",
    "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace", "msqrt",
    "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder",
    "munderover", "none", "semantics",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "accent", "accentunder", "columnalign", "columnlines", "columnspacing", "depth",
    "display", "displaystyle", "fence", "form", "frame", "height", "largeop",
    "linebreak", "linethickness", "lspace", "mathbackground", "mathcolor", "mathsize",
    "mathvariant", "maxsize", "minsize", "movablelimits", "notation", "rowalign",
    "rowlines", "rowspacing", "rspace", "scriptlevel", "separator", "stretchy",
    "symmetric", "voffset", "width",
}  # fmt: skip
# Classes the formulas' wrappers carry (the plugin's, and ours for one that failed).
MATH_CLASSES = {"math", "inline", "block", "math-error"}
# A formula past this many characters is shown as its source, not converted: the
# converter walks nested braces recursively, and no real formula comes near it.
FORMULA_MAX = 5_000
# Braces inside braces: the converter recurses once a level, and the MathML it writes
# nests as deep, which the body's nesting limit (blog/rendering.py) would refuse whole.
BRACES_MAX = 50
# What one body's formulas may ask of the converter in all (about 40 µs a character):
# a real post has a few thousand; past this, the rest are shown as their source.
FORMULAS_MAX = 50_000
# What latex2mathml's errors mean, for the note under a formula it could not read.
_MEANINGS = {
    "NoAvailableTokensError": "it ends too soon; a closing brace or \\end is missing",
    "MissingSuperScriptOrSubscriptError": "a ^ or _ has nothing after it",
    "MissingEndError": "an \\end is missing",
    "ExtraLeftOrMissingRightError": "a \\left has no \\right",
    "NumeratorNotFoundError": "a fraction has no numerator",
    "LimitsMustFollowMathOperatorError": "\\limits follows something that is not an operator",
    "DenominatorNotFoundError": "a fraction has no denominator",
    "DoubleSubscriptsError": "two subscripts in a row; use braces",
    "DoubleSuperscriptsError": "two superscripts in a row; use braces",
    "InvalidAlignmentError": "an alignment is not one LaTeX knows",
    "InvalidStyleForGenfracError": "\\genfrac's style is not 0 to 3",
    "InvalidWidthError": "a width is not one LaTeX knows",
    "RecursionError": "its braces are nested too deeply",
}


def to_mathml(latex: str, display: bool, budget: list[int] | None = None) -> str:
    """The formula as MathML; one that cannot be read, as its source with a note.

    `budget` (a one-item list, shared by one body's formulas) is what is left of
    FORMULAS_MAX; each formula takes its length from it.
    """
    if len(latex) > FORMULA_MAX:
        return failed(latex, display, f"it is longer than {FORMULA_MAX:,} characters")
    if brace_depth(latex) > BRACES_MAX:
        return failed(latex, display, f"its braces are nested more than {BRACES_MAX} deep")
    if budget is not None:
        if budget[0] < len(latex):
            return failed(latex, display, f"the post's formulas pass {FORMULAS_MAX:,} characters")
        budget[0] -= len(latex)
    try:
        mathml = convert(latex, display="block" if display else "inline")
    except Exception as error:  # noqa: BLE001 -- latex2mathml raises many kinds on bad input
        return failed(latex, display, _MEANINGS.get(type(error).__name__, _words(error)))
    return mathml


def brace_depth(latex: str) -> int:
    """How deep the formula's {braces} go (an escaped \\{ is a character, not a group)."""
    depth = deepest = 0
    escaped = False
    for character in latex:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif character == "}":
            depth = max(0, depth - 1)
    return deepest


def _words(error: Exception) -> str:
    """An error's name as words: "UnknownThingError" -> "unknown thing"."""
    name = type(error).__name__.removesuffix("Error")
    return "".join(" " + c.lower() if c.isupper() else c for c in name).strip()


def failed(latex: str, display: bool, why: str) -> str:
    """The formula's source, with a visible note that says it could not be drawn."""
    fence = "$$" if display else "$"
    return (
        f'<span class="math-error"><code>{html.escape(fence + latex + fence)}</code> '
        f"<small>(This formula could not be read: {html.escape(why)}.)</small></span>"
    )


def _budget(env: dict) -> list[int]:
    return env.setdefault("formulas_left", [FORMULAS_MAX])


def _inline(self, tokens, idx, options, env) -> str:
    mathml = to_mathml(tokens[idx].content.strip(), False, _budget(env))
    return f'<span class="math inline">{mathml}</span>'


def _inline_display(self, tokens, idx, options, env) -> str:
    # `$$...$$` inside a paragraph: displayed, but in a <span> (a <div> may not be in a <p>).
    mathml = to_mathml(tokens[idx].content.strip(), True, _budget(env))
    return f'<span class="math block">{mathml}</span>'


def _block(self, tokens, idx, options, env) -> str:
    mathml = to_mathml(tokens[idx].content.strip(), True, _budget(env))
    return f'<div class="math block">{mathml}</div>\n'


def math_plugin(md: MarkdownIt) -> None:
    """Dollar math for a MarkdownIt parser, rendered to MathML."""
    md.use(
        dollarmath_plugin,
        allow_space=False,
        allow_digits=False,
        allow_labels=False,
        double_inline=True,
    )
    md.add_render_rule("math_inline", _inline)
    md.add_render_rule("math_inline_double", _inline_display)
    md.add_render_rule("math_block", _block)
