"""The forms that start jobs: a batch from pasted or uploaded URLs, a crawl from a start URL, each
with Firecrawl's options (the common ones first, the rest behind a disclosure), every input
checked here before Confirm; the confirmation that carries either, signed, with its form token;
and the same forms filled in from a job (Run again, a retry of its failed URLs)."""

import csv
import io
import re
import uuid
from pathlib import PurePath
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator, URLValidator
from django.utils.datastructures import MultiValueDict

from firecrawl_api.text import clean_text, cut
from firecrawl_dash.forms import QueryForm
from jobs import start_options
from jobs.models import Job
from jobs.models.start_requests import confirmation_max_age
from jobs.start_options import FORMAT_CHOICES, PROXY_CHOICES, SITEMAP_CHOICES
from jobs.starting import StartPlan
from keys.forms.choice import KeyChoiceField, OwnKeyMixin
from keys.models import ApiKey

MAX_URL_LENGTH = 2048
MAX_PATH_PATTERNS = 100
MAX_PATTERN_LENGTH = 500
# Tags (CSS selectors), languages and headers: how many, and how long each.
MAX_LIST_ITEMS = 100
MAX_ITEM_LENGTH = 200
MAX_LANGUAGES = 10
MAX_HEADERS = 50
MAX_HEADER_VALUE = 4096
# A header's name is an HTTP token (RFC 9110); its value any visible text, no line breaks.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\U0010ffff]*")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")
# JavaScript's named groups, (?<name>…), which Python spells (?P<name>…); and what Python
# reads but JavaScript refuses: (?P…) groups, (?#…) comments, whole-pattern flags like (?i).
JS_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
PYTHON_ONLY = re.compile(r"\(\?P[<=>]|\(\?#|\(\?[aiLmsux]+\)")
UPLOAD_SUFFIXES = (".txt", ".csv")
# The error code of a batch over FIRECRAWL_START_MAX_URLS (the API answers it with 413).
TOO_MANY_URLS = "too_many_urls"
# How many bad lines an error names before "and N more".
SHOWN_PROBLEMS = 5
_is_web_url = URLValidator(schemes=["http", "https"])


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of every line with text; `#` starts a comment line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            found.append((number, line))
    return found


