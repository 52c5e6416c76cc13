"""Six simulated years, a purge every simulated day through the real command.

A small independent model says when each record must end; after every daily purge the
database must hold exactly what the model says is still alive: nothing outlives its
period, nothing goes early.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from webhook_app import clients, clock, messages, privacy
from webhook_app.extensions import db
from webhook_app.models import Client, ContactMessage, Invoice

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 6 * 365 + 2
PEOPLE = 30


def years_later(moment: datetime, years: int) -> datetime:
    """The same calendar moment ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@dataclass
class ModelMessage:
    person: str
    received: datetime
    flagged: datetime | None = None
    client: str | None = None
    gone: bool = False  # erased on request or ended with its client

    def end(self, model: Model) -> datetime | None:
        if self.flagged:
            return years_later(self.flagged, 5)
        if self.client:
            return model.clients[self.client].end()
        return years_later(self.received, 1)


@dataclass
class ModelClient:
    last_activity: datetime
    anonymised: bool = False
    invoices: dict[int, datetime] = field(default_factory=dict)

    def end(self) -> datetime:
        return years_later(self.last_activity, 3)


@dataclass
class Model:
    messages: dict[str, ModelMessage] = field(default_factory=dict)
    clients: dict[str, ModelClient] = field(default_factory=dict)


def test_six_years_of_daily_purges(app, runner):
    model = Model()
    plans: dict[int, list] = {}

    def plan(day: int, action) -> None:
        plans.setdefault(day, []).append(action)

    with app.app_context():
        for day in range(DAYS):
            today = START + timedelta(days=day)
            purge_at = today + timedelta(hours=3, minutes=30)
            result = runner.invoke(args=["purge", "--now", clock.format_rfc3339(purge_at)])
            assert result.exit_code == 0, result.output
            for client_id, modelled in model.clients.items():
                if not modelled.anonymised and modelled.end() <= purge_at:
                    modelled.anonymised = True
                    for message in model.messages.values():
                        if message.client == client_id:
                            message.gone = True
            check(model, purge_at)

            at = today + timedelta(hours=9)
            with clock.frozen(at):
                number = len(model.messages)
                person = f"person{number % PEOPLE}@example.fr"
                message_id = receive(person, at)
                model.messages[message_id] = ModelMessage(person, at)
                if number % 37 == 5:
                    plan(day + 10, ("flag", message_id))
                if number % 53 == 7:
                    plan(day + 3, ("convert", message_id))
                if day % 400 == 399:
                    plan(day, ("erase", person))
                for action in plans.pop(day, []):
                    act(model, action, at, day, plan)


def receive(email: str, at: datetime) -> str:
    from webhook_app import messages
    from webhook_app.models import orm_transaction

    with orm_transaction() as connection:
        row = messages.receive(connection, 1, {"name": "N", "email": email, "message": "m"})
    return row["id"]


def act(model: Model, action: tuple, at: datetime, day: int, plan) -> None:
    kind, target = action[0], action[1]
    if kind == "flag":
        message = model.messages[target]
        if not message.gone and message.end(model) > at and not message.client:
            messages.hold(target, "simulated", "cli:test")
            message.flagged = at
    elif kind == "convert":
        message = model.messages[target]
        if not message.gone and not message.flagged and message.end(model) > at:
            client = messages.attach_to_client(target, "cli:test")
            modelled = model.clients.setdefault(client.id, ModelClient(message.received))
            modelled.last_activity = max(modelled.last_activity, message.received)
            message.client = client.id
            for offset, step in ((20, "quote"), (40, "invoice"), (70, "payment")):
                plan(day + offset, (step, client.id))
    elif kind in ("quote", "invoice", "payment"):
        modelled = model.clients[target]
        if modelled.anonymised:
            return
        client = db.session.get(Client, target)
        if kind == "quote":
            clients.add_quote(target, f"D-{day}", at, 10000, "sent", actor="cli:test")
        elif kind == "invoice":
            invoice = clients.add_invoice(target, f"F-{day}", at, 10000, actor="cli:test")
            modelled.invoices[invoice.id] = at
        elif client.invoices:
            clients.record_payment(client.invoices[-1].id, at, "transfer", actor="cli:test")
        modelled.last_activity = max(modelled.last_activity, at)
    elif kind == "erase":
        page = 1
        while not privacy.erase_page(1, target, page, actor="site:default")["done"]:
            page += 1
        db.session.commit()
        for message in model.messages.values():
            if message.person == target and not message.flagged:
                message.gone = True
                if message.client:
                    model.clients[message.client].anonymised = True
        for message in model.messages.values():
            if message.client and model.clients[message.client].anonymised:
                message.gone = True


def check(model: Model, now: datetime) -> None:
    for message in model.messages.values():
        if not message.gone and message.end(model) <= now:
            message.gone = True  # ended: from now on the model never expects it again
    expected = {message_id for message_id, message in model.messages.items() if not message.gone}
    stored = set(db.session.scalars(db.select(ContactMessage.id)))
    assert stored - expected == set(), f"{now}: records outlived their period"
    assert expected - stored == set(), f"{now}: records removed early"
    anonymised = set(db.session.scalars(
        db.select(Client.id).where(Client.anonymised_at.is_not(None))))
    assert anonymised == {cid for cid, c in model.clients.items() if c.anonymised}, now
    invoices = set(db.session.scalars(db.select(Invoice.id)))
    assert invoices == {i for c in model.clients.values() for i in c.invoices}, now
