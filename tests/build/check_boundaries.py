#!/usr/bin/env python3
"""The module graph holds: for every module, an include of a module it may not use does not
compile. Uses the build's compile_commands.json: each module's flags are those of one of its own
sources; each forbidden module is tried with one of its headers (`-fsyntax-only` on a one-line
file), which must fail with "No such file".

usage: check_boundaries.py BUILD_DIR SOURCE_DIR
"""
import json
import pathlib
import shlex
import subprocess
import sys

# What each module may include (the transitive closure of src/CMakeLists.txt's graph).
ALLOWED = {
    "core": set(),
    "metrics": {"core"},
    "store": {"core"},
    "sip": {"core"},
    "media": {"core"},
    "twiml": {"core"},
    "http": {"core", "metrics"},
    "speech": {"core", "media"},
    "events": {"core", "metrics", "http", "store"},
    "voice": {"core", "metrics", "http", "store", "sip", "media", "twiml", "speech"},
    "messaging": {"core", "metrics", "http", "store", "sip", "media", "twiml", "voice", "speech"},
    "api": {"core", "metrics", "http", "store", "sip", "media", "twiml", "events", "voice",
            "messaging", "speech"},
    "console": {"core", "metrics", "http", "store", "sip", "media", "twiml", "events", "voice",
                "messaging", "speech", "api"},
}
MODULES = sorted(set(ALLOWED) | {"app"})


def flags_for(commands, source_dir, module):
    for entry in commands:
        path = pathlib.Path(entry["file"])
        if path.parent == source_dir / "src" / module and path.suffix == ".cpp":
            args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
                    skip = True
                    continue
                if a == str(path) or a.endswith(path.name) or a in ("-MD", "-MMD"):
                    continue
                out.append(a)
            return out, entry["directory"]
    raise SystemExit(f"no compile command for a source of src/{module}")


def compiles(flags, cwd, header):
    r = subprocess.run(flags + ["-fsyntax-only", "-x", "c++", "-"], input=f'#include "{header}"\n',
                       capture_output=True, text=True, cwd=cwd)
    return r.returncode == 0, r.stderr


def main():
    build, source = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve()
    commands = json.loads((build / "compile_commands.json").read_text())
    header = {m: sorted((source / "src" / m).glob("*.hpp"))[0].name for m in MODULES}
    failures = 0
    for module, allowed in ALLOWED.items():
        flags, cwd = flags_for(commands, source, module)
        for other in MODULES:
            if other == module:
                continue
            if other in allowed:
                continue  # reachable by design; compiling it is the build's own job
            include = f"{other}/{header[other]}"
            ok, err = compiles(flags, cwd, include)
            if ok or "No such file" not in err:
                failures += 1
                print(f"FAIL: src/{module} can include {include} (not in its allowed set)")
            else:
                print(f"ok:   src/{module} cannot include {include}")
    print(f"{failures} boundary violation(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
