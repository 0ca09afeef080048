"Peak memory of the running process, shared by the benchmarks."
import resource
from pathlib import Path


def peak_rss_mb() -> float:
    "Peak RSS of this process in MB: /proc VmHWM (reset by exec, unlike ru_maxrss which keeps the parent's)."
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith('VmHWM:'): return int(line.split()[1]) / 1024
    except OSError: pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
