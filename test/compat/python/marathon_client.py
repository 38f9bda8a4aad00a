"""
Drives a cygnet framework with Debian's python3-marathon (thefactory's
marathon-python 0.13), unmodified, and prints one JSON report on stdout.

The client maps response bodies onto fixed constructors (an unknown key in an
app, task, deployment or event plan raises TypeError) and turns an unknown
eventType into an error that ends its event stream: so every call below also
checks that cygnet speaks exactly Marathon's shapes.

usage: /usr/bin/python3 marathon_client.py http://127.0.0.1:PORT
"""
import json
import sys
import threading
import time

from marathon import MarathonClient
from marathon.models import MarathonApp, MarathonHealthCheck
from marathon.models.group import MarathonGroup
from marathon.models.constraint import MarathonConstraint

url = sys.argv[1]
c = MarathonClient(url)
report = {"steps": {}, "events": [], "eventErrors": []}


def step(name, fn):
    try:
        report["steps"][name] = {"ok": True, "value": fn()}
    except Exception as e:  # the report names whatever broke, the test asserts on it
        report["steps"][name] = {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e)[:300])}


def wait_for(pred, timeout_s=30.0):
    end = time.time() + timeout_s
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise TimeoutError("condition not met within %ss" % timeout_s)


def listen():
    try:
        for ev in c.event_stream():
            entry = {"type": ev.event_type, "class": type(ev).__name__}
            if getattr(ev, "id", None) is not None:
                entry["id"] = ev.id
            plan = getattr(ev, "plan", None)
            if plan is not None:
                entry["planId"] = plan.id
                entry["targetApps"] = [a["id"] for a in (plan.target.apps or [])] + [a["id"] for g in (plan.target.groups or []) for a in g.get("apps", [])]
                entry["actions"] = [a.action for s in plan.steps for a in s.actions]
            report["events"].append(entry)
    except Exception as e:
        report["eventErrors"].append("%s: %s" % (type(e).__name__, str(e)[:300]))


threading.Thread(target=listen, daemon=True).start()
time.sleep(0.5)

