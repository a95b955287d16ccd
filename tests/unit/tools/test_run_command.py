import asyncio
import os
import time
from pathlib import Path

import pytest

from realcost_agent.tools.base import ToolContext
from realcost_agent.tools.run_command import RunCommand


async def run(ctx, command, **kw):
    return await RunCommand().run(RunCommand.Params(command=command, **kw), ctx)


def pid_gone(pid: int) -> bool:
    """Gone or a zombie: in containers PID 1 may never reap orphans, but a zombie is dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def read_pid(path: Path) -> int:
    for _ in range(100):
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError("pid file never written")


async def test_output_and_exit_code(ctx):
    r = await run(ctx, "echo hello; echo oops >&2")
    assert not r.is_error
    assert r.output == "hello\noops\n[exit code 0]"
    assert r.metadata["exit_code"] == 0


async def test_nonzero_exit_is_not_an_error(ctx):
    r = await run(ctx, "echo failing; exit 3")
    assert not r.is_error
    assert r.metadata["exit_code"] == 3
    assert r.output.endswith("[exit code 3]")


async def test_runs_in_root_and_cwd_subdir(root, ctx):
    (root / "sub").mkdir()
    r = await run(ctx, "pwd")
    assert r.output.splitlines()[0] == os.path.realpath(root)
    r = await run(ctx, "pwd", cwd="sub")
    assert r.output.splitlines()[0] == os.path.realpath(root / "sub")
    assert (await run(ctx, "pwd", cwd="..")).is_error
    assert (await run(ctx, "pwd", cwd="missing")).is_error


async def test_stdin_is_closed(ctx):
    start = time.monotonic()
    r = await run(ctx, "cat; echo done", timeout=10)
    assert r.output == "done\n[exit code 0]"  # with stdin open, `cat` would wait into the timeout


async def test_env_is_passed(root):
    ctx = ToolContext(root=root, env={"PATH": os.environ["PATH"], "ONLY_ME": "yes"})
    r = await run(ctx, 'echo "$ONLY_ME:${HOME:-unset}"')
    assert r.output.splitlines()[0] == "yes:unset"


async def test_timeout_kills_background_children(root, ctx):
    pidfile = root / "child.pid"
    start = time.monotonic()
    r = await run(ctx, f"sleep 100 & echo $! > {pidfile}; sleep 100", timeout=1)
    elapsed = time.monotonic() - start
    child = read_pid(pidfile)
    assert r.is_error
    assert "timed out after 1s" in r.output
    assert elapsed < 50  # not the 100 s sleep: a ceiling no loaded machine reaches
    assert pid_gone(child)


async def test_timeout_capped_by_context(root):
    ctx = ToolContext(root=root, command_timeout=1)
    start = time.monotonic()
    r = await run(ctx, "sleep 30", timeout=50)
    assert "timed out after 1s" in r.output  # the context's 1 s, not the call's 50 s


async def test_sigterm_ignoring_processes_are_killed(root, ctx):
    pidfile, childfile = root / "p.pid", root / "child.pid"
    start = time.monotonic()
    # Ignored signals are inherited, so the background sleep ignores SIGTERM as well.
    script = f'trap "" TERM; echo $$ > {pidfile}; sleep 100 & echo $! > {childfile}; wait'
    r = await run(ctx, f"bash -c '{script}'; echo unreachable", timeout=1)
    assert "timed out" in r.output
    assert time.monotonic() - start < 50  # not the 100 s sleep
    assert pid_gone(read_pid(pidfile))
    assert pid_gone(read_pid(childfile))


async def test_cancel_interrupts(root):
    cancel = asyncio.Event()
    ctx = ToolContext(root=root, cancel=cancel)
    pidfile = root / "c.pid"

    async def fire():
        await asyncio.sleep(0.5)
        cancel.set()

    task = asyncio.create_task(fire())
    start = time.monotonic()
    r = await run(ctx, f"sleep 100 & echo $! > {pidfile}; echo started; sleep 100")
    await task
    assert time.monotonic() - start < 50  # not the 100 s sleep
    assert "interrupted" in r.output and "started" in r.output
    assert r.metadata["interrupted"] is True
    assert pid_gone(read_pid(pidfile))


async def test_already_cancelled_does_not_start(root):
    cancel = asyncio.Event()
    cancel.set()
    r = await run(ToolContext(root=root, cancel=cancel), "touch started")
    assert "interrupted" in r.output
    assert not (root / "started").exists()


async def test_background_child_holding_output_is_killed(root, ctx):
    pidfile = root / "bg.pid"
    start = time.monotonic()
    r = await run(ctx, f"sleep 60 & echo $! > {pidfile}; echo parent done", timeout=30)
    # Exit code 0, not the 30 s timeout: the call did not wait for the child holding its output.
    assert "parent done" in r.output and "[exit code 0]" in r.output
    assert "background" in r.output
    assert pid_gone(read_pid(pidfile))


async def test_background_child_with_redirected_output_is_left_alone(root, ctx):
    pidfile = root / "daemon.pid"
    r = await run(ctx, f"sleep 60 >/dev/null 2>&1 & echo $! > {pidfile}", timeout=30)
    pid = read_pid(pidfile)
    try:
        assert "[exit code 0]" in r.output and "background" not in r.output
        assert not pid_gone(pid)
    finally:
        os.kill(pid, 9)


async def test_output_cap_keeps_head_and_tail_and_saves_full(root, tmp_path):
    ctx = ToolContext(root=root, output_dir=tmp_path / "out", max_output_chars=2000)
    r = await run(ctx, "seq 1 20000")
    lines = r.output.splitlines()
    assert lines[0] == "1"
    assert lines[-2] == "20000" and lines[-1] == "[exit code 0]"
    marker = next(ln for ln in lines if ln.startswith("[..."))
    assert "lines" in marker and "omitted" in marker
    head_n = lines.index(marker)
    tail_n = len(lines) - head_n - 2
    omitted = int(marker.split()[1])
    assert head_n + tail_n + omitted == 20000
    assert len(r.output) < 2300
    full = Path(r.metadata["full_output_path"])
    assert str(full) in marker or full.name in marker
    assert full.read_text() == "".join(f"{i}\n" for i in range(1, 20001))
    assert r.metadata["truncated"] is True


async def test_small_output_saves_no_file(root, tmp_path):
    ctx = ToolContext(root=root, output_dir=tmp_path / "out")
    r = await run(ctx, "echo small")
    assert "full_output_path" not in r.metadata
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


async def test_on_output_streams_chunks(root):
    chunks: list[str] = []
    ctx = ToolContext(root=root, on_output=chunks.append)
    r = await run(ctx, "echo one; sleep 0.2; echo two")
    assert "".join(chunks) == "one\ntwo\n"
    assert len(chunks) >= 2
    assert r.output.startswith("one\ntwo")


async def test_async_on_output_and_broken_callback(root):
    seen = []

    async def async_cb(chunk):
        seen.append(chunk)

    r = await run(ToolContext(root=root, on_output=async_cb), "echo x")
    assert seen == ["x\n"]

    def broken(chunk):
        raise RuntimeError("viewer crashed")

    r = await run(ToolContext(root=root, on_output=broken), "echo still runs")
    assert "still runs" in r.output and "viewer crashed" in r.metadata["on_output_error"]


async def test_no_output_and_signal_exit(ctx):
    r = await run(ctx, "true")
    assert r.output == "(no output)\n[exit code 0]"
    r = await run(ctx, "kill -9 $$")
    assert "SIGKILL" in r.output and r.metadata["exit_code"] == -9


async def test_ansi_codes_stripped_for_model(ctx):
    r = await run(ctx, r"printf '\033[31mred\033[0m\n'")
    assert r.output.startswith("red\n")


@pytest.mark.parametrize("data", ["héllo wörld ✓"])
async def test_utf8_split_across_chunks(ctx, data):
    r = await run(ctx, f"printf '{data}' | head -c 2; sleep 0.1; printf '{data}' | tail -c +3")
    assert r.output.startswith(data)
