"""The outbox: work a transaction asks for, carried out after it commits, exactly once, with retries.

``enqueue(session, topic, payload, dedupe_key)`` in the deciding transaction; ``consume(topic,
handler)`` is the one claim / lease / retry / dead-letter loop (``outbox.service``). Which handler
carries out which topic is decided in one place only, ``suraksha.dispatch``.
"""

from suraksha.outbox.models import TOPICS, OutboxMessage
from suraksha.outbox.service import (
    Consumed,
    Done,
    Handler,
    Message,
    MessageNotFound,
    OutboxError,
    Skip,
    consume,
    enqueue,
    enqueue_many,
    existing_keys,
    unfinished,
)

__all__ = [
    "TOPICS",
    "Consumed",
    "Done",
    "Handler",
    "Message",
    "MessageNotFound",
    "OutboxError",
    "OutboxMessage",
    "Skip",
    "consume",
    "enqueue",
    "enqueue_many",
    "existing_keys",
    "unfinished",
]
