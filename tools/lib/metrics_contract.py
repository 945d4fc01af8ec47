#!/usr/bin/env python3
"""The metrics contract (deploy/metrics.md) against live /metrics scrapes.

deploy/metrics.md holds one table row per metric family both processes
export (name, type, labels, process, when it appears, meaning) and a table
of naming exceptions. This tool

  check       compares scrapes with the document: a family exported but not
              documented, documented but not exported (unless its "appears"
              column names an event the caller did not trigger), a different
              type, different label names, or a name/label that breaks the
              Prometheus conventions (see lint()) fails the check;
  regenerate  rewrites the family table from scrapes, keeping the meaning
              and "appears" column of families already documented (new
              families get their HELP text), so the document follows the code;
  table       prints the regenerated table without touching the document.

A scrape is given as PROCESS=SOURCE, SOURCE being an http(s) URL, a file,
or "-" for stdin:

  tools/lib/metrics_contract.py check \\
      --scrape signaling=http://127.0.0.1:9480/metrics \\
      --scrape dataplane=http://127.0.0.1:9481/metrics --triggered sip_request

Only the standard library is used, so it runs on a bare appliance.
"""

import argparse
import re
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROCESSES = ("signaling", "dataplane")
DEFAULT_DOC = Path(__file__).resolve().parents[2] / "deploy" / "metrics.md"
TABLE_BEGIN = "<!-- metrics-table:begin -->"
TABLE_END = "<!-- metrics-table:end -->"
EXCEPTIONS_BEGIN = "<!-- naming-exceptions:begin -->"
EXCEPTIONS_END = "<!-- naming-exceptions:end -->"

# Labels that Prometheus adds to histogram / summary samples; not part of a
# family's own label set.
STRUCTURAL_LABELS = {"le", "quantile"}
# A label with one value per call, stream, peer or request makes one series
# per call: unbounded memory in Prometheus. These names are never allowed.
FORBIDDEN_LABELS = {
    "call_id", "callid", "call", "from_tag", "to_tag", "tag", "ssrc", "session", "session_id",
    "cookie", "branch", "peer", "peer_address", "address", "ip", "source", "destination", "uri",
    "user", "number", "caller", "callee", "media_port",
}
# Bounded labels (method, code, lcore, port, xstat name) stay far below this
# on any box; a label above it is taking values from traffic.
MAX_LABEL_VALUES = 200
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

SAMPLE_PATTERN = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$")
LABEL_PATTERN = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count"),
            "gaugehistogram": ("_bucket", "_gsum", "_gcount")}


@dataclass
class family:
    name: str
    type: str = "untyped"
    help: str = ""
    samples: list = field(default_factory=list)  # (sample name, {label: value}, value text)

    def label_names(self):
        return sorted({k for _, labels, _ in self.samples for k in labels} - STRUCTURAL_LABELS)

    def label_values(self):
        values = {}
        for _, labels, _ in self.samples:
            for key, value in labels.items():
                if key not in STRUCTURAL_LABELS:
                    values.setdefault(key, set()).add(value)
        return values


@dataclass
class entry:
    name: str
    type: str
    labels: tuple
    processes: tuple
    appears: str  # "" = always, else the event after which it appears
    meaning: str


def parse_exposition(text):
    """Prometheus text format -> {family name: family}. Samples without a
    TYPE line become untyped families of their own name."""
    families = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("TYPE", "HELP"):
                item = families.setdefault(parts[2], family(parts[2]))
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "TYPE":
                    item.type = rest.strip()
                else:
                    item.help = rest.strip()
            continue
        match = SAMPLE_PATTERN.match(line)
        if not match:
            raise ValueError(f"not a sample line: {line!r}")
        sample_name, label_text, value = match.group(1), match.group(3) or "", match.group(4)
        labels = dict(LABEL_PATTERN.findall(label_text))
        owner = None
        for name, item in families.items():
            if sample_name == name or any(sample_name == name + s for s in SUFFIXES.get(item.type, ())):
                owner = item
                break
        if owner is None:
            owner = families.setdefault(sample_name, family(sample_name))
        owner.samples.append((sample_name, labels, value))
    return families


