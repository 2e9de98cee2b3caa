// SPDX-License-Identifier: Apache-2.0
// What every statement runs with: the catalog, the session, the server's options and the
// statement's text. Small on purpose: every stage of sql/ includes it, so it names no stage.
#pragma once

#include "sql/errors.hh"
#include "sql/session.hh"
#include "storage/data_options.hh"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tv::storage {
class catalog;
struct database;
}

namespace tv::jobs {
class job_tracker;
}

namespace tv::sql {

class connection_registry;
class query_guard;

/// One configuration key as ADMIN SHOW FRONTEND CONFIG lists it.
struct config_entry {
    std::string key;
    std::string value;
    std::string type;
    bool is_mutable = false;
    std::string comment;
};

/// This server as SHOW FRONTENDS and SHOW BACKENDS list it (one node is both), provided by
/// server/ once it listens.
struct node_info {
    std::string host;          ///< the address it listens on (the host name for a wildcard address)
    uint16_t query_port = 0;   ///< MySQL protocol, as bound (a configured 0 picks a free port)
    uint16_t http_port = 0;
    int64_t start_time_ms = 0; ///< when the process started serving
};

struct engine_options {
    std::string server_version = "8.0.33";
    /// The server's configuration, provided by server/ (sql/ cannot see it directly).
    std::function<std::vector<config_entry>()> list_config;
    /// Validates and applies every pair, or changes nothing and returns the reason.
    std::function<std::optional<std::string>(const std::vector<std::pair<std::string, std::string>>&)> set_config;
    /// Where tablet data lives and the loops loads and scans spread over.
    storage::data_options data;
    /// local_repository_roots, normalized: where CREATE REPOSITORY may put a local repository
    /// (empty: anywhere outside the data directory).
    std::vector<std::string> local_repository_roots;
    /// BACKUP and RESTORE jobs (null in an engine without them: those statements answer 1235).
    jobs::job_tracker* jobs = nullptr;
    node_info node;
};

struct exec_context {
    storage::catalog& catalog;
    session& s;
    const engine_options& options;
    const std::string& text;  // the statement's source text
    /// What stops the statement and bounds its memory; null for internal statements.
    query_guard* guard = nullptr;
    /// Every live connection (SHOW PROCESSLIST, KILL); null outside a MySQL server.
    connection_registry* connections = nullptr;
};

/// "db" from a qualified name, or the session's current database; error 1046 when neither.
sql_result<std::string> resolve_db(const exec_context& ctx, const std::string& db);

/// The database resolve_db() names, which must exist (error 1049 otherwise).
sql_result<const storage::database*> need_database(const exec_context& ctx, const std::string& db);

}  // namespace tv::sql
