"""Kafka chores for deploy/omsorg.sh and operators (docs/kafka-security.md):

    python deploy/kafka_admin.py ready [--timeout 60] [--brokers 3]
    python deploy/kafka_admin.py create-topics deploy/topics.txt [--replication 3 --min-insync-replicas 2]
    python deploy/kafka_admin.py controller      # the active KRaft controller and the quorum's voters
    python deploy/kafka_admin.py acls deploy/topics.txt          # print the ACLs topics.txt implies
    python deploy/kafka_admin.py apply-acls deploy/topics.txt    # make the broker's ACLs exactly those
    python deploy/kafka_admin.py sasl-init DIR --topics deploy/topics.txt [--port P --controller-port C]

`create-topics` creates the missing topics (auto-create is off) with the
configs listed in topics.txt, and sets those configs on topics that already
exist, so a running broker picks up a changed retention. `--min-insync-replicas`
adds `min.insync.replicas` to every topic's configs (the three-node cluster, 2).

`controller` asks the metadata quorum (DescribeQuorum, which a broker forwards to
the controllers) who leads it: in KRaft the active controller is that leader;
the `controller` a metadata response names is only some broker.

The broker is KAFKA_BOOTSTRAP_SERVERS; with authentication on, this tool
connects as the principal in KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME and
KAFKA_SASL_PASSWORD_FILE (the super user `admin` for topics and ACLs).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    NodeNotReadyError,
    NotControllerError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
    for_code,
)
from aiokafka.protocol.admin import CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Array,
    Boolean,
    CompactArray,
    CompactString,
    Int8,
    Int16,
    Int32,
    Int64,
    Schema,
    String,
    TaggedFields,
)

from shared.kafka_security import env_client_kwargs

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092")
DEPLOY = Path(__file__).resolve().parent
KAFKA_LIBS = DEPLOY / "kafka" / "target" / "dependency"
ADMIN, CONTROLLER = "admin", "controller"
DLQ_MARK = ".dlq."


def _admin(timeout_ms: int = 15000) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=BOOTSTRAP, request_timeout_ms=timeout_ms, **env_client_kwargs()
    )


async def ready(timeout: float, brokers: int = 1) -> bool:
    """True once a broker answers a metadata request naming at least `brokers`
    brokers, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        admin = _admin(5000)
        try:
            await admin.start()
            await admin.list_topics()
            if len((await admin.describe_cluster())["brokers"]) >= brokers:
                return True
        except (KafkaError, OSError):
            pass
        finally:
            await admin.close()
        await asyncio.sleep(0.5)
    return False


# DescribeQuorum (KIP-595), which aiokafka lacks; version 0, a flexible version.
_REPLICA_STATE = (("replica_id", Int32), ("log_end_offset", Int64), ("tags", TaggedFields))


