// SPDX-License-Identifier: Apache-2.0
// The live MySQL connections, as SHOW PROCESSLIST lists them and KILL finds them. Each entry
// belongs to its connection's coroutine; the registry only points at it, and is used on loop 0.
#pragma once

#include "sql/query_guard.hh"
#include "sql/session.hh"

#include <cstdint>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

namespace tv::sql {

struct connection_state {
    explicit connection_state(session& s);

    session& s;
    int64_t connected_ms = 0;       ///< Unix time in milliseconds
    int64_t command_since_ms = 0;   ///< when the current command (or the idle time) began
    bool busy = false;              ///< a statement is running
    std::string info;               ///< the running statement's text
    std::stop_source stop;          ///< KILL CONNECTION: ends the connection
    query_guard* running = nullptr; ///< KILL QUERY: the statement being run, if any
    int64_t peak_bytes = 0;         ///< the last query text's largest memory reservation
};

class connection_registry {
public:
    void add(connection_state& c);
    void remove(const connection_state& c);
    connection_state* find(uint32_t connection_id) const;
    /// Every connection, by id.
    std::vector<const connection_state*> list() const;
    size_t size() const { return _connections.size(); }

private:
    std::map<uint32_t, connection_state*> _connections;
};

/// Unix time now in milliseconds.
int64_t unix_now_ms();

}  // namespace tv::sql
