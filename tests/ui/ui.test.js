// faultline's web UI in Debian's headless Chromium, driven by playwright-core,
// against a real faultline-server with real traffic: the proxy's figures move,
// a latency toxic added through the form is in the API and on the data path,
// a proxy disabled from the page refuses clients, and a page of another
// origin cannot change anything. Screenshots go to $SCREENSHOTS when set.
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const path = require("node:path");
const { spawn } = require("node:child_process");
const { chromium } = require("playwright-core");

const SERVER = process.env.FAULTLINE_SERVER;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOTS || "";
let server, browser, echo, echoPort, apiPort, api, proxyPort;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(what, check, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function apiCall(method, p, body) {
  const r = await fetch(api + p, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

function roundTrip(port, message) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    socket.setTimeout(5000, () => reject(new Error("timed out")));
    socket.on("connect", () => socket.write(message));
    socket.on("data", (d) => {
      got += d;
      if (got.length >= message.length) { socket.end(); resolve(Number(process.hrtime.bigint() - started) / 1e6); }
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

// A client that keeps bytes flowing through the proxy until stopped.
function steadyTraffic(port) {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("data", () => {});
  socket.on("error", () => {});
  const timer = setInterval(() => socket.write(Buffer.alloc(20000, 120)), 50);
  return () => { clearInterval(timer); socket.destroy(); };
}

before(async () => {
  assert.ok(SERVER, "set FAULTLINE_SERVER to the faultline-server binary");
  echo = net.createServer((s) => { s.on("error", () => {}); s.pipe(s); });
  await new Promise((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = echo.address().port;
  apiPort = await freePort();
  server = spawn(SERVER, ["-host", "127.0.0.1", "-port", String(apiPort)], { stdio: "ignore" });
  api = `http://127.0.0.1:${apiPort}`;
  await until("the API", async () => (await fetch(api + "/version").catch(() => null))?.ok);
  proxyPort = await freePort();
  const created = await apiCall("POST", "/proxies", { name: "web", listen: `127.0.0.1:${proxyPort}`, upstream: `127.0.0.1:${echoPort}` });
  assert.equal(created.status, 201);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill("SIGTERM");
  if (echo) echo.close();
});

async function screenshot(page, name) {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });
}

test("the page shows the proxy and its figures move with traffic", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(api + "/ui");
  const card = page.locator('article.proxy[data-proxy="web"]');
  await card.waitFor();
  assert.match(await card.locator(".route").textContent(), new RegExp(`127.0.0.1:${proxyPort} → 127.0.0.1:${echoPort}`));
  await until("the live badge", async () => (await page.locator("#live").textContent()) === "live");
  const stop = steadyTraffic(proxyPort);
  try {
    await until("a connection shown", async () => (await card.locator(".connections").textContent()) === "1");
    await until("throughput shown", async () => !/^0 B\/s$/.test(await card.locator(".rate-up").textContent()));
    await until("a sparkline of a few seconds", async () =>
      (await card.locator(".spark-up polyline").getAttribute("points")).split(" ").length >= 4);
    await screenshot(page, "ui.png");
  } finally {
    stop();
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("a latency toxic added through the form is in the API and on the data path", async () => {
  const page = await browser.newPage();
  await page.goto(api + "/ui");
  const card = page.locator('article.proxy[data-proxy="web"]');
  await card.waitFor();
  await card.locator(".add-toxic").click();
  const form = card.locator("form.editor");
  await form.locator('select[name="type"]').selectOption("latency");
  await form.locator('input[name="latency"]').fill("300");
  await form.locator('button[type="submit"]').click();
  await card.locator('tr[data-toxic="latency_downstream"]').waitFor();
  const toxics = (await apiCall("GET", "/proxies/web/toxics")).json;
  assert.equal(toxics.length, 1);
  assert.equal(toxics[0].type, "latency");
  assert.equal(toxics[0].attributes.latency, 300);
  const ms = await roundTrip(proxyPort, "through the form");
  assert.ok(ms >= 290, `the round trip took ${ms} ms`);
  // The event log shows it.
  await page.locator('#events li[data-type="toxic_added"]').first().waitFor();
  // Edit it from the table: 50 ms.
  await card.locator('tr[data-toxic="latency_downstream"] button', { hasText: "edit" }).click();
  await form.locator('input[name="latency"]').fill("50");
  await form.locator('button[type="submit"]').click();
  await until("the update", async () => (await apiCall("GET", "/proxies/web/toxics/latency_downstream")).json.attributes.latency === 50);
  await screenshot(page, "ui-toxic.png");
  await card.locator('tr[data-toxic="latency_downstream"] button', { hasText: "remove" }).click();
  await until("the removal", async () => (await apiCall("GET", "/proxies/web/toxics")).json.length === 0);
  await page.close();
});

test("a proxy disabled from the page refuses clients", async () => {
  const page = await browser.newPage();
  await page.goto(api + "/ui");
  const card = page.locator('article.proxy[data-proxy="web"]');
  await card.waitFor();
  await card.locator("input.enabled").uncheck();
  await until("the proxy disabled", async () => (await apiCall("GET", "/proxies/web")).json.enabled === false);
  assert.equal(await connectOutcome(proxyPort), "ECONNREFUSED");
  await card.locator("input.enabled").check();
  await until("the proxy enabled", async () => (await apiCall("GET", "/proxies/web")).json.enabled === true);
  assert.equal(await connectOutcome(proxyPort), "connected");
  await page.close();
});

test("a page of another origin cannot change anything", async () => {
  // localhost and 127.0.0.1 are different origins for the browser.
  const page = await browser.newPage();
  await page.goto(`http://localhost:${apiPort}/ui`);
  const outcome = await page.evaluate(async (target) => {
    const results = {};
    // A fetch with the UI's header needs a CORS preflight the server never grants.
    try {
      const token = document.querySelector('meta[name="faultline-ui-token"]').content;
      await fetch(target + "/ui/api/proxies/web", { method: "POST", headers: { "X-Faultline-UI": token }, body: '{"enabled":false}' });
      results.withHeader = "sent";
    } catch (e) {
      results.withHeader = "blocked";
    }
    // A simple request goes out without the header (as a form would): the server refuses it.
    await fetch(target + "/ui/api/proxies/web", { method: "POST", mode: "no-cors", body: '{"enabled":false}' }).catch(() => {});
    await fetch(target + "/proxies/web", { method: "POST", mode: "no-cors", body: '{"enabled":false}' }).catch(() => {});
    return results;
  }, api);
  assert.equal(outcome.withHeader, "blocked");
  assert.equal((await apiCall("GET", "/proxies/web")).json.enabled, true, "nothing changed");
  await page.close();
  // The same calls without a browser: refused with 403 and a reason.
  const noToken = await fetch(api + "/ui/api/reset", { method: "POST" });
  assert.equal(noToken.status, 403);
  const page2 = await browser.newPage();
  await page2.goto(api + "/ui");
  const token = await page2.locator('meta[name="faultline-ui-token"]').getAttribute("content");
  await page2.close();
  const foreign = await fetch(api + "/ui/api/reset", { method: "POST", headers: { "X-Faultline-UI": token, Origin: "http://evil.example" } });
  assert.equal(foreign.status, 403);
  assert.match(await foreign.text(), /other origins/);
  const crossSite = await fetch(api + "/ui/api/reset", { method: "POST", headers: { "X-Faultline-UI": token, "Sec-Fetch-Site": "cross-site" } });
  assert.equal(crossSite.status, 403);
  const browserOnApi = await fetch(api + "/proxies/web", { method: "POST", headers: { "User-Agent": "Mozilla/5.0" }, body: '{"enabled":false}' });
  assert.equal(browserOnApi.status, 403, "the Toxiproxy API still refuses browsers");
  const ok = await fetch(api + "/ui/api/reset", { method: "POST", headers: { "X-Faultline-UI": token, Origin: api } });
  assert.equal(ok.status, 204, "the page's own call goes through");
});