def _too_many_lines(text: str, limit: int) -> int:
    """How many lines with text `text` has when that is more than `limit`, else 0: counted
    before any line is validated, at C speed while the text is small."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return 0
    count = sum(1 for line in lines if line.strip())
    return count if count > limit else 0


def normalize_url(text: str) -> str | None:
    """An http(s) URL as Firecrawl should get it ("example.com/a" gets https://), or None."""
    url = text.strip()
    if clean_text(url) != url:
        return None  # NUL, other controls, bidi overrides: no web address holds them
    if "://" not in url:
        url = f"https://{url}"
    if len(url) > MAX_URL_LENGTH:
        return None
    try:
        _is_web_url(url)
    except ValidationError:
        return None
    return url


def urls_from_csv(text: str) -> list[tuple[int, str]]:
    """A CSV's URLs: its `url` column when the first row names one, else its first column."""
    rows = list(csv.reader(io.StringIO(text)))
    column, start = 0, 0
    if rows:
        names = [cell.strip().lower() for cell in rows[0]]
        if "url" in names:
            column, start = names.index("url"), 1
    return [
        (number, row[column].strip())
        for number, row in enumerate(rows[start:], start=start + 1)
        if len(row) > column and row[column].strip() and not row[column].lstrip().startswith("#")
    ]


def _problem_list(problems: list[str]) -> str:
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return shown + (f"; and {more:,} more" if more > 0 else "")


def split_items(text: str) -> list[str]:
    """Items given one per line or separated by commas, each once, in order."""
    items = (item.strip() for line in text.splitlines() for item in line.split(","))
    return list(dict.fromkeys(item for item in items if item))


def compile_pattern(pattern: str) -> str | None:
    """Why Firecrawl would refuse this path pattern, or None. It reads them as JavaScript
    regular expressions: Python's compile the same syntax, named groups spelled apart, and
    what only Python has is refused by name."""
    if match := PYTHON_ONLY.search(pattern):
        return f"“{match.group()}” is Python's syntax, not JavaScript's"
    try:
        re.compile(JS_NAMED_GROUP.sub("(?P<", pattern))
    except re.error as exc:
        return str(exc)
    return None


class ItemsField(forms.CharField):
    """A list typed one per line (or comma-separated): tags, languages."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, *args: Any, most: int = MAX_LIST_ITEMS, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.most = most

    def clean(self, value: Any) -> list[str]:
        items = split_items(super().clean(value) or "")
        if len(items) > self.most:
            raise forms.ValidationError(f"At most {self.most} items.")
        if any(len(item) > MAX_ITEM_LENGTH for item in items):
            raise forms.ValidationError(f"An item is longer than {MAX_ITEM_LENGTH} characters.")
        return items


class PatternsField(forms.CharField):
    """Regular expressions, one per line, each compiled here: a pattern Firecrawl would refuse
    is named before Confirm, and nothing is sent."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> list[str]:
        lines = _lines(super().clean(value) or "")
        if len(lines) > MAX_PATH_PATTERNS:
            raise forms.ValidationError(f"At most {MAX_PATH_PATTERNS} patterns.")
        problems = []
        for number, pattern in lines:
            if len(pattern) > MAX_PATTERN_LENGTH:
                problems.append(f"Line {number} is longer than {MAX_PATTERN_LENGTH} characters")
            elif (error := compile_pattern(pattern)) is not None:
                problems.append(
                    f"Line {number} is not a regular expression ({error}): “{pattern[:80]}”"
                )
        if problems:
            raise forms.ValidationError(_problem_list(problems))
        return [pattern for _, pattern in lines]


class HeadersField(forms.CharField):
    """HTTP headers for Firecrawl to send, one `Name: value` per line."""

    widget = forms.Textarea(
        attrs={"rows": 2, "placeholder": "Cookie: session=…", "spellcheck": "false"}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> dict[str, str]:
        headers: dict[str, str] = {}
        problems = []
        for number, line in _lines(super().clean(value) or ""):
            name, colon, text = line.partition(":")
            name, text = name.strip(), text.strip()
            if not colon or not HEADER_NAME.fullmatch(name):
                problems.append(f"Line {number} is not “Name: value” with a valid header name")
            elif len(text) > MAX_HEADER_VALUE or not HEADER_VALUE.fullmatch(text):
                problems.append(f"Line {number}'s value has characters a header cannot carry")
            elif name.lower() in (known.lower() for known in headers):
                problems.append(f"Line {number} repeats the header {name}")
            else:
                headers[name] = text
        if problems:
            raise forms.ValidationError(_problem_list(problems))
        if len(headers) > MAX_HEADERS:
            raise forms.ValidationError(f"At most {MAX_HEADERS} headers.")
        return headers


class StartForm(OwnKeyMixin):
    """What both kinds of start share: the key, how pages are scraped, a label.

    Each of Firecrawl's options is a field named as in jobs.start_options, which maps it to the
    request body. Unticked, a checkbox means Firecrawl's default.
    """

    kind: ClassVar[str]
    # The fields shown first; the rest of the options sit behind "Advanced options".
    basic: ClassVar[tuple[str, ...]]

    api_key = KeyChoiceField(label="API key", queryset=ApiKey.objects.none(), required=False)
    formats = forms.MultipleChoiceField(
        label="Formats",
        choices=FORMAT_CHOICES,
        initial=["markdown"],
        widget=forms.CheckboxSelectMultiple,
        help_text="What Firecrawl keeps of each page.",
    )
    only_main_content = forms.BooleanField(
        label="Only main content",
        required=False,
        initial=True,
        help_text="Leave out headers, navigation and footers.",
    )
    label = forms.CharField(label="Label", max_length=200, required=False)
    # Advanced: how each page is read.
    include_tags = ItemsField(
        label="Include tags",
        widget=forms.TextInput(attrs={"placeholder": "article, .content"}),
        help_text="Keep only these elements: CSS selectors, comma-separated.",
    )
    exclude_tags = ItemsField(
        label="Exclude tags",
        widget=forms.TextInput(attrs={"placeholder": "nav, footer"}),
        help_text="Leave these elements out (CSS selectors).",
    )
    wait_for = forms.IntegerField(
        label="Wait before reading (ms)",
        required=False,
        min_value=0,
        max_value=start_options.MAX_WAIT_FOR_MS,
        help_text="Time for the page's scripts to run, at most half the timeout.",
    )
    timeout = forms.IntegerField(
        label="Timeout (ms)",
        required=False,
        min_value=start_options.MIN_TIMEOUT_MS,
        max_value=start_options.MAX_TIMEOUT_MS,
        help_text="Per page; empty for Firecrawl's default.",
    )
    mobile = forms.BooleanField(
        label="Mobile", required=False, help_text="Read each page as a phone would."
    )
    keep_ads = forms.BooleanField(
        label="Keep ads and cookie banners",
        required=False,
        help_text="Firecrawl blocks them unless this is ticked.",
    )
    proxy = forms.ChoiceField(label="Proxy", choices=PROXY_CHOICES, required=False)
    country = forms.CharField(
        label="Country",
        required=False,
        max_length=2,
        widget=forms.TextInput(
            attrs={"placeholder": "US", "size": 4, "autocapitalize": "characters"}
        ),
        help_text="Two letters (ISO 3166-1), e.g. DE: read from there.",
    )
    languages = ItemsField(
        label="Languages",
        most=MAX_LANGUAGES,
        widget=forms.TextInput(attrs={"placeholder": "en-US, de"}),
        help_text="Preferred languages, most wanted first.",
    )
    headers = HeadersField(
        label="Headers", help_text="One “Name: value” per line, sent with every request."
    )
    max_concurrency = forms.IntegerField(
        label="Max concurrency",
        required=False,
        min_value=1,
        max_value=start_options.MAX_CONCURRENCY,
        help_text="Pages read at once; empty for your team's limit.",
    )

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.kind}_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.offer_keys(owner)

    @classmethod
    def option_fields(cls) -> list[str]:
        return [option.field for option in start_options.options_of(cls.kind)]

    def basic_fields(self) -> list[forms.BoundField]:
        return [
            self[name] for name in self.fields if name in self.basic and not self[name].is_hidden
        ]

    def advanced_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in self.fields
            if name not in self.basic and not self[name].is_hidden
        ]

    def top_errors(self) -> Any:
        """The errors shown above the fields: the form's own, and its hidden fields'."""
        return self.get_context()["errors"]

    @property
    def advanced_has_errors(self) -> bool:
        return any(field.errors for field in self.advanced_fields())

    def clean_country(self) -> str:
        country: str = self.cleaned_data["country"].strip().upper()
        if country and country not in start_options.COUNTRIES:
            raise forms.ValidationError(
                "Give a country as its two-letter ISO 3166-1 code, such as US, DE or JP."
            )
        return country

    def clean_languages(self) -> list[str]:
        languages: list[str] = self.cleaned_data["languages"]
        bad = [language for language in languages if not LANGUAGE.fullmatch(language)]
        if bad:
            raise forms.ValidationError(
                f"“{bad[0][:40]}” is not a language tag such as en, en-US or pt-BR."
            )
        return languages

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        wait_for, timeout = cleaned.get("wait_for"), cleaned.get("timeout")
        if wait_for and timeout and wait_for > timeout / 2:
            self.add_error(
                "wait_for", f"Wait at most half the timeout ({timeout // 2:,} ms), or raise it."
            )
        return cleaned

    def option_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.option_fields()}

    def body_options(self) -> dict[str, Any]:
        key: ApiKey = self.cleaned_data["api_key"]
        return start_options.body(self.kind, key.api_version, self.option_values())

    def plan(self) -> StartPlan:
        raise NotImplementedError

    def payload_data(self) -> dict[str, list[str]]:
        """The cleaned inputs as form data: what the confirmation carries, signed, and binds
        to this form again when Confirm is pressed (validated a second time)."""
        data = self.cleaned_data
        return {
            "api_key": [str(data["api_key"].pk)],
            "label": [data["label"]],
            **self.data_of_options(self.option_values()),
        }

    @classmethod
    def data_of_options(cls, values: dict[str, Any]) -> dict[str, list[str]]:
        """Option values as this form's data (start_options.values() of a job's body)."""
        data: dict[str, list[str]] = {}
        for name in cls.option_fields():
            field = cls.base_fields[name]
            data[name] = _as_data(field, values.get(name))
        return data


