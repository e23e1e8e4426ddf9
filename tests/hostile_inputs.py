"""Build one hostile wheel for tests/hostile.rs, at test time, small on disk.

Usage: python hostile_inputs.py KIND OUT [N]

Kinds:
  overlap N        one deflate stream (an ELF magic number, then 100 MiB of
                   zeros) listed N times in the central directory
  duplicates       two different members with the same name
  control-names    members whose names hold ESC, CR and LF
  not-binary-huge  an honest member named like an extension module that
                   inflates to N MiB of zeros and is not a binary
  metadata-huge    a METADATA file that honestly inflates to 20 MiB
  many N           N one-byte members named like extension modules
  metadata-bomb    a METADATA file whose headers claim 100 bytes but that
                   inflates to 64 MiB
"""

import struct
import sys
import zipfile

MODULE = "pkg/m.cpython-313t-x86_64-linux-gnu.so"
MIB = 1 << 20


def write_streamed(zf, name, first, zeros_mib):
    """A member of `first` then `zeros_mib` MiB of zeros, written in pieces."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as member:
        member.write(first)
        chunk = b"\0" * MIB
        for _ in range(zeros_mib):
            member.write(chunk)


def minimal_dist_info(zf, metadata=b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"):
    zf.writestr("pkg-1.0.dist-info/METADATA", metadata)
    zf.writestr("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")


def overlap(out, count):
    with zipfile.ZipFile(out, "w") as zf:
        write_streamed(zf, MODULE, b"\x7fELF", 100)
    data = open(out, "rb").read()
    end = data.rindex(b"PK\x05\x06")
    (cd_size, cd_offset) = struct.unpack_from("<II", data, end + 12)
    entry = data[cd_offset : cd_offset + cd_size]
    name_len = struct.unpack_from("<H", entry, 28)[0]
    name = entry[46 : 46 + name_len]
    entries = []
    for i in range(count):
        # Same length as the original name, so every other field stays put.
        other = name[:-8] + (b"%05d" % i) + name[-3:]
        entries.append(entry[:46] + other + entry[46 + name_len :])
    directory = b"".join(entries)
    tail = bytearray(data[end:])
    struct.pack_into("<HHII", tail, 8, count, count, len(directory), cd_offset)
    with open(out, "wb") as f:
        f.write(data[:cd_offset] + directory + bytes(tail))


def duplicates(out):
    with zipfile.ZipFile(out, "w") as zf:
        minimal_dist_info(zf)
        zf.writestr(MODULE, b"\x7fELF first copy")
        zf.writestr(MODULE, b"\x7fELF second copy")


def control_names(out):
    with zipfile.ZipFile(out, "w") as zf:
        minimal_dist_info(zf)
        zf.writestr("pkg/evil\x1b[2J\x1b[31m.so", b"not a binary")
        zf.writestr("pkg/fake\r\nline.so", b"not a binary")


def not_binary_huge(out, mib):
    with zipfile.ZipFile(out, "w") as zf:
        minimal_dist_info(zf)
        write_streamed(zf, MODULE, b"text", mib)


def many(out, count):
    with zipfile.ZipFile(out, "w") as zf:
        minimal_dist_info(zf)
        for i in range(count):
            zf.writestr("pkg/m%06d.so" % i, b"x")


def metadata_huge(out):
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        minimal_dist_info(zf, b"Metadata-Version: 2.1\nName: pkg\n" + b"x" * (20 * MIB))


def metadata_bomb(out):
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        minimal_dist_info(zf, b"Metadata-Version: 2.1\nName: pkg\n" + b"\0" * (64 * MIB))
    data = bytearray(open(out, "rb").read())
    name = b"pkg-1.0.dist-info/METADATA"
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at : at + name_at + len(name)] == name:
                struct.pack_into("<I", data, at + size_at, 100)
            at = data.find(signature, at + 4)
    open(out, "wb").write(bytes(data))


def main():
    kind, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    {
        "overlap": lambda: overlap(out, count),
        "duplicates": lambda: duplicates(out),
        "control-names": lambda: control_names(out),
        "not-binary-huge": lambda: not_binary_huge(out, count),
        "many": lambda: many(out, count),
        "metadata-huge": lambda: metadata_huge(out),
        "metadata-bomb": lambda: metadata_bomb(out),
    }[kind]()


main()
