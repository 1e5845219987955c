"""Settings: defaults, the TOML file (explicit, TALON_CONFIG, ./config.toml) and env overrides."""

from __future__ import annotations

import base64
import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from bot.config import (
    CONFIG_ENV,
    ConfigFileMissingError,
    DatabaseSettings,
    Settings,
    load_settings,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = REPO_ROOT / "config.example.toml"
TOKEN = "123456789:AAH-config-test-SECRET_value"
SECRET_PART = TOKEN.split(":", 1)[1]


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No TALON_* variable of the developer's shell and no ./config.toml of the checkout."""
    for name in list(os.environ):
        if name.startswith("TALON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def section_fields(section: str) -> dict[str, object]:
    annotation = Settings.model_fields[section].annotation
    assert isinstance(annotation, type)
    assert issubclass(annotation, BaseModel)
    return dict(annotation.model_fields)


# --- defaults and where the file comes from ------------------------------------------------------


def test_defaults_without_any_file() -> None:
    settings = load_settings()

    assert settings == Settings()
    assert settings.telegram.token is None
    assert settings.telegram.api_base is None
    assert settings.telegram.polling_timeout == 30
    assert settings.database.url == DatabaseSettings().url
    assert settings.booking.horizon_days == 14
    # Fictional patients never reach a real bot's database unless asked for.
    assert settings.demo.load_when_empty is False
    assert settings.demo.file.is_file()
    assert settings.consent.file.is_file()
    assert settings.logging.level == "INFO"


def test_values_from_an_explicit_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "talon.toml",
        f"""
        [telegram]
        token = "{TOKEN}"
        api_base = "http://127.0.0.1:8081"
        polling_timeout = 5

        [database]
        url = "sqlite+aiosqlite:///elsewhere.sqlite3"

        [booking]
        horizon_days = 7
        slots_per_page = 12

        [demo]
        load_when_empty = true

        [logging]
        level = "debug"
        """,
    )

    settings = load_settings(config)

    assert settings.telegram.token == SecretStr(TOKEN)
    assert settings.telegram.api_base == "http://127.0.0.1:8081"
    assert settings.telegram.polling_timeout == 5
    assert settings.database.url == "sqlite+aiosqlite:///elsewhere.sqlite3"
    assert settings.booking.horizon_days == 7
    assert settings.booking.slots_per_page == 12
    # Keys the file does not mention keep their defaults.
    assert settings.booking.slot_generation_hour == Settings().booking.slot_generation_hour
    assert settings.demo.load_when_empty is True
    assert settings.logging.level == "DEBUG"


def test_talon_config_env_var_picks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "from-env.toml", "[booking]\nhorizon_days = 21\n")
    monkeypatch.setenv(CONFIG_ENV, str(config))

    assert load_settings().booking.horizon_days == 21


def test_config_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path / "config.toml", "[booking]\nhorizon_days = 3\n")

    assert load_settings().booking.horizon_days == 3


def test_explicit_file_wins_over_talon_config_which_wins_over_cwd_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "config.toml", "[booking]\nhorizon_days = 3\n")
    from_env = write(tmp_path / "from-env.toml", "[booking]\nhorizon_days = 21\n")
    explicit = write(tmp_path / "explicit.toml", "[booking]\nhorizon_days = 40\n")
    monkeypatch.setenv(CONFIG_ENV, str(from_env))

    assert load_settings().booking.horizon_days == 21
    assert load_settings(explicit).booking.horizon_days == 40


def test_missing_explicit_file_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    with pytest.raises(ConfigFileMissingError, match=r"nope\.toml"):
        load_settings(missing)


def test_missing_file_named_by_talon_config_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not a silent fallback to ./config.toml or the defaults.
    write(tmp_path / "config.toml", "[booking]\nhorizon_days = 3\n")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "gone.toml"))

    with pytest.raises(ConfigFileMissingError, match=r"gone\.toml"):
        load_settings()


def test_config_file_missing_error_is_a_file_not_found_error() -> None:
    assert issubclass(ConfigFileMissingError, FileNotFoundError)


# --- environment overrides -----------------------------------------------------------------------


def test_env_vars_override_file_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path / "talon.toml",
        """
        [telegram]
        token = "111:file-token"
        polling_timeout = 5

        [booking]
        horizon_days = 7
        slots_per_page = 12
        """,
    )
    monkeypatch.setenv("TALON_BOOKING__HORIZON_DAYS", "30")
    monkeypatch.setenv("TALON_TELEGRAM__TOKEN", TOKEN)

    settings = load_settings(config)

    assert settings.booking.horizon_days == 30
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == TOKEN
    # An override of one key keeps the file's other keys of the same section.
    assert settings.booking.slots_per_page == 12
    assert settings.telegram.polling_timeout == 5


