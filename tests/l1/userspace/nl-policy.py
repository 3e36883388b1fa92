#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Strict-validation and permission checks of the "vnvme" generic netlink family.

Raw netlink (no libnl), so the requests can be malformed on purpose.  Prints
one line "ok|not ok <check>" per check and exits 1 if any failed.

As root: the policies, and that every command and the "events" group work.
Without CAP_NET_ADMIN: every command (do and dump) is EPERM and joining the
"events" group is EPERM: instances show backing-device paths and statistics
show per-VM I/O figures (Documentation/admin-guide.md, "Who may read what").

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
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
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
        """(family id, {multicast group name: group id})"""
        err, replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                    nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        if err or not replies:
            raise OSError(err, "family %s not found" % name)
        top = attrs(replies[0][4:])
        if CTRL_ATTR_FAMILY_ID not in top:
            raise OSError(errno.ENOENT, "no family id")
        groups = {}
        for grp in attrs(top.get(CTRL_ATTR_MCAST_GROUPS, b"")).values():
            g = attrs(grp)
            groups[g[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()] = \
                struct.unpack_from("=I", g[CTRL_ATTR_MCAST_GRP_ID])[0]
        return struct.unpack_from("=H", top[CTRL_ATTR_FAMILY_ID])[0], groups

    def join(self, group):
        """0 or the errno of joining a multicast group."""
        try:
            self.sk.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
        except OSError as e:
            return e.errno
        return 0


def attrs(buf):
    """{type: payload} of a run of attributes (nested ones stay bytes)."""
    out = {}
    off = 0
    while off + 4 <= len(buf):
        n, t = struct.unpack_from("=HH", buf, off)
        if n < 4:
            break
        out[t & 0x3fff] = buf[off + 4:off + n]
        off += (n + 3) & ~3
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    good = uuidlib.UUID(sys.argv[1]).bytes
    unknown = uuidlib.UUID("00000000-0000-4000-8000-0000000000ff").bytes
    g = Genl()
    fam, groups = g.family("vnvme")
    failed = 0

    def check(name, got, want, also=None):
        nonlocal failed
        ok = got == want or (also is not None and got == also)
        failed += not ok
        print("%s %s (errno %s, want %s)" % ("ok" if ok else "not ok", name,
                                             errno.errorcode.get(got, got),
                                             errno.errorcode.get(want, want)))

    if os.geteuid() != 0:
        # Nothing is shown without CAP_NET_ADMIN, not even to a valid request.
        for name, cmd, a, flags in (
                ("GET_INSTANCE do", VNVME_CMD_GET_INSTANCE, nla(VNVME_ATTR_UUID, good), 0),
                ("GET_INSTANCE dump", VNVME_CMD_GET_INSTANCE, b"", NLM_F_DUMP),
                ("GET_STATS do", VNVME_CMD_GET_STATS, nla(VNVME_ATTR_UUID, good), 0),
                ("GET_STATS dump", VNVME_CMD_GET_STATS, b"", NLM_F_DUMP),
                ("RESET_STATS", VNVME_CMD_RESET_STATS, nla(VNVME_ATTR_UUID, good), 0)):
            err, replies = g.request(fam, cmd, a, flags=flags)
            check("%s needs CAP_NET_ADMIN" % name, err, errno.EPERM)
            check("%s without CAP_NET_ADMIN shows nothing" % name,
                  0 if not replies else -1, 0)
        check("joining the events group needs CAP_NET_ADMIN",
              g.join(groups.get("events", 0)), errno.EPERM)
        return 1 if failed else 0

    check("joining the events group works as root", g.join(groups.get("events", 0)), 0)
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
    check("RESET_STATS works as root",
          g.request(fam, VNVME_CMD_RESET_STATS, nla(VNVME_ATTR_UUID, good))[0], 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
