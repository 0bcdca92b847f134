"""Receipt handles: opaque to clients, naming (queue, generation, message seq, receive nonce).

Each receive gives a message a new nonce, so only the latest handle of a message is current: AWS
accepts a stale handle in DeleteMessage without deleting anything, and refuses it in
ChangeMessageVisibility.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from awsemu.services.sqs.errors import ReceiptHandleIsInvalid

_MAGIC = "awsemu-sqs"


@dataclass(frozen=True)
class Receipt:
    queue: str
    gen: int
    seq: int
    nonce: str

    def encode(self) -> str:
        text = f"{_MAGIC}\n{self.queue}\n{self.gen}\n{self.seq}\n{self.nonce}"
        return base64.urlsafe_b64encode(text.encode()).decode()


def decode(handle: str) -> Receipt:
    try:
        text = base64.urlsafe_b64decode(handle.encode("ascii")).decode()
        magic, queue, gen, seq, nonce = text.split("\n")
        if magic != _MAGIC:
            raise ValueError(magic)
        return Receipt(queue, int(gen), int(seq), nonce)
    except (ValueError, UnicodeError, binascii.Error):
        raise ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.') from None
