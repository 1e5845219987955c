# The command menu (setMyCommands) and choosing the language.
command-start = Book a doctor
command-my = My bookings
command-forget = Withdraw consent
command-language = Language / Язык
command-help = Help
language-ask = Choose a language — Выберите язык:
language-chosen = Language: English. Go on with the buttons above or start again: /start
btn-language-ru = Русский
btn-language-en = English
