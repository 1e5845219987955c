btn-start = Start over
btn-back = Back
btn-accept = I accept
btn-decline = I decline
btn-retry = Try again
btn-book = Book a doctor
btn-confirm = I confirm
btn-cancel-booking = Cancel booking
btn-move = Reschedule
btn-cancel-yes = Yes, cancel
btn-cancel-no = No
btn-my-bookings = My bookings
btn-ticket = Ticket
btn-calendar = Add to calendar
btn-remember = Remember patient
btn-my-patients = My patients
btn-forget = Forget
btn-other-patient = Another patient
btn-withdraw = Withdraw consent
btn-withdraw-all = Withdraw all consents
btn-withdraw-yes = Yes, withdraw
btn-prev-page = ◀ Earlier
btn-next-page = Later ▶
choose-organization =
    <b>Book a doctor's appointment</b>

    Choose a medical organization:
no-organizations = Booking is not available yet: there are no medical organizations in the system. Please contact the registry desk («регистратура»).
choose-service =
    <b>{ $org }</b>

    Choose a service:
no-services =
    <b>{ $org }</b>

    This organization has no services open for booking yet.
choose-doctor =
    <b>{ $org }</b>
    { $service }

    Choose a doctor:
no-doctors =
    <b>{ $org }</b>
    { $service }

    No doctors are seeing patients for this service.
choose-day =
    <b>{ $doctor }</b>
    { $position }
    { $service }

    Choose a day. Days when booking is not possible are marked ✖.
choose-time =
    <b>{ $doctor }</b>
    { $service }
    <b>{ $day }</b>

    Choose a time. Times already taken are marked ✖.
no-times =
    <b>{ $doctor }</b>
    { $service }
    <b>{ $day }</b>

    There are no free times left on this day.
day-closed = Booking is not possible on this date
time-taken = This time is already taken. Please choose another one.
slot-gone = The selected time is no longer available. Please start booking again.
slot-taken-meanwhile = Sorry, this time was just taken. Please choose another time:
page-info = Page { $page } of { $pages }
consent-intro = <b>Consent to the processing of personal data</b> (version { $version })
consent-operator = Operator (the organization that processes the data): <b>{ $name }</b>, { $address }. This consent applies to this organization only.
consent-operator-account = For the patient list of this Telegram account: the data is needed to book the patient without entering it again. Consent for the medical organization is given separately when booking.
consent-declined-short = Booking cancelled: consent not given
consent-declined = You declined consent to the processing of personal data. Booking is not possible without it. Your data has not been saved.
ask-oms = <b>Step 1 of 3.</b> Enter the number of the OMS policy (compulsory medical insurance) <b>without the series</b>: the 16 digits of the unified policy number (or the number of the temporary certificate).
ask-document = <b>Step 2 of 3.</b> Enter the number of the passport, social card, birth certificate or SNILS (individual insurance account number) <b>without the series</b>.
ask-birth-date = <b>Step 3 of 3.</b> Enter the date of birth as DD.MM.YYYY, for example 05.03.1985.
oms-accepted = Policy number accepted.
document-accepted = Document number accepted.
format-error =
    { $message }

    Please try again.
login-failed =
    <b>Sign-in failed: please check that the data was entered correctly</b>

    Possible causes:
    1. There is a typo in the data: check the policy number, the document number and the date of birth, and try again.
    2. You are not registered in the medical organization's database: to book through the bot, you need to visit the registry desk («регистратура») in person once.
chosen =
    <b>You have chosen</b>
    { $summary }
choice-summary =
    Organization: { $org }
    Doctor: { $doctor }, { $position }
    Service: { $service }
    Date and time: <b>{ $when }</b>
identity-message-deleted = Message deleted: it looks like it contains a policy number, a document number or a date of birth. Enter these only when the bot asks for them, so that they don't stay in the chat.
oms-message-deleted = The command was deleted from the chat: it contained an OMS policy number.
identity-asked-again = The bot has restarted, and it keeps the numbers you entered only until a restart. Please enter the data again.
too-many-failures = Too many failed sign-in attempts. Please try again later or contact the registry desk of the medical organization.
booked =
    <b>You have successfully booked an appointment!</b>

    { $details }
ticket-caption = Appointment ticket («талон») No. { $ticket }. Show it at the registry desk.
booking-details =
    Ticket No. <b>{ $ticket }</b>
    Organization: { $org }
    Address: { $address }
    Doctor: { $doctor }, { $position }
    Service: { $service }
    Date and time: <b>{ $when }</b>
    Patient: { $patient }
session-ended = The booking session has ended: the button is out of date or too much time has passed. Please start booking again.
session-ended-alert = The booking session has ended. Please start again.
use-buttons = Please choose an option with a button in the message above, or press “Start over”.
idle-hint = I help you book a doctor's appointment. Press “Book a doctor” or /start.
not-available = This option is no longer available. Please start booking again.
help =
    This bot books doctor's appointments and gives you a ticket («талон»).

    /start — book a doctor
    /my — my bookings: ticket, calendar, rescheduling, cancellation
    /forget — withdraw consent and forget patient data
    /language — language: English or Russian (Язык: русский)
    /help — this help

    Booking is open to patients who are in the medical organization's database.
