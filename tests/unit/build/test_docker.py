"""Dockerfile and docker-compose.yml name only what exists: commands, ports, variables, paths, services.

There is no Docker engine on these machines, so the files are parsed and checked against the code.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from app.cli import build_parser
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}
# Variables read by Python, pip, PostgreSQL's image or Celery rather than by licbench's settings.
OTHER_VARIABLES = {
    "PYTHONUNBUFFERED",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def instruction_args(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile_instructions() if instruction == name]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def licbench_services(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items() if service.get("build") == "."}


def assert_licbench_command(argv: list[str]) -> None:
    """The licbench command line accepts argv (argparse exits on an unknown command or option)."""
    assert argv[0] == "licbench", argv
    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as exc:  # argparse's way of rejecting
        pytest.fail(f"`{shlex.join(argv)}` is not a licbench command ({exc})")


def test_dockerfile_copies_paths_that_exist() -> None:
    for arguments in instruction_args("COPY"):
        *sources, _destination = shlex.split(arguments)
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


def test_dockerfile_installs_the_lock_and_only_extras_pyproject_defines() -> None:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    installs = [run for run in instruction_args("RUN") if "pip install" in run]
    assert any("-r requirements.lock" in run for run in installs), "the image must install from the lock"
    for run in installs:
        for named in re.findall(r"\.\[([^\]]+)\]", run):
            missing = set(named.split(",")) - extras
            assert not missing, f"Dockerfile installs extras {missing} that pyproject.toml does not define"


def test_dockerfile_environment_and_port_match_the_settings() -> None:
    for arguments in instruction_args("ENV"):
        for assignment in shlex.split(arguments):
            name = assignment.partition("=")[0]
            assert name in SETTINGS_VARIABLES | OTHER_VARIABLES, f"Dockerfile sets {name}, which nothing reads"
    assert instruction_args("EXPOSE") == [str(Settings().port)]
    volumes = {volume for arguments in instruction_args("VOLUME") for volume in yaml.safe_load(arguments)}
    env = dict(a.partition("=")[::2] for args in instruction_args("ENV") for a in shlex.split(args))
    assert volumes == {env["DATA_DIR"], env["WEIGHTS_DIR"]}


def test_dockerfile_command_migrates_then_serves_the_app() -> None:
    (cmd,) = instruction_args("CMD")
    argv = yaml.safe_load(cmd)  # exec form, a JSON array
    assert argv[:2] == ["sh", "-c"]
    first, second = (shlex.split(part) for part in argv[2].split("&&"))
    assert_licbench_command(first)
    assert first[1:] == ["db", "upgrade"]
    assert second[0] == "uvicorn" and second[1] == "app.main:app"
    module, _, attribute = second[1].partition(":")
    assert re.search(rf"^{attribute} = ", (ROOT / (module.replace(".", "/") + ".py")).read_text(), re.M)
    assert second[second.index("--port") + 1] == str(Settings().port)


def test_compose_services_and_their_links(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "api", "worker-cpu", "worker-gpu", "flower"}
    for name, service in services.items():
        depends = service.get("depends_on", [])
        assert set(depends) <= set(services), f"{name} depends on a service that does not exist"
    env = services["api"]["environment"]
    database, broker = urlsplit(env["DATABASE_URL"]), urlsplit(env["BROKER_URL"])
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")  # the driver pyproject installs
    postgres = services["postgres"]["environment"]
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)


def test_compose_environment_names_licbench_settings(compose: dict) -> None:
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}):
            if name in licbench_services(compose):
                assert variable in SETTINGS_VARIABLES, f"{name} sets {variable}, not a licbench setting"
            else:
                assert variable in OTHER_VARIABLES, f"{name} sets {variable}, which its image does not read"


def test_compose_commands_exist(compose: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.commands.service import default_queues, worker_command
    from app.settings import get_settings

    monkeypatch.setenv("LEARNED_QUEUE", "gpu")
    get_settings.cache_clear()
    try:
        queues = set(default_queues().split(","))  # the queues a job's tasks are sent to
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    served = set()
    for service in licbench_services(compose).values():
        argv = service.get("command")
        if argv is None:
            continue  # the Dockerfile's CMD (checked above)
        if argv[0] == "licbench":
            assert_licbench_command(argv)
            served |= set(argv[argv.index("--queues") + 1].split(","))
        else:
            # Flower loads the Celery app the tested `licbench worker` runs.
            tested = worker_command(1, "cpu")
            assert argv[:3] == ["celery", "-A", tested[tested.index("-A") + 1]] and argv[3] == "flower", argv
            ops = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["ops"]
            assert "flower" in ops, "flower runs in the compose stack but no extra installs it"
    assert served == queues, f"workers serve {served}, jobs are sent to {queues}"
    assert licbench_services(compose)["worker-gpu"]["environment"]["DEVICE"] == "cuda"


def test_compose_ports_and_volumes(compose: dict) -> None:
    services = compose["services"]
    port = Settings().port
    assert services["api"]["ports"] == [f"{port}:{port}"]
    flower_port = next(a.split("=")[1] for a in services["flower"]["command"] if a.startswith("--port="))
    assert services["flower"]["ports"] == [f"{flower_port}:{flower_port}"]
    named = set(compose.get("volumes") or {})
    for name, service in services.items():
        env = service.get("environment", {})
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                # A bind mount of the checkout's weights folder (Settings' default, gitignored).
                assert Path(source).name == str(Settings().weights_dir) and target == env["WEIGHTS_DIR"]
            else:
                assert source in named, f"{name} mounts volume {source}, not declared at the top level"
            if name in licbench_services(compose) and source == "data":
                assert target == env["DATA_DIR"]
