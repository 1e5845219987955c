from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.reminder_plan import (
    DEFAULT_OFFSETS,
    DEFAULT_QUIET_HOURS,
    DigestItem,
    Dispatch,
    Drop,
    DropReason,
    Later,
    Offset,
    PlannedReminder,
    QuietHours,
    SendNow,
    digest_groups,
    due_now,
    parse_offsets,
    parse_quiet_hours,
    plan_reminders,
)

MSK = "Europe/Moscow"  # UTC+3, no DST
EKB = "Asia/Yekaterinburg"  # UTC+5, no DST
BER = "Europe/Berlin"  # 2026: gap 29 Mar 02:00→03:00, overlap 25 Oct 03:00→02:00
FAR_PAST = datetime(2026, 1, 1, tzinfo=UTC)


def local(
    tz_name: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz_name), fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def offsets(*specs: str) -> list[Offset]:
    return parse_offsets(list(specs))


def plan(
    visit: datetime,
    *,
    tz_name: str = MSK,
    offs: list[Offset] | tuple[Offset, ...] = DEFAULT_OFFSETS,
    quiet: QuietHours = DEFAULT_QUIET_HOURS,
    planned_at: datetime = FAR_PAST,
    missed_since: datetime | None = None,
) -> list[PlannedReminder]:
    return plan_reminders(
        visit=visit,
        tz_name=tz_name,
        offsets=offs,
        quiet=quiet,
        planned_at=planned_at,
        missed_since=missed_since,
    )


# --- plan_reminders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz_name", "visit", "expected"),
    [
        # 10:00 Moscow; the 2 h reminder at 08:00 sits exactly on the (exclusive) quiet end.
        (MSK, local(MSK, 2026, 12, 3, 10), [utc(2026, 12, 2, 7), utc(2026, 12, 3, 5)]),
        # 12:00 Yekaterinburg is the same UTC instant as 10:00 Moscow.
        (EKB, local(EKB, 2026, 12, 3, 12), [utc(2026, 12, 2, 7), utc(2026, 12, 3, 5)]),
        (EKB, local(EKB, 2026, 12, 3, 15, 40), [utc(2026, 12, 2, 10, 40), utc(2026, 12, 3, 8, 40)]),
    ],
)
def test_default_offsets_far_ahead_both_planned(
    tz_name: str, visit: datetime, expected: list[datetime]
) -> None:
    planned = plan(visit, tz_name=tz_name)
    assert planned == [
        PlannedReminder("24h", expected[0]),
        PlannedReminder("2h", expected[1]),
    ]
    assert all(r.due_at.tzinfo is UTC for r in planned)


@pytest.mark.parametrize(
    ("tz_name", "quiet", "visit", "offset", "expected_local"),
    [
        # 24 h before a 22:00 visit is 22:00 the day before: moved to 20:59 that same day.
        (MSK, "21:00-08:00", (2026, 12, 3, 22), "24h", (2026, 12, 2, 20, 59)),
        # The start is inclusive.
        (MSK, "21:00-08:00", (2026, 12, 3, 23), "2h", (2026, 12, 3, 20, 59)),
        # After midnight the window began the previous day.
        (MSK, "21:00-08:00", (2026, 12, 3, 8), "6h", (2026, 12, 2, 20, 59)),
        (EKB, "21:00-08:00", (2026, 12, 3, 9, 59), "2h", (2026, 12, 2, 20, 59)),
        # Allowed edges stay put: the minute before the start and the (exclusive) end.
        (MSK, "21:00-08:00", (2026, 12, 3, 22, 59), "2h", (2026, 12, 3, 20, 59)),
        (MSK, "21:00-08:00", (2026, 12, 3, 10), "2h", (2026, 12, 3, 8, 0)),
        # A window not crossing midnight moves within the day.
        (MSK, "13:00-14:00", (2026, 12, 3, 15, 30), "2h", (2026, 12, 3, 12, 59)),
        (EKB, "13:00-14:00", (2026, 12, 4, 13, 0), "24h", (2026, 12, 3, 12, 59)),
        (MSK, "13:00-14:00", (2026, 12, 3, 16), "2h", (2026, 12, 3, 14, 0)),
        (MSK, "13:00-14:00", (2026, 12, 3, 3), "2h", (2026, 12, 3, 1, 0)),
        # A window starting at midnight moves to 23:59 of the previous day.
        (MSK, "00:00-07:00", (2026, 12, 3, 8), "2h", (2026, 12, 2, 23, 59)),
        # No quiet hours: 02:00 is fine.
        (MSK, "off", (2026, 12, 3, 4), "2h", (2026, 12, 3, 2, 0)),
        (MSK, "21:00-21:00", (2026, 12, 3, 4), "2h", (2026, 12, 3, 2, 0)),
    ],
)
def test_quiet_hours_shift(
    tz_name: str,
    quiet: str,
    visit: tuple[int, ...],
    offset: str,
    expected_local: tuple[int, ...],
) -> None:
    planned = plan(
        local(tz_name, *visit),
        tz_name=tz_name,
        offs=offsets(offset),
        quiet=parse_quiet_hours(quiet),
    )
    assert planned == [PlannedReminder(offset, local(tz_name, *expected_local).astimezone(UTC))]