def _as_data(field: forms.Field, value: Any) -> list[str]:
    """A cleaned value as the form data that cleans to it again."""
    if isinstance(field, forms.BooleanField):
        return ["on"] if value else []
    if value is None or value == "":
        return []
    if isinstance(field, forms.MultipleChoiceField):
        return [str(item) for item in value]
    if isinstance(value, dict):
        return ["\n".join(f"{name}: {text}" for name, text in value.items())]
    if isinstance(value, list):
        return ["\n".join(str(item) for item in value)]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


class BatchStartForm(StartForm):
    kind = Job.Kind.BATCH
    basic = ("api_key", "urls", "upload", "formats", "only_main_content", "label")

    urls = forms.CharField(
        label="URLs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "https://example.com/\n…"}),
        help_text="One per line.",
    )
    upload = forms.FileField(
        label="Or upload a file",
        required=False,
        help_text="A .txt file (one URL per line) or a .csv file (its url column, else its "
        "first column).",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,text/plain,text/csv"}),
    )
    retry_of = forms.ModelChoiceField(
        queryset=Job.objects.none(), required=False, widget=forms.HiddenInput
    )
    # The uploaded file's name, carried through the confirmation: the job's title.
    source_name = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)

    field_order = [*basic, "max_concurrency"]

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, owner=owner, **kwargs)
        retry_field = self.fields["retry_of"]
        assert isinstance(retry_field, forms.ModelChoiceField)
        retry_field.queryset = Job.objects.for_user(owner)
        self.upload_name = ""

    def clean_urls(self) -> str:
        text: str = self.cleaned_data.get("urls", "")
        self._check_line_count(text)
        return text

    def _check_line_count(self, text: str) -> None:
        limit = settings.FIRECRAWL_START_MAX_URLS
        if lines := _too_many_lines(text, limit):
            raise forms.ValidationError(
                f"That is {lines:,} lines; this server starts at most {limit:,} URLs at once.",
                code=TOO_MANY_URLS,
            )

    def clean_upload(self) -> list[tuple[int, str]]:
        upload: UploadedFile | None = self.cleaned_data.get("upload")
        if upload is None:
            return []
        name = upload.name or ""
        suffix = PurePath(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise forms.ValidationError("Upload a .txt or .csv file.")
        limit = settings.FIRECRAWL_START_MAX_UPLOAD_BYTES
        if upload.size is None or upload.size > limit:
            raise forms.ValidationError(
                f"That file is larger than this server accepts ({limit:,} bytes)."
            )
        try:
            text = upload.read(limit + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("That file is not UTF-8 text.") from None
        self._check_line_count(text)
        self.upload_name = cut(PurePath(name).name, 200)
        if suffix == ".csv":
            try:
                return urls_from_csv(text)
            except csv.Error as exc:
                raise forms.ValidationError(f"That CSV file cannot be read ({exc}).") from None
        return _lines(text)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        pasted = _lines(cleaned.get("urls", ""))
        given = [(f"Line {n}", line) for n, line in pasted]
        given += [(f"File line {n}", line) for n, line in cleaned.get("upload", [])]
        if not given:
            raise forms.ValidationError("Give at least one URL, in the box or in a file.")
        limit = settings.FIRECRAWL_START_MAX_URLS
        if len(given) > limit:
            # Counted before any line is validated.
            raise forms.ValidationError(
                f"That is {len(given):,} lines; this server starts at most {limit:,} URLs at once.",
                code=TOO_MANY_URLS,
            )
        urls: list[str] = []
        problems = []
        for where, text in given:
            url = normalize_url(text)
            if url is None:
                problems.append(f"{where} is not a web address: “{clean_text(text[:80])}”")
            else:
                urls.append(url)
        if problems:
            self.add_error(
                "urls" if any(p.startswith("Line") for p in problems) else "upload",
                _problem_list(problems),
            )
            return cleaned
        unique = list(dict.fromkeys(urls))
        cleaned["url_list"] = unique
        cleaned["duplicates"] = len(urls) - len(unique)
        if not pasted and self.upload_name:
            # The URLs are the file's: the job is named after it (unless labelled).
            cleaned["source_name"] = self.upload_name
        return cleaned

    def plan(self) -> StartPlan:
        data = self.cleaned_data
        return StartPlan(
            kind=self.kind,
            api_key=data["api_key"],
            urls=data["url_list"],
            options=self.body_options(),
            label=data["label"],
            retry_of=data.get("retry_of"),
            duplicates=data["duplicates"],
            source_name=data.get("source_name") or "",
        )

    def payload_data(self) -> dict[str, list[str]]:
        retry_of = self.cleaned_data.get("retry_of")
        return {
            **super().payload_data(),
            # The file's URLs go with the others; the confirmation carries no file.
            "urls": ["\n".join(self.cleaned_data["url_list"])],
            "retry_of": [str(retry_of.pk)] if retry_of else [],
            "source_name": [self.cleaned_data.get("source_name") or ""],
        }


class CrawlStartForm(StartForm):
    kind = Job.Kind.CRAWL
    basic = (
        "api_key",
        "url",
        "limit",
        "max_depth",
        "include_paths",
        "exclude_paths",
        "formats",
        "only_main_content",
        "label",
    )

    url = forms.URLField(label="Start URL", max_length=MAX_URL_LENGTH, assume_scheme="https")
    limit = forms.IntegerField(
        label="Limit",
        min_value=1,
        initial=100,
        help_text="The most pages to crawl (one credit each).",
    )
    max_depth = forms.IntegerField(
        label="Max depth",
        min_value=0,
        max_value=start_options.MAX_DEPTH,
        required=False,
        help_text="How many links away from the start page to go; empty for no limit.",
    )
    include_paths = PatternsField(
        label="Include paths",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "^/blog/.*"}),
        help_text="Regular expressions, one per line: only matching paths are crawled.",
    )
    exclude_paths = PatternsField(
        label="Exclude paths",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "^/admin/.*"}),
        help_text="Regular expressions, one per line: matching paths are skipped.",
    )
    regex_on_full_url = forms.BooleanField(
        label="Match paths against the full URL",
        required=False,
        help_text="Include and exclude patterns see the whole address, query string included.",
    )
    crawl_entire_domain = forms.BooleanField(
        label="Crawl the entire domain",
        required=False,
        help_text="Follow links to sibling and parent pages, not only below the start URL.",
    )
    allow_subdomains = forms.BooleanField(label="Follow links to subdomains", required=False)
    allow_external_links = forms.BooleanField(
        label="Follow links to other sites",
        required=False,
        help_text="One hop: the other site's own links are not followed.",
    )
    sitemap = forms.ChoiceField(
        label="Sitemap", choices=SITEMAP_CHOICES, initial="include", required=False
    )
    ignore_query_parameters = forms.BooleanField(
        label="Ignore query parameters",
        required=False,
        help_text="Read /page?a=1 and /page?a=2 once.",
    )
    delay = forms.FloatField(
        label="Delay between pages (s)",
        required=False,
        min_value=0.1,
        max_value=start_options.MAX_DELAY_SECONDS,
        help_text="Slows the crawl to one page at a time.",
    )

    field_order = [
        *basic,
        "regex_on_full_url",
        "crawl_entire_domain",
        "allow_subdomains",
        "allow_external_links",
        "sitemap",
        "ignore_query_parameters",
        "delay",
        "max_concurrency",
    ]

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, owner=owner, **kwargs)
        # The setting is read per form, not at import, so tests and restarts see its value.
        most = settings.FIRECRAWL_START_MAX_URLS
        limit = self.fields["limit"]
        limit.validators.append(MaxValueValidator(most))
        limit.widget.attrs["max"] = most

    def clean_url(self) -> str:
        url = normalize_url(self.cleaned_data["url"])
        if url is None:
            raise forms.ValidationError("Enter an http or https address.")
        return url

    def clean_sitemap(self) -> str:
        return self.cleaned_data["sitemap"] or "include"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        key: ApiKey | None = cleaned.get("api_key")
        if cleaned.get("sitemap") == "only" and key is not None and key.api_version == "v1":
            self.add_error(
                "sitemap",
                "Firecrawl's v1 API cannot crawl only the sitemap: choose another mode, or a "
                "v2 key.",
            )
        return cleaned

    def plan(self) -> StartPlan:
        data = self.cleaned_data
        return StartPlan(
            kind=self.kind,
            api_key=data["api_key"],
            urls=[data["url"]],
            options=self.body_options(),
            label=data["label"],
        )

    def payload_data(self) -> dict[str, list[str]]:
        return {**super().payload_data(), "url": [self.cleaned_data["url"]]}


