"""Slot generation from weekly working hours, and the views of a doctor's schedule.

A region's registry holds millions of slots (1,000 doctors × 61 days × 40 = 2.44 M), so nothing
here loads slots as ORM objects, and the hot queries skip SQLAlchemy's per-value processing:
they bind and read the values the driver stores (`_Codec`), through Core statements on plain
`table()` constructs.

* `generate_slots` plans each doctor's wanted slots as runs (one per working period of a day:
  first start, count, all of the doctor's length), checks them against the database with a few
  aggregate queries instead of reading every row (`_find_changes`), and reads and rewrites only
  what differs, with executemany.
* `doctor_days` counts the free slots per local day in SQL; `day_slots` reads one day's rows.

The package is split by concern:

* `rules`: `Rule` and `slot_starts`, the weekly rules and the slots they give;
* `storage`: the values as the driver stores them (`_Codec`), the plain tables, and running
  statements with them (`_Query`, `_execute_many`);
* `planning`: what each doctor wants, as runs (`_plan`), with no database;
* `checking`: the one-pass check of the plans against the table (`_find_changes`);
* `rewriting`: reading the rows that may differ, and writing what changes;
* `generation`: `generate_slots` and `doctors_without_slots`;
* `grids`: the doctor's days and times (`doctor_days`, `day_slots`, `local_day_bounds`).
"""

from __future__ import annotations

from bot.services.slots.generation import doctors_without_slots, generate_slots
from bot.services.slots.grids import DayView, SlotView, day_slots, doctor_days, local_day_bounds
from bot.services.slots.rules import Rule, slot_starts

__all__ = [
    "DayView",
    "Rule",
    "SlotView",
    "day_slots",
    "doctor_days",
    "doctors_without_slots",
    "generate_slots",
    "local_day_bounds",
    "slot_starts",
]
