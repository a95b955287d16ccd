"""realcost_agent.agent.secrets: which values are secret, the shapes and encodings they are found in, streams."""
import base64
import codecs
import json
import subprocess
from urllib.parse import quote

import pytest

from realcost_agent.agent import events as ev
from realcost_agent.agent.config import load_settings
from realcost_agent.agent.secrets import (
    REDACTED, Redactor, StreamRedactor, dotenv_files, dotenv_values, env_secret_values, parse_dotenv,
)

SECRET = "s3cr3t-Value_Xq9zJ7kW2mP4"
PASSWORD = "hunter2-Very/Secret+Pass"
OPENAI = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def redactor(**kw) -> Redactor:
    return Redactor({"SERVICE_TOKEN": SECRET, "PATH": "/usr/bin"}, [PASSWORD], **kw)


# -- which values -------------------------------------------------------------------------------
def test_dotenv_files_anywhere_but_not_templates_or_dependency_trees(tmp_path):
    for rel in (".env", ".env.local", "sub/dir/.env.production", "api/.envrc", ".env.example",
                "web/.env.sample", ".env.template", "node_modules/pkg/.env", ".git/.env",
                ".venv/lib/.env", "docs/env.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("X=1\n")
    found = sorted(str(p.relative_to(tmp_path)) for p in dotenv_files(tmp_path))
    assert found == [".env", ".env.local", "api/.envrc", "sub/dir/.env.production"]


def test_parse_dotenv_forms():
    text = ('# comment\nexport A="quoted value"\nB=plain # trailing comment\nC=\'single\'\n'
            'KEY="-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"\nD=e=f\n')
    assert parse_dotenv(text) == [
        ("A", "quoted value"), ("B", "plain"), ("C", "single"),
        ("KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"),
        ("D", "e=f"),
    ]


def test_dotenv_values_reads_sub_directories_and_multiline_values(tmp_path):
    (tmp_path / "svc" / "deep").mkdir(parents=True)
    (tmp_path / "svc" / "deep" / ".env.production").write_text('DB="line-one-secret\nline-two-secret"\n')
    (tmp_path / ".env").write_text("NODE_ENV=production\nPORT=30000000\nHOST=localhost\n")
    values = dotenv_values(tmp_path)
    assert "line-one-secret\nline-two-secret" in values and "line-two-secret" in values
    assert not {"production", "30000000", "localhost"} & set(values)  # plain settings stay readable


def test_env_values_secret_named_min_length_and_redact_env():
    env = {"OPENAI_API_KEY": "sk-long-enough", "SHORT_TOKEN": "abc", "PATH": "/bin",
           "DB_PASS_PLAIN": "pw42", "HOME": "/root"}
    assert env_secret_values(env) == ["sk-long-enough"]
    assert sorted(env_secret_values(env, ["DB_PASS_PLAIN", "MISSING"])) == ["pw42", "sk-long-enough"]


def test_short_secrets_named_in_config_are_redacted():
    r = Redactor({"PIN_CODE": "7391"}, named_values=["zq9x"], redact_env=["PIN_CODE"])
    assert r("pin 7391 and zq9x, not 739") == f"pin {REDACTED} and {REDACTED}, not 739"
    assert Redactor({"PIN_CODE": "7391"})("pin 7391") == "pin 7391"  # named nowhere: kept
    assert Redactor({})("pin 7391") == "pin 7391"  # unnamed short values are not guessed


def test_config_redact_values_add_up_across_user_and_project(tmp_path):
    cfg, root = tmp_path / "cfg", tmp_path / "proj"
    (root / ".agent").mkdir(parents=True)
    cfg.mkdir()
    (cfg / "config.toml").write_text('redact_values = ["userpin1"]\nredact_env = ["MY_VAR"]\n')
    (root / ".agent" / "config.toml").write_text('redact_values = ["projpin2"]\n')
    s = load_settings(root, env={"AGENT_CONFIG_HOME": str(cfg)}, trust=True)
    assert s.redact_values == ["userpin1", "projpin2"] and s.redact_env == ["MY_VAR"]
    # Untrusted, a project's list is ignored (a hostile one could garble every file read).
    s = load_settings(root, env={"AGENT_CONFIG_HOME": str(cfg)})
    assert s.redact_values == ["userpin1"]


# -- shapes -------------------------------------------------------------------------------------
KEYS = {
    "openai": "sk-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "openai_proj": OPENAI,
    "openrouter": "sk-or-v1-" + "ab12" * 16,
    "anthropic": "sk-ant-api03-" + "Xy9_" * 10,
    "groq": "gsk_" + "AbC123" * 8,
    "hf": "hf_" + "aBcDeFgHiJ" * 4,
    "aws_akia": "AKIAIOSFODNN7EXAMPLE",
    "aws_asia": "ASIAY34FZKBOKMUTVV7A",
    "ghp": "ghp_" + "A1b2C3d4E5" * 4,
    "gho": "gho_" + "Z9y8X7w6V5" * 4,
    "ghu": "ghu_" + "Z9y8X7w6V5" * 4,
    "ghs": "ghs_" + "Z9y8X7w6V5" * 4,
    "ghr": "ghr_" + "Z9y8X7w6V5" * 4,
    "github_pat": "github_pat_11ABCDEFG0" + "x" * 60,
    "slack": "xoxb-1234567890-abcdefghijkl",
    "google": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


@pytest.mark.parametrize("text,secret", [
    ("machine api.example.com login me password netrcPass99", "netrcPass99"),
    ('{"auths": {"ghcr.io": {"auth": "dXNlcjpkb2NrZXJwYXNz"}}}', "dXNlcjpkb2NrZXJwYXNz"),
    ("//registry.npmjs.org/:_authToken=npm_AbCdEf123456", "npm_AbCdEf123456"),
])
def test_credential_files_lose_their_secret(text, secret):
    out = Redactor({})(text)
    assert secret not in out and REDACTED in out and out.split(REDACTED)[0] == text.split(secret)[0]


def test_rebuild_takes_new_file_values_in_place():
    r = redactor()
    stream = StreamRedactor(r)
    r.rebuild(["fresh-value-1234"])
    assert r("x fresh-value-1234 and " + SECRET) == f"x {REDACTED} and {REDACTED}"
    assert stream.feed("fresh-value-1234") + stream.flush() == REDACTED


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_key_formats_are_redacted(kind):
    key = KEYS[kind]
    out = Redactor({})(f"config: {key}\n")
    assert key not in out and out == f"config: {REDACTED}\n"


def test_aws_secret_access_key_value_only():
    text = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion = eu-west-1"
    assert Redactor({})(text) == f"aws_secret_access_key = {REDACTED}\nregion = eu-west-1"
    assert "wJalr" not in Redactor({})('"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"')


@pytest.mark.parametrize("url,kept", [
    ("postgres://u:p4ssw0rd@h/db", ("postgres://u:", "@h/db")),
    ("mysql://root:toor-pass@127.0.0.1:3306/app", ("mysql://root:", "@127.0.0.1:3306/app")),
    ("redis://:redispass@cache:6379/0", ("redis://:", "@cache:6379/0")),
    ("amqp://guest:rabbitpw@mq:5672/", ("amqp://guest:", "@mq:5672/")),
    ("mongodb+srv://admin:Pa55word!@cluster0.mongodb.net/test", ("mongodb+srv://admin:", "@cluster0")),
    ("https://x-access-token:tok3n@github.com/o/r.git", ("https://x-access-token:", "@github.com")),
])
def test_credential_urls_lose_only_the_password(url, kept):
    out = Redactor({})(f"DATABASE_URL={url}")
    assert REDACTED in out and all(k in out for k in kept)
    assert url.split(":")[2].split("@")[0] not in out


def test_pem_private_key_block_whole_and_cut_off():
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACDx\n-----END OPENSSH PRIVATE KEY-----"
    assert Redactor({})(f"a\n{key}\nb") == f"a\n{REDACTED}\nb"
    assert "b3Blbn" not in Redactor({})("-----BEGIN RSA PRIVATE KEY-----\nb3BlbnNzaC1rZXkt")


@pytest.mark.parametrize("text", [
    "task-abcdefghijklmnopqrstuvwxyz0123", "def risk_live_value(): pass", "the shortsk-abc",
    "see https://example.com:8080/path@v2", "AKIA short", "plain prose with no secrets",
    "ghp_short", "eyJ not a jwt",
])
def test_ordinary_text_is_untouched(text):
    assert Redactor({"SERVICE_TOKEN": SECRET})(text) == text


# -- encodings of known values ------------------------------------------------------------------
def _forms(value: str) -> dict[str, str]:
    raw = f"SERVICE_TOKEN={value}\nNEXT=1\n".encode()
    out = {}
    for pad in range(3):  # the value at each base64 alignment
        data = b"x" * pad + raw
        out[f"b64_{pad}"] = base64.b64encode(data).decode()
        out[f"b64_nopad_{pad}"] = base64.b64encode(data).decode().rstrip("=")
        out[f"urlsafe_{pad}"] = base64.urlsafe_b64encode(data).decode()
    out["hex_spaced"] = raw.hex(" ")
    out["hex_escaped"] = "".join(f"\\x{b:02x}" for b in raw)
    out["hex_0x"] = ", ".join(f"0x{b:02x}" for b in raw)
    out["hex"] = raw.hex()
    out["HEX"] = raw.hex().upper()
    out["reversed"] = raw.decode()[::-1]
    out["url"] = quote(raw.decode(), safe="")
    out["rot13"] = codecs.encode(raw.decode(), "rot13")
    out["json"] = json.dumps(raw.decode())
    return out


@pytest.mark.parametrize("form", sorted(_forms(PASSWORD)))
def test_known_value_encodings_are_redacted(form):
    text = _forms(PASSWORD)[form]
    out = redactor()(text)
    assert REDACTED in out
    assert PASSWORD not in out and _forms(PASSWORD)[form] != out


@pytest.mark.parametrize("tool", [["base64"], ["base64", "-w", "20"], ["xxd", "-p"], ["xxd"],
                                  ["xxd", "-g1"], ["xxd", "-i"], ["hexdump", "-C"], ["od", "-A", "x", "-t", "x1z"],
                                  ["od", "-An", "-tx1"], ["od", "-t", "x1"]])
def test_real_encoder_output_is_redacted(tmp_path, tool):
    f = tmp_path / ".env"
    f.write_text(f"OTHER=harmless\nSERVICE_TOKEN={SECRET}\nDB_PASSWORD={PASSWORD}\n")
    try:
        out = subprocess.run([*tool, str(f)], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        pytest.skip(f"{tool[0]} not installed")
    red = redactor()(out)
    decoded_hint = SECRET[:12]
    assert REDACTED in red and decoded_hint not in red
    assert SECRET.encode().hex()[:24] not in red.replace(" ", "").replace("\n", "")


# -- streams ------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 64, 300])
def test_stream_split_secret_is_redacted_whole(size):
    text = "start " + "x" * 500 + f" token={SECRET} and {OPENAI} then " + "y" * 700 + " end"
    s = StreamRedactor(redactor())
    out = "".join(s.feed(text[i:i + size]) for i in range(0, len(text), size)) + s.flush()
    assert out == redactor()(text)
    assert SECRET not in out and OPENAI not in out and out.endswith(" end")


def test_stream_passes_ordinary_text_through_unchanged_and_releases_it():
    s = StreamRedactor(redactor())
    text = "line of ordinary output\n" * 200
    shown = s.feed(text)
    assert shown and text.startswith(shown)  # most of it is released before the end
    assert shown + s.flush() == text


def test_stream_pem_and_wrapped_base64_are_held_until_whole():
    r = redactor()
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEowIBAAKCAQEA7Vx9\n" * 60 + "-----END RSA PRIVATE KEY-----\n"
    b64 = base64.encodebytes(("q" * 300 + PASSWORD + "z" * 300).encode()).decode()
    s = StreamRedactor(r)
    text = "before\n" + pem + "mid\n" + b64 + "after\n"
    out = "".join(s.feed(text[i:i + 50]) for i in range(0, len(text), 50)) + s.flush()
    assert "MIIEow" not in out and out.startswith("before\n") and out.endswith("after\n")
    assert base64.encodebytes(PASSWORD.encode()).decode()[:8] not in out.replace("\n", "")
    assert REDACTED in out


def test_redact_obj_walks_events_dicts_and_lists():
    r = redactor()
    e = r.obj(ev.ToolCallFinished("t1", "c1", "run_command", f"out {SECRET}", False, 1.0,
                                  {"argv": ["echo", SECRET], "n": 3}))
    assert SECRET not in json.dumps(ev.to_dict(e)) and e.metadata["n"] == 3
    assert r.obj({"a": (SECRET, 1)}) == {"a": (REDACTED, 1)}


def test_journal_line_stays_valid_json_when_a_secret_has_quotes(tmp_path):
    from realcost_agent.agent.journal import Journal, load

    tricky = 'pa"ss\\word-9876'
    r = Redactor({"DB_PASSWORD": tricky})
    j = Journal(tmp_path / "s.jsonl", r)
    j.message({"role": "tool", "content": f"value: {tricky}"})
    j.close()
    text = (tmp_path / "s.jsonl").read_text()
    assert "pa\\\"ss" not in text and load(tmp_path / "s.jsonl").messages[0]["content"] == f"value: {REDACTED}"
