"""What reczoo shows in the user's terminal: plain-text tables, and
TensorFlow's native log lines held back.

TensorFlow's C++ side writes straight to file descriptor 2 while it loads
(oneDNN, CUDA stubs, CPU features) and when it first looks for GPUs (a failed
`cuInit` on a machine without one), past Python's `sys.stderr` and past
`TF_CPP_MIN_LOG_LEVEL`. These helpers hold descriptor 2 in a temporary file
for the duration and replay it if the step fails. `RECZOO_TF_LOGS=1` shows
everything.
"""

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def native_stderr_held():
    """Descriptor 2 goes to a temporary file inside the block; replayed on error."""
    if os.environ.get("RECZOO_TF_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow():
    """Imports TensorFlow and lists its devices with their log lines held."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_held():
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf


def table(rows, headers):
    """`rows` under `headers` in left-aligned columns, with a rule below the headers."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)
