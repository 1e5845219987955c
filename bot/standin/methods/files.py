"""Files: sendDocument (an upload or a file_id sent before) and getFile for downloading."""

from __future__ import annotations

from ..errors import bad_request
from ..limits import MAX_DOWNLOAD
from ..spec import UploadedFile
from ..store import JsonDict, StoredDocument, StoredMessage
from . import content
from .backend import Backend
from .messages import reply_target

__all__ = ["get_file", "send_document"]


async def send_document(backend: Backend, params: JsonDict) -> JsonDict:
    user = backend.outgoing(params["chat_id"])
    document = _document(backend, params["document"])
    caption, entities = content.caption(params)
    message = StoredMessage(
        0,
        user.id,
        from_bot=True,
        date=backend.store.now(),
        html=params.get("caption"),
        entities=entities,
        reply_markup=content.markup(params),
        document=document,
        caption=caption,
        reply_to_message_id=reply_target(backend.store, user.id, params),
    )
    return backend.send(message)


def _document(backend: Backend, given: UploadedFile | str) -> StoredDocument:
    """The file to send: a new upload, or a file_id of a file the bot sent before."""
    if isinstance(given, UploadedFile):
        if not given.data:
            raise bad_request("file must be non-empty")
        return backend.store.add_document(given)
    if given.startswith(("http://", "https://")):
        raise bad_request("sending files by URL is not supported by the stand-in server")
    document = backend.store.document(given)
    if document is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return document


async def get_file(backend: Backend, params: JsonDict) -> JsonDict:
    document = backend.store.document(params["file_id"])
    if document is None:
        raise bad_request("invalid file_id")
    if document.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": document.file_id,
        "file_unique_id": document.file_unique_id,
        "file_size": document.size,
        "file_path": document.file_path,
    }
