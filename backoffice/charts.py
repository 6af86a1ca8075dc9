"""Charts drawn on the server as SVG, no JavaScript: the geometry is computed here, the
templates (`backoffice/_column_chart.html`, `backoffice/_bar_chart.html`) draw it.

Horizontal positions are percentages of the chart's width and vertical ones pixels of a fixed
height, so a chart fills a phone or a desktop panel while its text keeps its size (a viewBox
would shrink the labels with the chart). Every chart carries a title and a description for
screen readers, and its page shows the same numbers as a table."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from babel.numbers import format_compact_decimal
from django.utils.translation import get_language, to_locale

COLUMN_HEIGHT = 180  # pixels of the plot area
AXIS_GUTTER = 9.0  # percent of the width left of the plot, for the axis' numbers
TOP = 10  # pixels above the plot area: the top number of the axis is not cut off
MAX_LABELS = 5  # at most this many labels under the columns: they fit on a phone


@dataclass(frozen=True)
class Series:
    key: str  # the CSS class `series-<key>` colours it
    label: str


@dataclass
class Segment:
    series: Series
    value: int
    y: float
    height: float


@dataclass
class Column:
    label: str
    title: str  # the column's tooltip: its label and every series' value
    x: float
    width: float
    segments: list[Segment] = field(default_factory=list)
    show_label: bool = True

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class ColumnChart:
    slug: str
    title: str
    description: str
    series: Sequence[Series]
    columns: list[Column]
    ticks: list[Tick]
    height: int = COLUMN_HEIGHT
    gutter: float = AXIS_GUTTER

    @property
    def svg_height(self) -> int:
        return self.height + TOP + 24  # room for the top number and the labels underneath

    @property
    def label_y(self) -> int:
        return self.height + TOP + 18


def compact(value: int | float) -> str:
    """12345 -> "12 mil" (es), "12K" (en): an axis' number in the current language."""
    locale = to_locale(get_language() or "es")
    return format_compact_decimal(value, locale=locale, fraction_digits=1)


def nice_ceiling(value: float) -> float:
    """The round number at or above `value` that an axis ends on (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def column_chart(
    *,
    slug: str,
    title: str,
    description: str,
    series: Sequence[Series],
    columns: Sequence[tuple[str, dict[str, int | float]]],
    scale: Callable[[float], float] = lambda value: value,
    axis_label: Callable[[float], str] = compact,
    value_label: Callable[[str, float], str] | None = None,
    maximum: float | None = None,
) -> ColumnChart:
    """Columns (label, {series key: value}), the series stacked in the order given.
    `scale` turns a value into the axis' unit (minor units into major, for money);
    `value_label` writes a series' value for the tooltip."""
    value_label = value_label or (lambda key, value: axis_label(value))
    totals = [sum(scale(v) for v in values.values()) for _, values in columns]
    top = nice_ceiling(maximum if maximum is not None else max(totals, default=0))
    span = 100 - AXIS_GUTTER
    slot = span / max(len(columns), 1)
    every = max(1, -(-len(columns) // MAX_LABELS))  # ceiling division
    drawn = []
    for index, (label, values) in enumerate(columns):
        column = Column(
            label=label,
            title=" · ".join(
                [label] + [f"{s.label}: {value_label(s.key, values.get(s.key, 0))}" for s in series]
            ),
            x=AXIS_GUTTER + index * slot + slot * 0.15,
            width=slot * 0.7,
            show_label=index % every == 0,
        )
        bottom = float(COLUMN_HEIGHT + TOP)
        for s in series:
            value = values.get(s.key, 0)
            height = COLUMN_HEIGHT * scale(value) / top
            if height > 0:
                bottom -= height
                column.segments.append(Segment(s, value, round(bottom, 2), round(height, 2)))
        drawn.append(column)
    ticks = [
        Tick(y=round(TOP + COLUMN_HEIGHT * (1 - fraction), 2), label=axis_label(top * fraction))
        for fraction in (0, 0.5, 1)
    ]
    return ColumnChart(slug, title, description, series, drawn, ticks)


@dataclass
class BarPart:
    series: str  # the CSS class `series-<series>` colours it
    x: float
    width: float


@dataclass
class Bar:
    label: str
    value_label: str
    parts: list[BarPart]
    url: str = ""


@dataclass
class BarChart:
    """Horizontal bars, one row each, with the label and value as text above the bar (long
    activity names wrap on a phone): the bar itself is a small SVG."""

    slug: str
    title: str
    description: str
    bars: list[Bar]
    series: Sequence[Series] = ()


def bar_chart(
    *,
    slug: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, dict[str, float], str]],
    series: Sequence[Series] = (),
    maxima: Sequence[float] | None = None,
    urls: Sequence[str] | None = None,
) -> BarChart:
    """Bars (label, {series key: value}, the value as written), the series side by side in
    one bar, each scaled to its own maximum in `maxima` (a departure's capacity) or all to
    the longest bar; `urls`, where each row's label leads."""
    longest = max((sum(values.values()) for _, values, _ in rows), default=0) or 1
    bars = []
    for index, (label, values, written) in enumerate(rows):
        top = (maxima[index] if maxima else longest) or 1
        x, parts = 0.0, []
        for key, value in values.items():
            width = round(min(100 - x, 100 * value / top), 2)
            if width > 0:
                parts.append(BarPart(key, round(x, 2), width))
                x += width
        bars.append(Bar(label, written, parts, urls[index] if urls else ""))
    return BarChart(slug, title, description, bars, series)
