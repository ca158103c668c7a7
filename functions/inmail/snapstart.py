"""Lambda SnapStart for the API (template.yaml `ApiSnapStart=PublishedVersions`).

Lambda runs the init phase once, when a version is published, and snapshots it; a cold
start then resumes from the snapshot instead of importing. Through the runtime's hooks
(`snapshot_restore_py`, part of Lambda's Python runtimes):

- before the snapshot, `prime`: one request of each kind (a query and a mutation that
  commits a transaction) through the whole path (HTTP view, GraphQL validation and
  execution, the services, PynamoDB, botocore's serialization, signing and parsing),
  every DynamoDB call answered in process: nothing reaches a table. What only a first
  request would load or build is then in the snapshot;
- after each restore, `after_restore`: the module random generator re-seeded from the OS
  (botocore's retry jitter uses it: restored copies must not back off in lockstep), and
  a new botocore session and client (the loaded service models kept), so that no
  credentials and no pooled connection of the snapshot's moment are used. Nothing else
  from init depends on the moment: ids are uuid4 (from os.urandom), backoff jitter comes
  from random.SystemRandom, and the clock is read on each use.

Anywhere else (tests, `inmail serve`) the hooks are only registered, never run by a runtime.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from .api.http import GraphQLHttp, HttpRequest
from .domain.model import Candidate, Contract, Seat
from .services.deps import Deps
from .store.dynamo import DynamoStore

try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # not Lambda's runtime and not installed: no snapshot is taken here

    def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func

    def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func


log = logging.getLogger(__name__)

# The prime's own entities, answered in process; no table holds them.
PRIME_CONTRACT = Contract("snapstart-prime", "SnapStart prime", monthly_credits=1, max_daily_limit=1)
PRIME_SEAT = Seat("snapstart-prime", PRIME_CONTRACT.contract_id, daily_limit=1)
PRIME_CANDIDATE = Candidate("snapstart-prime", "SnapStart prime")
PRIME_CLAIMS = {"sub": PRIME_SEAT.recruiter_id, "roles": "[RECRUITER]", "contract_id": PRIME_CONTRACT.contract_id}
PRIME_OPERATIONS: tuple[dict[str, Any], ...] = (
    {"query": "query { viewer { id roles seat { recruiterId dailyLimit sentToday } } }"},
    {
        "query": "mutation($input: SendInMailInput!) { sendInMail(input: $input) { "
        "thread { id status creditsCharged followUp { status scheduledFor } } userErrors { code message } } }",
        "variables": {"input": {"candidateId": PRIME_CANDIDATE.candidate_id, "subject": "Prime", "body": "Prime"}},
    },
)


def prime(api: GraphQLHttp, store: DynamoStore) -> Counter[str]:
    """Before the snapshot: each prime operation as a request, DynamoDB answered in process.
    Returns the DynamoDB operations answered. A request that did not do its work (say, no
    credentials to sign with) is logged, not raised: the snapshot is still good, only
    less primed."""
    with store.answered_in_process(PRIME_CONTRACT, PRIME_SEAT, PRIME_CANDIDATE) as answered:
        for operation in PRIME_OPERATIONS:
            response = api.handle(
                HttpRequest(
                    method="POST",
                    path="/graphql",
                    headers={"content-type": "application/json"},
                    body=json.dumps(operation).encode(),
                    authorizer_claims=PRIME_CLAIMS,
                    request_id="snapstart-prime",
                )
            )
            body = json.loads(response.body)
            payloads = (body.get("data") or {}).values()
            if response.status != 200 or body.get("errors") or any(p and p.get("userErrors") for p in payloads):
                log.warning("SnapStart prime: %s answered %s %s", operation["query"][:40], response.status, body)
    log.info("SnapStart prime done", extra={"dynamodb_calls": dict(answered)})
    return answered


def after_restore(store: DynamoStore) -> None:
    random.seed()  # from os.urandom: each restored environment its own sequence
    store.reconnect()


def register(api: GraphQLHttp, deps: Deps) -> None:
    """The hooks of the API's process: `api` primed, `deps.store` reconnected."""
    store = deps.store
    if not isinstance(store, DynamoStore):
        raise TypeError(f"SnapStart hooks need the DynamoDB store, not {type(store).__name__}")
    register_before_snapshot(prime, api, store)
    register_after_restore(after_restore, store)
