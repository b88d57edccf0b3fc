"""The deployment files are checked here, because no Docker engine or cluster is at hand.

* ``docker-compose.yml`` against the Compose Specification's JSON Schema (vendored in
  ``deploy/schemas/compose-spec.json``, see ``deploy/schemas/README.md`` for its source);
* every manifest in ``deploy/k8s/`` against Kubernetes' own OpenAPI schemas, in their strict
  form (unknown fields are errors), through ``kubernetes_validate``;
* the invariants no schema can see: dependencies that exist, probes on the right paths,
  Services that select real pods, settings the services actually read, ...

Each invariant check returns a list of problems, so the negative tests can prove that a broken
manifest is caught: a check that never fails would pass every positive test.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices

from shared.cli import ToolSettings
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA_FILE = ROOT / "deploy" / "schemas" / "compose-spec.json"
# The vendored schema is a verbatim copy (deploy/schemas/README.md); an edit must be deliberate.
COMPOSE_SCHEMA_SHA256 = "a85a0e558502b7fec90b3ad4095d721e31749e9a305b1d80e09c1e64f939b92d"
POSTGRES_INIT_FILE = ROOT / "deploy" / "postgres-init.sql"
OTEL_CONFIG_FILE = ROOT / "deploy" / "otel-collector.yaml"
KAFKA_POM_FILE = ROOT / "deploy" / "kafka" / "pom.xml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S_DIR = ROOT / "deploy" / "k8s"
KUSTOMIZATION_FILE = K8S_DIR / "kustomization.yaml"

# The oldest Kubernetes minor these manifests promise to work on, and the newest whose schemas
# kubernetes-validate ships (so a field removed upstream shows up when the package is updated).
K8S_VERSIONS = ("1.33.0", kubernetes_validate.utils.latest_version())

SERVICES = {"initiatives": 8101, "advisory": 8102, "budgets": 8103, "notifications": 8104}
NAMESPACED_KINDS = {
    "ConfigMap",
    "Secret",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "Job",
}


# --- loading ------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(COMPOSE_SCHEMA_FILE.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def compose_schema_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in compose_validator().iter_errors(document)
    ]


def load_kustomization() -> dict[str, Any]:
    document = yaml.safe_load(KUSTOMIZATION_FILE.read_text())
    assert isinstance(document, dict)
    return document


def k8s_manifest_files() -> list[Path]:
    return sorted(p for p in K8S_DIR.glob("*.y*ml") if p.name != KUSTOMIZATION_FILE.name)


def load_k8s() -> list[dict[str, Any]]:
    """Every object in deploy/k8s/, in the order kustomization.yaml lists the files."""
    documents: list[dict[str, Any]] = []
    for name in load_kustomization().get("resources", []):
        path = K8S_DIR / name
        if path.is_file():
            documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return documents


def k8s_id(document: dict[str, Any]) -> str:
    return f"{document['kind']}/{document['metadata']['name']}"


def kafka_version_from_pom() -> str:
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", KAFKA_POM_FILE.read_text())
    assert match, "deploy/kafka/pom.xml names no kafka.version"
    return match.group(1)


# --- settings the services read -----------------------------------------------------------


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class ``services/<service>/settings.py`` defines."""
    module = importlib.import_module(f"services.{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"services/{service}/settings.py defines {len(classes)} settings"
    return classes[0]


def accepted_variables(service: str) -> set[str]:
    """Every environment variable the service's settings read (the others are ignored)."""
    cls = settings_class(service)
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def all_accepted_variables() -> set[str]:
    return set().union(*(accepted_variables(service) for service in SERVICES))


def load_settings(
    monkeypatch: pytest.MonkeyPatch,
    cls: type[ServiceSettings],
    environment: dict[str, str],
) -> ServiceSettings:
    """Build settings from exactly ``environment``, as the process would."""
    for name in all_accepted_variables():
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return cls()


# --- docker-compose.yml invariants ----------------------------------------------------------


def command_words(command: Any) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.split("=", 1) for item in environment)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return {str(k): "" if v is None else str(v) for k, v in environment.items()}


