"""`make run`: migrate, load the demo, then web, Celery worker and beat until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from partnerhub.devservices import BASE_DIR, EMBEDDED_VAR
from partnerhub.devservices import stop as stop_services

DEMO_LOGINS = [
    ("admin@demo.test", "tenant admin, Demo Telecom"),
    ("manager@demo.test", "partner manager, Demo Telecom"),
    ("finance@demo.test", "finance, Demo Telecom"),
    ("viewer@demo.test", "read-only, Demo Telecom"),
    ("manager@second.test", "partner manager, Second Telecom"),
    ("partner@demo.test", "partner portal user of an active partner"),
    ("applicant@demo.test", "partner portal user of an applicant in due diligence"),
]


def main() -> int:
    env = dict(os.environ)
    python = sys.executable
    manage = [python, str(BASE_DIR / "manage.py")]
    for step in (["migrate", "--database=owner", "--no-input"], ["load_demo"]):
        if subprocess.call([*manage, *step], env=env) != 0:
            print(f"ERROR: manage.py {' '.join(step)} failed", file=sys.stderr)
            return 1
    celery = [python, "-m", "celery", "-A", "partnerhub"]
    processes = {
        "web": subprocess.Popen([*manage, "runserver", "127.0.0.1:8000", "--noreload"], env=env),
        "worker": subprocess.Popen([*celery, "worker", "-l", "info", "-c", "2"], env=env),
        "beat": subprocess.Popen([*celery, "beat", "-l", "info"], env=env),
    }
    print("\nPartnerHub is running at http://127.0.0.1:8000/  (Ctrl-C stops everything)")
    print("Demo logins, password 'partnerhub-demo':")
    for email, what in DEMO_LOGINS:
        print(f"  {email:<22} {what}")
    print("API docs: http://127.0.0.1:8000/api/docs/   health: http://127.0.0.1:8000/healthz\n")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping.", file=sys.stderr)
                stopping, exit_code = True, 1
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    if not os.environ.get("PARTNERHUB_KEEP_SERVICES"):
        # Only the embedded servers devservices started; never one given by DATABASE_URL/REDIS_URL.
        stop_services(set(filter(None, os.environ.get(EMBEDDED_VAR, "").split(","))))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
