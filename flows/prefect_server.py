"""Prefect's temporary server, tied to the process that needed it.

Without a Prefect API (no PREFECT_API_URL), a flow run makes Prefect start a temporary API server
as a subprocess, stopped by an exit handler. A refresh killed with SIGKILL runs no exit handler:
the server would live on, holding its port and Prefect's database. Here it is still Prefect's
own `SubprocessASGIServer` (prefect==3.8.8: one per process, started on first use, stopped at
exit) but its process watches the refresh that started it and stops within a second of its end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

PARENT_VARIABLE = "BAROMETER_PREFECT_SERVER_PARENT"
WATCH_SECONDS = 0.5  # how often the server looks for its parent
SHUTDOWN_SECONDS = 3.0  # then it is given this long to stop cleanly before it exits regardless


def tie_temporary_server() -> None:
    """Before a flow runs in this process: should Prefect need its temporary server, it starts one
    that watches this process. Nothing starts here, nothing changes when a Prefect API is
    configured, and a server Prefect already started is left as it is."""
    from barometer.config.run import prefect_api_configured

    if prefect_api_configured():
        return  # checked first: importing Prefect's server costs seconds
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the port-less instance is the one every Prefect client asks for
    if not server.running:
        # Replaces a method on purpose; Prefect calls it once it has chosen the port (an int by then).
        server._run_uvicorn_command = lambda: start_watching_server(server.port)  # type: ignore[method-assign,arg-type]


def start_watching_server(port: int) -> subprocess.Popen:
    """Prefect's command and environment for its temporary server (SubprocessASGIServer), the
    app made by `create_app` below."""
    from prefect.settings import get_current_settings

    command = [sys.executable, "-m", "uvicorn", "--factory", f"{__name__}:create_app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "error", "--lifespan", "on"]
    environment = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        **get_current_settings().to_environment_variables(exclude_unset=True),
        PARENT_VARIABLE: str(os.getpid()),
    }
    return subprocess.Popen(command, env=environment)


def create_app():
    """uvicorn's app factory in the server process: Prefect's app, and a watch on the parent."""
    from prefect.server.api.server import create_app as prefect_app

    threading.Thread(target=stop_when_orphaned, args=(int(os.environ[PARENT_VARIABLE]),), daemon=True).start()
    return prefect_app()


def stop_when_orphaned(parent: int) -> None:
    """Once the parent is gone (this process handed to another), stop as uvicorn stops on SIGTERM;
    should that hang, exit regardless."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(SHUTDOWN_SECONDS)
    os._exit(1)
