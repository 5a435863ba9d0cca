"""What scripts/bench/benchmark measures around a command: wall time, the command's CPU (user +
sys of its process tree, from getrusage), Dovecot's CPU over the same interval (/proc) and
the command's peak RSS. Imported by the benchmark's Python parts."""

import os
import resource
import subprocess
import time


def dovecot_cpu():
    """CPU seconds of every Dovecot process, the master's reaped children included."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if b"mailgauge-dovecot" not in cmd and not stat.split("(")[1].startswith(
                ("dovecot", "imap", "auth", "anvil", "log", "config", "stats", "doveadm")):
            continue
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += utime + stime + cutime + cstime
    return total / hz


def measure(label, argv, work):
    """Runs argv once; prints and returns (wall, client CPU, Dovecot CPU) in seconds."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = dovecot_cpu()
    start = time.monotonic()
    rss_file = f"{work}/rss"
    status = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    wall = time.monotonic() - start
    rss_mb = int(open(rss_file).read().split()[-1]) / 1024
    server = dovecot_cpu() - server_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime - before_children.ru_utime) + (after.ru_stime - before_children.ru_stime)
    print(f"{label:<22} {wall:7.2f} s wall {client:7.2f} s client CPU {server:7.2f} s Dovecot CPU {rss_mb:7.1f} MB peak RSS exit {status}")
    return wall, client, server
