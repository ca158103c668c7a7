"""The Store methods sending to many needs (R90, R92), one contract run on both stores: the
in-memory store the rule tests use and DynamoStore on moto. Many reads at once, templates
under their contract, name claims, template deletes and batch records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from inmail.config import Settings
from inmail.domain.errors import Conflict, NameTaken
from inmail.domain.model import (
    Batch,
    Candidate,
    Changes,
    CounterChange,
    CounterKind,
    NameClaim,
    RecordedRefusal,
    Template,
)
from inmail.domain.rules import template_name_key
from support import T0


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Any]:
    if request.param == "memory":
        from fakes import MemoryStore

        yield MemoryStore()
        return
    request.getfixturevalue("aws")
    from inmail.store.dynamo import DynamoStore
    from inmail.store.tables import ensure_tables

    ensure_tables(settings)
    yield DynamoStore(settings)


def template(tid: str = "t1", name: str = "Intro", contract: str = "c1", **fields: Any) -> Template:
    values: dict[str, Any] = {
        "subject": "Hi {firstName|there}",
        "body": "Body",
        "follow_up_body": None,
        "author_id": "r1",
        "updated_at": T0,
        **fields,
    }
    return Template(tid, contract, name, **values)


def claim(t: Template) -> NameClaim:
    return NameClaim(t.contract_id, template_name_key(t.name), t.template_id)


def create(store: Any, t: Template) -> Template:
    changes = Changes()
    stored = changes.put(t, None)
    changes.claim_name(claim(stored))
    store.commit(changes)
    return stored


def test_many_candidates_and_threads_in_one_read(store: Any) -> None:
    changes = Changes()
    for cid in ("k1", "k2"):
        changes.put(Candidate(cid, cid.upper(), first_name="F"), None)
    store.commit(changes)
    found = store.get_candidates(["k1", "nobody", "k2"])
    assert sorted(found) == ["k1", "k2"] and found["k1"].first_name == "F" and found["k1"].version == 1
    assert store.get_candidates([]) == {} and store.get_threads(["t-none"]) == {}


def test_templates_live_under_their_contract(store: Any) -> None:
    t = create(store, template(follow_up_body="Ping {firstName}"))
    create(store, template("t2", "apology"))
    create(store, template("t3", "Other", contract="c2"))
    assert store.get_template("c1", "t1") == t
    assert store.get_template("c2", "t1") is None  # another contract's key finds nothing
    assert [x.template_id for x in store.list_templates("c1")] == ["t2", "t1"]  # by name, any case
    assert [x.template_id for x in store.list_templates("c2")] == ["t3"]


def test_a_name_is_claimed_once_per_contract(store: Any) -> None:
    create(store, template())
    with pytest.raises(NameTaken):
        create(store, template("t2", "  INTRO"))
    assert store.get_template("c1", "t2") is None  # nothing of the refused commit
    create(store, template("t2", "Intro", contract="c2"))


def test_a_template_changes_on_its_version_and_renames_by_claim(store: Any) -> None:
    t = create(store, template())
    create(store, template("t2", "Taken"))
    renamed = template(name="Welcome", version=t.version)
    changes = Changes()
    changes.put(renamed, t)
    changes.release_name(claim(t))
    changes.claim_name(claim(renamed))
    store.commit(changes)
    assert store.get_template("c1", "t1").name == "Welcome"
    stale = Changes()
    stale.put(template(subject="late"), t)  # read at version 1, now 2
    with pytest.raises(Conflict):
        store.commit(stale)
    create(store, template("t3", "intro"))  # the old name is free
    with pytest.raises(NameTaken):
        create(store, template("t4", "welcome"))


def test_only_the_holder_releases_a_name_and_a_delete_is_on_the_version(store: Any) -> None:
    t = create(store, template())
    other = create(store, template("t2", "Other"))
    wrong = Changes()
    wrong.delete_template(other)
    wrong.release_name(NameClaim("c1", template_name_key("Intro"), "t2"))  # t1 holds it
    with pytest.raises(Conflict):
        store.commit(wrong)
    assert store.get_template("c1", "t2") is not None  # all or nothing
    stale = Changes()
    stale.delete_template(template(version=0))
    stale.release_name(claim(t))
    with pytest.raises(Conflict):
        store.commit(stale)
    done = Changes()
    done.delete_template(t)
    done.release_name(claim(t))
    done.counters.append(CounterChange(CounterKind.TEMPLATES, "templates#c1", -1))
    store.commit(done)
    assert store.get_template("c1", "t1") is None
    create(store, template("t3"))  # "Intro" is free


def test_a_batch_is_recorded_once_and_changed_on_its_version(store: Any) -> None:
    batch = Batch(
        batch_id="b1",
        recruiter_id="r1",
        contract_id="c1",
        request_hash="h",
        candidate_ids=("k1", "k2"),
        subject="Hi {firstName}",
        body="Body",
        follow_up_body="Ping",
        follow_up_delay_days=None,
        follow_up_send_at=T0 + timedelta(days=4),
        created_at=T0,
    )
    changes = Changes()
    stored = changes.put(batch, None)
    store.commit(changes)
    assert store.get_batch("b1") == stored and store.get_batch("b2") is None
    again = Changes()
    again.put(batch, None)
    with pytest.raises(Conflict):
        store.commit(again)
    refusal = RecordedRefusal("k2", "DAILY_LIMIT_REACHED", ("input", "candidateIds", "1"), "You reached...")
    recorded = Changes()
    latest = recorded.put(Batch(**{**stored.__dict__, "refusals": (refusal,)}), stored)
    store.commit(recorded)
    assert store.get_batch("b1") == latest and latest.refusals == (refusal,)
