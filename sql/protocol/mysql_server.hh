// SPDX-License-Identifier: Apache-2.0
// The MySQL front end on query_port: accepts clients, runs the handshake and authentication,
// then serves commands until the client quits, the connection breaks, or the server stops.
#pragma once

#include "io/gate.hh"
#include "io/task.hh"
#include "sql/exec/engine.hh"

#include <chrono>
#include <cstddef>
#include <stop_token>

namespace tv::sql {

struct mysql_server_options {
    size_t max_packet = 64u << 20;           // larger packets get ER_NET_PACKET_TOO_LARGE and a close
    size_t max_handshake_packet = 64u << 10; // before authentication
    size_t max_connections = 4096;           // beyond it: ERR 1040 instead of the handshake
    std::chrono::seconds connect_timeout{10};  // to finish the handshake and log in
};

/// Accepts on `listen_fd` until `stop`, then waits for its connections to end (they see the
/// same stop) before it returns.
io::task<void> run_mysql_server(int listen_fd, engine& e, mysql_server_options options, std::stop_token stop);

}  // namespace tv::sql
