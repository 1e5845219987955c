"""The booking dialogue's state: one typed record, validated whenever it is read.

aiogram keeps the dialogue's data as a plain mapping in storage (SQL, later Redis). This model
is the only way handlers read and write it, so a key can't be misspelt in one module and the
mode of the dialogue is explicit. A record that no longer validates (an older version of the
bot wrote it, or it was tampered with) reads as no dialogue: the patient starts again.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from aiogram.fsm.context import FSMContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.keyboards.callbacks import DayPick


class Mode(enum.StrEnum):
    BOOK = "book"
    MOVE = "move"  # a patient moves one of their bookings
    STAFF_MOVE = "staff_move"  # the registry moves a patient's booking
    ADD_PATIENT = "add_patient"  # identify a patient to remember, without booking


def new_session_id() -> str:
    return secrets.token_hex(4)


class Dialogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Every button of the dialogue carries it: a button of another dialogue never matches.
    sid: str = Field(min_length=1, max_length=16)
    mode: Mode = Mode.BOOK
    org: int | None = None
    svc: int | None = None
    doc: int | None = None
    day: str | None = None  # YYYYMMDD, as the day buttons carry it
    slot: int | None = None
    # The identified or remembered patient, once known.
    patient: int | None = None
    remembered: bool = False
    # Moves: the booking moved, the slot it was at when the move began, its ticket (staff).
    booking: int | None = None
    from_slot: int | None = None
    ticket: str | None = None
    # Identification: the OMS and document numbers sealed (services/sealing.py), the current
    # prompt's message, and whether «Попробовать снова» may restart the prompts.
    oms: str | None = None
    document: str | None = None
    prompt: int | None = None
    retry: bool = False

    @classmethod
    def start(cls, mode: Mode = Mode.BOOK, **fields: object) -> Dialogue:
        return cls.model_validate({"sid": new_session_id(), "mode": mode, **fields})

    def but(self, **changes: object) -> Dialogue:
        """A copy with `changes`, validated (model_copy would skip validation)."""
        return Dialogue.model_validate({**self.model_dump(), **changes})

    def without_identity(self) -> Dialogue:
        """Nothing typed at the prompts survives leaving them."""
        return self.but(oms=None, document=None, prompt=None, retry=False)

    @property
    def has_choice(self) -> bool:
        """Service, doctor and day are chosen: the times screen can be shown."""
        return None not in (self.svc, self.doc, self.day)

    def day_pick(self) -> DayPick:
        """The chosen day's times screen (only with `has_choice`)."""
        if self.svc is None or self.doc is None or self.day is None:
            raise ValueError("no day chosen in this dialogue")
        return DayPick(s=self.sid, svc=self.svc, doc=self.doc, day=self.day)

    @property
    def choice(self) -> tuple[int, int]:
        """The chosen time and service: (slot id, service id)."""
        if self.slot is None or self.svc is None:
            raise ValueError("no time chosen in this dialogue")
        return self.slot, self.svc

    def chosen_day(self) -> date | None:
        try:
            return datetime.strptime(self.day or "", "%Y%m%d").date()
        except ValueError:
            return None


async def read_dialogue(state: FSMContext) -> Dialogue | None:
    data = await state.get_data()
    if not data:
        return None
    try:
        return Dialogue.model_validate(data)
    except ValidationError:
        return None


async def write_dialogue(state: FSMContext, dialogue: Dialogue) -> None:
    await state.set_data(dialogue.model_dump(exclude_defaults=True))
