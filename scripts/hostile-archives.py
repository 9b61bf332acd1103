#!/usr/bin/env python3
"""Builds a corpus of hostile and broken dataset archives for the tests of the dataset import.

The import takes a zip, tar or tar.gz archive that holds one folder per class (`cats/a.jpg`, `dogs/b.png`), or
`train/<class>/...` next to `val/<class>/...`. Each case here is one archive that the import must either refuse
(zip slip, absolute paths, links, devices, bombs, too many entries, truncation, names that are not UTF-8 or hold
control characters) or import while skipping named files (not images, undecodable, duplicates, empty classes).
Every archive also holds a few valid images in two class folders, so the import sees real content next to the
hostile part. OUTDIR/cases.json says what the import must do with each file.

Nothing in this corpus may be extracted by a careless tool (`unzip`, `tar x`, an archive manager): some entries
write outside the target folder, link to /etc/passwd, create device nodes or expand to a gigabyte. The archives
are input for the import's tests only.

Usage: python3 scripts/hostile-archives.py OUTDIR [--images DIR]

After writing each archive the script reads its raw bytes back and asserts that the hostile property is really
there (a leading slash in the header, no UTF-8 flag, the link type, ...); a failed assertion means a broken corpus.
Only the standard library is used; a given Python writes the same bytes on every run.
"""

import argparse
import gzip
import io
import json
import os
import struct
import tarfile
import zipfile
import zlib

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
BOMB_SIZE = GIB
MANY_ENTRIES = 100_000

# Fixed timestamps, so that every run writes the same bytes.
MTIME = 1_700_000_000
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

ZERO_CHUNK = bytes(MIB)
# tabby_cat.jpg, the fourth photo there, is left out: at 1 MB it would take a fifteenth of the size budget.
PHOTOS = ("chelsea.png", "coffee.png", "rocket.jpg")
# The photo that the hostile archives carry in cats/: the smallest, to keep the corpus small.
PHOTO = "rocket.jpg"

ZIP_UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8


# ---------------------------------------------------------------------------------------------------------------
# Images: small valid PNGs, and the frame header of a JPEG


