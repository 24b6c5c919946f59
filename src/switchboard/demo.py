"""Demo data: two lines, three operators, a supervisor and an admin, 50 contacts with
cross-channel history — so that ``make run`` shows a living desk.

Everything is written through the same use cases the API uses, on a clock that walks
through the last two weeks, so the data obeys every rule real data does.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from switchboard.application.access import Principal
from switchboard.application.catalog import NewUser, create_line, create_user
from switchboard.application.channels import create_channel
from switchboard.application.context import Services
from switchboard.application.conversations import Reply, assign_conversation, close_conversation, send_reply
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.bootstrap import build
from switchboard.config import Settings
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.conversation import DeliveryStatus
from switchboard.domain.identity import IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role, User
from switchboard.domain.source import Source

PEOPLE = [
    ("admin", "Анна Админова", Role.ADMIN, "admin-demo-1"),
    ("supervisor", "Сергей Супервайзеров", Role.SUPERVISOR, "supervisor-demo-1"),
    ("olga", "Ольга Операторова", Role.OPERATOR, "operator-demo-1"),
    ("ivan", "Иван Петров", Role.OPERATOR, "operator-demo-1"),
    ("maria", "Maria Smirnova", Role.OPERATOR, "operator-demo-1"),
]
DEMO_LOGINS = [(login, password, role.value) for login, _, role, password in PEOPLE]
FIRST = ["Алексей", "Мария", "Дмитрий", "Елена", "Никита", "Ольга", "Павел", "Татьяна", "John", "Emma"]
LAST = ["Иванов", "Кузнецова", "Соколов", "Попова", "Лебедев", "Новикова", "Морозов", "Волкова", "Smith", "Brown"]
QUESTIONS = [
    "Здравствуйте! Где мой заказ №{n}?",
    "Можно поменять адрес доставки?",
    "Какие у вас часы работы?",
    "Хочу оформить возврат товара",
    "Есть ли скидка для постоянных клиентов?",
    "Hello, is item {n} in stock?",
    "Не проходит оплата картой",
    "Подскажите по тарифам для бизнеса",
    "Спасибо, всё получил!",
]
ANSWERS = [
    "Здравствуйте! Проверяю, одну минуту.",
    "Готово, изменения сохранены.",
    "Отправили вам ссылку.",
    "Передал вопрос в отдел доставки, ответим сегодня.",
    "Hello! Yes, it ships tomorrow.",
]


SALES_ROUTING = {
    "mode": "evenly",
    "actions": {
        "welcome": "first_contact_ever",
        "default_language": "ru",
        "templates": {"welcome": {"ru": "Здравствуйте, {contact_name}! Менеджер ответит через минуту."}},
    },
}
WEBCHAT_SETTINGS = {
    "title": "Ромашка: чат с консультантом",
    "prechat": {"fields": [{"name": "name", "required": True}, {"name": "phone"}, {"name": "email"}]},
}
SUPPORT_ROUTING = {
    "mode": "strict_order",
    "forwarding_timeout_s": 60,
    "auto_pause_after_missed": 3,
    "calendar": {"weekly": {str(day): ["09:00-21:00"] for day in range(7)}},
    "off_hours": {"action": "auto_reply"},
}


class WalkingClock:
    """A clock that moves forward by a few minutes on every read: history spread over two weeks."""

    def __init__(self, start: datetime, rng: random.Random) -> None:
        self._now = start
        self._rng = rng

    def now(self) -> datetime:
        self._now += timedelta(seconds=self._rng.randint(20, 900))
        return self._now


async def load_demo(settings: Settings, *, force: bool = False) -> list[tuple[str, str, str]] | None:
    """Load the demo into the configured database; None when it already holds people."""
    rng = random.Random(20261122)
    clock = WalkingClock(datetime.now(UTC) - timedelta(days=14), rng)
    container = build(settings, clock=clock, fast_hashing=False)
    try:
        async with container.services.uow(read_only=True) as uow:
            if await uow.users.list(None) and not force:
                return None
        await _populate(container.services, rng)
    finally:
        await container.database.dispose()
    return DEMO_LOGINS


async def _populate(services: Services, rng: random.Random) -> None:
    users = {}
    for login, name, role, password in PEOPLE:
        users[login] = await create_user(
            services, None, NewUser(login, name, role, password, f"{login}@switchboard.example")
        )
    admin = Principal(Role.ADMIN, users["admin"].id)
    operators = [users["olga"], users["ivan"], users["maria"]]
    sales = await create_line(
        services, admin, Line(0, "Продажи", operator_ids=[u.id for u in operators], routing=SALES_ROUTING)
    )
    support = await create_line(
        services,
        admin,
        Line(
            0,
            "Поддержка",
            create_lead_for_new_contact=False,
            operator_ids=[operators[0].id, operators[1].id],
            routing=SUPPORT_ROUTING,
        ),
    )
    channels = [
        await create_channel(services, admin, ChannelKind.API, "Сайт (API)", sales.id, {}),
        await create_channel(
            services, admin, ChannelKind.TELEGRAM, "Telegram-бот", sales.id, {}, {"bot_token": DEMO_BOT_TOKEN}
        ),
        await create_channel(
            services,
            admin,
            ChannelKind.EMAIL,
            "support@shop.example",
            support.id,
            {
                "addresses": ["support@shop.example"],
                # a local relay for trying replies out: python -m aiosmtpd -n -l 127.0.0.1:2525
                "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none"},
            },
        ),
        await create_channel(
            services,
            admin,
            ChannelKind.WHATSAPP,
            "WhatsApp",
            support.id,
            {"phone_number_id": "100000000000001"},
            DEMO_META_SECRETS,
        ),
    ]
    for n in range(50):
        await _customer_story(services, admin, operators, channels, rng, n)
    # the widget on /demo/chat (kept out of ``channels`` so the stories above stay as they were)
    await create_channel(services, admin, ChannelKind.WEBCHAT, "Чат на сайте", sales.id, WEBCHAT_SETTINGS)
    await _history_delivered(services)


# placeholders: the demo's messenger channels show the wiring; replace them with real credentials to go live
DEMO_BOT_TOKEN = "1000000001:DEMO-not-a-real-bot-token"  # noqa: S105 - a placeholder, not a secret
DEMO_META_SECRETS = {"access_token": "DEMO-token", "app_secret": "DEMO-app-secret", "verify_token": "DEMO-verify"}


async def _history_delivered(services: Services) -> None:
    """The demo's replies are history: delivered long ago, not waiting for a provider now."""
    later = services.clock.now() + timedelta(days=3650)
    async with services.uow() as uow:
        for task in await uow.deliveries.claim(later, later, 100_000):
            await uow.deliveries.remove(task.message_id)
            await uow.messages.set_delivery(task.message_id, DeliveryStatus.DELIVERED, None)
        await uow.commit()


