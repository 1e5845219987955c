from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.types import InlineKeyboardMarkup, Message, TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import Outbox
from bot.fsm_storage import SqlAlchemyStorage, storage_key_id
from bot.i18n import set_locale, t
from bot.keyboards import booking as kb
from bot.services.account_facts import AccountFacts, load_facts
from bot.services.clock import Clock
from bot.services.redaction import carries_identity, carries_oms
from bot.states import BookingFlow, StaffFlow
from bot.unit import UpdateUnit, entered, record_handled
from bot.usecases.accounts import settle_language

IDENTITY_STATES = frozenset(
    state.state for state in (BookingFlow.oms, BookingFlow.document, BookingFlow.birth_date)
)
STAFF_STATES = frozenset(state.state for state in StaffFlow.__all_states__)
ID_COMMANDS = ("/staff ", "/staff@")
logger = logging.getLogger(__name__)


class UnitOfWork(BaseMiddleware):
    """One session and one unit of work per update (who commits: bot/unit.py).

    An outer middleware between aiogram's user context and its FSM middleware: it takes the
    account's lock (one update of an account at a time), reads the account's facts and its
    dialogue in one statement, runs the update, then writes the dialogue and commits. The
    lock is held until after that commit, so the account's next update reads what this one
    wrote. An error rolls the update's writes back.

    An update whose effects are committed already (a redelivery after a crash or a webhook
    retry) is not handled again: the outbox tells the person what it owed. Whatever the
    update's changes owe is sent after its last commit, with the session closed (so a send
    never holds a pooled connection) and still under the account's lock (so the reply comes
    before the account's next update is answered).
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        storage: BaseStorage,
        isolation: BaseEventIsolation,
        fsm: FSMContextMiddleware,
        outbox: Outbox,
    ) -> None:
        self._sessions = session_factory
        self._storage = storage
        self._isolation = isolation
        self._fsm = fsm
        self._outbox = outbox

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        context = self._fsm.resolve_event_context(data["bot"], data)
        key = context.key if context is not None else None
        locked = self._isolation.lock(key) if key is not None else contextlib.nullcontext()
        async with locked:
            unit = UpdateUnit(session=self._sessions())
            if isinstance(event, Update):
                clock: Clock = data["clock"]
                unit.update_id, unit.handled_at = event.update_id, clock.now()
            try:
                async with unit.session, entered(unit):
                    handled, result = await self._handle(unit, key, handler, event, data)
            finally:
                # Committed rows are owed even if the handler failed after the commit.
                if unit.owed:
                    await self._outbox.send(data["bot"], unit.owed)
            return result if handled else UNHANDLED

    async def _handle(
        self,
        unit: UpdateUnit,
        key: StorageKey | None,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> tuple[bool, Any]:
        user = data.get("event_from_user")
        if user is not None:
            facts = await load_facts(
                unit.session,
                user_id=user.id,
                dialogue_key=storage_key_id(key) if key is not None else None,
                update_id=unit.update_id if unit.update_id is not None else -1,
            )
            if facts.handled:
                logger.info("update %s was handled before its redelivery; skipped", unit.update_id)
                return False, None
            unit.reference_version = facts.reference_version
            if key is not None and isinstance(self._storage, SqlAlchemyStorage):
                self._storage.seed(unit, key, facts.dialogue)
            data["facts"] = facts
        data["session"] = unit.session
        result = await handler(event, data)
        wrote = unit.wrote_elsewhere
        if isinstance(self._storage, SqlAlchemyStorage):
            wrote = await self._storage.flush(unit)
        if wrote or unit.committed:
            await record_handled(unit)
        await unit.session.commit()
        return True, result


class IdentityGuard(BaseMiddleware):
    """Messages that look like identity values never stay in the chat, in any state.

    The identification prompts delete what they read themselves. Anywhere else (no dialogue,
    an expired one, after a failure, while locked out) such a message is deleted unread, with
    one line saying why. A command (e.g. a registrar's /find) is deleted if it carries an OMS
    number, and still runs: the handler has the text already.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Message):
            return await handler(event, data)
        text = event.text or event.caption or ""
        raw_state = data.get("raw_state")
        if text.startswith("/") or raw_state in STAFF_STATES:
            # /staff takes Telegram user ids, which are as long as OMS numbers.
            if carries_oms(text) and not text.startswith(ID_COMMANDS):
                # Told first, so the command's own answer stays the newest message.
                await _delete(event, t("oms-message-deleted"))
            return await handler(event, data)
        if event.text is not None and raw_state in IDENTITY_STATES:
            return await handler(event, data)
        clock: Clock = data["clock"]
        if not carries_identity(text, today=clock.now().date()):
            return await handler(event, data)
        # Unread: whatever the state, the way on is a fresh start.
        await _delete(event, t("identity-message-deleted"), markup=kb.book_button())
        return None


async def _delete(message: Message, why: str, markup: InlineKeyboardMarkup | None = None) -> None:
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    await message.answer(why, reply_markup=markup)


class LanguageMiddleware(BaseMiddleware):
    """Every text of an update in the language its account reads (bot/i18n.py)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        facts: AccountFacts = data["facts"]
        language = await settle_language(
            data["session"],
            user_id=user.id,
            stored=facts.language,
            language_code=user.language_code,
        )
        # Set, not scoped: the error handler (outside this middleware) answers in it too.
        # Each update runs in its own task, so the language goes no further.
        set_locale(language)
        return await handler(event, data)