@pytest.mark.parametrize(
    ("booked", "expected_labels"),
    [
        ((2026, 12, 1, 12), ["24h", "2h"]),
        ((2026, 12, 2, 11, 59), ["24h", "2h"]),
        ((2026, 12, 2, 12), ["2h"]),  # due exactly at planning: too late, dropped
        ((2026, 12, 3, 9), ["2h"]),  # booked 3 h before
        ((2026, 12, 3, 10), []),  # booked exactly 2 h before
        ((2026, 12, 3, 11), []),  # booked 1 h before
        ((2026, 12, 3, 12), []),  # the visit itself
        ((2026, 12, 3, 13), []),
    ],
)
def test_reminders_no_longer_in_time_are_skipped(
    booked: tuple[int, ...], expected_labels: list[str]
) -> None:
    planned = plan(local(MSK, 2026, 12, 3, 12), planned_at=local(MSK, *booked))
    assert [r.label for r in planned] == expected_labels


def test_a_reminder_whose_evening_has_passed_goes_out_when_quiet_hours_end() -> None:
    visit = local(MSK, 2026, 12, 3, 9)  # 2 h reminder at 07:00 → 20:59 the evening before
    moved = local(MSK, 2026, 12, 2, 20, 59)
    morning = local(MSK, 2026, 12, 3, 8).astimezone(UTC)

    # Booked at 22:00: 20:59 has passed, but 08:00 (end of quiet hours) is before the visit.
    assert plan(visit, planned_at=local(MSK, 2026, 12, 2, 22)) == [PlannedReminder("2h", morning)]
    assert plan(visit, planned_at=moved) == [PlannedReminder("2h", morning)]
    assert plan(visit, planned_at=local(MSK, 2026, 12, 2, 20)) == [
        PlannedReminder("2h", moved.astimezone(UTC))
    ]


def test_a_reminder_with_no_allowed_moment_before_the_visit_is_dropped() -> None:
    visit = local(MSK, 2026, 12, 3, 8)  # 2 h → 06:00; 20:59 has passed and 08:00 is the visit
    assert plan(visit, planned_at=local(MSK, 2026, 12, 2, 22)) == []


@pytest.mark.parametrize("specs", [("10h", "2h"), ("2h", "10h")])
def test_offsets_landing_on_the_same_moment_collapse_keeping_the_larger(
    specs: tuple[str, str],
) -> None:
    # 08:30 visit: 10 h → 22:30 and 2 h → 06:30, both moved to 20:59 the evening before.
    planned = plan(
        local(MSK, 2026, 12, 3, 8, 30),
        offs=[Offset(s, timedelta(hours=int(s[:-1]))) for s in specs],
    )
    assert planned == [PlannedReminder("10h", local(MSK, 2026, 12, 2, 20, 59).astimezone(UTC))]


