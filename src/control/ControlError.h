#pragma once
// What the control plane refuses, as domain errors. The API maps each kind
// to its status code (api/Api.cpp); the config loader and the CLI print them.
#include <stdexcept>
#include <string>

namespace faultline {

enum class ControlErrorKind {
  NotFound,       // no such proxy or toxic
  AlreadyExists,  // the name is taken
  Invalid,        // a value the change cannot use
  Unavailable,    // shutting down: nothing may start
  SystemFailure,  // the system refused (a port in use, no descriptors)
};

class ControlError : public std::runtime_error {
 public:
  ControlError(ControlErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ControlErrorKind kind() const { return kind_; }

 private:
  ControlErrorKind kind_;
};

}  // namespace faultline
