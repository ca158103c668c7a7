"""R90 under DynamoDB faults, on moto through the real DynamoStore: a keyed batch of 25 with
a fault injected at one of its writes (the batch record, a candidate's transaction, the one
the daily maximum refuses, the refusals recorded), of each kind test_faults.py injects at
botocore's level. The client gets a clean answer or none (the process died); the same
batch retried with its key then completes the rest, returns what a batch without the fault
returns, and charges nobody twice. The ledger and counters balance after each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_faults import FaultInjector, Kind, call

from bulk import candidates, outcomes, recruiter, remaining, sent_today
from gql import GraphQLClient
from inmail.config import Settings
from invariants import assert_invariants, threads_of
from sweeping import atomic_moto

# A sweep is never run here, but a killed request never publishes metrics either.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

IDS = [f"k{i:02d}" for i in range(1, 26)]
INPUT = {
    "candidateIds": IDS,
    "subject": "A role for you, {firstName}",
    "body": "Hello {firstName|there}",
    "followUp": {"body": "Still keen?", "delayDays": 3},
    "idempotencyKey": "bulk-1",
}
# Without faults: k03's profile is deleted; 15 go (the daily maximum), the rest are refused.
SENT = [cid for cid in IDS[:16] if cid != "k03"]
EXPECTED = [
    (cid, "SENT" if cid in SENT else "CANDIDATE_NOT_FOUND" if cid == "k03" else "DAILY_LIMIT_REACHED") for cid in IDS
]
# Its writes, in order: 1 the batch record, 2-16 the 15 sends, 17 k17's (refused at the
# daily maximum), 18 the refusals recorded.
WRITES = 18
AT = {"batch record": 1, "first send": 2, "a send midway": 9, "last send": 16, "refused send": 17, "refusals": 18}
KINDS = [Kind.KILLED_AFTER_COMMIT, Kind.TIMEOUT_AFTER_COMMIT, Kind.CONDITION, Kind.TX_CONFLICT, Kind.THROTTLING]


@pytest.fixture
def world(api: GraphQLClient, settings: Settings) -> Iterator[tuple[GraphQLClient, FaultInjector]]:
    with atomic_moto():
        api.contract("c1", credits=100, max_daily=25)
        api.seat("r1", "c1", admin=True, daily=15)
        candidates(api, 25)
        api.operator.mutate("UpsertCandidate", candidateId="k03", name="Gone", deleted=True)
        import inmail.handlers.sweeper  # noqa: F401  (its import rebinds the models' clients)

        faults = FaultInjector(settings.threads_table).attach(api.deps.store)
        try:
            yield api, faults
        finally:
            faults.detach()


def test_r90_a_batch_without_faults_makes_the_writes_the_matrix_faults(
    world: tuple[GraphQLClient, FaultInjector],
) -> None:
    api, faults = world
    faults.arm_plan({})
    p = call(recruiter(api, admin=True), "SendInMails", INPUT)
    assert p is not None and outcomes(p) == EXPECTED
    assert faults.writes == WRITES
    assert max(AT.values()) == WRITES


@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize("where", AT)
def test_r90_a_fault_midway_then_the_retry_completes_and_charges_nothing_more(
    world: tuple[GraphQLClient, FaultInjector], where: str, kind: Kind
) -> None:
    api, faults = world
    r1 = recruiter(api, admin=True)
    faults.arm(kind, {AT[where]})
    first = call(r1, "SendInMails", INPUT)
    faults.disarm()
    assert faults.injected, "the fault was injected"
    assert_invariants(api.deps)
    if first is not None and first["userErrors"]:  # refused whole, cleanly: nothing sent
        assert (first["results"], threads_of(api.deps)) == ([], []), first
    elif first is not None:  # each candidate's outcome, or why it could not be decided now
        for (cid, outcome), expected in zip(outcomes(first), EXPECTED, strict=True):
            assert outcome in (expected[1], "TECHNICAL_ISSUE", "CONFLICT"), (cid, outcome)

    retried = call(r1, "SendInMails", INPUT)
    assert retried is not None and retried["userErrors"] == [], retried
    assert outcomes(retried) == EXPECTED
    assert len(threads_of(api.deps)) == 15 and remaining(r1) == 70 and sent_today(r1) == 15
    assert call(r1, "SendInMails", INPUT) == retried  # and once more: the same, nothing charged
    assert remaining(r1) == 70
    assert_invariants(api.deps)


def test_r90_a_batch_sent_during_an_outage_sends_the_rest_when_retried(
    world: tuple[GraphQLClient, FaultInjector],
) -> None:
    """Every write from the fourth send on throttled: three sent, the fourth recorded
    FAILED (R26, refunded), the rest not tried (TECHNICAL_ISSUE); the retry sends them."""
    api, faults = world
    r1 = recruiter(api, admin=True)
    faults.arm(Kind.THROTTLING, set(range(5, 40)))
    first = call(r1, "SendInMails", INPUT)
    faults.disarm()
    assert first is not None
    got = outcomes(first)
    assert got[:4] == [("k01", "SENT"), ("k02", "SENT"), ("k03", "CANDIDATE_NOT_FOUND"), ("k04", "SENT")]
    assert {outcome for _, outcome in got[4:]} == {"TECHNICAL_ISSUE"}
    assert first["results"][4]["thread"] is None  # nothing written for the candidates not tried
    assert_invariants(api.deps)
    retried = call(r1, "SendInMails", INPUT)
    assert retried is not None and outcomes(retried) == EXPECTED
    assert remaining(r1) == 70
    assert_invariants(api.deps)
