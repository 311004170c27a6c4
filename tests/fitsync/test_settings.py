"""Settings parsing and the production check, each in a fresh interpreter with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Y-" + "x7Qz9-Lm2Pw8-Rt5Vb1-Nc4Hj6-Gf3Ds0-Ak9Ue2-Yo7Ti5-Wq1Er8"
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": STRONG_KEY,
    "FIELD_ENCRYPTION_KEYS": "pQTv05bVIU5_IQ0Ln4cK9WSsh3M0NZWXsbrbDgIF1xI=",
    "SITE_URL": "https://fitsync.example.org",
    "FITSYNC_ENV_FILE": "",
}


def manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PRODUCTION, **env_overrides)
    env["FITSYNC_DATA_DIR"] = env.get("FITSYNC_DATA_DIR", "/tmp/fitsync-settings-test")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def setting(name, **env):
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    return manage("shell", "--no-imports", "-c", code, **env).stdout.strip().splitlines()[-1]


def test_the_production_deploy_check_passes():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def test_a_weak_secret_key_is_a_startup_error():
    result = manage("check", SECRET_KEY="short")
    assert result.returncode != 0 and "SECRET_KEY is unset or weak" in result.stderr


def test_missing_encryption_keys_are_a_startup_error():
    result = manage("check", FIELD_ENCRYPTION_KEYS="")
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEYS is unset" in result.stderr


def test_the_embedded_default_is_sqlite_wal_immediate_and_the_orm_broker():
    options = setting("DATABASES['default']['OPTIONS']")
    assert "'transaction_mode': 'IMMEDIATE'" in options and "journal_mode=WAL" in options and "'timeout'" in options
    assert "'orm': 'default'" in setting("Q_CLUSTER")
    assert "DatabaseCache" in setting("CACHES")


def test_database_url_and_redis_url_switch_backends():
    env = {"DATABASE_URL": "postgres://u:p@127.0.0.1:5432/fitsync", "REDIS_URL": "redis://127.0.0.1:6379/3"}
    assert "postgresql" in setting("DATABASES['default']['ENGINE']", **env)
    q_cluster = setting("Q_CLUSTER", **env)
    assert "'redis': 'redis://127.0.0.1:6379/3'" in q_cluster and "'orm'" not in q_cluster
    assert "RedisCache" in setting("CACHES", **env)


def test_q_cluster_sets_the_safety_options_explicitly():
    q_cluster = eval(setting("Q_CLUSTER"))  # a repr of plain literals
    assert q_cluster["timeout"] < q_cluster["retry"]
    assert {"max_attempts", "save_limit", "catch_up"} <= q_cluster.keys() and q_cluster["catch_up"] is False


def test_every_upstream_base_url_is_a_setting():
    env = {"HEVY_API_URL": "http://127.0.0.1:9/hevy", "GARMIN_DI_TOKEN_URL": "http://127.0.0.1:9/garmin/di"}
    assert setting("HEVY_API_URL", **env) == "'http://127.0.0.1:9/hevy'"
    assert setting("GARMIN_DI_TOKEN_URL", **env) == "'http://127.0.0.1:9/garmin/di'"


def test_the_sandbox_is_refused_in_production():
    result = manage("check", FITSYNC_SANDBOX="1")
    assert result.returncode != 0 and "never in production" in result.stderr


def test_env_example_lists_every_setting():
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', (ROOT / "fitsync" / "settings.py").read_text()))
    documented = set(re.findall(r"^#? ?([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


def test_env_example_is_a_working_env_file(tmp_path):
    text = (ROOT / ".env.example").read_text()
    text = text.replace("SECRET_KEY=\n", f"SECRET_KEY={STRONG_KEY}\n")
    text = text.replace("FIELD_ENCRYPTION_KEYS=\n", f"FIELD_ENCRYPTION_KEYS={PRODUCTION['FIELD_ENCRYPTION_KEYS']}\n")
    (tmp_path / ".env").write_text(text)
    overrides = {key: "" for key in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "SITE_URL", "DEBUG")}
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    env.update(FITSYNC_ENV_FILE=str(tmp_path / ".env"), FITSYNC_DATA_DIR=str(tmp_path))
    for key in overrides:
        env.pop(key, None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
