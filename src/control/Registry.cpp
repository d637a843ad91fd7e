#include "control/Registry.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "log/Log.h"
#include "model/ApiError.h"
#include "net/ListenSocket.h"
#include "net/SocketAddress.h"
#include "util/Random.h"

namespace faultline {
namespace {

std::string describe_attributes(const ToxicSpec& t) {
  std::string text;
  for (const auto& [k, v] : t.attributes) {
    if (!text.empty()) text += ' ';
    text += k + "=" + std::to_string(v);
  }
  return text;
}

}  // namespace

std::string canonical_listen_address(const std::string& listen) {
  std::string error;
  auto hp = net::split_host_port(listen, error);
  if (!hp) return listen;
  auto port = net::parse_port(hp->port, error);
  if (!port) return listen;
  if (hp->host.empty()) return "[::]:" + std::to_string(*port);
  auto addresses = net::resolve(hp->host, *port, error);
  if (addresses.empty()) return listen;
  for (const auto& a : addresses)
    if (a.family() == AF_INET) return a.to_string();
  return addresses.front().to_string();
}

Registry::Registry(Engine& engine) : engine_(engine) {}

Registry::~Registry() {
  std::lock_guard lock(mutex_);
  for (auto& [name, p] : proxies_)
    if (p.running()) stop(p, false);
}

Registry::Proxy& Registry::find(const std::string& name) {
  auto it = proxies_.find(name);
  if (it == proxies_.end()) throw ApiError(404, "proxy not found");
  return it->second;
}

const Registry::Proxy& Registry::find(const std::string& name) const {
  auto it = proxies_.find(name);
  if (it == proxies_.end()) throw ApiError(404, "proxy not found");
  return it->second;
}

ProxyView Registry::view(const Proxy& p) const {
  ProxyView v;
  v.spec = p.spec;
  v.spec.enabled = p.running();
  for (const auto& chain : p.chains)
    for (const auto& t : chain) v.toxics.push_back(t->spec);
  v.active_connections = p.counters->connections_active.load(std::memory_order_relaxed);
  return v;
}

Registry::Listener Registry::acquire_listener(const Proxy* current, const std::string& listen) {
  // Every start acquires its socket first, so this refuses starts during
  // shutdown before anything has changed.
  if (draining_) throw ApiError(503, "faultline is shutting down: no proxy can start");
  if (current && current->running() && canonical_listen_address(listen) == current->spec.listen)
    return Listener{current->listen_fd, current->spec.listen};
  net::ListenResult r = net::open_listen_socket(listen);
  if (r.fd < 0) throw ApiError(500, r.error);
  return Listener{r.fd, r.address};
}

void Registry::start(Proxy& p, Listener listener) {
  auto rt = std::make_shared<ProxyRuntime>();
  rt->id = next_runtime_id_++;
  rt->name = p.spec.name;
  rt->listen = listener.address;
  rt->upstream = p.spec.upstream;
  rt->random_seed = mix(engine_.seed(), hash_text(p.spec.name));
  rt->totals = p.counters;
  rt->mark_start();
  p.spec.listen = listener.address;
  p.spec.enabled = true;
  p.listen_fd = listener.fd;
  p.runtime = rt;
  engine_.start_proxy(rt, listener.fd, p.chains[0], p.chains[1]);
  log::info("proxy started", {{"name", p.spec.name}, {"listen", p.spec.listen}, {"upstream", p.spec.upstream}});
}

void Registry::stop(Proxy& p, bool keep_socket_open) {
  if (!p.running()) {
    p.spec.enabled = false;
    return;
  }
  engine_.stop_proxy(p.runtime->id);
  if (!keep_socket_open) ::close(p.listen_fd);
  retire_counters(*p.runtime);
  p.runtime.reset();
  p.listen_fd = -1;
  p.spec.enabled = false;
  log::info("proxy stopped", {{"name", p.spec.name}, {"listen", p.spec.listen}});
}

void Registry::retire_counters(const ProxyRuntime& rt) {
  RetiredCounters* slot = nullptr;
  for (auto& r : retired_)
    if (r.proxy == rt.name && r.listen == rt.listen && r.upstream == rt.upstream) slot = &r;
  if (!slot) {
    retired_.push_back(RetiredCounters{rt.name, rt.listen, rt.upstream});
    slot = &retired_.back();
  }
  for (int d = 0; d < 2; ++d) {
    slot->received[d] += rt.received_this_run(kDirections[d]);
    slot->sent[d] += rt.sent_this_run(kDirections[d]);
  }
}

ProxyView Registry::create_proxy(const ProxySpec& spec) {
  std::lock_guard lock(mutex_);
  if (proxies_.count(spec.name)) throw ApiError(409, "proxy already exists");
  Proxy p;
  p.spec = spec;
  if (spec.enabled) start(p, acquire_listener(nullptr, spec.listen));
  else p.spec.enabled = false;
  auto& stored = proxies_[spec.name] = std::move(p);
  log::info("proxy created", {{"name", spec.name}, {"listen", stored.spec.listen}, {"upstream", spec.upstream},
                              {"enabled", stored.spec.enabled}});
  return view(stored);
}

ProxyView Registry::get_proxy(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return view(find(name));
}

std::vector<ProxyView> Registry::list_proxies() const {
  std::lock_guard lock(mutex_);
  std::vector<ProxyView> out;
  for (const auto& [name, p] : proxies_) out.push_back(view(p));
  return out;
}

size_t Registry::proxy_count() const {
  std::lock_guard lock(mutex_);
  return proxies_.size();
}

ProxyView Registry::update_proxy(const std::string& name, const ProxyPatch& patch) {
  std::lock_guard lock(mutex_);
  Proxy& p = find(name);
  const std::string listen = patch.listen.value_or(p.spec.listen);
  const std::string upstream = patch.upstream.value_or(p.spec.upstream);
  const bool enabled = patch.enabled.value_or(p.running());
  const bool moved = listen != p.spec.listen || upstream != p.spec.upstream;
  if (!moved && enabled == p.running()) return view(p);  // nothing to do: connections live on

  if (enabled) {
    // Acquire first: if the new address cannot be had, nothing changes.
    Listener listener = acquire_listener(&p, listen);
    const bool reused = p.running() && listener.fd == p.listen_fd;
    stop(p, reused);
    p.spec.listen = listen;
    p.spec.upstream = upstream;
    start(p, listener);
  } else {
    stop(p, false);
    p.spec.listen = listen;
    p.spec.upstream = upstream;
  }
  log::info("proxy updated", {{"name", name}, {"listen", p.spec.listen}, {"upstream", p.spec.upstream},
                              {"enabled", p.running()}});
  return view(p);
}

void Registry::delete_proxy(const std::string& name) {
  std::lock_guard lock(mutex_);
  Proxy& p = find(name);
  stop(p, false);
  proxies_.erase(name);
  log::info("proxy deleted", {{"name", name}});
}

std::vector<ProxyView> Registry::populate(const std::vector<PopulateEntry>& entries) {
  std::lock_guard lock(mutex_);
  // Plan first, commit after: the entries are played in order against a model
  // of the proxies, acquiring every socket they need, so that a failure
  // changes nothing (D10) while the result is that of applying them one by
  // one (a port left by an earlier entry may be taken by a later one; a name
  // listed twice ends as its last entry).
  struct Planned {
    std::string listen;    // as stored: resolved while running
    std::string upstream;
    int fd = -1;           // listening socket while running
  };
  std::map<std::string, Planned> model;
  for (const auto& [name, p] : proxies_) model[name] = Planned{p.spec.listen, p.spec.upstream, p.listen_fd};
  std::map<std::string, int> released;  // address -> socket of a proxy that will be replaced
  std::vector<int> opened;               // sockets opened by the plan, closed if it fails
  struct Step {
    const PopulateEntry* entry;
    bool unchanged;
    Listener listener;
  };
  std::vector<Step> steps;
  try {
    for (const auto& e : entries) {
      auto current = model.find(e.spec.name);
      // D9: "localhost:P" and "127.0.0.1:P" are the same address.
      const bool unchanged = current != model.end() && e.toxics.empty() && current->second.upstream == e.spec.upstream &&
                             canonical_listen_address(e.spec.listen) == canonical_listen_address(current->second.listen);
      Step step{&e, unchanged, {}};
      if (!unchanged) {
        // The proxy this entry replaces stops, so its socket is free for this or a later entry.
        if (current != model.end() && current->second.fd >= 0) released[current->second.listen] = current->second.fd;
        Planned next{e.spec.listen, e.spec.upstream, -1};
        if (e.spec.enabled) {
          auto reusable = released.find(canonical_listen_address(e.spec.listen));
          if (reusable != released.end()) {
            step.listener = Listener{reusable->second, reusable->first};
            released.erase(reusable);
          } else {
            step.listener = acquire_listener(nullptr, e.spec.listen);
            opened.push_back(step.listener.fd);
          }
          next = Planned{step.listener.address, e.spec.upstream, step.listener.fd};
        }
        model[e.spec.name] = next;
      }
      steps.push_back(step);
    }
  } catch (...) {
    for (int fd : opened) ::close(fd);
    throw;
  }
  // Commit. A replaced proxy keeps its socket open when a step took it over.
  std::set<int> taken;
  for (const auto& step : steps)
    if (step.listener.fd >= 0) taken.insert(step.listener.fd);
  std::vector<ProxyView> result;
  for (auto& step : steps) {
    const ProxySpec& spec = step.entry->spec;
    if (!step.unchanged) {
      auto it = proxies_.find(spec.name);
      if (it != proxies_.end()) {
        stop(it->second, taken.count(it->second.listen_fd) > 0);
        proxies_.erase(it);
      }
      Proxy p;
      p.spec = spec;
      for (const auto& t : step.entry->toxics)
        p.chains[index_of(t.direction)].push_back(make_config(t, next_toxic_id_++, next_generation_++));
      Proxy& stored = proxies_[spec.name] = std::move(p);
      if (spec.enabled) start(stored, step.listener);
      else stored.spec.enabled = false;
    }
    result.push_back(view(proxies_.at(spec.name)));
  }
  log::info("populate applied", {{"entries", entries.size()}});
  return result;
}

void Registry::reset() {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<Proxy*, Listener>> to_start;
  try {
    for (auto& [name, p] : proxies_)
      if (!p.running()) to_start.emplace_back(&p, acquire_listener(nullptr, p.spec.listen));
  } catch (...) {
    for (auto& [p, l] : to_start) ::close(l.fd);
    throw;
  }
  for (auto& [p, l] : to_start) start(*p, l);
  for (auto& [name, p] : proxies_) {
    for (Direction d : kDirections) {
      if (p.chains[index_of(d)].empty()) continue;
      p.chains[index_of(d)].clear();
      push_toxics(p, d);
    }
  }
  log::info("reset applied", {{"proxies", proxies_.size()}});
}

void Registry::push_toxics(Proxy& p, Direction d) {
  if (p.running()) engine_.set_toxics(p.runtime->id, d, p.chains[index_of(d)]);
}

ToxicConfigPtr Registry::make_config(ToxicSpec spec, uint64_t id, uint64_t generation,
                                     std::shared_ptr<std::atomic<uint64_t>> activations) {
  auto cfg = std::make_shared<ToxicConfig>();
  if (activations) cfg->activations = std::move(activations);
  cfg->id = id;
  cfg->toxicity_generation = generation;
  cfg->spec = std::move(spec);
  return cfg;
}

ToxicSpec Registry::add_toxic(const std::string& proxy, ToxicSpec toxic) {
  std::lock_guard lock(mutex_);
  Proxy& p = find(proxy);
  for (const auto& chain : p.chains)
    for (const auto& t : chain)
      if (t->spec.name == toxic.name) throw ApiError(409, "toxic already exists");
  const Direction d = toxic.direction;
  p.chains[index_of(d)].push_back(make_config(toxic, next_toxic_id_++, next_generation_++));
  push_toxics(p, d);
  log::info("toxic added", {{"proxy", proxy}, {"name", toxic.name}, {"type", toxic_type_info(toxic.kind).name},
                            {"stream", to_string(d)}, {"toxicity", static_cast<double>(toxic.toxicity)},
                            {"attributes", describe_attributes(toxic)}});
  return toxic;
}

ToxicSpec Registry::get_toxic(const std::string& proxy, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const Proxy& p = find(proxy);
  for (const auto& chain : p.chains)
    for (const auto& t : chain)
      if (t->spec.name == name) return t->spec;
  throw ApiError(404, "toxic not found");
}

std::vector<ToxicSpec> Registry::list_toxics(const std::string& proxy) const {
  return get_proxy(proxy).toxics;
}

ToxicSpec Registry::update_toxic(const std::string& proxy, const std::string& name, const ToxicPatch& patch) {
  std::lock_guard lock(mutex_);
  Proxy& p = find(proxy);
  for (Direction d : kDirections) {
    for (auto& t : p.chains[index_of(d)]) {
      if (t->spec.name != name) continue;
      ToxicSpec spec = t->spec;
      for (const auto& [key, value] : patch.attributes)
        for (auto& [k, v] : spec.attributes)
          if (k == key) v = value;
      uint64_t generation = t->toxicity_generation;
      if (patch.toxicity) {
        spec.toxicity = *patch.toxicity;
        generation = next_generation_++;
      }
      auto activations = t->activations;
      t = make_config(spec, t->id, generation, activations);
      push_toxics(p, d);
      log::info("toxic updated", {{"proxy", proxy}, {"name", name}, {"toxicity", static_cast<double>(spec.toxicity)},
                                  {"attributes", describe_attributes(spec)}});
      return spec;
    }
  }
  throw ApiError(404, "toxic not found");
}

void Registry::remove_toxic(const std::string& proxy, const std::string& name) {
  std::lock_guard lock(mutex_);
  Proxy& p = find(proxy);
  for (Direction d : kDirections) {
    auto& chain = p.chains[index_of(d)];
    auto it = std::find_if(chain.begin(), chain.end(), [&](const auto& t) { return t->spec.name == name; });
    if (it == chain.end()) continue;
    chain.erase(it);
    push_toxics(p, d);
    log::info("toxic removed", {{"proxy", proxy}, {"name", name}});
    return;
  }
  throw ApiError(404, "toxic not found");
}

void Registry::end_drain_now() { drain_cut_short_ = true; }

void Registry::stop_accepting() {
  std::lock_guard lock(mutex_);
  draining_ = true;
  for (auto& [name, p] : proxies_)
    if (p.running()) engine_.stop_accepting(p.runtime->id);
}

void Registry::drain(Nanos grace) {
  stop_accepting();
  std::vector<std::shared_ptr<ProxyRuntime>> live = runtimes();
  const auto deadline = Clock::now() + grace;
  auto open_connections = [&] {
    int64_t total = 0;
    for (const auto& rt : live) total += rt->stats().connections_active.load();
    return total;
  };
  int64_t remaining = open_connections();
  if (remaining > 0) log::info("draining connections", {{"open", remaining}, {"grace_ms", std::chrono::duration_cast<Millis>(grace).count()}});
  while ((remaining = open_connections()) > 0 && Clock::now() < deadline && !drain_cut_short_)
    std::this_thread::sleep_for(Millis(20));
  if (remaining > 0) log::info("grace period over, closing connections", {{"open", remaining}});
  std::lock_guard lock(mutex_);
  for (auto& [name, p] : proxies_) stop(p, false);
}

std::vector<std::shared_ptr<ProxyRuntime>> Registry::runtimes() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ProxyRuntime>> out;
  for (const auto& [name, p] : proxies_)
    if (p.runtime) out.push_back(p.runtime);
  return out;
}

std::vector<ProxyMetricsView> Registry::metrics_views() const {
  std::lock_guard lock(mutex_);
  std::vector<ProxyMetricsView> out;
  out.reserve(proxies_.size());
  for (const auto& [name, p] : proxies_) {
    ProxyMetricsView v{name, p.running(), p.runtime, p.counters, {}};
    for (Direction d : kDirections)
      for (const auto& t : p.chains[index_of(d)])
        v.toxics.push_back({t->spec.name, std::string(toxic_type_info(t->spec.kind).name), to_string(d),
                            t->activations->load(std::memory_order_relaxed)});
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<RetiredCounters> Registry::retired_counters() const {
  std::lock_guard lock(mutex_);
  return retired_;
}

}  // namespace faultline
