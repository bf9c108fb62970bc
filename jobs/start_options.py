"""The options of a batch scrape or a crawl started here: each one's name in Firecrawl's v1 and v2
request bodies, the body made of the start forms' values, those values read back from a body
(Run again, a retry), and the options in words (under Options, on the confirmation and the job
page).

One table, OPTIONS, is the mapping both ways, so a job's options go form -> body -> form
unchanged. An option at its default is not sent: the body holds what the person chose, and
Firecrawl's own default applies to the rest. Names and limits are those of Firecrawl's OpenAPI
files and of its server's request schemas (v1 and v2); where v1 names an option differently
(maxDepth, ignoreSitemap), the v1 name is written here and nowhere else.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BATCH, CRAWL = "batch", "crawl"
V1 = "v1"

FORMAT_CHOICES = [
    ("markdown", "Markdown"),
    ("html", "HTML"),
    ("rawHtml", "Raw HTML"),
    ("links", "Links"),
    ("screenshot", "Screenshot"),
]
PROXY_CHOICES = [
    ("", "Firecrawl's default"),
    ("basic", "Basic"),
    ("enhanced", "Enhanced"),
    ("auto", "Auto (basic, then enhanced)"),
]
SITEMAP_CHOICES = [
    ("include", "Use it and follow links"),
    ("skip", "Ignore it: follow links only"),
    ("only", "Only the sitemap's pages (v2)"),
]

# Bounds Firecrawl's server checks (its request schemas), checked here before Confirm.
MAX_WAIT_FOR_MS = 60_000
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS = 1_000, 300_000
MAX_DELAY_SECONDS = 60
MAX_DEPTH = 100
MAX_CONCURRENCY = 1_000
# ISO 3166-1 alpha-2 codes, and Kosovo's XK: the countries Firecrawl's location accepts.
_COUNTRY_CODES = """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT
GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX
MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS
RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN
TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())


def _yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def _listed(value: Any) -> str:
    return ", ".join(str(item) for item in value)


def _choice(choices: list[tuple[str, str]]) -> Callable[[Any], str]:
    labels = dict(choices)
    return lambda value: labels.get(value, str(value))


def _formats(value: Any) -> str:
    labels = dict(FORMAT_CHOICES)
    return ", ".join(labels.get(item, str(item)) for item in value)


def _headers(value: Any) -> str:
    # Names only: a header's value is often a cookie or a token.
    return ", ".join(f"{name}: …" for name in value)


def _milliseconds(value: Any) -> str:
    return f"{value:,} ms"


@dataclass(frozen=True)
class Option:
    # The start forms' field, and what the Options list calls it.
    field: str
    label: str
    # Where the value sits in a v2 body (a crawl's scrape options inside its scrapeOptions).
    path: tuple[str, ...]
    # A scrape option: how each page is read (a batch's top level, a crawl's scrapeOptions).
    scrape: bool = False
    kinds: tuple[str, ...] = (BATCH, CRAWL)
    # Not sent when the value is this (Firecrawl's own default).
    default: Any = None
    # Sent even at its default: what the job page always shows.
    always: bool = False
    # A checkbox that says the opposite of Firecrawl's flag, so that unticked is Firecrawl's
    # default (an unticked box is absent from a form, as from an API request).
    invert: bool = False
    # v1's name and value, where they differ from v2's.
    v1_path: tuple[str, ...] | None = None
    to_v1: Callable[[Any], Any] | None = None
    from_v1: Callable[[Any], Any] | None = None
    show: Callable[[Any], str] = str

    def where(self, kind: str, version: str) -> tuple[str, ...]:
        path = self.v1_path if version == V1 and self.v1_path else self.path
        return ("scrapeOptions", *path) if self.scrape and kind == CRAWL else path


