"""safe_href: only web links and paths on this site are followed, however a URL is spelled."""

from __future__ import annotations

import pytest

from happyface.hrefs import safe_href

FOLLOWED = {
    "https://www.gridka.example/news/": "https://www.gridka.example/news/",
    "HTTP://Example.org/a?b=c&d=e#f": "HTTP://Example.org/a?b=c&d=e#f",
    "  https://example.org/x  ": "https://example.org/x",
    "/module/jobs?time=2024-06-01": "/module/jobs?time=2024-06-01",
    "/archive/3/plot/main": "/archive/3/plot/main",
}

REFUSED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    " \t javascript:alert(1)",
    "\x01javascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "\\/evil.example/",
    "/\t/evil.example/",
    "/ /evil.example/",
    "/%5Cevil.example/",
    "/%5cevil.example/",
    "/%2F/evil.example/",
    "/&#47;evil.example/",
    "/&sol;evil.example/",
    "&#x2F;&#x2F;evil.example/",
    "https:evil.example",
    "https:\\\\evil.example",
    "https://",
    "http:///path-only",
    "relative/path",
    "",
    "   ",
]


@pytest.mark.parametrize(("url", "href"), FOLLOWED.items())
def test_web_links_and_site_paths_are_followed(url, href):
    assert safe_href(url) == href


@pytest.mark.parametrize("url", REFUSED)
def test_every_other_spelling_is_not_followed(url):
    assert safe_href(url) == ""


@pytest.mark.parametrize("url", ["/module/jobs", "/archive/3/plot/main"])
def test_a_remote_documents_own_link_is_never_a_path_here(url: str) -> None:
    assert safe_href(url) == url
    assert safe_href(url, here=False) == ""
    assert safe_href("https://www.gridka.example/news/", here=False) == (
        "https://www.gridka.example/news/"
    )