def test_three_offsets_two_collapse_and_order_is_earliest_first() -> None:
    planned = plan(local(MSK, 2026, 12, 3, 8, 30), offs=offsets("30m", "24h", "2h", "10h"))
    assert planned == [
        PlannedReminder("24h", local(MSK, 2026, 12, 2, 8, 30).astimezone(UTC)),
        PlannedReminder("10h", local(MSK, 2026, 12, 2, 20, 59).astimezone(UTC)),
        PlannedReminder("30m", local(MSK, 2026, 12, 3, 8, 0).astimezone(UTC)),
    ]


def test_catch_up_rebuild_keeps_reminders_missed_during_downtime() -> None:
    visit = local(MSK, 2026, 12, 3, 12)
    booked = local(MSK, 2026, 11, 20, 10)
    restarted = local(MSK, 2026, 12, 2, 13)  # the bot was down when the 24 h one was due

    assert [r.label for r in plan(visit, planned_at=restarted)] == ["2h"]
    rebuilt = plan(visit, planned_at=restarted, missed_since=booked)
    assert rebuilt == [
        PlannedReminder("24h", local(MSK, 2026, 12, 2, 12).astimezone(UTC)),
        PlannedReminder("2h", local(MSK, 2026, 12, 3, 10).astimezone(UTC)),
    ]
    missed = rebuilt[0]
    assert (
        due_now(missed.due_at, now=restarted, visit=visit, tz_name=MSK, quiet=DEFAULT_QUIET_HOURS)
        == SendNow()
    )

    # Booked 3 h before: the 24 h reminder was never possible, a rebuild does not invent it.
    late_booking = local(MSK, 2026, 12, 3, 9)
    assert [
        r.label
        for r in plan(visit, planned_at=local(MSK, 2026, 12, 3, 11), missed_since=late_booking)
    ] == ["2h"]


def test_plan_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="visit must be timezone-aware"):
        plan(datetime(2026, 12, 3, 12))
    with pytest.raises(ValueError, match="planned_at must be timezone-aware"):
        plan(local(MSK, 2026, 12, 3, 12), planned_at=datetime(2026, 12, 1))
    with pytest.raises(ValueError, match="missed_since must not be after planned_at"):
        plan(local(MSK, 2026, 12, 3, 12), missed_since=utc(2026, 2, 1))


# --- DST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quiet", "visit", "offset", "expected_utc"),
    [
        # Spring gap: 02:59 does not exist on 29 March; it resolves earlier, to 01:59 CET,
        # which is still before the window's real start (03:00 CEST = 01:00 UTC).
        ("03:00-08:00", local(BER, 2026, 3, 29, 10), "5h", utc(2026, 3, 29, 0, 59)),
        # Default window on the gap day: 07:00 CEST moves to 20:59 CET on the 28th.
        ("21:00-08:00", local(BER, 2026, 3, 29, 9), "2h", utc(2026, 3, 28, 19, 59)),
        # The evening after the change is CEST.
        ("21:00-08:00", local(BER, 2026, 3, 30, 9), "2h", utc(2026, 3, 29, 18, 59)),
        # Autumn overlap: 02:29 happens twice; the first one (CEST) precedes the window.
        ("02:30-08:00", local(BER, 2026, 10, 25, 10), "5h", utc(2026, 10, 25, 0, 29)),
        # An overlap wall time that is itself quiet (second 02:45, CET) still moves.
        ("02:30-08:00", local(BER, 2026, 10, 25, 4, 45), "2h", utc(2026, 10, 25, 0, 29)),
        # Offsets are durations: 24 h before 12:00 CEST is 11:00 CET, not 12:00.
        ("21:00-08:00", local(BER, 2026, 3, 29, 12), "24h", utc(2026, 3, 28, 10)),
        ("21:00-08:00", local(BER, 2026, 10, 25, 12), "24h", utc(2026, 10, 24, 11)),
    ],
)
def test_dst_wall_times(quiet: str, visit: datetime, offset: str, expected_utc: datetime) -> None:
    planned = plan(visit, tz_name=BER, offs=offsets(offset), quiet=parse_quiet_hours(quiet))
    assert planned == [PlannedReminder(offset, expected_utc)]
    assert not parse_quiet_hours(quiet).contains(expected_utc.astimezone(ZoneInfo(BER)).time())


