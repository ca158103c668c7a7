"""Where the embedded engine reaches into moto's internals, so that the local stack costs what
a request touches, not what the tables hold. Written against one moto version (MOTO_VERSION)
and the source of every moto function it relies on (SOURCE_DIGEST): `check()` refuses any
other moto, and the engine then runs moto as it ships, with a warning (slow as the data grows,
but right).

- TransactWriteItems: moto backs up every table a transaction names with copy.deepcopy before
  applying it, to put them back whole if it is cancelled: each send copied the whole threads,
  ledger and counters tables (336 ms at 5,000 threads). Here the transaction backs up only the
  items it names, and on any failure puts exactly those back (their values, their absence,
  their place in the table's order); moto's table copy is skipped for that call only.
- Responses: moto serialises every response by walking botocore's output shape, ten member
  lookups for each attribute of each item (a tenth of the local stack's CPU under load); an
  attribute value the walk would write out unchanged is written as it is.
- Requests: DynamoDB requests go straight to moto's DynamoDB app (DynamoDBFirst).
- Snapshots: every item of the named tables read from (and restored into) moto's tables in one
  pass, where paging with Scan walks the table from its start for every page (quadratic in the
  table) and a restore through BatchWriteItem costs a request per 25 items.

None of it is thread-safe, no more than moto: the engine's gate serialises it with every request.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MOTO_VERSION = "5.2.5"
# sha256 of the source of every moto function below (`relied_on()`): a moto release that
# changes how transactions apply, back up or restore, how tables hold their items, how responses
# are serialised or requests dispatched, changes it.
SOURCE_DIGEST = "e0c7ec1257bdb70bd6bd19bc368466fd56072d1a1aeae2e3f893ada0922f9732"

_skip_table_copies = threading.local()
_original_transact: Callable[..., None] | None = None


def relied_on() -> list[Any]:
    """The moto code these patches depend on, as it reads them."""
    from moto.core import responses, serialize
    from moto.dynamodb import responses as dynamodb_responses
    from moto.dynamodb.models import DynamoDBBackend, dynamo_type, table, utilities
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    return [
        responses.BaseResponse.serialized,  # picks the serializer from moto's registry
        serialize.get_serializer_class,
        serialize.ResponseSerializer._serialize,
        serialize.ResponseSerializer._default_serialize,
        serialize.ResponseSerializer._serialize_type_structure,  # the walk plain attributes skip
        serialize.ResponseSerializer._serialize_structure_member,
        serialize.BaseJSONSerializer._serialize_type_structure,
        serialize.BaseJSONSerializer._serialize_type_map,
        serialize.BaseJSONSerializer._serialize_type_list,
        serialize.BaseJSONSerializer._serialize_type_string,
        dynamodb_responses.DynamoResult.__init__,
        utilities.dynamo_to_dict,  # binary values become bytes
        DomainDispatcherApplication.__init__,  # app_instances, create_app, lock
        DomainDispatcherApplication.get_application,  # one Flask app per backend name
        DynamoDBBackend.transact_write_items,  # copies tables with `copy.deepcopy`, restores them on failure
        DynamoDBBackend.put_item,
        DynamoDBBackend.update_item,  # mutates the item in place
        DynamoDBBackend.delete_item,
        DynamoDBBackend.get_item,
        DynamoDBBackend.get_keys_value,  # the key a write lands on
        DynamoDBBackend.get_table,
        table.Table.__init__,  # items: defaultdict of hash -> item, or hash -> {range -> item}
        table.Table.put_item,
        table.Table.get_item,
        table.Table.delete_item,
        table.Table.all_items,
        dynamo_type.Item.__init__,
        dynamo_type.Item.__deepcopy__,
        dynamo_type.Item.to_json,
        dynamo_type.DynamoType.__init__,
        dynamo_type.DynamoType.to_json,
        dynamo_type.DynamoType.to_regular_json,
    ]


def source_digest() -> str:
    digest = hashlib.sha256()
    for function in relied_on():
        digest.update(inspect.getsource(function).encode())
    return digest.hexdigest()


def check() -> str | None:
    """Why the installed moto can't be patched, or None when it can."""
    try:
        import moto
    except ImportError:
        return "moto is not installed"
    if moto.__version__ != MOTO_VERSION:
        return f"moto {moto.__version__} is installed; these patches were written for moto {MOTO_VERSION}"
    try:
        found = source_digest()
    except (OSError, TypeError, AttributeError, ImportError) as exc:
        return f"moto's source cannot be checked ({exc})"
    if found != SOURCE_DIGEST:
        return f"moto {moto.__version__}'s source is not the one these patches were written against"
    return None


def installed() -> bool:
    return _original_transact is not None


