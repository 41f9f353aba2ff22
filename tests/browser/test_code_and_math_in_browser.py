"""Code, formulas and headings as Chromium shows them: colours for both settings, the
Copy button (only with JavaScript), MathML drawn natively, and links to headings."""

from playwright.sync_api import expect

CODE = '```python\ndef lamps_on(tide):\n    return tide > 1.5  # "metres" & <more>\n```'
BODY = f"Intro $E = mc^2$ words.\n\n## The code\n\n{CODE}\n\n$$\n\\frac{{a}}{{b}}\n$$\n"


def colour(page, selector: str) -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).color")


def test_code_is_coloured_for_the_readers_setting(page, add_post):
    add_post("Coloured", body=BODY)
    page.goto("/coloured/")
    light = colour(page, ".tok-k"), colour(page, ".post-body pre")

    page.emulate_media(color_scheme="dark")

    dark = colour(page, ".tok-k"), colour(page, ".post-body pre")
    assert light[0] != light[1]  # the keyword stands out from the other text
    assert dark != light


def test_the_copy_button_copies_the_code_as_written(new_tab, add_post):
    add_post("Copy me", body=BODY)
    page = new_tab(permissions=["clipboard-read", "clipboard-write"])
    # The page's timers run on a clock the test moves: on a busy machine the 2 s after
    # which the button says "Copy" again could otherwise pass before it is looked at.
    page.clock.install()
    page.goto("/copy-me/")

    button = page.get_by_role("button", name="Copy")
    assert button.count() == 1
    button.click()

    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == 'def lamps_on(tide):\n    return tide > 1.5  # "metres" & <more>\n'
    assert page.get_by_role("status").first.text_content() == "Copied"

    page.clock.run_for(2000)
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    assert page.get_by_role("status").first.text_content() == ""


def test_without_javascript_there_is_no_copy_button_and_the_code_reads_the_same(new_tab, add_post):
    add_post("No script", body=BODY)
    page = new_tab(java_script_enabled=False)
    page.goto("/no-script/")

    assert page.get_by_role("button", name="Copy").count() == 0
    assert "return tide > 1.5" in page.locator(".post-body pre").inner_text()
    assert colour(page, ".tok-k") != colour(page, ".post-body pre")


def test_formulas_are_drawn_as_math(page, add_post):
    add_post("Formulas", body=BODY)
    page.goto("/formulas/")

    inline = page.locator("span.math.inline math")
    display = page.locator("div.math.block math")
    assert inline.count() == 1 and display.count() == 1
    # Chromium lays MathML out itself: a fraction stands a letter over a letter.
    fraction = page.locator("div.math.block mfrac").bounding_box()
    letter = page.locator("span.math.inline mi").first.bounding_box()
    assert fraction["height"] > letter["height"] * 1.5
    assert page.evaluate("document.querySelector('div.math.block math').namespaceURI") == (
        "http://www.w3.org/1998/Math/MathML"
    )


def test_a_heading_link_and_the_contents_take_the_reader_there(page, add_post):
    long_text = "\n\n".join(["A paragraph of words to scroll past."] * 60)
    add_post("Long read", body=f"[toc]\n\n{long_text}\n\n## Far down\n\nHere.")
    page.goto("/long-read/")

    page.locator(".toc a", has_text="Far down").click()

    assert page.url.endswith("/long-read/#far-down")
    heading = page.locator("h2#far-down")
    assert heading.is_visible()
    assert page.evaluate("window.scrollY") > 500
    assert heading.locator("a").get_attribute("href") == "#far-down"
