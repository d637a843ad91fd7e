#include "control/Registry.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "log/Log.h"
#include "net/SocketAddress.h"
#include "util/Random.h"

namespace faultline {
namespace {

std::string describe_attributes(const ToxicSpec& t) {
  std::string text;
  const auto& schema = t.toxic_type().attributes;
  for (size_t i = 0; i < schema.size() && i < t.attributes.size(); ++i) {
    if (!text.empty()) text += ' ';
    text += schema[i].name + "=" + describe_value(t.attributes[i]);
  }
  return text;
}

[[noreturn]] void not_found(const char* what) { throw ControlError(ControlErrorKind::NotFound, std::string(what) + " not found"); }

}  // namespace

std::string canonical_listen_address(const net::ListenTarget& target) {
  return target.canonical.empty() ? target.requested : target.canonical;
}

std::string canonical_listen_address(const std::string& listen) { return canonical_listen_address(net::resolve_listen(listen)); }

Registry::Registry(Engine& engine) : engine_(engine) {}

Registry::~Registry() {
  PendingChanges pending;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, p] : proxies_)
      if (p.running()) stop(p, false, pending);
  }
  pending.wait();
}

Registry::Proxy& Registry::find(const std::string& name) {
  auto it = proxies_.find(name);
  if (it == proxies_.end()) not_found("proxy");
  return it->second;
}

const Registry::Proxy& Registry::find(const std::string& name) const {
  auto it = proxies_.find(name);
  if (it == proxies_.end()) not_found("proxy");
  return it->second;
}

void Registry::report_proxy(ChangeKind kind, const Proxy& p, std::string_view reason, std::string_view origin) const {
  ControlChange c{kind, p.spec.name};
  c.proxy_spec = &p.spec;
  c.reason = reason;
  c.schedule = origin;
  report(c);
}

void Registry::report_toxic(ChangeKind kind, const std::string& proxy, const ToxicSpec& t, std::string_view reason,
                            std::string_view origin) const {
  ControlChange c{kind, proxy};
  const ToxicSpec visible = shown(t);
  c.toxic = &visible;
  c.reason = reason;
  c.schedule = origin;
  report(c);
}

ProxyView Registry::view(const Proxy& p) const {
  ProxyView v;
  v.spec = p.spec;
  v.spec.enabled = p.running();
  v.instance = p.instance;
  for (const auto& chain : p.chains)
    for (const auto& t : chain) v.toxics.push_back(shown(t->spec));
  v.active_connections = p.counters->connections_active.load(std::memory_order_relaxed);
  return v;
}

ToxicSpec Registry::shown(const ToxicSpec& spec) const {
  if (!spec.duration) return spec;
  ToxicSpec out = spec;
  out.expires_in_ms = std::max<int64_t>(0, std::chrono::duration_cast<Millis>(spec.expires_at - engine_.time().now()).count());
  return out;
}

Registry::Listener Registry::acquire_listener(const Proxy* current, const net::ListenTarget& target) {
  // Every start acquires its socket first, so this refuses starts during
  // shutdown before anything has changed.
  if (draining_) throw ControlError(ControlErrorKind::Unavailable, "faultline is shutting down: no proxy can start");
  if (current && current->running() && canonical_listen_address(target) == current->spec.listen)
    return Listener{current->listen_fd, current->spec.listen};
  net::ListenResult r = net::open_listen_socket(target);
  if (r.fd < 0) throw ControlError(ControlErrorKind::SystemFailure, r.error);
  return Listener{r.fd, r.address};
}

void Registry::start(Proxy& p, Listener listener, PendingChanges& pending) {
  auto rt = std::make_shared<ProxyRuntime>();
  rt->chaos_observer = chaos_observer_;
  rt->id = next_runtime_id_++;
  rt->name = p.spec.name;
  rt->listen = listener.address;
  rt->upstream = p.spec.upstream;
  rt->protocol = p.spec.protocol;
  rt->random_seed = mix(engine_.seed(), hash_text(p.spec.name));
  rt->totals = p.counters;
  rt->mark_start();
  p.spec.listen = listener.address;
  p.spec.enabled = true;
  p.listen_fd = listener.fd;
  p.runtime = rt;
  pending.add(engine_.start_proxy(rt, listener.fd, snapshot_of(p)));
  log::info("proxy started", {{"name", p.spec.name}, {"listen", p.spec.listen}, {"upstream", p.spec.upstream}});
}

