"""Loopback HTTP sources in a process of their own: `GET /slow?seconds=S&n=N` answers after S s.

Started by the acquisition benchmarks, so that serving thousands of sources costs the bench's
process nothing. Asyncio with a deep listen backlog: thousands of connections may arrive at
once. It listens on HOSTS loopback addresses (127.0.0.1 to 127.0.0.HOSTS) on one port, as a
site reads its sources from many servers. Prints the port on the first line, then serves until
stdin closes.

Run: python bench/slow_sources.py
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import parse_qs, urlsplit

HOSTS = 16
PAD = b"x" * 2000


def body(n: str) -> bytes:
    """An answer of about 2 KB, its own for each source (as an archive would see them)."""
    return b'{"source": "%s", "running": 1234, "queued": 56, "pad": "%s"}' % (n.encode(), PAD)


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            query = parse_qs(urlsplit(target).query)
            await asyncio.sleep(float(query.get("seconds", ["0"])[0]))
            reply = body(query.get("n", [""])[0])
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(reply)}\r\n\r\n".encode()
                + reply
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    first = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=8192)
    port = first.sockets[0].getsockname()[1]
    others = [
        await asyncio.start_server(answer, f"127.0.0.{n}", port, backlog=8192)
        for n in range(2, HOSTS + 1)
    ]
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for server in (first, *others):
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
