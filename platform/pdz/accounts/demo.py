"""Demo: the staff accounts (administrator, Ufficio di Piano) already have their second factor, with a
published secret that `flask --app wsgi demo` prints; everyone else is not enrolled (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db import utcnow
from ..extensions import db
from .models import SecondFactor, User

# Published on purpose, like the password `demo`: add it to an authenticator app to sign in as staff.
DEMO_TOTP_SECRET = "PDZDEMOCREMASCOAMBITOTERRITORIAL"  # noqa: S105 - demo secret, printed by the CLI


def demo_staff_emails() -> list[str]:
    return list(
        db.session.scalars(select(User.email).where(User.staff_role.is_not(None)).order_by(User.email))
    )


def load(demo: Any) -> None:
    for user in db.session.scalars(select(User).where(User.staff_role.is_not(None))):
        if db.session.scalar(select(SecondFactor.id).where(SecondFactor.user_id == user.id)) is None:
            db.session.add(
                SecondFactor(
                    user_id=user.id,
                    secret=DEMO_TOTP_SECRET,
                    confirmed_at=utcnow(),
                    last_step=0,
                    failed_attempts=0,
                )
            )
