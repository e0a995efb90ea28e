"""TeX in titles and abstracts: MathML where it is math, escaped text everywhere else, and math laid
out by a real browser without any script."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from topic_report import tex

from test_browser import CHROMIUM, browser  # noqa: F401 (a fixture)


class Markup(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser's tokenizer reads them."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text = ""
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs) -> None:
        self.elements.append(tag)
        self.attributes += attrs

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data) -> None:
        self.text += data


def assert_safe(fragment: str) -> Markup:
    markup = Markup(fragment)
    assert set(markup.elements) <= tex.ELEMENTS, markup.elements
    for name, value in markup.attributes:
        assert name in tex.ATTRIBUTES | {"xmlns"}, name
        assert not name.startswith("on") and ":" not in (value or "").replace(tex.MATHML, ""), (name, value)
    return markup


@pytest.mark.parametrize("title, reading", [
    ("$E^{3}$Gen: Efficient 3D Avatars", "E3Gen: Efficient 3D Avatars"),
    ("$\\textit{S}^3$Gaussian: Self-Supervised Street Gaussians", "S3Gaussian: Self-Supervised Street Gaussians"),
    ("Attention in $O(N)$ time", "Attention in O(N) time"),
    ("$\\alpha$-NeRF and $$x^2$$", "α-NeRF and x2"),
])
def test_tex_spans_become_mathml_and_read_as_their_characters(title, reading):
    fragment = tex.html_of(title)
    markup = assert_safe(fragment)
    assert "math" in markup.elements and "$" not in markup.text
    assert markup.text == reading == tex.plain(title)


@pytest.mark.parametrize("text", [
    "Costs $5 and $10 per run",       # prices: the closing $ would follow a space
    "A lone $ sign, and one more: $",
    "Unbalanced $x^2 to the end",
    "$ spaced $",                      # pandoc's rule: no space inside the dollars
    "Escaped \\$5 and \\$x\\$",
])
def test_dollars_that_are_not_math_stay_text(text):
    fragment = tex.html_of(text)
    markup = assert_safe(fragment)
    assert markup.elements == [] and markup.text == text.replace("\\$", "$") == tex.plain(text)


@pytest.mark.parametrize("hostile", [
    "$<script>alert(1)</script>$",
    "<script>alert(1)</script> $x$",
    "$\\href{javascript:alert(1)}{click}$",
    "$\\text{<img src=x onerror=alert(1)>}$",
    "$\\mathrm{a&b}$ &amp; <b>bold</b>",
    "$\\color{red\" onmouseover=\"alert(1)}{x}$",
    "$\\class{x}{y}$ $\\style{color:red}{z}$",
    "$\u202ex$ reversed",
    "$" + "{" * 2000 + "$",
    "$x$ " * 5000 + "<i>end</i>",
    "$" + "a" * 100_000,
])
def test_hostile_input_gives_only_mathml_and_escaped_text(hostile):
    fragment = tex.html_of(hostile)
    markup = assert_safe(fragment)
    # What is not math comes back as itself, escaped: every character of the input still reads.
    assert "math" in markup.elements or markup.text == hostile
    assert "<script" not in fragment and "<img" not in fragment and "<b>" not in fragment and "<i>" not in fragment


def test_text_outside_math_goes_through_the_callers_escaping():
    fragment = tex.html_of("Point <clouds> in $\\mathbb{R}^3$", lambda text: f"[{text.upper()}]".replace("<", "&lt;"))
    assert fragment.startswith("[POINT &lt;CLOUDS> IN ]<math") and fragment.endswith("</math>[]")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_a_browser_lays_the_math_out_and_runs_nothing(browser):  # noqa: F811
    titles = ["$E^{3}$Gen: Efficient 3D Avatars", "$\\textit{S}^3$Gaussian", "Attention in $O(N)$ time",
              "$\\href{javascript:alert(1)}{x}$ <img src=x onerror=alert(2)> $\\text{<b>x</b>}$"]
    page = browser.new_page(java_script_enabled=True)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_content("<!DOCTYPE html><html><body>"
                     + "".join(f'<p class="title">{tex.html_of(title)}</p>' for title in titles) + "</body></html>")
    boxes = page.eval_on_selector_all("p.title > math", """maths => maths.map(math => {
        const sup = math.querySelector('msup');
        const box = el => el.getBoundingClientRect();
        return {width: box(math).width, height: box(math).height, mathml: math.namespaceURI,
                raised: sup ? box(sup.firstElementChild).bottom - box(sup.lastElementChild).bottom : null};
    })""")
    assert len(boxes) == 3
    assert all(box["width"] > 5 and box["height"] > 5 and box["mathml"] == tex.MATHML for box in boxes)
    # Laid out as MathML, not as inline text: the exponents of E^{3} and S^3 sit above their base line.
    assert boxes[0]["raised"] > 2 and boxes[1]["raised"] > 2
    assert dialogs == [] and page.locator("img, b, script").count() == 0
    assert page.locator("p.title").last.inner_text().startswith("$\\href{javascript:alert(1)}{x}$ <img")
    page.close()
