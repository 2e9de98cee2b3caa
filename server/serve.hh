// SPDX-License-Identifier: Apache-2.0
// `tabletvault serve`: start-up checks, the data directory, loops, listeners, and a clean
// shutdown on SIGINT/SIGTERM.
#pragma once

#include "io/probe.hh"
#include "server/config.hh"

namespace tv::server {

/// Runs the server until SIGINT or SIGTERM. Returns the process exit code: 0 after a clean
/// shutdown, 1 when start-up is refused (the reason is logged).
int serve(config cfg, io::opcode_probe& probe);

}  // namespace tv::server
