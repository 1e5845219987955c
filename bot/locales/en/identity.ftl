# Why a typed OMS number, document number or birth date is rejected (bot/services/identity.py;
# rendered by bot/services/identity_texts.py). Each error code has the text "identity-<code>".
# Digits a patient typed are never shown back: a digit of another script is only described.

# The offending characters of a number: each is quoted, named by code point, or described.
identity-char = “{ $char }”
identity-char-invisible = invisible character U+{ $code }
identity-char-foreign-digit = a digit other than 0–9
identity-chars-and-others = { $listed } and others

-identity-date-expected = Enter the date of birth as DD.MM.YYYY, for example 05.03.1984.

identity-oms-empty = Enter the OMS policy number in digits, without the series: a unified-format policy has 16 digits.
identity-oms-letters = The OMS policy number contains letters. It looks like the series was typed along with the number — enter only the number, in digits.
identity-oms-foreign-chars = The OMS policy number contains extra characters: { $chars }. Enter only the digits of the number (spaces and hyphens are fine).
identity-oms-too-short = The OMS policy number has { NUMBER($count, useGrouping: 0) } { $count ->
        [one] digit
       *[other] digits
    }, but it must have at least { $min }. A unified-format policy number has 16 digits, a temporary certificate number has 9.
identity-oms-too-long = The OMS policy number has { NUMBER($count, useGrouping: 0) } { $count ->
        [one] digit
       *[other] digits
    }, but it must have at most { $max }. Enter only the policy number, without the series or other data.
identity-oms-checksum = The OMS policy number does not match its check digit — please check it for a typo.
identity-snils-checksum = The SNILS number does not match its check number (the last two digits) — please check it for a typo.

identity-document-empty = { $kind ->
        [passport] Enter the passport number in digits, without the series.
        [birth_certificate] Enter the birth certificate number in digits, without the series.
        [snils] Enter the SNILS number in digits.
        [social_card] Enter the social card number in digits, without the series.
       *[any] Enter the document number in digits, without the series.
    }
identity-document-letters = The document number contains letters. Enter only the number, without the series, in digits: the series of a passport or birth certificate (such as “IV-АИ”) is not needed.
identity-document-foreign-chars = The document number contains extra characters: { $chars }. Enter only the digits of the number (spaces and hyphens are fine).
identity-document-too-short = The document number has { NUMBER($count, useGrouping: 0) } { $count ->
        [one] digit
       *[other] digits
    }, but it must have at least { $min }. A passport or birth certificate number has 6 digits, a SNILS has 11.
identity-document-too-long = The document number has { NUMBER($count, useGrouping: 0) } { $count ->
        [one] digit
       *[other] digits
    }, but it must have at most { $max }. Enter only the document number, without the series or other data.
identity-passport-with-series = It looks like you entered the passport series and number together (10 digits). Enter only the number — 6 digits, without the 4-digit series.
identity-document-wrong-length = The { $kind ->
        [passport] passport
        [birth_certificate] birth certificate
        [snils] SNILS
       *[other] document
    } number has { NUMBER($count, useGrouping: 0) } { $count ->
        [one] digit
       *[other] digits
    }, but it must have exactly { $expected } { $expected ->
        [one] digit
       *[other] digits
    }.
identity-social-card-length = The social card number has { NUMBER($count, useGrouping: 0) } { $count ->
        [one] digit
       *[other] digits
    }, but it must have from { $min } to { $max }.
identity-unknown-document-kind = Unknown document kind: “{ $given }”. Allowed: passport, birth_certificate, snils, social_card.

identity-date-empty = { -identity-date-expected }
identity-date-unrecognized = Could not recognize the date. { -identity-date-expected }
identity-date-short-year = Enter the year of birth in full — four digits, for example 05.03.1984.
identity-date-bad-month = There is no such date: the month must be from 01 to 12, but it is { $month }. { -identity-date-expected }
identity-date-zero-day = There is no such date: the day cannot be zero. { -identity-date-expected }
identity-date-day-out-of-month = There is no such date: { $month ->
        [1] January
        [2] February
        [3] March
        [4] April
        [5] May
        [6] June
        [7] July
        [8] August
        [9] September
        [10] October
        [11] November
       *[12] December
    } { NUMBER($year, useGrouping: 0) } has { $days } { $days ->
        [one] day
       *[other] days
    }. Please check the date of birth.
identity-date-too-old = Please check the year of birth: it would mean you are over { $years } { $years ->
        [one] year
       *[other] years
    } old.
identity-date-in-future = The date of birth cannot be later than today ({ $today }). Please check the date, especially the year.