def dependencies_of(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` as {service: condition}, whichever of its two forms is used."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends_on.items()}


def published_container_ports(service: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ports.add(int(port["target"]))
        else:
            ports.add(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def has_healthcheck(service: dict[str, Any]) -> bool:
    healthcheck = service.get("healthcheck")
    return bool(healthcheck and healthcheck.get("test") and not healthcheck.get("disable"))


def databases_created_by_init_script() -> set[str]:
    sql = POSTGRES_INIT_FILE.read_text()
    return {m.lower() for m in re.findall(r"CREATE\s+DATABASE\s+(\w+)", sql, re.IGNORECASE)}


def otel_http_receiver_port() -> int:
    config = yaml.safe_load(OTEL_CONFIG_FILE.read_text())
    endpoint = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    return int(endpoint.rsplit(":", 1)[1])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        if state.get(node) == 1:
            return [*path[path.index(node) :], node]
        if state.get(node) == 2:
            return None
        state[node] = 1
        for successor in sorted(graph.get(node, ())):
            cycle = visit(successor, [*path, node])
            if cycle:
                return cycle
        state[node] = 2
        return None

    for node in sorted(graph):
        cycle = visit(node, [])
        if cycle:
            return cycle
    return None


def compose_problems(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    services: dict[str, dict[str, Any]] = document.get("services") or {}

    # depends_on: every target exists, its condition can be met, and there is no cycle.
    for name, service in services.items():
        for target, condition in dependencies_of(service).items():
            if target not in services:
                problems.append(f"{name}: depends_on {target!r}, which is not a service")
                continue
            if condition == "service_healthy" and not has_healthcheck(services[target]):
                problems.append(f"{name}: waits for {target} to be healthy; it has no healthcheck")
            if condition == "service_completed_successfully" and (
                str(services[target].get("restart", "no")) != "no"
            ):
                problems.append(f"{name}: waits for {target} to complete; it restarts forever")
    cycle = find_cycle({n: set(dependencies_of(s)) for n, s in services.items()})
    if cycle:
        problems.append(f"depends_on cycle: {' -> '.join(cycle)}")

    # Infrastructure.
    kafka = services.get("kafka")
    if kafka is None:
        problems.append("no kafka service")
    else:
        kafka_env = environment_of(kafka)
        if not str(kafka.get("image", "")).startswith("apache/kafka:"):
            problems.append("kafka: not the apache/kafka image")
        elif kafka["image"].split(":", 1)[1] != kafka_version_from_pom():
            problems.append("kafka: image version differs from deploy/kafka/pom.xml")
        roles = set(kafka_env.get("KAFKA_PROCESS_ROLES", "").split(","))
        if roles != {"broker", "controller"}:
            problems.append("kafka: not a combined KRaft broker+controller")
        if kafka_env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") != "false":
            problems.append("kafka: auto.create.topics.enable must be false")
        if not has_healthcheck(kafka):
            problems.append("kafka: no healthcheck")
    postgres = services.get("postgres")
    if postgres is None or not str(postgres.get("image", "")).startswith("postgres:16"):
        problems.append("no PostgreSQL 16 service named postgres")
    elif not any(
        str(volume).startswith("./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/")
        for volume in postgres.get("volumes") or []
    ):
        problems.append("postgres: deploy/postgres-init.sql is not mounted as an init script")
    collector = services.get("otel-collector")
    if collector is None or "opentelemetry-collector-contrib" not in str(collector.get("image")):
        problems.append("no otel-collector service")
    if "mailpit" not in services or "mailpit" not in str(services["mailpit"].get("image")):
        problems.append("no mailpit service")

    # The topic job.
    topics = services.get("topics")
    if topics is None:
        problems.append("no topics service")
    else:
        if command_words(topics.get("command")) != ["inspraak", "topics", "ensure"]:
            problems.append("topics: does not run `inspraak topics ensure`")
        if dependencies_of(topics).get("kafka") != "service_healthy":
            problems.append("topics: does not wait for a healthy kafka")

    # Every process built from this repository reads only settings that exist.
    databases = databases_created_by_init_script()
    known = all_accepted_variables()
    inspraak_image = {str(s.get("image")) for s in services.values() if "build" in s}
    if len(inspraak_image) > 1:
        problems.append(f"the built services name different images: {sorted(inspraak_image)}")
    for name, service in services.items():
        if "build" not in service:
            continue
        environment = environment_of(service)
        for variable in sorted(set(environment) - known):
            problems.append(f"{name}: {variable} is read by no service's settings")
        if environment.get("AUTH_JWT_SECRET") and (
            environment.get("INSPRAAK_ENVIRONMENT") != "development"
        ):
            problems.append(f"{name}: AUTH_JWT_SECRET outside INSPRAAK_ENVIRONMENT=development")
        bootstrap_host = environment.get("KAFKA_BOOTSTRAP_SERVERS", "").split(":")[0]
        if bootstrap_host != "kafka":
            problems.append(f"{name}: KAFKA_BOOTSTRAP_SERVERS does not point at the kafka service")
        otel = urlsplit(environment.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
        if (otel.hostname, otel.port) != ("otel-collector", otel_http_receiver_port()):
            problems.append(f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT misses the collector's receiver")

    # The four services and their migrations.
    for service_name, port in SERVICES.items():
        prefix = service_name.upper()
        if service_name not in services:
            problems.append(f"no {service_name} service")
            continue
        service = services[service_name]
        environment = environment_of(service)
        serve = ["python", "-m", f"services.{service_name}", "serve"]
        if command_words(service.get("command")) != serve:
            problems.append(f"{service_name}: does not run `{' '.join(serve)}`")
        test = command_words((service.get("healthcheck") or {}).get("test"))
        if not has_healthcheck(service):
            problems.append(f"{service_name}: no healthcheck")
        elif f"127.0.0.1:{port}/readyz" not in " ".join(test):
            problems.append(f"{service_name}: healthcheck does not ask /readyz on port {port}")
        elif test[:2] != ["CMD", "python"]:
            problems.append(f"{service_name}: healthcheck must use python (slim images lack curl)")
        if port not in published_container_ports(service):
            problems.append(f"{service_name}: container port {port} is not published")
        if environment.get(f"{prefix}_HTTP_PORT") != str(port):
            problems.append(f"{service_name}: {prefix}_HTTP_PORT is not {port}")
        if environment.get(f"{prefix}_HTTP_HOST") != "0.0.0.0":
            problems.append(f"{service_name}: {prefix}_HTTP_HOST is not 0.0.0.0")
        database_url = environment.get(f"{prefix}_DATABASE_URL", "")
        parsed = urlsplit(database_url)
        if parsed.scheme != "postgresql+asyncpg" or parsed.hostname != "postgres":
            problems.append(f"{service_name}: {prefix}_DATABASE_URL is not asyncpg on postgres")
        elif parsed.path.lstrip("/") not in databases:
            problems.append(f"{service_name}: database {parsed.path} is not created at init")
        dependencies = dependencies_of(service)
        migrate_name = f"{service_name}-migrate"
        migrate = services.get(migrate_name)
        if migrate is None:
            problems.append(f"no {migrate_name} service")
        else:
            if command_words(migrate.get("command")) != [
                "python",
                "-m",
                f"services.{service_name}",
                "migrate",
            ]:
                problems.append(f"{migrate_name}: does not run the migrations")
            if environment_of(migrate).get(f"{prefix}_DATABASE_URL") != database_url:
                problems.append(f"{migrate_name}: migrates another database than it serves")
            if dependencies_of(migrate).get("postgres") != "service_healthy":
                problems.append(f"{migrate_name}: does not wait for a healthy postgres")
        for needed, condition in (
            ("kafka", "service_healthy"),
            ("topics", "service_completed_successfully"),
            (migrate_name, "service_completed_successfully"),
        ):
            if dependencies.get(needed) != condition:
                problems.append(f"{service_name}: does not wait for {needed} ({condition})")

    notifications = services.get("notifications")
    if notifications is not None:
        environment = environment_of(notifications)
        if environment.get("NOTIFICATIONS_SMTP_HOST") != "mailpit":
            problems.append("notifications: does not send mail to mailpit")
        if dependencies_of(notifications).get("mailpit") != "service_healthy":
            problems.append("notifications: does not wait for mailpit")
    return problems


# --- deploy/k8s invariants ------------------------------------------------------------------


def pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["template"]["spec"]


def containers_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(document)
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def explicit_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def resolved_env(container: dict[str, Any], documents: list[dict[str, Any]]) -> dict[str, str]:
    """The environment a container gets: envFrom first, then env (which wins)."""
    by_id = {k8s_id(d): d for d in documents}

    def data_of(kind: str, name: str) -> dict[str, str]:
        document = by_id.get(f"{kind}/{name}", {})
        return {**document.get("data", {}), **document.get("stringData", {})}

    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(data_of("ConfigMap", source["configMapRef"]["name"]))
        if "secretRef" in source:
            environment.update(data_of("Secret", source["secretRef"]["name"]))
    for name, item in explicit_env(container).items():
        if "value" in item:
            environment[name] = str(item["value"])
            continue
        reference = item.get("valueFrom", {})
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if key in reference:
                value = data_of(kind, reference[key]["name"]).get(reference[key]["key"])
                if value is not None:
                    environment[name] = value
    return environment


def references_of(document: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(kind, name, key or None) of every ConfigMap and Secret a workload refers to."""
    for container in containers_of(document):
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                yield "ConfigMap", source["configMapRef"]["name"], None
            if "secretRef" in source:
                yield "Secret", source["secretRef"]["name"], None
        for item in container.get("env", []):
            reference = item.get("valueFrom", {})
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if key in reference:
                    yield kind, reference[key]["name"], reference[key]["key"]
    for volume in pod_spec(document).get("volumes", []):
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"], None
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"], None


def probe_path(container: dict[str, Any], probe: str) -> str | None:
    return (container.get(probe) or {}).get("httpGet", {}).get("path")


def port_names_and_numbers(container: dict[str, Any]) -> set[Any]:
    ports = container.get("ports", [])
    return {p["containerPort"] for p in ports} | {p["name"] for p in ports if "name" in p}


def k8s_problems(
    documents: list[dict[str, Any]],
    kustomization: dict[str, Any],
    manifest_files: list[str],
) -> list[str]:
    problems: list[str] = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    by_id = {k8s_id(d): d for d in documents}

    # kustomization.yaml lists every manifest file, and only existing ones.
    resources = kustomization.get("resources", [])
    for missing in sorted(set(manifest_files) - set(resources)):
        problems.append(f"kustomization.yaml does not list {missing}")
    for extra in sorted(set(resources) - set(manifest_files)):
        problems.append(f"kustomization.yaml lists {extra}, which does not exist")
    if len(resources) != len(set(resources)):
        problems.append("kustomization.yaml lists a file twice")

    namespace = kustomization.get("namespace")
    if f"Namespace/{namespace}" not in by_id:
        problems.append(f"no Namespace {namespace!r} as kustomization.yaml names")
    image_names = {image["name"] for image in kustomization.get("images", [])}
    for document in documents:
        if document["kind"] in NAMESPACED_KINDS and (
            document["metadata"].get("namespace") != namespace
        ):
            problems.append(f"{k8s_id(document)}: not in namespace {namespace}")

    # Every reference to a ConfigMap or Secret (and its key) resolves.
    for document in [*by_kind.get("Deployment", []), *by_kind.get("Job", [])]:
        for kind, name, key in references_of(document):
            target = by_id.get(f"{kind}/{name}")
            if target is None:
                problems.append(f"{k8s_id(document)}: refers to missing {kind}/{name}")
            elif key is not None and key not in {
                **target.get("data", {}),
                **target.get("stringData", {}),
            }:
                problems.append(f"{k8s_id(document)}: {kind}/{name} has no key {key}")
        volumes = {v["name"] for v in pod_spec(document).get("volumes", [])}
        for container in containers_of(document):
            image = container["image"].rsplit(":", 1)[0]
            if image not in image_names:
                problems.append(f"{k8s_id(document)}: image {image} is not in kustomization images")
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes:
                    problems.append(f"{k8s_id(document)}: mounts undefined volume {mount['name']}")
            resources_ = container.get("resources", {})
            for bound in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources_.get(bound, {})):
                    problems.append(f"{k8s_id(document)}/{container['name']}: no {bound}")
            # The namespace enforces the "restricted" Pod Security Standard.
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{k8s_id(document)}/{container['name']}: may escalate privileges")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{k8s_id(document)}/{container['name']}: keeps capabilities")
        pod_security = pod_spec(document).get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True or pod_security.get("runAsUser") == 0:
            problems.append(f"{k8s_id(document)}: pods may run as root")
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{k8s_id(document)}: no RuntimeDefault seccomp profile")

    # The four services: Deployment, Service, PodDisruptionBudget.
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    for service_name, port in SERVICES.items():
        prefix = service_name.upper()
        deployment = deployments.get(service_name)
        if deployment is None:
            problems.append(f"no Deployment {service_name}")
            continue
        where = k8s_id(deployment)
        if deployment["spec"].get("replicas", 1) < 2:
            problems.append(f"{where}: fewer than 2 replicas")
        template_labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        if not labels_match(deployment["spec"]["selector"].get("matchLabels", {}), template_labels):
            problems.append(f"{where}: selector does not match its own pod template")
        main = next(
            (c for c in pod_spec(deployment)["containers"] if c["name"] == service_name), None
        )
        if main is None:
            problems.append(f"{where}: no container named {service_name}")
            continue
        if main.get("command") != ["python", "-m", f"services.{service_name}", "serve"]:
            problems.append(f"{where}: does not run `python -m services.{service_name} serve`")
        if probe_path(main, "readinessProbe") != "/readyz":
            problems.append(f"{where}: readiness probe is not GET /readyz")
        if probe_path(main, "livenessProbe") != "/healthz":
            problems.append(f"{where}: liveness probe is not GET /healthz")
        for probe in ("readinessProbe", "livenessProbe"):
            probe_port = (main.get(probe) or {}).get("httpGet", {}).get("port")
            if probe_port is not None and probe_port not in port_names_and_numbers(main):
                problems.append(f"{where}: {probe} port {probe_port} is not a container port")
        if port not in {p["containerPort"] for p in main.get("ports", [])}:
            problems.append(f"{where}: container port is not {port}")
        env = resolved_env(main, documents)
        listens = (env.get(f"{prefix}_HTTP_HOST"), env.get(f"{prefix}_HTTP_PORT"))
        if listens != ("0.0.0.0", str(port)):
            problems.append(f"{where}: does not listen on 0.0.0.0:{port}")
        migrations = [
            c
            for c in pod_spec(deployment).get("initContainers", [])
            if c.get("command") == ["python", "-m", f"services.{service_name}", "migrate"]
        ]
        if not migrations:
            problems.append(f"{where}: no initContainer runs the migrations")
        for migrate in migrations:
            if migrate["image"] != main["image"]:
                problems.append(f"{where}: migrations run from another image")
            migrate_url = resolved_env(migrate, documents).get(f"{prefix}_DATABASE_URL")
            if not migrate_url or migrate_url != env.get(f"{prefix}_DATABASE_URL"):
                problems.append(f"{where}: migrations run against another database")

        selecting = [
            s
            for s in by_kind.get("Service", [])
            if labels_match(s["spec"].get("selector", {}), template_labels)
        ]
        if len(selecting) != 1:
            problems.append(f"{where}: selected by {len(selecting)} Services, not 1")
        for service in selecting:
            for service_port in service["spec"].get("ports", []):
                target = service_port.get("targetPort", service_port["port"])
                if target not in port_names_and_numbers(main):
                    problems.append(f"{k8s_id(service)}: targetPort {target} is not a pod port")
        budgets = [
            b
            for b in by_kind.get("PodDisruptionBudget", [])
            if labels_match(b["spec"].get("selector", {}).get("matchLabels", {}), template_labels)
        ]
        if len(budgets) != 1:
            problems.append(f"{where}: covered by {len(budgets)} PodDisruptionBudgets, not 1")
        for budget in budgets:
            min_available = budget["spec"].get("minAvailable")
            if isinstance(min_available, int) and min_available >= deployment["spec"]["replicas"]:
                problems.append(f"{k8s_id(budget)}: minAvailable blocks every node drain")

    # Every Service and PodDisruptionBudget selects the pods of some Deployment.
    all_template_labels = [
        d["spec"]["template"]["metadata"].get("labels", {}) for d in deployments.values()
    ]
    for service in by_kind.get("Service", []):
        selector = service["spec"].get("selector", {})
        if not any(labels_match(selector, labels) for labels in all_template_labels):
            problems.append(f"{k8s_id(service)}: selects the pods of no Deployment")
    for budget in by_kind.get("PodDisruptionBudget", []):
        selector = budget["spec"].get("selector", {}).get("matchLabels", {})
        if not any(labels_match(selector, labels) for labels in all_template_labels):
            problems.append(f"{k8s_id(budget)}: selects the pods of no Deployment")

    # The topic Job: production durability.
    jobs = [
        j
        for j in by_kind.get("Job", [])
        if any(c.get("command") == ["inspraak", "topics", "ensure"] for c in containers_of(j))
    ]
    if len(jobs) != 1:
        problems.append(f"{len(jobs)} Jobs run `inspraak topics ensure`, not 1")
    for job in jobs:
        for container in containers_of(job):
            declared = explicit_env(container)
            for variable, wanted in (
                ("KAFKA_REPLICATION_FACTOR", "3"),
                ("KAFKA_MIN_INSYNC_REPLICAS", "2"),
            ):
                if str(declared.get(variable, {}).get("value")) != wanted:
                    problems.append(f"{k8s_id(job)}: {variable} is not set to {wanted}")
        if pod_spec(job).get("restartPolicy") not in {"Never", "OnFailure"}:
            problems.append(f"{k8s_id(job)}: restartPolicy must be Never or OnFailure")

    # Every variable any container sets is read by some service.
    known = all_accepted_variables()
    for document in [*by_kind.get("Deployment", []), *by_kind.get("Job", [])]:
        for container in containers_of(document):
            for variable in sorted(set(resolved_env(container, documents)) - known):
                problems.append(f"{k8s_id(document)}: {variable} is read by no service's settings")

    # The committed Secret holds placeholders only.
    for secret in by_kind.get("Secret", []):
        if secret.get("data"):
            problems.append(f"{k8s_id(secret)}: base64 `data` (use stringData placeholders)")
        for key, value in secret.get("stringData", {}).items():
            if "REPLACE_ME" not in str(value):
                problems.append(f"{k8s_id(secret)}: {key} is not an obvious placeholder")
    return problems


# --- Dockerfile and .dockerignore ----------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerignore_pattern(pattern: str) -> re.Pattern[str]:
    """Docker's pattern language: ``*`` stays within a path segment, ``**`` crosses them."""
    regex = ""
    i = 0
    pattern = pattern.strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            regex += pattern[i : end + 1]
            i = end + 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.compile(regex + "$")


def dockerignore_excludes(path: str, lines: list[str]) -> bool:
    """Whether the build context leaves ``path`` out (last matching rule wins, as in Docker)."""
    rules = [
        (line.startswith("!"), dockerignore_pattern(line.lstrip("!")))
        for line in (raw.strip() for raw in lines)
        if line and not line.startswith("#")
    ]
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, pattern in rules:
        if any(pattern.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


# === the tests ================================================================================

# --- docker-compose.yml ---------------------------------------------------------------------


def test_vendored_compose_schema_is_the_recorded_upstream_copy() -> None:
    digest = hashlib.sha256(COMPOSE_SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest == COMPOSE_SCHEMA_SHA256, (
        "deploy/schemas/compose-spec.json changed: record where the new copy comes from in "
        "deploy/schemas/README.md and update COMPOSE_SCHEMA_SHA256"
    )


def test_compose_file_follows_the_compose_specification() -> None:
    assert compose_schema_errors(load_compose()) == []


def test_compose_stack_is_wired_consistently() -> None:
    assert compose_problems(load_compose()) == []


# (mutation, where the schema must report the error)
COMPOSE_SCHEMA_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "misspelt healthcheck key": (
        lambda d: d["services"]["initiatives"]["healthcheck"].update(intervall="10s"),
        "services/initiatives/healthcheck",
    ),
    "unknown depends_on condition": (
        lambda d: d["services"]["initiatives"]["depends_on"]["kafka"].update(
            condition="service_ready"
        ),
        "services/initiatives/depends_on",
    ),
    "ports as a mapping": (
        lambda d: d["services"]["budgets"].update(ports={"8103": 8103}),
        "services/budgets/ports",
    ),
    "unknown service key": (
        lambda d: d["services"]["advisory"].update(commands=["serve"]),
        "services/advisory",
    ),
    "service name with a space": (
        lambda d: d["services"].update({"bad name": {"image": "x"}}),
        "services",
    ),
    "environment as a number": (
        lambda d: d["services"]["notifications"].update(environment=3),
        "services/notifications/environment",
    ),
    "unknown top-level key": (lambda d: d.update(service={}), "<root>"),
}


@pytest.mark.parametrize(
    ("mutation", "where"), COMPOSE_SCHEMA_BREAKS.values(), ids=COMPOSE_SCHEMA_BREAKS.keys()
)
def test_compose_schema_rejects_a_broken_compose_file(
    mutation: Callable[[dict[str, Any]], None], where: str
) -> None:
    document = load_compose()
    mutation(document)
    errors = compose_schema_errors(document)
    assert any(error.startswith(f"{where}: ") for error in errors), errors


def _drop(mapping: dict[str, Any], key: str) -> None:
    del mapping[key]


COMPOSE_INVARIANT_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "depends on a missing service": (
        lambda d: d["services"]["advisory"]["depends_on"].update(
            {"schema-registry": {"condition": "service_started"}}
        ),
        "'schema-registry', which is not a service",
    ),
    "healthy wait on a service without healthcheck": (
        lambda d: d["services"]["initiatives"]["depends_on"]["otel-collector"].update(
            condition="service_healthy"
        ),
        "it has no healthcheck",
    ),
    "service without healthcheck": (
        lambda d: _drop(d["services"]["budgets"], "healthcheck"),
        "budgets: no healthcheck",
    ),
    "healthcheck on /healthz": (
        lambda d: d["services"]["advisory"]["healthcheck"].update(
            test=["CMD", "python", "-c", "urlopen('http://127.0.0.1:8102/healthz')"]
        ),
        "advisory: healthcheck does not ask /readyz",
    ),
    "healthcheck with curl": (
        lambda d: d["services"]["advisory"]["healthcheck"].update(
            test=["CMD", "curl", "-f", "http://127.0.0.1:8102/readyz"]
        ),
        "slim images lack curl",
    ),
    "wrong published port": (
        lambda d: d["services"]["notifications"].update(ports=["127.0.0.1:8104:8105"]),
        "container port 8104 is not published",
    ),
    "wrong HTTP port setting": (
        lambda d: d["services"]["budgets"]["environment"].update(BUDGETS_HTTP_PORT="9000"),
        "BUDGETS_HTTP_PORT is not 8103",
    ),
    "listens on loopback only": (
        lambda d: d["services"]["initiatives"]["environment"].update(
            INITIATIVES_HTTP_HOST="127.0.0.1"
        ),
        "INITIATIVES_HTTP_HOST is not 0.0.0.0",
    ),
    "database missing from the init script": (
        lambda d: d["services"]["advisory"]["environment"].update(
            ADVISORY_DATABASE_URL="postgresql+asyncpg://inspraak:inspraak@postgres:5432/advice"
        ),
        "database /advice is not created at init",
    ),
    "misspelt setting": (
        lambda d: d["services"]["initiatives"]["environment"].update(
            KAFKA_BOOTSTRAP_SERVER="kafka:9092"
        ),
        "KAFKA_BOOTSTRAP_SERVER is read by no service's settings",
    ),
    "dev secret outside development": (
        lambda d: d["services"]["budgets"]["environment"].update(INSPRAAK_ENVIRONMENT="production"),
        "AUTH_JWT_SECRET outside",
    ),
    "topic auto-creation on": (
        lambda d: d["services"]["kafka"]["environment"].update(
            KAFKA_AUTO_CREATE_TOPICS_ENABLE="true"
        ),
        "auto.create.topics.enable must be false",
    ),
    "service starts before its migrations": (
        lambda d: _drop(d["services"]["budgets"]["depends_on"], "budgets-migrate"),
        "budgets: does not wait for budgets-migrate",
    ),
    "restarting one-shot job": (
        lambda d: d["services"]["topics"].update(restart="on-failure"),
        "it restarts forever",
    ),
    "dependency cycle": (
        lambda d: d["services"]["kafka"].update(
            depends_on={"topics": {"condition": "service_completed_successfully"}}
        ),
        "depends_on cycle",
    ),
    "telemetry to the wrong port": (
        lambda d: d["services"]["advisory"]["environment"].update(
            OTEL_EXPORTER_OTLP_ENDPOINT="http://otel-collector:4317"
        ),
        "misses the collector's receiver",
    ),
    "a service missing": (
        lambda d: _drop(d["services"], "notifications"),
        "no notifications service",
    ),
}


@pytest.mark.parametrize(
    ("mutation", "expected"), COMPOSE_INVARIANT_BREAKS.values(), ids=COMPOSE_INVARIANT_BREAKS.keys()
)
def test_compose_checks_catch_a_miswired_stack(
    mutation: Callable[[dict[str, Any]], None], expected: str
) -> None:
    document = load_compose()
    mutation(document)
    problems = compose_problems(document)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("service", SERVICES)
def test_compose_environment_loads_into_the_service_settings(
    monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    environment = environment_of(load_compose()["services"][service])
    settings = load_settings(monkeypatch, settings_class(service), environment)
    assert settings.environment == "development"
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", SERVICES[service])
    assert settings.resolved_database_url() == environment[f"{service.upper()}_DATABASE_URL"]
    assert settings.kafka_bootstrap_servers == "kafka:9092"


def test_otel_collector_pipelines_use_only_defined_components() -> None:
    config = yaml.safe_load(OTEL_CONFIG_FILE.read_text())
    assert "http" in config["receivers"]["otlp"]["protocols"]
    assert "debug" in config["exporters"]
    for extension in config["service"].get("extensions", []):
        assert extension in config.get("extensions", {}), extension
    pipelines = config["service"]["pipelines"]
    assert {"traces", "metrics", "logs"} <= set(pipelines)
    for name, pipeline in pipelines.items():
        for section in ("receivers", "processors", "exporters"):
            for component in pipeline.get(section, []):
                assert component in config.get(section, {}), f"{name}: {section}.{component}"


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_builds_from_the_lock_and_runs_unprivileged() -> None:
    instructions = dockerfile_instructions()
    arguments = {
        a.split("=", 1)[0]: a.split("=", 1)[1] for k, a in instructions if k == "ARG" and "=" in a
    }
    stages = [a for k, a in instructions if k == "FROM"]
    assert stages, "no FROM"
    final_base = re.sub(r"\$\{(\w+)\}", lambda m: arguments.get(m.group(1), ""), stages[-1])
    assert final_base.split()[0].startswith("python:3.11-slim"), final_base
    runs = " ".join(a for k, a in instructions if k == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    users = [a for k, a in instructions[last_from:] if k == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, "USER must be a numeric non-root id (runAsNonRoot)"
    for deployment in (d for d in load_k8s() if d["kind"] == "Deployment"):
        assert pod_spec(deployment)["securityContext"]["runAsUser"] == int(user)


def test_dockerignore_keeps_what_the_image_needs_and_nothing_local() -> None:
    lines = DOCKERIGNORE.read_text().splitlines()
    copied = [
        word
        for keyword, arguments in dockerfile_instructions()
        if keyword == "COPY" and "--from" not in arguments
        for word in arguments.split()[:-1]
        if not word.startswith("--")
    ]
    assert copied
    for source in copied:
        assert not dockerignore_excludes(source.rstrip("/"), lines), source
    for directory in ("shared", "services"):
        for path in (ROOT / directory).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in relative and not relative.endswith(".pyc"):
                assert not dockerignore_excludes(relative, lines), relative
    for local in (
        ".venv/pyvenv.cfg",
        ".git/HEAD",
        ".run/data/initiatives.sqlite3",
        "tests/conftest.py",
        "services/initiatives/__pycache__/app.cpython-311.pyc",
        ".env",
    ):
        assert dockerignore_excludes(local, lines), local


# --- deploy/k8s -----------------------------------------------------------------------------


def k8s_cases() -> list[Any]:
    return [
        pytest.param(document, version, id=f"{k8s_id(document)}@{version}")
        for document in load_k8s()
        for version in K8S_VERSIONS
    ]


@pytest.mark.parametrize(("document", "version"), k8s_cases())
def test_k8s_manifest_follows_the_kubernetes_schema(document: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(document, version, strict=True)


def test_k8s_manifests_are_wired_consistently() -> None:
    files = [p.name for p in k8s_manifest_files()]
    assert k8s_problems(load_k8s(), load_kustomization(), files) == []


def _deployment(documents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def _first(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == kind)


def _main(documents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return pod_spec(_deployment(documents, name))["containers"][0]


# (object to break, mutation, where the schema must report the error)
K8S_SCHEMA_BREAKS: dict[str, tuple[str, Callable[[dict[str, Any]], Any], str]] = {
    "misspelt Deployment field": (
        "Deployment/initiatives",
        lambda d: d["spec"].update(replica=2),
        "spec",
    ),
    "container port as text": (
        "Deployment/budgets",
        lambda d: pod_spec(d)["containers"][0]["ports"][0].update(containerPort="http"),
        "spec/template/spec/containers/0/ports/0/containerPort",
    ),
    "probe with a misspelt handler": (
        "Deployment/advisory",
        lambda d: pod_spec(d)["containers"][0]["readinessProbe"].update(
            httpget={"path": "/readyz"}
        ),
        "spec/template/spec/containers/0/readinessProbe",
    ),
    "env value as a number": (
        "Deployment/notifications",
        lambda d: pod_spec(d)["containers"][0]["env"][1].update(value=8104),
        "spec/template/spec/containers/0/env/1/value",
    ),
    "Service port missing": (
        "Service/initiatives",
        lambda d: d["spec"]["ports"][0].pop("port"),
        "spec/ports/0",
    ),
    "Job with a textual backoffLimit": (
        "Job/inspraak-topics",
        lambda d: d["spec"].update(backoffLimit="six"),
        "spec/backoffLimit",
    ),
    "PodDisruptionBudget with unknown field": (
        "PodDisruptionBudget/budgets",
        lambda d: d["spec"].update(maxAvailable=1),
        "spec",
    ),
    "Secret with a non-string value": (
        "Secret/inspraak-secrets",
        lambda d: d["stringData"].update(KAFKA_SASL_PASSWORD=1234),
        "stringData/KAFKA_SASL_PASSWORD",
    ),
}


@pytest.mark.parametrize(
    ("target", "mutation", "where"), K8S_SCHEMA_BREAKS.values(), ids=K8S_SCHEMA_BREAKS.keys()
)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_schema_rejects_a_broken_manifest(
    target: str, mutation: Callable[[dict[str, Any]], Any], where: str, version: str
) -> None:
    document = copy.deepcopy(next(d for d in load_k8s() if k8s_id(d) == target))
    kubernetes_validate.validate(document, version, strict=True)  # valid before the mutation
    mutation(document)
    with pytest.raises(kubernetes_validate.ValidationError) as caught:
        kubernetes_validate.validate(document, version, strict=True)
    assert "/".join(map(str, caught.value.absolute_path)) == where, caught.value.message


def _set_env(container: dict[str, Any], name: str, value: str) -> None:
    for item in container["env"]:
        if item["name"] == name:
            item.clear()
            item.update(name=name, value=value)


K8S_INVARIANT_BREAKS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str]] = {
    "readiness on /healthz": (
        lambda docs: _main(docs, "initiatives")["readinessProbe"]["httpGet"].update(
            path="/healthz"
        ),
        "Deployment/initiatives: readiness probe is not GET /readyz",
    ),
    "no liveness probe": (
        lambda docs: _main(docs, "budgets").pop("livenessProbe"),
        "Deployment/budgets: liveness probe is not GET /healthz",
    ),
    "probe on an unnamed port": (
        lambda docs: _main(docs, "advisory")["livenessProbe"]["httpGet"].update(port="web"),
        "livenessProbe port web is not a container port",
    ),
    "single replica": (
        lambda docs: _deployment(docs, "advisory")["spec"].update(replicas=1),
        "Deployment/advisory: fewer than 2 replicas",
    ),
    "no migrate initContainer": (
        lambda docs: pod_spec(_deployment(docs, "notifications")).pop("initContainers"),
        "Deployment/notifications: no initContainer runs the migrations",
    ),
    "Service selecting nothing": (
        lambda docs: _first(docs, "Service")["spec"]["selector"].update(
            {"app.kubernetes.io/name": "initiative"}
        ),
        "selects the pods of no Deployment",
    ),
    "Service to a missing port name": (
        lambda docs: _first(docs, "Service")["spec"]["ports"][0].update(targetPort="metrics"),
        "targetPort metrics is not a pod port",
    ),
    "topics with replication factor 1": (
        lambda docs: _set_env(
            pod_spec(_first(docs, "Job"))["containers"][0], "KAFKA_REPLICATION_FACTOR", "1"
        ),
        "KAFKA_REPLICATION_FACTOR is not set to 3",
    ),
    "topics without min.insync.replicas": (
        lambda docs: pod_spec(_first(docs, "Job"))["containers"][0].update(
            env=[
                e
                for e in pod_spec(_first(docs, "Job"))["containers"][0]["env"]
                if e["name"] != "KAFKA_MIN_INSYNC_REPLICAS"
            ]
        ),
        "KAFKA_MIN_INSYNC_REPLICAS is not set to 2",
    ),
    "no resource limits": (
        lambda docs: _main(docs, "budgets")["resources"].pop("limits"),
        "Deployment/budgets/budgets: no limits",
    ),
    "may run as root": (
        lambda docs: pod_spec(_deployment(docs, "initiatives"))["securityContext"].update(
            runAsNonRoot=False
        ),
        "Deployment/initiatives: pods may run as root",
    ),
    "capabilities kept": (
        lambda docs: pod_spec(_first(docs, "Job"))["containers"][0]["securityContext"].pop(
            "capabilities"
        ),
        "Job/inspraak-topics/topics: keeps capabilities",
    ),
    "secret key that does not exist": (
        lambda docs: _main(docs, "advisory")["env"][-1]["valueFrom"]["secretKeyRef"].update(
            key="KAFKA_PASSWORD"
        ),
        "has no key KAFKA_PASSWORD",
    ),
    "real-looking secret": (
        lambda docs: _first(docs, "Secret")["stringData"].update(KAFKA_SASL_PASSWORD="hunter2"),
        "KAFKA_SASL_PASSWORD is not an obvious placeholder",
    ),
    "misspelt setting in the ConfigMap": (
        lambda docs: _first(docs, "ConfigMap")["data"].update(KAFKA_TOPIC_PARTITION="12"),
        "KAFKA_TOPIC_PARTITION is read by no service's settings",
    ),
    "outside the namespace": (
        lambda docs: _first(docs, "ConfigMap")["metadata"].update(namespace="default"),
        "not in namespace inspraak",
    ),
    "PodDisruptionBudget that blocks drains": (
        lambda docs: _first(docs, "PodDisruptionBudget")["spec"].update(minAvailable=2),
        "minAvailable blocks every node drain",
    ),
}


@pytest.mark.parametrize(
    ("mutation", "expected"), K8S_INVARIANT_BREAKS.values(), ids=K8S_INVARIANT_BREAKS.keys()
)
def test_k8s_checks_catch_a_miswired_manifest(
    mutation: Callable[[list[dict[str, Any]]], None], expected: str
) -> None:
    documents = copy.deepcopy(load_k8s())
    mutation(documents)
    files = [p.name for p in k8s_manifest_files()]
    problems = k8s_problems(documents, load_kustomization(), files)
    assert any(expected in problem for problem in problems), problems


def test_k8s_checks_catch_a_kustomization_that_forgets_a_file() -> None:
    kustomization = load_kustomization()
    files = [p.name for p in k8s_manifest_files()]
    forgotten = copy.deepcopy(kustomization)
    forgotten["resources"].remove("budgets.yaml")
    assert "kustomization.yaml does not list budgets.yaml" in k8s_problems(
        load_k8s(), forgotten, files
    )
    assert "kustomization.yaml does not list ingress.yaml" in k8s_problems(
        load_k8s(), kustomization, [*files, "ingress.yaml"]
    )


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_environment_loads_into_the_service_settings_in_production(
    monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    documents = load_k8s()
    main = _main(documents, service)
    environment = resolved_env(main, documents)
    settings = load_settings(monkeypatch, settings_class(service), environment)
    assert settings.environment == "production"
    assert settings.auth_jwt_secret is None and settings.auth_jwks_url
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", SERVICES[service])
    assert settings.kafka_replication_factor == 3 and settings.kafka_min_insync_replicas == 2
    assert settings.resolved_database_url().startswith("postgresql+asyncpg://")


def test_topic_job_environment_loads_into_the_topic_tool_with_production_durability(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documents = load_k8s()
    job = next(d for d in documents if d["kind"] == "Job")
    environment = resolved_env(pod_spec(job)["containers"][0], documents)
    settings = load_settings(monkeypatch, ToolSettings, environment)
    assert settings.environment == "production"
    assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas) == (3, 2)
    assert settings.kafka_security_protocol == "SASL_SSL" and settings.kafka_sasl_password


def test_compose_topic_job_environment_loads_into_the_topic_tool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = environment_of(load_compose()["services"]["topics"])
    settings = load_settings(monkeypatch, ToolSettings, environment)
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.kafka_replication_factor == 1  # one broker
