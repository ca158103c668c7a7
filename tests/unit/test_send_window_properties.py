"""The scheduling function of send windows (domain/send_windows.py), against a brute-force
oracle, over zones with daylight saving (America/New_York, Europe/Berlin), a half-hour
change (Australia/Lord_Howe), odd offsets (Asia/Kathmandu +05:45, Pacific/Chatham +12:45,
America/St_Johns -03:30), changes at midnight (Africa/Cairo, America/Santiago), windows
and asked times: R72's answer lies in the window, is the earliest such instant at or after
the time asked (or the latest within R11), and R11 always holds; R74's move likewise.

The oracle walks UTC in quarter hours: every zone here has offsets and changes on quarter
hours, so whether an instant is inside a window can only change on that grid.

Deterministic (derandomized, so CI runs the same examples every time); set
SEND_WINDOW_EXPLORE=1 to draw new ones locally."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inmail.domain.errors import ErrorCode, Refusal
from inmail.domain.model import SendWindow, Weekday
from inmail.domain.rules import FOLLOW_UP_MAX, FOLLOW_UP_MIN
from inmail.domain.send_windows import (
    check_send_window,
    check_time_zone,
    due_in_window,
    local_iso,
    next_day_slot,
    scheduled_for,
    zone,
)

ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Africa/Cairo",
    "America/Santiago",
    "UTC",
)
GRID = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)

PROPERTIES = settings(
    max_examples=250,
    deadline=None,
    derandomize=os.environ.get("SEND_WINDOW_EXPLORE") != "1",
    suppress_health_check=[HealthCheck.too_slow],
)


# ---- the oracle -------------------------------------------------------------------------


def inside(at: datetime, window: SendWindow, tz: tzinfo) -> bool:
    """R71 read literally: the candidate's wall clock shows a window day and hour."""
    local = at.astimezone(tz)
    return local.strftime("%A").upper() in {d.value for d in window.days} and (
        window.start_hour <= local.hour < window.end_hour
    )


def grid_after(at: datetime) -> datetime:
    """The first quarter hour (UTC) strictly after `at`."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + ((at - epoch) // GRID + 1) * GRID


def oracle_first(at: datetime, until: datetime, window: SendWindow, tz: tzinfo) -> datetime | None:
    """The first instant in [at, until] inside the window."""
    if at > until:
        return None
    if inside(at, window, tz):
        return at
    point = grid_after(at)
    while point <= until:
        if inside(point, window, tz):
            return point
        point += GRID
    return None


def oracle_last(at: datetime, since: datetime, window: SendWindow, tz: tzinfo) -> datetime | None:
    """The latest instant in [since, at] inside the window, to the minute: `at` itself, or
    the last minute before the window last closed."""
    if inside(at, window, tz):
        return at
    point = grid_after(at) - GRID  # the quarter hour holding `at` (constant on it: outside)
    while point - MINUTE >= since:
        if inside(point - MINUTE, window, tz):
            return point - MINUTE
        point -= GRID
    return None


def nothing_inside(start: datetime, end: datetime, window: SendWindow, tz: tzinfo) -> bool:
    """No instant of [start, end) is inside the window."""
    if start >= end:
        return True
    found = oracle_first(start, end, window, tz)
    return found is None or found >= end


# ---- strategies ---------------------------------------------------------------------------


@cache
def change_days(zone_name: str) -> tuple[date, ...]:
    """The local days of 2026 and 2027 on which the zone's offset changes."""
    tz = zone(zone_name)
    days = []
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
        if start.astimezone(tz).utcoffset() != (start + timedelta(days=1)).astimezone(tz).utcoffset():
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


windows = st.integers(0, 23).flatmap(
    lambda start: st.builds(
        lambda end, days: SendWindow(start, end, tuple(d for d in Weekday if d in days)),
        st.integers(start + 1, 24),
        st.sets(st.sampled_from(Weekday), min_size=1),
    )
)


