"""Plain HTTP with an answer's head and body sent in one write.

Uvicorn writes the status line and headers as soon as the app sends them, then the body: two
`send` system calls, two TCP segments and two wake-ups of the client for every answer. For a
cached page, which the app answers without awaiting anything in between, those two writes
were about half of serve's CPU time per answer (docs/design.md, "Serving"). Here the writes
made during one turn of the event loop are joined and sent at the end of it; nothing waits
longer than that turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class JoinedWrites:
    """A transport whose writes within one loop turn go out as one; the rest is passed on."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Send what was written since the last flush, as one write."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()  # what was written before the close still goes out, in order
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class JoinedWritesProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol over `JoinedWrites`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport))  # type: ignore[arg-type]