def test_dst_gap_never_resolves_later() -> None:
    quiet = parse_quiet_hours("02:30-08:00")
    moved = quiet.last_moment_before(local(BER, 2026, 3, 29, 5))  # 02:29 does not exist
    assert moved == utc(2026, 3, 29, 0, 29)  # 01:29 CET, before the gap at 01:00 UTC
    assert moved < utc(2026, 3, 29, 1)


# --- due_now -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quiet", "due", "now", "visit", "expected"),
    [
        # The visit has started or passed.
        (
            "21:00-08:00",
            (2026, 12, 3, 8),
            (2026, 12, 3, 10),
            (2026, 12, 3, 10),
            Drop(DropReason.VISIT_STARTED),
        ),
        (
            "21:00-08:00",
            (2026, 12, 2, 10),
            (2026, 12, 3, 11),
            (2026, 12, 3, 10),
            Drop(DropReason.VISIT_STARTED),
        ),
        # Outside quiet hours, on time or late.
        ("21:00-08:00", (2026, 12, 3, 8), (2026, 12, 3, 8), (2026, 12, 3, 10), SendNow()),
        ("21:00-08:00", (2026, 12, 2, 10), (2026, 12, 3, 9, 59), (2026, 12, 3, 10), SendNow()),
        ("21:00-08:00", (2026, 12, 2, 10), (2026, 12, 2, 20, 59), (2026, 12, 3, 10), SendNow()),
        # Inside quiet hours, the visit after their end: wait for 08:00.
        (
            "21:00-08:00",
            (2026, 12, 2, 10),
            (2026, 12, 2, 23),
            (2026, 12, 3, 10),
            Later(utc(2026, 12, 3, 5)),
        ),
        (
            "21:00-08:00",
            (2026, 12, 2, 10),
            (2026, 12, 3, 3),
            (2026, 12, 3, 8, 1),
            Later(utc(2026, 12, 3, 5)),
        ),
        (
            "21:00-08:00",
            (2026, 12, 2, 10),
            (2026, 12, 2, 21),
            (2026, 12, 3, 10),
            Later(utc(2026, 12, 3, 5)),
        ),
        # Inside quiet hours, the visit before (or at) their end: too late.
        (
            "21:00-08:00",
            (2026, 12, 2, 10),
            (2026, 12, 2, 23),
            (2026, 12, 3, 7, 30),
            Drop(DropReason.QUIET_UNTIL_VISIT),
        ),
        (
            "21:00-08:00",
            (2026, 12, 2, 10),
            (2026, 12, 3, 3),
            (2026, 12, 3, 8),
            Drop(DropReason.QUIET_UNTIL_VISIT),
        ),
        # A window within the day.
        (
            "13:00-14:00",
            (2026, 12, 3, 11),
            (2026, 12, 3, 13, 30),
            (2026, 12, 3, 15),
            Later(utc(2026, 12, 3, 11)),
        ),
        # No quiet hours.
        ("off", (2026, 12, 3, 1), (2026, 12, 3, 3), (2026, 12, 3, 4), SendNow()),
        # Asked before it is due.
        (
            "21:00-08:00",
            (2026, 12, 3, 8),
            (2026, 12, 3, 7),
            (2026, 12, 3, 10),
            Later(utc(2026, 12, 3, 5)),
        ),
    ],
)
def test_due_now(
    quiet: str,
    due: tuple[int, ...],
    now: tuple[int, ...],
    visit: tuple[int, ...],
    expected: Dispatch,
) -> None:
    decision = due_now(
        local(MSK, *due),
        now=local(MSK, *now),
        visit=local(MSK, *visit),
        tz_name=MSK,
        quiet=parse_quiet_hours(quiet),
    )
    assert decision == expected
    if isinstance(decision, Later):
        assert decision.at.tzinfo is UTC


