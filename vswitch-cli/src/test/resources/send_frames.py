#!/usr/bin/env python3
"""Sends raw Ethernet frames on an interface: send_frames.py IFACE HEXFRAME [HEXFRAME...].

The test's stand-in for a VLAN-aware host on a trunk port: this kernel has no 802.1Q module, so a VLAN
sub-interface cannot be used; an AF_PACKET socket sends the tagged frames instead.
"""
import socket
import sys

iface = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
for frame in sys.argv[2:]:
    s.send(bytes.fromhex(frame))