void Registry::stop(Proxy& p, bool keep_socket_open, PendingChanges& pending) {
  if (!p.running()) {
    p.spec.enabled = false;
    return;
  }
  // The socket is closed only once no loop watches it (a closed descriptor's
  // number could be reused by the next socket opened).
  pending.add(engine_.stop_proxy(p.runtime->id, keep_socket_open ? -1 : p.listen_fd));
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
  const net::ListenTarget target = net::resolve_listen(spec.listen);  // DNS, before the lock
  PendingChanges pending;
  ProxyView result;
  {
    std::lock_guard lock(mutex_);
    if (proxies_.count(spec.name)) throw ControlError(ControlErrorKind::AlreadyExists, "proxy already exists");
    if (auto problem = check_protocol(spec.protocol)) throw ControlError(ControlErrorKind::Invalid, *problem);
    Proxy p;
    p.spec = spec;
    p.instance = next_instance_++;
    if (spec.enabled) start(p, acquire_listener(nullptr, target), pending);
    else p.spec.enabled = false;
    auto& stored = proxies_[spec.name] = std::move(p);
    log::info("proxy created", {{"name", spec.name}, {"listen", stored.spec.listen}, {"upstream", spec.upstream},
                                {"enabled", stored.spec.enabled}});
    report_proxy(ChangeKind::ProxyCreated, stored);
    result = view(stored);
  }
  pending.wait();
  return result;
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
  // The new listen address, resolved before the lock (nothing when unchanged).
  std::optional<net::ListenTarget> target;
  if (patch.listen) target = net::resolve_listen(*patch.listen);
  PendingChanges pending;
  ProxyView result;
  {
    std::lock_guard lock(mutex_);
    Proxy& p = find(name);
    const std::string listen = patch.listen.value_or(p.spec.listen);
    const std::string upstream = patch.upstream.value_or(p.spec.upstream);
    const bool enabled = patch.enabled.value_or(p.running());
    const bool moved = listen != p.spec.listen || upstream != p.spec.upstream;
    if (!moved && enabled == p.running()) return view(p);  // nothing to do: connections live on
    if (!target) target = net::resolve_listen(listen);  // an IP literal once running: no DNS
    const bool was_running = p.running();

    if (enabled) {
      // Acquire first: if the new address cannot be had, nothing changes.
      Listener listener = acquire_listener(&p, *target);
      const bool reused = p.running() && listener.fd == p.listen_fd;
      stop(p, reused, pending);
      p.spec.listen = listen;
      p.spec.upstream = upstream;
      start(p, listener, pending);
    } else {
      stop(p, false, pending);
      p.spec.listen = listen;
      p.spec.upstream = upstream;
    }
    log::info("proxy updated", {{"name", name}, {"listen", p.spec.listen}, {"upstream", p.spec.upstream},
                                {"enabled", p.running()}});
    if (moved) report_proxy(ChangeKind::ProxyUpdated, p);
    if (was_running != p.running()) report_proxy(p.running() ? ChangeKind::ProxyEnabled : ChangeKind::ProxyDisabled, p);
    result = view(p);
  }
  pending.wait();
  return result;
}

void Registry::delete_proxy(const std::string& name) {
  PendingChanges pending;
  {
    std::lock_guard lock(mutex_);
    Proxy& p = find(name);
    stop(p, false, pending);
    report_proxy(ChangeKind::ProxyDeleted, p);
    proxies_.erase(name);
    log::info("proxy deleted", {{"name", name}});
  }
  pending.wait();
  if (listener_) listener_->proxy_removed(name);
}

