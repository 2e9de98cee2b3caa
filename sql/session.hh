// SPDX-License-Identifier: Apache-2.0
// One client connection's state as statements see it: who it is, which database is current,
// its session variables and what its client can do.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tv::sql {

struct session {
    uint32_t connection_id = 0;
    std::string user;          // authenticated user name
    std::string host = "%";    // the user entry's host pattern it matched
    std::string client_host;   // the peer's address
    std::string current_db;
    uint32_t capabilities = 0;
    std::map<std::string, std::string, std::less<>> variables;       // session-scope overrides
    std::map<std::string, std::optional<std::string>, std::less<>> user_variables;  // SET @x = ...; nullopt is NULL
};

}  // namespace tv::sql
