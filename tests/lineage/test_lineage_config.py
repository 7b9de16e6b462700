"""Metadata URIs parsed into typed configurations, and the MLMD protos made from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.lineage import GrpcConfig, MysqlConfig, SqliteConfig, parse_metadata_uri
from contracts.errors import ConfigError


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///.mlops/metadata.sqlite", SqliteConfig(Path(".mlops/metadata.sqlite"))),
        ("sqlite:////var/lib/mlmd/store.sqlite", SqliteConfig(Path("/var/lib/mlmd/store.sqlite"))),
        ("sqlite:///my%20store.sqlite", SqliteConfig(Path("my store.sqlite"))),
        (
            "mysql://root:secret@mysql.kubeflow:3306/metadb",
            MysqlConfig("mysql.kubeflow", 3306, "metadb", "root", "secret"),
        ),
        ("mysql://ml:p%40ss%3Aw@db/metadb", MysqlConfig("db", 3306, "metadb", "ml", "p@ss:w")),
        ("mysql://ml@db:3307/metadb", MysqlConfig("db", 3307, "metadb", "ml", "")),
        ("grpc://metadata-grpc-service.kubeflow:8080", GrpcConfig("metadata-grpc-service.kubeflow", 8080)),
        ("grpc://localhost", GrpcConfig("localhost", 8080)),
        ("  grpc://localhost:9090  ", GrpcConfig("localhost", 9090)),
    ],
)
def test_parses_good_uris(uri: str, expected: object) -> None:
    assert parse_metadata_uri(uri) == expected


@pytest.mark.parametrize(
    ("uri", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/tmp/metadata.sqlite", "unknown scheme ''"),
        ("postgres://u:p@h/db", "unknown scheme 'postgres'"),
        ("sqlite://host/metadata.sqlite", "sqlite takes no host"),
        ("sqlite:///", "needs a file path"),
        ("sqlite:///dir/", "needs a file path"),
        ("sqlite:///x.sqlite?mode=ro", "no query"),
        ("mysql://u:p@/metadb", "needs a host"),
        ("mysql://db:3306/metadb", "needs a user"),
        ("mysql://u:p@db:3306", "one database name"),
        ("mysql://u:p@db:3306/a/b", "one database name"),
        ("mysql://u:p@db:notaport/metadb", "port is not a number"),
        ("mysql://u:p@db:70000/metadb", "port is not a number"),
        ("grpc://", "needs a host"),
        ("grpc://host:0", "port 0"),
        ("grpc://host:8080/api", "only a host and a port"),
        ("grpc://u:p@host:8080", "no credentials"),
    ],
)
def test_rejects_malformed_uris_naming_the_problem(uri: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        parse_metadata_uri(uri)


def test_errors_and_repr_never_show_the_mysql_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_metadata_uri("mysql://root:hunter2@db:3306")
    assert "hunter2" not in str(caught.value)
    assert "root:***@db:3306" in str(caught.value)
    assert "hunter2" not in repr(parse_metadata_uri("mysql://root:hunter2@db/metadb"))


def test_sqlite_proto_uses_an_absolute_path_and_creates_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    proto = parse_metadata_uri("sqlite:///state/m.sqlite").to_proto()
    assert proto.WhichOneof("config") == "sqlite"
    assert proto.sqlite.filename_uri == str(tmp_path / "state" / "m.sqlite")
    assert proto.sqlite.connection_mode == proto.sqlite.READWRITE_OPENCREATE


def test_mysql_proto_carries_every_field() -> None:
    proto = parse_metadata_uri("mysql://ml:pw@mysql.kubeflow:3307/metadb").to_proto()
    assert proto.WhichOneof("config") == "mysql"
    mysql = proto.mysql
    assert (mysql.host, mysql.port, mysql.database, mysql.user, mysql.password) == (
        "mysql.kubeflow",
        3307,
        "metadb",
        "ml",
        "pw",
    )


def test_grpc_proto_is_a_client_config() -> None:
    proto = parse_metadata_uri("grpc://metadata-grpc-service:8080").to_proto()
    assert type(proto).__name__ == "MetadataStoreClientConfig"
    assert (proto.host, proto.port) == ("metadata-grpc-service", 8080)
