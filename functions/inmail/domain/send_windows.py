"""Send windows in the candidate's time zone (R70-R74), as pure functions.

Zones come from the IANA database shipped as the `tzdata` package, never from the OS, so
Lambda, CI and every laptop schedule by the same rules (a newer `tzdata` brings new rules).

A window is a set of instants: those whose wall-clock time in the zone falls on one of its
days at an hour in [start_hour, end_hour). Wall clocks decide, so daylight saving follows
the zone's rules:
- a local time that does not exist (spring forward) is skipped: a window opening at 02:00
  opens at 03:00 EDT on America/New_York's spring-forward day, and [02:00, 03:00) has no
  instant that day;
- a local time that happens twice (fall back) is inside the window both times, so the
  repeated hour counts twice; the first instant at or after a time is the earlier one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from .errors import ErrorCode, Refusal
from .model import SendWindow, Weekday
from .rules import FOLLOW_UP_MAX, FOLLOW_UP_MIN, next_utc_midnight

# How far the search for a window instant looks: each window day comes back within 7 days,
# and daylight saving can swallow a short window on one of them (once a year).
SEARCH_DAYS = 16
# The latest instant of a window that closed is its last minute (its end is not in it).
LAST_MINUTE = timedelta(minutes=1)


# ---- time zones (R70) -----------------------------------------------------------------


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA name the shipped database knows (links such as US/Eastern included)."""
    from importlib import resources  # on first use, not on a cold start's path

    listed = (resources.files("tzdata") / "zones").read_text(encoding="utf-8").split()
    return frozenset(listed) - {"Factory"}  # a placeholder zone, no place on earth


def check_time_zone(name: str, field: tuple[str, ...]) -> str:
    """R70: an IANA name, spelled as the database spells it (Europe/Berlin)."""
    if name not in zone_names():
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            "timeZone must be an IANA time zone name such as Europe/Berlin or America/New_York.",
            field,
        )
    return name


@functools.cache
def zone(name: str | None) -> tzinfo:
    """The zone's rules from the shipped database; no zone is UTC (R70)."""
    if name is None:
        return UTC
    if name not in zone_names():
        raise ValueError(f"unknown time zone {name!r}")
    from importlib import resources
    from zoneinfo import ZoneInfo

    path = resources.files("tzdata.zoneinfo")
    for part in name.split("/"):
        path = path / part
    with path.open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


def local_iso(at: datetime, zone_name: str | None) -> str:
    """`at` as the candidate's clock reads it, ISO-8601 with the offset (R73)."""
    return at.astimezone(zone(zone_name)).isoformat()


# ---- windows (R71) --------------------------------------------------------------------


def check_send_window(start_hour: int, end_hour: int, days: Sequence[Weekday], field: tuple[str, ...]) -> SendWindow:
    """R71's input: hours 0-23 to 1-24, end after start; one or more days, each once."""
    if not 0 <= start_hour <= 23:
        raise Refusal(ErrorCode.INVALID_INPUT, "startHour must be between 0 and 23.", (*field, "startHour"))
    if not 1 <= end_hour <= 24 or end_hour <= start_hour:
        raise Refusal(
            ErrorCode.INVALID_INPUT, "endHour must be between 1 and 24 and after startHour.", (*field, "endHour")
        )
    if not days:
        raise Refusal(ErrorCode.INVALID_INPUT, "Give at least one day.", (*field, "days"))
    if len(set(days)) != len(days):
        raise Refusal(ErrorCode.INVALID_INPUT, "Give each day once.", (*field, "days"))
    return SendWindow(start_hour, end_hour, tuple(day for day in Weekday if day in days))


def in_window(at: datetime, window: SendWindow, tz: tzinfo) -> bool:
    local = at.astimezone(tz)
    return (
        any(day.number == local.weekday() for day in window.days) and window.start_hour <= local.hour < window.end_hour
    )


def _wall(day: date, hour: int, tz: tzinfo) -> Iterator[datetime]:
    """The instants a wall clock reads `day` `hour`:00, both of them in a repeated hour. A
    time that does not exist comes out after the gap (fold 0 reads it with the offset from
    before the change)."""
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(hour), tzinfo=tz)
    for fold in (0, 1):
        yield wall.replace(fold=fold).astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _offset_change(day: date, tz: tzinfo) -> datetime | None:
    """The instant the zone's offset changes during local `day`, if it does (to the second:
    the database's changes are whole seconds)."""
    lo = next(_wall(day, 0, tz))
    hi = next(_wall(day, 24, tz))
    after = hi.astimezone(tz).utcoffset()
    if lo.astimezone(tz).utcoffset() == after:
        return None
    low, high = int(lo.timestamp()), int(hi.timestamp())  # offset(low) differs, offset(high) is `after`
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == after:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def _edges(day: date, hour: int, tz: tzinfo) -> Iterator[datetime]:
    """Where membership of a window can change on local `day`: the wall clock reaching
    `hour`, or the offset changing (a jump over the hour, or back into it)."""
    yield from _wall(day, hour, tz)
    change = _offset_change(day, tz)
    if change is not None:
        yield change


