// SPDX-License-Identifier: Apache-2.0
// HTTP Basic authentication against the catalog's users, and the refusals of the HTTP API.
#include "server/http_auth.hh"

#include "io/printable.hh"
#include "server/http_text.hh"
#include "storage/catalog.hh"
#include "storage/password.hh"

#include <fmt/format.h>

#include <cstdint>

namespace tv::server {

namespace {

std::optional<std::string> base64_decoded(std::string_view in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    uint32_t bits = 0;
    int count = 0;
    for (char c : in) {
        if (c == '=') {
            break;
        }
        int v = value(c);
        if (v < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

io::http_response unauthorized(std::string_view message) {
    io::http_response response = status_json(401, "UNAUTHORIZED", message);
    response.headers.emplace_back("WWW-Authenticate", fmt::format("Basic realm=\"{}\"", http_auth_realm));
    return response;
}

io::http_response starting() {
    return status_json(503, "BAD", "the server is starting");
}

}  // namespace

io::http_response status_json(int http_status, std::string_view status, std::string_view message) {
    return {http_status, "application/json",
            fmt::format("{{\"status\":\"{}\",\"msg\":\"{}\"}}\n", status, json_escape(message)), {}};
}

http_caller authenticate_basic(const io::http_request& request, const storage::catalog& catalog,
                               std::string_view client_host) {
    std::string_view authorization = request.header("Authorization");
    std::optional<std::string> credentials;
    if (authorization.size() > 6 && authorization.substr(0, 6) == "Basic ") {
        credentials = base64_decoded(authorization.substr(6));
    }
    size_t colon = credentials ? credentials->find(':') : std::string::npos;
    if (colon == std::string::npos) {
        return {nullptr, "no valid Basic authorization: use curl -u user:password"};
    }
    std::string_view name = std::string_view(*credentials).substr(0, colon);
    std::string_view password = std::string_view(*credentials).substr(colon + 1);
    const storage::user* u = catalog.match_user(name, client_host);
    bool password_ok = u != nullptr && (u->password_hash.empty()
                                            ? password.empty()
                                            : storage::native_password_hash(password) == u->password_hash);
    if (!password_ok) {
        // The MySQL port's message: an unknown user and a wrong password read the same.
        return {nullptr, fmt::format("Access denied for user '{}'@'{}' (using password: {})", printable_value(name),
                                     client_host, password.empty() ? "NO" : "YES")};
    }
    return {u, {}};
}

std::optional<io::http_response> require_http_admin(const io::http_request& request, const storage::catalog* catalog,
                                                    std::string_view client_host, std::string_view operation) {
    if (catalog == nullptr) {
        return starting();
    }
    http_caller caller = authenticate_basic(request, *catalog, client_host);
    if (caller.user == nullptr) {
        return unauthorized(caller.refusal);
    }
    if (caller.user->name == "root" || caller.user->roles.contains(std::string(storage::role_db_admin))) {
        return std::nullopt;
    }
    return status_json(403, "FORBIDDEN",
                       fmt::format("Access denied for user {}: {} needs root or the {} role", caller.user->identity(),
                                   operation, storage::role_db_admin));
}

std::optional<io::http_response> authorize_metrics(const io::http_request& request, const config& cfg,
                                                   const storage::catalog* catalog, std::string_view client_host) {
    if (cfg.get<"metrics_require_auth">() != "true") {
        return std::nullopt;
    }
    if (catalog == nullptr) {
        return starting();
    }
    http_caller caller = authenticate_basic(request, *catalog, client_host);
    if (caller.user == nullptr) {
        return unauthorized(caller.refusal);
    }
    return std::nullopt;
}

}  // namespace tv::server
