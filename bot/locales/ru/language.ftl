# The command menu (setMyCommands) and choosing the language.
command-start = Записаться к врачу
command-my = Мои записи
command-forget = Отозвать согласие
command-language = Язык / Language
command-help = Справка
language-ask = Выберите язык — Choose a language:
language-chosen = Язык: русский. Продолжайте кнопками выше или начните заново: /start
btn-language-ru = Русский
btn-language-en = English
