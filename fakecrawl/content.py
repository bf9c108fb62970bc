"""Deterministic scraped-document generation for the Firecrawl simulator.

Documents look like what a real Firecrawl server returns (key order included) and are built from a
small seeded sentence pool so that even 100 KB documents are cheap to generate.
"""

from __future__ import annotations

import html
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "dashboard",
    "crawler",
    "pipeline",
    "archive",
    "request",
    "response",
    "document",
    "metadata",
    "latency",
    "throughput",
    "cursor",
    "partition",
    "release",
    "feature",
    "customer",
    "pricing",
    "support",
    "security",
    "privacy",
    "network",
    "storage",
    "cluster",
)

SCRAPE_FAILED_CODE = "SCRAPE_ALL_ENGINES_FAILED"
SCRAPE_FAILED_MESSAGE = (
    "All scraping engines failed to retrieve content from this URL. Engines tried: [fetch]. "
    "This usually happens when: (1) The URL is invalid or the page doesn't exist (404), "
    "(2) The website is blocking automated access, (3) The website is down or unreachable, "
    "(4) The page requires authentication. Double check the URL is correct and accessible in a "
    "browser. Check your server logs for more detailed error information from each engine."
)
SCRAPE_FAILED_MESSAGE_2025 = (
    "All scraping engines failed! -- Double check the URL to make sure it's not broken. If the "
    "issue persists, contact us at help@firecrawl.com."
)

# Snippets of hostile input: scraped pages can contain anything, the dashboard must show it inert.
HOSTILE_HTML = (
    "<script>alert(document.cookie)</script>",
    '<img src="x" onerror="alert(\'img\')">',
    '<a href="javascript:alert(1)">click me</a>',
    '<div hx-get="/jobs/" hx-trigger="load" hx-target="body">htmx get</div>',
    '<button hx-post="/jobs/1/delete" hx-trigger="click">htmx post</button>',
    '<iframe src="https://evil.invalid/frame"></iframe>',
    "<svg onload=\"alert('svg')\"></svg>",
    "</textarea></title><script>alert('breakout')</script>",
    "{{ request.user }} {% csrf_token %} ${7*7}",
)
HOSTILE_MARKDOWN = (
    "[click me](javascript:alert(1))",
    "<script>alert('md')</script>",
    '<img src=x onerror="alert(2)">',
    '<div hx-get="/admin/" hx-trigger="load">hx</div>',
    "![pixel](https://evil.invalid/track.gif)",
)
RTL_TEXT = "مرحبا بالعالم \u202eevil.exe\u202c שלום עולם"
ASTRAL_TEXT = "\U0001d54f 🙂 𐍈"  # outside the BMP: two UTF-16 units each
# Page chrome that onlyMainContent (the default) strips.
NAV_MARKDOWN = "[Home](/) | [Docs](/docs) | [Blog](/blog) | [Pricing](/pricing)"
NAV_HTML = '<nav><a href="/">Home</a> <a href="/docs">Docs</a> <a href="/blog">Blog</a></nav>'
FOOTER_TEXT = "© Example Corp. All rights reserved. Privacy · Terms · Contact"
SCREENSHOT_FORMATS = ("screenshot", "screenshot@fullPage")
# What scrapeURL adds when the engine it fell back to lacks a feature (no fire-engine).
UNSUPPORTED_WARNING = (
    "The engine used does not support the following features: {} -- your scrape may be partial."
)
ACTIONS_NOT_SUPPORTED = (
    "Actions are not supported by any available engines. Actions require Fire Engine "
    "(fire-engine) to be enabled."
)
HOSTILE_TITLE = (
    "<script>alert('title')</script> \u202eRTL\u202c \U0001d54f <img src=x onerror=alert(3)>"
)


def jsonb_key(key: str) -> tuple[int, bytes]:
    """Order keys like Postgres jsonb does (shorter first, then bytewise), as the server does."""
    raw = key.encode()
    return (len(raw), raw)


def ordered(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: obj[k] for k in sorted(obj, key=jsonb_key)}


