// faultline's web UI: the proxies with their live figures and toxics, the
// schedules, and the event stream, from the server that serves this page.
// Plain JavaScript, no build step: the server embeds this file as it is.
//
// Every call goes to /ui/api/..., the API as the page may use it: calls that
// change something carry the page's token (X-Faultline-UI), which the server
// put into the page, and the API token when the server wants one.

const uiToken = document.querySelector('meta[name="faultline-ui-token"]').content;
const tokenRequired = document.querySelector('meta[name="faultline-token-required"]').content;

const state = {
  types: [],            // toxic types with their attributes (GET /faultline/toxic-types)
  proxies: {},          // by name, as GET /proxies shows them
  stats: {},            // last figures by proxy, with the time they came
  rates: {},            // by proxy: {up: [...], down: [...]} bytes per second, last 60 s
  schedules: [],
  cards: {},            // by proxy: its DOM element
};

// ---- talking to the server ---------------------------------------------------

function apiToken() { return sessionStorage.getItem("faultline-api-token") || ""; }

async function call(method, path, body) {
  const headers = { "X-Faultline-UI": uiToken };
  if (apiToken()) headers["Authorization"] = "Bearer " + apiToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/ui/api" + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin",
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).error || text; } catch (_) { /* plain text */ }
    throw new Error(`${method} ${path}: ${response.status} ${message}`.trim());
  }
  return text ? JSON.parse(text) : null;
}

// Where the streams are read. EventSource cannot send headers: with a token
// for reads, it goes in the path (/token/TOKEN/...), as the API allows.
function streamUrl(path) {
  const t = apiToken();
  return "/ui/api" + (t && tokenRequired === "reads" ? "/token/" + encodeURIComponent(t) : "") + path;
}

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = String(error.message || error);
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

async function act(fn) {
  try { await fn(); } catch (e) { showError(e); }
}

// ---- formatting ---------------------------------------------------------------

function bytesPerSecond(n) {
  const units = ["B/s", "kB/s", "MB/s", "GB/s"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(1)) + " " + units[i];
}

