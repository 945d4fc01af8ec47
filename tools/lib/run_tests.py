#!/usr/bin/env python3
"""Runs every Tandem test suite and prints one plain total as the last line.

Suites, in order:
  build       the normal build already ran (tools/tandem); warnings are
              errors when CI=true
  unit, vdev, fuzz   meson test in the normal build (fuzz = corpus replay)
  sanitize    unit + fuzz replay again in an ASan/UBSan build (build-asan/)
  format      clang-format --dry-run on every C++ file
  lint        clang-tidy on gateway/ (the code both processes share)
  integration pytest on tests/integration (real processes, network namespaces)

Each suite's cases are counted from JUnit XML; the last line is
"N passed, N failed" (", N skipped" when any were skipped). Exit status is 0
only when nothing failed.
"""

import argparse
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def add_junit(self, path, label):
        """Counts every <testcase>; returns (passed, failed, skipped) added."""
        before = (self.passed, self.failed, self.skipped)
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as problem:
            self.fail(f"{label}: no readable results ({problem})")
            return
        for case in root.iter("testcase"):
            name = f"{case.get('classname', '')}.{case.get('name', '')}"
            if case.find("failure") is not None or case.find("error") is not None:
                self.failed += 1
                self.failures.append(f"{label}: {name}")
            elif case.find("skipped") is not None:
                self.skipped += 1
            else:
                self.passed += 1
        return (self.passed - before[0], self.failed - before[1], self.skipped - before[2])

    def ok(self, _label):
        self.passed += 1

    def fail(self, label):
        self.failed += 1
        self.failures.append(label)

    def line(self):
        text = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        return text


def say(text):
    print(f"== {text}", flush=True)


def meson_suites(tally, build, suites, label):
    log = Path(build) / "meson-logs" / "testlog.junit.xml"
    if log.exists():
        log.unlink()
    args = ["meson", "test", "-C", str(build), "--print-errorlogs", "--num-processes", "2"]
    for suite in suites:
        args += ["--suite", suite]
    result = subprocess.run(args)
    before_failed = tally.failed
    if not log.exists():
        tally.fail(f"{label}: meson test produced no results (exit {result.returncode})")
        return
    tally.add_junit(log, label)
    if result.returncode != 0 and tally.failed == before_failed:
        tally.fail(f"{label}: meson test exited {result.returncode}")


def sanitize_build(repo, tally):
    build = Path(repo) / "build-asan"
    if not (build / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(build), str(repo), "-Db_sanitize=address,undefined",
                        "-Db_lundef=false", "-Dunit_tests_only=true", "-Dbuildtype=debug"],
                       check=True, stdout=subprocess.DEVNULL)
    built = subprocess.run(["ninja", "-C", str(build)], capture_output=True, text=True)
    if built.returncode != 0:
        print(built.stdout[-4000:], built.stderr[-4000:])
        tally.fail("sanitize: build failed")
        return
    os.environ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    os.environ["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    meson_suites(tally, build, ["unit", "fuzz"], "sanitize")


def cpp_files(repo):
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "--cached", "--others", "--exclude-standard",
                             "*.cpp", "*.hpp"], capture_output=True, text=True)
    return [Path(repo) / f for f in listed.stdout.split() if (Path(repo) / f).exists()]


def format_check(repo, tally):
    bad = []
    for path in cpp_files(repo):
        check = subprocess.run(["clang-format", "--dry-run", "-Werror", str(path)], capture_output=True)
        if check.returncode != 0:
            bad.append(str(path.relative_to(repo)))
    if bad:
        print("clang-format would change:\n  " + "\n  ".join(bad))
        tally.fail("format: " + ", ".join(bad))
    else:
        tally.ok("format")


def lint_check(repo, build, tally):
    """clang-tidy, one process per file, two at a time (one per core)."""
    from concurrent.futures import ThreadPoolExecutor

    sources = [p for p in cpp_files(repo) if p.suffix == ".cpp" and p.relative_to(repo).parts[0] == "gateway"]

    def tidy(path):
        return path, subprocess.run(["clang-tidy", "-p", str(build), "--quiet", str(path)],
                                    capture_output=True, text=True, cwd=repo)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(tidy, sources))
    bad = [(path, result) for path, result in results if result.returncode != 0]
    for path, result in bad:
        print(f"clang-tidy: {path.relative_to(repo)}\n{result.stdout[-3000:]}")
    if bad:
        tally.fail("lint: clang-tidy found problems in " + ", ".join(str(p.relative_to(repo)) for p, _ in bad))
    else:
        tally.ok("lint")


def integration(repo, build, tally, selection):
    junit = Path(build) / "integration-junit.xml"
    env = dict(os.environ, TANDEM_BUILD_DIR=str(build))
    args = [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", str(Path(repo) / "tests" / "integration")]
    if selection:
        args += ["-k", selection]
    result = subprocess.run(args, env=env, cwd=repo)
    before_failed = tally.failed
    tally.add_junit(junit, "integration")
    if result.returncode not in (0, 5) and tally.failed == before_failed:
        tally.fail(f"integration: pytest exited {result.returncode}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--only", default="", help="comma list of suites: unit,vdev,fuzz,sanitize,format,lint,integration")
    parser.add_argument("-k", default="", help="pytest -k selection for the integration suite")
    options = parser.parse_args()
    wanted = set(filter(None, options.only.split(","))) or {"unit", "vdev", "fuzz", "sanitize", "format", "lint", "integration"}

    tally = Tally()
    tally.ok("build")
    meson_wanted = [s for s in ("unit", "vdev", "fuzz") if s in wanted]
    if meson_wanted:
        say("meson suites: " + ", ".join(meson_wanted))
        meson_suites(tally, options.build, meson_wanted, "meson")
    if "sanitize" in wanted:
        say("ASan/UBSan build: unit + fuzz replay")
        sanitize_build(options.repo, tally)
    if "format" in wanted:
        say("clang-format check")
        format_check(options.repo, tally)
    if "lint" in wanted:
        say("clang-tidy on gateway/")
        lint_check(options.repo, options.build, tally)
    if "integration" in wanted:
        say("integration suite")
        integration(options.repo, options.build, tally, options.k)

    if tally.failures:
        print("failed:")
        for failure in tally.failures:
            print(f"  {failure}")
    print(tally.line(), flush=True)
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
