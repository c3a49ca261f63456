"""What no container engine runs here, checked statically: the Dockerfile (hadolint), the compose file (the
Compose Specification's schema), the Kubernetes manifests, and that every variable the code reads is
documented in the README and in .env.example."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BIN = Path(sys.executable).parent


def manifests() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_name(kind: str, name: str) -> dict:
    return next(doc for doc in manifests() if doc["kind"] == kind and doc["metadata"]["name"] == name)


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_file_follows_the_compose_specification():
    checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kubernetes_manifests_follow_the_api_schemas():
    """Strict: a misspelt or misplaced field fails, as a wrong type does (the schemas ship in the package, so
    this runs offline)."""
    validator = shutil.which("kubernetes-validate", path=str(BIN)) or shutil.which("kubernetes-validate")
    paths = [str(path) for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"]
    result = subprocess.run([validator, "--strict", "--quiet", *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_manifest_check_rejects_a_misspelt_field(tmp_path):
    """The check above would pass on a validator that reads nothing: the same web manifest with one probe
    misspelt, and with a count as a word, must fail it."""
    validator = shutil.which("kubernetes-validate", path=str(BIN)) or shutil.which("kubernetes-validate")
    web = (K8S / "web.yaml").read_text()
    assert "readinessProbe:" in web and "replicas: " in web
    for name, broken in [
        ("misspelt.yaml", web.replace("readinessProbe:", "readinesProbe:")),
        ("wrong-type.yaml", re.sub(r"replicas: \S+", 'replicas: "two"', web)),
    ]:
        (tmp_path / name).write_text(broken)
        result = subprocess.run(
            [validator, "--strict", "--quiet", str(tmp_path / name)], capture_output=True, text=True
        )
        assert result.returncode != 0, name
        assert "did not validate" in result.stdout + result.stderr, name


def test_compose_keeps_cookies_secure_and_the_media_volume_where_the_image_owns_it():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app = compose["services"]["web"]
    assert app["environment"]["SECURE_COOKIES"] == "${SECURE_COOKIES:-true}"
    assert "media:/app/.data/media" in app["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "mkdir -p /app/.data/media /app/.data/staticfiles" in dockerfile
    assert "chown -R 1000:1000 /app/.data" in dockerfile
    assert "--require-hashes" in dockerfile


def test_every_manifest_listed_and_every_deployment_selects_its_own_pods():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    for doc in manifests():
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), doc["metadata"]["name"]


def test_every_acolhe_pod_runs_unprivileged_with_a_memory_limit_and_the_shared_settings():
    pods = [doc["spec"]["template"]["spec"] for doc in manifests() if doc["kind"] in ("Deployment", "Job")]
    acolhe = [(pod, c) for pod in pods for c in pod["containers"] if c["image"] == "acolhe"]
    assert {c["name"] for _, c in acolhe} == {"web", "worker", "beat", "migrate"}
    for pod, container in acolhe:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert "memory" in container["resources"]["limits"]
        assert {"configMapRef": {"name": "acolhe"}} in container["envFrom"]


def test_probes_migrations_pgbouncer_and_a_single_beat():
    web = by_name("Deployment", "acolhe-web")["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert "httpGet" not in web["livenessProbe"]  # a database outage must not restart every pod
    migrate = by_name("Job", "acolhe-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--no-input"]
    pgbouncer = by_name("Deployment", "pgbouncer")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "POOL_MODE", "value": "transaction"} in pgbouncer["env"]
    assert by_name("ConfigMap", "acolhe")["data"]["DATABASE_DISABLE_SERVER_SIDE_CURSORS"] == "true"
    beat = by_name("Deployment", "acolhe-beat")["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"


def application_modules() -> list[Path]:
    return [
        *(ROOT / "helpdesk").glob("*.py"),
        *(ROOT / "tickets").rglob("*.py"),
        *(ROOT / "accounts").rglob("*.py"),
        *(ROOT / "sop").rglob("*.py"),
        *(ROOT / "metrics").rglob("*.py"),
    ]


def variables_read_by_the_code() -> set[str]:
    names = set()
    for path in application_modules():
        text = path.read_text()
        names |= set(re.findall(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\"", text))
    return names


def test_every_variable_the_tests_read_is_named_in_the_readme():
    pattern = re.compile(r"os\.environ(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\"")
    names = {name for path in (ROOT / "tests").rglob("*.py") for name in pattern.findall(path.read_text())}
    assert {"ACOLHE_CHROMIUM", "ACOLHE_CRAWL", "ACOLHE_WORKER_LOG"} <= names
    names -= {"PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE"}  # pytest-xdist's and Django's own
    text = (ROOT / "README.md").read_text()
    assert sorted(name for name in names if not re.search(rf"\b{name}\b", text)) == []


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_variable_the_code_reads_is_documented(document):
    names = variables_read_by_the_code()
    assert {"SECRET_KEY", "ACOLHE_CELERY_QUEUE", "ACOLHE_SENSITIVITY_CLASSIFIER", "GUNICORN_WORKERS"} <= names
    text = (ROOT / document).read_text()
    missing = sorted(name for name in names if not re.search(rf"\b{name}\b", text))
    assert missing == []


def test_the_code_reads_only_declared_settings():
    """Every knob is declared in helpdesk/settings.py with its default; code never supplies its own default
    with getattr(settings, name, default), which would hide a setting from the README table."""
    declared = set(re.findall(r"^([A-Z][A-Z0-9_]+)\s*[:=]", (ROOT / "helpdesk" / "settings.py").read_text(), re.M))
    from django.conf import global_settings

    known = declared | {name for name in dir(global_settings) if name.isupper()}
    hidden, undeclared = [], []
    for path in application_modules():
        text = path.read_text()
        hidden += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"(?:get|has)attr\(\s*settings\b[^)]*", text)]
        undeclared += [f"{path.relative_to(ROOT)}: {n}" for n in re.findall(r"\bsettings\.([A-Z][A-Z0-9_]+)", text)]
    assert hidden == []
    assert [entry for entry in undeclared if entry.rsplit(": ", 1)[1] not in known] == []
