"""The stand-in's parts on their own: limits, injected faults, the update queue, message
content and the file store. The HTTP behaviour is in test_server.py."""

import pytest

from bot.standin.errors import ApiError
from bot.standin.events import EventHub
from bot.standin.limits import Faults, Gate, TokenBucket
from bot.standin.methods import content
from bot.standin.spec import UploadedFile
from bot.standin.store import ChatStore
from bot.standin.updates import UpdateQueue


def test_token_bucket_allows_a_burst_then_names_the_wait() -> None:
    bucket = TokenBucket(2)
    assert bucket.take("chat") is None
    assert bucket.take("chat") is None
    assert bucket.take("chat") == 1
    assert bucket.take("other chat") is None


def test_gate_refuses_a_blocked_user_before_counting_the_rate() -> None:
    gate = Gate(per_chat_rate=1, global_rate=None)
    gate.block(7)
    with pytest.raises(ApiError) as refused:
        gate.admit(7, rate_limited=True)
    assert (refused.value.error_code, refused.value.violation) == (403, False)
    gate.unblock(7)
    gate.admit(7, rate_limited=True)
    gate.admit(7, rate_limited=False)
    with pytest.raises(ApiError) as limited:
        gate.admit(7, rate_limited=True)
    assert (limited.value.error_code, limited.value.retry_after) == (429, 1)


def test_gate_spends_a_global_token_on_a_request_refused_per_chat() -> None:
    gate = Gate(per_chat_rate=1, global_rate=2)
    gate.admit(1, rate_limited=True)
    with pytest.raises(ApiError):
        gate.admit(1, rate_limited=True)
    with pytest.raises(ApiError, match="Too Many Requests"):
        gate.admit(2, rate_limited=True)


def test_faults_check_the_method_and_answer_in_order() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="unknown Bot API method"):
        faults.fail_next("sendMesage", error_code=400, description="x", retry_after=None, count=1)
    with pytest.raises(ValueError, match="count must be positive"):
        faults.fail_next("sendMessage", error_code=400, description="x", retry_after=None, count=0)
    faults.fail_next("sendMessage", error_code=429, description="slow", retry_after=3, count=2)
    for _ in range(2):
        with pytest.raises(ApiError) as failed:
            faults.raise_next("SENDMESSAGE")
        assert (failed.value.retry_after, failed.value.violation) == (3, False)
    faults.raise_next("sendMessage")


async def test_update_queue_says_why_an_update_was_not_delivered() -> None:
    queue = UpdateQueue(EventHub())
    queue.allowed_updates = frozenset({"message"})
    update_id = queue.push("callback_query", {}, chat_id=1, label="callback 'x'")
    assert queue.pending_count == 0
    with pytest.raises(AssertionError, match="exclude callback_query"):
        await queue.wait_handled(update_id, 0.1)


async def test_update_queue_names_a_fetched_but_unhandled_update() -> None:
    queue = UpdateQueue(EventHub())
    update_id = queue.push("message", {"text": "hi"}, chat_id=1, label="message 'hi'")
    assert queue.take(10) == [{"update_id": update_id, "message": {"text": "hi"}}]
    with pytest.raises(TimeoutError, match="HandledTracker missing"):
        await queue.wait_handled(update_id, 0.01)
    queue.mark_handled(update_id, ValueError("boom"))
    await queue.wait_handled(update_id, 0.01)
    assert [e.update_id for e in queue.handler_errors] == [update_id]


def test_an_empty_inline_keyboard_is_dropped_and_a_full_row_refused() -> None:
    assert content.markup({"reply_markup": {"inline_keyboard": [[]]}}) is None
    button = {"text": "b", "callback_data": "d"}
    with pytest.raises(ApiError, match="BUTTONS_TOO_MUCH"):
        content.markup({"reply_markup": {"inline_keyboard": [[button] * 9]}})


def test_explicit_entities_must_lie_within_the_text() -> None:
    entity = {"type": "bold", "offset": 1, "length": 2}
    with pytest.raises(ApiError, match="entity ends beyond the text"):
        content.text({"text": "ab", "entities": [entity]})
    assert content.text({"text": "abc", "entities": [entity]}) == ("abc", [entity])


def test_documents_get_telegram_shaped_ids_and_a_guessed_type() -> None:
    store = ChatStore(bot_user={}, clock=None)
    document = store.add_document(UploadedFile("ticket.pdf", "application/octet-stream", b"%"))
    assert document.mime_type == "application/pdf"
    assert document.file_path == "documents/file_1.pdf"
    assert document.file_id.startswith("BQAC0001")
    assert store.document_at(document.file_path) is document
    unnamed = store.add_document(UploadedFile("", "text/plain", b"x"))
    assert (unnamed.file_name, unnamed.mime_type) == ("document_2", "text/plain")
