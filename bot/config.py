"""Settings: a TOML file (path from --config or TALON_CONFIG) overridden by TALON_* env vars."""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.services.attempts import FailureLimits
from bot.services.booking import BookingLimits
from bot.services.reminder_plan import ReminderPolicy, parse_offsets, parse_quiet_hours
from bot.services.sealing import Sealer, parse_key
from bot.usecases.outcomes import Rules

CONFIG_ENV = "TALON_CONFIG"
DEFAULT_CONFIG_PATH = Path("config.toml")
PACKAGE_DATA = Path(__file__).parent / "data"


class Section(BaseModel):
    # A mistyped key must fail loudly, not silently fall back to the default.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class TelegramSettings(Section):
    token: SecretStr | None = None
    # A self-hosted Bot API server (or the local stand-in) instead of api.telegram.org.
    api_base: str | None = None
    polling_timeout: int = Field(default=30, ge=1, le=50)


class WebhookSettings(Section):
    """Telegram posts updates to `url` (the reverse proxy's public HTTPS address), which
    forwards them to this process at host:port + path; `python -m bot webhook` serves it."""

    url: str | None = None  # e.g. https://talon.example.org/telegram/updates
    # Sent by Telegram in X-Telegram-Bot-Api-Secret-Token; every instance must share it.
    secret: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    path: str = "/telegram/updates"
    max_connections: int = Field(default=40, ge=1, le=100)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()
        ):
            raise ValueError("must be 16 to 256 characters: letters, digits, _ and -")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class InstanceSettings(Section):
    """Several instances: each renews its liveness every `heartbeat_seconds`; what a dead one
    held (reminders, owed messages) is taken over `lease_seconds` after its last renewal."""

    heartbeat_seconds: float = Field(default=5, gt=0)
    lease_seconds: float = Field(default=30, gt=0)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class RedisSettings(Section):
    """Several instances share the dialogue state, the per-account locks and the sending
    limits in Redis; unset, one instance keeps them in its database and memory."""

    url: SecretStr | None = None  # e.g. redis://127.0.0.1:6379/0 (it may carry a password)


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///data/talon.sqlite3"
    echo: bool = False


class BookingSettings(Section):
    horizon_days: int = Field(default=14, ge=1, le=60)
    session_timeout_minutes: float = Field(default=10, gt=0)
    slots_per_page: int = Field(default=24, ge=4, le=60)
    slot_generation_hour: int = Field(default=3, ge=0, le=23)
    # Moving a booking online stops this long before the visit (then: call the registry);
    # cancelling stays possible until the visit starts.
    change_cutoff_minutes: int = Field(default=120, ge=0)
    # Per patient: upcoming active bookings in all, and at most one with the same doctor.
    max_active_bookings: int = Field(default=5, ge=1)
    one_booking_per_doctor: bool = True
    # Failed identifications allowed per Telegram account within the window, against guessing.
    max_failed_identifications: int = Field(default=5, ge=1)
    failed_identification_window_minutes: int = Field(default=60, ge=1)

    @property
    def limits(self) -> BookingLimits:
        return BookingLimits(
            max_active=self.max_active_bookings, one_per_doctor=self.one_booking_per_doctor
        )

    @property
    def change_cutoff(self) -> timedelta:
        return timedelta(minutes=self.change_cutoff_minutes)


class ReminderSettings(Section):
    # Before the visit; e.g. "24h", "2h", "30m", "1d".
    offsets: list[str] = ["24h", "2h"]
    # Organization's local time; "off" for none.
    quiet_hours: str = "21:00-08:00"
    # Telegram's global ceiling for the bot's own messages, per second.
    per_second: float = Field(default=25, gt=0, le=30)
    per_chat_interval_seconds: float = Field(default=1.0, ge=0)
    check_interval_seconds: float = Field(default=20, gt=0)
    batch_size: int = Field(default=500, ge=1)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1)

    @field_validator("offsets")
    @classmethod
    def _offsets(cls, value: list[str]) -> list[str]:
        parse_offsets(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @property
    def policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            offsets=tuple(parse_offsets(self.offsets)), quiet=parse_quiet_hours(self.quiet_hours)
        )


class WaitlistSettings(Section):
    # A freed time offered to the first in line is held for them this long; nobody else can
    # book it meanwhile. Then it goes to the next in line.
    hold_minutes: int = Field(default=15, ge=1, le=240)
    # Entries one Telegram account may have at once.
    max_entries: int = Field(default=3, ge=1, le=20)

    @property
    def hold(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)


class StaffSettings(Section):
    # Telegram user ids of registry admins; they add and remove registrars in the chat.
    admins: list[int] = []


class SandboxSettings(Section):
    # `python -m bot sandbox`: the bot in a browser page, without Telegram.
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    # Its own database, so trying things out never touches the real bot's data.
    database_url: str = "sqlite+aiosqlite:///data/sandbox.sqlite3"


