"""A reference for the 64 MiB rows: a bare ASGI app on uvicorn (httptools + uvloop), no S3 at all.

PUT streams the body through MD5 on the event loop (S3's ETag; no checksums, no storage) and
answers 200 with the ETag; GET answers the one body held in memory, in 1 MiB pieces, with no
checksum header (so boto3 validates nothing). The same boto3 and raw clients as the real rows
measure it in the same run (``bench/s3.py`` prints it): for GET it is about the most any Python
server on this stack and these two cores can serve; for PUT it is a naive server (MD5 in line
with the receiving), which a pipelined one beats.
"""

import hashlib
import socket
import sys

import uvicorn

MiB = 1 << 20
stored = {"body": b"", "etag": ""}


async def app(scope, receive, send):  # noqa: ANN001, ANN201 - a bare ASGI callable
    if scope["type"] != "http":
        return
    if scope["method"] == "PUT":
        digest, pieces = hashlib.md5(), []
        more = True
        while more:
            message = await receive()
            piece = message.get("body", b"")
            digest.update(piece)
            pieces.append(piece)
            more = message.get("more_body", False)
        stored["body"], stored["etag"] = b"".join(pieces), f'"{digest.hexdigest()}"'
        await send({"type": "http.response.start", "status": 200, "headers": [(b"etag", stored["etag"].encode())]})
        await send({"type": "http.response.body", "body": b""})
        return
    body = stored["body"]
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"etag", stored["etag"].encode()),
        (b"content-type", b"binary/octet-stream")]})
    view = memoryview(body)
    for at in range(0, len(body), MiB):
        await send({"type": "http.response.body", "body": view[at : at + MiB], "more_body": True})
    await send({"type": "http.response.body", "body": b""})


if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"ready {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False, log_level="warning")).run(
        sockets=[sock]
    )
    sys.exit(0)
