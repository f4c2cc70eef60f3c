#!/usr/bin/python3
"""Runs every command of docs/course/*.md, so that the pages cannot rot.

    course_test.py DEEPNET WORKDIR                 run every page (the test)
    course_test.py DEEPNET WORKDIR --pictures      run them and copy the pictures
                                                   the pages show into docs/course/images/

Each page runs in a fresh folder of its own, its blocks in order:
- a ```sh block holds commands, one per line (a trailing backslash continues
  the line); blank lines and lines starting with # are skipped. A command
  ending in "# exits N" must exit with N, any other with 0. `deepnet` is the
  binary under test (put first on PATH).
- a ```python block runs as a script with this Python (numpy available).
Then every picture the page shows, ![...](images/PAGE/PATH), must have been
made by its commands as PATH in its folder, be an SVG that rsvg-convert
renders (when rsvg-convert is installed) and be committed as
docs/course/images/PAGE/PATH (scripts/course-pictures regenerates them).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

DEEPNET, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PICTURES = "--pictures" in sys.argv[3:]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "course", "[0-9]*.md")))
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what)


def blocks(text):
    """(kind, body) of each ```sh and ```python block, in order."""
    return re.findall(r"^```(sh|python)\n(.*?)^```", text, flags=re.S | re.M)


def commands(body):
    lines, current = [], ""
    for raw in body.splitlines():
        line = raw.rstrip()
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return lines


def run_page(page, env):
    name = os.path.splitext(os.path.basename(page))[0]
    folder = os.path.join(WORK, name)
    os.makedirs(folder)
    text = open(page, encoding="utf-8").read()
    found = blocks(text)
    if not found:
        fail("%s: no ```sh block" % name)
    count = 0
    for kind, body in found:
        if kind == "python":
            p = subprocess.run([sys.executable, "-c", body], cwd=folder, env=env, capture_output=True, text=True,
                               timeout=120)
            if p.returncode != 0:
                fail("%s: a python block exited %d:\n%s\n%s%s" % (name, p.returncode, body, p.stdout, p.stderr))
            count += 1
            continue
        for command in commands(body):
            expect = 0
            m = re.search(r"#\s*exits\s+(\d+)\s*$", command)
            if m:
                expect = int(m.group(1))
            if not command.lstrip().startswith("deepnet "):
                fail("%s: not a deepnet command: %s" % (name, command))
                continue
            start = time.time()
            p = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
            count += 1
            if p.returncode != expect:
                fail("%s: exit %d (expected %d): %s\n%s%s" % (name, p.returncode, expect, command, p.stdout[-2000:],
                                                              p.stderr[-2000:]))
            if time.time() - start > 10:
                print("slow (%.1f s): %s" % (time.time() - start, command))
    print("%s: %d commands" % (name, count))
    # The pictures the page shows.
    for path in re.findall(r"!\[[^\]]*\]\(images/([^)]+)\)", text):
        if not path.startswith(name + "/"):
            fail("%s: shows images/%s; its pictures belong under images/%s/" % (name, path, name))
            continue
        made = os.path.join(folder, path[len(name) + 1:])
        committed = os.path.join(ROOT, "docs", "course", "images", path)
        if not os.path.isfile(made):
            fail("%s: its commands do not make %s" % (name, path[len(name) + 1:]))
            continue
        if not open(made, encoding="utf-8", errors="replace").read(200).lstrip().startswith(("<svg", "<?xml")):
            fail("%s: %s is not an SVG" % (name, made))
        if shutil.which("rsvg-convert"):
            p = subprocess.run(["rsvg-convert", "-o", made + ".png", made], capture_output=True, text=True)
            if p.returncode != 0 or os.path.getsize(made + ".png") < 1000:
                fail("%s: rsvg-convert does not render %s: %s" % (name, path, p.stderr))
        if PICTURES:
            os.makedirs(os.path.dirname(committed), exist_ok=True)
            shutil.copyfile(made, committed)
        elif not os.path.isfile(committed):
            fail("%s: docs/course/images/%s is missing (run scripts/course-pictures)" % (name, path))


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    if len(PAGES) < 6:
        fail("expected the six pages of docs/course/, found %d" % len(PAGES))
    bin_dir = os.path.join(WORK, "bin")
    os.makedirs(bin_dir)
    os.symlink(DEEPNET, os.path.join(bin_dir, "deepnet"))
    env = dict(os.environ)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    start = time.time()
    for page in PAGES:
        run_page(page, env)
    print("all pages: %.1f s" % (time.time() - start))
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
