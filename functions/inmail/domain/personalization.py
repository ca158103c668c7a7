"""R91: placeholders in a subject or body, parsed once and filled in per candidate.

`{firstName}`, `{lastName}`, `{fullName}`, `{recruiterName}` and `{contractName}`, each
with an optional fallback after a bar: `{firstName|there}`. A literal brace is written
twice, `{{` and `}}`, as in Python's format strings. Parsing happens before anything is
read or written: an unknown placeholder or a brace that opens or closes nothing is
INVALID_INPUT naming the field. Filling in is per candidate: a value missing with no
fallback is MISSING_PERSONALIZATION, and R45's limits apply to the text it gives.
Values are inserted as they are, never parsed again: a name holding braces stays literal.

The value types are NamedTuples: every send imports them, and a NamedTuple class costs a
fraction of a frozen dataclass's to make at import (the API's cold start budget).
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import NamedTuple

from . import rules
from .errors import ErrorCode, Refusal
from .model import Candidate, Contract, Seat


class Placeholder(StrEnum):
    FIRST_NAME = "firstName"
    LAST_NAME = "lastName"
    FULL_NAME = "fullName"
    RECRUITER_NAME = "recruiterName"
    CONTRACT_NAME = "contractName"


KNOWN = ", ".join(f"{{{p.value}}}" for p in Placeholder)


class Slot(NamedTuple):
    """One placeholder as written, with its fallback (None: no fallback)."""

    placeholder: Placeholder
    fallback: str | None


Segment = str | Slot


class Parsed(NamedTuple):
    """A text as written, split into literal text and slots, in order."""

    segments: tuple[Segment, ...]

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.segments if isinstance(s, Slot))


def _invalid(message: str, field: tuple[str, ...]) -> Refusal:
    return Refusal(ErrorCode.INVALID_INPUT, message, field)


def parse(text: str, field: tuple[str, ...]) -> Parsed:
    """Split `text` into literal text and slots, or INVALID_INPUT naming `field`."""
    segments: list[Segment] = []
    literal: list[str] = []
    for kind, value in _tokens(text, field):
        if kind == "text":
            literal.append(value)
            continue
        if literal:
            segments.append("".join(literal))
            literal = []
        segments.append(_slot(value, field))
    if literal:
        segments.append("".join(literal))
    return Parsed(tuple(segments))


def _tokens(text: str, field: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """("text", literal) and ("slot", what is between the braces)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{" and text.startswith("{{", i):
            yield "text", "{"
            i += 2
        elif ch == "}" and text.startswith("}}", i):
            yield "text", "}"
            i += 2
        elif ch == "{":
            end = _slot_end(text, i, field)
            yield "slot", text[i + 1 : end]
            i = end + 1
        elif ch == "}":
            raise _invalid(
                f"The '}}' at character {i + 1} closes no placeholder; write '}}}}' for a literal brace.", field
            )
        else:
            nxt = min((j for j in (text.find("{", i), text.find("}", i)) if j != -1), default=len(text))
            yield "text", text[i:nxt]
            i = nxt


def _slot_end(text: str, start: int, field: tuple[str, ...]) -> int:
    close = text.find("}", start + 1)
    opens = text.find("{", start + 1)
    if close == -1 or (opens != -1 and opens < close):
        raise _invalid(
            f"The '{{' at character {start + 1} opens a placeholder with no closing '}}' (placeholders "
            "do not nest); write '{{{{' for a literal brace.",
            field,
        )
    return close


def _slot(inside: str, field: tuple[str, ...]) -> Slot:
    name, bar, fallback = inside.partition("|")
    try:
        placeholder = Placeholder(name)
    except ValueError:
        raise _invalid(f"Unknown placeholder {{{name}}}; the placeholders are {KNOWN}.", field) from None
    return Slot(placeholder, fallback if bar else None)


# ---- filling in -----------------------------------------------------------------------


class Values(NamedTuple):
    """What each placeholder stands for in one send; None when it is not known."""

    first_name: str | None
    last_name: str | None
    full_name: str | None
    recruiter_name: str | None
    contract_name: str | None

    @staticmethod
    def of(candidate: Candidate, seat: Seat, contract: Contract) -> Values:
        """fullName is the first and last names (either alone when only one is known), or
        the profile's name when neither is."""
        parts = [p for p in (candidate.first_name, candidate.last_name) if p]
        return Values(
            first_name=candidate.first_name or None,
            last_name=candidate.last_name or None,
            full_name=" ".join(parts) if parts else (candidate.name or None),
            recruiter_name=seat.name or None,
            contract_name=contract.name or None,
        )

    def get(self, placeholder: Placeholder) -> str | None:
        match placeholder:
            case Placeholder.FIRST_NAME:
                return self.first_name
            case Placeholder.LAST_NAME:
                return self.last_name
            case Placeholder.FULL_NAME:
                return self.full_name
            case Placeholder.RECRUITER_NAME:
                return self.recruiter_name
            case Placeholder.CONTRACT_NAME:
                return self.contract_name


_MISSING = {
    Placeholder.FIRST_NAME: "The candidate's profile has no first name",
    Placeholder.LAST_NAME: "The candidate's profile has no last name",
    Placeholder.FULL_NAME: "The candidate's profile has no name",
    Placeholder.RECRUITER_NAME: "Your seat has no display name",
    Placeholder.CONTRACT_NAME: "The contract has no name",
}


def render(parsed: Parsed, values: Values, field: tuple[str, ...]) -> str:
    """The text for one send, or MISSING_PERSONALIZATION naming `field` and the placeholder."""
    out: list[str] = []
    for segment in parsed.segments:
        if isinstance(segment, str):
            out.append(segment)
            continue
        value = values.get(segment.placeholder)
        if value is None:
            if segment.fallback is None:
                raise Refusal(
                    ErrorCode.MISSING_PERSONALIZATION,
                    f"{_MISSING[segment.placeholder]} for {{{segment.placeholder.value}}}; "
                    f"give it a fallback, like {{{segment.placeholder.value}|there}}.",
                    field,
                )
            value = segment.fallback
        out.append(value)
    return "".join(out)


# ---- a message's texts ----------------------------------------------------------------


class Text(NamedTuple):
    """A subject or body as written and parsed, with the field it came from and R45's
    label and maximum for it."""

    source: str
    parsed: Parsed
    field: tuple[str, ...]
    label: str
    maximum: int

    @property
    def has_placeholders(self) -> bool:
        return bool(self.parsed.slots)

    def render(self, values: Values) -> str:
        """The text one candidate gets, held to R45 (INVALID_INPUT naming the field)."""
        rendered = render(self.parsed, values, self.field)
        label = f"{self.label} with its placeholders filled in" if self.has_placeholders else self.label
        rules.check_text(rendered, self.field, 1, self.maximum, label)
        return rendered


def subject(source: str, field: tuple[str, ...]) -> Text:
    return _text(source, field, "Subject", rules.SUBJECT_MAX)


def body(source: str, field: tuple[str, ...]) -> Text:
    return _text(source, field, "Body", rules.BODY_MAX)


def _text(source: str, field: tuple[str, ...], label: str, maximum: int) -> Text:
    """Checked as written before anything is read or written: R45 (the text as typed is
    held to the same limits as the text sent) and R91 (placeholders known, braces paired)."""
    rules.check_text(source, field, 1, maximum, label)
    return Text(source, parse(source, field), field, label, maximum)