class StartPageQuery(QueryForm):
    """The Start page's query string: which tab is open."""

    tab = forms.ChoiceField(
        label="Tab", choices=[(Job.Kind.BATCH, "Batch"), (Job.Kind.CRAWL, "Crawl")], required=False
    )


def run_again_data(job: Job) -> dict[str, Any]:
    """The start form's data that starts this job again: its URLs (or start URL), its key, its
    label and every option it was started with, read back from the body Firecrawl got."""
    form_class = START_FORMS[job.kind]
    values = start_options.values(job.kind, job.api_version, job.start_options or {})
    data: dict[str, Any] = {**form_class.data_of_options(values), "label": [job.label]}
    if job.kind == Job.Kind.CRAWL:
        data["url"] = [job.target_url]
    else:
        data["urls"] = ["\n".join(job.start_urls)]
        data["source_name"] = [job.source_name]
    if job.api_key_id is not None:
        data["api_key"] = [str(job.api_key_id)]
    return data


def retry_data(job: Job) -> dict[str, Any] | None:
    """A batch of the job's failed URLs, read as the job read its pages (its scrape options,
    when it was started here), as BatchStartForm data; None when there is nothing to retry."""
    urls = job.retry_urls()
    if not urls:
        return None
    scrape = start_options.scrape_part(job.kind, job.start_options or {})
    values = start_options.values(Job.Kind.BATCH, job.api_version, scrape)
    scrape_fields = {option.field for option in start_options.OPTIONS if option.scrape}
    options = BatchStartForm.data_of_options(
        {name: value for name, value in values.items() if name in scrape_fields}
    )
    data: dict[str, Any] = {
        **options,
        "urls": ["\n".join(urls)],
        "label": [f"Retry of {job}"[:200]],
        "retry_of": [str(job.pk)],
    }
    if job.api_key_id is not None:
        data["api_key"] = [str(job.api_key_id)]
    return data


