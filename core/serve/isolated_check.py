"""The child a saved model is first loaded in: check one bundle, say so in one JSON line, exit.

Run as ``python -m core.serve.isolated_check`` by core.serve.isolation.check_in_child, so a crafted
file that crashes or hangs scikit-learn takes down this short-lived process, never the app.
"""

from __future__ import annotations

import json
import os
import sys

from core.errors import RecoveryError
from core.serve.isolation import limit_memory, read_request


def main() -> int:
    """The child: check one bundle and say so in one JSON line (exit 0), or why not (exit 2)."""
    limit_memory()
    name, data = read_request()
    # skops lists the types it trusts by importing every sklearn package, which imports dask when it
    # is installed (0.8 s here); no part of a bundle is dask, so the child never loads it
    sys.modules.setdefault("dask", None)
    from core.serve.bundle import check_bytes

    try:
        check_bytes(data, name)
    except RecoveryError as error:
        print(json.dumps({"error": str(error)}))
        return 2
    except MemoryError:
        print(json.dumps({"error": f"{name} needs more memory to load than a model bundle may: it is not loaded."}))
        return 2
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the verdict is out: skip tearing down sklearn and pandas (a few tenths of a second)
