"""The package as a user gets it: ``pip install`` into an empty venv, then
that venv's ``bus-mobile diagnose`` against the live server.

pip fetches ``requests`` and ``websocket-client`` (and the build backend)
from the package index: this test needs it reachable.
"""

import os
import subprocess
import venv
from pathlib import Path

from bus_mobile_client.diagnose import CHECKS

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def run(*command, cwd, timeout=600):
    process = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # Nothing of the test run's environment leaks into the new venv.
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    assert process.returncode == 0, f"{command} failed:\n{process.stdout}\n{process.stderr}"
    return process


def test_pip_install_into_an_empty_venv_then_diagnose(live, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python, command = env_dir / "bin" / "python", env_dir / "bin" / "bus-mobile"
    before = run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout
    assert "requests" not in before and "websocket-client" not in before, before

    run(
        python,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        PACKAGE_DIR,
        cwd=tmp_path,
    )
    installed = run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout
    assert "bus-mobile-client==" in installed.replace("_", "-"), installed
    # The venv imports its installed copy, not this tree.
    where = run(
        python, "-c", "import bus_mobile_client; print(bus_mobile_client.__file__)", cwd=tmp_path
    )
    assert str(env_dir) in where.stdout, where.stdout
    assert str(PACKAGE_DIR) not in where.stdout, where.stdout

    user = live.user("installed")
    process = run(
        command,
        "diagnose",
        live.url,
        "--db",
        live.db,
        "--login",
        user["login"],
        "--password",
        user["password"],
        cwd=tmp_path,
        timeout=180,
    )
    lines = process.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["PASS"] * len(CHECKS), process.stdout
    assert lines[-1] == f"OK: {len(CHECKS)} passed, 0 failed, 0 skipped", process.stdout
