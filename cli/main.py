"""The `agent` command. Kept import-light: `--help` and `--version` import nothing heavy.

    agent                      open the TUI in the current directory
    agent -p "task"            run one task headless and exit (same as `agent exec "task"`)
    agent exec "task"          run one task headless and exit
    agent mcp list|add|remove  the MCP servers whose tools the agent gets

Exit codes (headless): see EXIT_CODES below; they are part of the public interface.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

EXIT_OK = 0  # the task finished: the model answered without asking for more tools
EXIT_TASK_FAILED = 1  # the task stopped early: step/cost/time limit, repeated invalid tool calls
EXIT_USAGE = 2  # bad flags, bad config, missing API key
EXIT_PROVIDER = 3  # the provider failed after retries (auth, model not found, outage)
EXIT_INTERRUPTED = 130  # Ctrl+C / SIGINT / SIGTERM

EXIT_CODES = f"""exit codes:
  {EXIT_OK}    done: the model finished the task
  {EXIT_TASK_FAILED}    task stopped: a step/cost/time limit was hit, tool calls kept failing,
       or the task's check (--check) still failed at the end
  {EXIT_USAGE}    usage or configuration error (bad flag, bad config file, missing API key)
  {EXIT_PROVIDER}    the model provider failed after retries (auth, unknown model, outage)
  {EXIT_INTERRUPTED}  interrupted (Ctrl+C)
