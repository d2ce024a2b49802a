"""peakrun.py - one command under bench/peakrss, for the bench scripts."""
import os
import signal
import subprocess


def peak_run(peakrss, args, errfile, limit=None, cwd=None):
    """Runs args under peakrss, stderr to errfile. Returns (seconds, peak
    KiB, exit status, stderr bytes before peakrss's own line, CPU seconds:
    user plus system of the command and the children it waited for), or None when
    it ran past limit seconds: the command runs in a session of its own,
    so that a timeout stops whatever it started too."""
    with open(errfile, "wb") as fe:
        proc = subprocess.Popen([peakrss] + args, stdout=subprocess.DEVNULL, stderr=fe, cwd=cwd,
                                start_new_session=True)
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
    with open(errfile, "rb") as f:
        text = f.read()
    body, _, last = text.rstrip(b"\n").rpartition(b"\n")
    secs, kib, status, cpu = last.split()
    return float(secs), int(kib), int(status), body, float(cpu)