async def _customer_story(
    services: Services, admin: Principal, operators: list[User], channels: list[Channel], rng: random.Random, n: int
) -> None:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    phone = f"+7916{rng.randint(1_000_000, 9_999_999)}"
    email = f"client{n}@mail.example"
    for visit in range(rng.randint(1, 3)):
        channel = rng.choice(channels)
        sender = _sender_for(channel.kind, name, phone, email, n)
        source = Source(utm_source=rng.choice(["yandex", "google", "vk", None]), utm_campaign="autumn-sale")
        result = await receive_message(
            services,
            admin,
            InboundMessage(
                channel.id, sender, rng.choice(QUESTIONS).format(n=1000 + n), f"demo-{n}-{visit}", source=source
            ),
        )
        if rng.random() < 0.7:
            operator = rng.choice(operators)
            await assign_conversation(services, admin, result.conversation_id, operator.id)
            me = Principal(Role.OPERATOR, operator.id)
            await send_reply(services, me, result.conversation_id, Reply(rng.choice(ANSWERS)))
            if rng.random() < 0.9:
                await close_conversation(services, me, result.conversation_id)


def _sender_for(kind: ChannelKind, name: str, phone: str, email: str, n: int) -> Sender:
    """Every contact also gives a phone, so their channels meet in one profile."""
    if kind is ChannelKind.EMAIL:
        return Sender(name, phone=phone, email=email)
    if kind is ChannelKind.TELEGRAM:
        return Sender(name, phone=phone, external_kind=IdentityKind.TELEGRAM, external_id=str(700_000 + n))
    return Sender(name, phone=phone)