OPTIONS = [
    # Crawl: which pages.
    Option("limit", "Limit", ("limit",), kinds=(CRAWL,), always=True, show="{:,} pages".format),
    # v1 counts path segments below the start URL; v2 refuses that name and counts link hops
    # from the start page, which is what people mean by depth on most sites.
    Option("max_depth", "Max depth", ("maxDiscoveryDepth",), kinds=(CRAWL,), v1_path=("maxDepth",)),
    Option(
        "include_paths",
        "Include paths",
        ("includePaths",),
        kinds=(CRAWL,),
        default=[],
        show=_listed,
    ),
    Option(
        "exclude_paths",
        "Exclude paths",
        ("excludePaths",),
        kinds=(CRAWL,),
        default=[],
        show=_listed,
    ),
    Option(
        "regex_on_full_url",
        "Paths matched against the full URL",
        ("regexOnFullURL",),
        kinds=(CRAWL,),
        default=False,
        show=_yes_no,
    ),
    Option(
        "crawl_entire_domain",
        "Crawl the entire domain",
        ("crawlEntireDomain",),
        kinds=(CRAWL,),
        default=False,
        show=_yes_no,
    ),
    Option(
        "allow_subdomains",
        "Follow links to subdomains",
        ("allowSubdomains",),
        kinds=(CRAWL,),
        default=False,
        show=_yes_no,
    ),
    Option(
        "allow_external_links",
        "Follow links to other sites",
        ("allowExternalLinks",),
        kinds=(CRAWL,),
        default=False,
        show=_yes_no,
    ),
    Option(
        "sitemap",
        "Sitemap",
        ("sitemap",),
        kinds=(CRAWL,),
        default="include",
        v1_path=("ignoreSitemap",),
        to_v1=lambda value: value == "skip",
        from_v1=lambda value: "skip" if value else "include",
        show=_choice(SITEMAP_CHOICES),
    ),
    Option(
        "ignore_query_parameters",
        "Ignore query parameters",
        ("ignoreQueryParameters",),
        kinds=(CRAWL,),
        default=False,
        show=_yes_no,
    ),
    Option(
        "delay",
        "Delay between pages",
        ("delay",),
        kinds=(CRAWL,),
        show=lambda value: f"{value:g} s",
    ),
    # Both: how fast.
    Option("max_concurrency", "Max concurrency", ("maxConcurrency",), show="{:,}".format),
    # How each page is read.
    Option(
        "formats",
        "Formats",
        ("formats",),
        scrape=True,
        default=["markdown"],
        always=True,
        show=_formats,
    ),
    Option(
        "only_main_content",
        "Only main content",
        ("onlyMainContent",),
        scrape=True,
        default=True,
        always=True,
        show=_yes_no,
    ),
    Option("include_tags", "Include tags", ("includeTags",), scrape=True, default=[], show=_listed),
    Option("exclude_tags", "Exclude tags", ("excludeTags",), scrape=True, default=[], show=_listed),
    Option("wait_for", "Wait before reading", ("waitFor",), scrape=True, show=_milliseconds),
    Option("timeout", "Timeout", ("timeout",), scrape=True, show=_milliseconds),
    Option("mobile", "Mobile", ("mobile",), scrape=True, default=False, show=_yes_no),
    Option(
        "keep_ads",
        "Keep ads and cookie banners",
        ("blockAds",),
        scrape=True,
        default=False,
        invert=True,
        show=_yes_no,
    ),
    Option("proxy", "Proxy", ("proxy",), scrape=True, default="", show=_choice(PROXY_CHOICES)),
    Option("country", "Country", ("location", "country"), scrape=True, default=""),
    Option(
        "languages",
        "Languages",
        ("location", "languages"),
        scrape=True,
        default=[],
        show=_listed,
    ),
    Option("headers", "Headers", ("headers",), scrape=True, default={}, show=_headers),
]
FIELDS = {option.field: option for option in OPTIONS}
# Sent with every batch, not an option: an invalid URL is skipped and listed (`invalidURLs`,
# shown on the job) rather than failing the whole batch (v2's default, said explicitly for v1).
BATCH_FIXED = {"ignoreInvalidURLs": True}


def options_of(kind: str) -> list[Option]:
    return [option for option in OPTIONS if kind in option.kinds]


def _is_default(option: Option, value: Any) -> bool:
    return value is None or value == option.default


def body(kind: str, version: str, values: dict[str, Any]) -> dict[str, Any]:
    """The request body's options (not the URLs) for these form values, in the names of the
    key's API version."""
    result: dict[str, Any] = dict(BATCH_FIXED) if kind == BATCH else {}
    for option in options_of(kind):
        value = values.get(option.field, option.default)
        if _is_default(option, value) and not option.always:
            continue
        if option.invert:
            value = not value
        if version == V1 and option.to_v1 is not None:
            value = option.to_v1(value)
        _put(result, option.where(kind, version), value)
    return result


def values(kind: str, version: str, sent: dict[str, Any]) -> dict[str, Any]:
    """The form values a body was made of (body() read backwards): every option of the kind,
    at its default when the body does not hold it."""
    found = {}
    for option in options_of(kind):
        value = _get(sent, option.where(kind, version))
        if value is None:
            value = option.default
        else:
            if version == V1 and option.from_v1 is not None:
                value = option.from_v1(value)
            if option.invert:
                value = not value
        found[option.field] = value
    return found


def described(kind: str, version: str, sent: dict[str, Any]) -> list[tuple[str, str]]:
    """The options of a body in words, (label, value): those sent, in the table's order."""
    shown = []
    chosen = values(kind, version, sent)
    for option in options_of(kind):
        value = chosen[option.field]
        if _is_default(option, value) and not option.always:
            continue
        shown.append((option.label, option.show(value)))
    return shown


def scrape_part(kind: str, sent: dict[str, Any]) -> dict[str, Any]:
    """How pages were read: a crawl's scrapeOptions, a batch's scrape options (what a batch of
    a job's failed URLs reuses)."""
    if kind == CRAWL:
        part = sent.get("scrapeOptions")
        return dict(part) if isinstance(part, dict) else {}
    names = {option.path[0] for option in OPTIONS if option.scrape}
    return {name: value for name, value in sent.items() if name in names}


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        target = target.setdefault(name, {})
    target[path[-1]] = value


def _get(source: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(source, dict):
            return None
        source = source.get(name)
    return source
