"""Schemathesis hooks for the store-service fuzz run (store-service/fuzz/run.sh).

A custom check: a request the service rejects (4xx) changes nothing. Before
every call the store's state is read (every product with its stock, and the
injected faults); after a 4xx answer it is read again and must be equal.
Workers: 1 (the run is sequential, so the state before is the last call's).
"""

import json
import os
import urllib.request

import schemathesis

BASE = os.environ["STOREOPS_FUZZ_URL"]
TOKEN = os.environ["STOREOPS_FUZZ_TOKEN"]
_before = {}


def _state():
    def get(path, auth=False):
        request = urllib.request.Request(BASE + path)
        if auth:
            request.add_header("Authorization", "Bearer " + TOKEN)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    return {"products": get("/products"), "faults": get("/admin/faults", auth=True)}


@schemathesis.hook
def before_call(context, case, kwargs):
    _before["state"] = _state()


@schemathesis.check
def rejected_requests_change_nothing(ctx, response, case):
    """A 4xx answer leaves every product, stock and fault as it was."""
    if not 400 <= response.status_code < 500:
        return
    before, after = _before.get("state"), _state()
    if before != after:
        raise AssertionError(
            f"{case.method} {case.formatted_path} was rejected with {response.status_code} "
            f"but the state changed: before {before}, after {after}"
        )
