#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""hmp.py SOCKET COMMAND: run one command in QEMU's human monitor.

run-guest.sh --monitor serves the guest's "WDMDMA-MONITOR: COMMAND"
console lines with it. Prints the monitor's answer; exits 1 if the socket
cannot be reached or the answer does not come back within 10 s.
"""
import socket
import sys

PROMPT = b"(qemu) "


def read_prompt(sock):
    buf = b""
    while not buf.endswith(PROMPT):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("monitor closed the connection")
        buf += chunk
    return buf[: -len(PROMPT)]


def main():
    if len(sys.argv) != 3:
        print("usage: hmp.py SOCKET COMMAND", file=sys.stderr)
        return 2
    path, cmd = sys.argv[1], sys.argv[2]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(path)
            read_prompt(sock)
            sock.sendall(cmd.encode() + b"\n")
            out = read_prompt(sock).decode(errors="replace")
    except (OSError, ConnectionError) as e:
        print(f"hmp.py: {cmd}: {e}", file=sys.stderr)
        return 1
    # The monitor echoes the command line (with terminal escapes) first.
    lines = [l.strip() for l in out.replace("\r", "").split("\n")]
    print("\n".join(l for l in lines[1:] if l))
    return 0


if __name__ == "__main__":
    sys.exit(main())