def test_due_now_uses_the_organization_zone() -> None:
    # 23:00 in Moscow is 01:00 in Yekaterinburg: quiet there until 08:00 local (03:00 UTC).
    now = utc(2026, 12, 2, 20)
    visit = utc(2026, 12, 3, 6)
    for tz_name, expected in [(EKB, Later(utc(2026, 12, 3, 3))), ("UTC", SendNow())]:
        decision = due_now(now, now=now, visit=visit, tz_name=tz_name, quiet=DEFAULT_QUIET_HOURS)
        assert decision == expected


def test_due_now_compares_real_moments_in_a_dst_overlap() -> None:
    # Same zone object on both sides would make Python compare wall times: the second 02:30
    # (CET) looks earlier than the first 02:45 (CEST), though it is 45 minutes later.
    visit = local(BER, 2026, 10, 25, 2, 45)
    now = local(BER, 2026, 10, 25, 2, 30, fold=1)
    decision = due_now(now, now=now, visit=visit, tz_name=BER, quiet=QuietHours.off())
    assert decision == Drop(DropReason.VISIT_STARTED)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Quiet end 02:30 does not exist on 29 March: wait until after the gap, never earlier.
        (local(BER, 2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),
        # On 25 October 02:30 happens twice; the first one ends the window.
        (local(BER, 2026, 10, 25, 1), utc(2026, 10, 25, 0, 30)),
    ],
)
def test_due_now_quiet_end_across_dst(now: datetime, expected: datetime) -> None:
    quiet = parse_quiet_hours("21:00-02:30")
    decision = due_now(now, now=now, visit=now + timedelta(hours=8), tz_name=BER, quiet=quiet)
    assert decision == Later(expected)
    assert not quiet.contains(expected.astimezone(ZoneInfo(BER)).time())


# --- digest ------------------------------------------------------------------------------------


def item(reminder_id: int, chat_id: int, visit: datetime, label: str, due: datetime) -> DigestItem:
    tz = visit.tzinfo
    assert isinstance(tz, ZoneInfo)
    return DigestItem(
        reminder_id=reminder_id,
        chat_id=chat_id,
        visit_start=visit.astimezone(UTC),
        tz_name=tz.key,
        label=label,
        due_at=due,
    )


def test_digest_groups_by_chat_local_day_and_label() -> None:
    due = utc(2026, 12, 2, 7)
    items = [
        item(1, 100, local(MSK, 2026, 12, 3, 15), "24h", due + timedelta(minutes=5)),
        item(2, 100, local(MSK, 2026, 12, 3, 10), "24h", due + timedelta(minutes=1)),
        # Yekaterinburg 01:00 on the 3rd is still the 2nd in UTC: the local date counts.
        item(3, 100, local(EKB, 2026, 12, 3, 1), "24h", due + timedelta(minutes=3)),
        # Same UTC day as the one above, but the 2nd locally.
        item(4, 100, local(MSK, 2026, 12, 2, 23, 30), "24h", due),
        item(5, 100, local(MSK, 2026, 12, 3, 15), "2h", utc(2026, 12, 3, 10)),
        item(6, 100, local(MSK, 2026, 12, 4, 10), "24h", utc(2026, 12, 3, 7)),
        item(7, 200, local(MSK, 2026, 12, 3, 10), "24h", due + timedelta(minutes=2)),
    ]
    groups = digest_groups(items)
    assert [(g.chat_id, g.visit_date, g.label, g.reminder_ids, g.due_at) for g in groups] == [
        (100, date(2026, 12, 2), "24h", (4,), due),
        (100, date(2026, 12, 3), "24h", (3, 2, 1), due + timedelta(minutes=1)),
        (200, date(2026, 12, 3), "24h", (7,), due + timedelta(minutes=2)),
        (100, date(2026, 12, 4), "24h", (6,), utc(2026, 12, 3, 7)),
        (100, date(2026, 12, 3), "2h", (5,), utc(2026, 12, 3, 10)),
    ]


