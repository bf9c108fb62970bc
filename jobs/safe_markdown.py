"""Scraped markdown turned into HTML that is safe to put inside our own pages.

Two layers: markdown-it with raw HTML disabled (so `<script>` in markdown stays text), then nh3,
which keeps only a small set of tags and attributes and only absolute http(s)/mailto links.
Relative links are dropped: resolved against this app they would navigate it. The template
still wraps the result in an `hx-disable` container, in case an attribute ever slips through.
"""

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
ABSOLUTE_PREFIXES = ("http://", "https://", "mailto:")


def _render_image(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # No hotlinking of scraped images (the CSP would block them anyway): show a link instead.
    token = tokens[idx]
    src = escapeHtml(str(token.attrGet("src") or ""))
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env) or "image")
    return f'<a href="{src}">[image: {alt}]</a>'


_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
_markdown.add_render_rule("image", _render_image)


def _keep_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href" and not value.strip().lower().startswith(ABSOLUTE_PREFIXES):
        return None
    return value


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_absolute_links,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def render_markdown(text: Any) -> str:
    """Sanitized HTML for scraped markdown; anything that is not a string renders as nothing."""
    if not isinstance(text, str) or not text:
        return ""
    return sanitize(_markdown.render(text))
