"""Methods about the bot itself: getMe, its command menus and descriptions, close and logOut."""

from __future__ import annotations

import json

from ..errors import bad_request
from ..limits import (
    COMMAND_RE,
    MAX_COMMAND_DESCRIPTION,
    MAX_COMMANDS,
    MAX_DESCRIPTION,
    MAX_SHORT_DESCRIPTION,
)
from ..store import JsonDict
from .backend import Backend

__all__ = [
    "accept",
    "delete_my_commands",
    "get_me",
    "get_my_commands",
    "set_my_commands",
    "set_my_description",
    "set_my_short_description",
]


async def accept(backend: Backend, params: JsonDict) -> bool:
    """close and logOut: nothing to do for a server that only lives as long as the test."""
    return True


async def get_me(backend: Backend, params: JsonDict) -> JsonDict:
    return backend.profile.user


def _commands_key(params: JsonDict) -> tuple[str, str]:
    """Menus are per scope and language; an absent scope is the default one."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


async def set_my_commands(backend: Backend, params: JsonDict) -> bool:
    commands: list[JsonDict] = params["commands"]
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"]) <= MAX_COMMAND_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    backend.profile.commands[_commands_key(params)] = commands
    return True


async def get_my_commands(backend: Backend, params: JsonDict) -> list[JsonDict]:
    return backend.profile.commands.get(_commands_key(params), [])


async def delete_my_commands(backend: Backend, params: JsonDict) -> bool:
    backend.profile.commands.pop(_commands_key(params), None)
    return True


async def set_my_description(backend: Backend, params: JsonDict) -> bool:
    description: str = params.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        raise bad_request("BOT_DESCRIPTION_INVALID")
    backend.profile.descriptions[params.get("language_code", "")] = description
    return True


async def set_my_short_description(backend: Backend, params: JsonDict) -> bool:
    description: str = params.get("short_description", "")
    if len(description) > MAX_SHORT_DESCRIPTION:
        raise bad_request("BOT_SHORT_DESCRIPTION_INVALID")
    backend.profile.short_descriptions[params.get("language_code", "")] = description
    return True