something-went-wrong = Something went wrong, and the request was not completed. Please try again or start booking again.
text-expected = Please send your answer as text.
reminder-title = <b>Appointment reminder</b>
reminder-title-many = <b>Reminder: you have several appointments on this day</b>
reminder-visit =
    <b>{ $when }</b>
    Patient: { $patient }
    { $org }, { $address }
    Doctor: { $doctor }, { $position }
    Service: { $service }
    Ticket No. { $ticket }
confirmed = Thank you! Your booking is confirmed.
ask-cancel =
    <b>Cancel this booking?</b>

    { $details }
cancelled =
    <b>Booking cancelled.</b> The time is now free for other patients.

    { $details }
kept = OK, the booking stays.
move-intro = <b>Rescheduling</b> (ticket No. { $ticket }). Choose a new day and time. To choose another doctor for the same service, press “Back”.
moved =
    <b>Booking rescheduled.</b>

    { $details }
refusal-not-found = This booking was not found.
refusal-cancelled = This booking has already been cancelled.
refusal-moved = This booking has already been moved to another time. The current time is on the latest ticket.
refusal-past = The time of this appointment has already passed.
refusal-other-service = When rescheduling, you can choose another time or another doctor for the same service. To book a different service, start a new booking.
refusal-rebooked = You have already used this cancellation to book another time — see “My bookings”.
refusal-changed = This booking has just been changed. Open “My bookings” to see it as it is now.
refusal-too-late = It is too close to the appointment to reschedule the booking online. Please call the registry desk: { $phone }. You can still cancel it here.
limit-same-doctor = This patient already has a booking with doctor { $detail }. Two bookings with the same doctor are not possible: reschedule or cancel that booking in “My bookings”.
limit-too-many = This patient already has { $detail } upcoming bookings, which is the maximum. Cancel a booking you no longer need in “My bookings” to book again.
reminder-footer = If you can't come, please cancel the booking so that the time is freed for others.
my-bookings =
    <b>My bookings</b>

    { $items }

    Choose a booking to get its ticket or change it:
my-bookings-item =
    { $n }. <b>{ $when }</b>
    { $org }
    { $doctor }, { $service }
    Patient: { $patient }, ticket No. { $ticket }
no-bookings =
    <b>My bookings</b>

    You have no upcoming bookings.
booking-card =
    <b>Booking</b>

    { $details }
calendar-caption = Calendar file: open it to add the appointment to your calendar.
calendar-cancel-caption = Open the file to remove the appointment from your calendar.
btn-add-patient = Add patient
add-patient-intro = <b>Adding a patient.</b> Enter the patient's data: once it has been checked, the patient will be remembered and you can book for them without entering the data.
add-patient-cancelled = Adding the patient was cancelled.
remembered = Patient { $name } remembered: next time you won't need to enter the data.
who-is-patient =
    <b>Who is the booking for?</b>

    { $summary }
my-patients =
    <b>My patients</b>

    { $names }

    “Forget” removes the patient from this account; their bookings remain valid.
no-patients =
    <b>My patients</b>

    There are no remembered patients. After booking, press “Remember patient”.
forgotten-short = Patient forgotten.
ask-withdraw =
    <b>Withdraw consent to the processing of personal data?</b>

    This account will forget all patients, and reminders will no longer be sent here. Doctor's appointments will remain valid — they can be cancelled at the registry desk.
withdrawn = Consent withdrawn. The link between this account and the patients' data has been deleted.
ask-withdraw-org =
    <b>Withdraw the consent given to { $name }?</b>

    Reminders about bookings with this organization will no longer be sent here, and consent will be asked for again when you book with it. Doctor's appointments will remain valid — they can be cancelled at the registry desk. Remembered patients and consents given to other organizations remain.
withdrawn-org = Consent given to { $name } withdrawn.
consents-held =
    <b>Consent to the processing of personal data has been given to:</b>
    { $lines }
consents-none = This account has not given any consent to the processing of personal data.
consent-line = • { $name } — since { $date }
consent-account-name = the patient list of this account
cancelled-by-other =
    <b>Your booking was cancelled</b> from another account where the patient is remembered.
    Patient: { $patient }

    { $details }
moved-by-other =
    <b>Your booking was rescheduled</b> from another account where the patient is remembered.
    Patient: { $patient }

    { $details }
cancelled-by-registry =
    <b>Your booking was cancelled by the registry desk.</b>
    Patient: { $patient }
    Reason: { $reason }

    { $details }

    Questions: call { $phone }. To book again: /start
closed-by-registry =
    <b>Your booking was cancelled by the registry desk.</b>
    Patient: { $patient }
    Reason: { $reason }

    { $details }

    { $offer }

    Questions: call { $phone }.
alternatives-offer = Nearest free times — book with one tap:
no-alternatives = There are no free times right now; please book later via /start.
alternative-taken = This time has just been taken. Here is what is free now:
moved-by-registry =
    <b>The registry desk has rescheduled your booking.</b>
    Patient: { $patient }

    { $details }

    The new ticket is below. Questions: call { $phone }.
