#pragma once
// Shell completion scripts for `faultline completion bash|zsh`.
#include <string>

namespace faultline::cli {

// The script for `shell` ("bash" or "zsh"); empty for any other shell.
std::string completion_script(const std::string& shell);

}  // namespace faultline::cli
