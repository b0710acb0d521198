"""The printed patient handout (PDF): summary, week-by-week calendar, withdrawal, when to get help.

Built with reportlab's platypus. Body text is 12 pt, tables 11 pt, black on white (light grey shading
only, with words such as HOLD carrying the meaning, so it survives black-and-white printing). The calendar
splits across pages with its header row repeated, and never splits one week's rows. Every page carries the
decision-support statement and ``Page N of M`` in its footer. The paper size follows the locale (Letter for
en-US and en-CA, A4 elsewhere).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from benzokit._disclaimer import DISCLAIMER
from benzokit.drugs.models import ProductForm
from benzokit.files import write_atomically
from benzokit.interop._common import check_plan, drug_title, drugs_of, mg
from benzokit.interop.handout_text import (
    HandoutText,
    Locale,
    Section,
    Statement,
    load_handout_text,
)
from benzokit.interop.pdf_calendar import Segment, day_span, segments
from benzokit.knowledge import Knowledge
from benzokit.plan.dispensing import dispensing_totals, preparations
from benzokit.plan.model import Plan, StepKind

_MARGIN = 0.7 * inch
_FOOTER_SPACE = 0.95 * inch
_INK = colors.black
_SHADE = colors.HexColor("#E6E6E6")
_HEADER = colors.HexColor("#C8C8C8")

_STYLES = {
    "title": ParagraphStyle(
        "title", fontName="Helvetica-Bold", fontSize=22, leading=27, spaceAfter=6
    ),
    "h2": ParagraphStyle(
        "h2", fontName="Helvetica-Bold", fontSize=16, leading=20, spaceBefore=14, spaceAfter=6
    ),
    "body": ParagraphStyle("body", fontName="Helvetica", fontSize=12, leading=16, spaceAfter=6),
    "bullet": ParagraphStyle(
        "bullet",
        fontName="Helvetica",
        fontSize=12,
        leading=16,
        spaceAfter=6,
        leftIndent=18,
        bulletIndent=4,
        bulletFontName="Helvetica-Bold",
        bulletFontSize=13,
    ),
    "cell": ParagraphStyle("cell", fontName="Helvetica", fontSize=11, leading=14),
    "head": ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=11, leading=14),
    "crisis": ParagraphStyle("crisis", fontName="Helvetica-Bold", fontSize=13, leading=18),
    "small": ParagraphStyle("small", fontName="Helvetica", fontSize=10, leading=13, spaceAfter=3),
    "footer": ParagraphStyle("footer", fontName="Helvetica", fontSize=8.5, leading=10.5),
}


def write_handout(
    plan: Plan,
    path: Path,
    *,
    locale: str = "en-US",
    patient_name: str | None = None,
    knowledge: Knowledge | None = None,
) -> Path:
    """Write the patient handout of ``plan`` to ``path`` (PDF) and return the path.

    ``locale`` picks the paper size, clock style and crisis lines (an unknown one is an InputError listing
    the known ones); ``patient_name`` is printed under the title when given. Doses are shown in mg.
    """
    pdf = handout_pdf(plan, locale=locale, patient_name=patient_name, knowledge=knowledge)
    return write_atomically(path, pdf)


def handout_pdf(
    plan: Plan,
    *,
    locale: str = "en-US",
    patient_name: str | None = None,
    knowledge: Knowledge | None = None,
) -> bytes:
    """The patient handout of ``plan`` as PDF bytes (what :func:`write_handout` writes)."""
    check_plan(plan)
    text = load_handout_text(knowledge)
    where = text.locale(locale)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER if where.page_size == "letter" else A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_FOOTER_SPACE,
        title=f"{drug_title(plan.drug)} plan",
        author="benzokit",
        subject="Patient handout: dose calendar and when to get help",
        creator="benzokit",
        invariant=True,
    )
    doc.build(
        _story(plan, text, where, patient_name, doc.width, knowledge=knowledge),
        canvasmaker=_FooterCanvas,
    )
    return buffer.getvalue()


def _story(
    plan: Plan,
    text: HandoutText,
    where: Locale,
    patient_name: str | None,
    width: float,
    *,
    knowledge: Knowledge | None = None,
) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(f"Your {escape(plan.drug)} plan", _STYLES["title"])]
    if patient_name:
        story.append(Paragraph(f"Prepared for: <b>{escape(patient_name)}</b>", _STYLES["body"]))
    story.append(_fill_in_lines(plan, width))
    story.append(Paragraph("In short", _STYLES["h2"]))
    story.extend(Paragraph(p, _STYLES["body"]) for p in _summary(plan))
    story.extend(_section(text.key_messages))
    story.extend(_medicines(plan, knowledge))
    story.append(Paragraph("Your calendar", _STYLES["h2"]))
    story.append(_calendar(plan, where, width))
    story.extend(_section(text.withdrawal))
    heading = ParagraphStyle("h2-kept", parent=_STYLES["h2"], keepWithNext=1)
    story.append(Paragraph("When to call your prescriber / get help now", heading))
    story.extend(_section(text.call_prescriber, heading="body"))
    story.extend(_section(text.get_help_now, heading="body"))
    story.append(_crisis_box(where, width))
    story.append(_sources(text, where, plan.knowledge_version))
    return story


def _medicines(plan: Plan, knowledge: Knowledge | None) -> list[Flowable]:
    """What the pharmacy dispenses for the whole plan, and how to make and keep each liquid."""
    lines = dispensing_totals(plan)
    story: list[Flowable] = []
    if lines:
        title = ParagraphStyle("h2-medicines", parent=_STYLES["h2"], keepWithNext=1)
        story.append(Paragraph("Your medicines for the whole plan", title))
        story.extend(
            Paragraph(escape(line.describe()), _STYLES["bullet"], bulletText="•") for line in lines
        )
    for preparation in preparations(plan, knowledge):
        heading = ParagraphStyle("prep", parent=_bold(_STYLES["body"]), keepWithNext=1)
        story.append(Paragraph(escape(f"How to prepare: {preparation.title}"), heading))
        story.append(Paragraph(escape(preparation.how_to_make), _STYLES["bullet"], bulletText="•"))
        story.append(Paragraph(escape(preparation.keeps), _STYLES["bullet"], bulletText="•"))
        if preparation.source:
            story.append(Paragraph(escape(f"Source: {preparation.source}"), _STYLES["small"]))
    return story


def _fill_in_lines(plan: Plan, width: float) -> Table:
    """Blank lines for the clinic (and the start date, when the plan has none) to write on."""
    rows = [["Prescriber:", "", "Phone:", ""]]
    if plan.start_date is None:
        rows.append(["Start date (Day 1):", "", "", ""])
    label = 1.8 * inch
    table = Table(rows, colWidths=[label, width / 2 - label, 0.8 * inch, width / 2 - 0.8 * inch])
    table.hAlign = "LEFT"
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 12),
                ("LINEBELOW", (1, 0), (1, -1), 0.75, _INK),
                ("LINEBELOW", (3, 0), (3, 0), 0.75, _INK),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
            ]
        )
    )
    return table


def _summary(plan: Plan) -> list[str]:
    """Plain-language paragraphs (reportlab mini-markup) about the plan as a whole."""
    days = plan.total_days
    weeks = (
        f"{days // 7} weeks" if days % 7 == 0 else f"{days} days (about {round(days / 7)} weeks)"
    )
    when = (
        f"from <b>{day_span(plan, 0, days - 1)}</b>"
        if plan.start_date
        else "from the day you start"
    )
    changes = sum(1 for s in plan.steps[1:] if s.kind is StepKind.DOSE)
    times = {1: "once", 2: "twice"}.get(changes, f"{changes} times")
    lines = [
        f"This plan lists every dose of your {escape(plan.drug)} for {weeks}, {when}. "
        f"Your dose changes {times}. {_direction(plan)}"
    ]
    if any(s.kind is StepKind.HOLD for s in plan.steps):
        lines.append(
            "Weeks marked <b>HOLD</b> keep the same dose as before: a pause, with no change."
        )
    forms = {p.form for s in plan.steps for a in s.doses for p in a.products}
    if ProductForm.ODT in forms:
        lines.append("<b>ODT</b> means orally disintegrating tablet: it dissolves in the mouth.")
    if plan.start_date is None:
        lines.append("Day 1 is the day you start. Write the date on the line above.")
    lines.append(
        "What withdrawal may feel like and when to get help are explained after the calendar."
    )
    return lines


def _direction(plan: Plan) -> str:
    """``Your daily dose goes down from 1 mg to 0.5 mg.``, per drug when the plan has several."""
    first, last = plan.steps[0], plan.steps[-1]

    def amount(value: float) -> str:
        return f"<b>{mg(value)} mg</b>" if value > 0 else "<b>none</b>"

    drugs = drugs_of(plan)
    if len(drugs) == 1:
        start, end = first.daily_dose_mg(plan.drug), last.daily_dose_mg(plan.drug)
        verb = "goes down" if end < start else "goes up" if end > start else "stays"
        return f"Your daily dose {verb} from {amount(start)} to {amount(end)}."
    parts = [
        f"{escape(d)} goes from {amount(first.daily_dose_mg(d))} to {amount(last.daily_dose_mg(d))}"
        for d in drugs
    ]
    return "Over the plan your daily " + ", and your daily ".join(parts) + "."


def _section(section: Section, heading: str = "h2") -> list[Flowable]:
    """A title and its bullet paragraphs; the title stays on the page of the first bullet."""
    base = _STYLES[heading] if heading == "h2" else _bold(_STYLES["body"])
    title = ParagraphStyle(f"{base.name}-kept", parent=base, keepWithNext=1)
    return [Paragraph(escape(section.title), title), *(_bullet(s) for s in section.items)]


def _bullet(statement: Statement) -> Paragraph:
    return Paragraph(escape(statement.text), _STYLES["bullet"], bulletText="•")


def _bold(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-bold", parent=style, fontName="Helvetica-Bold")


def _calendar(plan: Plan, where: Locale, width: float) -> Table:
    """The week-by-week table: per segment, the When cell spans its dose-time rows, kept on one page."""
    widths = [2.4 * inch, 0.8 * inch, 1.0 * inch, width - 4.2 * inch]
    head = ["When", "Time", "Dose", "What to take"]
    data: list[list[Any]] = [[Paragraph(h, _STYLES["head"]) for h in head]]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER),
        ("LINEBELOW", (0, 0), (-1, 0), 1.5, _INK),
        ("LINEBEFORE", (1, 0), (-1, -1), 0.25, _INK),
        ("BOX", (0, 0), (-1, -1), 1, _INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    for segment in segments(plan, where.clock):
        first = len(data)
        data.extend(_segment_rows(segment))
        last = len(data) - 1
        style += [
            ("SPAN", (0, first), (0, last)),
            ("NOSPLIT", (0, first), (-1, last)),
            ("LINEABOVE", (0, first), (-1, first), 0.75, _INK),
        ]
        if last > first:
            style.append(("LINEBELOW", (1, first), (-1, last - 1), 0.25, colors.grey))
        if segment.hold:
            style.append(("BACKGROUND", (0, first), (-1, last), _SHADE))
    table = Table(data, colWidths=widths, repeatRows=1, splitByRow=True)
    table.setStyle(TableStyle(style))
    return table


def _segment_rows(segment: Segment) -> list[list[Any]]:
    """One row per dose time; the first carries the When cell (spanning the others)."""
    when = f"<b>Week {segment.week}</b>"
    if segment.marker:
        when += f" — <b>{escape(segment.marker)}</b>"
    when += f"<br/>{escape(segment.span)}<br/>Total {escape(segment.total)}"
    rows: list[list[Any]] = []
    for k, row in enumerate(segment.rows):
        what = escape(row.what)
        if k == 0 and segment.note:
            what += f"<br/><i>{escape(segment.note)}</i>"
        cells = [escape(row.time), f"<b>{escape(row.dose)}</b>", what]
        first = Paragraph(when, _STYLES["cell"]) if k == 0 else ""
        rows.append([first, *(Paragraph(c, _STYLES["cell"]) for c in cells)])
    return rows


def _crisis_box(where: Locale, width: float) -> Flowable:
    lines = [Paragraph("If you are in crisis", _STYLES["h2"])]
    lines += [
        Paragraph(escape(s.text), _STYLES["crisis"]) for s in (*where.crisis, where.emergency)
    ]
    box = Table([[line] for line in lines], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 2, _INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
            ]
        )
    )
    return KeepTogether([Spacer(1, 10), box])


def _sources(text: HandoutText, where: Locale, knowledge_version: str | None) -> Flowable:
    """Where the statements come from, and the knowledge base the plan was made with (for the
    clinician who hands the sheet out)."""
    sections = (text.key_messages, text.withdrawal, text.call_prescriber, text.get_help_now)
    shown = [*(s for section in sections for s in section.items), *where.crisis, where.emergency]
    used = {s.source for s in shown}
    cited = [
        src for key, src in text.sources.items() if key in used and src.kind.value != "assumption"
    ]
    paragraphs = [Paragraph("Where this advice comes from", _bold(_STYLES["small"]))]
    paragraphs += [Paragraph(escape(src.citation), _STYLES["small"]) for src in cited]
    if knowledge_version:
        made_with = f"Planned and checked with benzokit knowledge base {knowledge_version}."
        paragraphs.append(Paragraph(escape(made_with), _STYLES["small"]))
    return KeepTogether([Spacer(1, 12), *paragraphs])


class _FooterCanvas(Canvas):
    """A canvas that holds its pages until the end, so each footer can say ``Page N of M``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab internal, not in the stubs

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(number, total)
            super().showPage()
        super().save()

    def _footer(self, number: int, total: int) -> None:
        page_width, _ = self._pagesize  # type: ignore[attr-defined]
        width = page_width - 2 * _MARGIN
        statement = Paragraph(
            f"<b>Decision support only.</b> {escape(DISCLAIMER)}", _STYLES["footer"]
        )
        _, height = statement.wrap(width - 0.9 * inch, _FOOTER_SPACE)
        statement.drawOn(self, _MARGIN, 0.35 * inch)
        self.setFont("Helvetica", 10)
        self.drawRightString(page_width - _MARGIN, 0.35 * inch, f"Page {number} of {total}")
        self.setLineWidth(0.5)
        self.line(_MARGIN, 0.35 * inch + height + 4, page_width - _MARGIN, 0.35 * inch + height + 4)
