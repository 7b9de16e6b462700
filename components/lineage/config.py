"""Where the lineage store lives: a metadata URI parsed into a typed connection configuration.

Nothing here reads the environment or touches the network; callers pass the URI they were given (a
pipeline parameter, a CLI flag) and get back a plain value they can log, compare and test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from components.lineage._mlmd import pb2
from contracts.errors import ConfigError

# `.mlops/` is the project's git-ignored local state folder.
DEFAULT_METADATA_URI = "sqlite:///.mlops/metadata.sqlite"

_MYSQL_DEFAULT_PORT = 3306
_GRPC_DEFAULT_PORT = 8080


@dataclass(frozen=True)
class SqliteConfig:
    """A local SQLite file; the default for development and single-machine runs.

    Attributes:
        path: The database file, absolute or relative to the working directory at open time.
    """

    path: Path

    def to_proto(self) -> Any:
        """Returns the ``metadata_store_pb2.ConnectionConfig`` for this file, its path made absolute."""
        config = pb2.ConnectionConfig()
        config.sqlite.filename_uri = str(self.path.absolute())
        config.sqlite.connection_mode = pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        return config


@dataclass(frozen=True)
class MysqlConfig:
    """A MySQL database, the cluster's shared store.

    Attributes:
        host: Database server host name.
        port: Database server port.
        database: Database name; MLMD creates it when missing.
        user: Login user.
        password: Login password (kept out of ``repr`` so it never lands in logs).
    """

    host: str
    port: int
    database: str
    user: str
    password: str = field(default="", repr=False)

    def to_proto(self) -> Any:
        """Returns the ``metadata_store_pb2.ConnectionConfig`` for this database."""
        config = pb2.ConnectionConfig()
        config.mysql.host = self.host
        config.mysql.port = self.port
        config.mysql.database = self.database
        config.mysql.user = self.user
        config.mysql.password = self.password
        return config


@dataclass(frozen=True)
class GrpcConfig:
    """An MLMD gRPC server (``metadata_store_server``) reached over plain-text gRPC.

    Attributes:
        host: Server host name.
        port: Server port.
    """

    host: str
    port: int

    def to_proto(self) -> Any:
        """Returns the ``metadata_store_pb2.MetadataStoreClientConfig`` for this server."""
        return pb2.MetadataStoreClientConfig(host=self.host, port=self.port)


StoreConfig = SqliteConfig | MysqlConfig | GrpcConfig


def parse_metadata_uri(uri: str) -> StoreConfig:
    """Parses a metadata URI into a typed store configuration.

    SQLite follows the SQLAlchemy convention: three slashes then the path, so
    ``sqlite:///rel/x.sqlite`` is relative and ``sqlite:////abs/x.sqlite`` is absolute.

    Args:
        uri: ``sqlite:///PATH``, ``mysql://USER:PASSWORD@HOST[:PORT]/DATABASE`` (port defaults to 3306;
            percent-encode special characters in user and password) or ``grpc://HOST[:PORT]`` (port
            defaults to 8080).

    Returns:
        The configuration for the store the URI names.

    Raises:
        ConfigError: when the URI is empty, has an unknown scheme or misses or malforms a part.

    Example:
        >>> parse_metadata_uri("grpc://metadata-grpc-service.kubeflow:8080")
        GrpcConfig(host='metadata-grpc-service.kubeflow', port=8080)
    """
    if not uri or not uri.strip():
        raise ConfigError("metadata URI is empty; expected sqlite:///PATH, mysql://... or grpc://HOST:PORT")
    parts = urlsplit(uri.strip())
    if parts.scheme == "sqlite":
        return _sqlite(uri, parts)
    if parts.scheme == "mysql":
        return _mysql(uri, parts)
    if parts.scheme == "grpc":
        return _grpc(uri, parts)
    raise ConfigError(f"metadata URI {uri!r}: unknown scheme {parts.scheme!r}; use sqlite, mysql or grpc")


def _sqlite(uri: str, parts: SplitResult) -> SqliteConfig:
    if parts.netloc:
        raise ConfigError(
            f"metadata URI {uri!r}: sqlite takes no host ({parts.netloc!r}); "
            "write sqlite:///relative/path.sqlite or sqlite:////absolute/path.sqlite"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"metadata URI {uri!r}: sqlite takes no query or fragment")
    # urlsplit keeps the slash that separates the empty host from the path; the path is what follows it.
    path = unquote(parts.path[1:])
    if not path or path.endswith("/"):
        raise ConfigError(f"metadata URI {uri!r}: sqlite needs a file path after 'sqlite:///'")
    return SqliteConfig(path=Path(path))


def _mysql(uri: str, parts: SplitResult) -> MysqlConfig:
    if not parts.hostname:
        raise ConfigError(f"metadata URI {_redact(parts)!r}: mysql needs a host")
    if not parts.username:
        raise ConfigError(
            f"metadata URI {_redact(parts)!r}: mysql needs a user (mysql://USER:PASSWORD@HOST/DB)"
        )
    database = parts.path.lstrip("/")
    if not database or "/" in database:
        raise ConfigError(
            f"metadata URI {_redact(parts)!r}: mysql needs exactly one database name after the host"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"metadata URI {_redact(parts)!r}: mysql takes no query or fragment")
    return MysqlConfig(
        host=parts.hostname,
        port=_port(_redact(parts), parts, _MYSQL_DEFAULT_PORT),
        database=unquote(database),
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
    )


def _grpc(uri: str, parts: SplitResult) -> GrpcConfig:
    if not parts.hostname:
        raise ConfigError(f"metadata URI {uri!r}: grpc needs a host (grpc://HOST:PORT)")
    if parts.username or parts.password:
        raise ConfigError(f"metadata URI {_redact(parts)!r}: grpc takes no credentials")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(f"metadata URI {uri!r}: grpc takes only a host and a port")
    return GrpcConfig(host=parts.hostname, port=_port(uri, parts, _GRPC_DEFAULT_PORT))


def _port(shown: str, parts: SplitResult, default: int) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"metadata URI {shown!r}: the port is not a number between 0 and 65535") from exc
    if port == 0:
        raise ConfigError(f"metadata URI {shown!r}: port 0 is not a usable port")
    return default if port is None else port


def _redact(parts: SplitResult) -> str:
    # Error messages end up in pipeline logs; a password must not.
    if parts.password is None:
        return parts.geturl()
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