step("ping", lambda: c.ping().decode())
step("leader", lambda: c.get_leader())
step("create", lambda: c.create_app("/py/web", MarathonApp(
    cmd="sleep 600", cpus=0.01, mem=16, instances=2,
    labels={"HAPROXY_0_VHOST": "py.example"},
    constraints=[MarathonConstraint("hostname", "UNIQUE")],
    health_checks=[MarathonHealthCheck(protocol="COMMAND", command={"value": "true"}, grace_period_seconds=5, interval_seconds=1, max_consecutive_failures=3)],
)).id)
step("running", lambda: wait_for(lambda: (lambda a: a.tasks_running == 2 and not a.deployments and a.tasks_running)(c.get_app("/py/web"))))
step("list_apps", lambda: [a.id for a in c.list_apps(embed_tasks=True, embed_counts=True)])
step("list_tasks", lambda: sorted(t.host for t in c.list_tasks("/py/web")))
step("scale", lambda: sorted(c.scale_app("/py/web", instances=3).keys()))
step("scaled", lambda: wait_for(lambda: c.get_app("/py/web").tasks_running == 3))
step("deployments", lambda: [d.affected_apps for d in c.list_deployments()])
step("versions", lambda: len(c.list_versions("/py/web")))
step("get_version", lambda: c.get_version("/py/web", c.list_versions("/py/web")[-1]).instances)
step("update", lambda: sorted(c.update_app("/py/web", MarathonApp(cmd="sleep 601", cpus=0.01, mem=16, instances=2), force=True).keys()))
step("updated", lambda: wait_for(lambda: (lambda a: a.cmd == "sleep 601" and a.tasks_running == 2 and not a.deployments)(c.get_app("/py/web"))))
step("update_apps", lambda: sorted(c.update_apps([MarathonApp(id="/py/web", cmd="sleep 602", cpus=0.01, mem=16, instances=2), MarathonApp(id="/py/side", cmd="sleep 603", cpus=0.01, mem=16, instances=0)], force=True).keys()))
step("updated_apps", lambda: wait_for(lambda: (lambda a: a.cmd == "sleep 602" and a.tasks_running == 2 and not a.deployments and c.get_app("/py/side").cmd)(c.get_app("/py/web"))))
step("delete_side", lambda: c.delete_app("/py/side", force=True)["deploymentId"] is not None)
step("kill_task", lambda: type(c.kill_task("/py/web", c.list_tasks("/py/web")[0].id)).__name__)
step("kill_task_scale", lambda: sorted(c.kill_task("/py/web", c.list_tasks("/py/web")[0].id, scale=True).keys()))
step("after_kill", lambda: wait_for(lambda: c.get_app("/py/web").instances == 1))
step("groups", lambda: c.get_group("/py").id)
step("queue", lambda: c.list_queue())
step("stuck", lambda: c.create_app("/py/stuck", MarathonApp(cmd="sleep 600", cpus=0.01, mem=16, instances=2, constraints=[MarathonConstraint("rack", "LIKE", "nowhere")])).id)
step("queue_stuck", lambda: wait_for(lambda: [[q.app.id, q.count, q.delay.overdue] for q in c.list_queue()]))
step("stuck_deployment", lambda: [d.affected_apps for d in c.list_deployments() if "/py/stuck" in d.affected_apps])
# Cancelling without force rolls back: the app the deployment started goes away again.
step("cancel_stuck", lambda: sorted(c.delete_deployment([d for d in c.list_deployments() if "/py/stuck" in d.affected_apps][0].id).keys()))
step("stuck_gone", lambda: wait_for(lambda: c.list_queue() == [] and all(a.id != "/py/stuck" for a in c.list_apps()) and "gone"))
# Groups: created, scaled, updated and deleted through the client's group calls.
step("create_group", lambda: sorted(c.create_group(MarathonGroup(id="/pyg", apps=[MarathonApp(id="/pyg/a", cmd="sleep 604", cpus=0.01, mem=8, instances=1)], groups=[MarathonGroup(id="/pyg/inner", apps=[MarathonApp(id="/pyg/inner/b", cmd="sleep 605", cpus=0.01, mem=8, instances=0)])])).keys()))
step("group_running", lambda: wait_for(lambda: (lambda a: a.tasks_running == 1 and not a.deployments and a.tasks_running)(c.get_app("/pyg/a"))))
step("get_group", lambda: [c.get_group("/pyg").id, [a.id for a in c.get_group("/pyg").apps], [g.id for g in c.get_group("/pyg").groups]])
step("scale_group", lambda: sorted(c.scale_group("/pyg", 2).keys()))
step("group_scaled", lambda: wait_for(lambda: c.get_app("/pyg/a").tasks_running == 2 and [c.get_app("/pyg/inner/b").instances]))
step("update_group", lambda: sorted(c.update_group("/pyg", MarathonGroup(apps=[MarathonApp(id="/pyg/a", cmd="sleep 606", cpus=0.01, mem=8, instances=1)]), force=True).keys()))
step("group_updated", lambda: wait_for(lambda: (lambda a: a.cmd == "sleep 606" and a.tasks_running == 1 and not a.deployments and a.cmd)(c.get_app("/pyg/a"))))
step("delete_group", lambda: sorted(c.delete_group("/pyg", force=True).keys()))
step("group_deleted", lambda: wait_for(lambda: all(not a.id.startswith("/pyg/") for a in c.list_apps()) and "gone"))
step("missing_group", lambda: c.get_group("/pyg"))
# An empty group, as Marathon keeps one: created, read back, deleted.
step("create_empty_group", lambda: sorted(c.create_group(MarathonGroup(id="/pyempty")).keys()))
step("get_empty_group", lambda: (lambda g: [g.id, len(g.apps), len(g.groups)])(c.get_group("/pyempty")))
step("delete_empty_group", lambda: sorted(c.delete_group("/pyempty").keys()))
step("missing_empty_group", lambda: c.get_group("/pyempty"))
step("missing", lambda: c.get_app("/nope"))
step("invalid", lambda: c.create_app("/py/bad", MarathonApp(cmd="x", cpus=0.01, mem=-1)))
step("delete", lambda: c.delete_app("/py/web", force=True)["deploymentId"])
step("deleted", lambda: wait_for(lambda: all(a.id != "/py/web" for a in c.list_apps())))
# The event stream arrives on its own thread: wait until the deletion's deployment_success is in.
deletion = report["steps"]["delete"].get("value")
try:
    wait_for(lambda: any(e["type"] == "deployment_success" and e.get("id") == deletion for e in report["events"]) or report["eventErrors"], 15)
except TimeoutError:
    pass
print(json.dumps(report))
