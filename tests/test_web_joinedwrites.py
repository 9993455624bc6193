"""Plain HTTP's head and body in one write (web/joinedwrites.py), over real loopback sockets.

test_serving.py runs the protocol inside a real `happyface serve`; here the transport's own
promises: the writes of one loop turn leave as one, in order, and a close sends what was
written before it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from happyface.web.joinedwrites import JoinedWrites


class _Counted:
    """A real transport, with every write it was given recorded."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


Peer = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _connected() -> tuple[_Counted, Peer, asyncio.Server]:
    accepted: asyncio.Queue[Peer] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = await asyncio.get_running_loop().create_connection(
        asyncio.Protocol, "127.0.0.1", port
    )
    return _Counted(transport), await accepted.get(), server


async def _end(peer: Peer, server: asyncio.Server) -> None:
    peer[1].close()
    await peer[1].wait_closed()
    server.close()
    await server.wait_closed()


async def test_the_writes_of_one_turn_leave_as_one() -> None:
    counted, (peer, writer), server = await _connected()
    joined = JoinedWrites(counted)  # type: ignore[arg-type]
    joined.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
    joined.write(b"body")
    assert counted.writes == []  # nothing before the turn ends
    await asyncio.sleep(0)
    assert counted.writes == [b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"]
    assert await peer.readexactly(42) == b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
    joined.write(b"next")
    await asyncio.sleep(0)
    assert counted.writes[1:] == [b"next"]  # a later turn's write is a write of its own
    joined.close()
    await _end((peer, writer), server)


async def test_a_close_sends_what_was_written_before_it() -> None:
    counted, (peer, writer), server = await _connected()
    joined = JoinedWrites(counted)  # type: ignore[arg-type]
    joined.write(b"the last ")
    joined.write(b"answer")
    joined.close()
    assert await peer.read() == b"the last answer"  # all of it, then the end of the stream
    await asyncio.sleep(0)  # the flush scheduled for the turn finds nothing left to send
    assert counted.writes == [b"the last answer"]
    await _end((peer, writer), server)
