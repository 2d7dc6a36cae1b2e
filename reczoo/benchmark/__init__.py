"""The benchmark harness: suites of runs into a folder (`run_suite`), their
reports and plots, throughput, devices, published references and peer
libraries side by side. It trains through `reczoo.training`."""

from reczoo.benchmark.suite import run_suite
from reczoo.benchmark.suites import Entry, entries, list_suites

__all__ = ["Entry", "entries", "list_suites", "run_suite"]