def random_uuid7(rng: random.Random, wall_seconds: float) -> str:
    """A UUID v7 whose timestamp is `wall_seconds` and whose random bits come from `rng`."""
    ms = int(wall_seconds * 1000) & ((1 << 48) - 1)
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def random_uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class DocumentOptions:
    """What a job's documents look like.

    formats name the fields a document carries (markdown, html, rawHtml, links, screenshot,
    screenshot@fullPage, summary, images); only_main_content=False adds the page's navigation and
    footer to markdown and html; screenshot_actions: how many `screenshot` steps the request's
    `actions` have (each document then carries `actions.screenshots`); actions: whether it has
    any actions at all.
    """

    doc_size: int = 2000
    hostile: bool = False
    formats: tuple[str, ...] = ("markdown",)
    only_main_content: bool = True
    screenshot_actions: int = 0
    actions: bool = False

    @classmethod
    def of(
        cls,
        doc_size: int,
        hostile: bool,
        formats: tuple[str, ...],
        only_main_content: bool,
        actions: Any,
    ) -> DocumentOptions:
        """The options of a request whose `actions` are as given (None: no actions)."""
        steps = actions if isinstance(actions, list) else []
        shots = sum(isinstance(step, dict) and step.get("type") == "screenshot" for step in steps)
        return cls(doc_size, hostile, formats, only_main_content, shots, bool(steps))


