import json

from realcost_agent.agent.policy import decide
from realcost_agent.tools.childenv import scrubbed_env
from realcost_agent.agent.secrets import Redactor
from realcost_agent.agent.toolcalls import recover_text_calls

TOOLS = ["read_file", "run_command", "apply_patch"]


def test_approval_modes():
    assert decide("read-only", "read_file", False, approved_for_session=False).action == "allow"
    assert decide("read-only", "apply_patch", True, approved_for_session=False).action == "deny"
    assert decide("suggest", "apply_patch", True, approved_for_session=False).action == "ask"
    assert decide("suggest", "apply_patch", True, approved_for_session=True).action == "allow"
    assert decide("auto-edit", "apply_patch", True, approved_for_session=False).action == "allow"
    assert decide("auto-edit", "run_command", True, approved_for_session=False).action == "ask"
    assert decide("full-auto", "run_command", True, approved_for_session=False).action == "allow"


def test_scrubbed_env_drops_secrets_keeps_the_rest():
    env = scrubbed_env({
        "OPENROUTER_API_KEY": "k", "GITHUB_TOKEN": "t", "DB_PASSWORD": "p", "AWS_SECRET_ACCESS_KEY": "s",
        "PATH": "/bin", "HOME": "/root", "SSH_AUTH_SOCK": "/tmp/s",
    })
    assert set(env) >= {"PATH", "HOME", "SSH_AUTH_SOCK"}
    assert not {"OPENROUTER_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"} & set(env)
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_redactor_replaces_secret_values_only():
    r = Redactor({"OPENAI_API_KEY": "sk-abcdefghijkl", "SHORT_TOKEN": "abc", "PATH": "/usr/bin:/bin"})
    assert r("key=sk-abcdefghijkl and path /usr/bin") == "key=[REDACTED] and path /usr/bin"
    assert r("abc stays") == "abc stays"  # too short to redact safely


def _call(text):
    found = recover_text_calls(text, TOOLS)
    return None if found is None else [(c.name, c.arguments) for c in found.calls]


def test_harmony_leak_is_recognized():
    text = 'to=functions.read_file<|channel|>commentary json<|message|>{"path": "a.py"}<|call|>'
    assert _call(text) == [("functions.read_file", '{"path": "a.py"}')]


def test_json_leak_is_recognized_plain_but_never_fenced():
    text = '{"name": "run_command", "arguments": {"command": "pytest -q"}}'
    [(name, args)] = _call(text)
    assert name == "run_command" and json.loads(args) == {"command": "pytest -q"}
    # In a code block it is quoted, not called (issue 10 item 10).
    assert _call("```json\n" + text + "\n```") is None


def test_ambiguous_or_unknown_text_is_not_a_call():
    assert _call("I will run {\"name\": \"run_command\"} now") is None
    assert _call('{"name": "rm_rf", "arguments": {}}') is None
    assert _call('{"name": "read_file", "arguments": {}, "extra": 1}') is None
    assert _call("to=functions.read_file<|message|>{not json}") is None
    assert _call("Done: fixed the bug.") is None


def test_dotenv_values_are_redacted(tmp_path):
    from realcost_agent.agent.secrets import dotenv_values

    (tmp_path / ".env").write_text('# comment\nDB_URL="postgres://user:hunter2-long-pass@db/x"\nDEBUG=1\n')
    (tmp_path / ".env.example").write_text("DB_URL=placeholder-value-here\n")
    values = dotenv_values(tmp_path)
    assert "postgres://user:hunter2-long-pass@db/x" in values
    assert "placeholder-value-here" not in values
    r = Redactor({}, values)
    assert r("connecting to postgres://user:hunter2-long-pass@db/x now") == "connecting to [REDACTED] now"
    assert r("DEBUG=1") == "DEBUG=1"