def _nearest(found: Iterator[tuple[date, datetime]], pick: Callable[[Iterable[datetime]], datetime]) -> datetime | None:
    """The earliest (or latest) of edges found day by day, moving away from a start: local
    days follow each other, so the day after the first day with an edge (a repeated hour
    can straddle midnight) is the last that can hold a nearer one."""
    kept: list[datetime] = []
    first_day: date | None = None
    for day, edge in found:
        if first_day is not None and abs((day - first_day).days) > 1:
            break
        first_day = first_day or day
        kept.append(edge)
    return pick(kept) if kept else None


def first_in_window(at: datetime, window: SendWindow, tz: tzinfo) -> datetime | None:
    """The first instant at or after `at` inside the window (None if none within
    SEARCH_DAYS, which only daylight saving swallowing every window day could cause)."""
    if in_window(at, window, tz):
        return at
    today = at.astimezone(tz).date()
    openings = (
        (day, edge)
        for day in (today + timedelta(days=n) for n in range(-1, SEARCH_DAYS + 1))
        for edge in _edges(day, window.start_hour, tz)
        if edge >= at and in_window(edge, window, tz)
    )
    return _nearest(openings, min)


def last_in_window(at: datetime, window: SendWindow, tz: tzinfo) -> datetime | None:
    """The latest instant at or before `at` inside the window: `at` itself when inside,
    else the last minute before the window last closed."""
    if in_window(at, window, tz):
        return at
    today = at.astimezone(tz).date()
    last_minutes = (
        (day, edge - LAST_MINUTE)
        for day in (today - timedelta(days=n) for n in range(-1, SEARCH_DAYS + 1))
        for edge in _edges(day, window.end_hour, tz)
        if edge <= at and in_window(edge - LAST_MINUTE, window, tz)
    )
    return _nearest(last_minutes, max)


# ---- scheduling into the window (R72, R73) ----------------------------------------------


def due_in_window(asked: datetime, first_sent_at: datetime, window: SendWindow | None, tz: tzinfo) -> datetime | None:
    """R72: when a follow-up asked for `asked` (already within R11) falls due.

    Without a window, `asked`. With one, the first instant at or after `asked` inside the
    window in the candidate's zone; if that is later than R11's 28 days, the last window
    instant within them instead. None when the window has no instant within R11 at all;
    whatever is returned lies within R11 (72 hours to 28 days after the first message).
    """
    if window is None:
        return asked
    earliest, latest = first_sent_at + FOLLOW_UP_MIN, first_sent_at + FOLLOW_UP_MAX
    first = first_in_window(max(asked, earliest), window, tz)
    if first is not None and first <= latest:
        return first
    last = last_in_window(latest, window, tz)
    return last if last is not None and last >= earliest else None


def scheduled_for(
    asked: datetime,
    first_sent_at: datetime,
    window: SendWindow | None,
    zone_name: str | None,
    now: datetime,
    field: tuple[str, ...],
) -> datetime:
    """R72 after R11/R12 (rules.follow_up_due gave `asked`): the due instant, or
    FOLLOW_UP_WINDOW when the window has no instant left between now and 28 days."""
    due = due_in_window(asked, first_sent_at, window, zone(zone_name))
    if due is None or due < now:
        raise Refusal(
            ErrorCode.FOLLOW_UP_WINDOW,
            "The contract's send window has no time left between now and 28 days after the first message.",
            field,
        )
    return due


# ---- moving a follow-up past the daily maximum (R74) -----------------------------------


def next_day_slot(
    due: datetime, first_sent_at: datetime, now: datetime, window: SendWindow | None, tz: tzinfo
) -> datetime | None:
    """R74: where a follow-up due at `due` that met the daily maximum at `now` moves.

    To the next UTC day (the maximum resets at 00:00 UTC): without a window, at the same
    UTC time of day as it was due; with one, at the first window instant from 00:00 UTC
    that day on (R72 applied to that midnight: later days when the window has no time on
    that one). None when that is later than R11's 28 days (R25 applies): unlike R72, a
    move never goes back to an earlier window instant, which would be the day that is full.
    """
    midnight = next_utc_midnight(now)
    if window is None:
        target: datetime | None = datetime.combine(midnight.date(), due.astimezone(UTC).timetz())
    else:
        target = first_in_window(midnight, window, tz)
    if target is None or target > first_sent_at + FOLLOW_UP_MAX:
        return None
    return target