def install() -> str | None:
    """TransactWriteItems backing up items instead of tables, and DynamoDB's serializer.
    Returns why it could not (moto is then left as it ships), or None once installed.
    Idempotent; `uninstall()` puts moto back as it ships."""
    global _original_transact
    if _original_transact is not None:
        return None
    refused = check()
    if refused is not None:
        return refused
    import moto.dynamodb.models as backend_module
    from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS

    setattr(backend_module, "copy", _TableCopies(copy))  # noqa: B010 (moto's module, not ours)
    _original_transact = backend_module.DynamoDBBackend.transact_write_items
    setattr(backend_module.DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010
    SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": dynamodb_serializer()}  # moto's own registry
    return None


def uninstall() -> None:
    global _original_transact
    if _original_transact is None:
        return
    import moto.dynamodb.models as backend_module
    from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS

    setattr(backend_module.DynamoDBBackend, "transact_write_items", _original_transact)  # noqa: B010
    setattr(backend_module, "copy", copy)  # noqa: B010
    SERVICE_SPECIFIC_SERIALIZERS.pop("dynamodb", None)
    _original_transact = None


def moto_transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's own TransactWriteItems (whole-table copies), installed or not."""
    from moto.dynamodb.models import DynamoDBBackend

    original = _original_transact or DynamoDBBackend.transact_write_items
    original(backend, transact_items)


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems with a backup of the items it names instead of their tables."""
    assert _original_transact is not None, "install() first"
    backup = _ItemBackup.of(backend, transact_items)
    if backup is None:  # something moto's own path must judge (too many items, a stream, a bad key)
        _original_transact(backend, transact_items)
        return
    _skip_table_copies.on = True
    try:
        _original_transact(backend, transact_items)
    except BaseException:
        backup.restore()
        raise
    finally:
        _skip_table_copies.on = False


class _TableCopies:
    """Stands in for the `copy` module inside moto's backend module: within a patched
    transaction a Table is not copied (its items are backed up one by one instead)."""

    def __init__(self, module: Any):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        if getattr(_skip_table_copies, "on", False):
            from moto.dynamodb.models.table import Table

            if isinstance(obj, Table):
                return obj
        return self._module.deepcopy(obj, memo)


@dataclass
class _Slot:
    """One item a transaction names, as it was (None when absent)."""

    items: dict[Any, Any]  # the dict holding the item: table.items, or table.items[hash]
    key: Any
    old: Any
    table: Any
    hash_key: Any
    outer_present: bool  # range tables: table.items had this hash key (a read adds an empty one)
    deletes: bool  # a Delete of an item that is there

    def restore(self) -> bool:
        """Put the item back as it was; True when it was gone: put back, it is now last in
        its dict, out of the order it had."""
        if self.table.range_key_attr is not None and not self.outer_present:
            self.table.items.pop(self.hash_key, None)
            return False
        if self.old is None:
            self.items.pop(self.key, None)
            return False
        moved = self.key not in self.items
        self.items[self.key] = self.old
        return moved


@dataclass
class _ItemBackup:
    slots: list[_Slot]
    # The keys, in order, of each dict a Delete may take an item from: put back at the end,
    # it would move in every later Scan. Listed only then (a copy of the keys, not the items).
    orders: dict[int, list[Any]]

    @classmethod
    def of(cls, backend: Any, transact_items: list[dict[str, Any]]) -> _ItemBackup | None:
        if not isinstance(transact_items, list) or len(transact_items) > 100:
            return None
        slots: list[_Slot] = []
        try:
            for entry in transact_items:
                if not isinstance(entry, dict):
                    return None
                for op_type, op in entry.items():
                    slot = _slot(backend, op_type, op)
                    if slot is not None:
                        slots.append(slot)
        except _MotoJudges:
            return None
        orders = {id(slot.items): list(slot.items) for slot in slots if slot.deletes}
        return cls(slots, orders)

    def restore(self) -> None:
        moved = [slot for slot in reversed(self.slots) if slot.restore()]
        for holder in {id(slot.items): slot.items for slot in moved}.values():
            order = self.orders.get(id(holder))
            if order is not None:
                _reorder(holder, order)


class _MotoJudges(Exception):
    """An operation this can't resolve exactly as moto's write would (a key, a table, a
    stream): the transaction takes moto's own path."""


def _slot(backend: Any, op_type: str, op: Any) -> _Slot | None:
    """The slot an operation writes, as it is now; None when it writes nothing."""
    if op_type not in ("ConditionCheck", "Put", "Delete", "Update"):
        return None  # moto refuses it and writes nothing
    if not isinstance(op, dict):
        raise _MotoJudges
    from moto.dynamodb.exceptions import ResourceNotFoundException

    try:
        table = backend.get_table(op["TableName"])
    except ResourceNotFoundException:
        return None  # cancelled by moto: nothing is written to a table that isn't there
    except Exception as exc:
        raise _MotoJudges from exc
    if table.stream_shard is not None:  # the copy would also restore the stream's records
        raise _MotoJudges
    try:
        hash_key, range_key = backend.get_keys_value(table, op["Item"] if op_type == "Put" else op["Key"])
    except Exception as exc:
        raise _MotoJudges from exc
    outer_present = hash_key in table.items  # `in` and .get: the defaultdict must not grow
    if table.range_key_attr is None:
        holder, key = table.items, hash_key
    else:
        inner = table.items.get(hash_key)
        holder, key = (inner if inner is not None else {}), range_key
    current = holder.get(key)
    return _Slot(
        items=holder,
        key=key,
        # Only an Update changes the item in place; a Put replaces it and a Delete drops it.
        old=copy.deepcopy(current) if op_type == "Update" else current,
        table=table,
        hash_key=hash_key,
        outer_present=outer_present,
        deletes=op_type == "Delete" and current is not None,
    )


def _reorder(holder: dict[Any, Any], order: list[Any]) -> None:
    """Put the dict's keys back in their order."""
    if len(holder) != len(order):  # not the keys it had: leave it, rather than lose one
        return
    entries = [(key, holder[key]) for key in order]
    holder.clear()
    holder.update(entries)


# ---- responses ---------------------------------------------------------------------------

_SCALARS: dict[str, type] = {"S": str, "N": str, "BOOL": bool, "NULL": bool}  # B and BS: base64, left to moto


def plain_attribute(value: Any) -> bool:
    """An AttributeValue that moto's shape walk would write out unchanged: one type tag,
    strings, booleans, lists and maps of the same; no binary (moto base64-encodes it)."""
    pending = [value]
    while pending:
        node = pending.pop()
        if type(node) is not dict or len(node) != 1:
            return False
        ((tag, content),) = node.items()
        if tag in _SCALARS:
            plain = type(content) is _SCALARS[tag]
        elif tag in ("SS", "NS"):
            plain = type(content) is list and all(type(x) is str for x in content)
        elif tag == "L":
            plain = type(content) is list
            pending.extend(content if plain else ())
        elif tag == "M":
            plain = type(content) is dict and all(type(k) is str for k in content)
            pending.extend(content.values() if plain else ())
        else:
            return False
        if not plain:
            return False
    return True


def dynamodb_serializer() -> type[Any]:
    """moto's JSON serializer, but an AttributeValue that `plain_attribute` accepts is written
    as it is instead of walked member by member (ten lookups for each attribute of each item:
    a tenth of the local stack's CPU under load). Everything else (which keys an output has,
    capacities, errors) is moto's walk as before."""
    global _dynamodb_serializer
    if _dynamodb_serializer is None:
        from moto.core.serialize import JSONSerializer

        class DynamoDBJSONSerializer(JSONSerializer):
            def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
                if key and shape.name == "AttributeValue" and plain_attribute(value):
                    self._default_serialize(serialized, value, shape, key)
                    return
                super()._serialize_type_structure(serialized, value, shape, key)

        _dynamodb_serializer = DynamoDBJSONSerializer
    return _dynamodb_serializer


_dynamodb_serializer: type[Any] | None = None


# ---- requests ----------------------------------------------------------------------------


class DynamoDBFirst:
    """moto's DomainDispatcherApplication works out which service each request is for: for
    a DynamoDB request it stats every entry of moto's package directory and tries hundreds of
    URL patterns before DynamoDB's (~0.5 ms a request). The engine's requests are DynamoDB's:
    those go straight to the same Flask app the dispatcher would pick; anything else (moto's
    API, DynamoDB Streams...) still goes through the dispatcher."""

    TARGET_PREFIX = "DynamoDB_20120810."

    def __init__(self, dispatcher: Any):
        self.dispatcher = dispatcher
        with dispatcher.lock:
            app = dispatcher.app_instances.get("dynamodb")
            if app is None:
                app = dispatcher.app_instances["dynamodb"] = dispatcher.create_app("dynamodb")
        self.dynamodb = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(self.TARGET_PREFIX):
            return self.dynamodb(environ, start_response)
        return self.dispatcher(environ, start_response)


# ---- snapshots ---------------------------------------------------------------------------


def export_tables(region: str, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every item of each named table in DynamoDB JSON (what Scan returns), in the table's
    order. Item.to_json builds new containers all the way down (a set's list too), so the
    result shares nothing with the live items: under the engine's gate, the tables are read
    at one moment, and it can be serialised after the gate is released."""
    tables = _tables(region)
    out: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        if name not in tables:
            raise LookupError(f"no table {name} in the embedded engine")
        out[name] = [item.to_json()["Attributes"] for item in tables[name].all_items()]
    return out


def import_tables(region: str, tables: dict[str, list[dict[str, Any]]]) -> int:
    """Put every item (DynamoDB JSON) into its table, as PutItem would; returns the count."""
    found = _tables(region)
    count = 0
    for name, items in tables.items():
        if name not in found:
            raise LookupError(f"no table {name} in the embedded engine")
        table = found[name]
        for item in items:
            table.put_item(item)
        count += len(items)
    return count


def _tables(region: str) -> dict[str, Any]:
    """The tables of that region across moto's accounts (created backends only)."""
    from moto.dynamodb.models import dynamodb_backends

    found: dict[str, Any] = {}
    for account in list(dict.values(dynamodb_backends)):
        backend = dict.get(account, region)
        if backend is None:
            continue
        for name, table in list(backend.tables.items()):
            if name in found:
                raise LookupError(f"table {name} is in more than one moto account")
            found[name] = table
    return found
