#!/usr/bin/env python3
"""Writes large inputs for `scripts/fuzz --linearity`: each parser's input at a quarter, half and
all of its size limit (LDIF and YAML 1 MiB, TXT 64 KiB, DNS 64 KiB), in shapes that would show a
quadratic step: many entries, many keys, one long folded value, many terms, long pointer chains.
Prints nothing; writes DIR/inputs, one "TARGET FILE" line per input."""
import os
import struct
import sys

out = sys.argv[1]
lines = []


def emit(target, shape, size, make):
    data = make(size)
    path = os.path.join(out, f"{target}.{shape}.{size // 1024}k")
    with open(path, "wb") as f:
        f.write(data)
    lines.append(f"{target} {path}")


def repeat_to(size, head, unit, tail=b""):
    body = bytearray(head)
    i = 0
    while len(body) + len(tail) < size:
        body += unit(i)
        i += 1
    return bytes(body[: size - len(tail)] + tail) if len(body) + len(tail) > size else bytes(body + tail)


def ldif_entries(size):
    return repeat_to(size, b"version: 1\n", lambda i: (
        f"dn: uid=m{i},ou=Members,dc=cpca,dc=test\nobjectClass: inetOrgPerson\nuid: m{i}\ncn: Member {i}\n"
        f"mail: m{i}@council{i % 50}.gov.uk\nentryUUID: {i:08x}-0000-4000-8000-000000000000\n\n").encode())


def ldif_folded(size):
    return repeat_to(size, b"dn: uid=long,dc=test\nobjectClass: person\ncn: long\ndescription: x", lambda i: b"\n " + b"y" * 76, b"\n\n")


def yaml_keys(size):
    # One mapping with very many keys: the duplicate-key check must not compare each with all.
    return repeat_to(size, b"directory: {ldif: m.ldif}\npolicy: p.yaml\nchecks:\n", lambda i: f"  k{i}: v{i}\n".encode())


def yaml_questions(size):
    return repeat_to(size, b"name: big\nquestions:\n", lambda i: (
        f"  - {{id: q{i}, question: Question {i}?, why: because, pass: yes, about: organisation}}\n").encode())


def yaml_list(size):
    return repeat_to(size, b"directory: {ldif: m.ldif}\npolicy: p.yaml\nchecks:\n  dkimSelectors:\n", lambda i: f"    - s{i}\n".encode())


def spf_terms(size):
    return repeat_to(size, b"v=spf1", lambda i: f" ip4:10.{i // 256 % 256}.{i % 256}.0/24".encode(), b" -all")


def spf_one_term(size):
    return repeat_to(size, b"v=spf1 include:", lambda i: b"a", b" -all")


def dmarc_uris(size):
    return repeat_to(size, b"v=DMARC1; p=reject; rua=", lambda i: f"mailto:r{i}@example.org,".encode(), b"mailto:last@example.org")


def dkim_key(size):
    return repeat_to(size, b"v=DKIM1; k=rsa; p=", lambda i: b"QUFB")


def mta_sts_policy(size):
    return repeat_to(size, b"version: STSv1\nmode: enforce\nmax_age: 86400\n", lambda i: f"mx: mx{i}.example.org\n".encode())


def dns_txt(size):
    # One answer section of many TXT records, every owner a pointer to the question's name.
    head = struct.pack(">HHHHHH", 1, 0x8180, 1, 0, 0, 0) + b"\x07example\x03org\x00" + struct.pack(">HH", 16, 1)
    records = bytearray()
    count = 0
    while len(head) + len(records) + 255 + 12 < size and count < 65535:
        text = b"v=spf1 " + b"a" * 240
        records += b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 300, len(text) + 1) + bytes([len(text)]) + text
        count += 1
    return head[:6] + struct.pack(">H", count) + head[8:] + bytes(records)


def dns_pointer_chains(size):
    # Pointers to pointers: each owner chains back through all earlier ones (refused after 127).
    head = struct.pack(">HHHHHH", 1, 0x8180, 1, 0, 0, 0) + b"\x07example\x03org\x00" + struct.pack(">HH", 1, 1)
    body = bytearray(head)
    count = 0
    previous = 12
    while len(body) + 16 < size and count < 65535:
        here = len(body)
        body += struct.pack(">H", 0xC000 | previous) + struct.pack(">HHIH", 1, 1, 300, 4) + b"\x7f\x00\x00\x01"
        previous = here
        count += 1
    return bytes(body[:6] + struct.pack(">H", count) + body[8:])


FILES = (256 * 1024, 512 * 1024, 1024 * 1024)   # LDIF and YAML: up to 1 MiB
RECORDS = (16 * 1024, 32 * 1024, 64 * 1024 - 1)  # TXT records and DNS messages: up to 64 KiB
SHAPES = [
    ("ldif", "entries", ldif_entries, FILES), ("ldif", "folded", ldif_folded, FILES),
    ("yaml-config", "keys", yaml_keys, FILES), ("yaml-config", "questions", yaml_questions, FILES),
    ("yaml-config", "list", yaml_list, FILES),
    ("spf-record", "terms", spf_terms, RECORDS), ("spf-record", "one-term", spf_one_term, RECORDS),
    ("dmarc-record", "uris", dmarc_uris, RECORDS), ("dkim-key", "key", dkim_key, RECORDS),
    ("mta-sts-policy", "mx", mta_sts_policy, RECORDS), ("dns-message", "txt", dns_txt, RECORDS),
    ("dns-message", "pointers", dns_pointer_chains, RECORDS),
]
for target, shape, make, sizes in SHAPES:
    for size in sizes:
        emit(target, shape, size, make)

lines.sort(key=lambda l: (l.split()[1].rsplit(".", 2)[0], int(l.rsplit(".", 1)[1].rstrip("k"))))
with open(os.path.join(out, "inputs"), "w") as f:
    f.write("\n".join(lines) + "\n")
