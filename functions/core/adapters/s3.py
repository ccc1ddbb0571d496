"""S3: the newest object under a prefix, a small JSON object (S3Port)."""

from __future__ import annotations

import json
from typing import Any

from functions.core.adapters.clients import Clients
from functions.core.errors import error_code
from functions.core.ports import S3Object


class S3Adapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def newest_object(self, bucket: str, prefix: str, start_after: str | None = None) -> S3Object | None:
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1000}
        if start_after:
            request["StartAfter"] = start_after
        contents = self._clients("s3").list_objects_v2(**request).get("Contents", [])
        if not contents:
            return None
        newest = max(contents, key=lambda o: o["LastModified"])
        return S3Object(key=newest["Key"], last_modified=newest["LastModified"], size=int(newest.get("Size", 0)))

    def read_json(self, bucket: str, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            body = self._clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read(64 * 1024)
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError(f"s3://{bucket}/{key} is not a JSON object")
        return data
