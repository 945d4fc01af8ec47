#!/usr/bin/env python3
"""Checks the repository layout and the one-way library boundaries.

- the top level holds exactly the agreed folders and files;
- every top-level folder has a README.md;
- DPDK headers (rte_*.h) are included only under dataplane/io, Sofia-SIP
  headers only under signaling/sip, and gateway/ includes neither;
- GPL libraries (libss7, libpri) appear only under tests/.

The build enforces the include rule too (gateway/ has neither library on its
include path); this check names the offending line instead of a compiler
error, and catches a dependency added to the wrong meson.build.
"""

import re
import subprocess
import sys
from pathlib import Path

repo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3]

ALLOWED_TOP = {
    "meson.build", "meson_options.txt", "README.md", "LICENSE",
    "gateway", "dataplane", "signaling", "deploy", "tests", "tools",
    ".ci", ".clang-format", ".clang-tidy", ".gitignore", ".gitattributes",
}
FOLDERS = ["gateway", "dataplane", "signaling", "deploy", "tests", "tools"]

problems = []

tracked = subprocess.run(["git", "-C", str(repo), "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True).stdout.split()
top = {path.split("/")[0] for path in tracked}
for name in sorted(top - ALLOWED_TOP):
    problems.append(f"{name}: not part of the agreed top level ({', '.join(sorted(ALLOWED_TOP))})")
for folder in FOLDERS:
    if not (repo / folder / "README.md").exists():
        problems.append(f"{folder}/README.md: missing, every top-level folder says what lives there")

include = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
for path in tracked:
    if not path.endswith((".cpp", ".hpp", ".h", ".cc")):
        continue
    text = (repo / path).read_text(errors="replace") if (repo / path).exists() else ""
    for header in include.findall(text):
        is_dpdk = re.match(r"(rte_|dpdk/)", header) is not None
        is_sofia = header.startswith("sofia-sip/")
        if is_dpdk and not (path.startswith("dataplane/io/") or path.startswith("tests/") or path.startswith("tools/")):
            problems.append(f"{path}: includes DPDK header <{header}>; only dataplane/io may")
        if is_sofia and not (path.startswith("signaling/sip/") or path.startswith("tests/") or path.startswith("tools/")):
            problems.append(f"{path}: includes Sofia-SIP header <{header}>; only signaling/sip may")

for path in tracked:
    if path.endswith("meson.build") and not path.startswith("tests/"):
        text = (repo / path).read_text() if (repo / path).exists() else ""
        if re.search(r"dependency\(\s*'(libss7|ss7|libpri|pri)'", text):
            problems.append(f"{path}: links a GPL library; only test programs under tests/ may")
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        if path.startswith("gateway/") and re.search(r"(libdpdk|sofia-sip|dpdk_dep|sofia_dep)", code):
            problems.append(f"{path}: gateway/ must not depend on DPDK or Sofia-SIP")

for problem in problems:
    print(problem)
print(f"layout: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
