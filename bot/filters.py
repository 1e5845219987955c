from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.dialogue import read_dialogue
from bot.keyboards.callbacks import SESSION_BOUND


class InSession(Filter):
    """Pass only buttons of the patient's current dialogue; hand the dialogue to the handler.

    Registered after the button's CallbackData filter: it reads the parsed `callback_data`,
    whose type must be declared session-bound (bot/keyboards/callbacks.py::SESSION_BOUND). A
    button from an expired, finished or foreign dialogue never reaches a handler.
    """

    async def __call__(
        self, query: CallbackQuery, state: FSMContext, callback_data: CallbackData
    ) -> bool | dict[str, Any]:
        if not isinstance(callback_data, SESSION_BOUND):
            raise TypeError(f"{type(callback_data).__name__} is not declared session-bound")
        current = await read_dialogue(state)
        if current is None or getattr(callback_data, "s", None) != current.sid:
            return False
        return {"dialogue": current}