def fetch(source, timeout_s=5.0):
    if source == "-":
        return sys.stdin.read()
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=timeout_s) as reply:
            return reply.read().decode("utf-8", "replace")
    return Path(source).read_text()


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _between(text, begin, end):
    if begin not in text or end not in text:
        raise ValueError(f"the document lacks the markers {begin} ... {end}")
    return text.split(begin, 1)[1].split(end, 1)[0]


def _table_rows(block):
    rows = [_cells(l) for l in block.splitlines() if l.strip().startswith("|")]
    return [r for r in rows[2:]]  # header and separator first


def _unquote(cell):
    return cell.replace("`", "").strip()


def _split_list(cell):
    cell = _unquote(cell)
    if cell in ("", "-", "—", "none"):
        return ()
    return tuple(sorted(x.strip() for x in cell.split(",") if x.strip()))


def _parse_appears(cell):
    cell = _unquote(cell)
    if cell in ("", "always"):
        return ""
    match = re.match(r"^after\s+([a-z_]+)$", cell)
    if not match:
        raise ValueError(f"appears must be 'always' or 'after <event>', not {cell!r}")
    return match.group(1)


def parse_contract(text):
    """deploy/metrics.md -> ({family name: entry}, {family name: {rule}})."""
    entries = {}
    for row in _table_rows(_between(text, TABLE_BEGIN, TABLE_END)):
        if len(row) != 6:
            raise ValueError(f"a family row needs 6 cells: {row}")
        name, kind, labels, process, appears, meaning = row
        name = _unquote(name)
        processes = PROCESSES if _unquote(process) == "both" else _split_list(process)
        for p in processes:
            if p not in PROCESSES:
                raise ValueError(f"{name}: unknown process {p!r}")
        if name in entries:
            raise ValueError(f"{name} is documented twice")
        entries[name] = entry(name, _unquote(kind), _split_list(labels), tuple(processes),
                              _parse_appears(appears), meaning)
    exceptions = {}
    for row in _table_rows(_between(text, EXCEPTIONS_BEGIN, EXCEPTIONS_END)):
        if len(row) < 2:
            raise ValueError(f"an exception row needs family and rule: {row}")
        exceptions.setdefault(_unquote(row[0]), set()).add(_unquote(row[1]))
    return entries, exceptions


def lint(families):
    """Prometheus naming conventions -> [(family, rule, message)]."""
    findings = []
    for item in families.values():
        name = item.name
        if not NAME_PATTERN.match(name):
            findings.append((name, "snake_case", "names are lower snake_case"))
        if not name.startswith("tandem_"):
            findings.append((name, "prefix", "every family starts with tandem_"))
        if item.type == "counter" and not name.endswith("_total"):
            findings.append((name, "counter_suffix", "a counter ends in _total"))
        if item.type != "counter" and name.endswith("_total"):
            findings.append((name, "total_suffix", f"a {item.type} must not end in _total"))
        if item.type == "untyped":
            findings.append((name, "typed", "every family has a TYPE line"))
        if not item.help:
            findings.append((name, "help", "every family has a HELP line"))
        for label, values in item.label_values().items():
            if not NAME_PATTERN.match(label):
                findings.append((name, "snake_case", f"label {label} is not lower snake_case"))
            if label in FORBIDDEN_LABELS:
                findings.append((name, "cardinality", f"label {label} takes per-call/per-peer values"))
            if len(values) > MAX_LABEL_VALUES:
                findings.append((name, "cardinality", f"label {label} has {len(values)} values"))
    return findings


