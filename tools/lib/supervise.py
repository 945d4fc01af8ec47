#!/usr/bin/env python3
"""Foreground supervisor behind `tools/tandem run`.

Starts tandem-dataplane, waits until it answers an ng ping, gives the
kernel side of each TAP port an address in the port's subnet (so this host
can reach the data plane), starts tandem-signaling, prints where everything
listens, and on Ctrl-C (or SIGTERM, or either process exiting) stops both
cleanly and returns the worst exit status.
"""

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time

import yaml


def ng_ping(address, port, timeout=0.3):
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(b"run1 d7:command4:pinge", (address, port))
            reply, _ = s.recvfrom(65536)
        except OSError:
            return False
    return b"4:pong" in reply


def tap_interfaces(config):
    """(iface, kernel address/prefix, data plane address) for each net_tap port."""
    result = []
    for port in config.get("dataplane", {}).get("ports", [{}]):
        device = port.get("device", "net_tap0,iface=tandem0")
        if not device.startswith("net_tap"):
            continue
        params = dict(p.split("=", 1) for p in device.split(",")[1:] if "=" in p)
        iface = params.get("iface")
        own = port.get("ipv4", "192.0.2.2")
        prefix = port.get("ipv4_prefix", 24)
        if not iface or not own:
            continue
        network = ipaddress.ip_network(f"{own}/{prefix}", strict=False)
        kernel = next(h for h in network.hosts() if str(h) != own)
        result.append((iface, f"{kernel}/{prefix}", own))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--config", required=True)
    options = parser.parse_args()
    with open(options.config) as f:
        config = yaml.safe_load(f) or {}

    control = config.get("dataplane", {}).get("control", {})
    control_address = control.get("address", "127.0.0.1")
    control_port = int(control.get("port", 2223))
    metrics = config.get("metrics", {})

    dataplane = subprocess.Popen([f"{options.build}/dataplane/tandem-dataplane", "--config", options.config])
    children = [("tandem-dataplane", dataplane)]
    stopping = False

    def stop_all(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)

    deadline = time.monotonic() + 60
    while not stopping and dataplane.poll() is None and not ng_ping(control_address, control_port):
        if time.monotonic() > deadline:
            print("tandem: the data plane did not answer ng ping within 60 s", file=sys.stderr)
            stopping = True
        time.sleep(0.2)

    if not stopping and dataplane.poll() is None:
        for iface, kernel_address, own in tap_interfaces(config):
            subprocess.run(["ip", "addr", "replace", kernel_address, "dev", iface], check=False)
            subprocess.run(["ip", "link", "set", iface, "up"], check=False)
            print(f"tandem: media port {own} reachable from this host through {iface} ({kernel_address})")
        signaling = subprocess.Popen([f"{options.build}/signaling/tandem-signaling", "--config", options.config])
        children.append(("tandem-signaling", signaling))
        for listener in config.get("signaling", {}).get("listen", [{"transport": "udp", "address": "0.0.0.0", "port": 5060}]):
            print(f"tandem: SIP listens on {listener.get('transport', 'udp')}:{listener.get('address', '0.0.0.0')}:{listener.get('port', 5060)}")
        print(f"tandem: ng control on udp:{control_address}:{control_port}")
        if metrics.get("enabled", True):
            for process, default in (("signaling", 9480), ("dataplane", 9481)):
                endpoint = metrics.get(process, {})
                host = endpoint.get("address", "0.0.0.0")
                host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
                print(f"tandem: {process} metrics at http://{host}:{endpoint.get('port', default)}/metrics")
        print("tandem: running; Ctrl-C stops everything", flush=True)

    while not stopping and all(p.poll() is None for _, p in children):
        time.sleep(0.2)

    worst = 0
    for name, process in reversed(children):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
            print(f"tandem: {name} did not stop in 15 s; killed", file=sys.stderr)
        if code not in (0, -signal.SIGTERM):
            print(f"tandem: {name} exited with status {code}", file=sys.stderr)
            worst = worst or (code if code > 0 else 1)
    return worst


if __name__ == "__main__":
    sys.exit(main())
