"""Code blocks coloured and formulas drawn on the server, through the sanitiser."""

import os
import re
from pathlib import Path

import pytest
from latex2mathml.converter import convert

from blog.formulas import FORMULA_MAX, FORMULAS_MAX, MATHML_ATTRIBUTES, MATHML_TAGS
from blog.highlighting import CONTRAST, HIGHLIGHT_MAX, TOKEN_CLASSES, contrast, stylesheet
from blog.rendering import render_markdown, sanitise
from tests.test_rendering import payloads, problems_in

STATIC = Path(__file__).resolve().parents[1] / "static"
LANGUAGES = {
    "python": "def f(x):\n    return x + 1  # one more\n",
    "js": "const add = (a, b) => a + b; // sum\n",
    "html": '<script>alert("hi")</script>\n<a href="javascript:x">x</a>\n',
    "bash": 'for f in *.txt; do echo "$f"; done\n',
    "sql": "SELECT id FROM post WHERE title = 'x';\n",
    "rust": 'fn main() { println!("{}", 1); }\n',
    "c": "int main(void) { return 0; }\n",
    "diff": "- old\n+ new\n",
    "json": '{"a": [1, true, null]}\n',
    "yaml": "key: value\nlist: [1, 2]\n",
    "css": "body { color: red; }\n",
    "go": 'package main\nfunc main() { fmt.Println("x") }\n',
}


