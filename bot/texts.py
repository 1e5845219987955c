"""Everything the patient reads. HTML parse mode: user data goes through `esc`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from html import escape

from bot.services.dates import WEEKDAYS_SHORT, local_when
from bot.services.reminders import DueReminder
from bot.services.visits import VisitRecord
from bot.usecases.outcomes import OverLimit, Refused, SlotTaken

BTN_START = "В начало"
BTN_BACK = "Назад"
BTN_ACCEPT = "Принимаю"
BTN_DECLINE = "Отказываюсь"
BTN_RETRY = "Попробовать снова"
BTN_BOOK = "Записаться к врачу"
BTN_CONFIRM = "Подтверждаю"
BTN_CANCEL_BOOKING = "Отменить запись"
BTN_MOVE = "Перенести"
BTN_CANCEL_YES = "Да, отменить"
BTN_CANCEL_NO = "Нет"
BTN_MY_BOOKINGS = "Мои записи"
BTN_TICKET = "Талон"
BTN_CALENDAR = "В календарь"
BTN_REMEMBER = "Запомнить пациента"
BTN_MY_PATIENTS = "Мои пациенты"
BTN_FORGET = "Забыть"
BTN_OTHER_PATIENT = "Другой пациент"
BTN_WITHDRAW = "Отозвать согласие"
BTN_WITHDRAW_ALL = "Отозвать все согласия"
BTN_WITHDRAW_YES = "Да, отозвать"
BTN_PREV_PAGE = "◀ Раньше"
BTN_NEXT_PAGE = "Позже ▶"

CHOOSE_ORGANIZATION = "<b>Запись на приём к врачу</b>\n\nВыберите медицинскую организацию:"
NO_ORGANIZATIONS = (
    "Запись пока недоступна: в системе нет ни одной медицинской организации. "
    "Обратитесь в регистратуру."
)
CHOOSE_SERVICE = "<b>{org}</b>\n\nВыберите услугу:"
NO_SERVICES = "<b>{org}</b>\n\nВ этой организации пока нет услуг для записи."
CHOOSE_DOCTOR = "<b>{org}</b>\n{service}\n\nВыберите врача:"
NO_DOCTORS = "<b>{org}</b>\n{service}\n\nНет врачей, ведущих приём по этой услуге."
CHOOSE_DAY = (
    "<b>{doctor}</b>\n{position}\n{service}\n\n"
    "Выберите день. Дни, на которые запись невозможна, отмечены знаком ✖."
)
CHOOSE_TIME = (
    "<b>{doctor}</b>\n{service}\n<b>{day}</b>\n\nВыберите время. Занятое время отмечено знаком ✖."
)
NO_TIMES = (
    "<b>{doctor}</b>\n{service}\n<b>{day}</b>\n\nНа этот день свободного времени не осталось."
)
DAY_CLOSED = "На эту дату запись невозможна"
TIME_TAKEN = "Это время уже занято. Выберите другое."
SLOT_GONE = "Выбранное время больше недоступно. Начните запись заново."
SLOT_TAKEN_MEANWHILE = "К сожалению, это время только что заняли. Выберите другое время:"
PAGE_INFO = "Стр. {page} из {pages}"

CONSENT_INTRO = "<b>Согласие на обработку персональных данных</b> (редакция {version})\n"
# Each organization is its own operator of personal data: the consent names the one it covers.
CONSENT_OPERATOR = "Оператор: <b>{name}</b>, {address}. Согласие действует только для неё."
CONSENT_OPERATOR_ACCOUNT = (
    "Для списка пациентов этого аккаунта Telegram: данные нужны, чтобы записывать пациента "
    "без повторного ввода. Медицинской организации согласие даётся отдельно при записи."
)
CONSENT_DECLINED_SHORT = "Запись отменена: согласие не дано"
CONSENT_DECLINED = (
    "Вы отказались от согласия на обработку персональных данных. Без него запись невозможна. "
    "Ваши данные не сохранены."
)

ASK_OMS = (
    "<b>Шаг 1 из 3.</b> Введите номер полиса ОМС <b>без серии</b> — 16 цифр единого номера "
    "полиса (или номер временного свидетельства)."
)
ASK_DOCUMENT = (
    "<b>Шаг 2 из 3.</b> Введите номер паспорта, социальной карты, свидетельства о рождении "
    "или СНИЛС <b>без серии</b>."
)
ASK_BIRTH_DATE = (
    "<b>Шаг 3 из 3.</b> Введите дату рождения в формате ДД.ММ.ГГГГ, например 05.03.1985."
)
OMS_ACCEPTED = "Номер полиса принят."
DOCUMENT_ACCEPTED = "Номер документа принят."
FORMAT_ERROR = "{message}\n\nПопробуйте ещё раз."

LOGIN_FAILED = (
    "<b>Вход невозможен, проверьте, что данные введены верно</b>\n\n"
    "Возможные причины:\n"
    "1. При вводе данных допущена опечатка — проверьте номер полиса, номер документа и дату "
    "рождения и попробуйте снова.\n"
    "2. Вы не зарегистрированы в базе данных медицинской организации — для записи через бот "
    "нужно один раз лично обратиться в регистратуру."
)

CHOSEN = "<b>Вы выбрали</b>\n{summary}"
CHOICE_SUMMARY = (
    "Организация: {org}\nВрач: {doctor}, {position}\nУслуга: {service}\nДата и время: <b>{when}</b>"
)
# One line each: why the bot deleted the patient's (or registrar's) own message.
IDENTITY_MESSAGE_DELETED = (
    "Сообщение удалено: в нём похоже на номер полиса, документа или дату рождения. "
    "Вводите их, только когда бот просит, — чтобы они не оставались в переписке."
)
OMS_MESSAGE_DELETED = "Команда удалена из переписки: в ней был номер полиса ОМС."
IDENTITY_ASKED_AGAIN = (
    "Бот перезапускался, а введённые номера он хранит только до перезапуска. "
    "Пожалуйста, введите данные ещё раз."
)
TOO_MANY_FAILURES = (
    "Слишком много неудачных попыток входа. Попробуйте позже или обратитесь в регистратуру "
    "медицинской организации."
)
BOOKED = "<b>Вы успешно записались на приём!</b>\n\n{details}"
TICKET_CAPTION = "Талон на приём № {ticket}. Покажите его в регистратуре."
BOOKING_DETAILS = (
    "Талон № <b>{ticket}</b>\n"
    "Организация: {org}\n"
    "Адрес: {address}\n"
    "Врач: {doctor}, {position}\n"
    "Услуга: {service}\n"
    "Дата и время: <b>{when}</b>\n"
    "Пациент: {patient}"
)

SESSION_ENDED = (
    "Сеанс записи завершён: кнопка устарела или прошло слишком много времени. "
    "Начните запись заново."
)
SESSION_ENDED_ALERT = "Сеанс записи завершён. Начните заново."
USE_BUTTONS = "Пожалуйста, выберите вариант кнопкой в сообщении выше или нажмите «В начало»."
IDLE_HINT = "Я помогаю записаться на приём к врачу. Нажмите «Записаться к врачу» или /start."
NOT_AVAILABLE = "Этот вариант больше недоступен. Начните запись заново."
HELP = (
    "Этот бот записывает на приём к врачу и выдаёт талон.\n\n"
    "/start — записаться к врачу\n"
    "/my — мои записи: талон, календарь, перенос, отмена\n"
    "/forget — отозвать согласие и забыть данные пациентов\n"
    "/help — эта справка\n\n"
    "Записаться могут пациенты, которые есть в базе данных медицинской организации."
)
SOMETHING_WENT_WRONG = (
    "Что-то пошло не так, запрос не выполнен. Попробуйте ещё раз или начните запись заново."
)
TEXT_EXPECTED = "Пожалуйста, отправьте ответ текстом."


def ticket_details(ticket: VisitRecord) -> str:
    return BOOKING_DETAILS.format(
        ticket=esc(ticket.ticket_number),
        org=esc(ticket.organization_name),
        address=esc(ticket.organization_address),
        doctor=esc(ticket.doctor_full_name),
        position=esc(ticket.doctor_position),
        service=esc(ticket.service_name),
        when=local_when(ticket.starts_at, ticket.timezone),
        patient=esc(ticket.patient_full_name),
    )


def esc(value: str) -> str:
    return escape(value, quote=False)


def day_label(day: date) -> str:
    return f"{WEEKDAYS_SHORT[day.weekday()]} {day:%d.%m}"


def hours_label(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"


REMINDER_TITLE = "<b>Напоминание о приёме</b>"
REMINDER_TITLE_MANY = "<b>Напоминание: у вас несколько приёмов в этот день</b>"
REMINDER_VISIT = (
    "<b>{when}</b>\n"
    "{org}, {address}\n"
    "Врач: {doctor}, {position}\n"
    "Услуга: {service}\n"
    "Талон № {ticket}"
)
CONFIRMED = "Спасибо! Запись подтверждена."
ASK_CANCEL = "<b>Отменить запись?</b>\n\n{details}"
CANCELLED = "<b>Запись отменена.</b> Время освобождено для других пациентов.\n\n{details}"
KEPT = "Хорошо, запись сохранена."
MOVE_INTRO = (
    "<b>Перенос записи</b> (талон № {ticket}). Выберите новый день и время. "
    "Другого врача той же услуги можно выбрать кнопкой «Назад»."
)
MOVED = "<b>Запись перенесена.</b>\n\n{details}"
REFUSALS = {
    "not_found": "Эта запись не найдена.",
    "cancelled": "Эта запись уже отменена.",
    "moved": "Эта запись уже перенесена на другое время. Актуальное время — в последнем талоне.",
    "past": "Время этого приёма уже прошло.",
    "other_service": (
        "При переносе можно выбрать другое время или другого врача той же услуги. "
        "Чтобы записаться на другую услугу, начните новую запись."
    ),
    "rebooked": "По этой отмене вы уже записались на другое время — смотрите «Мои записи».",
    "changed": "Эту запись только что изменили. Откройте «Мои записи», чтобы увидеть её сейчас.",
    "too_late": (
        "До приёма осталось слишком мало времени — изменить запись онлайн уже нельзя. "
        "Позвоните в регистратуру: {phone}."
    ),
}
LIMITS = {
    "same_doctor": (
        "У этого пациента уже есть запись к врачу {detail}. Две записи к одному врачу "
        "невозможны: перенесите или отмените ту запись в «Мои записи»."
    ),
    "too_many": (
        "У этого пациента уже {detail} предстоящих записей — это наибольшее число. "
        "Отмените ненужную запись в «Мои записи», чтобы записаться снова."
    ),
}


def refusal(outcome: Refused | OverLimit | SlotTaken) -> str:
    """Why a change was refused, for the person who asked for it."""
    if isinstance(outcome, SlotTaken):
        return TIME_TAKEN
    if isinstance(outcome, OverLimit):
        return LIMITS[outcome.reason.value].format(detail=esc(outcome.detail))
    return REFUSALS[outcome.reason.value].format(phone=esc(outcome.phone or ""))


REMINDER_FOOTER = "Если не сможете прийти, отмените запись: время освободится для других."


def reminder_text(items: Sequence[DueReminder]) -> str:
    visits = [
        REMINDER_VISIT.format(
            when=local_when(item.visit.starts_at, item.visit.tz_name),
            org=esc(item.organization_name),
            address=esc(item.organization_address),
            doctor=esc(item.doctor_full_name),
            position=esc(item.doctor_position),
            service=esc(item.service_name),
            ticket=esc(item.ticket_number),
        )
        for item in items
    ]
    title = REMINDER_TITLE if len(items) == 1 else REMINDER_TITLE_MANY
    return "\n\n".join([title, *visits, REMINDER_FOOTER])


MY_BOOKINGS = (
    "<b>Мои записи</b>\n\n{items}\n\nВыберите запись, чтобы получить талон или изменить её:"
)
MY_BOOKINGS_ITEM = (
    "{n}. <b>{when}</b>\n{org}\n{doctor}, {service}\nПациент: {patient}, талон № {ticket}"
)
NO_BOOKINGS = "<b>Мои записи</b>\n\nПредстоящих записей нет."
BOOKING_CARD = "<b>Запись</b>\n\n{details}"
CALENDAR_CAPTION = "Файл для календаря: откройте его, чтобы добавить приём."
CALENDAR_CANCEL_CAPTION = "Откройте файл, чтобы убрать приём из календаря."
BTN_ADD_PATIENT = "Добавить пациента"
ADD_PATIENT_INTRO = (
    "<b>Добавление пациента.</b> Введите его данные — после проверки пациент будет "
    "запомнен, и записывать его можно будет без ввода данных."
)
ADD_PATIENT_CANCELLED = "Добавление пациента отменено."
REMEMBERED = "Пациент {name} запомнен: в следующий раз вводить данные не нужно."
WHO_IS_PATIENT = "<b>Для кого запись?</b>\n\n{summary}"
MY_PATIENTS = (
    "<b>Мои пациенты</b>\n\n{names}\n\n«Забыть» убирает пациента из этого аккаунта; "
    "его записи остаются в силе."
)
NO_PATIENTS = (
    "<b>Мои пациенты</b>\n\nЗапомненных пациентов нет. После записи нажмите «Запомнить пациента»."
)
FORGOTTEN_SHORT = "Пациент забыт."
ASK_WITHDRAW = (
    "<b>Отозвать согласие на обработку персональных данных?</b>\n\n"
    "Аккаунт забудет всех пациентов, напоминания сюда приходить перестанут. Записи к врачам "
    "останутся в силе — отменить их можно в регистратуре."
)
WITHDRAWN = "Согласие отозвано. Связь этого аккаунта с данными пациентов удалена."
ASK_WITHDRAW_ORG = (
    "<b>Отозвать согласие, данное организации {name}?</b>\n\n"
    "Напоминания о записях в эту организацию сюда приходить перестанут, для новой записи "
    "в неё согласие спросят снова. Записи к врачам останутся в силе — отменить их можно в "
    "регистратуре. Запомненные пациенты и согласия другим организациям остаются."
)
WITHDRAWN_ORG = "Согласие организации {name} отозвано."
CONSENTS_HELD = "<b>Согласие на обработку персональных данных дано:</b>\n{lines}"
CONSENTS_NONE = "Согласий на обработку персональных данных этот аккаунт не давал."
CONSENT_LINE = "• {name} — с {date}"
CONSENT_ACCOUNT_NAME = "список пациентов этого аккаунта"


STAFF_HELP = (
    "<b>Команды регистратуры</b>\n\n"
    "/find &lt;номер талона | номер полиса | фамилия&gt; — найти записи\n"
    "/day &lt;код или фамилия врача&gt; [ДД.ММ.ГГГГ] — расписание врача на день\n"
    "/history &lt;номер талона&gt; — история записи\n"
    "/close &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ] &lt;причина&gt; — закрыть приём\n"
    "/reopen &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ] — открыть снова\n"
    "{admin}"
    "\nКоманды пациента: /start, /my, /forget."
)
STAFF_ADMIN_HELP = (
    "/staff — сотрудники регистратуры\n"
    "/staff add &lt;id&gt; [коды организаций] — добавить регистратора\n"
    "/staff remove &lt;id&gt; — убрать регистратора\n"
)
STAFF_USAGE_FIND = "Укажите номер талона, номер полиса или фамилию: /find Петров"
STAFF_USAGE_DAY = "Укажите врача (код или фамилию) и, если нужно, дату: /day ivanova 03.12.2026"
STAFF_USAGE_HISTORY = "Укажите номер талона: /history ABCD-EFGH"
STAFF_USAGE_STAFF = (
    "Команды: /staff, /staff add &lt;id&gt; [коды организаций], /staff remove &lt;id&gt;"
)
STAFF_NOTHING_FOUND = "Ничего не найдено."
STAFF_DOCTOR_AMBIGUOUS = "Найдено несколько врачей, уточните код: {codes}"
STAFF_BAD_DATE = "Дата должна быть в формате ДД.ММ.ГГГГ или ДД.ММ."
STAFF_NO_SUCH_DATE = "Такой даты нет: {date}."
STAFF_DATE_OUT_OF_RANGE = (
    "Дата {date} вне допустимых пределов: для этой команды — с {earliest} по {latest}."
)
STAFF_BAD_TIME_RANGE = (
    "Время приёма укажите как ЧЧ:ММ-ЧЧ:ММ, начало раньше конца: например, 08:00-12:00."
)
STAFF_BAD_USER_ID = (
    "Такого id в Telegram не бывает: id пользователя — целое число от 1 до {limit}, одними цифрами."
)
STAFF_TOO_MANY_CODES = (
    "Слишком много кодов организаций: можно указать не больше {limit}. "
    "Регистратор без кодов видит все организации."
)
STAFF_LINES_LEFT_OUT = "… и ещё строк: {count}"
STAFF_CARD = (
    "<b>Талон № {ticket}</b> — {status}{confirmed}\n"
    "{when}\n{org}\nВрач: {doctor}, {position}\nУслуга: {service}\n"
    "Пациент: {patient}, полис {oms}"
)
STAFF_DAY = "<b>{doctor}</b>, {position}\n<b>{day}</b>\n\n{lines}"
STAFF_DAY_EMPTY = "<b>{doctor}</b>\n<b>{day}</b>\n\nПриёма в этот день нет."
STAFF_HISTORY = "<b>История талона № {ticket}</b>\n\n{lines}"
STAFF_LIST = "<b>Сотрудники регистратуры</b>\n\nАдминистраторы (из настроек): {admins}\n{members}"
STAFF_ADDED = "Регистратор {id} добавлен{scope}."
STAFF_REMOVED = "Регистратор {id} убран."
STAFF_NOT_MEMBER = "{id} не был регистратором."
STAFF_ADDED_SCOPE = " (организации: {codes})"
STAFF_CARD_CONFIRMED = ", подтверждена"
STAFF_DAY_BOOKED = "{patient}, талон {ticket}"
STAFF_DAY_FREE = "свободно"
STAFF_DAY_CLOSED = "закрыто"
STATUS_NAMES = {"active": "активна", "cancelled": "отменена"}
ACTION_NAMES = {
    "booked": "запись",
    "confirmed": "подтверждение",
    "cancelled": "отмена",
    "moved": "перенос",
    "rebooked": "запись на предложенное время",
    "unlinked": "аккаунт отвязан",
}
ACTOR_NAMES = {"patient": "пациент", "staff": "регистратура", "system": "система"}

CANCELLED_BY_OTHER = (
    "<b>Ваша запись отменена</b> из другого аккаунта, где запомнен пациент.\n\n{details}"
)
MOVED_BY_OTHER = (
    "<b>Ваша запись перенесена</b> из другого аккаунта, где запомнен пациент.\n\n{details}"
)

BTN_STAFF_CANCEL = "Отменить с причиной"
STAFF_ASK_REASON = "Укажите причину отмены талона № {ticket} — её увидит пациент."
STAFF_REASON_TOO_LONG = "Причина слишком длинная: не больше {limit} символов."
STAFF_CONFIRM_CANCEL = "<b>Отменить талон № {ticket}?</b>\n\n{card}\n\nПричина: {reason}"
STAFF_CANCELLED = "Талон № {ticket} отменён. {notified}"
STAFF_NOTIFIED = "Пациент уведомлён."
STAFF_NOT_NOTIFIED = "Пациенту не удалось написать: сообщите ему сами."
STAFF_KEPT = "Запись оставлена."
CANCELLED_BY_REGISTRY = (
    "<b>Ваша запись отменена регистратурой.</b>\nПричина: {reason}\n\n{details}\n\n"
    "Вопросы — по телефону {phone}. Записаться снова: /start"
)

BTN_CLOSE_YES = "Закрыть"
CLOSED_BY_REGISTRY = (
    "<b>Ваша запись отменена регистратурой.</b>\nПричина: {reason}\n\n{details}\n\n"
    "{offer}Вопросы — по телефону {phone}."
)
ALTERNATIVES_OFFER = "Ближайшее свободное время — запись одним нажатием:\n\n"
NO_ALTERNATIVES = "Свободного времени сейчас нет; запишитесь позже через /start.\n\n"
ALTERNATIVE_TAKEN = "Это время уже заняли. Вот что свободно сейчас:"
STAFF_USAGE_CLOSE = (
    "Закрыть приём врача: /close &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ] &lt;причина&gt;\n"
    "Например: /close ivanova 03.12.2026 Врач на больничном"
)
STAFF_USAGE_REOPEN = "Открыть снова: /reopen &lt;врач&gt; &lt;ДД.ММ.ГГГГ&gt; [ЧЧ:ММ-ЧЧ:ММ]"
STAFF_CONFIRM_CLOSE = (
    "<b>Закрыть приём?</b>\n{doctor}\n{when}\nПричина: {reason}\n\n"
    "Записей в это время: {count}. Они будут отменены, пациенты получат причину "
    "и ближайшие свободные времена."
)
STAFF_CLOSED = "Приём закрыт. Отменено записей: {count}, пациентов уведомлено: {notified}."
STAFF_REOPENED = "Приём открыт снова (снято закрытий: {count})."
STAFF_NOTHING_TO_REOPEN = "В этом промежутке закрытий нет."
STAFF_CLOSE_WHOLE_DAY = "весь день"

BTN_STAFF_MOVE = "Перенести"
BTN_MOVE_YES = "Да, перенести"
STAFF_MOVE_INTRO = "<b>Перенос талона № {ticket}</b>. Выберите новый день и время."
STAFF_CONFIRM_MOVE = "<b>Перенести талон № {ticket}?</b>\n\n{summary}"
STAFF_MOVED = "Талон № {ticket} перенесён на {when}. {notified}"
MOVED_BY_REGISTRY = (
    "<b>Регистратура перенесла вашу запись.</b>\n\n{details}\n\n"
    "Новый талон — ниже. Вопросы — по телефону {phone}."
)
