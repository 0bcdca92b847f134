"""Browser form uploads for tests: the multipart/form-data body a browser POSTs to an S3 bucket.

S3's POST Object reads the fields in order and the file last (fields after ``file`` are ignored),
so the file part always comes last here. Use with ``boto3``'s ``generate_presigned_post``:
``body, content_type = browser_form(post["fields"], b"data")``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping


def browser_form(fields: Mapping[str, str] | Iterable[tuple[str, str]], content: bytes,
                 file_name: str = "f.txt", file_type: str = "text/plain") -> tuple[bytes, str]:
    """(body, Content-Type header) of a form with ``fields`` in order, then the ``file`` part."""
    boundary = f"----awsemu{uuid.uuid4().hex}"
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in pairs]
    parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                  f"Content-Type: {file_type}\r\n\r\n").encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
