"""HTML bodies: sanitize for display (nh3) and convert to plain text for the timeline and search."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "blockquote": {"cite"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Images load only from the message itself (cid:): remote images are tracking pixels."""
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    if attribute == "href" and value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """Keep structure, text and links; drop scripts, styles, event handlers and remote resources."""
    return nh3.clean(
        html,
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "head", "title", "noscript", "template", "iframe", "object"},
        attributes=_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr", "dl", "address"})
_BLOCK = _PARAGRAPH | frozenset(
    {"div", "section", "article", "header", "footer", "tr", "dt", "dd", "center", "form", "fieldset", "figure",
     "body", "html"}
)  # fmt: skip
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})


class _TextRenderer(HTMLParser):
    """Renders HTML as text; blockquote contents get "> " prefixes so quote trimming sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0

    def _emit(self, *, keep_empty: bool) -> None:
        text = "".join(self.current)
        self.current = []
        if self.pre_depth == 0:
            text = re.sub(r"[ \t\r\n\f\u00a0]+", " ", text).strip()
        if not text.strip() and not keep_empty:
            return
        prefix = "> " * self.quote_depth
        for line in text.split("\n"):
            self.lines.append(f"{prefix}{line}".rstrip())

    def _paragraph(self) -> None:
        self._emit(keep_empty=False)
        self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag == "br":
            self._emit(keep_empty=True)
        elif tag == "li":
            self._emit(keep_empty=False)
            self.current.append("- ")
        elif tag == "blockquote":
            self._paragraph()
            self.quote_depth += 1
        elif tag in _BLOCK:
            self._emit(keep_empty=False)
            if tag == "pre":
                self.pre_depth += 1
        elif tag in {"td", "th"} and self.current:
            self.current.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._emit(keep_empty=False)
            self.quote_depth = max(0, self.quote_depth - 1)
            self._paragraph()
        elif tag in _PARAGRAPH:
            self._paragraph()
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in _BLOCK or tag == "li":
            self._emit(keep_empty=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.skip_depth == 0:
            self.current.append(data)

    def text(self) -> str:
        self._emit(keep_empty=False)
        return collapse_blank_lines("\n".join(self.lines))


def collapse_blank_lines(text: str) -> str:
    """At most one empty line in a row, no trailing spaces, no leading or trailing blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    return "\n".join(kept).strip("\n")


def html_to_text(html: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()
