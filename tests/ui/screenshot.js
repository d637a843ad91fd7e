// Makes docs/ui.png: the demo setup with traffic, a few toxics, a flap and
// HTTP faults, as the web UI shows it. Not a test; run by hand:
//   node tests/ui/screenshot.js build/release/src/faultline-server docs/ui.png
"use strict";
const net = require("node:net");
const { spawn } = require("node:child_process");
const { chromium } = require("playwright-core");

const [server, out] = process.argv.slice(2);
const api = "http://127.0.0.1:28490";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const call = (method, path, body) => fetch(api + path, { method, body: body && JSON.stringify(body) });

(async () => {
  const proc = spawn(server, ["-port", "28490", "-config", "examples/demo.json", "-demo-upstreams", "-quiet"], { stdio: "ignore" });
  try {
    for (let i = 0; i < 100; i++) { try { if ((await fetch(api + "/version")).ok) break; } catch (_) { await sleep(50); } }
    await call("POST", "/proxies/demo_http/toxics", { type: "http_error", toxicity: 0.2, attributes: { path: "/api/*", status: 503 } });
    await call("POST", "/proxies/demo_http/toxics", { type: "latency", attributes: { latency: 40, jitter: 10 } });
    await call("POST", "/proxies/demo_echo/toxics", { type: "bandwidth", attributes: { rate: 400 } });
    await call("POST", "/faultline/schedules", { proxy: "demo_echo", kind: "flap", mode: "timeout", up_ms: "4s", down_ms: "2s", iterations: 20 });
    const echo = net.connect(26001, "127.0.0.1");
    echo.on("data", () => {}); echo.on("error", () => {});
    const pump = setInterval(() => echo.write(Buffer.alloc(30000, 97)), 50);
    const web = setInterval(() => { fetch("http://127.0.0.1:26000/api/items").catch(() => {}); }, 30);
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(api + "/ui");
    await sleep(12000);
    await page.screenshot({ path: out });
    await browser.close();
    clearInterval(pump); clearInterval(web); echo.destroy();
  } finally {
    proc.kill("SIGTERM");
  }
})();
