from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app
from core.config import Config, ConfigError


def test_factory_uses_the_config_it_is_given(config: Config) -> None:
    app = create_app(config)
    assert app.testing
    app.extensions["credithub"].engine.dispose()
    assert app.extensions["credithub"].config.database_url == config.database_url


def test_default_database_is_an_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    config = Config.from_env({"CREDITHUB_INSTANCE_PATH": str(tmp_path / "inst")})
    assert config.database_url == f"sqlite:///{tmp_path / 'inst' / 'credithub.sqlite3'}"


def test_config_reads_credithub_variables(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "CREDITHUB_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "CREDITHUB_SECRET_KEY": "s3cret",
            "CREDITHUB_LOG_LEVEL": "debug",
            "CREDITHUB_INSTANCE_PATH": str(tmp_path),
            "CREDITHUB_MAX_REQUEST_BYTES": "1024",
            "CREDITHUB_TESTING": "yes",
            "UNRELATED": "x",
        }
    )
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.secret_key == "s3cret"
    assert config.log_level == "DEBUG"
    assert config.max_request_bytes == 1024
    assert config.testing is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CREDITHUB_LOG_LEVEL", "loud"),
        ("CREDITHUB_MAX_REQUEST_BYTES", "lots"),
        ("CREDITHUB_MAX_REQUEST_BYTES", "0"),
        ("CREDITHUB_TESTING", "maybe"),
    ],
)
def test_bad_configuration_values_are_refused_with_the_variable_named(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        Config.from_env({variable: value})


def test_unknown_paths_answer_with_problem_json(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404


def test_wrong_method_is_405_with_allow_header(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json["title"] == "Method Not Allowed"


def test_nul_characters_are_refused_everywhere_with_400(client: FlaskClient) -> None:
    assert client.get("/api/v1/catalogue?feed=a%00b").status_code == 400
    response = client.post(
        "/api/v1/records",
        data='{"feed": "a\\u0000b", "records": []}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json["detail"] == "NUL characters are not allowed in the request body."
