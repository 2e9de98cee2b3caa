// SPDX-License-Identifier: Apache-2.0
// The MySQL front end on query_port: accepts clients, runs the handshake and authentication,
// then serves commands until the client quits, the connection breaks, or the server stops.
#pragma once

#include "io/gate.hh"
#include "io/task.hh"
#include "sql/engine.hh"

#include <cstddef>
#include <stop_token>

namespace tv::sql {

struct mysql_server_options {
    size_t max_packet = 64u << 20;           // larger packets get ER_NET_PACKET_TOO_LARGE and a close
    size_t max_handshake_packet = 64u << 10; // before authentication
};

/// Accepts on `listen_fd` until `stop`; every connection is spawned under `connections`.
io::task<void> run_mysql_server(int listen_fd, engine& e, mysql_server_options options, io::gate& connections,
                                std::stop_token stop);

}  // namespace tv::sql
