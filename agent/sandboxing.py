"""How this session runs commands: under bubblewrap (agent/safety/sandbox.py), or unsandboxed
when `sandbox = auto` finds it unusable (then `warning` says so, once, at start).

    sandbox.sandboxed                 commands and checks run under bubblewrap
    sandbox.command_wrapper()         (argv, cwd) -> argv for commands and checks, or None
    sandbox.tool_wrap(env, git_outside)  the wrapper and env for one tool call
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from realcost_agent.agent.config import ConfigError, Settings
from realcost_agent.tools.childenv import scrubbed_env

Wrap = Callable[[list[str], Any], list[str]]


class Sandbox:
    def __init__(self, settings: Settings, root: Path, env: Mapping[str, str]) -> None:
        self._settings = settings
        self._root = root
        self._env = env
        self.warning = self._check()

    def _check(self) -> str | None:
        """None when commands run as configured; a warning when `auto` falls back to unsandboxed.
        ConfigError when `sandbox = on` cannot be honoured."""
        if self._settings.sandbox == "off":
            return None
        from realcost_agent.agent.safety.sandbox import fix_hint, unavailable_reason

        reason = unavailable_reason()
        if reason is None:
            return None
        if self._settings.sandbox == "on":
            raise ConfigError(f"sandbox = on, but bubblewrap cannot run here: {reason}. "
                              f"Fix: {fix_hint(reason)}")
        return (f"commands run UNSANDBOXED: {reason}. Fix: {fix_hint(reason)} "
                "(`agent doctor` checks it)")

    @property
    def sandboxed(self) -> bool:
        """Commands and checks run under bubblewrap."""
        return self._settings.sandbox != "off" and not self.warning

    def wrap_argv(self, argv: list[str], cwd: Any) -> list[str]:
        from realcost_agent.agent.config import user_config_path
        from realcost_agent.tools.paths import data_dir
        from realcost_agent.agent.safety.sandbox import host_hidden, protected_mounts, wrap_command

        s = self._settings
        return wrap_command(
            argv, self._root, cwd=cwd, network=s.sandbox_network,
            readonly=protected_mounts(self._root, s.instruction_files),
            hide=(data_dir(self._env), user_config_path(self._env).parent, *host_hidden(self._env)),
            env={k: v for k, v in scrubbed_env(self._env).items()
                 if k not in ("SSH_AUTH_SOCK", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS")})

    def command_wrapper(self) -> Wrap | None:
        """(argv, cwd) -> argv for commands and checks: the sandbox, or None when unsandboxed."""
        return self.wrap_argv if self.sandboxed else None

    def git_outside_argv(self, argv: list[str], cwd: Any) -> list[str]:
        """An approved git command that writes .git: outside the sandbox, every word re-quoted,
        with the hardened git config (tools/gitsafe.py). Anything else stays sandboxed."""
        from realcost_agent.tools.gitsafe import local_config_keys, shell_line
        from realcost_agent.agent.safety.gitcmd import git_write_plan

        plan = git_write_plan(argv[-1]) if len(argv) == 3 and argv[:2] == ["/bin/bash", "-c"] else None
        where = cwd or self._root
        if plan is None or "core.worktree" in local_config_keys(where, self._env):
            return self.wrap_argv(argv, cwd)
        return ["/bin/bash", "-c", shell_line(where, plan.argvs, self._env)]

    def tool_wrap(self, env: dict[str, str], *, git_outside: bool = False
                  ) -> tuple[Wrap | None, dict[str, str]]:
        """The argv wrapper and environment for one tool call (an approved git write runs
        outside the sandbox with git's hardened environment)."""
        wrap = self.command_wrapper()
        if git_outside and wrap is not None:
            from realcost_agent.tools.gitsafe import git_env

            return self.git_outside_argv, git_env(env)
        return wrap, env
