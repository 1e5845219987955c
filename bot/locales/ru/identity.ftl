# Why a typed OMS number, document number or birth date is rejected (bot/services/identity.py;
# rendered by bot/services/identity_texts.py). Each error code has the text "identity-<code>".
# Digits a patient typed are never shown back: a digit of another script is only described.

# The offending characters of a number: each is quoted, named by code point, or described.
identity-char = «{ $char }»
identity-char-invisible = служебный символ U+{ $code }
identity-char-foreign-digit = цифра не из набора 0–9
identity-chars-and-others = { $listed } и другие

-identity-date-expected = Введите дату рождения в формате ДД.ММ.ГГГГ, например 05.03.1984.

identity-oms-empty = Введите номер полиса ОМС цифрами, без серии: у полиса единого образца — 16 цифр.
identity-oms-letters = В номере полиса ОМС есть буквы. Похоже, вместе с номером введена серия — введите только номер, одними цифрами.
identity-oms-foreign-chars = В номере полиса ОМС есть лишние символы: { $chars }. Введите только цифры номера (пробелы и дефисы допускаются).
identity-oms-too-short = В номере полиса ОМС { NUMBER($count, useGrouping: 0) } { $count ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }, а должно быть не меньше { $min }. У полиса единого образца номер из 16 цифр, у временного свидетельства — из 9.
identity-oms-too-long = В номере полиса ОМС { NUMBER($count, useGrouping: 0) } { $count ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }, а должно быть не больше { $max }. Введите только номер полиса, без серии и других данных.
identity-oms-checksum = Номер полиса ОМС не сходится по контрольной цифре — проверьте, нет ли опечатки.
identity-snils-checksum = Номер СНИЛС не сходится по контрольному числу (две последние цифры) — проверьте, нет ли опечатки.

identity-document-empty = { $kind ->
        [passport] Введите номер паспорта цифрами, без серии.
        [birth_certificate] Введите номер свидетельства о рождении цифрами, без серии.
        [snils] Введите номер СНИЛС цифрами.
        [social_card] Введите номер социальной карты цифрами, без серии.
       *[any] Введите номер документа цифрами, без серии.
    }
identity-document-letters = В номере документа есть буквы. Введите только номер, без серии, одними цифрами: серию паспорта или свидетельства о рождении (вида «IV-АИ») вводить не нужно.
identity-document-foreign-chars = В номере документа есть лишние символы: { $chars }. Введите только цифры номера (пробелы и дефисы допускаются).
identity-document-too-short = В номере документа { NUMBER($count, useGrouping: 0) } { $count ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }, а должно быть не меньше { $min }. Номер паспорта и свидетельства о рождении — 6 цифр, СНИЛС — 11 цифр.
identity-document-too-long = В номере документа { NUMBER($count, useGrouping: 0) } { $count ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }, а должно быть не больше { $max }. Введите только номер документа, без серии и других данных.
identity-passport-with-series = Похоже, вы ввели серию и номер паспорта вместе (10 цифр). Введите только номер — 6 цифр, без серии из 4 цифр.
identity-document-wrong-length = В номере { $kind ->
        [passport] паспорта
        [birth_certificate] свидетельства о рождении
        [snils] СНИЛС
       *[other] документа
    } { NUMBER($count, useGrouping: 0) } { $count ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }, а должно быть ровно { $expected } { $expected ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }.
identity-social-card-length = В номере социальной карты { NUMBER($count, useGrouping: 0) } { $count ->
        [one] цифра
        [few] цифры
       *[many] цифр
    }, а должно быть от { $min } до { $max }.
identity-unknown-document-kind = Неизвестный вид документа: «{ $given }». Допустимы: passport, birth_certificate, snils, social_card.

identity-date-empty = { -identity-date-expected }
identity-date-unrecognized = Не удалось распознать дату. { -identity-date-expected }
identity-date-short-year = Укажите год рождения полностью — четырьмя цифрами, например 05.03.1984.
identity-date-bad-month = Такой даты нет: месяц должен быть от 01 до 12, а указан { $month }. { -identity-date-expected }
identity-date-zero-day = Такой даты нет: день не может быть нулевым. { -identity-date-expected }
identity-date-day-out-of-month = Такой даты нет: в { $month ->
        [1] январе
        [2] феврале
        [3] марте
        [4] апреле
        [5] мае
        [6] июне
        [7] июле
        [8] августе
        [9] сентябре
        [10] октябре
        [11] ноябре
       *[12] декабре
    } { NUMBER($year, useGrouping: 0) } года { $days } { $days ->
        [one] день
        [few] дня
       *[many] дней
    }. Проверьте дату рождения.
identity-date-too-old = Проверьте год рождения: получается, что вам больше { $years } { $years ->
        [one] года
       *[other] лет
    }.
identity-date-in-future = Дата рождения не может быть позже сегодняшней ({ $today }). Проверьте дату, особенно год.
