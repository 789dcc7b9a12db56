#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_geo_csv: byte 0 even = CSV, odd = overrides."""
import os

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "geo_csv")
os.makedirs(here, exist_ok=True)

seeds = {
    "csv_v4": (0, "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n"),
    "csv_v6": (0, "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n"
                  "2001:db8::100,2001:db8::1ff,CA\n"),
    "csv_overlap": (0, "5.61.192.0,5.61.223.255,DE\n5.61.192.0,5.61.192.255,FR\n"
                       "10.0.0.0,10.0.0.255,IT\n10.0.0.0,10.0.0.255,ES\n"),
    "csv_mapped_comments": (0, "# ranges\n\n::ffff:198.51.100.0,::ffff:198.51.100.255,NL\r\n"
                               "0.0.0.0,255.255.255.255,ZZ\n"),
    "csv_bad": (0, "1.0.0.9,1.0.0.1,AU\n1.0.0.0,::1,UK\n1.2.3.4,5.6.7.8\n"),
    "ovr_basic": (1, "192.0.2.0/24 DE\n198.18.0.0/15 FR # lab\n2001:db8::/32 US\n"),
    "ovr_edges": (1, "0.0.0.0/0 BR\n255.255.255.255/32 AR\n::/0 CL\n"
                     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 PE\n::ffff:203.0.113.0/120 ES\n"),
    "ovr_bad": (1, "192.0.2.1/24 DE\n192.0.2.0/33 DE\n10.0.0.0/8 UK\nbanana XX\n"),
}
for name, (sel, text) in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(bytes([sel]) + text.encode())
