"""DynamoDB answered inside the process, for the cold-start bench (`bench/coldstart.py`).

botocore builds, signs and sends every request as it would to AWS; this answers at the
transport (`URLLib3Session.send`, patched on the class, so clients made before or after
`install` alike), and botocore parses the answer as usual. Only the network is left out,
and no moto: what is counted is the app and its libraries.

The answers come from items the bench wrote on moto beforehand (DynamoDB JSON by table):
GetItem by key; Query of an index returns the items whose value of the index's hash key is
among the request's values (enough for the `due` index's one shard per query); every
write succeeds and is not applied, so a request repeated does the same work again. An
UpdateItem asking for ALL_NEW (the sweeper's claim) gets the stored item with its SET and
ADD actions applied (top-level attributes only), still not stored. SQS (the sweeper's
hand-offs to the fan-out queue) accepts every message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.httpsession import URLLib3Session

# Which attribute is the hash key of each (table, index), and the table's own key.
Keys = dict[str, dict[str, str]]
Items = dict[str, list[dict[str, Any]]]


class _Body:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def answer(operation: str, request: dict[str, Any], items: Items, keys: Keys) -> dict[str, Any]:
    """The JSON body DynamoDB would return, from the stored items."""
    table = request.get("TableName", "")
    if operation == "GetItem":
        wanted = request["Key"]
        found = next((i for i in items.get(table, []) if all(i.get(k) == v for k, v in wanted.items())), None)
        return {"Item": found} if found is not None else {}
    if operation == "Query":
        hash_key = keys[table][request.get("IndexName", "")]
        values = list(request.get("ExpressionAttributeValues", {}).values())
        found_items = [i for i in items.get(table, []) if i.get(hash_key) in values]
        return {"Items": found_items, "Count": len(found_items), "ScannedCount": len(found_items)}
    if operation == "UpdateItem" and request.get("ReturnValues") == "ALL_NEW":
        wanted = request["Key"]
        found = next((i for i in items.get(table, []) if all(i.get(k) == v for k, v in wanted.items())), None)
        return {"Attributes": _updated(found or dict(wanted), request)}
    return {}  # PutItem, UpdateItem, DeleteItem, TransactWriteItems: accepted, not applied


def _updated(item: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """`item` with the request's `SET #n = :v` and `ADD #n :v` actions applied."""
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    out = dict(item)
    for clause in re.findall(r"(SET|ADD|REMOVE)\s+(.*?)(?=\s+(?:SET|ADD|REMOVE)\s|$)", request["UpdateExpression"]):
        verb, body = clause
        for part in (p.strip() for p in body.split(",")):
            if verb == "SET":
                name, value = (x.strip() for x in part.split("="))
                out[names.get(name, name)] = values[value]
            elif verb == "ADD":
                name, value = part.split()
                attr = names.get(name, name)
                total = float(out.get(attr, {"N": "0"})["N"]) + float(values[value]["N"])
                out[attr] = {"N": str(int(total)) if total.is_integer() else str(total)}
            else:
                out.pop(names.get(part, part), None)
    return out


def _sqs(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    if operation == "SendMessageBatch":
        return {
            "Successful": [{"Id": e["Id"], "MessageId": e["Id"], "MD5OfMessageBody": ""} for e in request["Entries"]]
        }
    return {}


def install(path: str) -> dict[str, Any]:
    """Answer every request of this process from the items saved at `path` (see `save`);
    returns the whole file (the bench keeps its events there too)."""
    with open(path) as f:
        saved: dict[str, Any] = json.load(f)
    items: Items = saved["items"]
    keys: Keys = saved["keys"]

    def send(self: URLLib3Session, request: Any) -> AWSResponse:
        target = request.headers["X-Amz-Target"]
        service, _, operation = (target.decode() if isinstance(target, bytes) else target).partition(".")
        if service == "AmazonSQS":
            body = json.dumps(_sqs(operation, json.loads(request.body))).encode()
            headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench"}
            return AWSResponse(request.url, 200, headers, _Body(body))
        body = json.dumps(answer(operation, json.loads(request.body), items, keys)).encode()
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench"}
        return AWSResponse(request.url, 200, headers, _Body(body))

    URLLib3Session.send = send  # type: ignore[method-assign]
    return saved


def save(path: str, client: Any, tables: list[str], **extra: Any) -> None:
    """Every item of `tables` (a scan through `client`), each index's hash key, and `extra`."""
    items: Items = {}
    keys: Keys = {}
    for table in tables:
        described = client.describe_table(TableName=table)["Table"]
        keys[table] = {"": _hash_key(described["KeySchema"])}
        for index in described.get("GlobalSecondaryIndexes", []):
            keys[table][index["IndexName"]] = _hash_key(index["KeySchema"])
        items[table] = client.scan(TableName=table)["Items"]
    with open(path, "w") as out:
        json.dump({"items": items, "keys": keys, **extra}, out)


def _hash_key(schema: list[dict[str, str]]) -> str:
    return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
