"""`python -m reczoo.exporting REQUEST.json`: the export of a preset, in the
TensorFlow-backend process `_export_on_tensorflow` starts."""

import json
import sys
from pathlib import Path

from reczoo.terminal import import_tensorflow

import_tensorflow()
from reczoo.exporting import export  # noqa: E402 (after TensorFlow's quiet start)

_request = json.loads(Path(sys.argv[1]).read_text())
try:
    export(**_request)
except Exception as _error:
    print(f"{type(_error).__name__}: {' '.join(str(_error).split())}", file=sys.stderr)
    sys.exit(1)
