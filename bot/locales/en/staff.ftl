staff-help =
    <b>Registry desk commands</b>

    /find &lt;ticket number | policy number | surname&gt; — find bookings
    /day &lt;doctor code or surname&gt; [DD.MM.YYYY] — doctor's schedule for the day
    /history &lt;ticket number&gt; — booking history
    /close &lt;doctor&gt; &lt;DD.MM.YYYY&gt; [HH:MM-HH:MM] &lt;reason&gt; — close appointment hours
    /reopen &lt;doctor&gt; &lt;DD.MM.YYYY&gt; [HH:MM-HH:MM] — reopen
    /waiting — the waitlist and missed waiting-time guarantees{ $admin }

    Patient commands: /start, /my, /forget.
staff-admin-help =
    /staff — registry desk staff
    /staff add &lt;id&gt; [organization codes] — add a registrar
    /staff remove &lt;id&gt; — remove a registrar
staff-usage-find = Give a ticket number, policy number or surname: /find Петров
staff-usage-day = Give the doctor (code or surname) and, if needed, a date: /day ivanova 03.12.2026
staff-usage-history = Give the ticket number: /history 482 917 305
staff-usage-staff = Commands: /staff, /staff add &lt;id&gt; [organization codes], /staff remove &lt;id&gt;
staff-nothing-found = Nothing found.
staff-doctor-ambiguous = Several doctors found, please give the code: { $codes }
staff-bad-date = The date must be in the format DD.MM.YYYY or DD.MM.
staff-no-such-date = There is no such date: { $date }.
staff-date-out-of-range = Date { $date } is outside the allowed range: for this command, from { $earliest } to { $latest }.
staff-bad-time-range = Give the appointment hours as HH:MM-HH:MM, with the start before the end: for example, 08:00-12:00.
staff-bad-user-id = There is no such Telegram id: a user id is a whole number from 1 to { $limit }, digits only.
staff-too-many-codes = Too many organization codes: you can give at most { $limit }. A registrar without codes sees all organizations.
staff-lines-left-out = … more lines: { $count }
# $status: status-active or status-cancelled, said of the booking.
staff-card =
    <b>Ticket No. { $ticket }</b> — booking { $status }{ $confirmed }
    { $when }
    { $org }
    Doctor: { $doctor }, { $position }
    Service: { $service }
    Patient: { $patient }, policy { $oms }
staff-day =
    <b>{ $doctor }</b>, { $position }
    <b>{ $day }</b>

    { $lines }
staff-day-empty =
    <b>{ $doctor }</b>
    <b>{ $day }</b>

    The doctor is not seeing patients on this day.
# /day <doctor> with no date when today has no appointments: $day is «Thu 03.12.2026»,
# the doctor's day follows (staff-day).
staff-day-next = No appointments today. The next working day is { $day }:
# …and none up to $last (today + the booking horizon, DD.MM.YYYY); $day: today, long.
staff-day-none-ahead =
    <b>{ $doctor }</b>
    <b>{ $day }</b>

    No appointments today, and no working days through { $last }.
staff-history =
    <b>History of ticket No. { $ticket }</b>

    { $lines }
staff-list =
    <b>Registry desk staff</b>

    Administrators (from settings): { $admins }
    { $members }
staff-added = Registrar { $id } added.
staff-removed = Registrar { $id } removed.
staff-not-member = { $id } was not a registrar.
staff-added-scoped = Registrar { $id } added (organizations: { $codes }).
# Only on an active booking: a cancelled one never reads as confirmed.
staff-card-confirmed = , the patient confirmed the visit
staff-day-booked = { $patient }, ticket { $ticket }
staff-day-free = free
staff-day-closed = closed
status-active = active
status-cancelled = cancelled
action-booked = booking
action-confirmed = confirmation
action-cancelled = cancellation
action-moved = rescheduling
action-rebooked = booking at an offered time
action-unlinked = account unlinked: consent withdrawn
actor-patient = patient
actor-staff = registry desk
actor-system = system
btn-staff-cancel = Cancel with reason
staff-ask-reason = Give the reason for cancelling ticket No. { $ticket } — the patient will see it.
staff-reason-too-long = The reason is too long: at most { $limit } characters.
staff-confirm-cancel =
    <b>Cancel ticket No. { $ticket }?</b>

    { $card }

    Reason: { $reason }
staff-cancelled = Ticket No. { $ticket } cancelled. { $notified }
staff-notified = The patient has been notified.
staff-not-notified = Could not message the patient: please let them know yourself.
staff-notice-queued = The patient's notice is queued: Telegram asks to wait, and the bot will send it by itself.
staff-kept = The booking stays.
btn-close-yes = Close
staff-usage-close =
    Close a doctor's appointment hours: /close &lt;doctor&gt; &lt;DD.MM.YYYY&gt; [HH:MM-HH:MM] &lt;reason&gt;
    Example: /close ivanova 03.12.2026 Doctor on sick leave
staff-usage-reopen = Reopen: /reopen &lt;doctor&gt; &lt;DD.MM.YYYY&gt; [HH:MM-HH:MM]
staff-confirm-close =
    <b>Close appointment hours?</b>
    { $doctor }
    { $when }
    Reason: { $reason }

    Bookings in this time: { $count }. { $count ->
        [0] Nothing to cancel: the time is simply closed for booking.
        [1] It will be cancelled, and the patient will get the reason and the nearest free times.
       *[other] They will be cancelled, and the patients will get the reason and the nearest free times.
    }
staff-closed = Appointment hours closed. Bookings cancelled: { $count }, patients notified: { $notified }.
staff-notices-queued = { $count ->
    [one] { $count } more notice is queued: Telegram asks to wait, and the bot will send it by itself.
   *[other] { $count } more notices are queued: Telegram asks to wait, and the bot will send them by itself.
}
staff-reopened = Appointment hours reopened (closures removed: { $count }).
staff-nothing-to-reopen = There are no closures in this period.
staff-close-whole-day = whole day
btn-staff-move = Reschedule
btn-move-yes = Yes, reschedule
staff-move-intro = <b>Rescheduling ticket No. { $ticket }</b>. Choose a new day and time.
staff-confirm-move =
    <b>Reschedule ticket No. { $ticket }?</b>

    { $summary }
staff-moved = Ticket No. { $ticket } moved to { $when }. { $notified }
