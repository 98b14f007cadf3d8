#!/usr/bin/env python3
"""nfswire.py - what the guest and pmemnfsd said to each other, from the
packet capture qemu's filter-dump wrote of the guest's network card.

    nfswire.py PCAP PORT NFS4_PROT_X

Reassembles every TCP connection between the guest and the server's port,
splits the ONC RPC records (RFC 5531 record marking), pairs calls with
replies by xid, and prints one line per operation result the peer
returned:

    CONN <n>                          TCP connections to the port seen
    OP <OPNAME> <STATUS>              a fore-channel COMPOUND result
    CB <OPNAME> <STATUS>              a back-channel CB_COMPOUND result
    CALLS <n> REPLIES <m>             fore-channel totals

Operation and status names are read from the protocol description the
server is built from (src/xdr/nfs4_prot.x), so they cannot drift from it.
Results after the first one that cannot be skipped without decoding its
body are not printed; a failing op is always the last of its COMPOUND, so
the status that ended a COMPOUND is always there.
"""
import re
import struct
import sys


def enum_names(xfile):
    """Map numbers to names for the nfsstat4 and nfs_opnum4 enums."""
    text = open(xfile, encoding="utf-8", errors="replace").read()
    status, ops, cbops = {}, {}, {}
    for name, num in re.findall(r"\b(NFS4_OK|NFS4ERR_\w+)\s*=\s*(\d+)", text):
        status.setdefault(int(num), name)
    for name, num in re.findall(r"\bOP_(CB_\w+)\s*=\s*(\d+)", text):
        cbops.setdefault(int(num), name)
    for name, num in re.findall(r"\bOP_(\w+)\s*=\s*(\d+)", text):
        if not name.startswith("CB_"):
            ops.setdefault(int(num), name)
    return status, ops, cbops


def pcap_packets(path):
    """Yield the frames of a classic pcap file (truncated tail tolerated)."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            return
        yield data[off:off + incl]
        off += incl


def tcp_streams(path, port):
    """{(client_port, to_server): {seq: payload}} and the SYN sequences."""
    segs, isn = {}, {}
    for frame in pcap_packets(path):
        if len(frame) < 14 or struct.unpack(">H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if len(ip) < ihl + 20 or ip[9] != 6:
            continue
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        if dport == port:
            key = (sport, True)
        elif sport == port:
            key = (dport, False)
        else:
            continue
        if flags & 0x02:			# SYN: the payload starts at seq + 1
            isn[key] = seq + 1
        payload = tcp[doff:]
        if payload:
            segs.setdefault(key, {}).setdefault(seq, payload)
    streams = {}
    for key, bySeq in segs.items():
        start = isn.get(key, min(bySeq))
        out = bytearray()
        pos = start
        for seq in sorted(bySeq, key=lambda s: (s - start) & 0xFFFFFFFF):
            rel = (seq - pos) & 0xFFFFFFFF
            chunk = bySeq[seq]
            if rel >= 0x80000000:		# starts before pos: overlap
                skip = (pos - seq) & 0xFFFFFFFF
                chunk = chunk[skip:] if skip < len(chunk) else b""
                rel = 0
            if rel != 0:			# a hole: stop at what we have
                break
            out += chunk
            pos = (pos + len(chunk)) & 0xFFFFFFFF
        streams[key] = bytes(out)
    return streams, isn


def rpc_records(stream):
    """Split a byte stream into RPC records (fragments joined)."""
    off, rec = 0, b""
    while off + 4 <= len(stream):
        mark = struct.unpack(">I", stream[off:off + 4])[0]
        n = mark & 0x7FFFFFFF
        if off + 4 + n > len(stream):
            return
        rec += stream[off + 4:off + 4 + n]
        off += 4 + n
        if mark & 0x80000000:
            yield rec
            rec = b""


class Xdr:
    def __init__(self, data, off=0):
        self.d, self.o = data, off

    def u32(self):
        v = struct.unpack(">I", self.d[self.o:self.o + 4])[0]
        self.o += 4
        return v

    def opaque(self):
        n = self.u32()
        v = self.d[self.o:self.o + n]
        self.o += (n + 3) & ~3
        return v

    def skip(self, n):
        self.o += n


# Bodies of successful results the decoder can step over (RFC 8881 §18):
# SEQUENCE4resok is sessionid + 5 words; the PUT*FH family, SAVEFH,
# RESTOREFH and RECLAIM_COMPLETE return nothing; GETFH returns an nfs_fh4.
FIXED_OK = {"SEQUENCE": 36, "PUTFH": 0, "PUTROOTFH": 0, "PUTPUBFH": 0,
            "SAVEFH": 0, "RESTOREFH": 0, "RECLAIM_COMPLETE": 0,
            "DESTROY_SESSION": 0, "DESTROY_CLIENTID": 0, "CB_SEQUENCE": 32,
            "CB_RECALL": 0, "CB_LAYOUTRECALL": 0, "CB_NOTIFY_LOCK": 0}
OPAQUE_OK = {"GETFH"}


def results(x, names, status):
    """(opname, statusname) of each result of a COMPOUND4res at x."""
    out = []
    x.u32()					# overall status
    x.opaque()				# tag
    for _ in range(x.u32()):
        op = x.u32()
        st = x.u32()
        name = names.get(op, "OP%d" % op)
        out.append((name, status.get(st, "NFS4ERR_%d" % st)))
        if st != 0:
            break
        if name in FIXED_OK:
            x.skip(FIXED_OK[name])
        elif name in OPAQUE_OK:
            x.opaque()
        else:
            break
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: nfswire.py PCAP PORT NFS4_PROT_X")
    status, ops, cbops = enum_names(sys.argv[3])
    streams, isn = tcp_streams(sys.argv[1], int(sys.argv[2]))
    conns = {k[0] for k in isn if k[1]}
    print("CONN %d" % len(conns))
    ncalls = nreplies = 0
    for cport in sorted({k[0] for k in streams}):
        calls = {}				# xid -> "fore" | "back"
        msgs = []
        for to_server in (True, False):
            for rec in rpc_records(streams.get((cport, to_server), b"")):
                if len(rec) >= 8:
                    msgs.append((to_server, rec))
        for to_server, rec in msgs:
            x = Xdr(rec)
            try:
                xid, mtype = x.u32(), x.u32()
                if mtype == 0:			# CALL
                    x.u32()				# rpcvers
                    prog, _, proc = x.u32(), x.u32(), x.u32()
                    if proc == 1 and to_server and prog == 100003:
                        calls[xid] = "fore"
                        ncalls += 1
                    elif proc == 1 and not to_server:
                        calls[xid] = "back"
            except struct.error:
                continue
        for to_server, rec in msgs:
            x = Xdr(rec)
            try:
                xid, mtype = x.u32(), x.u32()
                if mtype != 1 or xid not in calls:
                    continue
                if x.u32() != 0:		# MSG_DENIED
                    print("DENIED xid %#x" % xid)
                    continue
                x.u32()
                x.opaque()			# verifier
                if x.u32() != 0:		# accept_stat
                    continue
                kind = calls[xid]
                if kind == "fore" and not to_server:
                    nreplies += 1
                    for name, st in results(x, ops, status):
                        print("OP %s %s" % (name, st))
                elif kind == "back" and to_server:
                    for name, st in results(x, cbops, status):
                        print("CB %s %s" % (name, st))
            except struct.error:
                continue
    print("CALLS %d REPLIES %d" % (ncalls, nreplies))


if __name__ == "__main__":
    main()
