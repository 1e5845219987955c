from aiogram.fsm.state import State, StatesGroup


class BookingFlow(StatesGroup):
    browsing = State()
    consent = State()
    oms = State()
    document = State()
    birth_date = State()


class StaffFlow(StatesGroup):
    cancel_reason = State()
    close_confirm = State()
