# Staff /waiting: the waitlist and the missed waiting-time guarantees.

staff-waiting-title = <b>Waitlist and waiting times</b> (last 7 days)
# $org, $service; $cases: how many patients; $limit: the guarantee; $first: the first free time then
staff-waiting-breach =
    ⚠ { $org } · { $service }: { $cases ->
        [one] { $cases } patient found
       *[other] { $cases } patients found
    } no time within { $limit }; the first free time was { $first }. Open extra time.
# $count: accounts waiting
staff-waiting-line = • { $org } · { $service }: { $count } on the waitlist
staff-waiting-none = Nobody is waiting, the waiting times are met.
