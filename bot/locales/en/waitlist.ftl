# The waitlist and the state's guarantee on waiting times.

btn-waitlist = 🔔 Tell me when a time frees up
btn-waitlist-this-doctor = This doctor only
btn-waitlist-any-doctor = Any doctor of this service
btn-offer-take = Book it
btn-offer-decline = Not suitable
# $what: the doctor or the service waited for
btn-waitlist-leave = Leave: { $what }
waitlist-ask =
    When { $doctor } has a time freed (someone cancels or moves), the bot writes to you and holds that time for you for a few minutes.
    Wait for this doctor only, or for any doctor of this service?
# $hold: minutes
waitlist-joined =
    <b>You are on the waitlist.</b> When a time frees up, a message comes: the time is held for you for { $hold } min — press «Book it».
    The waitlist lasts until the end of the booking period; leave it in «My bookings».
waitlist-already = You are on this doctor's waitlist already.
# $limit: how many entries an account may have
waitlist-too-many = At most { $limit } waitlist entries are allowed. Leave one you no longer need in «My bookings».
# $when: date and time; $doctor, $position, $service; $until: HH:MM the hold ends; $hold: minutes
waitlist-offer =
    <b>A time freed up from the waitlist</b>
    <b>{ $when }</b>
    Doctor: { $doctor }, { $position }
    Service: { $service }
    The time is held for you until { $until } ({ $hold } min). Press «Book it» to go on.
waitlist-offer-expired = The time held for you has run out and went to the next in line. Here are the doctor's free times now; you stay on the waitlist.
waitlist-offer-gone = This offer is no longer valid.
waitlist-not-yours = This offer was sent to another user.
waitlist-declined = All right, the time went to the next in line. You stay on the waitlist and will get the next freed time.
waitlist-left = You are no longer on the waitlist.
my-waitlist-title = <b>Waitlist</b>
# $what: doctor or «any doctor»; $service
my-waitlist-entry = • { $service } — { $what }
my-waitlist-any = any doctor
# $when: the held time
my-waitlist-held = (held for you: { $when })

## The guarantee (the state programme of guarantees). $limit: «24 h» or «14 working days»

guarantee-hours = { $hours } h
guarantee-working-days = { $days } working days
# $service, $limit, $phone; $first: the first free time, or guarantee-none
guarantee-missed =
    <b>No free time within the guaranteed period.</b> Under the state programme of guarantees, «{ $service }» must be available within { $limit }, and the first free time is { $first }.
    Call the registry: { $phone } — they must help you get a time within the period. You can also join the waitlist: choose a doctor and press «Tell me when a time frees up».
guarantee-none = none in the coming days
# $day: the long date
waitlist-day-full = Every time on { $day } is taken.
