"""Validation of POST bodies in the Firecrawl simulator, with the 400 bodies each server sends.

The server validates with zod and answers `{success:false, code:"BAD_REQUEST", error, details}`
with zod's issues as `details`. The 2025 server used zod 3 and the 2026 server zod 4, which spell
issues differently; the spellings here are the captured ones (`*_post_*` in the captures).
On the 2026 server `error` is the first issue's message when that issue is a custom one
(`"Invalid URL"`), else `"Bad Request"`; on the 2025 server it is always `"Bad Request"`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fakecrawl.crawls import DEFAULT_LIMIT, CrawlRequest
from fakecrawl.webhooks import EVENTS, WebhookConfig

Issue = dict[str, Any]

V1_FORMATS = {
    "2025": [
        "markdown",
        "html",
        "rawHtml",
        "links",
        "screenshot",
        "screenshot@fullPage",
        "extract",
        "json",
        "summary",
        "changeTracking",
    ],
    "2026": [
        "markdown",
        "html",
        "rawHtml",
        "rawBase64",
        "links",
        "screenshot",
        "screenshot@fullPage",
        "extract",
        "json",
        "summary",
        "changeTracking",
        "branding",
        "product",
        "menu",
    ],
}
# v2 formats are a union of objects {type, ...}; a bare string means {type: string}.
# A few members need more fields; the 2026 union lists what each one misses.
V2_FORMATS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "2025": [
        (name, [])
        for name in (
            "markdown",
            "html",
            "rawHtml",
            "links",
            "summary",
            "json",
            "changeTracking",
            "screenshot",
        )
    ],
    "2026": [
        ("markdown", []),
        ("html", []),
        ("rawHtml", []),
        ("rawBase64", []),
        ("links", []),
        ("images", []),
        ("summary", []),
        ("json", []),
        ("deterministicJson", []),
        ("changeTracking", []),
        ("screenshot", []),
        ("attributes", [("selectors", "array")]),
        ("branding", []),
        ("product", []),
        ("menu", []),
        ("question", [("question", "string")]),
        ("highlights", [("query", "string")]),
        ("query", [("prompt", "string")]),
        ("audio", []),
        ("video", []),
    ],
}
# Firecrawl's URL check for a top-level domain, run on the whole URL string (so a `.html` in
# the path satisfies it: `http://localhost/a.html` fails only the last check, as captured).
TLD = re.compile(r"\.[a-zA-Z\u0400-\u04FF\u0500-\u052F\u2DE0-\u2DFF\uA640-\uA69F]{2,}")
V1_ONLY_CRAWL_KEYS = ("maxDepth", "allowBackwardLinks", "ignoreSitemap")
WEBHOOK_KEYS = ("url", "headers", "metadata", "events")
WEBHOOK_FORBIDDEN_HEADERS = ("x-firecrawl-signature",)
# The 2026 server's error handler says this whenever any issue is an unrecognized key.
STRICT_MESSAGE = (
    "Unrecognized key in body -- please review the v2 API documentation for request body changes"
)
STRICT_MESSAGE_V1 = STRICT_MESSAGE.replace("v2 API", "v1 API")  # the 2025 schemas' own text
URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
SPECIAL_SCHEMES = ("http", "https", "ws", "wss", "ftp", "file")


class BadRequest(Exception):
    """A body the server rejects with 400."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(issues[0]["message"] if issues else "Bad Request")
        self.issues = issues


def bad_request_body(issues: list[Issue], mode: str) -> dict[str, Any]:
    error = "Bad Request"
    if mode == "2026" and any(issue["code"] == "unrecognized_keys" for issue in issues):
        error = STRICT_MESSAGE
    elif mode == "2026" and issues and issues[0]["code"] == "custom":
        error = issues[0]["message"]
    return {"success": False, "code": "BAD_REQUEST", "error": error, "details": issues}


def js_type(value: Any, present: bool = True) -> str:
    if not present:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_issue(
    path: list[Any], expected: str, value: Any, mode: str, present: bool = True
) -> Issue:
    received = js_type(value, present)
    if mode == "2026":
        message = f"Invalid input: expected {expected}, received {received}"
        return {"expected": expected, "code": "invalid_type", "path": path, "message": message}
    message = "Required" if received == "undefined" else f"Expected {expected}, received {received}"
    return {
        "code": "invalid_type",
        "expected": expected,
        "received": received,
        "path": path,
        "message": message,
    }


