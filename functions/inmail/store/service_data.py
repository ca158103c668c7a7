"""botocore's data loader for the store's session, which only makes DynamoDB and SQS clients.

botocore's own loader, on a cold start's first client, lists every service's directory
(~450 `listdir`s, twice: once for the service model, once for its endpoint rule set) to
check that `dynamodb` exists, and parses each JSON file into OrderedDicts, about twice the
work of plain dicts (which keep their order too) for its 1.2 MB `endpoints.json`. This
loader reads the same files from the same search paths (AWS_DATA_PATH and ~/.aws/models
first, then botocore's own), into plain dicts, and knows only the services the store uses:
~110 M instructions less on each handler's init, the same models, endpoints and rules.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

from botocore.exceptions import DataNotFoundError
from botocore.loaders import JSONFileLoader, Loader, instance_cache

# What the store's session makes clients for (the tables, and the sweeper's fan-out queue,
# store/work_queue.py): any other service is unknown to this loader.
SERVICES = ("dynamodb", "sqs")


class PlainJSONFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore ships no type hints
    """botocore's JSON files (`.json`, or `.json.gz` as botocore ships its service models)
    into plain dicts."""

    def load_file(self, file_path: str) -> Any:
        for extension, opener in ((".json", open), (".json.gz", gzip.open)):
            try:
                with opener(file_path + extension, "rb") as f:
                    return json.loads(f.read())
            except (FileNotFoundError, IsADirectoryError):
                continue
        return None


class StoreServicesLoader(Loader):  # type: ignore[misc]  # botocore ships no type hints
    @instance_cache  # type: ignore[untyped-decorator]
    def list_available_services(self, type_name: str) -> list[str]:
        """The store's services that have `type_name` (say "service-2") in a search path,
        without listing every other service's directory."""
        available = []
        for name in SERVICES:
            try:
                self.list_api_versions(name, type_name)  # raises when no version has it
            except DataNotFoundError:
                continue
            available.append(name)
        return available


def store_loader(data_path: str | None) -> StoreServicesLoader:
    """The loader for a session whose `data_path` setting (AWS_DATA_PATH) is `data_path`:
    the search paths botocore's `create_loader` would use."""
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)] if data_path else None
    return StoreServicesLoader(extra_search_paths=extra, file_loader=PlainJSONFileLoader())
