"""Runs every example and records what it printed in examples/outputs/.

    python examples/record_outputs.py            # every example
    python examples/record_outputs.py NAME ...   # some of them

Each runs in a new temporary folder (examples write their files where they
run), with TensorFlow's start-up logging silenced; the site shows the
recorded output under each example's code.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script):
    """(exit code, stdout, stderr, seconds) of one example."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True
        )
        return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def main(names):
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)
    chosen = [p for p in scripts if not names or p.stem in names]
    failed = 0
    for script in chosen:
        code, out, err, seconds = run(script)
        if code:
            failed += 1
            print(f"{script.name}: failed ({code})\n{err[-2000:]}")
            continue
        (HERE / "outputs" / f"{script.stem}.txt").write_text(out)
        print(f"{script.name}: {seconds:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
