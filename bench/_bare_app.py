"""The baseline: a bare starlette app answering a constant, on uvicorn with httptools + uvloop."""

import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    b"<Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId><Account>000000000000</Account>"
    b"</GetCallerIdentityResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"
    b"</GetCallerIdentityResponse>"
)


async def constant(request):
    await request.body()
    return Response(BODY, media_type="text/xml")


app = Starlette(routes=[Route("/", constant, methods=["POST"])])

if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"ready {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False, log_level="warning")).run(
        sockets=[sock]
    )
    sys.exit(0)
