#pragma once
// -state-file: what was set up through the API — proxies, their toxics, the
// schedules still to run — kept in a file and read back at start-up, so a
// restart (a crash, a redeploy, a SIGKILL) comes back to where it was.
//
// Every change is written as a whole new file: to FILE.tmp, fsync, the
// current file kept as FILE.prev, then renamed into place (and the folder
// fsynced), so the file is always one complete state that existed. A
// change made through the API is on disk before the API answers it (group
// commit: one write covers every change made while the last one was being
// written). The file carries a SHA-256 of its contents; one that does not
// parse or does not match is refused at start-up with an error naming it,
// and nothing of it is loaded.
//
// What a schedule changed is not state of its own: the file holds the
// proxies and toxics as they would be with every schedule undone, plus the
// schedules themselves, which start over from the beginning after a
// restart. A timed toxic keeps the time it had left.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "config/ConfigFile.h"
#include "control/ControlChange.h"

namespace faultline {

class Scheduler;

class StateFile final : public ChangeObserver {
 public:
  explicit StateFile(std::string path);
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  // What the file at `path` holds, checked through and through; nothing
  // when there is no file yet. Throws ConfigError naming the file and the
  // problem (not JSON, checksum, an entry the config rules refuse).
  static std::optional<LoadedConfig> read(const std::string& path);
  // The same checks on a file's text (`path` names it in errors).
  static LoadedConfig parse(const std::string& text, const std::string& path);

  // Writes the current state, then every later change, on a thread of its
  // own. The scheduler reads the registry and its schedules together
  // (Scheduler::snapshot); it must outlive stop().
  void start(const Scheduler& scheduler);
  // Told of every change (under the registry's or the scheduler's lock): cheap.
  void changed(const ControlChange& change) override;
  // Waits until every change made before the call is on disk (at most 10 s;
  // a failed write is logged and does not block).
  void wait_written();
  // A last write, then the writer stops (shutdown, before schedules undo their faults).
  void stop();

  const std::string& path() const { return path_; }

 private:
  // The state as the file holds it (the JSON text).
  std::string render() const;

  void run();
  bool write_file(const std::string& text);

  std::string path_;
  const Scheduler* scheduler_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable written_cv_;
  uint64_t changes_ = 0;  // changes seen
  uint64_t written_ = 0;  // changes the last write covered
  bool stopping_ = false;
  bool started_ = false;
  std::thread writer_;
};

}  // namespace faultline
