"""Importing contacts from CSV through the HTTP API (SQLite and PostgreSQL): good rows kept, bad rows reported."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from switchboard.adapters.storage import tables
from switchboard.bootstrap import Container
from tests.support.desk import Desk

API = "/api/v1"
MAP = [
    "Фамилия=last_name",
    "Имя=first_name",
    "Дата рождения=birth_date",
    "Телефон=phone",
    "Email=email",
    "Город=city",
    "Улица=address",
    "Дом=address",
    "ID=external_id",
    "Размер=custom.size",
]
CSV = """Фамилия;Имя;Дата рождения;Телефон;Email;Город;Улица;Дом;ID;Размер;Заметка
Петров;Иван;17.05.1990;8 916 123-45-67;ivan@example.com;Москва;Тверская;1;crm-1;L;не импортируется
Сидорова;Анна;31.02.1985;;anna@example.com;Тула;;;crm-2;;
Кузнецов;Олег;;12345;;;;;crm-3;;
Петров;Иван;;+7 916 555 00 00;;;;;crm-1;;
;;1980-01-02;+7 495 111 22 33;old@example.com;Казань;Баумана;5;crm-5;M;
Орлова;Ольга;;;olga@example.com;;;;taken;;
Лишний;;;;
"Смирнов";"Пётр";1975-12-31;"+7 916 000 11 22, +7 916 000 11 23";;Омск;"Ленина; корп. 2";"7";crm-8;;
"""


async def upload(
    client: httpx.AsyncClient, desk: Desk, data: bytes, mapping: list[str], who: str = "admin", **form: str
) -> httpx.Response:
    return await client.post(
        f"{API}/contacts/imports",
        headers=desk.as_(who),
        data={"map": mapping, "delimiter": ";", **form},
        files={"file": ("contacts.csv", data, "text/csv")},
    )


async def count(container: Container, table: Any) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_good_rows_are_kept_bad_rows_reported_by_line_and_known_phones_matched(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a contact who wrote from a phone before, and one holding the external id "taken"
    known = await app_client.post(
        f"{API}/contacts",
        headers=desk.as_("admin"),
        json={"name": "+74951112233", "identities": [{"kind": "phone", "value": "+74951112233"}], "city": "Самара"},
    )
    taken = await app_client.post(
        f"{API}/contacts", headers=desk.as_("admin"), json={"name": "T", "external_id": "taken"}
    )
    assert known.status_code == taken.status_code == 201
    # when a file with good and bad rows is imported
    answer = await upload(app_client, desk, CSV.encode(), MAP)
    # then the report counts and lists the bad and matched rows by their lines
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert {k: report[k] for k in ("rows", "created", "matched", "failed")} == {
        "rows": 8,
        "created": 2,
        "matched": 1,
        "failed": 5,
    }
    outcomes = {o["line"]: o for o in report["outcomes"]}
    problems = {line: [(p["field"], p["message"]) for p in o["problems"]] for line, o in outcomes.items()}
    assert problems == {
        3: [("birth_date", "'31.02.1985' is not a date (YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY)")],
        4: [("phone", "phone '12345' is not a valid number")],
        5: [("external_id", "external id crm-1 repeats line 2")],
        6: [],
        7: [("external_id", f"external id taken already belongs to contact {taken.json()['id']}")],
        8: [("file", "the row has 5 cells, the header 11")],
    }
    assert outcomes[6]["status"] == "matched" and outcomes[6]["contact_id"] == known.json()["id"]
    assert outcomes[6]["fields"] == [
        "address",
        "birth_date",
        "custom_fields",
        "external_id",
        "email:old@example.com",
    ]
    # and the created contacts carry every mapped field; the matched one keeps its city and gains the rest
    found = await app_client.get(f"{API}/contacts", params={"phone": "+79161234567"}, headers=desk.as_("supervisor"))
    ivan = found.json()[0]
    assert {
        k: ivan[k] for k in ("name", "first_name", "last_name", "birth_date", "city", "address", "external_id")
    } == {
        "name": "Иван Петров",
        "first_name": "Иван",
        "last_name": "Петров",
        "birth_date": "1990-05-17",
        "city": "Москва",
        "address": "Тверская, 1",
        "external_id": "crm-1",
    }
    assert ivan["custom_fields"] == {"size": "L"}
    assert {i["value"] for i in ivan["identities"]} == {"+79161234567", "ivan@example.com"}
    matched = (await app_client.get(f"{API}/contacts/{known.json()['id']}", headers=desk.as_("supervisor"))).json()
    assert (matched["city"], matched["address"], matched["birth_date"]) == ("Самара", "Баумана, 5", "1980-01-02")
    assert (matched["external_id"], matched["custom_fields"]) == ("crm-5", {"size": "M"})
    assert {i["value"] for i in matched["identities"]} == {"+74951112233", "old@example.com"}
    petr = await app_client.get(f"{API}/contacts", params={"phone": "+79160001123"}, headers=desk.as_("supervisor"))
    assert petr.json()[0]["address"] == "Ленина; корп. 2, 7" and len(petr.json()[0]["identities"]) == 2
    # and the bad rows wrote nothing: 2 contacts before, 2 created (Ivan, Pyotr)
    assert await count(container, tables.contacts) == 4
    assert await count(container, tables.identities) == (1 + 1) + 2 + 2  # known (+ its new email), Ivan, Pyotr


async def test_an_unusable_file_imports_nothing(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    cases = [
        (CSV.encode("cp1251"), MAP, {}, "encoding", "the file is not utf-8 (line 1: byte 0xd4); give its encoding"),
        (CSV.encode(), [*MAP, "Отчество=middle_name", "Индекс=postal_code"], {}, "map", "the file has no column"),
        (CSV.encode(), ["Имя=nickname"], {}, "map", "'nickname' is not a contact field"),
        (b"", MAP, {}, "file", "the file is empty: no header line"),
        (CSV.encode(), MAP, {"encoding": "klingon"}, "encoding", "unknown encoding 'klingon'"),
        (CSV.encode(), MAP, {"date_format": "dd.mm.yyyy"}, "date_format", "date format uses strptime codes"),
    ]
    for data, mapping, form, field, detail in cases:
        answer = await upload(app_client, desk, data, mapping, **form)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field and answer.json()["detail"].startswith(detail), answer.json()
    assert await count(container, tables.contacts) == 0
    # and the same file in its real encoding imports
    right = await upload(app_client, desk, CSV.encode("cp1251"), MAP, encoding="cp1251")
    assert right.status_code == 200 and right.json()["created"] == 4  # lines 2, 6, 7 and 9


async def test_a_us_date_format_and_a_tab_delimiter(app_client: httpx.AsyncClient, desk: Desk) -> None:
    data = b"name\tborn\tphone\nJohn Smith\t12/31/1970\t+1 650 253 0000\n"
    answer = await upload(
        app_client, desk, data, ["name=name", "born=birth_date", "phone=phone"], delimiter="\\t", date_format="%m/%d/%Y"
    )
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
    found = await app_client.get(f"{API}/contacts", params={"phone": "+16502530000"}, headers=desk.as_("supervisor"))
    assert found.json()[0]["birth_date"] == "1970-12-31"
