# The printable ticket (PDF) and the calendar file (.ics); plain text, no HTML.

## The ticket

ticket-title = Doctor's appointment ticket
ticket-phone = Phone: { $phone }
ticket-number = No. { $number }
ticket-field-when = Date and time
ticket-field-doctor = Doctor
ticket-field-position = Position
ticket-field-service = Service
ticket-field-patient = Patient
ticket-field-room = Where
ticket-field-payment = Payment
ticket-field-birth-date = Date of birth
ticket-field-oms = OMS policy
ticket-reminder = Please arrive 10–15 minutes before your appointment. If you cannot come, cancel the booking.
# $day: the date with or without the weekday; $time: HH:MM; $zone: ticket-zone-…
ticket-moment = { $day }, { $time } ({ $zone })
ticket-issued = Ticket issued: { $when }
ticket-zone-moscow = Moscow time
# $offset: "UTC", "UTC+5", "UTC+5:30", "UTC-4"
ticket-zone-local = local time, { $offset }

## The calendar event and its cancellation

calendar-summary = Appointment: { $service } — { $doctor }
calendar-cancelled-summary = Cancelled — { $summary }
calendar-doctor = { $position }: { $doctor }
calendar-ticket = Ticket No. { $ticket }
calendar-phone = Phone: { $phone }
calendar-arrive-early = Please arrive 10–15 minutes before your appointment.
calendar-cancelled = Booking cancelled. Ticket No. { $ticket } is no longer valid.
