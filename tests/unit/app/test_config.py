"""Settings: flags over env over file over defaults; every bad setting is one clear error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.alerts.rules import AlertRules
from app.config import FLAT, ConfigError, Settings, account_keys, load_settings
from risk.model import RiskRules


def test_defaults() -> None:
    s = load_settings()
    assert (s.web.host, s.web.port, s.exchange.poll_interval_s) == ("127.0.0.1", 8050, 2.0)


def test_file_then_env_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "pmdesk.toml"
    f.write_text('[web]\nport = 9000\nstale_after_s = 30\n[exchange]\naccount = "desk-a"\n')
    monkeypatch.setenv("PMDESK_EXCHANGE__ACCOUNT", "desk-b")
    s = load_settings(f, port=9100)
    assert s.web.port == 9100  # flag beats file
    assert s.exchange.account == "desk-b"  # env beats file
    assert s.web.stale_after_s == 30  # file beats default


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[web]\nport = 99999\n", "config: web.port: Input should be less than or equal to 65535"),
        ("colour = 'red'\n", "config: unknown setting 'colour'"),
        ("[web]\ncolour = 'red'\n", "config: unknown setting 'web.colour'"),
        ("[web]\nport = \n", "is not valid TOML"),
        (
            "[exchange]\npoll_interval_s = -1\n",
            "config: exchange.poll_interval_s: Input should be greater than 0",
        ),
        # PM Pro's ladder is 1.5 / 1.2 / 1.05 / 1.0: a reduce-only level above 1.5 is refused.
        (
            "[risk]\nproduct = 'PM_PRO'\nreduce_only_uni_mmr = 1.6\n",
            "uniMMR levels must fall strictly",
        ),
        ("[risk]\nproduct = 'PM3'\n", "config: risk.product: Input should be 'PM' or 'PM_PRO'"),
        (
            "[risk]\nmargin_leverage = 1\n",
            "config: risk.margin_leverage: Input should be greater than or equal",
        ),
        (
            "[risk]\nreconcile_tolerance = 0\n",
            "config: risk.reconcile_tolerance: Input should be greater than 0",
        ),
        # An old flat name is checked under its new one.
        ("port = 99999\n", "config: web.port: Input should be less than or equal to 65535"),
    ],
)
def test_bad_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(f)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_bad_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMDESK_WEB__PORT", "eighty")
    with pytest.raises(ConfigError, match=r"config: web\.port"):
        load_settings()


def test_secret_never_echoed_in_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[exchange]\napi_secret = 12345678\n")
    with pytest.raises(ConfigError) as err:
        load_settings(f)
    assert "12345678" not in str(err.value)


def test_secret_files_must_be_owner_only(tmp_path: Path) -> None:
    key, secret = tmp_path / "key", tmp_path / "secret"
    key.write_text("k-123\n")
    secret.write_text("s-456\n")
    key.chmod(0o600)
    secret.chmod(0o644)
    with pytest.raises(ConfigError) as err:
        load_settings(api_key_file=key, api_secret_file=secret)
    assert "can be read by others (mode 644)" in str(err.value)
    assert "chmod 600" in str(err.value)
    assert "s-456" not in str(err.value)
    secret.chmod(0o600)
    exchange = load_settings(api_key_file=key, api_secret_file=secret).exchange
    assert exchange.api_key is not None and exchange.api_key.get_secret_value() == "k-123"
    assert exchange.api_secret is not None and exchange.api_secret.get_secret_value() == "s-456"
    assert "s-456" not in repr(exchange)


def test_several_accounts_with_keys_from_files_or_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = tmp_path / "a.key", tmp_path / "a.secret"
    for f, text in ((key, "ka"), (secret, "sa")):
        f.write_text(text)
        f.chmod(0o600)
    monkeypatch.setenv("DESK_B_KEY", "kb")
    monkeypatch.setenv("DESK_B_SECRET", "sb")
    cfg = tmp_path / "desk.toml"
    cfg.write_text(
        f'[[accounts]]\nname = "desk-a"\napi_key_file = "{key}"\napi_secret_file = "{secret}"\n'
        '[[accounts]]\nname = "desk-b"\napi_key_env = "DESK_B_KEY"\n'
        'api_secret_env = "DESK_B_SECRET"\n'
    )
    keys = account_keys(load_settings(cfg))
    assert [
        (k.name, k.api_key.get_secret_value(), k.api_secret.get_secret_value()) for k in keys
    ] == [
        ("desk-a", "ka", "sa"),
        ("desk-b", "kb", "sb"),
    ]
    monkeypatch.delenv("DESK_B_SECRET")
    with pytest.raises(ConfigError, match=r"accounts\[desk-b\].api_secret: environment variable"):
        account_keys(load_settings(cfg))


def test_account_names_must_differ_and_need_a_key(tmp_path: Path) -> None:
    cfg = tmp_path / "desk.toml"
    cfg.write_text('[[accounts]]\nname = "x"\n[[accounts]]\nname = "x"\n')
    with pytest.raises(ConfigError, match="x repeated"):
        account_keys(load_settings(cfg))
    cfg.write_text('[[accounts]]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"accounts\[x\]: give api_key_file"):
        account_keys(load_settings(cfg))


def test_alert_rules_from_the_file_with_per_account_changes(tmp_path: Path) -> None:
    cfg = tmp_path / "pmdesk.toml"
    cfg.write_text(
        "[web]\nstale_after_s = 20\n"
        '[alerts]\nnotify_urls = ["json://127.0.0.1:9999/hook?token=s3cret"]\n'
        "uni_mmr_warn = 2.5\nuni_mmr_warn_clear = 2.8\ncooldown_s = 30\n"
        '[[accounts]]\nname = "desk-a"\napi_key_env = "K"\napi_secret_env = "S"\n'
        "alerts = { uni_mmr_warn = 3.0, uni_mmr_warn_clear = 3.3 }\n"
        '[[accounts]]\nname = "desk-b"\napi_key_env = "K"\napi_secret_env = "S"\n'
    )
    settings = load_settings(cfg)
    rules = settings.alert_rules(["desk-a", "desk-b"])
    assert (rules["desk-a"].uni_mmr_warn.trigger, rules["desk-a"].uni_mmr_warn.clear) == (3.0, 3.3)
    assert (rules["desk-b"].uni_mmr_warn.trigger, rules["desk-b"].cooldown_s) == (2.5, 30.0)
    assert rules["desk-b"].stale_s.trigger == 20.0  # stale_s unset: the screen's limit
    assert rules["desk-b"].uni_mmr_critical.trigger == 1.6  # default
    assert "s3cret" not in repr(settings)  # notify URLs are secrets


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ("uni_mmr_warn = 2.0\nuni_mmr_warn_clear = 1.9", "alerts.uni_mmr_warn: clear level"),
        ("uni_mmr_wran = 2.0", "alerts.uni_mmr_wran"),
    ],
)
def test_bad_alert_levels_are_named(tmp_path: Path, alerts: str, message: str) -> None:
    cfg = tmp_path / "pmdesk.toml"
    cfg.write_text(f"[alerts]\n{alerts}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg).alert_rules(["main"])


def test_bad_alert_change_of_one_account_names_it(tmp_path: Path) -> None:
    cfg = tmp_path / "pmdesk.toml"
    cfg.write_text(
        '[[accounts]]\nname = "desk-a"\napi_key_env = "K"\napi_secret_env = "S"\n'
        'alerts = { cooldown_s = "soon" }\n'
    )
    with pytest.raises(ConfigError, match=r"accounts\[desk-a\]\.alerts\.cooldown_s"):
        load_settings(cfg).alert_rules(["desk-a"])


# ---- sections: one source for each default, old flat names for one release (issue 18) ------


def test_alert_and_risk_defaults_are_the_rules_own() -> None:
    rules = load_settings().alert_rules(["main"])["main"]
    assert rules == AlertRules()  # every [alerts] default is AlertRules()'s, stale_s included
    risk = load_settings().risk_rules()
    defaults = RiskRules()
    for name in (
        "margin_leverage",
        "default_loan_mmr",
        "reconcile_tolerance",
        "top_up_target_uni_mmr",
        "top_up_clear_move_pct",
    ):
        assert getattr(risk, name) == getattr(defaults, name), name


def test_an_old_name_in_the_file_works_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    f = tmp_path / "pmdesk.toml"
    f.write_text('port = 9000\nstore_max_mb = 5\nnotify_urls = ["json://127.0.0.1:1/hook"]\n')
    with caplog.at_level(logging.WARNING, logger="pmdesk.config"):
        s = load_settings(f)
    assert (s.web.port, s.store.max_mb, len(s.alerts.notify_urls)) == (9000, 5.0, 1)
    lines = [r.getMessage() for r in caplog.records if "old name" in r.getMessage()]
    assert "write port under [web]" in " ".join(lines)
    assert "write max_mb under [store]" in " ".join(lines)
    assert "write notify_urls under [alerts]" in " ".join(lines)
    assert all("\n" not in line for line in lines)


def test_an_old_environment_name_works_and_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PMDESK_WEB_THREADS", "4")
    monkeypatch.setenv("PMDESK_RECONCILE_TOLERANCE", "0.01")
    with caplog.at_level(logging.WARNING, logger="pmdesk.config"):
        s = load_settings()
    assert (s.web.threads, s.risk.reconcile_tolerance) == (4, 0.01)
    text = caplog.text
    assert "PMDESK_WEB_THREADS is an old name (accepted for one release)" in text
    assert "use PMDESK_WEB__THREADS" in text and "use PMDESK_RISK__RECONCILE_TOLERANCE" in text


def test_a_new_name_works_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PMDESK_DB_URL", raising=False)
    monkeypatch.setenv("PMDESK_STORE__URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("PMDESK_WEB__THREADS", "3")
    f = tmp_path / "pmdesk.toml"
    f.write_text("[web]\nport = 9001\n[risk]\nproduct = 'PM_PRO'\n")
    with caplog.at_level(logging.WARNING, logger="pmdesk.config"):
        s = load_settings(f)
    assert (s.web.port, s.web.threads, s.risk.product.value) == (9001, 3, "PM_PRO")
    assert s.store.url.endswith("x.db")
    assert "old name" not in caplog.text


def test_given_both_names_the_new_one_wins_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    f = tmp_path / "pmdesk.toml"
    f.write_text("port = 9000\n[web]\nport = 9001\n")
    monkeypatch.setenv("PMDESK_KIOSK_CYCLE_S", "20")
    monkeypatch.setenv("PMDESK_WEB__KIOSK_CYCLE_S", "30")
    with caplog.at_level(logging.WARNING, logger="pmdesk.config"):
        s = load_settings(f)
    assert (s.web.port, s.web.kiosk_cycle_s) == (9001, 30.0)
    assert "[web] port is given too: it wins" in caplog.text
    assert "both are set: PMDESK_WEB__KIOSK_CYCLE_S wins" in caplog.text


def test_every_old_name_has_a_field_in_its_section() -> None:
    sections = {name: field.annotation for name, field in Settings.model_fields.items()}
    for old, (section, name) in FLAT.items():
        model = sections[section]
        assert isinstance(model, type) and name in model.model_fields, old
