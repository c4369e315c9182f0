#!/usr/bin/env python3
"""perf/flowmod-load.py SOCKET RATE SECONDS: a steady OpenFlow 1.3 flow-mod load on a bridge.

Connects to the bridge's management socket (unix: SOCKET, e.g. run/br0.mgmt, OVS's the same) and
sends RATE flow-mods per second for SECONDS, in bursts every 10 ms, alternately adding a flow
"priority=50,ip,nw_dst=10.200.x.y,actions=output:2" and deleting (DELETE_STRICT) the one added 250
adds earlier, so about 250 such flows exist at any time and the traffic's own flows are
never touched. A barrier every 1000 flow-mods; echo requests are answered. Prints what was sent,
the achieved rate and any OpenFlow error the switch returned; exits 1 on an error.
ovs-ofctl cannot do this: it parses a whole file before sending and starts one process per command.
"""
import select
import socket
import struct
import sys
import time

OFP13 = 4
HELLO, ERROR, ECHO_REQUEST, ECHO_REPLY, FLOW_MOD, BARRIER_REQUEST, BARRIER_REPLY = 0, 1, 2, 3, 14, 20, 21
ADD, DELETE_STRICT = 0, 4


def header(msg_type, length, xid):
    return struct.pack("!BBHI", OFP13, msg_type, length, xid)


def flow_mod(command, ip, xid):
    # match: OXM eth_type=0x0800, ipv4_dst=ip (4 + 6 + 8 = 18 bytes, padded to 24)
    oxm = struct.pack("!IH", 0x80000A02, 0x0800) + struct.pack("!II", 0x80001804, ip)
    match = struct.pack("!HH", 1, 4 + len(oxm)) + oxm
    match += b"\0" * (-len(match) % 8)
    # instructions: apply_actions(output:2)
    output = struct.pack("!HHIH6x", 0, 16, 2, 0xFFFF)
    instructions = struct.pack("!HH4x", 4, 8 + len(output)) + output
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, command, 0, 0, 50, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    length = 8 + len(body) + len(match) + len(instructions)
    return header(FLOW_MOD, length, xid) + body + match + instructions


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: flowmod-load.py SOCKET RATE SECONDS")
    path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(header(HELLO, 8, 1))
    pending = b""
    errors = barriers = 0
    sent = 0
    xid = 2
    start = time.monotonic()
    per_tick = max(1, rate // 100)

    def serve(timeout):
        nonlocal pending, errors, barriers
        while select.select([s], [], [], timeout)[0]:
            data = s.recv(65536)
            if not data:
                sys.exit("flowmod-load: the switch closed the connection")
            pending += data
            while len(pending) >= 8:
                _, t, n, x = struct.unpack("!BBHI", pending[:8])
                if len(pending) < n:
                    break
                msg, pending = pending[:n], pending[n:]
                if t == ECHO_REQUEST:
                    s.sendall(header(ECHO_REPLY, n, x) + msg[8:])
                elif t == ERROR:
                    errors += 1
                    if errors <= 5:
                        print("flowmod-load: OpenFlow error type %d code %d" % struct.unpack("!HH", msg[8:12]), file=sys.stderr)
                elif t == BARRIER_REPLY:
                    barriers += 1
            timeout = 0

    tick = start
    while time.monotonic() - start < seconds:
        burst = b""
        for _ in range(per_tick):
            f = sent // 2 - (sent % 2) * 250             # even: add flow sent/2; odd: delete the flow added 250 adds ago
            if f < 0:
                f = sent // 2                            # (the first 500: re-add, which replaces)
            burst += flow_mod(ADD if sent % 2 == 0 or f == sent // 2 else DELETE_STRICT, 0x0AC80000 + (f & 0xFFFF), xid)   # 10.200.x.y
            sent += 1
            xid += 1
            if sent % 1000 == 0:
                burst += header(BARRIER_REQUEST, 8, xid)
                xid += 1
        s.sendall(burst)
        tick += 0.01
        serve(max(0.0, tick - time.monotonic()))
    asked = sent // 1000
    deadline = time.monotonic() + 10
    while barriers < asked and time.monotonic() < deadline:
        serve(0.1)
    elapsed = time.monotonic() - start
    print("flowmod-load: %d flow-mods in %.1f s (%.0f/s), %d of %d barriers answered, %d errors"
          % (sent, elapsed, sent / elapsed, barriers, asked, errors))
    sys.exit(1 if errors or barriers < asked else 0)


if __name__ == "__main__":
    main()
