"""deploy/prometheus: the scrape config and alert rules are valid, every
alert's unit tests pass (promtool), every alert has a firing and a
not-firing case, and the rules use only metric families of the contract
(deploy/metrics.md) plus Prometheus' own `up`.

Needs promtool (Debian package `prometheus`); skipped without it.
"""

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO

sys.path.insert(0, str(REPO / "tools" / "lib"))
import metrics_contract  # noqa: E402

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
PROMETHEUS_OWN = {"up"}
# Words in PromQL that look like metric names but are not.
PROMQL_WORDS = {"sum", "by", "without", "rate", "increase", "and", "or", "unless", "on", "ignoring",
                "group_left", "group_right", "bool", "offset", "max", "min", "avg", "count"}


def promtool(*args):
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`: "
                    "apt-get install --no-install-recommends prometheus)")
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=120)


def alert_rules():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_scrape_config_is_valid():
    result = promtool("check", "config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config_has_a_job_per_process():
    jobs = {job["job_name"]: job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}
    assert set(jobs) >= {"tandem-signaling", "tandem-dataplane"}
    targets = lambda job: [t for c in jobs[job]["static_configs"] for t in c["targets"]]
    assert all(t.endswith(":9480") for t in targets("tandem-signaling"))
    assert all(t.endswith(":9481") for t in targets("tandem-dataplane"))


def test_rules_are_valid():
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass():
    result = promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_firing_and_not_firing_cases():
    cases = {}
    for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    for rule in alert_rules():
        assert cases.get(rule["alert"]) == {True, False}, f"{rule['alert']} lacks a firing or a not-firing case"


def test_rules_use_only_documented_metrics():
    entries, _ = metrics_contract.parse_contract((REPO / "deploy" / "metrics.md").read_text())
    for rule in alert_rules():
        # Drop matchers, strings, ranges and grouping label lists; what is left
        # of the words are functions, operators and metric names.
        expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', "", rule["expr"])
        expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
        for name in set(re.findall(r"\b[a-z_][a-z0-9_]*\b", expr)) - PROMQL_WORDS:
            parent = entries.get(re.sub(r"_(bucket|sum|count)$", "", name))
            documented = name in entries or (parent is not None and parent.type in ("histogram", "summary"))
            assert name in PROMETHEUS_OWN or documented, \
                f"{rule['alert']} uses {name}, which deploy/metrics.md does not list"
