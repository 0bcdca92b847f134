"""A reference for the 64 MiB rows: a bare ASGI app on uvicorn (httptools + uvloop), no S3 at all.

PUT hands each received piece to a thread that MD5s it while the next piece arrives (S3's ETag,
which every S3 server must compute; no checksums, no storage) and answers 200 with the ETag
once the last piece is digested (the body itself is dropped: keeping it would cost a 64 MiB join
that a streaming server does not pay); GET answers a 64 MiB random body made at start-up and
held in memory, in 1 MiB pieces, with its CRC32 when the client asks (``x-amz-checksum-mode:
ENABLED``, which boto3 sends by default, as S3 does for an object uploaded with a CRC32). The same boto3 and raw clients as the real
rows measure it in the same run (``bench/s3.py`` prints it): about the most any Python S3 server
on this stack can do on this machine with these clients. Multipart uploads get the least answers
boto3's transfer manager accepts: an UploadId, each part treated as a PUT, and a completion
document.
"""

import asyncio
import base64
import hashlib
import os
import queue
import socket
import sys
import threading
import zlib

import uvicorn

MiB = 1 << 20
stored = {"body": os.urandom(64 * MiB), "etag": '"0"'}
CRC32 = base64.b64encode(zlib.crc32(stored["body"]).to_bytes(4, "big"))


async def app(scope, receive, send):  # noqa: ANN001, ANN201 - a bare ASGI callable
    if scope["type"] != "http":
        return
    query = scope.get("query_string", b"")
    if scope["method"] == "POST":  # CreateMultipartUpload (?uploads) or CompleteMultipartUpload
        while (await receive()).get("more_body"):
            pass
        if query.startswith(b"uploads"):
            xml = b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId></InitiateMultipartUploadResult>"
        else:
            xml = b"<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>\"0-1\"</ETag></CompleteMultipartUploadResult>"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/xml")]})
        await send({"type": "http.response.body", "body": xml})
        return
    if scope["method"] == "PUT":
        digest, todo = hashlib.md5(), queue.SimpleQueue()
        loop, done = asyncio.get_running_loop(), asyncio.Event()

        def hash_pieces() -> None:  # hashlib releases the GIL: MD5 runs next to the receiving
            while (piece := todo.get()) is not None:
                digest.update(piece)
            loop.call_soon_threadsafe(done.set)

        threading.Thread(target=hash_pieces).start()
        more = True
        while more:
            message = await receive()
            piece = message.get("body", b"")
            todo.put(piece)
            more = message.get("more_body", False)
        todo.put(None)
        await done.wait()
        etag = f'"{digest.hexdigest()}"'.encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"etag", etag)]})
        await send({"type": "http.response.body", "body": b""})
        return
    body = stored["body"]
    headers = [(b"content-length", str(len(body)).encode()), (b"etag", stored["etag"].encode()),
               (b"content-type", b"binary/octet-stream")]
    if (b"x-amz-checksum-mode", b"ENABLED") in scope["headers"]:
        headers.append((b"x-amz-checksum-crc32", CRC32))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
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
