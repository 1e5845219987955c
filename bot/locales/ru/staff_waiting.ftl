# Staff /waiting: the waitlist and the missed waiting-time guarantees.

staff-waiting-title = <b>Лист ожидания и сроки ожидания</b> (за 7 дней)
# $org, $service; $cases: how many patients; $limit: the guarantee; $first: the first free time then
staff-waiting-breach =
    ⚠ { $org } · { $service }: { $cases ->
        [one] { $cases } пациент не нашёл
        [few] { $cases } пациента не нашли
       *[other] { $cases } пациентов не нашли
    } время в срок { $limit }; ближайшее свободное — { $first }. Откройте дополнительное время.
# $count: accounts waiting
staff-waiting-line = • { $org } · { $service }: в листе ожидания { $count }
staff-waiting-none = Никто не ждёт, сроки ожидания соблюдаются.
