"""Transactions survive kill -9: a child process runs transfers between two items (the sum is
invariant) and reports each acknowledged one; after SIGKILL the reopened table holds every
acknowledged transfer and never half of one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from awsemu.config import Config
from awsemu.services.base import CallContext
from awsemu.services.dynamodb.provider import DynamoDBProvider
from awsemu.storage import Storage
from awsemu.storage.lsm import DB

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from awsemu.config import Config
    from awsemu.services.base import CallContext
    from awsemu.services.dynamodb.provider import DynamoDBProvider
    from awsemu.storage import Storage
    from awsemu.storage.lsm import DB

    data = Path(sys.argv[1])
    db = DB.open(data / "meta")
    p = DynamoDBProvider(Storage(data, db), Config(data_dir=data))
    ctx = CallContext(service="dynamodb", operation="x")
    p.create_table(ctx, TableName="bank", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    for name in ("a", "b"):
        p.put_item(ctx, TableName="bank", Item={"pk": {"S": name}, "bal": {"N": "1000"}, "n": {"N": "0"}})
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        p.transact_write_items(ctx, TransactItems=[
            {"Update": {"TableName": "bank", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET bal = bal - :x, n = :i",
                        "ExpressionAttributeValues": {":x": {"N": "3"}, ":i": {"N": str(i)}}}},
            {"Update": {"TableName": "bank", "Key": {"pk": {"S": "b"}}, "UpdateExpression": "SET bal = bal + :x, n = :i",
                        "ExpressionAttributeValues": {":x": {"N": "3"}, ":i": {"N": str(i)}}}},
        ])
        print(i, flush=True)
    """
)


def test_transactions_are_all_or_nothing_through_kill_9(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out_path = tmp_path / "out.txt"
    with open(out_path, "wb") as out:
        child = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=out, stderr=subprocess.STDOUT,
                                 cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lines = out_path.read_text().split()
            if len(lines) > 200:
                break
            assert child.poll() is None, out_path.read_text()
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    acknowledged = max(int(x) for x in out_path.read_text().split() if x.isdigit())
    db = DB.open(tmp_path / "meta")
    try:
        p = DynamoDBProvider(Storage(tmp_path, db), Config(data_dir=tmp_path))
        ctx = CallContext(service="dynamodb", operation="GetItem")
        a = p.get_item(ctx, TableName="bank", Key={"pk": {"S": "a"}})["Item"]
        b = p.get_item(ctx, TableName="bank", Key={"pk": {"S": "b"}})["Item"]
        assert a["n"] == b["n"], "both halves of every transaction, or neither"
        n = int(a["n"]["N"])
        assert n >= acknowledged, "every acknowledged transaction is durable"
        assert int(a["bal"]["N"]) + int(b["bal"]["N"]) == 2000
        assert int(a["bal"]["N"]) == 1000 - 3 * n
        table = p.store.table("000000000000", "us-east-1", "bank")
        assert table is not None and p.store.stats(table.uid)[0] == 2, "statistics are committed with the items"
    finally:
        db.close()