class ContentGenerator:
    """Builds the document dict of one input URL, the same for the same (seed, job, index).

    page_links gives a crawled page's links (the site's pages); screenshot(index, shot) the URL
    (or data: URI) of a document's shot-th screenshot, the page's own being the last; None: no
    engine can take one (a self-hosted server without fire-engine), so documents asked for one
    carry the server's warning instead.
    """

    def __init__(
        self,
        seed: int,
        job_id: str,
        options: DocumentOptions,
        *,
        page_links: Callable[[int], list[str]] | None = None,
        screenshot: Callable[[int, int], str] | None = None,
    ):
        self.seed = seed
        self.job_id = job_id
        self.doc_size = max(options.doc_size, 50)
        self.hostile = options.hostile
        self.formats = options.formats
        self.only_main_content = options.only_main_content
        self.screenshot_actions = options.screenshot_actions
        self.page_links = page_links
        self.screenshot = screenshot
        rng = random.Random(f"{seed}:{job_id}:pool")
        self.sentences = [self._sentence(rng) for _ in range(64)]

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        words = rng.choices(WORDS, k=rng.randint(6, 16))
        words[0] = words[0].capitalize()
        return " ".join(words) + rng.choice(".....!?")

    def _paragraphs(self, rng: random.Random, size: int) -> list[str]:
        paragraphs: list[str] = []
        length = 0
        while length < size:
            para = " ".join(rng.choices(self.sentences, k=rng.randint(2, 6)))
            paragraphs.append(para)
            length += len(para) + 2
        return paragraphs

    def document(self, index: int, url: str, wall_seconds: float) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{self.job_id}:{index}")
        title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} page {index + 1}"
        if self.hostile and index % 3 == 0:
            title = f"{HOSTILE_TITLE} {index + 1}"
        links = [f"{url.rstrip('/')}/link-{n}" for n in range(rng.randint(1, 4))]
        if self.page_links is not None:
            links = self.page_links(index)
        links.append("https://example.com/external")
        paragraphs = self._paragraphs(rng, self.doc_size - len(title) - 60 * len(links))
        if self.hostile:
            paragraphs.insert(1 % len(paragraphs), RTL_TEXT + " " + ASTRAL_TEXT)
            # One very long line, no breaks: layouts must wrap or scroll it.
            paragraphs.append("x" * max(2000, self.doc_size // 4))

        md_parts = [title, "=" * min(len(title), 60), ""]
        html_parts = [f'<!DOCTYPE html><html lang="en">\n<body><main><h1>{html.escape(title)}</h1>']
        raw_parts = [f"<html><head><title>{html.escape(title)}</title></head><body>"]
        for n, para in enumerate(paragraphs):
            md_parts.extend([para, ""])
            html_parts.append(f"<p>{html.escape(para)}</p>")
            raw_parts.append(f"<p>{html.escape(para)}</p>")
            if self.hostile and n < len(HOSTILE_HTML):
                md_parts.extend([HOSTILE_MARKDOWN[n % len(HOSTILE_MARKDOWN)], ""])
                html_parts.append(HOSTILE_HTML[n])
                raw_parts.append(HOSTILE_HTML[-1 - n])
        md_parts.append("Links\n-----\n")
        link_items = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
        for link in links:
            md_parts.append(f"*   [{link}]({link})\n    ")
        html_parts.append(f"<h2>Links</h2><ul>{link_items}</ul></main>\n</body></html>")
        raw_parts.append("</body></html>")
        if self.hostile:
            html_parts[0] = html_parts[0].replace("<h1>", f"<h1>{HOSTILE_HTML[0]}", 1)
        if not self.only_main_content:
            md_parts[:0] = [NAV_MARKDOWN, ""]
            md_parts.append(FOOTER_TEXT)
            html_parts.insert(0, NAV_HTML)
            html_parts.append(f"<footer>{FOOTER_TEXT}</footer>")

        metadata = self._metadata(rng, index, url, title, wall_seconds)
        doc: dict[str, Any] = {"metadata": metadata}
        if "markdown" in self.formats:
            doc["markdown"] = "\n".join(md_parts)
        if "html" in self.formats:
            doc["html"] = "".join(html_parts)
        if "rawHtml" in self.formats:
            doc["rawHtml"] = "".join(raw_parts)
        if "links" in self.formats:
            doc["links"] = links
        if "summary" in self.formats:
            doc["summary"] = " ".join(paragraphs[0].split(". ")[:2])[:300]
        if "images" in self.formats:
            doc["images"] = [f"{url.rstrip('/')}/image-{n}.png" for n in range(rng.randint(0, 3))]
        if self.screenshot_actions and self.screenshot is not None:
            shots = [self.screenshot(index, shot) for shot in range(self.screenshot_actions)]
            doc["actions"] = ordered(
                {"screenshots": shots, "scrapes": [], "javascriptReturns": [], "pdfs": []}
            )
        if any(name in self.formats for name in SCREENSHOT_FORMATS):
            if self.screenshot is not None:
                doc["screenshot"] = self.screenshot(index, self.screenshot_actions)
            else:
                flag = (
                    "screenshot@fullScreen"
                    if SCREENSHOT_FORMATS[1] in self.formats
                    else "screenshot"
                )
                doc["warning"] = UNSUPPORTED_WARNING.format(flag)
        return ordered(doc)

    def _metadata(
        self, rng: random.Random, index: int, url: str, title: str, wall_seconds: float
    ) -> dict[str, Any]:
        final_url = url
        if rng.random() < 0.05:
            final_url = url.rstrip("/") + "/?redirected=1"
        meta: dict[str, Any] = {
            "url": final_url,
            "title": title,
            "language": "en",
            "scrapeId": random_uuid7(rng, wall_seconds),
            "proxyUsed": "basic",
            "sourceURL": url,
            "statusCode": 200,
            "contentType": "text/html",
            "creditsUsed": 1,
        }
        if rng.random() < 0.9:
            meta["description"] = f"Description of {title}"
        roll = rng.random()
        if roll < 0.25:
            meta["keywords"] = ", ".join(rng.sample(WORDS, 3))
        elif roll < 0.4:
            meta["keywords"] = rng.sample(WORDS, 3)
        if rng.random() < 0.3:
            meta["ogTitle"] = title
            meta["ogDescription"] = meta.get("description", title)
            parts = urlsplit(url)
            meta["favicon"] = f"{parts.scheme}://{parts.netloc}/favicon.ico"
        roll = rng.random()
        if roll < 0.03:
            meta["statusCode"] = 404
            meta["error"] = "Not Found"
        elif roll < 0.04:
            meta["statusCode"] = 500
            meta["error"] = "Internal Server Error"
        if self.hostile and index % 5 == 0:
            meta["description"] = HOSTILE_HTML[index % len(HOSTILE_HTML)]
        return ordered(meta)


def encode_document(doc: dict[str, Any]) -> tuple[bytes, int]:
    """The document as sent on the wire, and its length in UTF-16 units (JS `string.length`)."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.encode(), utf16_len(text)


def utf16_len(text: str) -> int:
    """Characters outside the BMP count twice, as in JavaScript."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def error_entry(
    rng: random.Random,
    url: str,
    wall_seconds: float,
    iso: str,
    message: str = SCRAPE_FAILED_MESSAGE,
) -> dict[str, Any]:
    return {
        "id": random_uuid7(rng, wall_seconds),
        "timestamp": iso,
        "url": url,
        "code": SCRAPE_FAILED_CODE,
        "error": message,
    }
