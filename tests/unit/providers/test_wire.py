from __future__ import annotations

import pytest

from realcost_agent.providers.wire import error_message, is_retryable_status, parse_retry_after, prepare_messages, redact


def test_prepare_messages_keeps_reasoning_only_for_the_current_tool_chain():
    tc = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    msgs = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": None, "reasoning_content": "old", "tool_calls": tc},
        {"role": "tool", "tool_call_id": "c", "content": "r"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": None, "reasoning": "new", "tool_calls": tc},
        {"role": "tool", "tool_call_id": "c", "content": "r"},
        {"role": "assistant", "content": "text", "reasoning_content": "final, no tool call"},
    ]
    out = prepare_messages(msgs, "reasoning")
    assert "reasoning_content" not in out[1] and "reasoning" not in out[1]
    assert out[4]["reasoning"] == "new" and "reasoning_content" not in out[4]
    assert "reasoning_content" not in out[6] and "reasoning" not in out[6]
    assert msgs[1]["reasoning_content"] == "old"  # input not mutated
    stripped = prepare_messages(msgs, None)
    assert all("reasoning" not in m and "reasoning_content" not in m for m in stripped)


@pytest.mark.parametrize("body,expected", [
    (b'{"error": {"message": "Invalid model", "type": "invalid_request_error"}}', "Invalid model"),
    (b'{"error": "plain string"}', "plain string"),
    (b'{"detail": "Not Found"}', "Not Found"),
    (b'[{"error": {"message": "listed"}}]', "listed"),
    (b'{"error": {"message": "Provider returned error", "metadata": {"raw": "{\\"error\\": {\\"message\\": \\"upstream said no\\"}}"}}}',
     "Provider returned error: upstream said no"),
    (b"<html>\n Bad Gateway \n</html>", "<html> Bad Gateway </html>"),
    (b"", "fallback"),
])
def test_error_message_shapes(body, expected):
    assert error_message(body, "fallback") == expected


def test_error_message_is_one_bounded_line():
    msg = error_message(b'{"error": {"message": "' + b"x" * 1000 + b'\\nmore"}}', "f")
    assert "\n" not in msg and len(msg) <= 300


def test_retry_after_forms():
    assert parse_retry_after({"retry-after": "12"}) == 12
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480) == 10
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_retryable_statuses():
    assert all(is_retryable_status(s) for s in (408, 409, 429, 500, 502, 503, 504, 529))
    assert not any(is_retryable_status(s) for s in (None, 400, 401, 403, 404, 422))


def test_redact():
    assert redact("key sk-abcdef123456789 bad", []) == "key sk-*** bad"
    assert redact("token my-secret-token here", ["my-secret-token"]) == "token *** here"
    assert redact("gsk_ABCDEFGHIJKLMNOP", []) == "gsk-***"
