"""The inclusion barometer pipeline: the `barometer` command lives in barometer.cli."""

import os
import time

STARTED = time.perf_counter()  # the CLI's stage timings count imports from here

# No internet here or in production runs: keep both libraries from phoning home. Prefect's
# temporary local server can take a while to start on a busy machine: give it time.
# Set before either library is imported; explicit environment settings win.
for _variable, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # The models here are small: one BLAS thread avoids oversubscribing the cores.
    "OPENBLAS_NUM_THREADS": "1",
}.items():
    os.environ.setdefault(_variable, _value)
