"""Allow/deny rules from config, and the one decision function that combines them with
destructive-command recognition and the approval mode.

    [[rules]]
    tool = "run_command"          # fnmatch on the tool name, or a list of names; default "*"
    pattern = "pytest*"           # fnmatch (case-sensitive) on the command, or on the path
    action = "allow"

    [[rules]]
    tool = "run_command"
    pattern = "git push*"
    action = "deny"

What a pattern is matched against:
  run_command      each simple command of the line (`a && b | c` is three), VAR=x prefixes
                   dropped. A deny rule matches if the whole line or any simple command, as
                   written or with wrappers peeled (`sudo timeout 5 git push` -> `git push`),
                   matches. An allow rule needs EVERY simple command, as written, to match some
                   allow rule: `pytest*` must not let `pytest; rm -rf ~` through.
  apply_patch      every path the patch touches (deny: any; allow: all)
  mcp__SRV__TOOL   the tool's full name: {tool = "mcp__time__*", pattern = "*"} allows a
                   server's tools (an MCP tool is otherwise asked in auto-edit, like a command)
  other tools      the `path` argument, project-relative when it lies inside `root`
                   (`*` matches across `/`, so `secrets/*` covers the whole subtree)

Decision order (decide_call): deny rule -> deny. read-only mode and a mutating tool -> deny.
A write to a protected path (agent/safety/protected.py) -> allowed only by an allow rule that
names it; otherwise "ask" when interactive (in every mode, even full-auto or approved for the
session) and "deny" when headless. A git command that writes .git (sandbox on; see
agent/safety/gitcmd.py) -> the same, and it then runs outside the sandbox, hardened.
A destructive command -> allowed only by an allow rule matching it; otherwise "ask" when
interactive (in every mode, even full-auto or approved for the session) and "deny" when
headless. An allow rule -> allow. Otherwise agent.policy.decide (the approval mode).
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
from pathlib import Path
from typing import Any, Iterable, Mapping

from realcost_agent.records import record
from realcost_agent.tools.patch_parser import patch_paths

from realcost_agent.agent.config import ConfigError
from realcost_agent.agent.policy import COMMAND_TOOLS, MCP_PREFIX, Decision, decide
from realcost_agent.agent.safety.commands import Verdict, classify, simple_commands
from realcost_agent.agent.safety.gitcmd import GitPlan, git_write_plan
from realcost_agent.agent.safety.protected import ProtectedPaths, rule_names, touched_paths
from realcost_agent.agent.safety.shell import ShellSyntaxError

ACTIONS = ("allow", "deny")


@record(frozen=True)
class Rule:
    tool: tuple[str, ...]
    pattern: str
    action: str
    origin: str = ""

    def describe(self) -> str:
        where = f" from {self.origin}" if self.origin else ""
        return f"{self.action} rule {'|'.join(self.tool)} {self.pattern!r}{where}"

    def applies_to(self, tool_name: str) -> bool:
        return any(fnmatch.fnmatchcase(tool_name, t) for t in self.tool)


@record(frozen=True)
class RuleMatch:
    action: str
    rule: Rule


@record(frozen=True)
class CallDecision(Decision):
    """A policy.Decision with what led to it, for front-ends (a destructive ask looks different)."""

    destructive: bool = False
    rule: Rule | None = None
    # Protected paths the call writes (each "protected path X (why)"): asked even in full-auto.
    protected: tuple[str, ...] = ()
    # A git command that must run outside the sandbox (it writes .git): the approved ones do.
    git_outside: bool = False


def parse_rules(raw: Any, origin: str = "config") -> list[Rule]:
    """Validate the `rules` setting (a TOML array of tables); ConfigError names the bad entry."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{origin}: `rules` must be an array of tables ([[rules]])")
    rules = []
    for n, entry in enumerate(raw, 1):
        where = f"{origin}: rules entry {n}"
        if isinstance(entry, Rule):
            rules.append(entry)
            continue
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a table with tool, pattern and action")
        unknown = set(entry) - {"tool", "pattern", "action"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        action = entry.get("action")
        if action not in ACTIONS:
            raise ConfigError(f"{where}: action must be \"allow\" or \"deny\", not {action!r}")
        pattern = entry.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{where}: pattern must be a non-empty string")
        tool = entry.get("tool", "*")
        tools = [tool] if isinstance(tool, str) else tool
        if not isinstance(tools, list) or not tools or not all(isinstance(t, str) and t for t in tools):
            raise ConfigError(f"{where}: tool must be a tool name or a list of them")
        rules.append(Rule(tuple(tools), pattern, action, origin))
    return rules


def match_rules(rules: Iterable[Rule], tool_name: str, args: Any, *,
                root: Path | None = None) -> RuleMatch | None:
    """The deny rule that matches, else the allow rule(s) that cover the call, else None."""
    rules = [r for r in rules if r.applies_to(tool_name)]
    if not rules:
        return None
    args = _as_mapping(args)
    deny = [r for r in rules if r.action == "deny"]
    allow = [r for r in rules if r.action == "allow"]
    if tool_name in COMMAND_TOOLS:
        command = args.get("command")
        if not isinstance(command, str):
            return None
        try:
            parts = simple_commands(command)
        except ShellSyntaxError:
            parts = None
        deny_subjects = [command.strip()]
        for p in parts or []:
            deny_subjects += [p.text, p.core]
        if hit := _first(deny, deny_subjects):
            return RuleMatch("deny", hit)
        if not parts:  # unparseable or empty: nothing can be shown to be allowed
            return None
        return _all_covered(allow, [p.text for p in parts])
    subjects = [tool_name] if tool_name.startswith(MCP_PREFIX) else _paths(tool_name, args, root)
    if not subjects:
        return None
    if hit := _first(deny, subjects):
        return RuleMatch("deny", hit)
    return _all_covered(allow, subjects)


def evaluate(rules: Iterable[Rule], tool_name: str, args: Any, *,
             root: Path | None = None) -> str | None:
    """"allow", "deny" or None (no rule decides)."""
    m = match_rules(rules, tool_name, args, root=root)
    return m.action if m else None


def _first(rules: list[Rule], subjects: list[str]) -> Rule | None:
    for rule in rules:
        if any(fnmatch.fnmatchcase(s, rule.pattern) for s in subjects):
            return rule
    return None


def _all_covered(allow: list[Rule], subjects: list[str]) -> RuleMatch | None:
    used = None
    for s in subjects:
        rule = next((r for r in allow if fnmatch.fnmatchcase(s, r.pattern)), None)
        if rule is None:
            return None
        used = used or rule
    return RuleMatch("allow", used) if used else None


def _as_mapping(args: Any) -> Mapping[str, Any]:
    if hasattr(args, "model_dump"):
        args = args.model_dump()
    return args if isinstance(args, Mapping) else {}


def _paths(tool_name: str, args: Mapping[str, Any], root: Path | None) -> list[str]:
    if tool_name == "apply_patch":
        raw = patch_paths(args.get("patch"))  # the patch parser's own reading of its headers
    else:
        # list_files and search default to the project root; other tools have no implicit path.
        path = args.get("path", "." if tool_name in ("list_files", "search") else None)
        raw = [path] if isinstance(path, str) else []
    return [_normalize(p, root) for p in raw]


def _normalize(path: str, root: Path | None) -> str:
    if root is not None and os.path.isabs(path):
        rel = os.path.relpath(path, os.path.realpath(root))
        if rel != ".." and not rel.startswith("../"):
            path = rel  # outside the root, the absolute path is the clearer subject
    norm = posixpath.normpath(path.replace(os.sep, "/"))
    return norm[2:] if norm.startswith("./") else norm


def decide_call(mode: str, tool_name: str, mutating: bool, args: Any, rules: Iterable[Rule], *,
                interactive: bool, approved_for_session: bool,
                root: Path | None = None, protected: ProtectedPaths | None = None,
                sandboxed: bool = False) -> CallDecision:
    rules = list(rules)
    m = match_rules(rules, tool_name, args, root=root)
    if m is not None and m.action == "deny":
        return CallDecision("deny", f"forbidden by the {m.rule.describe()}", rule=m.rule)
    if mutating and mode == "read-only":
        return CallDecision("deny", f"approval mode is read-only: {tool_name} may change files")
    if mutating and protected is not None and tool_name not in COMMAND_TOOLS:
        hits = protected.hits(touched_paths(tool_name, args))
        if hits:
            return _protected(hits, tool_name, rules, interactive)
    if sandboxed and tool_name in COMMAND_TOOLS:
        plan = git_write_plan(_as_mapping(args).get("command"))
        if plan is not None:
            verdict = _destructive(tool_name, args)
            return _git_outside(plan, m, interactive, verdict)
    verdict = _destructive(tool_name, args)
    if verdict is not None:
        what = f"destructive command ({verdict.reason}: `{verdict.matched}`)"
        if m is not None:
            return CallDecision("allow", f"{what}, allowed by the {m.rule.describe()}",
                                destructive=True, rule=m.rule)
        if interactive:
            return CallDecision("ask", what, destructive=True)
        return CallDecision(
            "deny",
            f"{what}; headless runs never run destructive commands unless an allow rule in "
            ".agent/config.toml matches them. Find a non-destructive way",
            destructive=True,
        )
    if m is not None:
        return CallDecision("allow", f"allowed by the {m.rule.describe()}", rule=m.rule)
    base = decide(mode, tool_name, mutating, approved_for_session=approved_for_session)
    return CallDecision(base.action, base.reason)


def _protected(hits: list, tool_name: str, rules: list[Rule], interactive: bool) -> CallDecision:
    allow = [r for r in rules if r.action == "allow" and r.applies_to(tool_name)]
    shown = tuple(h.describe() for h in hits)
    named = [next((r for r in allow if rule_names(r.pattern, h)), None) for h in hits]
    if all(named):
        return CallDecision("allow", f"{'; '.join(shown)}, allowed by the {named[0].describe()}",
                            rule=named[0], protected=shown)
    what = "; ".join(shown)
    if interactive:
        return CallDecision("ask", f"{what}: always asked", protected=shown)
    return CallDecision(
        "deny", f"{what}; headless runs never write protected paths unless an allow rule in the "
        "user config names the path. Leave that file alone and finish the task without it",
        protected=shown)


def _git_outside(plan: GitPlan, m: RuleMatch | None, interactive: bool,
                 verdict: Verdict | None) -> CallDecision:
    what = (f"git {plan.describe()} writes .git/, which is read-only in the sandbox: it runs "
            "outside the sandbox (repository hooks, filters and fsmonitor turned off)")
    if verdict is not None:
        what = f"destructive command ({verdict.reason}: `{verdict.matched}`); {what}"
    flags = {"git_outside": True, "destructive": verdict is not None}
    if m is not None and m.action == "allow":
        return CallDecision("allow", f"{what}; allowed by the {m.rule.describe()}", rule=m.rule,
                            **flags)
    if interactive:
        return CallDecision("ask", what, **flags)
    return CallDecision(
        "deny", f"{what}; headless runs do not run it unless an allow rule names it "
        "(e.g. pattern \"git commit*\")", **flags)


def _destructive(tool_name: str, args: Any) -> Verdict | None:
    if tool_name not in COMMAND_TOOLS:
        return None
    command = _as_mapping(args).get("command")
    if not isinstance(command, str):
        return None
    verdict = classify(command)
    return verdict if verdict.destructive else None
