"""Profile fields, the merge rule and its undo, and reading import rows: pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.channels import ChannelKind
from switchboard.domain.contact_import import (
    RowInvalid,
    RowProblem,
    RowRules,
    column_positions,
    csv_rows,
    parse_date,
    parse_mapping,
    read_row,
)
from switchboard.domain.contacts import (
    Consent,
    Contact,
    ContactTier,
    check_fields,
    field_from_json,
    field_to_json,
    patch_custom_fields,
)
from switchboard.domain.errors import DomainError
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.matching.lookup import name_block, phone_neighbours
from switchboard.domain.matching.person import Person
from switchboard.domain.merge import MERGED_FIELDS, Side, plan_merge, restore

TODAY = date(2026, 11, 2)
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def contact(id_: int, name: str, updated: datetime, **fields: object) -> Contact:
    return Contact(id=id_, name=name, created_at=T0, updated_at=updated, **fields)  # type: ignore[arg-type]


# --- fields ---------------------------------------------------------------------------------------------------


def test_fields_are_trimmed_and_blank_text_clears() -> None:
    checked = check_fields({"city": "  Нижний   Новгород ", "address": "   ", "tags": [" vip ", "VIP", "b2b"]}, TODAY)
    assert checked == {"city": "Нижний Новгород", "address": None, "tags": ("vip", "b2b")}


@pytest.mark.parametrize(
    ("fields", "field", "detail"),
    [
        ({"birth_date": date(2026, 11, 3)}, "birth_date", "birth_date 2026-11-03 is in the future"),
        ({"birth_date": date(1899, 12, 31)}, "birth_date", "birth_date 1899-12-31 is before 1900"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "time zone 'Mars/Olympus' is not an IANA zone"),
        ({"preferred_channel": "pigeon"}, "preferred_channel", "preferred_channel 'pigeon' is not a channel kind"),
        ({"first_name": "x" * 101}, "first_name", "first_name must be at most 100 characters"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags", "at most 50 tags"),
        ({"custom_fields": {"1st": "x"}}, "custom_fields", None),
        (
            {"custom_fields": {"size": [1]}},
            "custom_fields.size",
            "custom field size must be text, a number or true/false",
        ),
        ({"tier": None}, "tier", "tier cannot be null"),
        ({"merged_into_id": 3}, "merged_into_id", "fields cannot be edited: merged_into_id"),
        (
            {"marketing_consent": Consent(True, datetime(2026, 11, 3, tzinfo=UTC))},
            "marketing_consent.at",
            "marketing_consent.at is in the future",
        ),
    ],
)
def test_bad_fields_are_refused_naming_the_field(fields: dict[str, object], field: str, detail: str | None) -> None:
    with pytest.raises(DomainError) as refused:
        check_fields(fields, TODAY)
    assert refused.value.field == field
    if detail is not None:
        assert refused.value.detail == detail


def test_custom_fields_patch_sets_and_removes() -> None:
    assert patch_custom_fields({"size": "M", "shop": "central"}, {"size": None, "loyalty": 3}) == {
        "shop": "central",
        "loyalty": 3,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("birth_date", date(1990, 5, 17)),
        ("marketing_consent", Consent(True, T0)),
        ("tags", ("a", "b")),
        ("custom_fields", {"a": 1, "b": True}),
        ("tier", ContactTier.VIP),
        ("preferred_channel", ChannelKind.EMAIL),
        ("city", "Тула"),
        ("custom_fields", {}),
        ("tags", ()),
        ("birth_date", None),
    ],
)
def test_field_values_survive_their_json_form(name: str, value: object) -> None:
    assert field_from_json(name, field_to_json(name, value)) == value


# --- the merge rule -------------------------------------------------------------------------------------------


def test_newest_non_empty_wins_and_special_fields_follow_their_rules() -> None:
    # given an older survivor and a newer duplicate with overlapping fields
    survivor = contact(
        1,
        "Иван Петров",
        T0,
        city="Москва",
        company_name=None,
        tags=("vip", "b2b"),
        custom_fields={"size": "M", "shop": "central"},
        marketing_consent=Consent(True, T0 + timedelta(days=5)),
        processing_consent=None,
        tier=ContactTier.VIP,
    )
    duplicate = contact(
        2,
        "+79161234567",
        T0 + timedelta(days=1),
        identities=[Identity(IdentityKind.PHONE, "+79161234567")],
        city="Санкт-Петербург",
        company_name="Ромашка",
        tags=("VIP", "retail"),
        custom_fields={"size": "L", "loyalty": 3},
        marketing_consent=Consent(False, T0 + timedelta(days=2)),
        processing_consent=Consent(True, T0),
    )
    # when they are merged with no choices
    plan = plan_merge(survivor, duplicate, {})
    # then the newer non-empty values win, tags unite, consents follow the last answer, VIP stays,
    # and a name that is only a phone does not replace a real one
    assert plan.changes == {
        "city": "Санкт-Петербург",
        "company_name": "Ромашка",
        "tags": ("vip", "b2b", "retail"),
        "custom_fields": {"size": "L", "shop": "central", "loyalty": 3},
        "processing_consent": Consent(True, T0),
    }
    assert plan.taken["name"] is Side.SURVIVOR
    assert plan.taken["marketing_consent"] is Side.SURVIVOR
    assert plan.taken["tier"] is Side.SURVIVOR
    assert set(plan.taken) == set(MERGED_FIELDS)


def test_the_older_contact_keeps_its_values_and_choices_override_the_rule() -> None:
    survivor = contact(1, "Anna", T0 + timedelta(days=3), city="Тверь", first_name="Anna")
    duplicate = contact(2, "Анна", T0, city="Москва", first_name=None, birth_date=date(1990, 1, 2))
    assert plan_merge(survivor, duplicate, {}).changes == {"birth_date": date(1990, 1, 2)}
    chosen = plan_merge(survivor, duplicate, {"city": Side.DUPLICATE, "first_name": Side.DUPLICATE})
    assert chosen.changes == {"city": "Москва", "first_name": None, "birth_date": date(1990, 1, 2)}


text = st.one_of(st.none(), st.sampled_from(["Москва", "Тула", "Omsk"]))
stamp = st.integers(0, 5).map(lambda d: T0 + timedelta(days=d))
consent = st.one_of(st.none(), st.builds(Consent, st.booleans(), stamp))
tags = st.lists(st.sampled_from(["vip", "b2b", "retail", "VIP"]), max_size=3, unique=True).map(tuple)
custom = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), max_size=3)


@st.composite
def contacts(draw: st.DrawFn, id_: int) -> Contact:
    return contact(
        id_,
        draw(st.sampled_from(["Иван Петров", "Ivan Petrov", "+79161234567"])),
        draw(stamp),
        identities=[Identity(IdentityKind.PHONE, "+79161234567")] if id_ == 2 else [],
        city=draw(text),
        address=draw(text),
        birth_date=draw(st.one_of(st.none(), st.just(date(1990, 1, 2)))),
        tier=draw(st.sampled_from(list(ContactTier))),
        tags=draw(tags),
        custom_fields=draw(custom),
        marketing_consent=draw(consent),
        external_id=draw(st.one_of(st.none(), st.just(f"crm-{id_}"))),
    )


@given(contacts(1), contacts(2), st.dictionaries(st.sampled_from(MERGED_FIELDS), st.sampled_from(list(Side))))
def test_undo_restores_every_field_the_merge_changed(survivor: Contact, duplicate: Contact, choices: dict) -> None:
    # given a merge's plan applied to the survivor
    plan = plan_merge(survivor, duplicate, choices)
    before = {name: getattr(survivor, name) for name in plan.changes}
    merged = {name: getattr(survivor, name) for name in MERGED_FIELDS} | plan.changes
    # when it is undone with nothing edited since, then the survivor is as it was
    back = restore(merged, before, plan.changes)
    assert merged | back == {name: getattr(survivor, name) for name in MERGED_FIELDS}
    # and a field never emptied by the rule: a non-empty value of either side survives unless chosen away
    for name in ("city", "address", "birth_date"):
        if name not in choices and (getattr(survivor, name) or getattr(duplicate, name)):
            assert merged[name] is not None


def test_undo_keeps_an_edit_made_after_the_merge() -> None:
    before, after = {"city": "Тула", "address": None}, {"city": "Москва", "address": "Тверская, 1"}
    current = {"city": "Омск", "address": "Тверская, 1"}
    assert restore(current, before, after) == {"address": None}


# --- lookups ---------------------------------------------------------------------------------------------------


def test_name_block_is_one_key_for_transliterated_and_swapped_names() -> None:
    keys = {
        name_block(Person(0, full_name="Юлия Щукина")),
        name_block(Person(0, full_name="Shchukina Yulia")),
        name_block(Person(0, first_name="Julia", last_name="Schukina")),
    }
    assert len(keys) == 1 and keys != {""}
    assert name_block(Person(0, full_name="+79161234567")) == ""


def test_phone_neighbours_are_every_one_digit_typo_keeping_the_country_code() -> None:
    near = phone_neighbours("+79161112233")
    assert len(near) == 10 * 9 and len(set(near)) == 90
    assert "+79161112234" in near and "+89161112233" not in near and "+79161112233" not in near


# --- import rows ----------------------------------------------------------------------------------------------

RULES = RowRules("RU", TODAY, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("1990-05-17", None, date(1990, 5, 17)),
        ("17.05.1990", None, date(1990, 5, 17)),
        ("17/05/1990", None, date(1990, 5, 17)),
        ("05/17/1990", "%m/%d/%Y", date(1990, 5, 17)),
    ],
)
def test_dates_in_the_common_forms(text: str, form: str | None, expected: date) -> None:
    assert parse_date(text, form) == expected


@pytest.mark.parametrize("text", ["31.02.1990", "1990/05/17", "17 мая 1990", "05/17/1990"])
def test_broken_dates_are_refused(text: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_date(text)
    assert refused.value.field == "birth_date"
    assert refused.value.detail == f"{text!r} is not a date (YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY)"


def test_mapping_refuses_unknown_fields_and_a_scalar_from_two_columns() -> None:
    for specs, detail in (
        (["Имя=given"], "'given' is not a contact field (see the import's fields)"),
        (["a=city", "b=city"], "city is mapped from two columns"),
        (["city"], "'city' is not column=field"),
        ([], "map at least one column: column=field"),
    ):
        with pytest.raises(DomainError) as refused:
            parse_mapping(specs)
        assert (refused.value.field, refused.value.detail) == ("map", detail)


def test_a_row_is_read_into_fields_identities_and_a_composed_name() -> None:
    mapping = parse_mapping(
        [
            *("Фамилия=last_name", "Имя=first_name", "ДР=birth_date", "Тел=phone", "Тел2=phone", "Улица=address"),
            *("Дом=address", "Размер=custom.size", "Метки=tags", "Реклама=marketing_consent"),
        ]
    )
    header = ["Фамилия", "Имя", "ДР", "Тел", "Тел2", "Улица", "Дом", "Размер", "Метки", "Реклама"]
    cells = [
        "Петров",
        "Иван",
        "17.05.1990",
        "8 916 123-45-67; +7 495 123 45 67",
        "",
        "Тверская",
        "д. 1",
        "L",
        "vip,b2b",
        "да",
    ]
    row = read_row(7, cells, mapping, column_positions(mapping, header), RULES)
    assert row.line == 7 and row.name == "Иван Петров"
    assert row.phones == ("+79161234567", "+74951234567")
    assert row.fields == {
        "last_name": "Петров",
        "first_name": "Иван",
        "birth_date": date(1990, 5, 17),
        "address": "Тверская, д. 1",
        "custom_fields": {"size": "L"},
        "tags": ("vip", "b2b"),
        "marketing_consent": Consent(True, RULES.now),
    }


def test_a_bad_row_lists_every_problem() -> None:
    mapping = parse_mapping(["n=name", "d=birth_date", "p=phone", "e=email", "c=preferred_channel"])
    positions = column_positions(mapping, ["n", "d", "p", "e", "c"])
    with pytest.raises(RowInvalid) as refused:
        read_row(3, ["Ann", "30.02.2001", "12", "not-mail", "fax"], mapping, positions, RULES)
    assert refused.value.line == 3
    assert [p.field for p in refused.value.problems] == ["birth_date", "phone", "email"]
    with pytest.raises(RowInvalid) as nameless:
        read_row(4, ["", "", "", "", ""], mapping, positions, RULES)
    assert nameless.value.problems == [RowProblem("name", "no name, phone or email to know the contact by")]


def test_missing_columns_are_named_together() -> None:
    mapping = parse_mapping(["Имя=first_name", "Почта=email", "Телефон=phone"])
    with pytest.raises(DomainError) as refused:
        column_positions(mapping, ["Имя", "Город"])
    assert refused.value.detail == "the file has no column 'Почта', 'Телефон' (its columns: Имя, Город)"


def test_csv_rows_give_the_line_a_record_starts_on() -> None:
    lines = ["a,b\n", '1,"two\n', 'lines"\n', "3,4\n"]
    assert list(csv_rows(lines, ",")) == [(1, ["a", "b"]), (2, ["1", "two\nlines"]), (4, ["3", "4"])]