function describeAttributes(toxic) {
  return Object.entries(toxic.attributes || {})
    .filter(([, v]) => !(Array.isArray(v) && v.length === 0) && !(v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ");
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// ---- proxies ------------------------------------------------------------------

async function loadProxies() {
  state.proxies = await call("GET", "/proxies");
  renderProxies();
}

function renderProxies() {
  const root = document.getElementById("proxies");
  const names = Object.keys(state.proxies).sort();
  if (names.length === 0) root.replaceChildren(el("p", { class: "muted" }, "No proxies yet. Create one with the API or the CLI."));
  else if (root.querySelector("p")) root.replaceChildren();
  for (const name of Object.keys(state.cards)) {
    if (!state.proxies[name]) { state.cards[name].remove(); delete state.cards[name]; }
  }
  for (const name of names) {
    if (!state.cards[name]) {
      state.cards[name] = makeCard(name);
      root.append(state.cards[name]);
    }
    fillCard(state.cards[name], state.proxies[name]);
  }
  // Keep the cards in name order.
  for (const name of names) root.append(state.cards[name]);
}

function makeCard(name) {
  const card = document.getElementById("proxy-template").content.firstElementChild.cloneNode(true);
  card.dataset.proxy = name;
  card.querySelector(".name").textContent = name;
  card.querySelector(".enabled").addEventListener("change", (e) =>
    act(() => call("POST", "/proxies/" + encodeURIComponent(name), { enabled: e.target.checked }).then(loadProxies)));
  card.querySelector(".add-toxic").addEventListener("click", () => openToxicEditor(card, name, null));
  card.querySelector(".add-flap").addEventListener("click", () => openFlapEditor(card, name));
  card.querySelector(".add-ramp").addEventListener("click", () => openRampEditor(card, name));
  return card;
}

function fillCard(card, proxy) {
  card.classList.toggle("disabled", !proxy.enabled);
  card.querySelector(".enabled").checked = proxy.enabled;
  card.querySelector(".state").textContent = proxy.enabled ? "enabled" : "disabled";
  card.querySelector(".route").textContent = `${proxy.listen} → ${proxy.upstream}`;
  const rows = proxy.toxics.map((t) => {
    const edit = el("button", { class: "small", onclick: () => openToxicEditor(card, proxy.name, t) }, "edit");
    const remove = el("button", { class: "small danger", onclick: () => act(() =>
      call("DELETE", `/proxies/${encodeURIComponent(proxy.name)}/toxics/${encodeURIComponent(t.name)}`).then(loadProxies)) }, "remove");
    return el("tr", { "data-toxic": t.name }, el("td", {}, t.name), el("td", {}, t.type), el("td", {}, t.stream),
              el("td", {}, String(t.toxicity)), el("td", { class: "attrs" }, describeAttributes(t)), el("td", {}, edit, " ", remove));
  });
  const body = card.querySelector(".toxics tbody");
  body.replaceChildren(...rows);
  card.querySelector(".toxics").hidden = rows.length === 0;
}

// ---- live figures -------------------------------------------------------------

function onStats(figures) {
  const now = performance.now();
  for (const [name, f] of Object.entries(figures)) {
    const before = state.stats[name];
    const rates = state.rates[name] || (state.rates[name] = { up: [], down: [] });
    if (before) {
      const seconds = Math.max(0.001, (now - before.at) / 1000);
      rates.up.push(Math.max(0, (f.bytes_upstream - before.bytes_upstream) / seconds));
      rates.down.push(Math.max(0, (f.bytes_downstream - before.bytes_downstream) / seconds));
      if (rates.up.length > 60) { rates.up.shift(); rates.down.shift(); }
    }
    state.stats[name] = { ...f, at: now };
    const card = state.cards[name];
    if (!card) continue;
    card.querySelector(".connections").textContent = String(f.connections);
    card.querySelector(".rate-up").textContent = bytesPerSecond(rates.up.at(-1) || 0);
    card.querySelector(".rate-down").textContent = bytesPerSecond(rates.down.at(-1) || 0);
    drawSpark(card.querySelector(".spark-up polyline"), rates.up);
    drawSpark(card.querySelector(".spark-down polyline"), rates.down);
    if (f.enabled !== state.proxies[name]?.enabled) loadProxies().catch(showError);
  }
}

function drawSpark(line, values) {
  const max = Math.max(1, ...values);
  const step = 120 / 59;
  const offset = 60 - values.length;
  line.setAttribute("points", values.map((v, i) => `${((offset + i) * step).toFixed(1)},${(22 - (v / max) * 18).toFixed(1)}`).join(" "));
}

// ---- editors: toxics, flaps, ramps ----------------------------------------------

function closeEditor(card) {
  const form = card.querySelector(".editor");
  form.hidden = true;
  form.replaceChildren();
}

function field(label, input, help) {
  const nodes = [el("label", {}, label), input];
  if (help) nodes.push(el("div", { class: "help" }, help));
  return nodes;
}

function inputFor(attribute, value) {
  const v = value === undefined ? attribute.default : value;
  if (attribute.type === "enum") {
    return el("select", { name: attribute.name }, ...attribute.choices.map((c) => {
      const o = el("option", { value: c }, c);
      if (c === v) o.selected = true;
      return o;
    }));
  }
  if (attribute.type === "integer" || attribute.type === "number" || attribute.type === "duration") {
    return el("input", { name: attribute.name, type: "number", value: v, step: attribute.type === "number" ? "any" : "1",
                         min: attribute.min, max: attribute.max });
  }
  if (attribute.type === "list" || attribute.type === "CIDR list") {
    return el("input", { name: attribute.name, value: (v || []).join(", "), placeholder: "comma-separated" });
  }
  if (attribute.type === "map") {
    return el("input", { name: attribute.name, value: JSON.stringify(v || {}), placeholder: '{"name": "value"}' });
  }
  return el("input", { name: attribute.name, value: v ?? "" });
}

function readAttribute(attribute, form) {
  const raw = form.elements[attribute.name].value;
  switch (attribute.type) {
    case "integer": case "duration": return raw === "" ? attribute.default : Math.trunc(Number(raw));
    case "number": return raw === "" ? attribute.default : Number(raw);
    case "list": case "CIDR list": return raw.split(",").map((s) => s.trim()).filter(Boolean);
    case "map": return raw.trim() === "" ? {} : JSON.parse(raw);
    default: return raw;
  }
}

function openToxicEditor(card, proxy, toxic) {
  const form = card.querySelector(".editor");
  form.replaceChildren();
  form.hidden = false;
  const typeSelect = el("select", { name: "type" }, ...state.types.map((t) => el("option", { value: t.name }, t.name)));
  if (toxic) { typeSelect.value = toxic.type; typeSelect.disabled = true; }
  const attributesBox = el("div", { class: "attributes", style: "display: contents" });
  const renderAttributes = () => {
    const type = state.types.find((t) => t.name === typeSelect.value);
    attributesBox.replaceChildren(...type.attributes.flatMap((a) =>
      field(a.name + (a.unit ? ` (${a.unit})` : ""), inputFor(a, toxic?.attributes?.[a.name]), a.help)));
    help.textContent = type.help;
  };
  const help = el("div", { class: "help" });
  const stream = el("select", { name: "stream" }, el("option", { value: "downstream" }, "downstream"), el("option", { value: "upstream" }, "upstream"));
  if (toxic) { stream.value = toxic.stream; stream.disabled = true; }
  typeSelect.addEventListener("change", renderAttributes);
  form.append(
    ...field("type", typeSelect), help,
    ...field("name", el("input", { name: "name", value: toxic?.name ?? "", placeholder: "TYPE_STREAM", disabled: toxic ? "" : null })),
    ...field("stream", stream),
    ...field("toxicity", el("input", { name: "toxicity", type: "number", step: "any", min: 0, max: 1, value: toxic?.toxicity ?? 1 })),
    attributesBox,
    el("div", { class: "buttons" },
       el("button", { class: "primary", type: "submit" }, toxic ? "Update toxic" : "Add toxic"),
       el("button", { type: "button", onclick: () => closeEditor(card) }, "Cancel")));
  renderAttributes();
  form.onsubmit = (e) => {
    e.preventDefault();
    act(async () => {
      const type = state.types.find((t) => t.name === typeSelect.value);
      const attributes = {};
      for (const a of type.attributes) attributes[a.name] = readAttribute(a, form);
      const body = { attributes, toxicity: Number(form.elements.toxicity.value) };
      if (toxic) {
        await call("POST", `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic.name)}`, body);
      } else {
        Object.assign(body, { type: type.name, stream: stream.value });
        if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
        await call("POST", `/proxies/${encodeURIComponent(proxy)}/toxics`, body);
      }
      closeEditor(card);
      await loadProxies();
    });
  };
}

function openFlapEditor(card, proxy) {
  const form = card.querySelector(".editor");
  form.replaceChildren();
  form.hidden = false;
  const mode = el("select", { name: "mode" }, ...["refuse", "timeout", "reset"].map((m) => el("option", { value: m }, m)));
  form.append(
    ...field("mode", mode, "refuse: the proxy is disabled while down; timeout or reset: a toxic on both streams"),
    ...field("up", el("input", { name: "up_ms", value: "10s" }), "healthy period (250ms, 10s, 1m)"),
    ...field("down", el("input", { name: "down_ms", value: "5s" }), "impaired period"),
    ...field("iterations", el("input", { name: "iterations", type: "number", min: 0, value: 3 }), "cycles; 0 until cancelled"),
    el("div", { class: "buttons" },
       el("button", { class: "primary", type: "submit" }, "Start flap"),
       el("button", { type: "button", onclick: () => closeEditor(card) }, "Cancel")));
  form.onsubmit = (e) => {
    e.preventDefault();
    act(async () => {
      await call("POST", "/faultline/schedules", {
        proxy, kind: "flap", mode: mode.value, up_ms: form.elements.up_ms.value, down_ms: form.elements.down_ms.value,
        iterations: Number(form.elements.iterations.value),
      });
      closeEditor(card);
      await loadSchedules();
    });
  };
}

function openRampEditor(card, proxy) {
  const form = card.querySelector(".editor");
  form.replaceChildren();
  form.hidden = false;
  const toxics = state.proxies[proxy].toxics.map((t) => t.name);
  const target = el("select", { name: "toxic" }, el("option", { value: "" }, "a new latency toxic"),
                    ...toxics.map((t) => el("option", { value: t }, t)));
  form.append(
    ...field("toxic", target),
    ...field("attribute", el("input", { name: "attribute", value: "latency" }), "any numeric attribute, or toxicity"),
    ...field("from", el("input", { name: "from", type: "number", step: "any", value: 0 })),
    ...field("to", el("input", { name: "to", type: "number", step: "any", value: 500 })),
    ...field("over", el("input", { name: "duration_ms", value: "30s" })),
    el("div", { class: "buttons" },
       el("button", { class: "primary", type: "submit" }, "Start ramp"),
       el("button", { type: "button", onclick: () => closeEditor(card) }, "Cancel")));
  form.onsubmit = (e) => {
    e.preventDefault();
    act(async () => {
      await call("POST", "/faultline/schedules", {
        proxy, kind: "ramp", attribute: form.elements.attribute.value, from: Number(form.elements.from.value),
        to: Number(form.elements.to.value), duration_ms: form.elements.duration_ms.value,
        toxic: target.value || { type: "latency" },
      });
      closeEditor(card);
      await loadSchedules();
    });
  };
}

// ---- schedules ------------------------------------------------------------------

async function loadSchedules() {
  state.schedules = await call("GET", "/faultline/schedules");
  const root = document.getElementById("schedules");
  const active = state.schedules.filter((s) => s.state === "pending" || s.state === "running");
  if (active.length === 0) { root.replaceChildren(el("p", { class: "muted" }, "None running.")); return; }
  root.replaceChildren(...active.map((s) => el("div", { class: "schedule", "data-schedule": s.name },
    el("span", {}, el("b", {}, s.name), ` ${s.kind} on ${s.proxy}: ${s.phase}` + (s.iteration ? `, iteration ${s.iteration + 1}` : "")),
    el("button", { class: "small danger", onclick: () => act(() =>
      call("DELETE", "/faultline/schedules/" + encodeURIComponent(s.name)).then(loadSchedules)) }, "cancel"))));
}

// ---- events -------------------------------------------------------------------

const eventTypes = ["proxy_created", "proxy_updated", "proxy_enabled", "proxy_disabled", "proxy_deleted", "toxic_added",
                    "toxic_updated", "toxic_removed", "connections_cut", "reset", "schedule_started", "schedule_transition",
                    "schedule_finished", "schedule_cancelled", "http_fault", "dropped"];

function describeEvent(e) {
  const parts = [e.proxy, e.toxic, e.schedule, e.phase, e.reason, e.detail && typeof e.detail === "string" ? e.detail : ""];
  return parts.filter(Boolean).join(" · ");
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadProxies().catch(showError); loadSchedules().catch(showError); }, 150);
}

function onEvent(e) {
  const list = document.getElementById("events");
  const time = new Date((e.time_us || Date.now() * 1000) / 1000).toLocaleTimeString();
  list.prepend(el("li", { "data-type": e.type }, el("span", { class: "time" }, time), el("span", { class: "type" }, e.type), " ",
                  describeEvent(e)));
  while (list.children.length > 200) list.lastElementChild.remove();
  if (e.type !== "http_fault") refreshSoon();
}

// ---- streams ------------------------------------------------------------------

function openStreams() {
  const live = document.getElementById("live");
  const stats = new EventSource(streamUrl("/faultline/stats/stream"));
  stats.addEventListener("stats", (m) => onStats(JSON.parse(m.data)));
  stats.onopen = () => { live.textContent = "live"; live.className = "badge on"; };
  stats.onerror = () => { live.textContent = "reconnecting"; live.className = "badge off"; };
  const events = new EventSource(streamUrl("/faultline/events"));
  for (const type of eventTypes) events.addEventListener(type, (m) => onEvent(JSON.parse(m.data)));
}

// ---- start ------------------------------------------------------------------

async function start() {
  if (tokenRequired !== "no") {
    const box = document.getElementById("token-box");
    box.hidden = false;
    const input = document.getElementById("token");
    input.value = apiToken();
    input.addEventListener("change", () => { sessionStorage.setItem("faultline-api-token", input.value); location.reload(); });
  }
  document.getElementById("reset").addEventListener("click", () => {
    if (confirm("Remove every toxic and enable every proxy?")) act(() => call("POST", "/reset").then(refreshSoon));
  });
  document.getElementById("clear-events").addEventListener("click", () => document.getElementById("events").replaceChildren());
  try {
    const server = await call("GET", "/faultline/server");
    document.getElementById("server").textContent = `version ${server.version} · ${server.api.listening.join(", ")}`;
    document.getElementById("warnings").replaceChildren(...server.warnings.map((w) => el("div", {}, w)));
    state.types = await call("GET", "/faultline/toxic-types");
    await loadProxies();
    await loadSchedules();
  } catch (e) {
    showError(e);
  }
  openStreams();
}

start();