@st.composite
def asked_times(draw: st.DrawFn, zone_name: str) -> datetime:
    """Near a change of offset half the time (the day before to the day after), else any
    time of 2026-2027, to the second."""
    days = change_days(zone_name)
    if days and draw(st.booleans()):
        day = draw(st.sampled_from(days))
        base = datetime(day.year, day.month, day.day, tzinfo=zone(zone_name)).astimezone(UTC) - timedelta(days=1)
        return base + timedelta(seconds=draw(st.integers(0, 3 * 24 * 3600)))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return base + timedelta(seconds=draw(st.integers(0, 2 * 365 * 24 * 3600)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, SendWindow, datetime, datetime]:
    """(zone, window, first message, time asked within R11)."""
    zone_name = draw(st.sampled_from(ZONES))
    asked = draw(asked_times(zone_name))
    since_first = draw(st.integers(int(FOLLOW_UP_MIN.total_seconds()), int(FOLLOW_UP_MAX.total_seconds())))
    return zone_name, draw(windows), asked - timedelta(seconds=since_first), asked


# ---- R72: into the window -------------------------------------------------------------------


@PROPERTIES
@given(cases())
def test_r72_due_is_the_earliest_window_time_at_or_after_the_asked_or_the_latest_within_r11(
    case: tuple[str, SendWindow, datetime, datetime],
) -> None:
    zone_name, window, first, asked = case
    tz = zone(zone_name)
    earliest, latest = first + FOLLOW_UP_MIN, first + FOLLOW_UP_MAX
    due = due_in_window(asked, first, window, tz)

    first_inside = oracle_first(asked, latest, window, tz)
    if first_inside is not None:
        assert due == first_inside
        assert nothing_inside(asked, due, window, tz)  # none earlier, at or after the asked time
    else:
        assert due == oracle_last(latest, earliest, window, tz)
    if due is not None:
        assert inside(due, window, tz)
        assert earliest <= due <= latest  # R11
        assert due.tzinfo is not None


@settings(PROPERTIES, max_examples=50)
@given(cases())
def test_r72_without_a_window_the_follow_up_is_due_when_asked(case: tuple[str, SendWindow, datetime, datetime]) -> None:
    zone_name, _, first, asked = case
    assert due_in_window(asked, first, None, zone(zone_name)) == asked


@PROPERTIES
@given(cases(), st.integers(0, 27 * 24))
def test_r72_scheduled_for_is_never_in_the_past_and_keeps_r11(
    case: tuple[str, SendWindow, datetime, datetime], hours_after_first: int
) -> None:
    """What the services call: a time in the window within R11 not before now, or
    FOLLOW_UP_WINDOW (nothing to charge)."""
    zone_name, window, first, asked = case
    now = min(first + timedelta(hours=hours_after_first), asked)
    try:
        due = scheduled_for(asked, first, window, zone_name, now, ("input",))
    except Refusal as refusal:
        assert refusal.code is ErrorCode.FOLLOW_UP_WINDOW and refusal.field == ("input",)
        late = due_in_window(asked, first, window, zone(zone_name))
        assert late is None or late < now
        return
    assert now <= due and first + FOLLOW_UP_MIN <= due <= first + FOLLOW_UP_MAX
    assert inside(due, window, zone(zone_name))


def window(start: int, end: int, *days: Weekday) -> SendWindow:
    return SendWindow(start, end, tuple(d for d in Weekday if d in days))


def at(zone_name: str, text: str) -> datetime:
    """A wall-clock time in a zone (fold 0), as an instant."""
    return datetime.fromisoformat(text).replace(tzinfo=zone(zone_name)).astimezone(UTC)


def due_local(zone_name: str, asked: datetime, w: SendWindow, first: datetime | None = None) -> str:
    first = first or asked - timedelta(days=5)
    due = due_in_window(asked, first, w, zone(zone_name))
    assert due is not None
    return local_iso(due, zone_name)


SUNDAY = Weekday.SUNDAY


@pytest.mark.parametrize(
    ("zone_name", "asked", "w", "expected"),
    [
        # New York springs forward at 02:00 on 8 March 2026: 02:00-02:59 does not exist.
        ("America/New_York", "2026-03-08T00:30", window(2, 4, SUNDAY), "2026-03-08T03:00:00-04:00"),
        ("America/New_York", "2026-03-08T00:30", window(2, 3, SUNDAY), "2026-03-15T02:00:00-04:00"),
        # It falls back at 02:00 on 1 November 2026: 01:00-01:59 happens twice, both inside.
        ("America/New_York", "2026-11-01T00:30", window(1, 2, SUNDAY), "2026-11-01T01:00:00-04:00"),
        # Berlin: 02:00-02:59 is skipped on 29 March, and 02:00-02:59 repeats on 25 October.
        ("Europe/Berlin", "2026-03-29T00:30", window(2, 3, SUNDAY), "2026-04-05T02:00:00+02:00"),
        ("Europe/Berlin", "2026-03-29T00:30", window(2, 5, SUNDAY), "2026-03-29T03:00:00+02:00"),
        ("Europe/Berlin", "2026-10-25T00:30", window(2, 3, SUNDAY), "2026-10-25T02:00:00+02:00"),
        # Lord Howe moves half an hour: 02:00-02:29 is skipped on 4 October 2026.
        ("Australia/Lord_Howe", "2026-10-04T00:30", window(2, 3, SUNDAY), "2026-10-04T02:30:00+11:00"),
        # Chatham jumps from 02:45 to 03:45 on 27 September 2026: the window opens after the gap.
        ("Pacific/Chatham", "2026-09-27T00:30", window(3, 4, SUNDAY), "2026-09-27T03:45:00+13:45"),
        # Kathmandu is 05:45 ahead of UTC all year.
        ("Asia/Kathmandu", "2026-11-05T07:10", window(9, 17, Weekday.THURSDAY), "2026-11-05T09:00:00+05:45"),
    ],
)
def test_r72_daylight_saving_follows_the_zone(zone_name: str, asked: str, w: SendWindow, expected: str) -> None:
    assert due_local(zone_name, at(zone_name, asked), w) == expected


def test_r72_the_repeated_hour_is_inside_both_times() -> None:
    """Asked during the second 01:30 of New York's fall-back night: already inside."""
    second_pass = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, after 01:30 EDT
    assert local_iso(second_pass, "America/New_York") == "2026-11-01T01:30:00-05:00"
    assert due_local("America/New_York", second_pass, window(1, 2, SUNDAY)) == "2026-11-01T01:30:00-05:00"


def test_r72_past_28_days_it_is_the_last_window_minute_within_them() -> None:
    """Mondays 09:00-10:00 in Berlin; first message Monday 2 November 10:00: 28 days later is
    Monday 30 November 10:00, just after the window. The last window minute before it."""
    first = at("Europe/Berlin", "2026-11-02T10:00")
    asked = first + FOLLOW_UP_MAX
    due = due_in_window(asked, first, window(9, 10, Weekday.MONDAY), zone("Europe/Berlin"))
    assert due is not None and local_iso(due, "Europe/Berlin") == "2026-11-30T09:59:00+01:00"


def test_r72_no_window_time_left_is_follow_up_window() -> None:
    """Tuesdays only; the first message on Monday 2 November; on Wednesday 25 November no
    Tuesday is left before 30 November, and the last one (24 November) has passed."""
    first = at("Europe/Berlin", "2026-11-02T10:00")
    now = at("Europe/Berlin", "2026-11-25T12:00")
    with pytest.raises(Refusal) as refused:
        scheduled_for(now, first, window(9, 17, Weekday.TUESDAY), "Europe/Berlin", now, ("input",))
    assert refused.value.code is ErrorCode.FOLLOW_UP_WINDOW


# ---- R74: the move past the daily maximum ------------------------------------------------------


@PROPERTIES
@given(cases(), st.integers(0, 26 * 24 * 60), st.booleans())
def test_r74_moves_to_the_first_window_time_from_the_next_utc_day_within_r11(
    case: tuple[str, SendWindow, datetime, datetime], minutes_late: int, with_window: bool
) -> None:
    zone_name, drawn, first, due = case
    w = drawn if with_window else None
    tz = zone(zone_name)
    now = due + timedelta(minutes=minutes_late)  # the sweep that found the day full
    latest = first + FOLLOW_UP_MAX
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    moved = next_day_slot(due, first, now, w, tz)

    if w is None:
        same_time = midnight.replace(hour=due.hour, minute=due.minute, second=due.second)
        assert moved == (same_time if same_time <= latest else None)
        return
    expected = oracle_first(midnight, latest, w, tz)
    assert moved == expected
    if moved is not None:
        assert inside(moved, w, tz)
        assert midnight <= moved <= latest  # a later UTC day, and R11
        assert nothing_inside(midnight, moved, w, tz)


def test_r74_a_full_friday_moves_to_monday_when_the_window_has_no_weekend() -> None:
    weekdays = window(9, 17, *list(Weekday)[:5])
    first = at("Europe/Berlin", "2026-11-02T10:00")
    due = at("Europe/Berlin", "2026-11-06T10:00")  # Friday
    moved = next_day_slot(due, first, due, weekdays, zone("Europe/Berlin"))
    assert moved is not None and local_iso(moved, "Europe/Berlin") == "2026-11-09T09:00:00+01:00"


def test_r74_does_not_go_back_to_an_earlier_window_time_past_28_days() -> None:
    """Unlike R72, no fallback: the only window time left is on the day that is full."""
    first = at("Europe/Berlin", "2026-11-02T10:00")
    due = first + FOLLOW_UP_MAX - timedelta(hours=1)  # Monday 30 November 09:00, inside
    assert next_day_slot(due, first, due, window(9, 10, Weekday.MONDAY), zone("Europe/Berlin")) is None
    assert next_day_slot(due, first, due, None, zone("Europe/Berlin")) is None  # Tuesday is day 29


# ---- R70, R71: input -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC", "US/Eastern"])
def test_r70_iana_names_are_accepted(name: str) -> None:
    assert check_time_zone(name, ("input", "timeZone")) == name
    assert zone(name) is zone(name)  # read once


@pytest.mark.parametrize(
    "name", ["", "Mars/Olympus_Mons", "europe/berlin", "Europe/Berlin ", "../../etc/passwd", "/etc/localtime",
             "Factory", "CET/", "+01:00"]
)  # fmt: skip
def test_r70_other_names_are_invalid_input(name: str) -> None:
    with pytest.raises(Refusal) as refused:
        check_time_zone(name, ("input", "timeZone"))
    assert refused.value.code is ErrorCode.INVALID_INPUT and refused.value.field == ("input", "timeZone")


def test_r70_zones_come_from_the_shipped_database() -> None:
    """Not from the OS: a machine without /usr/share/zoneinfo (or an older one) agrees."""
    import tzdata

    berlin = zone("Europe/Berlin")
    assert str(berlin) == "Europe/Berlin"
    assert tzdata.IANA_VERSION >= "2025b"


@pytest.mark.parametrize(
    ("start", "end", "days", "field"),
    [
        (-1, 5, [Weekday.MONDAY], "startHour"),
        (24, 25, [Weekday.MONDAY], "startHour"),
        (9, 25, [Weekday.MONDAY], "endHour"),
        (9, 9, [Weekday.MONDAY], "endHour"),
        (9, 8, [Weekday.MONDAY], "endHour"),
        (0, 0, [Weekday.MONDAY], "endHour"),
        (9, 17, [], "days"),
        (9, 17, [Weekday.MONDAY, Weekday.MONDAY], "days"),
    ],
)
def test_r71_bad_windows_are_invalid_input_naming_the_field(
    start: int, end: int, days: list[Weekday], field: str
) -> None:
    with pytest.raises(Refusal) as refused:
        check_send_window(start, end, days, ("input", "window"))
    assert refused.value.code is ErrorCode.INVALID_INPUT and refused.value.field == ("input", "window", field)


def test_r71_a_window_keeps_its_days_in_week_order() -> None:
    w = check_send_window(0, 24, [Weekday.SUNDAY, Weekday.MONDAY, Weekday.FRIDAY], ("w",))
    assert w == SendWindow(0, 24, (Weekday.MONDAY, Weekday.FRIDAY, Weekday.SUNDAY))
