// SPDX-License-Identifier: Apache-2.0
// Compiled by CTest only (tests/CMakeLists.txt): with TV_UNKNOWN_KEY it must fail to compile,
// because cfg.get<"...">() checks the key against the registry; without, it must compile.
#include "server/config.hh"

#include <cstdint>
#include <string>

int64_t port(const tv::server::config& cfg) {
    return cfg.get<"http_port">();
}

const std::string& dir(const tv::server::config& cfg) {
    return cfg.get<"data_dir">();
}

#ifdef TV_UNKNOWN_KEY
int64_t misspelt(const tv::server::config& cfg) {
    return cfg.get<"htpp_port">();
}
#endif
