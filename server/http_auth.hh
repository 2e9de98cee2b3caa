// SPDX-License-Identifier: Apache-2.0
// Who may call the HTTP API: the `Authorization: Basic` credentials of a request checked against
// the catalog's users (the users and passwords of the MySQL port), and the 401 / 403 answers
// for a caller who may not go on. Every endpoint that changes state asks here first.
#pragma once

#include "io/http_codec.hh"
#include "server/config.hh"

#include <optional>
#include <string>
#include <string_view>

namespace tv::storage {
class catalog;
struct user;
}

namespace tv::server {

/// The realm of every 401 answer's `WWW-Authenticate: Basic realm="tabletvault"`.
inline constexpr std::string_view http_auth_realm = "tabletvault";

/// `{"status":"...","msg":"..."}`: the answer of every endpoint but Stream Load.
io::http_response status_json(int http_status, std::string_view status, std::string_view message);

/// Who sent a request: the catalog user its Basic credentials name, matched against the client's
/// host as the MySQL port matches it, with the password checked; or, with `user` null, the
/// message of the 401 to answer.
struct http_caller {
    const storage::user* user = nullptr;
    std::string refusal;
};

http_caller authenticate_basic(const io::http_request& request, const storage::catalog& catalog,
                               std::string_view client_host);

/// Nothing when the caller is root or holds the db_admin role; else the answer to send: 401 with
/// `WWW-Authenticate` for missing or wrong credentials, 403 for a known user without the role,
/// 503 before the catalog is open. `operation` names the endpoint in the 403 message.
std::optional<io::http_response> require_http_admin(const io::http_request& request, const storage::catalog* catalog,
                                                    std::string_view client_host, std::string_view operation);

/// For a metrics endpoint: nothing when metrics_require_auth is false, or when the caller is any
/// catalog user whose password is right (a monitoring user needs no role or grant: metrics hold
/// no table data); else the 401 (or 503) answer.
std::optional<io::http_response> authorize_metrics(const io::http_request& request, const config& cfg,
                                                   const storage::catalog* catalog, std::string_view client_host);

}  // namespace tv::server