class _DescribeQuorumResponse_v0(Response):
    API_KEY = 55
    API_VERSION = 0
    SCHEMA = Schema(
        ("error_code", Int16),
        (
            "topics",
            CompactArray(
                ("topic_name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("error_code", Int16),
                        ("leader_id", Int32),
                        ("leader_epoch", Int32),
                        ("high_watermark", Int64),
                        ("current_voters", CompactArray(*_REPLICA_STATE)),
                        ("observers", CompactArray(*_REPLICA_STATE)),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _DescribeQuorumRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 55
    API_VERSION = 0
    RESPONSE_TYPE = _DescribeQuorumResponse_v0
    SCHEMA = Schema(
        (
            "topics",
            CompactArray(
                ("topic_name", CompactString("utf-8")),
                ("partitions", CompactArray(("partition_index", Int32), ("tags", TaggedFields))),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class DescribeQuorumRequest(Request[_DescribeQuorumRequest_v0]):
    API_KEY = 55

    def build(self, request_struct_class: type[_DescribeQuorumRequest_v0]) -> _DescribeQuorumRequest_v0:
        return request_struct_class([("__cluster_metadata", [(0, {})], {})], {})


@dataclass(frozen=True)
class Quorum:
    leader: int  # the active controller's node id
    epoch: int
    high_watermark: int
    voters: dict[int, int]  # node id -> the end offset of its metadata log


async def quorum() -> Quorum:
    """The metadata quorum as its leader reports it."""
    admin = _admin(5000)
    await admin.start()
    try:
        response = await admin._send_request(DescribeQuorumRequest())  # aiokafka lacks it
    finally:
        await admin.close()
    _check(response.error_code, None, "describe the metadata quorum")
    partition = response.topics[0][1][0]
    _index, error_code, leader, epoch, high_watermark, voters, _observers, _tags = partition
    _check(error_code, None, "describe the metadata quorum")
    return Quorum(leader, epoch, high_watermark, {v[0]: v[1] for v in voters})


# ------------------------------------------------------------------ topics ---


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def is_dead_letter(self) -> bool:
        return DLQ_MARK in self.name


def read_topics(path: Path) -> list[Topic]:
    """Lines of `name partitions [config=value ...]`; `#` starts a comment."""
    topics = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, partitions, *settings = line.split()
        configs = {}
        for setting in settings:
            key, sep, value = setting.partition("=")
            if not sep or not key or not value:
                raise SystemExit(f"{path}:{number}: expected config=value, got {setting!r}")
            configs[key] = value
        topics.append(Topic(name, int(partitions), configs))
    return topics


# IncrementalAlterConfigs (KIP-339), which aiokafka lacks: unlike AlterConfigs it
# sets the named configs and leaves a topic's other configs alone.
class _IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "responses",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
            ),
        ),
    )


class _IncrementalAlterConfigsRequest_v0(RequestStruct):
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = _IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                (
                    "configs",
                    Array(("name", String("utf-8")), ("config_operation", Int8), ("value", String("utf-8"))),
                ),
            ),
        ),
        ("validate_only", Boolean),
    )


class IncrementalAlterConfigsRequest(Request[_IncrementalAlterConfigsRequest_v0]):
    API_KEY = 44
    SET = 0

    def __init__(self, topic_configs: dict[str, dict[str, str]]) -> None:
        self._resources = [
            (int(ConfigResourceType.TOPIC), name, [(key, self.SET, value) for key, value in configs.items()])
            for name, configs in topic_configs.items()
        ]

    def build(
        self, request_struct_class: type[_IncrementalAlterConfigsRequest_v0]
    ) -> _IncrementalAlterConfigsRequest_v0:
        return request_struct_class(self._resources, False)


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The current value of every config of each topic."""
    if not names:
        return {}
    found: dict[str, dict[str, str]] = {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    for response in await admin.describe_configs(resources):
        for error_code, _message, _type, name, entries in response.resources:
            if error_code:
                raise for_code(error_code)(f"describe configs of {name}")
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def create_topics(
    topics: list[Topic], replication: int = 1, min_insync_replicas: int | None = None
) -> list[str]:
    """Create what is missing, then set the listed configs where they differ. Returns what changed."""
    if min_insync_replicas is not None:
        topics = [
            Topic(t.name, t.partitions, {**t.configs, "min.insync.replicas": str(min_insync_replicas)})
            for t in topics
        ]
    changed: list[str] = []
    admin = _admin()
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t.name, t.partitions, replication, topic_configs=t.configs) for t in missing]
                )
                changed += [f"created {t.name}" for t in missing]
            except TopicAlreadyExistsError:
                pass  # another starter created them between our two calls; the configs are fixed below
        wanted = {t.name: t.configs for t in topics if t.configs}
        # A topic just created may be unknown for a moment to the broker asked
        # next (the cluster's metadata propagates): ask again for a while.
        for attempt in range(40):
            try:
                current = await topic_configs(admin, list(wanted))
                break
            except UnknownTopicOrPartitionError:
                if attempt == 39 or not missing:
                    raise
                await asyncio.sleep(0.25)
        drift = {
            name: {k: v for k, v in configs.items() if current.get(name, {}).get(k) != v}
            for name, configs in wanted.items()
        }
        drift = {name: configs for name, configs in drift.items() if configs}
        if drift:
            response = await admin._send_request(IncrementalAlterConfigsRequest(drift))  # aiokafka lacks it
            for error_code, message, _type, name in response.responses:
                if error_code:
                    raise for_code(error_code)(f"alter configs of {name}: {message}")
            changed += [
                f"set {name} {' '.join(f'{k}={v}' for k, v in c.items())}" for name, c in drift.items()
            ]
    finally:
        await admin.close()
    return changed


# -------------------------------------------------------------------- ACLs ---

# Kafka's ACL codes (org.apache.kafka.common.acl / resource).
RESOURCE = {"TOPIC": 2, "GROUP": 3}
OPERATION = {"READ": 3, "WRITE": 4}
ANY, LITERAL, ALLOW = 1, 3, 3


@dataclass(frozen=True, order=True)
class Acl:
    principal: str  # the service name; the broker sees User:<name>
    operation: str  # READ or WRITE (each implies DESCRIBE)
    resource_type: str  # TOPIC or GROUP
    resource: str  # a literal name, never a prefix or wildcard

    def __str__(self) -> str:
        return f"User:{self.principal} ALLOW {self.operation} {self.resource_type} {self.resource}"


def service_acls(topics: list[Topic]) -> list[Acl]:
    """What each service may do, derived from topics.txt and nothing else:
    - the producer of `<producer>.<aggregate>.v1` may WRITE it;
    - a line `<topic>.dlq.<consumer>` says <consumer> consumes <topic>: it may READ
      <topic> with its consumer group <consumer> (the group id is the service
      name, shared.inbox) and WRITE that dead-letter topic."""
    acls: set[Acl] = set()
    for topic in topics:
        if topic.is_dead_letter:
            source, consumer = topic.name.split(DLQ_MARK, 1)
            acls |= {
                Acl(consumer, "READ", "TOPIC", source),
                Acl(consumer, "READ", "GROUP", consumer),
                Acl(consumer, "WRITE", "TOPIC", topic.name),
            }
        else:
            acls.add(Acl(topic.name.split(".", 1)[0], "WRITE", "TOPIC", topic.name))
    return sorted(acls)


def service_principals(topics: list[Topic]) -> list[str]:
    return sorted({acl.principal for acl in service_acls(topics)})


def _check(error_code: int, message: str | None, what: str) -> None:
    if error_code:
        raise for_code(error_code)(f"{what}: {message}")


async def _acls_of(admin: AIOKafkaAdminClient, principal: str) -> dict[Acl, tuple[Any, ...]]:
    """The principal's ACLs on the broker, each with the exact filter that deletes it."""
    response = await admin._send_request(
        DescribeAclsRequest(
            ANY,
            None,
            ANY,
            f"User:{principal}",  # type: ignore[arg-type]
            None,
            ANY,
            ANY,
        )
    )  # type: ignore[arg-type]
    _check(response.error_code, response.error_message, f"describe ACLs of {principal}")
    types = {code: name for name, code in RESOURCE.items()}
    operations = {code: name for name, code in OPERATION.items()}
    found = {}
    for resource_type, resource_name, pattern, acls in response.resources:
        for _principal, host, operation, permission in acls:
            # Anything but an ALLOW READ/WRITE on a literal name for any host gets a name no plan has.
            plain = pattern == LITERAL and permission == ALLOW and host == "*"
            acl = Acl(
                principal,
                operations.get(operation, f"op{operation}")
                if plain
                else f"op{operation}/perm{permission}/host {host}",
                types.get(resource_type, f"type{resource_type}"),
                resource_name if plain else f"{resource_name} (pattern {pattern})",
            )
            found[acl] = (
                resource_type,
                resource_name,
                pattern,
                f"User:{principal}",
                host,
                operation,
                permission,
            )
    return found


async def apply_acls(topics: list[Topic]) -> list[str]:
    """Make the service principals' ACLs exactly `service_acls(topics)`: add what
    is missing, remove anything else they have. Returns what changed."""
    wanted = set(service_acls(topics))
    changed: list[str] = []
    admin = _admin()
    await admin.start()
    try:
        for principal in service_principals(topics):
            have = await _acls_of(admin, principal)
            for acl in sorted(set(have) - wanted):
                response = await admin._send_request(DeleteAclsRequest(*have[acl]))
                for error_code, message, _matches in response.filter_responses:
                    _check(error_code, message, f"delete {acl}")
                changed.append(f"removed {acl}")
            for acl in sorted(a for a in wanted - set(have) if a.principal == principal):
                response = await admin._send_request(
                    CreateAclsRequest(
                        RESOURCE[acl.resource_type],
                        acl.resource,
                        LITERAL,
                        f"User:{principal}",
                        "*",
                        OPERATION[acl.operation],
                        ALLOW,
                    )
                )
                for error_code, message in response.creation_responses:
                    _check(error_code, message, f"create {acl}")
                changed.append(f"added {acl}")
    finally:
        await admin.close()
    return changed


# ------------------------------------------------------- local SASL broker ---


def _secret(folder: Path, principal: str) -> str:
    """The principal's password, made once and kept (owner-only) in folder/<principal>.password."""
    path = folder / f"{principal}.password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def kafka_java(run_dir: Path, *args: str) -> list[str]:
    return [
        "java",
        "-Xms128m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={DEPLOY / 'kafka' / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={run_dir / 'logs'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        *args,
    ]


def sasl_init(run_dir: Path, topics: list[Topic], port: int, controller_port: int) -> Path:
    """Prepare a SASL/SCRAM broker in `run_dir`: a password per principal in
    run_dir/secrets, server.properties from deploy/kafka/server-sasl.properties.in,
    and (once) storage formatted with every principal's SCRAM credentials.
    Returns the properties file; the caller starts `kafka.Kafka` with it."""
    folder = run_dir / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    users = [ADMIN, *service_principals(topics)]
    formatted = (run_dir / "data" / "meta.properties").exists()
    unknown = [user for user in users if not (folder / f"{user}.password").exists()]
    if formatted and unknown:
        # SCRAM users are made when the storage is formatted; aiokafka cannot add them later.
        print(
            f"warning: {', '.join(unknown)} have no SCRAM user on this broker: "
            f"remove {run_dir} while the broker is stopped to start afresh",
            file=sys.stderr,
        )
    passwords = {p: _secret(folder, p) for p in [*users, CONTROLLER]}
    text = (DEPLOY / "kafka" / "server-sasl.properties.in").read_text()
    for key, value in {
        "@RUN@": str(run_dir),
        "@PORT@": str(port),
        "@CONTROLLER_PORT@": str(controller_port),
        "@ADMIN_PASSWORD@": passwords[ADMIN],
        "@CONTROLLER_PASSWORD@": passwords[CONTROLLER],
    }.items():
        text = text.replace(key, value)
    properties = run_dir / "server.properties"
    properties.touch(mode=0o600)
    properties.write_text(text)
    if not formatted:
        cluster_id = subprocess.run(
            kafka_java(run_dir, "kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        scram = [
            arg
            for user in users
            for arg in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={passwords[user]}]")
        ]
        result = subprocess.run(
            kafka_java(
                run_dir,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(properties),
                *scram,
            ),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            # The command line holds the passwords; print only the tool's own output.
            raise SystemExit(f"Kafka storage format failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return properties


async def _patiently(attempt: Callable[[], Awaitable[list[str]]], timeout: float = 60) -> list[str]:
    """`attempt()` again while a node of a cluster is still coming up (it is in
    the metadata before it answers): creating topics and setting configs is idempotent."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await attempt()
        except (NodeNotReadyError, KafkaConnectionError, RequestTimedOutError, NotControllerError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


def main() -> int:
    # aiokafka logs every refused connection while the broker boots; quiet it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("ready")
    r.add_argument("--timeout", type=float, default=60)
    r.add_argument("--brokers", type=int, default=1, help="wait until the cluster has this many")
    c = sub.add_parser("create-topics")
    c.add_argument("file", type=Path)
    c.add_argument("--replication", type=int, default=1, help="of new topics (production: 3)")
    c.add_argument("--min-insync-replicas", type=int, help="set on every topic (production: 2)")
    sub.add_parser("controller")
    for name in ("acls", "apply-acls"):
        sub.add_parser(name).add_argument("file", type=Path)
    s = sub.add_parser("sasl-init")
    s.add_argument("dir", type=Path)
    s.add_argument("--topics", type=Path, default=DEPLOY / "topics.txt")
    s.add_argument("--port", type=int, default=59092)
    s.add_argument("--controller-port", type=int, default=59093)
    args = parser.parse_args()
    if args.cmd == "ready":
        ok = asyncio.run(ready(args.timeout, args.brokers))
        if not ok:
            print(f"Kafka at {BOOTSTRAP} did not answer with {args.brokers} broker(s)", file=sys.stderr)
        return 0 if ok else 1
    if args.cmd == "controller":
        q = asyncio.run(quorum())
        voters = " ".join(f"{node}:{offset}" for node, offset in sorted(q.voters.items()))
        print(f"controller {q.leader} epoch {q.epoch} high-watermark {q.high_watermark} voters {voters}")
        return 0
    if args.cmd == "sasl-init":
        print(sasl_init(args.dir.resolve(), read_topics(args.topics), args.port, args.controller_port))
        return 0
    topics = read_topics(args.file)
    if args.cmd == "acls":
        print("\n".join(str(acl) for acl in service_acls(topics)))
        return 0
    if args.cmd == "create-topics":
        changes = asyncio.run(
            _patiently(lambda: create_topics(topics, args.replication, args.min_insync_replicas))
        )
    else:
        changes = asyncio.run(apply_acls(topics))
    for line in changes:
        print(f"[kafka] {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