def test_digest_equal_due_order_is_stable_and_empty_input() -> None:
    due = utc(2026, 12, 2, 7)
    items = [
        item(1, 300, local(MSK, 2026, 12, 3, 10), "24h", due),
        item(2, 200, local(MSK, 2026, 12, 3, 10), "24h", due),
    ]
    assert [g.chat_id for g in digest_groups(items)] == [200, 300]
    assert [g.chat_id for g in digest_groups(reversed(items))] == [200, 300]
    assert digest_groups([]) == []


def test_digest_item_needs_aware_moments() -> None:
    with pytest.raises(ValueError, match="visit_start must be timezone-aware"):
        DigestItem(1, 1, datetime(2026, 12, 3, 10), MSK, "24h", utc(2026, 12, 2, 7))


# --- QuietHours and config values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "inside", "outside"),
    [
        ("21:00-08:00", ["21:00", "23:59", "00:00", "07:59"], ["08:00", "12:00", "20:59"]),
        ("13:00-14:00", ["13:00", "13:59"], ["12:59", "14:00", "00:00", "23:00"]),
        ("00:00-07:00", ["00:00", "06:59"], ["07:00", "23:59"]),
        ("off", [], ["00:00", "12:00", "21:00"]),
    ],
)
def test_quiet_hours_contains(window: str, inside: list[str], outside: list[str]) -> None:
    quiet = parse_quiet_hours(window)
    assert all(quiet.contains(time.fromisoformat(t)) for t in inside)
    assert not any(quiet.contains(time.fromisoformat(t)) for t in outside)


def test_quiet_hours_moments_need_a_quiet_zone_aware_time() -> None:
    quiet = DEFAULT_QUIET_HOURS
    with pytest.raises(ValueError, match="outside quiet hours"):
        quiet.last_moment_before(local(MSK, 2026, 12, 3, 12))
    with pytest.raises(ValueError, match="ZoneInfo"):
        quiet.first_moment_after(utc(2026, 12, 3, 23))
    assert quiet.first_moment_after(local(MSK, 2026, 12, 3, 23)) == utc(2026, 12, 4, 5)
    assert quiet.last_moment_before(local(MSK, 2026, 12, 4, 2)) == utc(2026, 12, 3, 17, 59)


def test_quiet_hours_must_be_whole_minutes() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        QuietHours(time(21, 0, 30), time(8))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("21:00-08:00", QuietHours(time(21), time(8))),
        (" 9:30 – 10:15 ", QuietHours(time(9, 30), time(10, 15))),
        ("OFF", QuietHours.off()),
        ("none", QuietHours.off()),
        ("08:00-08:00", QuietHours(time(8), time(8))),
    ],
)
def test_parse_quiet_hours(raw: str, expected: QuietHours) -> None:
    assert parse_quiet_hours(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("21-08", "must look like '21:00-08:00'"),
        ("", "must look like"),
        ("21:00", "must look like"),
        ("24:00-08:00", "24:00 is not a time of day"),
        ("21:00-08:60", "08:60 is not a time of day"),
    ],
)
def test_parse_quiet_hours_errors(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_quiet_hours(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["24h", "2h", "30m"], [("24h", 24 * 60), ("2h", 120), ("30m", 30)]),
        (["30m", "1d", "1h30m"], [("1d", 24 * 60), ("1h30m", 90), ("30m", 30)]),
        ("24h, 2H", [("24h", 24 * 60), ("2h", 120)]),
        ([], []),
    ],
)
def test_parse_offsets(raw: str | list[str], expected: list[tuple[str, int]]) -> None:
    assert parse_offsets(raw) == [Offset(label, timedelta(minutes=m)) for label, m in expected]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["24"], "must look like '24h'"),
        (["h"], "must look like"),
        (["2h", ""], "must look like"),
        (["-2h"], "must look like"),
        (["0h"], "must be positive"),
        (["24h", "1d"], "'1d' repeats '24h'"),
    ],
)
def test_parse_offsets_errors(raw: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_offsets(raw)


def test_offset_validation() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Offset("now", timedelta(0))
    with pytest.raises(ValueError, match="label must not be empty"):
        Offset(" ", timedelta(hours=1))
