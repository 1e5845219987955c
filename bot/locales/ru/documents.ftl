# The printable ticket (PDF) and the calendar file (.ics); plain text, no HTML.

## The ticket

ticket-title = Талон на приём к врачу
ticket-phone = Телефон: { $phone }
ticket-number = № { $number }
ticket-field-when = Дата и время
ticket-field-doctor = Врач
ticket-field-position = Должность
ticket-field-service = Услуга
ticket-field-patient = Пациент
ticket-field-room = Место приёма
ticket-field-payment = Оплата
ticket-field-birth-date = Дата рождения
ticket-field-oms = Полис ОМС
ticket-reminder = Приходите за 10–15 минут до приёма. Если не сможете прийти — отмените запись.
# $day: the date with or without the weekday; $time: ЧЧ:ММ; $zone: ticket-zone-…
ticket-moment = { $day }, { $time } ({ $zone })
ticket-issued = Талон выдан: { $when }
ticket-zone-moscow = время московское
# $offset: «UTC», «UTC+5», «UTC+5:30», «UTC-4»
ticket-zone-local = время местное, { $offset }

## The calendar event and its cancellation

calendar-summary = Приём: { $service } — { $doctor }
calendar-cancelled-summary = Отменено — { $summary }
calendar-doctor = { $position }: { $doctor }
calendar-ticket = Талон № { $ticket }
calendar-phone = Телефон: { $phone }
calendar-arrive-early = Приходите за 10–15 минут до приёма.
calendar-cancelled = Запись отменена. Талон № { $ticket } недействителен.
