"""The demo integration behind the desk's plug-in point: sample orders of a contact.

A real deployment replaces it with its shop's or ERP's endpoint; the desk's ``demo-orders`` plug-in
(ui/src/plugins/demoOrders.ts) shows how a plug-in asks for data while an offer rings.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel

from switchboard.web.access import STAFF, allow
from switchboard.web.schemas import PathId

router = APIRouter(tags=["integrations"])
ITEMS = ["Кофемашина", "Наушники", "Чайник", "Смартфон", "Рюкзак", "Монитор", "Пылесос", "Книга"]
STATES = ["new", "paid", "shipped", "delivered", "returned"]


class OrderOut(BaseModel):
    number: str
    placed_on: date
    item: str
    total: str
    currency: str
    status: str


@router.get(
    "/integrations/demo/contacts/{contact_id}/orders",
    response_model=list[OrderOut],
    **allow(*STAFF),
)
async def demo_orders(contact_id: PathId) -> list[OrderOut]:
    """Sample orders, the same for a contact every time (seeded by its id): what a shop's API would answer."""
    rng = random.Random(contact_id)
    today = datetime.now(UTC).date()
    return [
        OrderOut(
            number=f"{1000 + contact_id * 7 + n}",
            placed_on=today - timedelta(days=rng.randint(0, 90)),
            item=rng.choice(ITEMS),
            total=f"{rng.randint(5, 900) * 100}.00",
            currency="RUB",
            status=rng.choice(STATES),
        )
        for n in range(rng.randint(0, 4))
    ]
