import msgspec
import pytest

from shared.settings import SettingsError, load_settings


class Sample(msgspec.Struct, kw_only=True):
    database_url: str
    http_port: int = 8001
    debug: bool = False


def test_reads_prefixed_variables_and_converts_types():
    env = {"SVC_DATABASE_URL": "postgresql://x", "SVC_HTTP_PORT": "9000", "SVC_DEBUG": "true"}
    settings = load_settings(Sample, prefix="SVC_", environ=env)
    assert settings == Sample(database_url="postgresql://x", http_port=9000, debug=True)


def test_falls_back_to_shared_variables_in_order():
    env = {"DATABASE_URL": "postgresql://shared"}
    settings = load_settings(Sample, prefix="SVC_", environ=env, fallbacks={"database_url": ["DATABASE_URL"]})
    assert settings.database_url == "postgresql://shared"


def test_missing_required_setting_names_every_variable_that_could_set_it():
    with pytest.raises(SettingsError, match="SVC_DATABASE_URL or DATABASE_URL is required"):
        load_settings(Sample, prefix="SVC_", environ={}, fallbacks={"database_url": ["DATABASE_URL"]})


def test_invalid_value_names_the_variable_it_came_from():
    env = {"SVC_DATABASE_URL": "x", "SVC_HTTP_PORT": "eighty"}
    with pytest.raises(SettingsError, match="SVC_HTTP_PORT is invalid: Expected `int`"):
        load_settings(Sample, prefix="SVC_", environ=env)
