#include "state/StateFile.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/JsonViews.h"
#include "control/Registry.h"
#include "json/BoundedParse.h"
#include "log/Log.h"
#include "schedule/Scheduler.h"

namespace faultline {

namespace {

constexpr int kFormat = 1;
// The proxies come last, so their text can be hashed as it stands in the file.
constexpr std::string_view kProxiesKey = ",\"proxies\":";

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  ::SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string utc_now() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void remove_toxic(PopulateEntry& entry, const std::string& name) {
  std::erase_if(entry.toxics, [&](const ToxicSpec& t) { return t.name == name; });
}

// What the state would be had the schedule just been cancelled: its undo
// applied to the proxy's saved copy. A step that does not fit (a toxic the
// user removed meanwhile) is skipped, as the scheduler would skip it.
void undo_on(PopulateEntry& entry, const ToxicBatch& undo) {
  for (const auto& name : undo.remove) remove_toxic(entry, name);
  for (const auto& name : undo.remove_if_present) remove_toxic(entry, name);
  for (const auto& e : undo.expire) remove_toxic(entry, e.name);
  for (const auto& u : undo.update)
    for (auto& t : entry.toxics)
      if (t.name == u.name) {
        try {
          apply_toxic_patch(t, u.patch);
        } catch (const std::exception&) {
        }
      }
  for (const auto& t : undo.add)
    if (std::none_of(entry.toxics.begin(), entry.toxics.end(), [&](const ToxicSpec& s) { return s.name == t.name; }))
      entry.toxics.push_back(t);
  if (undo.enabled) entry.spec.enabled = *undo.enabled;
}

// One toxic as the file keeps it: the API's JSON, a timed toxic with the time it had left.
std::optional<nlohmann::ordered_json> toxic_entry(const ToxicSpec& t) {
  auto j = nlohmann::ordered_json::parse(api::toxic_json(t));
  if (t.duration) {
    const int64_t left = j.value("expires_in_ms", int64_t{0});
    if (left <= 0) return std::nullopt;
    j["duration_ms"] = left;
    j.erase("expires_in_ms");
  }
  return j;
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

StateFile::StateFile(std::string path) : path_(std::move(path)) {}

StateFile::~StateFile() { stop(); }

std::optional<LoadedConfig> StateFile::read(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("state file {}: cannot be read: {}", path, std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

LoadedConfig StateFile::parse(const std::string& text, const std::string& path) {
  const std::string keep = fmt::format("; nothing was loaded from it (the previous good state, if any, is {}.prev)", path);
  nlohmann::ordered_json doc;
  try {
    doc = json::parse_bounded(text, kMaxConfigDepth, true);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("state file {}: not a complete JSON document (torn or corrupt): {}{}", path, e.what(), keep));
  }
  // Every field's type is checked before it is read: a file altered by hand
  // may hold anything (nlohmann's value() throws on a mistyped field).
  const bool format_ok = doc.is_object() && doc.contains("faultline_state") && doc["faultline_state"].is_number_integer() &&
                         doc["faultline_state"].get<int64_t>() == kFormat;
  if (!format_ok || !doc.contains("sha256") || !doc["sha256"].is_string())
    throw ConfigError(fmt::format("state file {}: not a faultline state file of format {}{}", path, kFormat, keep));
  const size_t at = text.find(kProxiesKey);
  const size_t end = text.rfind('}');
  if (at == std::string::npos || end == std::string::npos || end < at + kProxiesKey.size())
    throw ConfigError(fmt::format("state file {}: it has no proxies list{}", path, keep));
  const std::string proxies = text.substr(at + kProxiesKey.size(), end - at - kProxiesKey.size());
  if (sha256_hex(proxies) != doc["sha256"].get<std::string>())
    throw ConfigError(fmt::format("state file {}: its checksum does not match its contents (corrupt, or edited by hand: "
                                  "use -config for a hand-written file){}",
                                  path, keep));
  try {
    return parse_config_text(proxies, path, false);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("state file {}{}", e.what(), keep));
  }
}

std::string StateFile::render() const {
  const Scheduler::Snapshot snapshot = scheduler_->snapshot();
  std::vector<PopulateEntry> state;
  for (const ProxyView& p : snapshot.proxies) state.push_back({p.spec, p.toxics});
  const auto& schedules = snapshot.schedules;
  for (const auto& s : schedules)
    for (auto& entry : state)
      if (entry.spec.name == s.spec.proxy) undo_on(entry, s.undo);

  auto proxies = nlohmann::ordered_json::array();
  for (const PopulateEntry& entry : state) {
    nlohmann::ordered_json p;
    p["name"] = entry.spec.name;
    p["listen"] = entry.spec.listen;
    p["upstream"] = entry.spec.upstream;
    p["enabled"] = entry.spec.enabled;
    auto toxics = nlohmann::ordered_json::array();
    for (const ToxicSpec& t : entry.toxics)
      if (auto j = toxic_entry(t)) toxics.push_back(std::move(*j));
    if (!toxics.empty()) p["toxics"] = std::move(toxics);
    auto own = nlohmann::ordered_json::array();
    for (const auto& s : schedules) {
      if (s.spec.proxy != entry.spec.name || s.spec.source.empty()) continue;
      auto j = nlohmann::ordered_json::parse(s.spec.source, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      j.erase("proxy");
      j["name"] = s.spec.name;
      own.push_back(std::move(j));
    }
    if (!own.empty()) p["schedules"] = std::move(own);
    proxies.push_back(std::move(p));
  }
  const std::string proxies_text = proxies.dump(1);
  return fmt::format("{{\"faultline_state\":{},\"saved_at\":\"{}\",\"sha256\":\"{}\"{}{}}}\n", kFormat, utc_now(),
                     sha256_hex(proxies_text), kProxiesKey, proxies_text);
}

bool StateFile::write_file(const std::string& text) {
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    log::error("state file not written", {{"file", tmp}, {"error", std::strerror(errno)}});
    return false;
  }
  const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    log::error("state file not written", {{"file", tmp}, {"error", std::strerror(saved_errno)}});
    return false;
  }
  // The state being replaced stays as FILE.prev: a hard link, so it costs nothing.
  const std::string prev = path_ + ".prev", prev_tmp = path_ + ".prev.tmp";
  ::unlink(prev_tmp.c_str());
  if (::link(path_.c_str(), prev_tmp.c_str()) == 0) ::rename(prev_tmp.c_str(), prev.c_str());
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    log::error("state file not written", {{"file", path_}, {"error", std::strerror(errno)}});
    return false;
  }
  // The rename itself is durable only once the folder is.
  const std::string folder = std::filesystem::path(path_).parent_path().string();
  const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

void StateFile::start(const Scheduler& scheduler) {
  std::lock_guard lock(mutex_);
  if (started_) return;
  scheduler_ = &scheduler;
  started_ = true;
  ++changes_;  // the state as it is now gets written at once
  writer_ = std::thread([this] { run(); });
}

void StateFile::changed(const ControlChange&) {
  std::lock_guard lock(mutex_);
  ++changes_;
  wake_.notify_one();
}

void StateFile::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || changes_ > written_; });
    if (changes_ == written_ && stopping_) break;
    const uint64_t covering = changes_;
    lock.unlock();
    const bool ok = write_file(render());
    lock.lock();
    (void)ok;  // a failed write is logged; waiting clients are not held for ever
    written_ = covering;
    written_cv_.notify_all();
  }
}

void StateFile::wait_written() {
  std::unique_lock lock(mutex_);
  if (!started_) return;
  const uint64_t target = changes_;
  written_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return written_ >= target || (stopping_ && !writer_.joinable()); });
}

void StateFile::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  writer_.join();
  written_cv_.notify_all();
}

}  // namespace faultline
