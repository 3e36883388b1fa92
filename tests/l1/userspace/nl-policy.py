#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Strict-validation checks of the "vnvme" generic netlink family.

Raw netlink (no libnl), so the requests can be malformed on purpose.  Prints
one line "ok|not ok <check>" per check and exits 1 if any failed.

Usage: nl-policy.py UUID   (an existing vnvme instance)
"""
import errno
import os
import socket
import struct
import sys
import uuid as uuidlib

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3

# include/uapi/vnvme.h
VNVME_CMD_GET_INSTANCE = 1
VNVME_CMD_GET_STATS = 2
VNVME_CMD_RESET_STATS = 3
VNVME_CMD_EVENT = 4
VNVME_ATTR_UUID = 2
VNVME_ATTR_STATE = 4


def nla(atype, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, atype) + payload + b"\0" * ((4 - n % 4) % 4)


class Genl:
    def __init__(self):
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sk.bind((0, 0))
        self.seq = 1

    def request(self, family, cmd, attrs=b"", flags=0, version=1, reserved=0):
        """Sends one request; returns (errno or 0, [payloads of replies])."""
        self.seq += 1
        genl = struct.pack("=BBH", cmd, version, reserved)
        body = genl + attrs
        hdr = struct.pack("=IHHII", 16 + len(body), family,
                          NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0)
        self.sk.send(hdr + body)
        replies = []
        while True:
            data = self.sk.recv(65536)
            off = 0
            while off < len(data):
                length, mtype, _, seq, _ = struct.unpack_from("=IHHII", data, off)
                payload = data[off + 16:off + length]
                off += (length + 3) & ~3
                if seq != self.seq:
                    continue
                if mtype == NLMSG_ERROR:
                    err = struct.unpack_from("=i", payload)[0]
                    return -err, replies
                if mtype == NLMSG_DONE:
                    return 0, replies
                replies.append(payload)

    def family(self, name):
        err, replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                    nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        if err or not replies:
            raise OSError(err, "family %s not found" % name)
        attrs = replies[0][4:]
        off = 0
        while off < len(attrs):
            n, t = struct.unpack_from("=HH", attrs, off)
            if t == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", attrs, off + 4)[0]
            off += (n + 3) & ~3
        raise OSError(errno.ENOENT, "no family id")


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    good = uuidlib.UUID(sys.argv[1]).bytes
    unknown = uuidlib.UUID("00000000-0000-4000-8000-0000000000ff").bytes
    g = Genl()
    fam = g.family("vnvme")
    failed = 0

    def check(name, got, want, also=None):
        nonlocal failed
        ok = got == want or (also is not None and got == also)
        failed += not ok
        print("%s %s (errno %s, want %s)" % ("ok" if ok else "not ok", name,
                                             errno.errorcode.get(got, got),
                                             errno.errorcode.get(want, want)))

    err, replies = g.request(fam, VNVME_CMD_GET_INSTANCE, nla(VNVME_ATTR_UUID, good))
    check("GET_INSTANCE by UUID answers", err, 0)
    check("GET_INSTANCE by UUID gives one message", 0 if len(replies) == 1 else -1, 0)
    # NLA_POLICY_EXACT_LEN answers ERANGE on newer kernels, EINVAL on older.
    check("UUID of the wrong length is rejected",
          g.request(fam, VNVME_CMD_GET_INSTANCE, nla(VNVME_ATTR_UUID, good[:8]))[0],
          errno.EINVAL, errno.ERANGE)
    check("an attribute the command does not take is rejected",
          g.request(fam, VNVME_CMD_GET_INSTANCE,
                    nla(VNVME_ATTR_UUID, good) + nla(VNVME_ATTR_STATE, b"off\0"))[0],
          errno.EINVAL)
    check("an attribute type beyond the policy is rejected",
          g.request(fam, VNVME_CMD_GET_STATS,
                    nla(VNVME_ATTR_UUID, good) + nla(200, b"\0\0\0\0"))[0],
          errno.EINVAL)
    check("GET_STATS without a UUID is rejected",
          g.request(fam, VNVME_CMD_GET_STATS)[0], errno.EINVAL)
    check("a non-zero reserved header field is rejected",
          g.request(fam, VNVME_CMD_GET_INSTANCE, nla(VNVME_ATTR_UUID, good),
                    reserved=1)[0], errno.EINVAL)
    check("an unknown UUID is ENODEV",
          g.request(fam, VNVME_CMD_GET_STATS, nla(VNVME_ATTR_UUID, unknown))[0],
          errno.ENODEV)
    check("the EVENT command cannot be requested",
          g.request(fam, VNVME_CMD_EVENT)[0], errno.EOPNOTSUPP)
    err, replies = g.request(fam, VNVME_CMD_GET_STATS, flags=NLM_F_DUMP)
    check("GET_STATS dump answers", err, 0)
    want = errno.EPERM if os.geteuid() != 0 else 0
    check("RESET_STATS %s" % ("needs CAP_NET_ADMIN" if want else "works as root"),
          g.request(fam, VNVME_CMD_RESET_STATS, nla(VNVME_ATTR_UUID, good))[0], want)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