def normalize_url(value: str) -> str:
    """The server adds `http://` to a URL given without a scheme before checking it."""
    return value if "://" in value else f"http://{value}"


def _parses(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    return not any(ch.isspace() for ch in url)


def _host_ok(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host.strip(".") and host != "localhost"
    return True


def _is_ip_host(url: str) -> bool:
    try:
        ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:
        return False
    return True


def url_issues(value: Any, path: list[Any], mode: str, present: bool = True) -> list[Issue]:
    """Issues of one URL field: empty when the server accepts it."""
    if not isinstance(value, str):
        return [type_issue(path, "string", value, mode, present)]
    url = normalize_url(value)
    parses = _parses(url)
    tld = parses and (bool(TLD.search(url)) or _is_ip_host(url))
    usable = parses and _host_ok(url)
    issues: list[Issue] = []
    if not parses:
        if mode == "2026":
            issues.append(
                {"code": "invalid_format", "format": "url", "path": path, "message": "Invalid URL"}
            )
        else:
            issue = {"validation": "url", "code": "invalid_string", "message": "Invalid url"}
            issues.append({**issue, "path": path})
    if not tld:
        if mode == "2026":
            message = "URL must have a valid top-level domain or be an IP address"
            issues.append({"code": "custom", "path": path, "message": message})
        else:
            message = "URL must have a valid top-level domain or be a valid path"
            issues.append({"code": "custom", "message": message, "path": path})
    if not usable:
        if mode == "2026":
            issues.append({"code": "custom", "path": path, "message": "Invalid URL"})
        else:
            issues.append({"code": "custom", "message": "Invalid URL", "path": path})
    return issues


def format_name(fmt: Any) -> str | None:
    if isinstance(fmt, str):
        return fmt
    if isinstance(fmt, dict) and isinstance(fmt.get("type"), str):
        return str(fmt["type"])
    return None


def format_issues(formats: Any, path: list[Any], version: int, mode: str) -> list[Issue]:
    if not isinstance(formats, list):
        return [type_issue(path, "array", formats, mode)]
    issues: list[Issue] = []
    for i, fmt in enumerate(formats):
        name = format_name(fmt)
        if version == 1:
            known = V1_FORMATS[mode]
            if isinstance(fmt, str) and name in known:
                continue
            issues.append(_v1_format_issue(fmt, [*path, i], known, mode))
        else:
            members = V2_FORMATS[mode]
            if name in {member for member, _ in members}:
                continue
            issues.append(_v2_format_issue(fmt, [*path, i], members, mode))
    return issues


def _v1_format_issue(fmt: Any, path: list[Any], known: list[str], mode: str) -> Issue:
    if mode == "2026":
        message = "Invalid option: expected one of " + "|".join(f'"{f}"' for f in known)
        return {"code": "invalid_value", "values": known, "path": path, "message": message}
    listed = " | ".join(f"'{f}'" for f in known)
    return {
        "received": fmt,
        "code": "invalid_enum_value",
        "options": known,
        "path": path,
        "message": f"Invalid enum value. Expected {listed}, received '{fmt}'",
    }


def _v2_format_issue(
    fmt: Any, path: list[Any], members: list[tuple[str, list[tuple[str, str]]]], mode: str
) -> Issue:
    received = format_name(fmt)
    if mode == "2026":
        errors = []
        for name, needs in members:
            branch: list[Issue] = [
                {
                    "code": "invalid_value",
                    "values": [name],
                    "path": ["type"],
                    "message": f'Invalid input: expected "{name}"',
                }
            ]
            given = fmt if isinstance(fmt, dict) else {}
            for key, expected in needs:
                if key not in given:
                    branch.append(type_issue([key], expected, None, mode, present=False))
            errors.append(branch)
        return {"code": "invalid_union", "errors": errors, "path": path, "message": "Invalid input"}
    union_errors = [
        {
            "issues": [
                {
                    "received": received,
                    "code": "invalid_literal",
                    "expected": name,
                    "path": [*path, "type"],
                    "message": f'Invalid literal value, expected "{name}"',
                }
            ],
            "name": "ZodError",
        }
        for name, _ in members
    ]
    return {
        "code": "invalid_union",
        "unionErrors": union_errors,
        "path": path,
        "message": "Invalid input",
    }


def _whatwg_url(value: str) -> bool:
    """Roughly what `new URL()` accepts (zod's url check): a scheme, and a host for the
    schemes that need one."""
    text = value.strip()
    match = URL_SCHEME.match(text)
    if not match or any(ch.isspace() for ch in text):
        return False
    scheme = match.group()[:-1].lower()
    if scheme not in SPECIAL_SCHEMES:
        return len(text) > len(match.group())
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (a bad port raises)
    except ValueError:
        return False
    return scheme == "file" or bool(parts.hostname)


def _string_record_issues(value: Any, path: list[Any], mode: str) -> list[Issue]:
    if not isinstance(value, dict):
        return [type_issue(path, "record" if mode == "2026" else "object", value, mode)]
    return [
        type_issue([*path, key], "string", item, mode)
        for key, item in value.items()
        if not isinstance(item, str)
    ]


def _event_issue(value: Any, path: list[Any], mode: str) -> Issue:
    if mode == "2026":
        message = "Invalid option: expected one of " + "|".join(f'"{e}"' for e in EVENTS)
        return {"code": "invalid_value", "values": list(EVENTS), "path": path, "message": message}
    listed = " | ".join(f"'{e}'" for e in EVENTS)
    return {
        "received": value,
        "code": "invalid_enum_value",
        "options": list(EVENTS),
        "path": path,
        "message": f"Invalid enum value. Expected {listed}, received '{value}'",
    }


def webhook_issues(body: dict[str, Any], mode: str) -> list[Issue]:
    """Issues of a start request's `webhook` (services/webhook/schema.ts): a URL string, or a
    strict object {url, headers?, metadata?, events?} whose headers may not set the signature."""
    if "webhook" not in body:
        return []
    value = body["webhook"]
    path: list[Any] = ["webhook"]
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        return [type_issue(path, "object", value, mode)]
    issues: list[Issue] = []
    url = value.get("url")
    if not isinstance(url, str):
        issues.append(type_issue([*path, "url"], "string", url, mode, present="url" in value))
    elif not _whatwg_url(url):
        if mode == "2026":
            issues.append(
                {"code": "invalid_format", "format": "url", "path": [*path, "url"],
                 "message": "Invalid URL"}
            )  # fmt: skip
        else:
            issue = {"validation": "url", "code": "invalid_string", "message": "Invalid url"}
            issues.append({**issue, "path": [*path, "url"]})
    for key in ("headers", "metadata"):
        if key in value:
            issues.extend(_string_record_issues(value[key], [*path, key], mode))
    events = value.get("events", list(EVENTS))
    if not isinstance(events, list):
        issues.append(type_issue([*path, "events"], "array", events, mode))
    else:
        issues.extend(
            _event_issue(event, [*path, "events", i], mode)
            for i, event in enumerate(events)
            if event not in EVENTS
        )
    unknown = [key for key in value if key not in WEBHOOK_KEYS]
    if unknown:
        if mode == "2026":
            names = ", ".join(f'"{key}"' for key in unknown)
            plural = "s" if len(unknown) > 1 else ""
            message = f"Unrecognized key{plural}: {names}"
        else:
            message = STRICT_MESSAGE_V1
        issues.append(
            {"code": "unrecognized_keys", "keys": unknown, "path": path, "message": message}
        )
    headers = value.get("headers") or {}
    if (
        not issues
        and mode == "2026"
        and any(key.lower() in WEBHOOK_FORBIDDEN_HEADERS for key in headers)
    ):
        message = "The following headers are not allowed: " + ", ".join(WEBHOOK_FORBIDDEN_HEADERS)
        issues.append({"code": "custom", "path": path, "message": message})
    return issues


def parse_webhook(body: dict[str, Any]) -> WebhookConfig | None:
    """The `webhook` of a body that passed validation, defaults filled in."""
    return WebhookConfig.parse(body["webhook"]) if "webhook" in body else None


def object_issue(body: Any, mode: str) -> list[Issue]:
    if isinstance(body, dict):
        return []
    return [type_issue([], "object", body, mode)]


@dataclass(frozen=True)
class BatchRequest:
    urls: list[str]  # the URLs to scrape, normalized
    invalid_urls: list[str]  # as given, when ignoreInvalidURLs let them through
    formats: tuple[str, ...]
    only_main_content: bool
    scrape_options: dict[str, Any]


def parse_batch(body: dict[str, Any], version: int, mode: str) -> BatchRequest:
    """A POST /batch/scrape body, or BadRequest with the server's issues."""
    issues = format_issues(body.get("formats", ["markdown"]), ["formats"], version, mode)
    urls = body.get("urls")
    ignore_invalid = body.get("ignoreInvalidURLs") is True
    if not isinstance(urls, list):
        issues.append(type_issue(["urls"], "array", urls, mode, present="urls" in body))
        raise BadRequest(issues)
    if not urls and mode == "2026":
        message = "Too small: expected array to have >=1 items"
        issues.append(
            {
                "origin": "array",
                "code": "too_small",
                "minimum": 1,
                "inclusive": True,
                "path": ["urls"],
                "message": message,
            }
        )
    good: list[str] = []
    invalid: list[str] = []
    for i, url in enumerate(urls):
        problems = url_issues(url, ["urls", i], mode)
        if not problems:
            good.append(normalize_url(url))
        elif ignore_invalid:
            invalid.append(url if isinstance(url, str) else str(url))
        else:
            issues.extend(problems)
    issues.extend(webhook_issues(body, mode))
    if issues:
        raise BadRequest(issues)
    formats = tuple(
        name for name in (format_name(f) for f in body.get("formats", ["markdown"])) if name
    )
    scrape_options = {k: v for k, v in body.items() if k not in ("urls", "ignoreInvalidURLs")}
    return BatchRequest(
        urls=good,
        invalid_urls=invalid,
        formats=formats,
        only_main_content=body.get("onlyMainContent", True) is not False,
        scrape_options=scrape_options,
    )


def parse_crawl(body: dict[str, Any], version: int, mode: str) -> CrawlRequest:
    """A POST /crawl body, or BadRequest with the server's issues."""
    issues: list[Issue] = []
    if version == 2:
        extra = [key for key in V1_ONLY_CRAWL_KEYS if key in body]
        if extra:
            names = ", ".join(f'"{key}"' for key in extra)
            plural = "s" if len(extra) > 1 else ""
            issues.append(
                {
                    "code": "unrecognized_keys",
                    "keys": extra,
                    "path": [],
                    "message": f"Unrecognized key{plural}: {names}",
                }
            )
    issues.extend(url_issues(body.get("url"), ["url"], mode, present="url" in body))
    numbers: dict[str, int | None] = {}
    for key in ("limit", "maxDepth", "maxDiscoveryDepth"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            issues.append(type_issue([key], "number", value, mode))
            value = None
        numbers[key] = value
    paths: dict[str, tuple[str, ...]] = {}
    for key in ("includePaths", "excludePaths"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            issues.append(type_issue([key], "array", value, mode))
            value = []
        paths[key] = tuple(value)
    scrape_options = body.get("scrapeOptions", {})
    if not isinstance(scrape_options, dict):
        issues.append(type_issue(["scrapeOptions"], "object", scrape_options, mode))
        scrape_options = {}
    formats = scrape_options.get("formats", ["markdown"])
    issues.extend(format_issues(formats, ["scrapeOptions", "formats"], version, mode))
    issues.extend(webhook_issues(body, mode))
    if issues:
        raise BadRequest(issues)
    if version == 1:
        entire = bool(body.get("crawlEntireDomain", body.get("allowBackwardLinks", False)))
        sitemap = "skip" if body.get("ignoreSitemap") else "include"
    else:
        entire = bool(body.get("crawlEntireDomain", False))
        sitemap = str(body.get("sitemap", "include"))
    url = body["url"]
    assert isinstance(url, str)
    return CrawlRequest(
        url=normalize_url(url),
        version=version,
        limit=numbers["limit"] or DEFAULT_LIMIT,
        max_depth=numbers["maxDepth"] if version == 1 else None,
        max_discovery_depth=numbers["maxDiscoveryDepth"],
        include_paths=paths["includePaths"],
        exclude_paths=paths["excludePaths"],
        regex_on_full_url=body.get("regexOnFullURL") is True,
        crawl_entire_domain=entire,
        allow_external_links=body.get("allowExternalLinks") is True,
        allow_subdomains=body.get("allowSubdomains") is True,
        ignore_robots_txt=body.get("ignoreRobotsTxt") is True,
        sitemap=sitemap,
        deduplicate_similar_urls=body.get("deduplicateSimilarURLs", True) is not False,
        ignore_query_parameters=body.get("ignoreQueryParameters") is True,
        delay=body.get("delay") if isinstance(body.get("delay"), int | float) else None,
        scrape_options={"formats": ["markdown"], "onlyMainContent": True, **scrape_options},
    )
