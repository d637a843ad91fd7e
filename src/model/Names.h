#pragma once
// How long a proxy or toxic name may be. Names travel in URLs
// (/proxies/{name}/toxics/{toxic}); a name longer than the API's header
// limit could be created but never addressed again, so names are bounded well
// below it (Toxiproxy has no bound).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace faultline {

inline constexpr size_t kMaxNameBytes = 1000;

// An error naming what is wrong with `name`, or nothing. `what` is "proxy" or "toxic".
inline std::optional<std::string> check_name_length(std::string_view what, std::string_view name) {
  if (name.size() <= kMaxNameBytes) return std::nullopt;
  return fmt::format("{} name is {} bytes long: at most {} bytes are allowed", what, name.size(), kMaxNameBytes);
}

}  // namespace faultline
