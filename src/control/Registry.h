#pragma once
// The proxies and their toxics: the single source of truth behind the API and
// the config file. Every operation validates fully and acquires what it needs
// (listening sockets) before it changes anything, so a request that fails
// leaves everything as it was (D10); failures are ControlErrors.
//
// Locking: names are resolved (DNS) before the lock is taken. Under the lock
// a change is checked, made, and posted to every event loop as one versioned
// snapshot per proxy; the call then lets the lock go and waits for the loops,
// so a change is in force when the call returns while readers never wait on a
// loop. Called from an event loop's own thread a change is posted, in order,
// and the call returns without waiting (it could not: that loop is busy).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "control/ControlChange.h"
#include "control/ControlError.h"
#include "engine/Engine.h"
#include "net/ListenSocket.h"
#include "model/ProxySpec.h"
#include "model/ToxicSpec.h"
#include "toxics/ToxicConfig.h"

namespace faultline {

struct ProxyView {
  ProxySpec spec;
  uint64_t instance = 0;  // which proxy of that name: a new one (created, or replaced by populate) has a new number
  std::vector<ToxicSpec> toxics;  // upstream chain, then downstream chain
  int64_t active_connections = 0;
};

struct ProxyPatch {
  std::optional<std::string> listen;
  std::optional<std::string> upstream;
  std::optional<bool> enabled;
};

struct ToxicPatch {
  std::optional<std::vector<AttributeValue>> attributes;  // every attribute, in schema order
  std::optional<float> toxicity;
  std::optional<Nanos> duration;  // a new life time, counted from now
  std::optional<ClientNetworks> clients;  // which sources it applies to (empty: all)
  // One attribute by name (or "toxicity"), as a schedule sets it; checked
  // against the type's range. With `only_if` set, the change is skipped
  // (no error) unless the value is still `only_if`: a user's change wins.
  struct SetOne {
    std::string attribute;
    AttributeValue value;
    std::optional<AttributeValue> only_if;
  };
  std::optional<SetOne> set;
};

// Several changes to one proxy, applied as one step: all of them, or (when
// one fails) none. What a schedule step does.
struct ToxicBatch {
  struct Update {
    std::string name;
    ToxicPatch patch;
  };
  std::vector<std::string> remove;   // first
  std::vector<std::string> remove_if_present;  // the same, but a missing one is no error
  struct Expire {
    std::string name;
    TimePoint at;
  };
  std::vector<Expire> expire;        // timed toxics, removed only if they still expire at `at`
  std::vector<Update> update;        // then
  bool skip_missing_updates = false; // a toxic to update that is gone is no error (schedules)
  bool quiet = false;                // logs its updates at debug (a ramp's every step)
  std::vector<ToxicSpec> add;        // then, in order
  std::optional<bool> enabled;       // then
  bool cut = false;                  // last: close the proxy's open connections (while it runs)
  // Only for this instance of the proxy: a schedule's step never lands on a
  // new proxy that took the name of the one it was made for (404 instead).
  std::optional<uint64_t> instance;
  std::string origin;                // the schedule making this change (reported with each event)
};

struct PopulateEntry {
  ProxySpec spec;
  std::vector<ToxicSpec> toxics;  // from a config file; the API never sets them
};

// Applies `patch`'s attributes, toxicity and clients to `spec` (not its
// duration: that needs the clock). False when a conditional change
// (SetOne::only_if) finds a user's value and is skipped. Throws ControlError
// for a value the toxic's schema refuses.
bool apply_toxic_patch(ToxicSpec& spec, const ToxicPatch& patch);

// Counters of proxies that stopped running, kept for /metrics.
struct RetiredCounters {
  std::string proxy, listen, upstream;
  uint64_t received[2] = {0, 0};
  uint64_t sent[2] = {0, 0};
};

// What /metrics shows of one proxy.
struct ProxyMetricsView {
  std::string name;
  bool enabled = false;
  std::shared_ptr<ProxyRuntime> runtime;  // null while disabled
  std::shared_ptr<const ProxyCounters> counters;  // since the proxy was created
  struct Toxic {
    std::string name;
    std::string type;
    std::string stream;
    uint64_t activations = 0;
    std::map<FaultTally::Key, uint64_t> faults;  // per-request faults (HTTP toxics)
  };
  std::vector<Toxic> toxics;
  std::vector<std::string> schedules;  // running on it (filled in by the API from the scheduler)
  bool kernel_path = false;            // -fast-path bpf is on: connections_in_kernel means something
};

// Told about changes that end what a schedule relies on. Called after the
// registry's lock is let go, on the thread that made the change.
class RegistryListener {
 public:
  virtual void proxy_removed(const std::string& proxy) = 0;  // deleted, or replaced by populate
  virtual void registry_reset() = 0;
  virtual void toxic_expires(const std::string& proxy, const std::string& toxic, TimePoint at) = 0;

 protected:
  ~RegistryListener() = default;
};

class Registry {
 public:
  explicit Registry(Engine& engine);
  ~Registry();

