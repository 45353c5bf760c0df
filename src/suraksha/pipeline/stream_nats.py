"""NATS JetStream as a ``stream.Source``: a durable pull consumer.

The consumer is durable (its name survives restarts and is shared by every ``suraksha consume``
reading the same stream: JetStream hands each message to one of them) and acknowledges
explicitly: a message not acknowledged within ``ack_wait`` seconds is delivered again. The
message id is the publisher's ``Nats-Msg-Id`` header when it set one (JetStream also drops a
re-publish with the same id inside the stream's duplicate window), else ``<stream>:<sequence>``,
the same on every redelivery.

Dead letters are published to ``dead_letter_subject`` (captured by a stream of their own,
created if no stream captures the subject) with the reason and the origin in headers; the
original is acknowledged only after JetStream confirmed the dead letter is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError

from suraksha.errors import Unavailable
from suraksha.pipeline.stream import MESSAGE_ID_HEADER, ORIGIN_HEADER, REASON_HEADER

DEAD_LETTER_STREAM = "SURAKSHA_DEAD_LETTERS"


@dataclass(frozen=True)
class NatsMessage:
    """A fetched JetStream message in the shape ``stream.Message`` asks for."""

    raw: Any

    @property
    def id(self) -> str:
        headers = self.raw.headers or {}
        if headers.get(MESSAGE_ID_HEADER):
            return str(headers[MESSAGE_ID_HEADER])
        meta = self.raw.metadata
        return f"{meta.stream}:{meta.sequence.stream}"

    @property
    def data(self) -> bytes:
        return bytes(self.raw.data)

    @property
    def deliveries(self) -> int:
        return int(self.raw.metadata.num_delivered)


class NatsSource:
    """``await NatsSource.connect(...)``; then ``fetch``/``ack``/``retry``/``dead_letter``/``close``."""

    def __init__(self, nc: Any, js: Any, sub: Any, *, stream: str, subject: str, dead_letter_subject: str) -> None:
        self._nc, self._js, self._sub = nc, js, sub
        self.stream, self.subject, self.dead_letter_subject = stream, subject, dead_letter_subject

    @classmethod
    async def connect(
        cls,
        servers: str | list[str],
        *,
        stream: str,
        subject: str,
        durable: str = "suraksha-consume",
        dead_letter_subject: str = "suraksha.dead-letter",
        ack_wait: float = 120.0,
        create_stream: bool = False,
    ) -> NatsSource:
        try:
            nc = await nats.connect(servers, connect_timeout=5, max_reconnect_attempts=3, allow_reconnect=True)
        except Exception as exc:  # noqa: BLE001 - nats raises several types for an unreachable server
            raise Unavailable(f"NATS at {servers} is not reachable: {type(exc).__name__}") from None
        js = nc.jetstream()
        try:
            await js.stream_info(stream)
        except NotFoundError:
            if not create_stream:
                await nc.close()
                raise Unavailable(f"JetStream stream {stream!r} does not exist (create it, or pass --create-stream)") from None
            await js.add_stream(StreamConfig(name=stream, subjects=[subject]))
        try:
            await js.find_stream_name_by_subject(dead_letter_subject)
        except NotFoundError:  # no stream captures it: ours does, from now on
            try:
                info = await js.stream_info(DEAD_LETTER_STREAM)
            except NotFoundError:
                await js.add_stream(StreamConfig(name=DEAD_LETTER_STREAM, subjects=[dead_letter_subject]))
            else:
                info.config.subjects = [*(info.config.subjects or []), dead_letter_subject]
                await js.update_stream(info.config)
        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait, filter_subject=subject)
        sub = await js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
        return cls(nc, js, sub, stream=stream, subject=subject, dead_letter_subject=dead_letter_subject)

    async def fetch(self, batch: int, timeout: float) -> list[NatsMessage]:
        try:
            msgs = await self._sub.fetch(batch, timeout=timeout)
        except (NatsTimeout, TimeoutError):  # nats-py raises either, by version and by path
            return []
        return [NatsMessage(m) for m in msgs]

    async def ack(self, messages: list[NatsMessage]) -> None:
        for m in messages:
            await m.raw.ack()
        if messages:
            await self._nc.flush()  # the acks have left before we fetch more

    async def retry(self, messages: list[NatsMessage], delay: float) -> None:
        for m in messages:
            await m.raw.nak(delay=delay)
        await self._nc.flush()

    async def dead_letter(self, message: NatsMessage, reason: str) -> None:
        meta = message.raw.metadata
        headers = {
            REASON_HEADER: reason[:1000].replace("\r", " ").replace("\n", " "),
            ORIGIN_HEADER: f"{meta.stream}:{meta.sequence.stream}:{message.raw.subject}",
            MESSAGE_ID_HEADER: f"dead:{message.id}",  # a second dead-lettering of a redelivery is dropped
        }
        await self._js.publish(self.dead_letter_subject, message.data, headers=headers)  # waits for the PubAck

    async def close(self) -> None:
        try:
            await self._sub.unsubscribe()
        finally:
            await self._nc.close()