def classes_in(fragment: str) -> set[str]:
    return {name for value in re.findall(r'class="([^"]*)"', fragment) for name in value.split()}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_fenced_block_with_a_language_is_coloured_by_classes_only(language):
    code = LANGUAGES[language]
    page = str(render_markdown(f"```{language}\n{code}```"))

    assert '<span class="tok-' in page
    assert "style=" not in page
    spans = classes_in(page) - {f"language-{language}"}
    assert spans <= TOKEN_CLASSES
    assert sanitise(page) == page  # nothing in it that the sanitiser would take out
    # The reader still gets exactly the code that was written.
    inner = re.search(r"<code[^>]*>(.*)</code>", page, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", inner)
    assert text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == code


@pytest.mark.parametrize(
    "fence",
    ["```\n<b>x</b>\n```", "```no-such-language\n<b>x</b>\n```", "```text\n<b>x</b>\n```"],
)
def test_no_language_or_an_unknown_one_is_plain(fence):
    page = str(render_markdown(fence))
    assert "<span" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_a_huge_block_is_left_plain():
    fits = "x = 1\n" * (HIGHLIGHT_MAX // 6)
    assert "<span" in str(render_markdown(f"```python\n{fits}```"))
    assert "<span" not in str(render_markdown(f"```python\n{fits}x = 1\n```"))


def test_authors_cannot_borrow_the_classes_for_anything_else():
    page = str(
        render_markdown(
            '<span class="tok-k" style="color:red" onclick="alert(1)">a</span> '
            '<span class="banner">b</span> <div class="math block">c</div> '
            '<p class="tok-k">d</p>'
        )
    )
    assert '<span class="tok-k">a</span>' in page
    assert "<span>b</span>" in page
    assert '<div class="math block">c</div>' in page
    assert "<p>d</p>" in page
    assert "style" not in page and "onclick" not in page


def test_the_shipped_stylesheet_is_the_one_the_module_writes():
    assert (STATIC / "highlight.css").read_text() == stylesheet(), "run make static/highlight.css"


def test_every_colour_is_readable_on_its_background_light_and_dark():
    css = stylesheet()
    light, _, dark = css.partition("@media (prefers-color-scheme: dark)")
    for palette in (light, dark):
        background = re.search(r"pre \{ background: (#[0-9a-f]{6})", palette).group(1)
        colours = re.findall(r"color: (#[0-9a-f]{6})", palette)
        assert len(colours) > 30
        worst = min(contrast(colour, background) for colour in colours)
        assert worst >= CONTRAST, f"{worst:.2f}:1 on {background}"


def test_a_post_with_code_brings_the_colours_and_the_copy_button(app, add_post, client):
    add_post(title="Code", body="```python\nx = 1\n```", slug="code")
    add_post(title="Prose", body="Only words.", slug="prose")

    with_code = client.get("/code/").text
    assert "/static/highlight.css" in with_code and "/static/code.js" in with_code
    without = client.get("/prose/").text
    assert "highlight.css" not in without and "code.js" not in without


# ---- Math


@pytest.mark.parametrize(
    ("markdown", "wanted"),
    [
        ("Energy $E=mc^2$ here.", '<span class="math inline"><math display="inline">'),
        ("$$\n\\frac{a}{b}\n$$", '<div class="math block"><math display="block">'),
        ("Then $$x^2$$ inline.", '<span class="math block"><math display="block">'),
        ("$\\sqrt{x}$", "<msqrt>"),
        ("$\\sum_{i=0}^n i$", "<msubsup><mo>∑</mo>"),
        ("$$\n\\sum_{i=0}^n i\n$$", "<munderover><mo>∑</mo>"),
        ("$\\mathbb{R}$", "<mi>ℝ</mi>"),
    ],
)
def test_dollar_math_becomes_mathml(markdown, wanted):
    assert wanted in str(render_markdown(markdown))


@pytest.mark.parametrize(
    "prices",
    [
        "It costs $5 and $10 total.",
        "Between $5-$10 a month",
        "price: $3.50, tax $0.25",
        "a $ b $ c",
        "Escaped \\$x\\$ stays",
        "I paid $20",
    ],
)
def test_prices_stay_text(prices):
    assert "<math" not in str(render_markdown(prices))


@pytest.mark.parametrize(
    ("latex", "note"),
    [
        ("\\frac{a}{", "it ends too soon"),
        ("x^", "has nothing after it"),
        ("{" * 2000 + "x" + "}" * 2000, "nested more than 50 deep"),
        ("{" * 51 + "x" + "}" * 51, "nested more than 50 deep"),
        ("x" * (FORMULA_MAX + 1), "longer than"),
    ],
)
def test_bad_latex_shows_its_source_and_a_note(latex, note):
    page = str(render_markdown(f"Before $${latex}$$ after."))
    assert '<span class="math-error"><code>$$' in page
    assert "(This formula could not be read: " in page and note in page
    assert "Before" in page and "after." in page


def test_a_bad_formula_does_not_stop_a_post_from_saving(writer, app):
    response = writer.post(
        "/admin/posts/new",
        data={"title": "Maths", "body": "Good $x^2$, bad $\\frac{a}{$.", "publish": "Publish"},
    )
    assert response.status_code == 302
    page = writer.get("/maths/").text
    assert "<msup>" in page and "This formula could not be read" in page


def test_deep_braces_never_refuse_the_body_and_escaped_ones_do_not_count():
    fine = "{" * 50 + "x" + "}" * 50 + "\\{" * 80
    assert "<math" in str(render_markdown(f"$${fine}$$"))


def test_a_bodys_formulas_share_one_budget():
    formula = "a+" * 24 + "b"  # 49 characters
    count = FORMULAS_MAX // len(formula) + 10
    page = str(render_markdown(" ".join(f"${formula}$" for _ in range(count))))
    assert page.count("<math") == FORMULAS_MAX // len(formula)
    assert page.count("formulas pass") == count - FORMULAS_MAX // len(formula)


FORMULAS = [
    r"\frac{a}{b} + \sqrt[3]{x} - \binom{n}{k}",
    r"\sum_{i=0}^{n} \int_0^\infty e^{-x^2} dx \prod_j \lim_{x \to 0}",
    r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix} \begin{cases} a & x > 0 \\ b \end{cases}",
    r"\hat{x} \bar{y} \vec{v} \overline{AB} \underbrace{x+y}_{z} \overbrace{a}^{b}",
    r"\mathbf{A} \mathit{b} \mathrm{c} \mathcal{C} \mathbb{N} \boldsymbol{\alpha}",
    r"\left( \frac{1}{2} \right] \langle x \rangle \| y \|",
    r"{}^{14}_{6}C \quad a \qquad b \, c \; d \! e \phantom{x}",
    r"\color{red}{x} \text{text} \operatorname{sin} x \displaystyle\sum \tfrac12",
    r"\cancel{x} \boxed{y} \not= \xrightarrow{f} \overset{!}{=} \stackrel{?}{=}",
    r"\begin{align} a &= b \\ c &= d \end{align} \substack{i < j \\ k}",
]


@pytest.mark.parametrize("latex", FORMULAS)
def test_the_sanitiser_keeps_all_the_mathml_that_drawing_needs(latex):
    mathml = convert(latex)
    kept = sanitise(mathml)
    assert re.findall(r"<(m\w+|none|semantics)", kept) == re.findall(
        r"<(m\w+|none|semantics)", mathml
    )
    written = set(re.findall(r" ([a-z]+)=", mathml)) - {"xmlns"}
    assert written <= MATHML_ATTRIBUTES
    assert written == set(re.findall(r" ([a-z]+)=", kept))


def test_mathml_can_link_or_script_nothing():
    page = str(
        render_markdown(
            "$\\href{javascript:alert(1)}{x}$ "
            '<math href="javascript:alert(2)">'
            '<mi xlink:href="javascript:alert(3)" onclick="x()">y</mi>'
            '<maction actiontype="statusline"><mi>z</mi></maction>'
            '<annotation-xml encoding="text/html">'
            "<script>alert(4)</script></annotation-xml><mtext><style>*{}</style></mtext>"
            '<mglyph src="x"/><semantics><annotation encoding="x">s</annotation></semantics></math>'
        )
    )
    assert "href" not in page and "onclick" not in page and "alert(" not in page
    assert "<maction" not in page and "<annotation" not in page and "<style" not in page
    assert "<mglyph" not in page
    assert set(re.findall(r"<(m\w+)", page)) <= MATHML_TAGS


# The 6,613-line list takes minutes here: `make security` (PRESSROOM_XSS_FULL=1) adds it.
XSS_LISTS = ["xss-payloads-quick.txt", "xss-polyglots.txt"]
if os.environ.get("PRESSROOM_XSS_FULL"):
    XSS_LISTS.append("xss-payloads.txt")


@pytest.mark.parametrize("name", XSS_LISTS)
def test_no_xss_payload_survives_inside_math_or_code(name):
    failures = {}
    for payload in payloads(name):
        for text in (
            f"${payload}$",
            f"$$\n{payload}\n$$",
            f"$\\text{{{payload}}}$",
            f"```html\n{payload}\n```",
            f"```python\n{payload}\n```",
        ):
            found = problems_in(str(render_markdown(text)))
            if found:
                failures[text] = found
        # The table of contents is ours, made after the sanitiser: links to ids, and text.
        page = str(render_markdown(f"## {payload}\n\n[toc]"))
        # (none where the payload's own markup swallows the [toc] line: <textarea>, say)
        shown = re.search(r'<nav class="toc".*?</nav>', page, re.S)
        contents = shown.group(0) if shown else ""
        found = problems_in(page.replace(contents, ""))
        found += [
            f"{tag} in the table of contents"
            for tag in re.findall(r"<(?!/?(?:nav|p|ol|li|a)\b)[^>]*>", contents)
        ]
        hrefs = re.findall(r'href="([^"]*)"', contents)
        found += [f"href {href}" for href in hrefs if not href.startswith("#")]
        if found:
            failures[f"## {payload}"] = found
    assert not failures, f"{len(failures)} got through, e.g. {next(iter(failures.items()))}"
