"""The forms that start jobs: a batch from pasted or uploaded URLs, a crawl from a start URL, and
the confirmation that carries either, signed, with its form token."""

import csv
import io
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

from firecrawl_api.text import clean_text
from jobs.models import Job
from jobs.models.start_requests import confirmation_max_age
from jobs.starting import StartPlan, batch_options, crawl_options
from keys.forms.choice import KeyChoiceField, OwnKeyMixin
from keys.models import ApiKey

FORMAT_CHOICES = [
    ("markdown", "Markdown"),
    ("html", "HTML"),
    ("rawHtml", "Raw HTML"),
    ("links", "Links"),
    ("screenshot", "Screenshot"),
]
MAX_URL_LENGTH = 2048
MAX_PATH_PATTERNS = 100
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


class StartForm(OwnKeyMixin):
    """What both kinds of start share: the key, how pages are scraped, a label."""

    kind: ClassVar[str]

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

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.kind}_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.offer_keys(owner)

    def plan(self) -> StartPlan:
        raise NotImplementedError

    def payload_data(self) -> dict[str, list[str]]:
        """The cleaned inputs as form data: what the confirmation carries, signed, and binds
        to this form again when Confirm is pressed (validated a second time)."""
        data = self.cleaned_data
        return {
            "api_key": [str(data["api_key"].pk)],
            "formats": list(data["formats"]),
            "only_main_content": ["on"] if data["only_main_content"] else [],
            "label": [data["label"]],
        }


class BatchStartForm(StartForm):
    kind = Job.Kind.BATCH

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

    field_order = ["api_key", "urls", "upload", "formats", "only_main_content", "label"]

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, owner=owner, **kwargs)
        retry_field = self.fields["retry_of"]
        assert isinstance(retry_field, forms.ModelChoiceField)
        retry_field.queryset = Job.objects.for_user(owner)

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
        if suffix == ".csv":
            try:
                return urls_from_csv(text)
            except csv.Error as exc:
                raise forms.ValidationError(f"That CSV file cannot be read ({exc}).") from None
        return _lines(text)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        given = [(f"Line {n}", line) for n, line in _lines(cleaned.get("urls", ""))]
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
        return cleaned

    def plan(self) -> StartPlan:
        data = self.cleaned_data
        return StartPlan(
            kind=self.kind,
            api_key=data["api_key"],
            urls=data["url_list"],
            options=batch_options(list(data["formats"]), data["only_main_content"]),
            label=data["label"],
            retry_of=data.get("retry_of"),
            duplicates=data["duplicates"],
        )

    def payload_data(self) -> dict[str, list[str]]:
        retry_of = self.cleaned_data.get("retry_of")
        return {
            **super().payload_data(),
            # The file's URLs go with the others; the confirmation carries no file.
            "urls": ["\n".join(self.cleaned_data["url_list"])],
            "retry_of": [str(retry_of.pk)] if retry_of else [],
        }


class CrawlStartForm(StartForm):
    kind = Job.Kind.CRAWL

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
        max_value=100,
        required=False,
        help_text="How many links away from the start page to go; empty for no limit.",
    )
    include_paths = forms.CharField(
        label="Include paths",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "^/blog/.*"}),
        help_text="Regular expressions, one per line: only matching paths are crawled.",
    )
    exclude_paths = forms.CharField(
        label="Exclude paths",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "^/admin/.*"}),
        help_text="Regular expressions, one per line: matching paths are skipped.",
    )

    field_order = [
        "api_key",
        "url",
        "limit",
        "max_depth",
        "include_paths",
        "exclude_paths",
        "formats",
        "only_main_content",
        "label",
    ]

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, owner=owner, **kwargs)
        # The setting is read per form, not at import, so tests and restarts see its value.
        most = settings.FIRECRAWL_START_MAX_URLS
        limit = self.fields["limit"]
        limit.validators.append(MaxValueValidator(most))
        limit.widget.attrs["max"] = most

    def _patterns(self, name: str) -> list[str]:
        patterns = [line for _, line in _lines(self.cleaned_data.get(name, ""))]
        if len(patterns) > MAX_PATH_PATTERNS:
            raise forms.ValidationError(f"At most {MAX_PATH_PATTERNS} patterns.")
        if any(len(pattern) > 500 for pattern in patterns):
            raise forms.ValidationError("A pattern is longer than 500 characters.")
        # Firecrawl checks them as JavaScript regular expressions, and says what is wrong.
        return patterns

    def clean_include_paths(self) -> list[str]:
        return self._patterns("include_paths")

    def clean_exclude_paths(self) -> list[str]:
        return self._patterns("exclude_paths")

    def clean_url(self) -> str:
        url = normalize_url(self.cleaned_data["url"])
        if url is None:
            raise forms.ValidationError("Enter an http or https address.")
        return url

    def plan(self) -> StartPlan:
        data = self.cleaned_data
        key: ApiKey = data["api_key"]
        return StartPlan(
            kind=self.kind,
            api_key=key,
            urls=[data["url"]],
            options=crawl_options(
                key.api_version,
                limit=data["limit"],
                max_depth=data["max_depth"],
                include_paths=data["include_paths"],
                exclude_paths=data["exclude_paths"],
                formats=list(data["formats"]),
                only_main_content=data["only_main_content"],
            ),
            label=data["label"],
        )

    def payload_data(self) -> dict[str, list[str]]:
        data = self.cleaned_data
        return {
            **super().payload_data(),
            "url": [data["url"]],
            "limit": [str(data["limit"])],
            "max_depth": [] if data["max_depth"] is None else [str(data["max_depth"])],
            "include_paths": ["\n".join(data["include_paths"])],
            "exclude_paths": ["\n".join(data["exclude_paths"])],
        }


def retry_data(job: Job) -> dict[str, Any] | None:
    """A batch of the job's failed URLs, with the job's own scrape options when it was started
    here, as BatchStartForm data (the job page's Retry button and the API's retry); None when
    there is nothing to retry."""
    urls = job.retry_urls()
    if not urls:
        return None
    options = job.scrape_options()
    data: dict[str, Any] = {
        "urls": "\n".join(urls),
        "label": f"Retry of {job}"[:200],
        "retry_of": str(job.pk),
        "formats": options.get("formats") or ["markdown"],
        "only_main_content": "on" if options.get("onlyMainContent", True) is not False else "",
    }
    if job.api_key_id is not None:
        data["api_key"] = str(job.api_key_id)
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
