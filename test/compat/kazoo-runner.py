"""Runs kazoo (python3-kazoo, with python3-pure-sasl for SASL) as a test tells it to.

Reads one JSON plan on stdin and prints one JSON line per step on stdout:

  {"clients": {"a": {"hosts": "127.0.0.1:2281",
                     "tls": {"ca": ..., "certfile": ..., "keyfile": ...},      # optional
                     "sasl": {"mechanism": "DIGEST-MD5", "username": ..., "password": ...},  # optional
                     "startTimeout": 8}},  # seconds, optional
   "steps": [["a", "create", "/x", "data", [["x509", "CN=app", "ALL"]]], ["a", "get", "/x"], ...]}

A client connects at its first step; a step's result is {"ok": true, "value": ...} or
{"ok": false, "error": "<kazoo exception class>"}. Ops: connect, create, get, set, delete,
children, exists, get_acls, watch_data, watch_children, events (what the watches saw so far,
waiting up to 5 s for `count` of them), stop.
"""
import json
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.security import make_acl

START_TIMEOUT_S = 8
EVENTS_WAIT_S = 5


def acl_list(spec):
    if spec is None:
        return None
    out = []
    for scheme, ident, perms in spec:
        flags = {p: True for p in perms.lower().split(",")} if perms != "ALL" else {"all": True}
        out.append(make_acl(scheme, ident, **flags))
    return out


class Session:
    def __init__(self, spec):
        kwargs = {"hosts": spec["hosts"], "timeout": 5}
        if "tls" in spec:
            kwargs.update(use_ssl=True, **spec["tls"])
        if "sasl" in spec:
            kwargs["sasl_options"] = dict(spec["sasl"])
        self.client = KazooClient(**kwargs)
        self.events = []
        self.cond = threading.Condition()
        self.started = False
        self.start_timeout = spec.get("startTimeout", START_TIMEOUT_S)

    def ensure_started(self):
        if not self.started:
            self.client.start(timeout=self.start_timeout)
            self.started = True

    def record(self, kind):
        def watcher(event):
            with self.cond:
                self.events.append([kind, event.type, event.path])
                self.cond.notify_all()
        return watcher

    def wait_events(self, count):
        deadline = time.time() + EVENTS_WAIT_S
        with self.cond:
            while len(self.events) < count and time.time() < deadline:
                self.cond.wait(deadline - time.time())
            return list(self.events)


def stat_json(stat):
    return {"version": stat.version, "aversion": stat.aversion, "numChildren": stat.numChildren, "dataLength": stat.dataLength}


def run_step(sessions, step):
    name, op, args = step[0], step[1], step[2:]
    s = sessions[name]
    if op == "stop":
        if s.started:
            s.client.stop()
            s.client.close()
        return None
    s.ensure_started()
    c = s.client
    if op == "connect":
        return c.client_id is not None
    if op == "create":
        path, data = args[0], args[1].encode()
        acl = acl_list(args[2]) if len(args) > 2 else None
        return c.create(path, data, acl=acl)
    if op == "get":
        data, stat = c.get(args[0])
        return {"data": data.decode(), "stat": stat_json(stat)}
    if op == "set":
        return stat_json(c.set(args[0], args[1].encode()))
    if op == "delete":
        c.delete(args[0])
        return None
    if op == "children":
        return sorted(c.get_children(args[0]))
    if op == "exists":
        stat = c.exists(args[0])
        return None if stat is None else stat_json(stat)
    if op == "get_acls":
        acls, _ = c.get_acls(args[0])
        return sorted([[a.id.scheme, a.id.id, a.perms] for a in acls])
    if op == "watch_data":
        c.get(args[0], watch=s.record("data"))
        return None
    if op == "watch_children":
        c.get_children(args[0], watch=s.record("child"))
        return None
    if op == "events":
        return s.wait_events(args[0])
    raise ValueError("unknown op " + op)


def main():
    plan = json.load(sys.stdin)
    sessions = {name: Session(spec) for name, spec in plan["clients"].items()}
    try:
        for step in plan["steps"]:
            try:
                value = run_step(sessions, step)
                out = {"ok": True, "value": value}
            except Exception as e:  # the test asserts on the class name
                out = {"ok": False, "error": type(e).__name__}
            print(json.dumps(out), flush=True)
    finally:
        for s in sessions.values():
            if s.started:
                try:
                    s.client.stop()
                    s.client.close()
                except Exception:
                    pass


if __name__ == "__main__":
    main()
