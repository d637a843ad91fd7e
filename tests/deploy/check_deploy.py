#!/usr/bin/env python3
"""Checks what users deploy faultline with, offline, on this machine:

  - the install tree (`cmake --install`): both binaries run, docs and
    examples are in place;
  - the container entry point (deploy/container/entrypoint.sh) starts the
    server the way the image promises, with a stub server;
  - the Dockerfile: multi-stage, non-root, port, health check, the
    /toxiproxy and /toxiproxy-cli names, every file it copies exists, and
    its runtime packages provide every library the server links;
  - the Compose examples, the Kubernetes manifests and the Helm chart:
    yamllint, then a schema check of our own (no cluster and no helm here):
    references that must match (depends_on, selectors, ports, probes, the
    values a template reads), security settings;
  - every faultline config they carry passes `faultline-server -check-config`.

  tests/deploy/check_deploy.py --server BIN --cli BIN --build-dir DIR
Prints one line per check; exits 1 if any failed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def path(*parts):
    return os.path.join(ROOT, *parts)


def load_yaml_documents(file):
    with open(file) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- configs ------------------------------------------------------------------

def check_config_text(server, text, suffix, label):
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False) as f:
        f.write(text)
        name = f.name
    try:
        r = subprocess.run([server, "-check-config", "-config", name], capture_output=True, text=True, timeout=30)
        check(f"config loads: {label}", r.returncode == 0 and ": ok," in r.stdout, (r.stdout + r.stderr).strip())
    finally:
        os.unlink(name)


# ---- install tree and entry point ----------------------------------------------

def check_install_tree(build_dir):
    with tempfile.TemporaryDirectory() as prefix:
        r = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix], capture_output=True, text=True, timeout=120)
        check("cmake --install", r.returncode == 0, r.stderr[-500:])
        server, cli = os.path.join(prefix, "bin", "faultline-server"), os.path.join(prefix, "bin", "faultline")
        for binary, flag in ((server, "-version"), (cli, "--version")):
            ok = os.access(binary, os.X_OK)
            out = subprocess.run([binary, flag], capture_output=True, text=True, timeout=30).stdout if ok else ""
            check(f"installed {os.path.basename(binary)} runs", ok and "version" in out, out)
        doc = os.path.join(prefix, "share", "doc", "faultline")
        for f in ("README.md", "security.md", "ui.md", "http-faults.md", "ui.png", "examples/demo.json",
                  "examples/compose/memcached/docker-compose.yml"):
            check(f"installed doc {f}", os.path.isfile(os.path.join(doc, f)))


def check_entrypoint():
    with tempfile.TemporaryDirectory() as d:
        stub = os.path.join(d, "server")
        with open(stub, "w") as f:
            f.write('#!/bin/sh\necho "server $*"\n')
        os.chmod(stub, 0o755)
        env = dict(os.environ, FAULTLINE_SERVER_BIN=stub)
        entry = path("deploy", "container", "entrypoint.sh")
        cases = [([], "server -host 0.0.0.0"),
                 (["-config", "/etc/f.json"], "server -host 0.0.0.0 -config /etc/f.json"),
                 (["-host", "127.0.0.1", "-port", "9000"], "server -host 127.0.0.1 -port 9000"),
                 (["--host=::", "-seed", "1"], "server --host=:: -seed 1"),
                 (["echo", "a command"], "a command")]
        for args, expected in cases:
            out = subprocess.run([entry, *args], capture_output=True, text=True, env=env, timeout=10).stdout.strip()
            check(f"entrypoint {' '.join(args) or '(no arguments)'}", out == expected, f"got {out!r}, expected {expected!r}")


def check_dockerfile(server):
    text = open(path("Dockerfile")).read()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    check("Dockerfile is multi-stage on a slim Debian", len(stages) == 2 and all("bookworm-slim" in s[0] for s in stages), str(stages))
    check("Dockerfile runs as a non-root user", re.search(r"^USER\s+10001", text, re.M) is not None)
    check("Dockerfile exposes 8474", re.search(r"^EXPOSE\s+8474\b", text, re.M) is not None)
    check("Dockerfile has a health check on the API", re.search(r"^HEALTHCHECK .*8474/faultline/ready", text, re.M) is not None)
    check("Dockerfile names the server /toxiproxy and the CLI /toxiproxy-cli",
          "/usr/bin/faultline-server /toxiproxy" in text and "/usr/bin/faultline /toxiproxy-cli" in text)
    check("Dockerfile's entry point is the script", 'ENTRYPOINT ["/usr/local/bin/faultline-entrypoint"]' in text)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for item in source.split():
            check(f"Dockerfile copies {item}, which exists", os.path.exists(path(item)))
    # Every shared library the server needs comes from a package the runtime stage installs (or the base has).
    runtime = text.split("AS runtime", 1)[1]
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+)\b", runtime.split("rm -rf", 1)[0]))
    base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}  # in every Debian image (Priority: required)
    libs = re.findall(r"=> (\S+)", subprocess.run(["ldd", server], capture_output=True, text=True).stdout)
    for lib in libs:
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True).stdout.split(":")[0]
        if not owner:
            owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True).stdout.split(":")[0]
        if "asan" in owner or "ubsan" in owner or "tsan" in owner:
            continue  # sanitizer builds link their runtimes; the image is a release build
        check(f"runtime stage provides {os.path.basename(lib)} ({owner})", owner in installed | base or owner.startswith("libssl3") and "libssl3" in installed)


# ---- Compose ------------------------------------------------------------------

def check_compose(server):
    for example in sorted(os.listdir(path("examples", "compose"))):
        folder = path("examples", "compose", example)
        file = os.path.join(folder, "docker-compose.yml")
        doc = load_yaml_documents(file)[0]
        services = doc.get("services", {})
        check(f"compose {example}: has services", len(services) >= 3)
        for name, svc in services.items():
            check(f"compose {example}/{name}: image or build", "image" in svc or "build" in svc)
            for dep, cond in (svc.get("depends_on") or {}).items():
                check(f"compose {example}/{name}: depends on {dep}, which exists", dep in services)
                cond = cond.get("condition") if isinstance(cond, dict) else None
                if cond == "service_healthy":
                    check(f"compose {example}/{name}: {dep} has a health check", "healthcheck" in services.get(dep, {}))
            for volume in svc.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith("."):
                    check(f"compose {example}/{name}: mounts {source}, which exists", os.path.exists(os.path.join(folder, source)))
            if "build" in svc:
                check(f"compose {example}/{name}: builds from the repository's Dockerfile",
                      os.path.isfile(os.path.join(folder, svc["build"], "Dockerfile")))
        faultline = services.get("faultline", {})
        check(f"compose {example}: faultline has a health check", "healthcheck" in faultline)
        for f in os.listdir(folder):
            if f.startswith("faultline.") and f.endswith((".json", ".yaml")):
                check_config_text(server, open(os.path.join(folder, f)).read(), os.path.splitext(f)[1], f"compose {example}/{f}")


# ---- Kubernetes ----------------------------------------------------------------

def check_pod_spec(label, spec, probes=True):
    check(f"{label}: no service account token", spec.get("automountServiceAccountToken") is False)
    pod_sc = spec.get("securityContext", {})
    check(f"{label}: runs as non-root", pod_sc.get("runAsNonRoot") is True and pod_sc.get("runAsUser", 0) != 0)
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        check(f"{label}/{c['name']}: read-only root filesystem", sc.get("readOnlyRootFilesystem") is True)
        check(f"{label}/{c['name']}: no privilege escalation", sc.get("allowPrivilegeEscalation") is False)
        check(f"{label}/{c['name']}: drops every capability", sc.get("capabilities", {}).get("drop") == ["ALL"])
        check(f"{label}/{c['name']}: has resources", "requests" in c.get("resources", {}) and "limits" in c.get("resources", {}))
        if probes:
            check(f"{label}/{c['name']}: liveness probe on /faultline/health", c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/faultline/health")
            check(f"{label}/{c['name']}: readiness probe on /faultline/ready", c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/faultline/ready")
        mounts = {m["name"] for m in c.get("volumeMounts", [])}
        volumes = {v["name"] for v in spec.get("volumes", [])}
        check(f"{label}/{c['name']}: every mount has a volume", mounts <= volumes, str(mounts - volumes))


def check_kubernetes(server):
    docs = {}
    for f in sorted(os.listdir(path("deploy", "kubernetes"))):
        for d in load_yaml_documents(path("deploy", "kubernetes", f)):
            if "kind" in d:
                check(f"kubernetes {f}: {d['kind']} has apiVersion and metadata.name", "apiVersion" in d and "name" in d.get("metadata", {}))
                docs[(d["kind"], d["metadata"]["name"])] = d
    deployment = docs[("Deployment", "faultline")]
    pod = deployment["spec"]["template"]
    check("kubernetes: the Deployment's selector matches its pods", deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items())
    check_pod_spec("kubernetes Deployment", pod["spec"])
    container = pod["spec"]["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    service = docs[("Service", "faultline")]
    check("kubernetes: the Service selects the pods", service["spec"]["selector"].items() <= pod["metadata"]["labels"].items())
    for p in service["spec"]["ports"]:
        check(f"kubernetes: Service port {p['name']} targets a container port", p["targetPort"] in port_names)
    monitor = docs[("ServiceMonitor", "faultline")]
    check("kubernetes: the ServiceMonitor selects the Service", monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items())
    check("kubernetes: the ServiceMonitor scrapes the API port", all(e["port"] in {p["name"] for p in service["spec"]["ports"]} for e in monitor["spec"]["endpoints"]))
    config = docs[("ConfigMap", "faultline-config")]["data"]["config.json"]
    proxies = json.loads(config)
    check_config_text(server, config, ".json", "kubernetes faultline-config")
    for p in proxies:
        port = int(p["listen"].rsplit(":", 1)[1])
        check(f"kubernetes: proxy {p['name']}'s port {port} is a container port", port in port_names.values())
    sidecar = docs[("ConfigMap", "faultline-sidecar-config")]["data"]["config.json"]
    check_config_text(server, sidecar, ".json", "kubernetes faultline-sidecar-config")
    patch = load_yaml_documents(path("deploy", "kubernetes", "sidecar-patch.yaml"))[0]["spec"]["template"]["spec"]
    check("kubernetes sidecar: hostAliases route the store to the pod's loopback", patch["hostAliases"][0]["ip"] == "127.0.0.1")
    for c in patch["containers"]:
        sc = c["securityContext"]
        check("kubernetes sidecar: non-root, read-only, no capabilities",
              sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("capabilities", {}).get("drop") == ["ALL"])


# ---- Helm ------------------------------------------------------------------------

def check_helm(server):
    chart = path("deploy", "helm", "faultline")
    meta = load_yaml_documents(os.path.join(chart, "Chart.yaml"))[0]
    check("helm Chart.yaml: apiVersion v2, name, version, appVersion",
          meta.get("apiVersion") == "v2" and meta.get("name") == "faultline" and "version" in meta and "appVersion" in meta)
    values = load_yaml_documents(os.path.join(chart, "values.yaml"))[0]
    for template in sorted(os.listdir(os.path.join(chart, "templates"))):
        text = open(os.path.join(chart, "templates", template)).read()
        check(f"helm {template}: braces balanced", text.count("{{") == text.count("}}"))
        for ref in sorted(set(re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text))):
            node = values
            for key in ref.strip(".").split("."):
                node = node.get(key) if isinstance(node, dict) else None
            check(f"helm {template}: .Values{ref} is in values.yaml", node is not None)
    check_config_text(server, json.dumps(values["proxies"]), ".json", "helm values.proxies")
    deployment = open(os.path.join(chart, "templates", "deployment.yaml")).read()
    for needle in ("/faultline/health", "/faultline/ready", "readOnlyRootFilesystem: true", "runAsNonRoot: true", 'drop: ["ALL"]'):
        check(f"helm deployment.yaml has {needle}", needle in deployment)


def yamllint(files):
    config = ("{extends: default, rules: {line-length: {max: 160}, document-start: disable, "
              "truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}, indentation: {indent-sequences: whatever}}}")
    r = subprocess.run(["yamllint", "-f", "parsable", "-d", config, *files], capture_output=True, text=True)
    check(f"yamllint on {len(files)} files", r.returncode == 0, r.stdout[-2000:])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--cli", required=True)
    p.add_argument("--build-dir", required=True)
    o = p.parse_args()
    if not shutil.which("yamllint"):
        sys.exit("yamllint is not installed (scripts/setup.sh installs it)")
    files = [os.path.join(d, f) for d in (path("deploy", "kubernetes"),) for f in os.listdir(d)]
    files += [path("deploy", "helm", "faultline", f) for f in ("Chart.yaml", "values.yaml")]
    for example in os.listdir(path("examples", "compose")):
        folder = path("examples", "compose", example)
        files += [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".yml", ".yaml"))]
    yamllint(sorted(files))
    check_install_tree(o.build_dir)
    check_entrypoint()
    check_dockerfile(o.server)
    check_compose(o.server)
    check_kubernetes(o.server)
    check_helm(o.server)
    print(f"{len(failures)} failed" if failures else "all deployment checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
