// SPDX-License-Identifier: Apache-2.0
// The HTTP side of Stream Load: PUT /api/{db}/{table}/_stream_load with Basic auth, 100-continue,
// the body streamed into sql::stream_load, and StarRocks' JSON answer.
#pragma once

#include "io/http_codec.hh"
#include "io/task.hh"

#include <optional>
#include <string>
#include <string_view>

namespace tv::server {

struct http_api_context;
class peer_deadline;

/// {db, table} when `path` is a Stream Load path.
struct stream_load_target {
    std::string db;
    std::string table;
};
std::optional<stream_load_target> parse_stream_load_path(std::string_view path);

/// Runs one Stream Load on `fd` and sends its answer. Returns whether the connection may carry
/// another request (false when the body was not read to its end or the peer went away; the
/// connection has then been ended as it should be). The body is read under `deadline`
/// (http_idle_timeout_seconds per piece), which is disarmed while the rows are written.
io::task<bool> serve_stream_load(int fd, const io::http_request& head, io::http_body_reader& body,
                                 stream_load_target target, std::string client_host, http_api_context& ctx,
                                 peer_deadline& deadline);

}  // namespace tv::server
