"""An xlsx workbook written as a stream: one sheet, row by row, into the project's streaming zip.

An xlsx file is a zip of XML parts. A writer that builds the zip at the end (xlsxwriter, even in
constant-memory mode) sends nothing until the last row is written: 22 s of silence for 150,000
rows, past a proxy's read timeout at 500,000. Here the small parts go first and the sheet is
streamed as its rows come (a zip entry with a data descriptor, as Java's ZipOutputStream writes
them for every xlsx Apache POI streams), so the first bytes leave at once and memory stays flat.
Cells hold inline strings and numbers; the header row is bold and frozen.
"""

from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from jobs.zipwriter import ZipStream

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Rows handed to the zip at once: a few hundred KB of XML.
ROWS_PER_CHUNK = 500

_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _workbook(sheet_name: str) -> str:
    return (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
        f'<sheet name="{escape(sheet_name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    )


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: int | str, style: str = "") -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet(header: list[str], rows: Iterable[list[int | str | None]]) -> Iterator[bytes]:
    letters = [column_letter(index) for index in range(len(header))]
    head = "".join(_cell(f"{c}1", name, ' s="1"') for c, name in zip(letters, header, strict=True))
    yield (
        f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        f'</sheetView></sheetViews><sheetData><row r="1">{head}</row>'
    ).encode()
    lines: list[str] = []
    for number, row in enumerate(rows, start=2):
        cells = "".join(
            _cell(f"{c}{number}", value)
            for c, value in zip(letters, row, strict=True)
            if value is not None and value != ""
        )
        lines.append(f'<row r="{number}">{cells}</row>')
        if len(lines) == ROWS_PER_CHUNK:
            yield "".join(lines).encode()
            lines = []
    yield ("".join(lines) + "</sheetData></worksheet>").encode()


def workbook_stream(
    sheet_name: str, header: list[str], rows: Iterable[list[int | str | None]]
) -> Iterator[bytes]:
    """The xlsx file of one sheet: `header` in bold and frozen, then `rows` (text must already
    be XML-safe: jobs.export.xlsx_text), as bytes to send while the rows are still read."""
    archive = ZipStream()
    try:
        parts = [(name, (_HEAD + xml).encode()) for name, xml in _PARTS.items()]
        parts.append(("xl/workbook.xml", (_HEAD + _workbook(sheet_name)).encode()))
        yield from archive.add_files([parts])
        yield from archive.stream("xl/worksheets/sheet1.xml", _sheet(header, rows))
    except BaseException:
        archive.abandon()
        raise
    yield from archive.close()
