#!/usr/bin/env python3
"""tools/wheel-pack.py — pack a built gtrace into a wheel (called by tools/wheel).

    wheel-pack.py --root REPO --version V --bin GTRACE --runtime LIB.so --out DIR

Layout (as py-spy's wheel: a native binary in the scripts directory):
  gtrace-V.data/scripts/gtrace                       -> <prefix>/bin/gtrace
  gtrace-V.data/data/lib/gtrace/libgtrace-runtime.so -> <prefix>/lib/gtrace/ (bin/../lib/gtrace)
  gtrace-V.dist-info/{METADATA,WHEEL,RECORD,LICENSE,THIRD-PARTY-NOTICES}
The platform tag is manylinux_2_<N>_x86_64 with N the newest GLIBC_2.N symbol
version the binary or the runtime needs (objdump -T). The binary is stripped.
"""
import argparse
import base64
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

SUMMARY = "Exact lock, GIL and scheduling traces of a Linux program tree: which lock (or the GIL) serialises it"


def glibc_minor(paths):
    newest = 17
    for path in paths:
        text = subprocess.run(["objdump", "-T", path], check=True, capture_output=True, text=True).stdout
        for minor in re.findall(r"GLIBC_2\.(\d+)", text):
            newest = max(newest, int(minor))
    return newest


def third_party(root, scratch):
    """The licences of what the binary contains, one after another."""
    parts = [
        ("Swift standard library, Foundation, Dispatch (linked statically)", "/opt/swift/usr/share/swift/LICENSE.txt"),
        ("swift-argument-parser", os.path.join(scratch, "checkouts", "swift-argument-parser", "LICENSE.txt")),
        ("swift-protobuf", os.path.join(scratch, "checkouts", "swift-protobuf", "LICENSE.txt")),
        ("Perfetto trace format (.proto subset, generated code)", os.path.join(root, "Protos", "perfetto", "LICENSE")),
        ("libelf from elfutils (linked statically): copyright and terms", "/usr/share/doc/libelf1/copyright"),
        ("libelf is used under the GNU LGPL, version 3 or later, which follows. To relink gtrace\n"
         "with another libelf, build gtrace from its source against that libelf (README, tools/wheel).\n"
         "GNU Lesser General Public License, version 3", "/usr/share/common-licenses/LGPL-3"),
        ("GNU General Public License, version 3 (the LGPL-3 adds its terms to these)", "/usr/share/common-licenses/GPL-3"),
        ("zlib (linked statically, for libelf)", "/usr/share/doc/zlib1g/copyright"),
    ]
    out = ["gtrace bundles the following components. Their licences follow.\n"]
    for name, path in parts:
        if not os.path.isfile(path):
            sys.exit(f"wheel-pack: missing licence file {path}")
        with open(path, encoding="utf-8", errors="replace") as f:
            out.append(f"\n{'=' * 78}\n{name}\n{path}\n{'=' * 78}\n\n{f.read()}")
    return "".join(out)


def readme_excerpt(root):
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    scratch = os.path.dirname(os.path.dirname(os.path.abspath(args.bin)))
    work = tempfile.mkdtemp(prefix="gtrace-wheel-")
    try:
        binary = os.path.join(work, "gtrace")
        subprocess.run(["strip", "-o", binary, args.bin], check=True)
        minor = glibc_minor([binary, args.runtime])
        tag = f"py3-none-manylinux_2_{minor}_x86_64"
        name = f"gtrace-{args.version}"
        wheel_path = os.path.join(args.out, f"{name}-{tag}.whl")
        dist_info, data = f"{name}.dist-info", f"{name}.data"

        project_license = os.path.join(args.root, "LICENSE")
        if os.path.isfile(project_license):
            with open(project_license, encoding="utf-8") as f:
                license_text = f.read()
            license_field = ("License: MIT\n" if license_text.startswith("MIT License") else "") + "License-File: LICENSE\n"
        else:
            print("wheel-pack: warning: the project has no LICENSE file; the wheel says so", file=sys.stderr)
            license_text = ("gtrace has no licence file yet: until its authors choose one, no licence is granted.\n"
                            "The components it bundles keep their own licences: THIRD-PARTY-NOTICES.\n")
            license_field = "License: no licence chosen yet (see LICENSE)\nLicense-File: LICENSE\n"

        metadata = (
            "Metadata-Version: 2.1\n"
            f"Name: gtrace\nVersion: {args.version}\nSummary: {SUMMARY}\n"
            f"{license_field}License-File: THIRD-PARTY-NOTICES\n"
            "Platform: Linux x86_64\n"
            "Classifier: Operating System :: POSIX :: Linux\n"
            "Classifier: Environment :: Console\n"
            "Classifier: Programming Language :: Python :: 3\n"
            "Classifier: Topic :: Software Development :: Debuggers\n"
            "Classifier: Topic :: System :: Monitoring\n"
            "Requires-Python: >=3.8\n"
            "Description-Content-Type: text/markdown\n\n" + readme_excerpt(args.root))
        wheel = (f"Wheel-Version: 1.0\nGenerator: gtrace tools/wheel-pack.py\nRoot-Is-Purelib: false\nTag: {tag}\n")

        entries = [
            (f"{data}/scripts/gtrace", open(binary, "rb").read(), 0o755),
            (f"{data}/data/lib/gtrace/libgtrace-runtime.so", open(args.runtime, "rb").read(), 0o755),
            (f"{dist_info}/LICENSE", license_text.encode(), 0o644),
            (f"{dist_info}/THIRD-PARTY-NOTICES", third_party(args.root, scratch).encode(), 0o644),
            (f"{dist_info}/METADATA", metadata.encode(), 0o644),
            (f"{dist_info}/WHEEL", wheel.encode(), 0o644),
        ]
        record = []
        for path, content, _ in entries:
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(content)}")
        record.append(f"{dist_info}/RECORD,,")
        entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))

        for old in glob.glob(os.path.join(args.out, "gtrace-*.whl")):
            os.remove(old)
        with zipfile.ZipFile(wheel_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for path, content, mode in entries:
                info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, content)
        print(f"wheel-pack: {wheel_path} ({os.path.getsize(wheel_path)} bytes; gtrace {len(entries[0][1])} bytes stripped)",
              file=sys.stderr)
        print(wheel_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
