"""How a service is paid for, in the reader's language: «по полису ОМС» or «платно, 1 500 ₽».

One function, so the service list, the summary, the ticket and the cards say it the same way.
"""

from __future__ import annotations

from babel.numbers import format_decimal

from bot.i18n import current_locale, t

__all__ = ["payment_text"]


def payment_text(*, paid: bool, price: int | None) -> str:
    """«по полису ОМС» for a free service; «платно, 1 500 ₽» for a paid one."""
    if not paid:
        return t("payment-oms")
    if price is None:
        # The import requires a price with `paid`; a row edited by hand may still lack one.
        return t("payment-paid-unpriced")
    # Grouped as the reader writes numbers: «1 500» (a no-break space) in Russian, «1,500».
    return t("payment-paid", price=format_decimal(price, locale=current_locale()))