START_FORMS: dict[str, type[StartForm]] = {
    Job.Kind.BATCH: BatchStartForm,
    Job.Kind.CRAWL: CrawlStartForm,
}


def _salt(owner: Any) -> str:
    return f"jobs.start.confirm:{owner.pk}"


def sign_confirmation(
    owner: Any, form: StartForm, *, token: uuid.UUID, idempotency_key: uuid.UUID
) -> str:
    """The confirmation page's one hidden value: the start, its form token and its idempotency
    key, signed for this user, so nothing in it can be changed or replayed by someone else."""
    payload = {
        "kind": form.kind,
        "data": form.payload_data(),
        "token": str(token),
        "idempotency_key": str(idempotency_key),
    }
    return signing.dumps(payload, salt=_salt(owner), compress=True)


class ConfirmStartForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.start_form: StartForm | None = None
        self.token = self.idempotency_key = uuid.UUID(int=0)

    def clean_payload(self) -> str:
        signed: str = self.cleaned_data["payload"]
        try:
            payload = signing.loads(signed, salt=_salt(self.owner), max_age=confirmation_max_age())
            form_class = START_FORMS[payload["kind"]]
            data = MultiValueDict(payload["data"])
            self.token = uuid.UUID(payload["token"])
            self.idempotency_key = uuid.UUID(payload["idempotency_key"])
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "This confirmation is too old. Check the start again and confirm it."
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
            raise forms.ValidationError(
                "This confirmation cannot be read. Start again from the form."
            ) from None
        # Validated again: the key may have been deleted, a limit lowered, since the page.
        self.start_form = form_class(data, owner=self.owner)
        if not self.start_form.is_valid():
            raise forms.ValidationError(
                "This start is no longer valid (the key may have been deleted). Check it again."
            )
        return signed
