"""Crawls in the Firecrawl simulator: a generated site, Firecrawl's link filters, and a crawl's
options as the server stores them and as `GET /v{1,2}/crawl/active` renders them.

The site under a start URL is a tree: the start page links to a few sections (`/docs`, `/blog`,
...), each section to `page-1`, `page-2`, ..., down to `site_depth` levels. A page's links are
followed only once it has been scraped, and only those that pass the crawl's filters, as in
Firecrawl's crawler: `includePaths`/`excludePaths` are regular expressions searched in the URL's
path (or the whole URL with `regexOnFullURL`), `limit` counts pages including the start page, v1
`maxDepth` counts path segments below the start URL and v2 `maxDiscoveryDepth` counts link hops
(both the same thing on this site). A page that fails links to nothing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SECTIONS = ("docs", "blog", "pricing", "about", "careers", "changelog", "support", "legal")
DEFAULT_LIMIT = 10000
V1_DEFAULT_MAX_DEPTH = 10
V2_STORED_MAX_DEPTH = 9999  # what the v2 controller stores as the legacy maxDepth


@dataclass(frozen=True)
class CrawlRequest:
    """The options of one crawl, whichever way it was started."""

    url: str
    version: int = 2
    limit: int = DEFAULT_LIMIT
    max_depth: int | None = None  # v1 only; None: the v1 default (10), or no limit on v2
    max_discovery_depth: int | None = None
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    regex_on_full_url: bool = False
    crawl_entire_domain: bool = False
    allow_external_links: bool = False
    allow_subdomains: bool = False
    ignore_robots_txt: bool = False
    sitemap: str = "include"  # v2 spelling; v1 `ignoreSitemap` maps to "skip"
    deduplicate_similar_urls: bool = True
    ignore_query_parameters: bool = False
    delay: float | None = None
    scrape_options: dict[str, Any] = field(default_factory=dict)

    @property
    def depth_limit(self) -> int | None:
        if self.max_depth is not None:
            return self.max_depth
        return V1_DEFAULT_MAX_DEPTH if self.version == 1 else None


@dataclass(frozen=True)
class CrawlPlan:
    """The pages a crawl will scrape, in the order it scrapes them (parents first)."""

    urls: list[str]
    parents: list[int | None]
    depths: list[int]
    order: list[int]
    links: list[list[str]]  # each page's links on the site, before any filter


def site_links(url: str, depth: int, fanout: int, site_depth: int) -> list[str]:
    """The links of the page at `url`, `depth` hops below the start page."""
    if depth >= site_depth or fanout <= 0:
        return []
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    if depth == 0:
        names = list(SECTIONS[: min(fanout, len(SECTIONS))])
    else:
        names = [f"page-{j}" for j in range(1, fanout + 1)]
    return [f"{base}/{name}" for name in names]


def regex_error(patterns: tuple[str, ...]) -> str | None:
    """The 400 message the server sends for the first pattern JavaScript cannot compile.

    The server answers with the SyntaxError's message; Python's wording is close enough for
    the simple cases (an unclosed group or class, a repeat of nothing).
    """
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            reason = str(exc.msg)
            if "unterminated subpattern" in reason or "missing )" in reason:
                reason = "Unterminated group"
            elif "unterminated character set" in reason:
                reason = "Unterminated character class"
            elif "nothing to repeat" in reason:
                reason = "Nothing to repeat"
            return f"Invalid regular expression: /{pattern}/: {reason}"
    return None


def plan_crawl(
    request: CrawlRequest,
    *,
    fails: Callable[[str], bool],
    fanout: int,
    site_depth: int,
    shuffle_key: str,
) -> CrawlPlan:
    """Walk the site breadth first, as the crawler would with every page answering."""
    includes = [re.compile(p) for p in request.include_paths if p]
    excludes = [re.compile(p) for p in request.exclude_paths if p]
    max_depth = request.depth_limit
    urls: list[str] = [request.url]
    parent_of: list[int | None] = [None]
    depths: list[int] = [0]
    links: list[list[str]] = []
    i = 0
    while i < len(urls):
        page_links = site_links(urls[i], depths[i], fanout, site_depth)
        links.append(page_links)
        follow = not fails(urls[i]) and (
            request.max_discovery_depth is None or depths[i] < request.max_discovery_depth
        )
        for link in page_links if follow else []:
            if len(urls) >= request.limit:
                break
            if max_depth is not None and depths[i] + 1 > max_depth:
                break
            subject = link if request.regex_on_full_url else urlsplit(link).path
            if any(p.search(subject) for p in excludes):
                continue
            if includes and not any(p.search(subject) for p in includes):
                continue
            urls.append(link)
            parent_of.append(i)
            depths.append(depths[i] + 1)
        i += 1
    # Pages of one level finish in no particular order (concurrent workers), levels in turn.
    rng = random.Random(shuffle_key)
    order: list[int] = []
    for level in range(max(depths) + 1):
        members = [k for k, depth in enumerate(depths) if depth == level]
        if level > 0:
            rng.shuffle(members)
        order.extend(members)
    return CrawlPlan(urls, parent_of, depths, order, links)


def stored_options(request: CrawlRequest, limit: int) -> dict[str, Any]:
    """The crawl's options as the server keeps them (its legacy spelling)."""
    max_depth = request.depth_limit if request.version == 1 else V2_STORED_MAX_DEPTH
    return {
        "includes": list(request.include_paths),
        "excludes": list(request.exclude_paths),
        "maxCrawledLinks": limit,
        "maxDepth": max_depth,
        "limit": limit,
        "generateImgAltText": False,
        "allowBackwardCrawling": request.crawl_entire_domain,
        "allowExternalContentLinks": request.allow_external_links,
        "allowSubdomains": request.allow_subdomains,
        "ignoreRobotsTxt": request.ignore_robots_txt,
        "ignoreSitemap": request.sitemap == "skip",
        "sitemapOnly": request.sitemap == "only",
        "deduplicateSimilarURLs": request.deduplicate_similar_urls,
        "ignoreQueryParameters": request.ignore_query_parameters,
        "regexOnFullURL": request.regex_on_full_url,
        "maxDiscoveryDepth": request.max_discovery_depth,
        "currentDiscoveryDepth": 0,
        "delay": request.delay,
    }


