"""R91 as a pure function: placeholders parsed once (unknown ones and unpaired braces are
INVALID_INPUT naming the field), filled in per candidate (a missing value without a
fallback is MISSING_PERSONALIZATION), literal braces written twice. Property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inmail.domain import personalization as p
from inmail.domain.errors import ErrorCode, Refusal
from inmail.domain.model import Candidate, Contract, Seat

FIELD = ("input", "body")
KIM = p.Values("Kim", "Lee", "Kim Lee", "Ada", "Acme")
NOBODY = p.Values(None, None, None, None, None)

names = st.text(min_size=1, max_size=30)  # anything, braces and bars included
plain = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=60)


def escape(text: str) -> str:
    """How a literal text is written so that no brace is read as a placeholder."""
    return text.replace("{", "{{").replace("}", "}}")


def fill(text: str, values: p.Values = KIM) -> str:
    return p.render(p.parse(text, FIELD), values, FIELD)


def refusal(text: str, values: p.Values = KIM) -> Refusal:
    with pytest.raises(Refusal) as caught:
        fill(text, values)
    return caught.value


@pytest.mark.parametrize(
    ("text", "filled"),
    [
        ("Hi {firstName}, {lastName}!", "Hi Kim, Lee!"),
        ("{fullName} / {recruiterName} at {contractName}", "Kim Lee / Ada at Acme"),
        ("Hi {firstName|there}", "Hi Kim"),
        ("{{firstName}} is how you write {firstName}", "{firstName} is how you write Kim"),
        ("braces: {{ and }} and {{}}", "braces: { and } and {}"),
        ("{firstName|a|b}", "Kim"),
    ],
)
def test_r91_placeholders_are_filled_in(text: str, filled: str) -> None:
    assert fill(text) == filled


@pytest.mark.parametrize(
    ("text", "filled"),
    [("Hi {firstName|there}", "Hi there"), ("{lastName|}x", "x"), ("{firstName|a|b}", "a|b")],
)
def test_r91_a_fallback_stands_in_for_a_missing_value(text: str, filled: str) -> None:
    assert fill(text, NOBODY) == filled


@pytest.mark.parametrize("placeholder", ["firstName", "lastName", "fullName", "recruiterName", "contractName"])
def test_r91_a_missing_value_without_fallback_is_missing_personalization(placeholder: str) -> None:
    r = refusal(f"Hello {{{placeholder}}}", NOBODY)
    assert (r.code, r.field) == (ErrorCode.MISSING_PERSONALIZATION, FIELD)
    assert f"{{{placeholder}|there}}" in r.message  # it says how to fix it


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Hi {first_name}", "Unknown placeholder {first_name}"),
        ("Hi {FirstName}", "Unknown placeholder {FirstName}"),
        ("Hi { firstName }", "Unknown placeholder { firstName }"),
        ("Hi {}", "Unknown placeholder {}"),
        ("Hi {|there}", "Unknown placeholder {}"),
        ("Hi {firstName", "no closing '}'"),
        ("Hi {firstName|{lastName}}", "no closing '}'"),
        ("Hi }", "closes no placeholder"),
        ("Hi {firstName}}", "closes no placeholder"),
        ("{", "no closing '}'"),
    ],
)
def test_r91_unknown_placeholders_and_unpaired_braces_are_invalid_input(text: str, says: str) -> None:
    with pytest.raises(Refusal) as caught:
        p.parse(text, FIELD)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_INPUT, FIELD)
    assert says in caught.value.message


def test_r91_values_come_from_the_profile_the_seat_and_the_contract() -> None:
    contract = Contract("c1", "Acme", 10, 10)
    seat = Seat("r1", "c1", 10, name="Ada")
    both = p.Values.of(Candidate("k1", "K. Lee", first_name="Kim", last_name="Lee"), seat, contract)
    assert both == p.Values("Kim", "Lee", "Kim Lee", "Ada", "Acme")
    first_only = p.Values.of(Candidate("k1", "K. Lee", first_name="Kim"), seat, contract)
    assert (first_only.last_name, first_only.full_name) == (None, "Kim")
    # Neither part known: fullName is the profile's name; a seat without a name has none.
    bare = p.Values.of(Candidate("k1", "K. Lee"), Seat("r1", "c1", 10), contract)
    assert (bare.first_name, bare.full_name, bare.recruiter_name) == (None, "K. Lee", None)


def test_r91_r45_applies_to_the_text_filled_in() -> None:
    long_name = p.Values("x" * 200, None, None, None, None)
    body = p.body("{firstName}" * 10, FIELD)  # 110 characters as written, 2,000 filled in
    with pytest.raises(Refusal) as caught:
        body.render(long_name)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_INPUT, FIELD)
    assert "with its placeholders filled in" in caught.value.message
    blank = p.body("{firstName| }", FIELD)
    with pytest.raises(Refusal):
        blank.render(NOBODY)  # nothing visible once filled in
    assert p.body("{firstName}" * 10, FIELD).render(KIM) == "Kim" * 10


def test_r91_r45_applies_to_the_text_as_written() -> None:
    with pytest.raises(Refusal) as caught:
        p.subject("{firstName|there} " + "x" * 190, ("input", "subject"))  # 208 as written, at most 200
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_INPUT, ("input", "subject"))


# ---- properties ----------------------------------------------------------------------------


@given(plain)
def test_r91_text_without_braces_is_itself(text: str) -> None:
    assert fill(text) == text
    assert p.parse(text, FIELD).slots == ()


@given(st.text(max_size=80))
def test_r91_any_text_written_with_doubled_braces_is_sent_as_it_was(text: str) -> None:
    assert fill(escape(text), NOBODY) == text


@given(st.text(max_size=40), names, st.text(max_size=40))
def test_r91_values_are_inserted_as_they_are_never_parsed_again(before: str, name: str, after: str) -> None:
    """A name holding braces or a placeholder's spelling stays literal."""
    values = p.Values(name, None, None, None, None)
    assert fill(escape(before) + "{firstName}" + escape(after), values) == before + name + after


@given(st.sampled_from(list(p.Placeholder)), st.one_of(st.none(), names), plain)
def test_r91_the_fallback_is_used_exactly_when_the_value_is_missing(
    placeholder: p.Placeholder, value: str | None, fallback: str
) -> None:
    values = p.Values(*(value if ph is placeholder else "v" for ph in p.Placeholder))
    text = "{" + placeholder.value + "|" + fallback.replace("|", "") + "}"
    assert fill(text, values) == (fallback.replace("|", "") if value is None else value)


@given(st.text(alphabet="{}|ab firstNameLR", max_size=30))
def test_r91_any_text_parses_or_is_invalid_input_naming_the_field(text: str) -> None:
    """Never another error: a text is placeholders and literals, or refused clearly."""
    try:
        parsed = p.parse(text, FIELD)
    except Refusal as r:
        assert (r.code, r.field) == (ErrorCode.INVALID_INPUT, FIELD)
        return
    assert isinstance(p.render(parsed, KIM, FIELD), str)  # every value known: it fills in


@given(st.lists(st.one_of(plain.map(escape), st.sampled_from([f"{{{ph.value}}}" for ph in p.Placeholder]))))
def test_r91_parsing_finds_each_placeholder_written(parts: list[str]) -> None:
    parsed = p.parse("".join(parts), FIELD)
    written = [part[1:-1] for part in parts if part.startswith("{") and not part.startswith("{{")]
    assert [slot.placeholder.value for slot in parsed.slots] == written