def test_env_vars_work_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv("TALON_DATABASE__URL", url)
    monkeypatch.setenv("TALON_DEMO__LOAD_WHEN_EMPTY", "false")
    monkeypatch.setenv("TALON_LOGGING__LEVEL", "warning")

    settings = load_settings()

    assert settings.database.url == url
    assert settings.demo.load_when_empty is False
    assert settings.logging.level == "WARNING"


def test_invalid_env_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALON_BOOKING__HORIZON_DAYS", "0")

    with pytest.raises(ValidationError, match="horizon_days"):
        load_settings()


# --- mistakes in the file ------------------------------------------------------------------------


def test_unknown_section_in_the_file_is_an_error(tmp_path: Path) -> None:
    config = write(tmp_path / "talon.toml", "[telegramm]\npolling_timeout = 5\n")

    with pytest.raises(ValidationError, match="telegramm"):
        load_settings(config)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("telegram", "tokn", f'"{TOKEN}"'),
        ("booking", "horizon", "7"),
        ("database", "uri", '"sqlite+aiosqlite:///typo.sqlite3"'),
    ],
    ids=["telegram.tokn", "booking.horizon", "database.uri"],
)
def test_unknown_key_in_a_section_is_an_error(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    config = write(tmp_path / "talon.toml", f"[{section}]\n{key} = {value}\n")

    with pytest.raises(ValidationError, match=key):
        load_settings(config)


def test_out_of_range_value_in_the_file_is_an_error(tmp_path: Path) -> None:
    config = write(tmp_path / "talon.toml", "[telegram]\npolling_timeout = 0\n")

    with pytest.raises(ValidationError, match="polling_timeout"):
        load_settings(config)


# --- the token is a secret -----------------------------------------------------------------------


def test_token_never_appears_in_repr_or_str(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = load_settings(write(tmp_path / "talon.toml", f'[telegram]\ntoken = "{TOKEN}"\n'))
    monkeypatch.setenv("TALON_TELEGRAM__TOKEN", TOKEN)
    from_env = load_settings()

    for settings in (from_file, from_env):
        assert settings.telegram.token is not None
        assert settings.telegram.token.get_secret_value() == TOKEN
        for text in (
            repr(settings),
            str(settings),
            repr(settings.telegram),
            str(settings.telegram),
            repr(settings.telegram.token),
            str(settings.telegram.token),
            settings.model_dump_json(),
            str(settings.model_dump()),
        ):
            assert SECRET_PART not in text


# --- config.example.toml -------------------------------------------------------------------------


def test_example_config_loads_with_the_documented_defaults() -> None:
    example = load_settings(EXAMPLE)

    # Every value the example spells out is the default, and it sets no token.
    assert example == Settings()
    assert example.telegram.token is None


def test_every_key_in_the_example_config_is_a_real_setting() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))

    assert set(data) <= set(Settings.model_fields)
    for section, values in data.items():
        assert isinstance(values, dict), section
        unknown = set(values) - set(section_fields(section))
        assert not unknown, f"[{section}] has keys that are not settings: {sorted(unknown)}"
        # The documented value is also what the setting holds after loading.
        loaded = getattr(Settings(), section)
        for key, value in values.items():
            assert getattr(loaded, key) == value, f"[{section}] {key}"


def test_every_commented_out_key_in_the_example_config_is_a_real_setting() -> None:
    section = None
    checked = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if header := re.fullmatch(r"\[(\w+)\]\s*", line):
            section = header.group(1)
        elif (assignment := re.fullmatch(r"#\s*(\w+)\s*=\s*\S.*", line)) and section:
            key = assignment.group(1)
            assert key in section_fields(section), f"[{section}] # {key} = … is not a setting"
            checked.append(f"{section}.{key}")

    # The token and the self-hosted API server are documented as commented-out examples.
    assert {"telegram.token", "telegram.api_base"} <= set(checked)


def test_example_config_through_talon_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(EXAMPLE))
    monkeypatch.setenv("TALON_TELEGRAM__TOKEN", TOKEN)

    settings = load_settings()

    assert settings.telegram.token == SecretStr(TOKEN)
    assert settings.model_copy(update={"telegram": Settings().telegram}) == Settings()


