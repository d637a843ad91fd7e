// Compatibility: the npm package toxiproxy-node-client, unchanged, drives
// faultline-server through proxies, toxics, populate and reset, and the
// effects are checked on real connections.
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const { spawn } = require("node:child_process");
const { Toxiproxy, ToxiproxyError } = require("toxiproxy-node-client");

const SERVER = process.env.FAULTLINE_SERVER;
let server;
let apiUrl;
let echo;
let echoPort;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForApi(url) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/version`);
      if (r.ok) return;
    } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("faultline-server did not start");
}

// Sends `message` through host:port and resolves with the echo and how long it took.
function roundTrip(port, message) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    socket.setTimeout(5000, () => reject(new Error("timed out")));
    socket.on("connect", () => socket.write(message));
    socket.on("data", (d) => {
      got += d.toString();
      if (got.length >= message.length) {
        socket.end();
        resolve({ text: got, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      }
    });
    socket.on("error", reject);
  });
}

function connectOutcome(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => { socket.destroy(); resolve("connected"); });
    socket.on("error", (e) => resolve(e.code));
  });
}

function listenPort(proxy) {
  return Number(proxy.listen.split(":").pop());
}

before(async () => {
  assert.ok(SERVER, "set FAULTLINE_SERVER to the faultline-server binary");
  echo = net.createServer((s) => s.pipe(s));
  await new Promise((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = echo.address().port;
  const apiPort = await freePort();
  server = spawn(SERVER, ["-host", "127.0.0.1", "-port", String(apiPort)], { stdio: "ignore" });
  apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitForApi(apiUrl);
});

after(async () => {
  if (server) server.kill("SIGTERM");
  if (echo) echo.close();
});

test("version answers", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const version = await toxiproxy.getVersion();
  assert.match(version, /"version"/);
});

test("create, get, list, forward and remove a proxy", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const proxy = await toxiproxy.createProxy({ name: "node_echo", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
  assert.equal(proxy.name, "node_echo");
  assert.equal(proxy.enabled, true);
  assert.notEqual(listenPort(proxy), 0);
  const fetched = await toxiproxy.get("node_echo");
  assert.equal(fetched.listen, proxy.listen);
  const all = await toxiproxy.getAll();
  assert.ok("node_echo" in all);
  const echoed = await roundTrip(listenPort(proxy), "ping through faultline");
  assert.equal(echoed.text, "ping through faultline");
  await proxy.remove();
  await assert.rejects(toxiproxy.get("node_echo"), ToxiproxyError);
});

test("a duplicate proxy is refused with an error", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const body = { name: "node_dup", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` };
  const proxy = await toxiproxy.createProxy(body);
  await assert.rejects(toxiproxy.createProxy(body), /409/);
  await proxy.remove();
});

test("latency toxic: add, read back, feel it, update, remove", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const proxy = await toxiproxy.createProxy({ name: "node_latency", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
  const port = listenPort(proxy);
  const toxic = await proxy.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } });
  assert.equal(toxic.name, "slow");
  assert.equal(toxic.attributes.latency, 300);
  const slow = await roundTrip(port, "x");
  assert.ok(slow.ms >= 280, `expected >= 280 ms, took ${slow.ms}`);
  assert.ok(slow.ms < 1500, `expected < 1500 ms, took ${slow.ms}`);

  const readBack = await proxy.getToxic("slow");
  assert.equal(readBack.type, "latency");
  assert.equal(readBack.stream, "downstream");

  const updated = await toxic.update({ toxicity: 1, attributes: { latency: 0, jitter: 0 } });
  assert.equal(updated.attributes.latency, 0);
  const fast = await roundTrip(port, "y");
  assert.ok(fast.ms < 250, `latency 0 should be fast, took ${fast.ms}`);

  await toxic.remove();
  await assert.rejects(proxy.getToxic("slow"), ToxiproxyError);
  await proxy.remove();
});

test("disable refuses connections and enable restores them", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const proxy = await toxiproxy.createProxy({ name: "node_toggle", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
  const port = listenPort(proxy);
  const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(disabled.enabled, false);
  assert.equal(await connectOutcome(port), "ECONNREFUSED");
  const enabled = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(enabled.enabled, true);
  assert.equal((await roundTrip(port, "back")).text, "back");
  await proxy.remove();
});

test("populate creates proxies and keeps unchanged ones", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const a = await freePort();
  const b = await freePort();
  const created = await toxiproxy.populate([
    { name: "node_pop_a", listen: `127.0.0.1:${a}`, upstream: `127.0.0.1:${echoPort}` },
    { name: "node_pop_b", listen: `127.0.0.1:${b}`, upstream: `127.0.0.1:${echoPort}` },
  ]);
  assert.deepEqual(Object.keys(created).sort(), ["node_pop_a", "node_pop_b"]);
  assert.equal((await roundTrip(a, "a")).text, "a");
  await created.node_pop_a.addToxic({ name: "kept", type: "latency", stream: "upstream", toxicity: 1, attributes: { latency: 1, jitter: 0 } });
  const again = await toxiproxy.populate([{ name: "node_pop_a", listen: `127.0.0.1:${a}`, upstream: `127.0.0.1:${echoPort}` }]);
  assert.equal(again.node_pop_a.enabled, true);
  const stillThere = await (await toxiproxy.get("node_pop_a")).getToxic("kept");
  assert.equal(stillThere.name, "kept");
  await created.node_pop_a.remove();
  await created.node_pop_b.remove();
});

test("reset removes every toxic and re-enables proxies", async () => {
  const toxiproxy = new Toxiproxy(apiUrl);
  const proxy = await toxiproxy.createProxy({ name: "node_reset", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
  await proxy.addToxic({ name: "cut", type: "timeout", stream: "upstream", toxicity: 1, attributes: { timeout: 0 } });
  await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  await toxiproxy.reset();
  const after = await toxiproxy.get("node_reset");
  assert.equal(after.enabled, true);
  await assert.rejects(after.getToxic("cut"), ToxiproxyError);
  assert.equal((await roundTrip(listenPort(after), "clean")).text, "clean");
  await after.remove();
});

// A server that wants a token (-api-token): the client, unchanged, works when
// the token is the first segments of its base URL (it only takes a base URL,
// and Node's fetch refuses credentials in a URL); without it, changes are refused.
test("with -api-token, the token in the base URL's path", async () => {
  const token = "node-client-token";
  const apiPort = await freePort();
  const guarded = spawn(SERVER, ["-host", "127.0.0.1", "-port", String(apiPort), "-api-token", token], { stdio: "ignore" });
  try {
    const url = `http://127.0.0.1:${apiPort}`;
    await waitForApi(url);
    const anonymous = new Toxiproxy(url);
    await assert.rejects(anonymous.createProxy({ name: "guarded", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` }),
                         /401/);
    const toxiproxy = new Toxiproxy(`${url}/token/${token}`);
    const proxy = await toxiproxy.createProxy({ name: "guarded", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
    await proxy.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 200, jitter: 0 } });
    const slow = await roundTrip(listenPort(proxy), "token");
    assert.ok(slow.ms >= 190, `latency applied through the token URL (${slow.ms} ms)`);
    await proxy.remove();
  } finally {
    guarded.kill("SIGTERM");
  }
});
