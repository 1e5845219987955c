from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery


class InSession(Filter):
    """Pass only buttons of the patient's current dialogue; hand its data to the handler.

    Session-bound callback data carries the dialogue id right after the prefix, so a button
    from an expired, finished or foreign dialogue never reaches a handler.
    """

    async def __call__(self, query: CallbackQuery, state: FSMContext) -> bool | dict[str, Any]:
        parts = (query.data or "").split(":")
        if len(parts) < 2:
            return False
        draft = await state.get_data()
        if not draft.get("sid") or parts[1] != draft["sid"]:
            return False
        return {"draft": draft}
