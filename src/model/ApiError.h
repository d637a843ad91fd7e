#pragma once
// An error that the API reports to its client: an HTTP status and a message.
#include <stdexcept>
#include <string>

namespace faultline {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message) : std::runtime_error(std::move(message)), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// A request body that is not the JSON the endpoint expects. The message is
// prefixed with "bad request body: " when it reaches the client.
class BadRequestBody : public ApiError {
 public:
  explicit BadRequestBody(const std::string& detail) : ApiError(400, "bad request body: " + detail) {}
};

}  // namespace faultline
