# The waitlist and the state's guarantee on waiting times.

btn-waitlist = 🔔 Сообщить, когда появится время
btn-waitlist-this-doctor = Только к этому врачу
btn-waitlist-any-doctor = К любому врачу этой услуги
btn-offer-take = Записаться
btn-offer-decline = Не подходит
# $what: the doctor or the service waited for
btn-waitlist-leave = Отказаться: { $what }
waitlist-ask =
    Когда у врача { $doctor } освободится время (кто-то отменит или перенесёт запись), бот напишет вам и закрепит это время за вами на несколько минут.
    Ждать только этого врача или любого врача этой услуги?
# $hold: minutes
waitlist-joined =
    <b>Вы в листе ожидания.</b> Когда время освободится, придёт сообщение: время будет закреплено за вами на { $hold } мин — нажмите «Записаться».
    Лист ожидания действует до конца периода записи; отказаться можно в «Мои записи».
waitlist-already = Вы уже в листе ожидания к этому врачу.
# $limit: how many entries an account may have
waitlist-too-many = В листе ожидания может быть не больше { $limit } записей. Откажитесь от ненужной в «Мои записи».
# $when: date and time; $doctor, $position, $service; $until: ЧЧ:ММ the hold ends; $hold: minutes
waitlist-offer =
    <b>Освободилось время по листу ожидания</b>
    <b>{ $when }</b>
    Врач: { $doctor }, { $position }
    Услуга: { $service }
    Время закреплено за вами до { $until } ({ $hold } мин). Нажмите «Записаться», чтобы продолжить запись.
waitlist-offer-expired = Время, закреплённое за вами, истекло — оно передано следующему в листе ожидания. Вот свободное время врача сейчас; вы остаётесь в листе ожидания.
waitlist-offer-gone = Это предложение больше не действует.
waitlist-not-yours = Это предложение было отправлено другому пользователю.
waitlist-declined = Хорошо, время передано следующему в листе ожидания. Вы остаётесь в листе и получите следующее освободившееся время.
waitlist-left = Вы больше не в листе ожидания.
my-waitlist-title = <b>Лист ожидания</b>
# $what: doctor or «любой врач»; $service
my-waitlist-entry = • { $service } — { $what }
my-waitlist-any = любой врач
# $when: the held time
my-waitlist-held = (закреплено за вами: { $when })

## The guarantee (Программа государственных гарантий). $limit: «24 ч» or «14 рабочих дней»

guarantee-hours = { $hours } ч
guarantee-working-days = { $days } рабочих дней
# $service, $limit, $phone; $first: the first free time, or guarantee-none
guarantee-missed =
    <b>Свободного времени в гарантированный срок нет.</b> По программе государственных гарантий на услугу «{ $service }» должны записать в течение { $limit }, а ближайшее свободное время — { $first }.
    Позвоните в регистратуру: { $phone } — там обязаны помочь с записью в срок. Можно и встать в лист ожидания: выберите врача и нажмите «Сообщить, когда появится время».
guarantee-none = нет в ближайшие дни
# $day: the long date
waitlist-day-full = На { $day } всё время уже занято.
