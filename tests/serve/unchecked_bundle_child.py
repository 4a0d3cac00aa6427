"""A child for core.serve.isolation.check_in_child that skips every check (used by the hardening tests).

It loads a bundle's objects with skops, trusting whatever they are, and predicts at once: what the
app did before the checks. A crafted tree then crashes this process, and a name of "hang" makes it
wait forever, so the tests can show that the parent refuses both in one line and lives on.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import skops.io as sio

from core.serve.isolation import read_request


def main() -> int:
    """Load without checks and predict on made-up rows; print the verdict the parent reads."""
    name, data = read_request()
    if name == "hang":
        time.sleep(600)
    archive = zipfile.ZipFile(io.BytesIO(data))
    payload, manifest = archive.read("model.skops"), json.loads(archive.read("manifest.json"))
    objects = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    columns = manifest["model"]["numeric"] + manifest["model"]["categorical"]
    objects["model"].predict_proba(pd.DataFrame({c: np.linspace(0, 1e6, 50) for c in columns}))
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