def listed_options(stored: dict[str, Any], version: int) -> dict[str, Any]:
    """`options` of a crawl in `crawl/active`: the server's toNewCrawlerOptions (v1) or
    toV2CrawlerOptions (v2) of the stored options, unset values left out as JSON does."""
    if version == 1:
        listed = {
            "includePaths": stored["includes"],
            "excludePaths": stored["excludes"],
            "limit": stored["limit"],
            "maxDepth": stored["maxDepth"],
            "allowBackwardLinks": stored["allowBackwardCrawling"],
            "crawlEntireDomain": stored["allowBackwardCrawling"],
            "allowExternalLinks": stored["allowExternalContentLinks"],
            "allowSubdomains": stored["allowSubdomains"],
            "ignoreRobotsTxt": stored["ignoreRobotsTxt"],
            "ignoreSitemap": stored["ignoreSitemap"],
        }
    else:
        sitemap = "only" if stored["sitemapOnly"] else "skip" if stored["ignoreSitemap"] else None
        listed = {
            "includePaths": stored["includes"],
            "excludePaths": stored["excludes"],
            "limit": stored["limit"],
            "crawlEntireDomain": stored["allowBackwardCrawling"],
            "allowExternalLinks": stored["allowExternalContentLinks"],
            "allowSubdomains": stored["allowSubdomains"],
            "ignoreRobotsTxt": stored["ignoreRobotsTxt"],
            "sitemap": sitemap or "include",
        }
    listed.update(
        {
            "deduplicateSimilarURLs": stored["deduplicateSimilarURLs"],
            "ignoreQueryParameters": stored["ignoreQueryParameters"],
            "regexOnFullURL": stored["regexOnFullURL"],
            "maxDiscoveryDepth": stored["maxDiscoveryDepth"],
            "delay": stored["delay"],
        }
    )
    return {key: value for key, value in listed.items() if value is not None}