std::vector<ProxyView> Registry::populate(const std::vector<PopulateEntry>& entries) {
  // Every listen address is resolved before the lock is taken.
  std::map<std::string, net::ListenTarget> targets;
  for (const auto& e : entries)
    if (!targets.count(e.spec.listen)) targets.emplace(e.spec.listen, net::resolve_listen(e.spec.listen));
  auto canonical = [&](const std::string& listen) {
    auto it = targets.find(listen);
    return it != targets.end() ? canonical_listen_address(it->second) : canonical_listen_address(listen);
  };
  PendingChanges pending;
  std::vector<ProxyView> result;
  std::vector<std::string> replaced;
  struct Expiry {
    std::string proxy, toxic;
    TimePoint at;
  };
  std::vector<Expiry> expiries;
  {
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
                               canonical(e.spec.listen) == canonical_listen_address(current->second.listen);
        Step step{&e, unchanged, {}};
        if (!unchanged) {
          // The proxy this entry replaces stops, so its socket is free for this or a later entry.
          if (current != model.end() && current->second.fd >= 0) released[current->second.listen] = current->second.fd;
          Planned next{e.spec.listen, e.spec.upstream, -1};
          if (e.spec.enabled) {
            auto reusable = released.find(canonical(e.spec.listen));
            if (reusable != released.end()) {
              step.listener = Listener{reusable->second, reusable->first};
              released.erase(reusable);
            } else {
              step.listener = acquire_listener(nullptr, targets.at(e.spec.listen));
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
    for (auto& step : steps) {
      const ProxySpec& spec = step.entry->spec;
      if (!step.unchanged) {
        auto it = proxies_.find(spec.name);
        if (it != proxies_.end()) {
          stop(it->second, taken.count(it->second.listen_fd) > 0, pending);
          report_proxy(ChangeKind::ProxyDeleted, it->second, "populate");
          proxies_.erase(it);
          replaced.push_back(spec.name);
        }
        Proxy p;
        p.spec = spec;
        p.instance = next_instance_++;
        for (ToxicSpec t : step.entry->toxics) {
          // A timed toxic from a file (the state file keeps the time one had left) starts its clock now.
          if (t.duration) {
            t.expires_at = engine_.time().now() + *t.duration;
            expiries.push_back({spec.name, t.name, t.expires_at});
          }
          p.chains[index_of(t.direction)].push_back(make_config(t, next_toxic_id_++, next_generation_++));
        }
        Proxy& stored = proxies_[spec.name] = std::move(p);
        if (spec.enabled) start(stored, step.listener, pending);
        else stored.spec.enabled = false;
        report_proxy(ChangeKind::ProxyCreated, stored, "populate");
        for (const auto& chain : stored.chains)
          for (const auto& t : chain) report_toxic(ChangeKind::ToxicAdded, spec.name, t->spec, "populate");
      }
      result.push_back(view(proxies_.at(spec.name)));
    }
    log::info("populate applied", {{"entries", entries.size()}});
  }
  pending.wait();
  if (listener_) {
    for (const auto& name : replaced) listener_->proxy_removed(name);
    for (const auto& e : expiries) listener_->toxic_expires(e.proxy, e.toxic, e.at);
  }
  return result;
}

void Registry::reset() {
  std::map<std::string, net::ListenTarget> targets;
  for (const auto& p : list_proxies())
    if (!p.spec.enabled) targets.emplace(p.spec.name, net::resolve_listen(p.spec.listen));
  PendingChanges pending;
  {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<Proxy*, Listener>> to_start;
    try {
      for (auto& [name, p] : proxies_) {
        if (p.running()) continue;
        auto target = targets.find(name);
        to_start.emplace_back(&p, acquire_listener(nullptr, target != targets.end() && target->second.requested == p.spec.listen
                                                                ? target->second
                                                                : net::resolve_listen(p.spec.listen)));
      }
    } catch (...) {
      for (auto& [p, l] : to_start) ::close(l.fd);
      throw;
    }
    for (auto& [p, l] : to_start) {
      start(*p, l, pending);
      report_proxy(ChangeKind::ProxyEnabled, *p, "reset");
    }
    for (auto& [name, p] : proxies_) {
      if (p.chains[0].empty() && p.chains[1].empty()) continue;
      for (const auto& chain : p.chains)
        for (const auto& t : chain) report_toxic(ChangeKind::ToxicRemoved, name, t->spec, "reset");
      p.chains[0].clear();
      p.chains[1].clear();
      push_toxics(p, pending);
    }
    log::info("reset applied", {{"proxies", proxies_.size()}});
    report(ControlChange{ChangeKind::Reset, {}});
  }
  pending.wait();
  if (listener_) listener_->registry_reset();
}

void Registry::push_toxics(Proxy& p, PendingChanges& pending) {
  if (!p.running()) return;
  pending.add(engine_.set_toxics(p.runtime->id, snapshot_of(p)));
}

// What the loops run. A toxic that spans both streams (the HTTP ones) works
// on both chains, whatever stream it was given, and they nest as layers
// around the upstream: on the request (upstream) chain they come after the
// stream's own toxics, in the order they were added; on the response
// (downstream) chain they come first, in the reverse order. So the HTTP
// toxic nearest the upstream is the same one both ways, and each sees the
// requests the ones before it let through and exactly their responses.
ToxicSnapshotPtr Registry::snapshot_of(Proxy& p) {
  auto snapshot = std::make_shared<ToxicSnapshot>();
  snapshot->version = ++p.toxics_version;
  ToxicChainConfig http;
  for (size_t d = 0; d < 2; ++d)
    for (const auto& t : p.chains[d])
      if (t->spec.toxic_type().both_streams) http.push_back(t);
      else snapshot->chains[d].push_back(t);
  std::sort(http.begin(), http.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  auto& requests = snapshot->chains[index_of(Direction::Upstream)];
  auto& responses = snapshot->chains[index_of(Direction::Downstream)];
  requests.insert(requests.end(), http.begin(), http.end());
  responses.insert(responses.begin(), http.rbegin(), http.rend());
  return snapshot;
}

ToxicConfigPtr Registry::make_config(ToxicSpec spec, uint64_t id, uint64_t generation, const ToxicConfig* previous) {
  auto cfg = std::make_shared<ToxicConfig>();
  if (previous) {
    cfg->activations = previous->activations;
    cfg->proxy_wide = previous->proxy_wide;
    cfg->fault_counts = previous->fault_counts;
  }
  cfg->id = id;
  cfg->toxicity_generation = generation;
  cfg->spec = std::move(spec);
  return cfg;
}

bool apply_toxic_patch(ToxicSpec& spec, const ToxicPatch& patch) {
  if (patch.attributes) {
    if (patch.attributes->size() != spec.attributes.size())
      throw ControlError(ControlErrorKind::Invalid, "toxic " + spec.name + ": wrong number of attributes");
    spec.attributes = *patch.attributes;
  }
  if (patch.set) {
    const auto& set = *patch.set;
    if (set.attribute == "toxicity") {
      // Compared as the float32 it is stored as (0.1 is not 0.1f).
      if (set.only_if && static_cast<float>(std::get<double>(*set.only_if)) != spec.toxicity) return false;
      spec.toxicity = static_cast<float>(std::get<double>(set.value));
    } else {
      const auto& schema = spec.toxic_type().attributes;
      size_t i = 0;
      while (i < schema.size() && schema[i].name != set.attribute) ++i;
      if (i == schema.size())
        throw ControlError(ControlErrorKind::Invalid, "toxic " + spec.name + " has no attribute " + set.attribute);
      if (set.only_if && *set.only_if != spec.attributes[i]) return false;
      // A number in the attribute's own storage: 5.0 for an integer attribute is 5, 5 for a number is 5.0.
      AttributeValue value = set.value;
      const bool whole = schema[i].type == AttributeType::Integer || schema[i].type == AttributeType::Duration;
      if (whole && std::holds_alternative<double>(value)) {
        const double d = std::get<double>(value);
        if (d != std::floor(d) || std::fabs(d) > 9e18)
          throw ControlError(ControlErrorKind::Invalid, "toxic " + spec.name + ": attribute " + set.attribute + " takes whole numbers");
        value = static_cast<int64_t>(d);
      } else if (schema[i].type == AttributeType::Number && std::holds_alternative<int64_t>(value)) {
        value = static_cast<double>(std::get<int64_t>(value));
      } else if (value.index() != schema[i].default_value.index()) {
        throw ControlError(ControlErrorKind::Invalid, "toxic " + spec.name + ": attribute " + set.attribute + " is not a number");
      }
      if (auto problem = schema[i].check(spec.type_name(), value)) throw ControlError(ControlErrorKind::Invalid, *problem);
      spec.attributes[i] = value;
    }
  }
  if (patch.toxicity) spec.toxicity = *patch.toxicity;
  if (patch.clients) spec.clients = *patch.clients;
  return true;
}

ToxicConfigPtr Registry::updated_config(const ToxicConfig& current, const ToxicPatch& patch) {
  ToxicSpec spec = current.spec;
  if (!apply_toxic_patch(spec, patch)) return nullptr;
  if (patch.duration) {
    spec.duration = patch.duration;
    spec.expires_at = engine_.time().now() + *patch.duration;
  }
  uint64_t generation = current.toxicity_generation;
  if (patch.set && patch.set->attribute == "toxicity") generation = next_generation_++;
  if (patch.toxicity) generation = next_generation_++;
  if (patch.clients) generation = next_generation_++;  // connections decide again whether the toxic is theirs
  return make_config(std::move(spec), current.id, generation, &current);
}

ToxicSpec Registry::add_toxic(const std::string& proxy, ToxicSpec toxic) {
  ToxicBatch batch;
  batch.add.push_back(toxic);
  const ProxyView after = apply(proxy, batch);
  for (const auto& t : after.toxics)
    if (t.name == toxic.name) return t;  // as stored: with its expiry, when timed
  return toxic;
}

ToxicSpec Registry::get_toxic(const std::string& proxy, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const Proxy& p = find(proxy);
  for (const auto& chain : p.chains)
    for (const auto& t : chain)
      if (t->spec.name == name) return shown(t->spec);
  not_found("toxic");
}

std::vector<ToxicSpec> Registry::list_toxics(const std::string& proxy) const {
  return get_proxy(proxy).toxics;
}

ToxicSpec Registry::update_toxic(const std::string& proxy, const std::string& name, const ToxicPatch& patch) {
  ToxicBatch batch;
  batch.update.push_back({name, patch});
  const ProxyView after = apply(proxy, batch);
  for (const auto& t : after.toxics)
    if (t.name == name) return t;
  not_found("toxic");
}

void Registry::remove_toxic(const std::string& proxy, const std::string& name) {
  ToxicBatch batch;
  batch.remove.push_back(name);
  apply(proxy, batch);
}

ProxyView Registry::apply(const std::string& proxy, const ToxicBatch& batch) {
  std::optional<net::ListenTarget> target;
  if (batch.enabled.value_or(false)) {
    const ProxyView current = get_proxy(proxy);
    if (!current.spec.enabled) target = net::resolve_listen(current.spec.listen);  // DNS, before the lock
  }
  PendingChanges pending;
  ProxyView result;
  std::vector<std::pair<std::string, TimePoint>> expiries;  // timed toxics this batch set
  {
    std::lock_guard lock(mutex_);
    Proxy& p = find(proxy);
    if (batch.instance && *batch.instance != p.instance) not_found("proxy");
    // Work on copies: the proxy changes only once every step has succeeded.
    ToxicChainConfig chains[2] = {p.chains[0], p.chains[1]};
    auto locate = [&](const std::string& name) -> ToxicConfigPtr* {
      for (auto& chain : chains)
        for (auto& t : chain)
          if (t->spec.name == name) return &t;
      return nullptr;
    };
    // What went and what changed, reported once the batch is committed.
    std::vector<std::pair<ToxicConfigPtr, std::string_view>> removed;
    std::vector<ToxicConfigPtr> updated_toxics;
    for (const auto& name : batch.remove) {
      ToxicConfigPtr* slot = locate(name);
      if (!slot) not_found("toxic");
      const ToxicConfigPtr gone = *slot;
      removed.emplace_back(gone, "");
      for (auto& chain : chains) std::erase(chain, gone);
    }
    for (const auto& e : batch.expire) {
      ToxicConfigPtr* slot = locate(e.name);
      if (slot && (*slot)->spec.duration && (*slot)->spec.expires_at == e.at) {
        const ToxicConfigPtr gone = *slot;
        removed.emplace_back(gone, "expired");
        for (auto& chain : chains) std::erase(chain, gone);
      }
    }
    for (const auto& name : batch.remove_if_present) {
      if (ToxicConfigPtr* slot = locate(name)) {
        const ToxicConfigPtr gone = *slot;
        removed.emplace_back(gone, "");
        for (auto& chain : chains) std::erase(chain, gone);
      }
    }
    for (const auto& u : batch.update) {
      ToxicConfigPtr* slot = locate(u.name);
      if (!slot && batch.skip_missing_updates) continue;
      if (!slot) not_found("toxic");
      if (auto updated = updated_config(**slot, u.patch)) {  // null: a conditional change skipped
        *slot = std::move(updated);
        updated_toxics.push_back(*slot);
      }
    }
    std::vector<ToxicConfigPtr> added;
    for (ToxicSpec t : batch.add) {
      if (locate(t.name)) throw ControlError(ControlErrorKind::AlreadyExists, "toxic already exists");
      if (t.duration) t.expires_at = engine_.time().now() + *t.duration;
      added.push_back(make_config(t, next_toxic_id_ + added.size(), next_generation_ + added.size()));
      chains[index_of(t.direction)].push_back(added.back());
    }
    std::optional<Listener> listener;
    const bool starting = batch.enabled.value_or(false) && !p.running();
    if (starting) listener = acquire_listener(nullptr, target ? *target : net::resolve_listen(p.spec.listen));
    // Commit: nothing below can fail.
    next_toxic_id_ += added.size();
    next_generation_ += added.size();
    const bool toxics_changed = !batch.remove.empty() || !batch.remove_if_present.empty() || !batch.expire.empty() ||
                                !batch.update.empty() || !batch.add.empty();
    for (const auto& chain : chains)
      for (const auto& t : chain)
        if (t->spec.duration && (std::find(added.begin(), added.end(), t) != added.end() ||
                                 std::any_of(batch.update.begin(), batch.update.end(),
                                             [&](const auto& u) { return u.name == t->spec.name && u.patch.duration; })))
          expiries.emplace_back(t->spec.name, t->spec.expires_at);
    p.chains[0] = std::move(chains[0]);
    p.chains[1] = std::move(chains[1]);
    const bool was_running = p.running();
    if (batch.enabled == false) stop(p, false, pending);
    else if (starting) start(p, *listener, pending);  // with the new toxics from its first connection
    else if (toxics_changed) push_toxics(p, pending);
    for (const auto& [gone, reason] : removed) report_toxic(ChangeKind::ToxicRemoved, proxy, gone->spec, reason, batch.origin);
    for (const auto& t : updated_toxics) report_toxic(ChangeKind::ToxicUpdated, proxy, t->spec, "", batch.origin);
    for (const auto& t : added) report_toxic(ChangeKind::ToxicAdded, proxy, t->spec, "", batch.origin);
    if (was_running != p.running())
      report_proxy(p.running() ? ChangeKind::ProxyEnabled : ChangeKind::ProxyDisabled, p, "", batch.origin);
    if (batch.cut && p.running()) {
      pending.add(engine_.cut_connections(p.runtime->id));
      log::info("connections cut", {{"proxy", proxy}});
      report_proxy(ChangeKind::ConnectionsCut, p, "", batch.origin);
    }
    log_batch(proxy, batch);
    result = view(p);
  }
  pending.wait();
  if (listener_)
    for (const auto& [name, at] : expiries) listener_->toxic_expires(proxy, name, at);
  return result;
}

bool Registry::expire_toxic(const std::string& proxy, const std::string& name, TimePoint expires_at) {
  // Exactly as a DELETE would, but only if it still has that expiry (the
  // check happens inside the batch, under the lock).
  ToxicBatch batch;
  batch.expire.push_back({name, expires_at});
  const ProxyView before = get_proxy(proxy);
  const bool present = std::any_of(before.toxics.begin(), before.toxics.end(), [&](const ToxicSpec& t) {
    return t.name == name && t.duration && t.expires_at == expires_at;
  });
  apply(proxy, batch);
  return present;
}

void Registry::log_batch(const std::string& proxy, const ToxicBatch& batch) const {
  for (const auto& name : batch.remove) log::info("toxic removed", {{"proxy", proxy}, {"name", name}});
  for (const auto& name : batch.remove_if_present) log::info("toxic removed", {{"proxy", proxy}, {"name", name}});
  for (const auto& u : batch.update) {
    const ToxicSpec spec = find_spec_locked(proxy, u.name);
    if (batch.quiet) {
      log::debug("toxic updated", {{"proxy", proxy}, {"name", u.name}, {"attributes", describe_attributes(spec)}});
      continue;
    }
    log::info("toxic updated", {{"proxy", proxy}, {"name", u.name}, {"toxicity", static_cast<double>(spec.toxicity)},
                                {"attributes", describe_attributes(spec)}});
  }
  for (const auto& t : batch.add)
    log::info("toxic added", {{"proxy", proxy}, {"name", t.name}, {"type", t.type_name()},
                              {"stream", to_string(t.direction)}, {"toxicity", static_cast<double>(t.toxicity)},
                              {"attributes", describe_attributes(t)}});
}

ToxicSpec Registry::find_spec_locked(const std::string& proxy, const std::string& name) const {
  for (const auto& chain : find(proxy).chains)
    for (const auto& t : chain)
      if (t->spec.name == name) return t->spec;
  return {};
}

void Registry::end_drain_now() { drain_cut_short_ = true; }

void Registry::stop_accepting() {
  PendingChanges pending;
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    for (auto& [name, p] : proxies_)
      if (p.running()) pending.add(engine_.stop_accepting(p.runtime->id, p.listen_fd));
  }
  pending.wait();
}

void Registry::drain(Nanos grace) {
  stop_accepting();
  std::vector<std::shared_ptr<ProxyRuntime>> live = runtimes();
  const TimeSource& clock = engine_.time();
  const auto deadline = clock.now() + grace;
  auto open_connections = [&] {
    int64_t total = 0;
    for (const auto& rt : live) total += rt->stats().connections_active.load();
    return total;
  };
  int64_t remaining = open_connections();
  if (remaining > 0) log::info("draining connections", {{"open", remaining}, {"grace_ms", std::chrono::duration_cast<Millis>(grace).count()}});
  while ((remaining = open_connections()) > 0 && clock.now() < deadline && !drain_cut_short_)
    std::this_thread::sleep_for(Millis(20));
  if (remaining > 0) log::info("grace period over, closing connections", {{"open", remaining}});
  PendingChanges pending;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, p] : proxies_) stop(p, false, pending);
  }
  pending.wait();
}

std::vector<std::shared_ptr<ProxyRuntime>> Registry::runtimes() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ProxyRuntime>> out;
  for (const auto& [name, p] : proxies_)
    if (p.runtime) out.push_back(p.runtime);
  return out;
}

std::vector<ProxyMetricsView> Registry::metrics_views() const {
  engine_.count_kernel_bytes();  // before the lock: it waits for the loops
  std::lock_guard lock(mutex_);
  std::vector<ProxyMetricsView> out;
  out.reserve(proxies_.size());
  for (const auto& [name, p] : proxies_) {
    ProxyMetricsView v{name, p.running(), p.runtime, p.counters, {}};
    v.kernel_path = engine_.kernel_path();
    for (Direction d : kDirections)
      for (const auto& t : p.chains[index_of(d)])
        v.toxics.push_back({t->spec.name, std::string(t->spec.type_name()), to_string(d),
                            t->activations->load(std::memory_order_relaxed), t->fault_counts->counts()});
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<RetiredCounters> Registry::retired_counters() const {
  std::lock_guard lock(mutex_);
  return retired_;
}

}  // namespace faultline
