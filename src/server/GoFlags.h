#pragma once
// Command-line flags with the syntax of Go's flag package, which
// toxiproxy-server uses and which scripts and Dockerfiles already contain:
// -name value, -name=value, --name value, --name=value; a boolean flag is
// -name or -name=false. (CLI11 and friends read "-host" as five short flags.)
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline {

class GoFlags {
 public:
  explicit GoFlags(std::string program) : program_(std::move(program)) {}

  void add_bool(const std::string& name, bool* target, const std::string& help);
  void add_string(const std::string& name, std::string* target, const std::string& help);
  void add_int(const std::string& name, int64_t* target, const std::string& help);
  // Accepts Go durations ("5s", "250ms", "1m30s") or a plain number of seconds.
  void add_duration(const std::string& name, std::chrono::nanoseconds* target, const std::string& help);

  // Returns an error text, or nothing on success. "-h"/"-help" set help_requested().
  std::optional<std::string> parse(int argc, char** argv);
  bool help_requested() const { return help_requested_; }
  bool was_set(const std::string& name) const;
  std::string usage() const;

 private:
  enum class Kind { Bool, String, Int, Duration };
  struct Flag {
    std::string name;
    Kind kind;
    void* target;
    std::string help;
    std::string default_text;
    bool set = false;
  };
  std::optional<std::string> assign(Flag& flag, const std::string& value);
  Flag* find(const std::string& name);

  std::string program_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

std::optional<std::chrono::nanoseconds> parse_go_duration(const std::string& text);

}  // namespace faultline
