"""Imports every model module so that Base.metadata knows all tables (Alembic, create_all, tests)."""

from .accounts.models import *  # noqa: F403
from .attachments.models import *  # noqa: F403
from .audit import AuditEntry  # noqa: F401
from .cards.models import *  # noqa: F403
from .coedit.models import *  # noqa: F403
from .comments.models import *  # noqa: F403
from .cycles.models import *  # noqa: F403
from .evaluation.models import *  # noqa: F403
from .idempotency import IdempotencyKey  # noqa: F401
from .mail import OutboxMessage  # noqa: F401
from .meetings.models import *  # noqa: F403
from .notifications.models import *  # noqa: F403
from .orgs.models import *  # noqa: F403
from .participation.models import *  # noqa: F403
from .realtime import LiveEvent  # noqa: F401
from .tavoli.models import *  # noqa: F403
from .territory.models import *  # noqa: F403