  // Each throws ControlError; the API turns its kind into a status code.
  ProxyView create_proxy(const ProxySpec& spec);
  ProxyView get_proxy(const std::string& name) const;
  std::vector<ProxyView> list_proxies() const;  // sorted by name
  ProxyView update_proxy(const std::string& name, const ProxyPatch& patch);
  void delete_proxy(const std::string& name);
  std::vector<ProxyView> populate(const std::vector<PopulateEntry>& entries);
  void reset();

  ToxicSpec add_toxic(const std::string& proxy, ToxicSpec toxic);
  ToxicSpec get_toxic(const std::string& proxy, const std::string& name) const;
  std::vector<ToxicSpec> list_toxics(const std::string& proxy) const;
  ToxicSpec update_toxic(const std::string& proxy, const std::string& name, const ToxicPatch& patch);
  void remove_toxic(const std::string& proxy, const std::string& name);
  ProxyView apply(const std::string& proxy, const ToxicBatch& batch);
  // Removes a timed toxic whose time has come; false when it is gone or was
  // given another expiry meanwhile.
  bool expire_toxic(const std::string& proxy, const std::string& name, TimePoint expires_at);
  void set_listener(RegistryListener* listener) { listener_ = listener; }  // before serving
  void set_observer(ChangeObserver* observer) { observer_ = observer; }    // before serving
  void set_chaos_observer(ChaosObserver* observer) { chaos_observer_ = observer; }  // before serving

  // Shutdown: stop accepting everywhere, wait up to `grace` for connections
  // to end by themselves, then close the rest.
  void stop_accepting();  // first step of shutdown: no proxy accepts or may start
  void drain(Nanos grace);
  void end_drain_now();  // any thread: cut the grace period short

  // For metrics: the live runtimes and what stopped ones counted.
  std::vector<std::shared_ptr<ProxyRuntime>> runtimes() const;
  std::vector<RetiredCounters> retired_counters() const;
  std::vector<ProxyMetricsView> metrics_views() const;  // every proxy, sorted by name
  size_t proxy_count() const;

 private:
  struct Proxy {
    ProxySpec spec;
    ToxicChainConfig chains[2];
    uint64_t toxics_version = 0;  // of the last snapshot posted
    uint64_t instance = 0;
    std::shared_ptr<ProxyRuntime> runtime;  // set while listening
    std::shared_ptr<ProxyCounters> counters = std::make_shared<ProxyCounters>();  // for its whole life
    int listen_fd = -1;
    bool running() const { return runtime != nullptr; }
  };
  struct Listener {
    int fd = -1;
    std::string address;
  };

  Proxy& find(const std::string& name);
  const Proxy& find(const std::string& name) const;
  ProxyView view(const Proxy& p) const;
  // A listening socket for `target`: the proxy's own when it already listens
  // there (so a restart never closes the port), else a new one.
  Listener acquire_listener(const Proxy* current, const net::ListenTarget& target);
  void start(Proxy& p, Listener listener, PendingChanges& pending);
  void stop(Proxy& p, bool keep_socket_open, PendingChanges& pending);
  void push_toxics(Proxy& p, PendingChanges& pending);
  ToxicSnapshotPtr snapshot_of(Proxy& p);
  // A new snapshot; one of an existing toxic keeps `previous`'s counters and shared state.
  ToxicConfigPtr make_config(ToxicSpec spec, uint64_t id, uint64_t generation, const ToxicConfig* previous = nullptr);
  ToxicConfigPtr updated_config(const ToxicConfig& current, const ToxicPatch& patch);
  void retire_counters(const ProxyRuntime& rt);
  void log_batch(const std::string& proxy, const ToxicBatch& batch) const;
  ToxicSpec find_spec_locked(const std::string& proxy, const std::string& name) const;

  ToxicSpec shown(const ToxicSpec& spec) const;  // with expires_in_ms filled in

  Engine& engine_;
  RegistryListener* listener_ = nullptr;
  ChangeObserver* observer_ = nullptr;
  ChaosObserver* chaos_observer_ = nullptr;
  // Reports a change to the observer (under the lock, so in order).
  void report(ControlChange change) const {
    if (observer_) observer_->changed(change);
  }
  void report_proxy(ChangeKind kind, const Proxy& p, std::string_view reason = {}, std::string_view origin = {}) const;
  void report_toxic(ChangeKind kind, const std::string& proxy, const ToxicSpec& t, std::string_view reason = {},
                    std::string_view origin = {}) const;
  mutable std::recursive_mutex mutex_;
  std::map<std::string, Proxy> proxies_;
  uint64_t next_runtime_id_ = 1;
  uint64_t next_instance_ = 1;
  uint64_t next_toxic_id_ = 1;
  uint64_t next_generation_ = 1;
  std::vector<RetiredCounters> retired_;
  std::atomic<bool> draining_{false};     // no proxy may start once shutdown began
  std::atomic<bool> drain_cut_short_{false};
};

// The address a listen string would bind to, without binding ("localhost:80"
// -> "127.0.0.1:80"); the string itself when it cannot be resolved.
std::string canonical_listen_address(const std::string& listen);
std::string canonical_listen_address(const net::ListenTarget& target);

}  // namespace faultline
