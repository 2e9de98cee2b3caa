// SPDX-License-Identifier: Apache-2.0
// The HTTP API on http_port: /api/health (open), /metrics (open unless metrics_require_auth),
// /api/update_config (root or db_admin) and Stream Load (INSERT), one coroutine per connection,
// every connection held by the API's gate and cancelled through the server's stop token.
#pragma once

#include <functional>

#include "io/gate.hh"
#include "io/http_codec.hh"
#include "io/task.hh"
#include "server/config.hh"

#include <stop_token>

namespace tv::storage {
class catalog;
struct data_options;
}

namespace tv::jobs {
class job_tracker;
}

namespace tv::server {

class transfer_service;

struct http_api_context {
    config& cfg;
    /// Set once the catalog is open; Stream Load answers 503 before that.
    storage::catalog* catalog = nullptr;
    const storage::data_options* data = nullptr;
    /// Set once the job tracker is open (on this loop); /metrics shows jobs from then on.
    const jobs::job_tracker* jobs = nullptr;
    /// The transfer engine and its buffer pool, for /metrics; null in tests that need neither.
    transfer_service* transfers = nullptr;
    /// Told after every accepted /api/update_config change (live speed limits).
    std::function<void(const config&)> config_changed;
};

/// Answers one request from `client_host` (an address, as the catalog's user hosts match it);
/// pure apart from configuration changes, so tests can call it directly. An endpoint that
/// changes state asks for Basic auth (server/http_auth.hh).
io::http_response handle_http_request(const io::http_request& request, http_api_context& ctx,
                                      std::string_view client_host);

/// Accepts connections on `listen_fd` until `stop` fires, then waits for the open ones to end.
/// At most http_max_connections at once (others are answered 503); each under the header and
/// idle timeouts (server/http_connection.hh).
io::task<void> run_http_api(int listen_fd, http_api_context& ctx, std::stop_token stop);

}  // namespace tv::server
