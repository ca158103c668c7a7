"""The R60 world: recruiter r1's threads on contract c1 and everyone who must not see or
touch them (tests/rules/test_visibility.py, and the cursor checks on moto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gql import Caller, GraphQLClient
from inmail.domain.ports import LedgerIndex
from inmail.domain.rules import credits_key, sends_key
from steps import ledger, sent, sent_threads, state, thread


@dataclass
class Matrix:
    api: GraphQLClient
    r1: Caller  # owner of the threads under test (contract c1)
    r2: Caller  # another recruiter on c1
    a1: Caller  # c1's contract admin
    x1: Caller  # recruiter on c2
    xa: Caller  # c2's contract admin
    k1: Caller  # candidate the threads were sent to
    k2: Caller  # another candidate
    scheduled: str = ""  # r1 -> k1, follow-up scheduled
    plain: str = ""  # r1 -> k1, no follow-up
    cancelled: str = ""  # r1 -> k1, follow-up cancelled
    r2_thread: str = ""  # r2 -> k2
    x_thread: str = ""  # x1 (c2) -> k1
    r1_threads: list[str] = field(default_factory=list)
    template: str = ""  # r1's template, shared with c1's recruiters (R92)

    def outsiders(self) -> dict[str, Caller]:
        """Everyone who must not see or act on r1's threads."""
        api = self.api
        return {
            "recruiter on another contract": self.x1,
            "admin of another contract": self.xa,
            "recruiter on the same contract": self.r2,
            "same-contract recruiter whose token claims CONTRACT_ADMIN": api.as_(
                "r2", "RECRUITER", "CONTRACT_ADMIN", contract="c1"
            ),
            "other-contract recruiter whose token claims c1": api.as_("x1", "RECRUITER", contract="c1"),
            "r1's id with a token for c2": api.as_("r1", "RECRUITER", contract="c2"),
            "candidate it was not sent to": self.k2,
            "operator": api.operator,
        }

    def stored(self) -> tuple[Any, ...]:
        """c1 and r1's threads as stored: cheap, for naming the row that changed something."""
        store, now = self.api.deps.store, self.api.deps.clock.now()
        return (
            store.get_contract("c1"),
            store.get_seat("r1"),
            store.get_candidate("k1"),
            [store.get_thread(t) for t in self.r1_threads],
            store.get_counter(credits_key("c1", now)),
            store.get_counter(sends_key("r1", now)),
            store.list_ledger(LedgerIndex.CONTRACT, "c1", 100, None).items,
            store.list_templates("c1"),
        )

    def c1_view(self) -> dict[str, Any]:
        """Everything of contract c1 and r1's threads, as r1, the admin and the recipient see it."""
        return {
            "r1": state(self.r1),
            "r1 threads": [thread(self.r1, t) for t in self.r1_threads],
            "recipient's view": [thread(self.k1, t) for t in self.r1_threads],
            "admin threads": sent_threads(self.a1, all_recruiters=True),
            "admin ledger": ledger(self.a1),
            "r1 seat": self.r1.data("Viewer")["viewer"]["seat"],
            "c1 templates": self.r1.data("Templates")["templates"],
        }


def build(api: GraphQLClient) -> Matrix:
    api.contract("c1", credits=20)
    api.contract("c2", credits=20)
    m = Matrix(
        api=api,
        r1=api.seat("r1", "c1"),
        r2=api.seat("r2", "c1"),
        a1=api.seat("a1", "c1", admin=True),
        x1=api.seat("x1", "c2"),
        xa=api.seat("xa", "c2", admin=True),
        k1=api.candidate("k1"),
        k2=api.candidate("k2"),
    )
    m.scheduled = sent(m.r1, subject="Scheduled", followUp={"body": "SECRET follow-up body"})["id"]
    m.plain = sent(m.r1, subject="Plain")["id"]
    m.cancelled = sent(m.r1, subject="Cancelled", followUp={"body": "Cancelled body"})["id"]
    assert m.r1.mutate("CancelFollowUp", threadId=m.cancelled)["userErrors"] == []
    m.r2_thread = sent(m.r2, "k2", subject="From r2")["id"]
    m.x_thread = sent(m.x1, "k1", subject="From c2")["id"]
    m.r1_threads = [m.scheduled, m.plain, m.cancelled]
    saved = m.r1.mutate("SaveTemplate", name="R1 template", subject="SECRET subject", body="SECRET body")
    m.template = saved["template"]["id"]
    return m
