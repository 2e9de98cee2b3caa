// SPDX-License-Identifier: Apache-2.0
// engine: what the MySQL front end asks of the SQL layer: authenticate a client, switch its
// database, run a query text (one or more statements), list a table's fields. It owns the
// executor and runs on loop 0, where the catalog lives.
#pragma once

#include "io/task.hh"
#include "sql/connections.hh"
#include "sql/context.hh"
#include "sql/result.hh"
#include "sql/session.hh"

#include <functional>
#include <stop_token>
#include <memory>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

namespace tv::storage {
class catalog;
}

namespace tv::sql {

class engine {
public:
    engine(storage::catalog& catalog, engine_options options);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const engine_options& options() const noexcept { return _options; }

    /// Checks a mysql_native_password answer to `scramble`; fills the session's identity.
    sql_result<void> authenticate(session& s, std::string_view user, std::string_view scramble,
                                  std::string_view auth_response);

    /// COM_INIT_DB and USE.
    sql_result<void> use_database(session& s, std::string_view database);

    /// Parses and runs every statement of `text`, stopping after the first error (its result is
    /// the last one). Statements after `multi_statements == false` and a ';' are an error. Each
    /// statement runs under a query_guard (query_timeout, query_mem_limit) that `connection`'s
    /// stop and KILL QUERY end; the connection shows the statement in SHOW PROCESSLIST.
    io::task<std::vector<statement_result>> execute(session& s, std::string_view text, bool multi_statements,
                                                    connection_state* connection = nullptr);

    /// Once a statement's results are sent: hands memory back to the system after a statement
    /// that held much of it (RSS returns near where it was).
    io::task<void> after_results_sent(connection_state& connection);

    /// Every live MySQL connection (the front end adds and removes them).
    connection_registry& connections() noexcept;

    /// Refreshes asynchronous materialized views on their EVERY schedule until `stop` (mv_scheduler.cc).
    io::task<void> run_refresh_schedule(std::stop_token stop);

    /// COM_FIELD_LIST.
    sql_result<std::vector<column_meta>> field_list(session& s, std::string_view table);

private:
    storage::catalog& catalog() const;

    struct impl;
    std::unique_ptr<impl> _impl;
    engine_options _options;
};

}  // namespace tv::sql
