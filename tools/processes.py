"""Whether a process of this host still runs (sockets and metrics files
name the process that made them)."""

import os

_HAS_PROC = os.path.exists("/proc/self/stat")


def process_alive(pid):
    """False when ``pid`` is gone, or dead and not reaped yet (a killed
    worker whose master has not waited for it)."""
    if _HAS_PROC:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        except (OSError, IndexError):
            return True
        return state not in (b"Z", b"X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
