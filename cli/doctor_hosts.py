"""What `agent doctor` knows about gpt-oss servers: the known misconfigurations, recognised by
the server's own error text, each named with its fix; and what the reasoning field says.

Each rule matches what the server really answers (sources in tests/fakehosts.py, which replays
the same texts): vLLM started without tool calling, llama.cpp without `--jinja`, Ollama's native
route instead of `/v1`, and the two history shapes a host refuses (which mean its host profile
is not applied: set `api_host`).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from realcost_agent.providers.hosts import HOSTS, HostProfile, guess_host
from realcost_agent.records import record


@record(frozen=True)
class Diagnosis:
    name: str  # short id, for tests and scripts
    message: str  # what is wrong and the fix, one line


def _base(api_base: str) -> str:
    return api_base.rstrip("/")


def _v1(api_base: str) -> str:
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}/v1"


def ollama_native(api_base: str) -> bool:
    """A base URL on Ollama's native API (`http://host:11434` or `.../api`) instead of `/v1`."""
    parts = urlsplit(api_base)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        return False
    try:
        port = parts.port
    except ValueError:
        port = None
    return path.endswith("/api") or (port == 11434 and path in ("", "/"))


def diagnose(status: int | None, text: str, api_base: str, model: str = "") -> Diagnosis | None:
    """The known misconfiguration behind a server's error, with its fix; None when unknown."""
    low = text.lower()
    served = model or "openai/gpt-oss-20b"
    if "enable-auto-tool-choice" in low or "tool-call-parser" in low:
        return Diagnosis("vllm_tool_choice", (
            "vLLM was started without tool calling: restart it with "
            f"`vllm serve {served} --enable-auto-tool-choice --tool-call-parser openai` "
            "(gpt-oss needs the `openai` tool-call parser)"))
    if "--jinja" in low or ("jinja" in low and "tools" in low):
        return Diagnosis("llamacpp_jinja", (
            "llama.cpp was started without --jinja, so it cannot use gpt-oss's chat template for "
            "tools: restart it as `llama-server --jinja -hf ggml-org/gpt-oss-20b-GGUF` "
            "(add `--reasoning-format auto` to get reasoning in its own field)"))
    if status == 404 and ollama_native(api_base):
        return Diagnosis("ollama_native_route", (
            f"{_base(api_base)} is Ollama's native API, not its OpenAI-compatible one: use "
            f"--api-base {_v1(api_base)}"))
    if "invalid message content type" in low and "nil" in low:
        return Diagnosis("null_content", (
            "the server refuses `content: null` (Ollama): set `api_host = \"ollama\"` in "
            ".agent/config.toml so the agent sends \"\" instead"))
    if re.search(r"cannot pass both content and thinking", low):
        return Diagnosis("content_and_thinking", (
            "the server's gpt-oss template refuses content and reasoning together on a tool call "
            "(llama.cpp): set `api_host = \"llamacpp\"` in .agent/config.toml"))
    return None


def reasoning_note(host: HostProfile, streamed: str | None, echoed: str | None,
                   saw_reasoning: bool) -> tuple[bool | None, str]:
    """(ok, line) about the reasoning field: which one the server streams and which one the
    agent will send back; ok False when the server streams none where gpt-oss should."""
    if host.reasoning_out is None:
        return None, f"{host.title} returns no reasoning text (nothing to echo)"
    if not saw_reasoning or streamed is None:
        return None, ("no reasoning text came back: the server may put gpt-oss's analysis "
                      "nowhere (vLLM: add `--reasoning-parser openai_gptoss`; llama.cpp: "
                      "`--reasoning-format auto`) or the model answered without thinking")
    if echoed is None:
        return True, f"reasoning streams in `{streamed}`; it is not sent back ({host.title})"
    return True, f"reasoning streams in `{streamed}` and is sent back in `{echoed}` ({host.title})"


def host_line(host: HostProfile, api_base: str, explicit: str | None) -> str:
    """Which host profile the agent applies, and how it was chosen."""
    how = ("from api_host" if explicit else
           "guessed from the URL" if guess_host(api_base) is host and host.name != "generic"
           else "from the backend" if host.name != "generic"
           else "unknown server: reading every known shape; set api_host if you know it")
    names = ", ".join(h for h in HOSTS if h != "generic")
    suffix = f" (api_host: {names})" if host.name == "generic" else ""
    return f"host profile: {host.title} ({how}){suffix}"
