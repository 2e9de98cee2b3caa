// SPDX-License-Identifier: Apache-2.0
// The registry of live connections.
#include "sql/connections.hh"

#include <chrono>

namespace tv::sql {

int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

connection_state::connection_state(session& session_) : s(session_) {
    connected_ms = unix_now_ms();
    command_since_ms = connected_ms;
}

void connection_registry::add(connection_state& c) {
    _connections[c.s.connection_id] = &c;
}

void connection_registry::remove(const connection_state& c) {
    auto it = _connections.find(c.s.connection_id);
    if (it != _connections.end() && it->second == &c) {
        _connections.erase(it);
    }
}

connection_state* connection_registry::find(uint32_t connection_id) const {
    auto it = _connections.find(connection_id);
    return it == _connections.end() ? nullptr : it->second;
}

std::vector<const connection_state*> connection_registry::list() const {
    std::vector<const connection_state*> out;
    out.reserve(_connections.size());
    for (const auto& [id, c] : _connections) {
        out.push_back(c);
    }
    return out;
}

}  // namespace tv::sql