class ConsentSettings(Section):
    file: Path = PACKAGE_DATA / "consent.txt"
    # Translations shown to readers of other languages, each saying the original applies.
    translations: dict[str, Path] = {"en": PACKAGE_DATA / "consent.en.txt"}
    version: str = "2026-11-01"

    def file_for(self, locale: str) -> Path:
        return self.translations.get(locale, self.file)


class DemoSettings(Section):
    # Fictional clinics and patients: never loaded into a real bot's database unless asked
    # for (the sandbox always loads them into its own database).
    load_when_empty: bool = False
    file: Path = PACKAGE_DATA / "demo.toml"


class PrivacySettings(Section):
    # Key of the identity values kept between the prompts (32 bytes, URL-safe base64). Unset:
    # a random key per process, so a restart asks the values again. Set it (from the
    # environment, TALON_PRIVACY__STATE_KEY, never a file) only for several instances.
    state_key: SecretStr | None = None
    # Failed identifications naming one registry patient's OMS number, from all accounts
    # together, within a day: then that patient can't be identified in the bot until it passes.
    max_failures_per_patient: int = Field(default=10, ge=1)
    # A warning in the log when failures from all accounts together reach this many within the
    # window: someone may be guessing with many accounts.
    failure_alarm_threshold: int = Field(default=50, ge=1)
    failure_alarm_window_minutes: int = Field(default=10, ge=1)

    @field_validator("state_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_key(value.get_secret_value())
        return value

    def sealer(self) -> Sealer:
        key = self.state_key
        return Sealer(parse_key(key.get_secret_value()) if key is not None else None)


class LoggingSettings(Section):
    level: str = "INFO"

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}")
        return level


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TALON_",
        env_nested_delimiter="__",
        extra="forbid",
        # Errors would otherwise quote the offending value, which may be the token.
        hide_input_in_errors=True,
    )

    telegram: TelegramSettings = TelegramSettings()
    webhook: WebhookSettings = WebhookSettings()
    instances: InstanceSettings = InstanceSettings()
    redis: RedisSettings = RedisSettings()
    database: DatabaseSettings = DatabaseSettings()
    booking: BookingSettings = BookingSettings()
    reminders: ReminderSettings = ReminderSettings()
    waitlist: WaitlistSettings = WaitlistSettings()
    staff: StaffSettings = StaffSettings()
    sandbox: SandboxSettings = SandboxSettings()
    consent: ConsentSettings = ConsentSettings()
    demo: DemoSettings = DemoSettings()
    privacy: PrivacySettings = PrivacySettings()
    logging: LoggingSettings = LoggingSettings()

    def several_instances_problem(self) -> str | None:
        """What stops this configuration from running as one of several instances, if any."""
        if self.redis.url is not None and self.privacy.state_key is None:
            return (
                "Задан redis.url, значит диалоги делят несколько экземпляров бота: задайте "
                "privacy.state_key (TALON_PRIVACY__STATE_KEY), один и тот же на всех "
                "экземплярах, иначе номер, набранный на одном, не прочитать на другом"
            )
        return None

    @property
    def rules(self) -> Rules:
        """The rules every change to a booking is made under."""
        return Rules(
            reminders=self.reminders.policy,
            limits=self.booking.limits,
            cutoff=self.booking.change_cutoff,
            horizon_days=self.booking.horizon_days,
            hold=self.waitlist.hold,
        )

    @property
    def failure_limits(self) -> FailureLimits:
        return FailureLimits(
            per_account=self.booking.max_failed_identifications,
            account_window=timedelta(minutes=self.booking.failed_identification_window_minutes),
            per_patient=self.privacy.max_failures_per_patient,
            alarm_threshold=self.privacy.failure_alarm_threshold,
            alarm_window=timedelta(minutes=self.privacy.failure_alarm_window_minutes),
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _toml_path.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


_toml_path: ContextVar[Path | None] = ContextVar("talon_toml_path", default=None)


class ConfigFileMissingError(FileNotFoundError):
    pass


def resolve_config_path(config_path: Path | None = None) -> Path | None:
    """An explicit path wins over TALON_CONFIG, which wins over ./config.toml if present."""
    named_by = "--config"
    if config_path is None and (raw := os.environ.get(CONFIG_ENV)):
        config_path = Path(raw)
        named_by = CONFIG_ENV
    if config_path is not None:
        if not config_path.exists():
            raise ConfigFileMissingError(
                f"Файл настроек не найден: {config_path} (его назвал {named_by}); укажите "
                "существующий файл, образец всех настроек — config.example.toml"
            )
        return config_path
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    token = _toml_path.set(resolve_config_path(config_path))
    try:
        return Settings(**overrides)
    finally:
        _toml_path.reset(token)
