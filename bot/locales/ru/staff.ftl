staff-help =
    <b>Команды регистратуры</b>

    /find &lt;номер талона | номер полиса | фамилия&gt; — найти записи
    /day &lt;код или фамилия врача&gt; [ДД.ММ.ГГГГ] — расписание врача на день
    /history &lt;номер талона&gt; — история записи
    /close &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ] &lt;причина&gt; — закрыть приём
    /reopen &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ] — открыть снова
    /waiting — лист ожидания и пропущенные сроки ожидания{ $admin }

    Команды пациента: /start, /my, /forget.
staff-admin-help =
    /staff — сотрудники регистратуры
    /staff add &lt;id&gt; [коды организаций] — добавить регистратора
    /staff remove &lt;id&gt; — убрать регистратора
staff-usage-find = Укажите номер талона, номер полиса или фамилию: /find Петров
staff-usage-day = Укажите врача (код или фамилию) и, если нужно, дату: /day ivanova 03.12.2026
staff-usage-history = Укажите номер талона: /history 482 917 305
staff-usage-staff = Команды: /staff, /staff add &lt;id&gt; [коды организаций], /staff remove &lt;id&gt;
staff-nothing-found = Ничего не найдено.
staff-doctor-ambiguous = Найдено несколько врачей, уточните код: { $codes }
staff-bad-date = Дата должна быть в формате ДД.ММ.ГГГГ или ДД.ММ.
staff-no-such-date = Такой даты нет: { $date }.
staff-date-out-of-range = Дата { $date } вне допустимых пределов: для этой команды — с { $earliest } по { $latest }.
staff-bad-time-range = Время приёма укажите как ЧЧ:ММ-ЧЧ:ММ, начало раньше конца: например, 08:00-12:00.
staff-bad-user-id = Такого id в Telegram не бывает: id пользователя — целое число от 1 до { $limit }, одними цифрами.
staff-too-many-codes = Слишком много кодов организаций: можно указать не больше { $limit }. Регистратор без кодов видит все организации.
staff-lines-left-out = … и ещё строк: { $count }
# $status: status-active or status-cancelled, said of the booking («запись», feminine).
staff-card =
    <b>Талон № { $ticket }</b> — запись { $status }{ $confirmed }
    { $when }
    { $org }
    Врач: { $doctor }, { $position }
    Услуга: { $service }
    Пациент: { $patient }, полис { $oms }
staff-day =
    <b>{ $doctor }</b>, { $position }
    <b>{ $day }</b>

    { $lines }
staff-day-empty =
    <b>{ $doctor }</b>
    <b>{ $day }</b>

    Приёма в этот день нет.
# /day <doctor> with no date when today has no appointments: $day is «чт 03.12.2026»,
# the doctor's day follows (staff-day).
staff-day-next = Сегодня приёма нет. Ближайший рабочий день — { $day }:
# …and none up to $last (today + the booking horizon, DD.MM.YYYY); $day: today, long.
staff-day-none-ahead =
    <b>{ $doctor }</b>
    <b>{ $day }</b>

    Сегодня приёма нет, и до { $last } включительно рабочих дней нет.
staff-history =
    <b>История талона № { $ticket }</b>

    { $lines }
staff-list =
    <b>Сотрудники регистратуры</b>

    Администраторы (из настроек): { $admins }
    { $members }
staff-added = Регистратор { $id } добавлен.
staff-removed = Регистратор { $id } убран.
staff-not-member = { $id } не был регистратором.
staff-added-scoped = Регистратор { $id } добавлен (организации: { $codes }).
# Only on an active booking: a cancelled one never reads as confirmed.
staff-card-confirmed = , пациент подтвердил визит
staff-day-booked = { $patient }, талон { $ticket }
staff-day-free = свободно
staff-day-closed = закрыто
status-active = активна
status-cancelled = отменена
action-booked = запись
action-confirmed = подтверждение
action-cancelled = отмена
action-moved = перенос
action-rebooked = запись на предложенное время
action-unlinked = аккаунт отвязан: согласие отозвано
actor-patient = пациент
actor-staff = регистратура
actor-system = система
btn-staff-cancel = Отменить с причиной
staff-ask-reason = Укажите причину отмены талона № { $ticket } — её увидит пациент.
staff-reason-too-long = Причина слишком длинная: не больше { $limit } символов.
staff-confirm-cancel =
    <b>Отменить талон № { $ticket }?</b>

    { $card }

    Причина: { $reason }
staff-cancelled = Талон № { $ticket } отменён. { $notified }
staff-notified = Пациент уведомлён.
staff-not-notified = Пациенту не удалось написать: сообщите ему сами.
staff-notice-queued = Уведомление пациенту в очереди: Telegram просит подождать, бот отправит его сам.
staff-kept = Запись оставлена.
btn-close-yes = Закрыть
staff-usage-close =
    Закрыть приём врача: /close &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ] &lt;причина&gt;
    Например: /close ivanova 03.12.2026 Врач на больничном
staff-usage-reopen = Открыть снова: /reopen &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ]
staff-confirm-close =
    <b>Закрыть приём?</b>
    { $doctor }
    { $when }
    Причина: { $reason }

    Записей в это время: { $count }. { $count ->
        [0] Отменять нечего: время просто закроется для записи.
        [1] Она будет отменена, пациент получит причину и ближайшие свободные времена.
       *[other] Они будут отменены, пациенты получат причину и ближайшие свободные времена.
    }
staff-closed = Приём закрыт. Отменено записей: { $count }, пациентов уведомлено: { $notified }.
staff-notices-queued = { $count ->
    [one] Ещё { $count } уведомление в очереди: Telegram просит подождать, бот отправит его сам.
    [few] Ещё { $count } уведомления в очереди: Telegram просит подождать, бот отправит их сам.
   *[many] Ещё { $count } уведомлений в очереди: Telegram просит подождать, бот отправит их сам.
}
staff-reopened = Приём открыт снова (снято закрытий: { $count }).
staff-nothing-to-reopen = В этом промежутке закрытий нет.
staff-close-whole-day = весь день
btn-staff-move = Перенести
btn-move-yes = Да, перенести
staff-move-intro = <b>Перенос талона № { $ticket }</b>. Выберите новый день и время.
staff-confirm-move =
    <b>Перенести талон № { $ticket }?</b>

    { $summary }
staff-moved = Талон № { $ticket } перенесён на { $when }. { $notified }
