#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_parse: one file per header variant."""
import os, struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parse")
os.makedirs(here, exist_ok=True)

def eth(proto, tags=()):
    h = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01"
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", proto)

def tcp(opts=0, flags=0x02):
    return struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, ((20 + opts) // 4) << 4, flags, 65535, 0, 0) + b"\x01" * opts

def udp(n=8):
    return struct.pack("!HHHH", 5353, 53, 8 + n, 0) + bytes(n)

def ipv4(proto, l4, opts=0, frag=0):
    hl = 20 + opts
    return struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(l4), 1, frag, 64, proto, 0,
                       bytes([198, 51, 100, 1]), bytes([203, 0, 113, 2])) + b"\x01" * opts + l4

def ipv6(nh, rest):
    return struct.pack("!IHBB16s16s", 0x60000000, len(rest), nh, 64,
                       bytes.fromhex("20010db8000000000000000000000001"),
                       bytes.fromhex("20010db8000000000000000000000002")) + rest

def ext(nh, kind):
    if kind == 44:
        return struct.pack("!BBHI", nh, 0, 0x0001, 7)
    if kind == 51:
        return struct.pack("!BB", nh, 1) + bytes(10)
    return struct.pack("!BB", nh, 0) + b"\x01\x04" + bytes(4)

seeds = {
    "v4_tcp": b"\0" + eth(0x0800) + ipv4(6, tcp()),
    "v4_udp_opts": b"\0" + eth(0x0800) + ipv4(17, udp(), opts=8),
    "v4_frag_later": b"\0" + eth(0x0800) + ipv4(17, bytes(16), frag=0x0010),
    "vlan_v4_tcp": b"\0" + eth(0x0800, [(0x8100, 10)]) + ipv4(6, tcp(12)),
    "qinq_v6_udp": b"\0" + eth(0x86DD, [(0x88A8, 1), (0x8100, 2)]) + ipv6(17, udp()),
    "v6_ext_chain": b"\0" + eth(0x86DD) + ipv6(0, ext(60, 0) + ext(43, 60) + ext(51, 43) + ext(44, 51) + ext(6, 44) + tcp()),
    "arp": b"\0" + eth(0x0806) + bytes(28),
    "l3_v4_icmp": b"\x01" + ipv4(1, bytes(8)),
    "l3_v6_tcp": b"\x02" + ipv6(6, tcp(4)),
    # Resets and destination unreachables the host sends (parse_egress_l2).
    "v4_tcp_rst_ack": b"\0" + eth(0x0800) + ipv4(6, tcp(flags=0x14)),
    "v6_tcp_rst": b"\0" + eth(0x86DD) + ipv6(6, tcp(flags=0x04)),
    "v4_icmp_unreach_tcp": b"\0" + eth(0x0800) + ipv4(1, bytes([3, 13]) + bytes(6) + ipv4(6, tcp(), opts=4)),
    "v6_icmp_unreach_udp": b"\0" + eth(0x86DD) + ipv6(58, bytes([1, 4]) + bytes(6) + ipv6(0, ext(17, 0) + udp())),
}
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