"""

MODELS_HELP = (
    "auto (the default: route each task to gpt-oss-20b, gpt-oss-120b or o4-mini), a profile, "
    "or any litellm model id (e.g. groq/openai/gpt-oss-20b) to pin it"
)


def _version() -> str:
    from realcost_agent.agent.version import __version__

    return __version__


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", help=MODELS_HELP)
    parser.add_argument(
        "--backend",
        help="where the profile runs: openrouter (default), openai, groq, together, fireworks, "
        "cerebras, huggingface, and on your machine local (Ollama), vllm, llamacpp, lmstudio",
    )
    parser.add_argument(
        "--api-base", help="an OpenAI-compatible base URL (Ollama, vLLM, llama.cpp, LM Studio, ...)"
    )
    parser.add_argument(
        "--api-host", metavar="HOST",
        help="the server behind --api-base when its URL does not tell (vllm, ollama, llamacpp, "
        "lmstudio, openrouter, groq, ...): its wire quirks are then handled",
    )
    parser.add_argument("-C", "--cd", metavar="DIR", help="project directory (default: current)")
    parser.add_argument(
        "--sandbox", choices=["off", "auto", "on"],
        help="run commands under bubblewrap: the project writable, the rest read-only, no network",
    )
    parser.add_argument(
        "--resume", nargs="?", const="last", metavar="ID",
        help="continue a session of this project (the last one, or ID) after a crash or exit",
    )
    parser.add_argument(
        "--approval", choices=["read-only", "suggest", "auto-edit", "full-auto"],
        help="what runs without asking (headless never asks: what would be asked is denied)",
    )
    parser.add_argument(
        "--provider", choices=["auto", "direct", "litellm"],
        help="client for OpenAI-compatible backends: the fast direct one (auto) or litellm",
    )
    parser.add_argument(
        "--trust", action="store_true",
        help="apply this project's own settings that need trust (its api_base/backend, rules, "
        "approval, sandbox, check, instruction_files...) for this run; `agent trust` reviews "
        "and remembers them",
    )
    parser.add_argument(
        "--budget", type=float, metavar="USD",
        help="a task's real-cost limit (API + your debug minutes x hourly rate): before an "
        "escalation or automatic follow-up that would pass it, the task is handed over to you",
    )
    parser.add_argument(
        "--check", metavar="CMD",
        help="a command run when the agent says it is done (e.g. \"npm test\"); its failure "
        "output goes back as a follow-up, and repeated failures escalate the model",
    )


def _headless(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-format", choices=["text", "json", "jsonl"], default="text",
        help="text: progress on stderr, answer on stdout; json: one final object; "
        "jsonl: the versioned event stream, one JSON object per line",
    )
    parser.add_argument("--max-steps", type=int, help="stop a turn after this many model calls")
    parser.add_argument("--max-cost", type=float, help="stop a turn once it has cost this many USD (each automatic follow-up is a new turn)")
    parser.add_argument("--max-time", type=float, help="stop a turn after this many seconds")
    parser.add_argument(
        "--report", action="store_true",
        help="print the session's cost report at the end (text: on stderr; json: under \"report\")",
    )
    parser.add_argument(
        "--debug-minutes", type=float, default=0.0, metavar="N",
        help="your debug/polish minutes on this task, recorded as a correction (headless "
        "measures none)",
    )
    # plan mode (agent/planmode.py)
    parser.add_argument(
        "--plan", action="store_true",
        help="plan first with read-only tools: print the model's checklist plan and exit "
        "(with --yes: approve it and carry it out, tracking the checklist)",
    )
    parser.add_argument("--yes", action="store_true", help="with --plan: approve the plan and go on")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent",
        description="A terminal coding agent. Run it in a project directory to open the TUI, "
        "or use -p / exec to run one task headless.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n  exec PROMPT    run one task headless (same as -p)\n"
        "  undo           restore the files to before the agent's last changes\n"
        "  report         time, tokens and real cost per model (agent report --help)\n"
        "  task           list tasks, correct debug time (agent task --help)\n"
        "  compare        run one task on several models in git worktrees, compare the cost\n"
        "  route TASK     which model `auto` would pick for TASK and why (runs nothing)\n"
        "  run FILE       replay a scripted session (TOML) headless\n"
        "  doctor         check each configured backend and say what to fix\n"
        "  export [ID]    a session's transcript as markdown or JSON, redacted (--list: sessions)\n"
        "  acp            serve the Agent Client Protocol on stdio (Zed, JetBrains, Toad)\n"
        "  trust [PATH]   review and trust a project's own settings (--revoke, --list, --show)\n"
        "  mcp            list, add or remove MCP servers (agent mcp --help)\n\n"
        "A project's .agent/config.toml and AGENTS.md `## Check` settings that could run commands,\n"
        "send your keys elsewhere or widen approval apply only once you trust the project:\n"
        "the TUI asks; headless warns and ignores them unless --trust or `agent trust`.\n\n"
        + EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"agent {_version()}")
    parser.add_argument(
        "-p", "--print", dest="prompt", nargs="?", const="-", metavar="PROMPT",
        help="run PROMPT headless and exit; with no PROMPT (or -), read it from piped stdin",
    )
    add_common_flags(parser)
    _headless(parser)
    return parser


def build_exec_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent exec",
        description="Run one task headless in the project directory and exit.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_CODES,
    )
    parser.add_argument("prompt", nargs="?", default="-", help="the task; - or none reads piped stdin")
    add_common_flags(parser)
    _headless(parser)
    return parser


def _read_prompt(prompt: str | None) -> str:
    if prompt not in (None, "-"):
        return prompt
    if sys.stdin is None or sys.stdin.isatty():
        raise SystemExit(_usage_error("no prompt given (pass one, or pipe it on stdin)"))
    text = sys.stdin.read()
    if not text.strip():
        raise SystemExit(_usage_error("the piped prompt is empty"))
    return text


def _usage_error(message: str) -> int:
    print(f"agent: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def flags_from(args: argparse.Namespace) -> dict[str, object]:
    return {
        "model": args.model,
        "backend": args.backend,
        "api_base": args.api_base,
        "api_host": getattr(args, "api_host", None),
        "approval": args.approval,
        "provider": args.provider,
        "sandbox": args.sandbox,
        "check": getattr(args, "check", None),
        "max_steps": getattr(args, "max_steps", None),
        "max_cost": getattr(args, "max_cost", None),
        "max_time": getattr(args, "max_time", None),
        "budget": getattr(args, "budget", None),
    }


def root_from(args: argparse.Namespace) -> Path:
    root = Path(args.cd).expanduser() if args.cd else Path.cwd()
    if not root.is_dir():
        raise SystemExit(_usage_error(f"project directory {root} does not exist"))
    return root.resolve()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "exec":
        args = build_exec_parser().parse_args(argv[1:])
        return _run_headless(args)
    if argv and argv[0] == "acp":  # the Agent Client Protocol front-end (cli/acp/)
        from realcost_agent.cli.acp.server import cli_main

        return cli_main(argv[1:], add_common_flags, flags_from)
    if argv and argv[0] == "trust":
        from realcost_agent.cli import trust as cli_trust

        return cli_trust.main(argv[1:])
    if argv and argv[0] == "export":
        from realcost_agent.cli import export

        return export.main(argv[1:])
    if argv and argv[0] == "mcp":  # agent mcp list|add|remove (cli/mcp.py)
        from realcost_agent.cli import mcp as mcp_cli

        return mcp_cli.main(argv[1:])
    if argv and argv[0] == "undo":
        from realcost_agent.cli import undo as cli_undo

        return cli_undo.main(argv[1:])
    if argv and argv[0] in ("compare", "run", "doctor"):
        import importlib

        module = {"compare": "realcost_agent.cli.compare", "run": "realcost_agent.cli.run",
                  "doctor": "realcost_agent.cli.doctor"}[argv[0]]
        return int(importlib.import_module(module).main(argv[1:]))
    if argv and argv[0] == "route":
        from realcost_agent.cli import route as cli_route

        return cli_route.main(argv[1:])
    if argv and argv[0] in ("report", "task"):
        from realcost_agent.cli import report as cli_report

        return (cli_report.main_report if argv[0] == "report" else cli_report.main_task)(argv[1:])
    args = build_parser().parse_args(argv)
    if args.prompt is not None:
        return _run_headless(args)
    return _run_tui(args)


def _load(args: argparse.Namespace):  # noqa: ANN202 - returns (settings, root, warnings)
    from realcost_agent.agent.config import ConfigError, load_settings

    root = root_from(args)
    warnings: list[str] = []
    try:
        settings = load_settings(root, flags=flags_from(args), warnings=warnings,
                                 trust=True if getattr(args, "trust", False) else None)
    except ConfigError as exc:
        raise SystemExit(_usage_error(str(exc))) from None
    return settings, root, warnings


def _run_headless(args: argparse.Namespace) -> int:
    prompt = _read_prompt(args.prompt)
    if args.debug_minutes < 0:
        raise SystemExit(_usage_error("--debug-minutes cannot be negative"))
    if args.provider != "litellm":
        # The HTTP client loads in a thread while this one reads config and runs git: the first
        # request finds it imported (providers/warm.py).
        from realcost_agent.providers.warm import start_background_import

        # A plain-http --api-base (a local server) needs no TLS context built ahead; were some
        # other model on https after all, its first request builds one.
        base = getattr(args, "api_base", None) or ""
        start_background_import(tls=not base.lower().startswith("http:"))
    settings, root, warnings = _load(args)
    prompt = _custom_command(prompt, settings, root, warnings)
    resumed = _resume(args, root)
    from realcost_agent.cli.headless import run_headless

    if args.yes and not args.plan:
        raise SystemExit(_usage_error("--yes only goes with --plan"))
    return run_headless(prompt, settings, root, output_format=args.output_format, warnings=warnings,
                        report=args.report, debug_minutes=args.debug_minutes, resume=resumed,
                        plan="approve" if args.yes else "print" if args.plan else None)


def _custom_command(prompt: str, settings: object, root: Path, warnings: list[str]) -> str:
    """`agent -p "/name args"` runs a custom command (agent/commands_md.py)."""
    if not prompt.lstrip().startswith("/"):
        return prompt
    from realcost_agent.agent.commands_md import CommandError, headless_prompt

    try:
        return headless_prompt(prompt, root, settings, warnings=warnings)
    except CommandError as exc:
        raise SystemExit(_usage_error(str(exc))) from None


def _resume(args: argparse.Namespace, root: Path):  # noqa: ANN202 - agent.journal.Resumed | None
    if not args.resume:
        return None
    from realcost_agent.agent.journal import ResumeError, load_session

    try:
        return load_session(root, None if args.resume == "last" else args.resume)
    except ResumeError as exc:
        raise SystemExit(_usage_error(str(exc))) from None


def _run_tui(args: argparse.Namespace) -> int:
    settings, root, warnings = _load(args)
    try:
        from realcost_agent.tui.app import run_tui
    except ImportError:
        print(
            "agent: the TUI is not available in this build; run a task headless with "
            "`agent -p \"your task\"` (see `agent --help`).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    gate = None
    outcome = settings.project_trust
    if outcome is not None and outcome.must_ask:
        from realcost_agent.agent.trust import TrustGate

        gate = TrustGate(outcome.request, root, flags_from(args))
    return run_tui(settings, root, warnings=warnings, resume=_resume(args, root), trust=gate)


def entry() -> None:
    """The `agent` console script: main(), then a quick exit.

    By the time main() returns, everything the agent owns is closed (journal synced, ledger
    closed, child processes reaped, output written). What is left is the interpreter tearing
    down ~500 modules one by one: 100-150 ms on a loaded machine, a tenth of a whole headless
    session (issue 19). So the exit handlers run (atexit: logging, executors, finalizers), the
    standard streams are flushed, and the process exits without the teardown. A crash (any
    exception but SystemExit) still exits the normal way, with its traceback."""
    try:
        code = main()
    except SystemExit as exc:
        code = exc.code
    _exit_now(code)


def _exit_now(code: object) -> None:
    import atexit

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # prints any handler's exception itself, as a normal exit does
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            pass
    os._exit(status & 0xFF if status >= 0 else status % 256)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
