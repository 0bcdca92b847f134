"""PartiQL: ExecuteStatement (SELECT/INSERT/UPDATE/DELETE, parameters, paging), BatchExecuteStatement
and ExecuteTransaction on the provider."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def music(ddb: Any) -> Any:
    ddb.create("Music", range_type="S")
    for artist, song, year in [("A", "s1", 2001), ("A", "s2", 2002), ("A", "s3", 2003), ("B", "t1", 1999)]:
        ddb("ExecuteStatement", Statement="INSERT INTO Music VALUE {'pk': ?, 'sk': ?, 'year': ?, 'tags': <<'x', 'y'>>}",
            Parameters=[{"S": artist}, {"S": song}, {"N": str(year)}])
    return ddb


def test_select_query_and_scan(music: Any) -> None:
    out = music("ExecuteStatement", Statement="SELECT sk, \"year\" FROM Music WHERE pk = 'A' AND \"year\" >= 2002")
    assert out["Items"] == [{"sk": {"S": "s2"}, "year": {"N": "2002"}}, {"sk": {"S": "s3"}, "year": {"N": "2003"}}]
    out = music("ExecuteStatement", Statement="SELECT * FROM Music WHERE \"year\" < ?", Parameters=[{"N": "2001"}])
    assert [i["sk"]["S"] for i in out["Items"]] == ["t1"]
    out = music("ExecuteStatement", Statement="SELECT * FROM Music WHERE pk IN ['A', 'B'] AND contains(tags, 'x') AND sk BETWEEN 's2' AND 't9'")
    assert sorted(i["sk"]["S"] for i in out["Items"]) == ["s2", "s3", "t1"]
    out = music("ExecuteStatement", Statement="SELECT * FROM Music WHERE pk = 'A' AND missing_attr IS MISSING")
    assert len(out["Items"]) == 3


def test_select_paging(music: Any) -> None:
    seen = []
    token = None
    while True:
        out = music("ExecuteStatement", Statement="SELECT sk FROM Music WHERE pk = 'A'", Limit=2,
                    **({"NextToken": token} if token else {}))
        seen += [i["sk"]["S"] for i in out["Items"]]
        token = out.get("NextToken")
        if not token:
            break
    assert seen == ["s1", "s2", "s3"]


def test_insert_update_delete(music: Any) -> None:
    err = music.error("ExecuteStatement", Statement="INSERT INTO Music VALUE {'pk': 'A', 'sk': 's1'}")
    assert (err.code, err.message) == ("DuplicateItemException", "Duplicate primary key exists in table")
    out = music("ExecuteStatement", Statement="UPDATE Music SET \"year\" = \"year\" + 1 SET tags = set_add(tags, <<'z'>>) "
                                              "REMOVE extra WHERE pk = 'A' AND sk = 's1' RETURNING ALL NEW *")
    assert out["Items"][0]["year"] == {"N": "2002"} and sorted(out["Items"][0]["tags"]["SS"]) == ["x", "y", "z"]
    err = music.error("ExecuteStatement", Statement="UPDATE Music SET \"year\" = 1 WHERE pk = 'A' AND sk = 'nope'")
    assert err.code == "ConditionalCheckFailedException"
    err = music.error("ExecuteStatement", Statement="UPDATE Music SET \"year\" = 1 WHERE pk = 'A' AND sk = 's1' AND \"year\" = 1")
    assert err.code == "ConditionalCheckFailedException"
    err = music.error("ExecuteStatement", Statement="UPDATE Music SET \"year\" = 1 WHERE pk = 'A'")
    assert err.message == "Where clause does not contain a mandatory equality on all key attributes"
    music("ExecuteStatement", Statement="DELETE FROM Music WHERE pk = 'B' AND sk = 't1'")
    assert music("GetItem", TableName="Music", Key={"pk": {"S": "B"}, "sk": {"S": "t1"}}) == {}
    err = music.error("ExecuteStatement", Statement="SELEC * FROM Music")
    assert err.code == "ValidationException" and err.message.startswith("Statement wasn't well formed, can't be processed:")
    err = music.error("ExecuteStatement", Statement="SELECT * FROM Music WHERE pk = ?")
    assert err.message == "Number of parameters in request and statement don't match."


def test_batch_execute_statement(music: Any) -> None:
    out = music("BatchExecuteStatement", Statements=[
        {"Statement": "SELECT * FROM Music WHERE pk = 'A' AND sk = 's1'"},
        {"Statement": "SELECT * FROM Music WHERE pk = 'A' AND sk = 'zz'"},
    ])
    assert out["Responses"][0]["Item"]["year"] == {"N": "2001"} and "Item" not in out["Responses"][1]
    out = music("BatchExecuteStatement", Statements=[
        {"Statement": "INSERT INTO Music VALUE {'pk': 'C', 'sk': 'u1'}"},
        {"Statement": "INSERT INTO Music VALUE {'pk': 'A', 'sk': 's1'}"},
    ])
    assert out["Responses"][0] == {"TableName": "Music"}
    assert out["Responses"][1]["Error"]["Code"] == "DuplicateItem"


def test_execute_transaction(music: Any) -> None:
    music("ExecuteTransaction", TransactStatements=[
        {"Statement": "INSERT INTO Music VALUE {'pk': 'D', 'sk': 'd1'}"},
        {"Statement": "UPDATE Music SET \"year\" = 1 WHERE pk = 'A' AND sk = 's1'"},
    ])
    err = music.error("ExecuteTransaction", TransactStatements=[
        {"Statement": "INSERT INTO Music VALUE {'pk': 'E', 'sk': 'e1'}"},
        {"Statement": "INSERT INTO Music VALUE {'pk': 'D', 'sk': 'd1'}"},
    ])
    assert err.code == "TransactionCanceledException"
    assert [r["Code"] for r in err.fields["CancellationReasons"]] == ["None", "DuplicateItem"]
    assert music("GetItem", TableName="Music", Key={"pk": {"S": "E"}, "sk": {"S": "e1"}}) == {}
    out = music("ExecuteTransaction", TransactStatements=[
        {"Statement": "SELECT * FROM Music WHERE pk = 'A' AND sk = 's1'"},
        {"Statement": "SELECT * FROM Music WHERE pk = 'D' AND sk = 'd1'"},
    ])
    assert out["Responses"][0]["Item"]["year"] == {"N": "1"} and out["Responses"][1]["Item"]["pk"] == {"S": "D"}