def encode_png(width, height, pixel):
    """An 8-bit RGB PNG whose colour at (x, y) is pixel(x, y) = (r, g, b)."""
    rows = b"".join(
        b"\0" + bytes(channel for x in range(width) for channel in pixel(x, y)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def shape_png(seed, size=32):
    """A gradient with a disc on it; the colours follow the seed, so no two seeds below 256 give the same
    bytes."""
    base = (seed * 37 % 256, seed * 71 % 256, seed * 13 % 256)
    disc = (255 - base[0], 255 - base[1], 255 - base[2])
    centre, radius = size / 2 - 0.5, size / 2 - 6 + seed % 4

    def pixel(x, y):
        if (x - centre) ** 2 + (y - centre) ** 2 <= radius ** 2:
            return disc
        return ((base[0] + 6 * x) % 256, (base[1] + 6 * y) % 256, (base[2] + 3 * (x + y)) % 256)

    return encode_png(size, size, pixel)


def jpeg_frame_header(jpeg):
    """The SOF segment (marker included) of a JPEG."""
    offset = 2
    while True:
        marker, length = struct.unpack_from(">xBH", jpeg, offset)
        assert jpeg[offset] == 0xFF and marker != 0xDA, "no frame header before the scan"
        if marker in (0xC0, 0xC1, 0xC2):
            return jpeg[offset:offset + 2 + length]
        offset += 2 + length


# ---------------------------------------------------------------------------------------------------------------
# Writing zips and tars


def zip_info(name, mode=0o100644):
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that readers take the mode from the high bits of external_attr
    info.external_attr = mode << 16
    if name.endswith("/"):
        info.external_attr = (0o40755 << 16) | 0x10  # 0x10: the MS-DOS directory bit
    return info


def set_deflate_level(info, level):
    # ZipFile.open(info, "w") takes the level from the ZipInfo, and the attribute was renamed in Python 3.13.
    if hasattr(info, "compress_level"):
        info.compress_level = level
    else:
        info._compresslevel = level


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED):
    """A zip of (name or ZipInfo, data) pairs, in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zip_info(name)
            if not info.is_dir():
                info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def tar_info(name, kind=tarfile.REGTYPE, size=0, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mtime = MTIME
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for field, value in fields.items():
        setattr(info, field, value)
    return info


def write_tar(fileobj, entries):
    """Writes (name or TarInfo, data) pairs as a GNU tar: unlike pax, it stores names as the raw bytes given."""
    # errors="surrogateescape" (tarfile's default on Unix) writes a name decoded with surrogateescape back as
    # its original bytes, which is how a name that is not UTF-8 gets into the archive.
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as archive:
        for name, data in entries:
            if isinstance(name, tarfile.TarInfo):
                archive.addfile(name, io.BytesIO(data) if name.isreg() else None)
            else:
                archive.addfile(tar_info(name, size=len(data)), io.BytesIO(data))


def tar_bytes(entries):
    buffer = io.BytesIO()
    write_tar(buffer, entries)
    return buffer.getvalue()


def gzip_bytes(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


class Zeros:
    """A file-like object that reads as `size` zero bytes without ever holding them."""

    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return ZERO_CHUNK[:n] if n <= len(ZERO_CHUNK) else bytes(n)


# ---------------------------------------------------------------------------------------------------------------
# Reading raw bytes back, to check that the hostile property really is in the file and not just in Python's view


def zip_central_records(data):
    """(name bytes, flags, create_system, mode, local name bytes) per central directory record of a small zip."""
    end = data.rindex(b"PK\x05\x06")
    count, _, offset = struct.unpack_from("<HII", data, end + 10)
    records = []
    for _ in range(count):
        assert data[offset:offset + 4] == b"PK\x01\x02"
        made_by, flags = struct.unpack_from("<H2xH", data, offset + 4)
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, offset + 28)
        external_attr, local_offset = struct.unpack_from("<II", data, offset + 38)
        name = data[offset + 46:offset + 46 + name_length]
        assert data[local_offset:local_offset + 4] == b"PK\x03\x04"
        local_flags, = struct.unpack_from("<H", data, local_offset + 6)
        local_name_length, = struct.unpack_from("<H", data, local_offset + 26)
        local_name = data[local_offset + 30:local_offset + 30 + local_name_length]
        assert local_flags == flags
        records.append((name, flags, made_by >> 8, external_attr >> 16, local_name))
        offset += 46 + name_length + extra_length + comment_length
    return records


def zip_raw_names(data):
    records = zip_central_records(data)
    assert all(name == local_name for name, _, _, _, local_name in records), "local and central names differ"
    return [name for name, *_ in records]


def tar_headers(data):
    """(raw name, type flag, raw link name, devmajor, devminor) per entry of an uncompressed tar whose names fit
    the header's 100 bytes (longer ones would live in an extra GNU or pax block)."""
    headers = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            block = data[member.offset:member.offset + 512]
            name = block[0:100].split(b"\0")[0]
            devmajor = int(block[329:337].split(b"\0")[0] or b"0", 8)
            devminor = int(block[337:345].split(b"\0")[0] or b"0", 8)
            headers.append((name, block[156:157], block[157:257].split(b"\0")[0], devmajor, devminor))
    return headers


def read_tar(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isreg()}


def zip_names(path):
    with zipfile.ZipFile(path) as archive:
        return [info.filename for info in archive.infolist()]


def tar_names(path):
    with tarfile.open(path) as archive:
        return archive.getnames()


# ---------------------------------------------------------------------------------------------------------------
# The corpus


class Corpus:
    def __init__(self, outdir, images):
        self.outdir = outdir
        self.images = images
        self.cases = []
        self.seed = 0

    def photo(self, name):
        with open(os.path.join(self.images, name), "rb") as file:
            return file.read()

    def shape(self):
        self.seed += 1
        assert self.seed < 256, "shape_png repeats itself after 255 seeds"
        return shape_png(self.seed)

    def shapes(self, folder="shapes", count=3):
        return [(f"{folder}/shape-{n}.png", self.shape()) for n in range(1, count + 1)]

    def valid(self):
        """The valid part of a hostile archive: a photo in cats/ and generated PNGs in shapes/."""
        return [(f"cats/{PHOTO}", self.photo(PHOTO))] + self.shapes()

    def path(self, file):
        return os.path.join(self.outdir, file)

    def write(self, file, data):
        with open(self.path(file), "wb") as out:
            out.write(data)
        return data

    def refused(self, file, case, reason, description):
        self.cases.append({"file": file, "case": case, "expect": "refused", "reason": reason,
                           "description": description})

    def imported(self, file, case, reason, description, skipped, classes, **extra):
        self.cases.append({"file": file, "case": case, "expect": "imported", "reason": reason,
                           "description": description, "skipped": skipped, "classes": classes, **extra})

    # -- refused: where entries would land -------------------------------------------------------------------

    def zip_slip(self):
        data = self.write("zip-slip.zip", zip_bytes(
            self.valid() + [("../../evil.jpg", self.shape()), ("cats/../../evil2.jpg", self.shape())]))
        assert {b"../../evil.jpg", b"cats/../../evil2.jpg"} <= set(zip_raw_names(data))
        self.refused("zip-slip.zip", "zip-slip", "path-traversal",
                     "zip entries ../../evil.jpg and cats/../../evil2.jpg climb out of the target folder")

    def tar_slip(self):
        data = self.write("tar-slip.tar", tar_bytes(
            self.valid() + [("../../evil.jpg", self.shape()), ("cats/../../evil2.jpg", self.shape())]))
        assert {b"../../evil.jpg", b"cats/../../evil2.jpg"} <= {h[0] for h in tar_headers(data)}
        self.refused("tar-slip.tar", "tar-slip", "path-traversal",
                     "tar entries ../../evil.jpg and cats/../../evil2.jpg climb out of the target folder")

    def absolute_paths(self):
        # tarfile.add() and ZipFile.write() strip a leading '/', but addfile() and writestr() keep the name as
        # given; the raw-byte checks make sure of it.
        data = self.write("absolute-path.tar", tar_bytes(
            self.valid() + [("/tmp/sqnxt-absolute.jpg", self.shape())]))
        assert b"/tmp/sqnxt-absolute.jpg" in {h[0] for h in tar_headers(data)}
        self.refused("absolute-path.tar", "absolute-path-tar", "absolute-path",
                     "a tar entry named /tmp/sqnxt-absolute.jpg (the leading slash is in the header)")

        data = self.write("absolute-path.zip", zip_bytes(self.valid() + [("/etc/cron.d/x.jpg", self.shape())]))
        assert b"/etc/cron.d/x.jpg" in zip_raw_names(data)
        self.refused("absolute-path.zip", "absolute-path-zip", "absolute-path",
                     "a zip entry named /etc/cron.d/x.jpg (the leading slash is in both headers)")

    # -- refused: entries that are not regular files ---------------------------------------------------------

    def links_and_devices(self):
        symlink = tar_info("cats/passwd.jpg", tarfile.SYMTYPE, linkname="/etc/passwd")
        data = self.write("symlink.tar", tar_bytes(self.valid() + [(symlink, b"")]))
        assert (b"cats/passwd.jpg", b"2", b"/etc/passwd", 0, 0) in tar_headers(data)
        self.refused("symlink.tar", "symlink-tar", "link", "a tar symlink cats/passwd.jpg -> /etc/passwd")

        symlink = zip_info("cats/passwd.jpg", mode=0o120777)
        symlink.compress_type = zipfile.ZIP_STORED
        data = self.write("symlink.zip", zip_bytes(self.valid() + [(symlink, b"/etc/passwd")]))
        assert (b"cats/passwd.jpg", 3, 0o120777) in {(r[0], r[2], r[3]) for r in zip_central_records(data)}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.read("cats/passwd.jpg") == b"/etc/passwd"
        self.refused("symlink.zip", "symlink-zip", "link",
                     "a zip entry cats/passwd.jpg with Unix mode 0120777 (a symlink) whose data is /etc/passwd")

        hardlink = tar_info("cats/hard.jpg", tarfile.LNKTYPE, linkname="/etc/passwd")
        data = self.write("hardlink.tar", tar_bytes(self.valid() + [(hardlink, b"")]))
        assert (b"cats/hard.jpg", b"1", b"/etc/passwd", 0, 0) in tar_headers(data)
        self.refused("hardlink.tar", "hardlink-tar", "link", "a tar hard link cats/hard.jpg -> /etc/passwd")

        device = tar_info("cats/null.jpg", tarfile.CHRTYPE, devmajor=1, devminor=3)
        data = self.write("device.tar", tar_bytes(self.valid() + [(device, b"")]))
        assert (b"cats/null.jpg", b"3", b"", 1, 3) in tar_headers(data)
        self.refused("device.tar", "device-tar", "device", "a tar character device cats/null.jpg (1, 3: /dev/null)")

    # -- refused: size ---------------------------------------------------------------------------------------

    def bombs(self):
        # Streamed in 1 MiB chunks: the script never holds the gigabyte.
        bomb = zip_info("cats/bomb.jpg")
        set_deflate_level(bomb, 9)
        with zipfile.ZipFile(self.path("bomb.zip"), "w") as archive:
            for name, data in self.valid():
                archive.writestr(zip_info(name), data)
            with archive.open(bomb, "w", force_zip64=True) as entry:
                for _ in range(BOMB_SIZE // MIB):
                    entry.write(ZERO_CHUNK)
        with zipfile.ZipFile(self.path("bomb.zip")) as archive:
            info = archive.getinfo("cats/bomb.jpg")
            assert info.file_size == BOMB_SIZE and info.compress_size < 2 * MIB
        self.refused("bomb.zip", "bomb-zip", "ratio",
                     f"a zip entry cats/bomb.jpg of {BOMB_SIZE:,} zero bytes deflated to about 1 MB")

        with open(self.path("bomb.tar.gz"), "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as compressed, \
                tarfile.open(fileobj=compressed, mode="w", format=tarfile.GNU_FORMAT, copybufsize=MIB) as archive:
            for name, data in self.valid():
                archive.addfile(tar_info(name, size=len(data)), io.BytesIO(data))
            archive.addfile(tar_info("cats/bomb.png", size=BOMB_SIZE), Zeros(BOMB_SIZE))
        with open(self.path("bomb.tar.gz"), "rb") as file:
            head = gzip.GzipFile(fileobj=file).read(64 * KIB)  # the valid images' headers, not the gigabyte
            file.seek(-4, os.SEEK_END)
            tar_size, = struct.unpack("<I", file.read(4))  # gzip's ISIZE: the uncompressed size mod 2**32
            assert tar_size > BOMB_SIZE and os.fstat(file.fileno()).st_size < 2 * MIB
        assert head.startswith(f"cats/{PHOTO}".encode())
        self.refused("bomb.tar.gz", "bomb-tar-gz", "ratio",
                     f"a tar.gz whose entry cats/bomb.png holds {BOMB_SIZE:,} zero bytes; about 1 MB compressed")

    def many_entries(self):
        entries = self.valid() + [(f"many/f{n:05d}.png", b"%05d" % n) for n in range(MANY_ENTRIES)]
        self.write("many-entries.zip", zip_bytes(entries, compression=zipfile.ZIP_STORED))
        assert len(zip_names(self.path("many-entries.zip"))) == MANY_ENTRIES + 4
        self.refused("many-entries.zip", "many-entries-zip", "too-many-entries",
                     f"a zip of {MANY_ENTRIES:,} tiny files many/f00000.png ... many/f99999.png next to 4 images")

    # -- refused: broken archives ----------------------------------------------------------------------------

    def truncated(self):
        entries = self.valid()
        whole = tar_bytes(entries)
        # Cut inside an entry's data, not in a header or the padding after the data.
        cut = len(whole) // 2
        with tarfile.open(fileobj=io.BytesIO(whole)) as archive:
            members = archive.getmembers()
        inside = [m for m in members if m.offset_data < cut < m.offset_data + m.size]
        if not inside:
            largest = max(members, key=lambda m: m.size)
            cut = largest.offset_data + largest.size // 2
            inside = [largest]
        data = self.write("truncated.tar", whole[:cut])
        self.expect_failure(lambda: read_tar(data), tarfile.ReadError)
        self.refused("truncated.tar", "truncated-tar", "corrupt",
                     f"a tar cut off at byte {cut:,} of {len(whole):,}, in the middle of {inside[0].name}'s data")

        whole = zip_bytes(entries)
        end = whole.rindex(b"PK\x05\x06")
        directory_size, directory_offset = struct.unpack_from("<II", whole, end + 12)
        cut = directory_offset + directory_size // 2
        data = self.write("truncated.zip", whole[:cut])
        assert b"PK\x05\x06" not in data and data[directory_offset:directory_offset + 4] == b"PK\x01\x02"
        self.expect_failure(lambda: zipfile.ZipFile(io.BytesIO(data)), zipfile.BadZipFile)
        self.refused("truncated.zip", "truncated-zip", "corrupt",
                     "a zip cut in the middle of its central directory: every entry's data is whole, "
                     "the end of central directory record is gone")

        with zipfile.ZipFile(io.BytesIO(whole)) as archive:
            info = archive.infolist()[-1]
        local_name_length, local_extra_length = struct.unpack_from("<HH", whole, info.header_offset + 26)
        data_start = info.header_offset + 30 + local_name_length + local_extra_length
        cut = data_start + info.compress_size // 2
        data = self.write("truncated-entry.zip", whole[:cut])
        assert b"PK\x01\x02" not in data and len(data) < data_start + info.compress_size
        self.refused("truncated-entry.zip", "truncated-entry-zip", "corrupt",
                     f"a zip cut in the middle of its last entry's data ({info.filename}); no central directory")

        whole = gzip_bytes(tar_bytes(entries))
        data = self.write("truncated.tar.gz", whole[:len(whole) // 2])
        self.expect_failure(lambda: gzip.decompress(data), EOFError)
        self.refused("truncated.tar.gz", "truncated-tar-gz", "corrupt",
                     f"a tar.gz cut off at byte {len(data):,} of {len(whole):,}, in the middle of the gzip stream")

    @staticmethod
    def expect_failure(action, error):
        try:
            action()
        except error:
            return
        raise AssertionError(f"expected {error.__name__}")

    # -- refused: names --------------------------------------------------------------------------------------

    def names(self):
        # zipfile writes a name that is not ASCII as UTF-8 and sets bit 11; to get raw bytes without the flag,
        # write an ASCII placeholder of the same length and patch it in both the local header and the central
        # directory (the CRC covers the data only, so nothing else changes).
        raw_name, placeholder = b"cats/\xff\xfe.jpg", b"cats/@@.jpg"
        data = zip_bytes(self.valid() + [(placeholder.decode(), self.shape())])
        assert data.count(placeholder) == 2
        data = self.write("not-utf8.zip", data.replace(placeholder, raw_name))
        records = {r[0]: r for r in zip_central_records(data)}
        assert raw_name in records and not records[raw_name][1] & ZIP_UTF8_FLAG
        assert raw_name in zip_raw_names(data)
        self.refused("not-utf8.zip", "not-utf8-zip", "not-utf8",
                     "a zip entry named b'cats/\\xff\\xfe.jpg' without the UTF-8 flag (bit 11)")

        raw_name = b"cats/caf\xe9.jpg"  # Latin-1
        data = self.write("not-utf8.tar", tar_bytes(
            self.valid() + [(raw_name.decode("utf-8", "surrogateescape"), self.shape())]))
        assert raw_name in {h[0] for h in tar_headers(data)}
        assert all(h[1] not in (b"x", b"g") for h in tar_headers(data))  # no pax header holding a UTF-8 name
        self.refused("not-utf8.tar", "not-utf8-tar", "not-utf8",
                     "a tar entry named b'cats/caf\\xe9.jpg' (Latin-1) in a GNU header")

        name = "cats/evil\nname.jpg"
        data = self.write("newline.zip", zip_bytes(self.valid() + [(name, self.shape())]))
        assert name.encode() in zip_raw_names(data)
        self.refused("newline.zip", "newline-zip", "control-character", "a zip entry named 'cats/evil\\nname.jpg'")

        data = self.write("newline.tar", tar_bytes(self.valid() + [(name, self.shape())]))
        assert name.encode() in {h[0] for h in tar_headers(data)}
        self.refused("newline.tar", "newline-tar", "control-character", "a tar entry named 'cats/evil\\nname.jpg'")

    # -- imported, with files skipped ------------------------------------------------------------------------

    def skipped_files(self):
        extras = [("cats/notes.txt", b"Cats sleep sixteen hours a day.\n"),
                  ("cats/data.bin", bytes((n * 131 + 7) % 256 for n in range(4 * KIB))),
                  ("shapes/readme.md", b"# Shapes\n\nGenerated discs on gradients.\n")]
        self.write("non-image.zip", zip_bytes(self.valid() + extras))
        self.imported("non-image.zip", "non-image", "not-an-image",
                      "files that are not images by their extension: notes.txt, data.bin, readme.md",
                      skipped=sorted(name for name, _ in extras), classes=["cats", "shapes"])

        rocket = self.photo("rocket.jpg")
        # Decoders fill a truncated or garbled scan with grey and call it decoded (ImageSharp 2 does), so the
        # garbage starts with a second frame header, which ImageSharp and libjpeg refuse.
        broken = rocket[:len(rocket) * 6 // 10] + jpeg_frame_header(rocket)
        broken += bytes((n * 167 + 13) % 251 for n in range(len(rocket) - len(broken)))
        extras = [("cats/corrupt.jpg", broken),
                  ("cats/header-only.jpg", rocket[:200]),
                  ("cats/script.jpg", b"#!/bin/sh\necho 'a shell script, not a JPEG'\n")]
        assert rocket[:2] == b"\xff\xd8"
        self.write("corrupt-image.zip", zip_bytes(self.valid() + extras))
        self.imported("corrupt-image.zip", "corrupt-image", "undecodable",
                      "image names whose bytes do not decode: rocket.jpg's first 60 % plus a second frame header "
                      "and garbage, a JPEG's first 200 bytes, a shell script named .jpg",
                      skipped=sorted(name for name, _ in extras), classes=["cats", "shapes"])

        extras = [("empty/readme.txt", b"This class has no images.\n"), ("nothing/", b"")]
        data = self.write("empty-class.zip", zip_bytes(self.valid() + extras))
        assert b"nothing/" in zip_raw_names(data)
        self.imported("empty-class.zip", "empty-class", "empty-class",
                      "a folder empty/ holding only readme.txt and a directory entry nothing/ with no files",
                      skipped=["empty/readme.txt"], classes=["cats", "shapes"], emptyClasses=["empty", "nothing"])

        # The copies are the only photo in cats/. Written in reverse order, so that the archive's order is not the
        # sorted order that decides which copy is kept.
        copy = self.photo(PHOTO)
        extras = [("shapes/copy.jpg", copy), ("cats/b.jpg", copy), ("cats/a.jpg", copy)]
        self.write("duplicates.zip", zip_bytes(extras + self.shapes()))
        self.imported("duplicates.zip", "duplicates", "duplicate",
                      "cats/a.jpg, cats/b.jpg and shapes/copy.jpg hold the same bytes; cats/a.jpg, first in "
                      "sorted order, is kept",
                      skipped=["cats/b.jpg", "shapes/copy.jpg"], classes=["cats", "shapes"])

    # -- imported, nothing skipped: the controls -------------------------------------------------------------

    def controls(self):
        entries = [(tar_info(folder, tarfile.DIRTYPE), b"") for folder in (
            "train/", "train/cats/", "train/objects/", "train/shapes/",
            "val/", "val/cats/", "val/objects/", "val/shapes/")]
        entries += [("train/cats/chelsea.png", self.photo("chelsea.png")),
                    ("train/objects/rocket.jpg", self.photo("rocket.jpg")),
                    ("val/cats/cat-1.png", self.shape()),
                    ("val/objects/coffee.png", self.photo("coffee.png"))]
        entries += self.shapes("train/shapes", 2) + self.shapes("val/shapes", 2)
        entries.sort(key=lambda entry: entry[0].name if isinstance(entry[0], tarfile.TarInfo) else entry[0])
        self.write("valid-imagenet.tar.gz", gzip_bytes(tar_bytes(entries)))
        assert len(tar_names(self.path("valid-imagenet.tar.gz"))) == len(entries)
        self.imported("valid-imagenet.tar.gz", "valid-imagenet", "",
                      "a valid train/<class>/ + val/<class>/ layout with directory entries: cats, objects, shapes",
                      skipped=[], classes=["cats", "objects", "shapes"])

        entries = [("cats/chelsea.png", self.photo("chelsea.png")), ("cats/cat-1.png", self.shape()),
                   ("objects/coffee.png", self.photo("coffee.png")), ("objects/rocket.jpg", self.photo("rocket.jpg"))]
        entries += self.shapes()
        self.write("valid-classes.zip", zip_bytes(entries))
        self.imported("valid-classes.zip", "valid-classes", "",
                      "a valid zip of class folders cats/, objects/, shapes/ with photos and generated PNGs",
                      skipped=[], classes=["cats", "objects", "shapes"])

    # -- every case --------------------------------------------------------------------------------------------

    def check_imported_cases(self):
        """The skipped paths are in the archives, each kept class holds a file that is not skipped, and no two
        files that are kept have the same bytes."""
        for case in self.cases:
            if case["expect"] != "imported":
                continue
            path = self.path(case["file"])
            if case["file"].endswith(".zip"):
                with zipfile.ZipFile(path) as archive:
                    files = {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}
            else:
                with open(path, "rb") as file:
                    files = read_tar(file.read())
            assert set(case["skipped"]) <= set(files), case["file"]
            kept = {name: data for name, data in files.items() if name not in case["skipped"]}
            classes = {name.split("/")[-2] for name in kept}
            assert classes == set(case["classes"]), (case["file"], classes)
            assert len(set(kept.values())) == len(kept), case["file"]

    # -- refused: found in a security review of the import ---------------------------------------------------

    def review_cases(self):
        # A name 20,000 folders deep, in a PAX header (no length limit there): every prefix of it is a folder.
        deep = "/".join(["a"] * 20_000) + "/x.png"
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as compressed, \
                tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, data in self.valid() + [(deep, self.shape())]:
                archive.addfile(tar_info(name, size=len(data)), io.BytesIO(data))
        self.write("deep-name.tar.gz", buffer.getvalue())
        assert deep in tar_names(self.path("deep-name.tar.gz"))
        self.refused("deep-name.tar.gz", "deep-name", "name-too-long",
                     "a PAX path 20,000 folders deep (about 40 kB), a few hundred bytes compressed")

        # 200 central-directory entries that all point at one local entry of 8 MiB of zeros deflated to ~8 kB:
        # read again for every entry, so the bytes read stay small while 1.6 GB come out.
        blob = zip_bytes([("x.png", ZERO_CHUNK * 8)])
        local_end = struct.unpack("<I", blob[-6:-2])[0]           # the central directory's offset
        central = blob[local_end:blob.rfind(b"PK\x05\x06")]
        records, names = [], []
        for n in range(200):
            name = f"cats/copy-{n:03d}.png".encode()
            fixed = bytearray(central[:46])
            struct.pack_into("<H", fixed, 28, len(name))      # name length; the local header keeps x.png
            records.append(bytes(fixed) + name)
            names.append(name)
        directory = b"".join(records)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), len(directory), local_end, 0)
        data = self.write("overlapping-entries.zip", blob[:local_end] + directory + end)
        records = zip_central_records(data)
        assert [name for name, *_ in records] == names and {local for *_, local in records} == {b"x.png"}
        self.refused("overlapping-entries.zip", "overlapping-entries", "ratio",
                     "200 zip entries sharing one deflated 8 MiB of zeros: 1.6 GB out of 9 kB")

        # Fashion-MNIST's file names, gzipped: 1 GiB of zeros in a few hundred kilobytes, read by the IDX reader.
        header = struct.pack(">IIII", 0x00000803, 1_000_000, 28, 28)
        labels = struct.pack(">II", 0x00000801, 1_000_000)
        idx = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=idx, compresslevel=9, mtime=0) as images:
            images.write(header)
            for _ in range(750):
                images.write(ZERO_CHUNK)
        self.write("idx-bomb.zip", zip_bytes([
            ("train-images-idx3-ubyte.gz", idx.getvalue()), ("train-labels-idx1-ubyte.gz", gzip_bytes(labels + bytes(1_000_000))),
            ("t10k-images-idx3-ubyte.gz", idx.getvalue()), ("t10k-labels-idx1-ubyte.gz", gzip_bytes(labels + bytes(1_000_000))),
        ], compression=zipfile.ZIP_STORED))
        self.refused("idx-bomb.zip", "idx-bomb", "ratio",
                     "gzipped IDX files of 750 MiB of zeros each, under a megabyte stored in a zip")

        # A file, then a folder of the same name with a file inside: the second cannot be written.
        shape = self.shape()
        self.write("file-folder-clash.zip", zip_bytes(self.valid() + [("cats/clash.png", shape), ("cats/clash.png/inner.png", self.shape())]))
        self.imported("file-folder-clash.zip", "file-folder-clash", "name-clash",
                      "cats/clash.png is a file, then the folder of cats/clash.png/inner.png",
                      skipped=["cats/clash.png/inner.png"], classes=["cats", "shapes"])

    def build(self):
        self.zip_slip()
        self.tar_slip()
        self.absolute_paths()
        self.links_and_devices()
        self.bombs()
        self.many_entries()
        self.truncated()
        self.names()
        self.skipped_files()
        self.controls()
        self.review_cases()
        self.check_imported_cases()
        assert len({case["case"] for case in self.cases}) == len(self.cases)
        with open(self.path("cases.json"), "w", encoding="utf-8") as out:
            json.dump(self.cases, out, indent=2)
            out.write("\n")


def main():
    repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", metavar="OUTDIR", help="folder to write the archives and cases.json to")
    parser.add_argument("--images", default=os.path.join(repository, "..", "shared", "data", "images"),
                        help="folder holding " + ", ".join(PHOTOS) + " (default: %(default)s)")
    args = parser.parse_args()

    missing = [name for name in PHOTOS if not os.path.isfile(os.path.join(args.images, name))]
    if missing:
        parser.error(f"{args.images} lacks {', '.join(missing)}")
    os.makedirs(args.outdir, exist_ok=True)
    corpus = Corpus(args.outdir, args.images)
    corpus.build()
    for case in corpus.cases:
        size = os.path.getsize(corpus.path(case["file"]))
        print(f"{case['file']:24} {size:>12,} bytes  {case['expect']:8} {case['reason'] or '-'}")


if __name__ == "__main__":
    main()