def test_the_identity_state_key_must_be_32_bytes_of_base64(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TALON_PRIVACY__STATE_KEY", "c2hvcnQ=")
    with pytest.raises(ValidationError):
        load_settings()
    key = base64.b64encode(bytes(range(32))).decode()
    monkeypatch.setenv("TALON_PRIVACY__STATE_KEY", key)
    sealer = load_settings().privacy.sealer()
    # Two processes with the same configured key open each other's sealed values.
    other = load_settings().privacy.sealer()
    assert other.open(sealer.seal("7788", context="c"), context="c") == "7788"


# --- mistakes in the operator's words (bot/config_errors.py) -------------------------------------


def russian_lines(config: Path | None = None) -> list[str]:
    from bot.config_errors import describe_settings_error

    with pytest.raises(Exception) as caught:  # noqa: PT011 - any failure to load is described
        load_settings(config)
    lines = describe_settings_error(caught.value, path=config)
    assert lines is not None, caught.value
    return lines


def test_a_wrong_type_names_the_file_the_section_and_the_key(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", '[booking]\nhorizon_days = "abc"\n')

    assert russian_lines(config) == [
        f'{config}: [booking] horizon_days: ожидается целое число, получено "abc"'
    ]


def test_an_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", "[booking]\nhorizonn_days = 7\n")

    assert russian_lines(config) == [
        f"{config}: [booking] horizonn_days: неизвестный ключ (может быть, horizon_days?)"
    ]


def test_an_unknown_section_and_a_key_outside_its_section(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", f'token = "{TOKEN}"\n[telegramm]\nx = 1\n')

    lines = russian_lines(config)

    assert sorted(lines) == sorted(
        [
            f"{config}: [telegramm]: неизвестный раздел (может быть, [telegram]?)",
            f"{config}: token: ключ стоит вне раздела; его место в разделе [telegram] "
            "(ниже строки с заголовком раздела)",
        ]
    )
    assert SECRET_PART not in "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[telegram]\npolling_timeout = 0\n",
            "[telegram] polling_timeout: значение должно быть не меньше 1, получено 0",
        ),
        (
            "[booking]\nhorizon_days = 61\n",
            "[booking] horizon_days: значение должно быть не больше 60, получено 61",
        ),
        (
            "[reminders]\nper_second = 0\n",
            "[reminders] per_second: значение должно быть больше 0, получено 0",
        ),
        (
            '[demo]\nload_when_empty = "yes please"\n',
            '[demo] load_when_empty: ожидается true или false, получено "yes please"',
        ),
        ("[sandbox]\nhost = 1\n", "[sandbox] host: ожидается текст в кавычках, получено 1"),
        ('[staff]\nadmins = [1, "x"]\n', '[staff] admins[2]: ожидается целое число, получено "x"'),
        (
            '[reminders]\noffsets = "24h"\n',
            '[reminders] offsets: ожидается список в квадратных скобках [ ], получено "24h"',
        ),
        (
            '[logging]\nlevel = "loud"\n',
            "[logging] level: неизвестный уровень журнала 'loud': "
            "DEBUG, INFO, WARNING, ERROR или CRITICAL",
        ),
        ('[webhook]\npath = "updates"\n', "[webhook] path: должно начинаться с /"),
    ],
    ids=["ge", "le", "gt", "bool", "string", "list-item", "list", "validator", "validator-2"],
)
def test_each_kind_of_mistake_is_in_russian(tmp_path: Path, text: str, expected: str) -> None:
    config = write(tmp_path / "config.toml", text)

    assert russian_lines(config) == [f"{config}: {expected}"]


def test_secrets_are_never_quoted_back(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config.toml",
        '[webhook]\nsecret = "short-SECRET"\n[database]\nurl = 5\n[telegram]\ntoken = 7\n',
    )

    lines = russian_lines(config)

    assert len(lines) == 3
    text = "\n".join(lines)
    assert "short-SECRET" not in text
    assert "получено" not in text
    assert f"{config}: [webhook] secret: нужно от 16 до 256 символов" in text


def test_a_value_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write(tmp_path / "config.toml", "[booking]\nhorizon_days = 7\n")
    monkeypatch.setenv("TALON_BOOKING__HORIZON_DAYS", "0")

    assert russian_lines(config) == [
        "TALON_BOOKING__HORIZON_DAYS: [booking] horizon_days: значение должно быть не меньше 1, "
        'получено "0"'
    ]


def test_an_unexpected_kind_still_names_the_file_and_the_key() -> None:
    from pydantic_core import InitErrorDetails, PydanticCustomError

    from bot.config_errors import describe_validation_error

    error = ValidationError.from_exception_data(
        "Settings",
        [
            InitErrorDetails(
                type=PydanticCustomError("something_new", "Something new went wrong"),
                loc=("booking", "horizon_days"),
                input=1,
            )
        ],
    )

    assert describe_validation_error(error, path=Path("config.toml"), environ={}) == [
        "config.toml: [booking] horizon_days: недопустимое значение (ошибка something_new)"
    ]


def test_a_toml_syntax_error_in_the_settings_is_russian(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", "[booking]\nhorizon_days = seven\n")

    [line] = russian_lines(config)

    assert line.startswith(f"{config}, строка 2, столбец 16: ошибка синтаксиса TOML: ")
    assert "Invalid value" not in line