def check(entries, exceptions, scrapes, triggered=()):
    """scrapes: {process: {name: family}} -> list of problems (strings)."""
    problems = []
    triggered = set(triggered)
    for process, families in scrapes.items():
        for name, item in sorted(families.items()):
            documented = entries.get(name)
            if documented is None:
                problems.append(f"{process}: {name} ({item.type}) is exported but not documented")
                continue
            if process not in documented.processes:
                problems.append(f"{process}: {name} is exported but documented for "
                                f"{', '.join(documented.processes)} only")
            if item.type != documented.type:
                problems.append(f"{process}: {name} is a {item.type}, documented as {documented.type}")
            if tuple(item.label_names()) != documented.labels:
                problems.append(f"{process}: {name} has labels {item.label_names()}, documented "
                                f"{list(documented.labels)}")
        for name, documented in sorted(entries.items()):
            if process not in documented.processes or name in families:
                continue
            if documented.appears and documented.appears not in triggered:
                continue
            when = f" (appears after {documented.appears}, which was triggered)" if documented.appears else ""
            problems.append(f"{process}: {name} is documented but not exported{when}")
        for name, rule, message in lint(families):
            if rule not in exceptions.get(name, set()):
                problems.append(f"{process}: {name}: {message} [{rule}]")
    for name, rules in sorted(exceptions.items()):
        if name not in entries:
            problems.append(f"naming exception for {name}, which is not a documented family")
    return problems


def render_table(scrapes, entries=None):
    """The family table (markdown) for scrapes; documented meanings and
    "appears" are kept, new families take their HELP text."""
    entries = dict(entries or {})
    merged = {}
    for process in PROCESSES:
        for name, item in scrapes.get(process, {}).items():
            row = merged.setdefault(name, {"type": item.type, "labels": set(), "processes": set(),
                                           "help": item.help})
            row["labels"].update(item.label_names())
            row["processes"].add(process)
    # Families documented as appearing later stay even if this scrape lacks them.
    for name, documented in entries.items():
        if name not in merged and documented.appears:
            merged[name] = {"type": documented.type, "labels": set(documented.labels),
                            "processes": set(documented.processes), "help": documented.meaning}
    lines = ["| family | type | labels | process | appears | meaning |",
             "|---|---|---|---|---|---|"]
    for name in sorted(merged):
        row = merged[name]
        documented = entries.get(name)
        processes = "both" if row["processes"] == set(PROCESSES) else ", ".join(sorted(row["processes"]))
        labels = ", ".join(f"`{l}`" for l in sorted(row["labels"])) or "—"
        appears = f"after `{documented.appears}`" if documented and documented.appears else "always"
        meaning = documented.meaning if documented else row["help"].replace("|", "\\|")
        lines.append(f"| `{name}` | {row['type']} | {labels} | {processes} | {appears} | {meaning} |")
    return "\n".join(lines)


def regenerate(doc_text, scrapes):
    entries, _ = parse_contract(doc_text)
    before, rest = doc_text.split(TABLE_BEGIN, 1)
    _, after = rest.split(TABLE_END, 1)
    return before + TABLE_BEGIN + "\n" + render_table(scrapes, entries) + "\n" + TABLE_END + after


def scrape_all(specs):
    scrapes = {}
    for spec in specs:
        process, _, source = spec.partition("=")
        if process not in PROCESSES or not source:
            raise SystemExit(f"--scrape wants PROCESS=SOURCE with PROCESS in {PROCESSES}: {spec!r}")
        scrapes[process] = parse_exposition(fetch(source))
    return scrapes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("check", "regenerate", "table"))
    parser.add_argument("--doc", default=str(DEFAULT_DOC))
    parser.add_argument("--scrape", action="append", default=[], metavar="PROCESS=SOURCE", required=True)
    parser.add_argument("--triggered", action="append", default=[], metavar="EVENT",
                        help="an event that happened before the scrape: its families must be there")
    options = parser.parse_args(argv)
    doc = Path(options.doc)
    scrapes = scrape_all(options.scrape)
    if options.command == "table":
        entries = parse_contract(doc.read_text())[0] if doc.exists() else {}
        print(render_table(scrapes, entries))
        return 0
    if options.command == "regenerate":
        doc.write_text(regenerate(doc.read_text(), scrapes))
        return 0
    entries, exceptions = parse_contract(doc.read_text())
    problems = check(entries, exceptions, scrapes, options.triggered)
    for problem in problems:
        print(problem)
    if not problems:
        families = sum(len(f) for f in scrapes.values())
        print(f"ok: {families} families in {len(scrapes)} scrape(s) match {doc}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
