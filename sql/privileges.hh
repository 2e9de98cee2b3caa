// SPDX-License-Identifier: Apache-2.0
// Who may run what: root may do everything; the db_admin role covers databases, tables, views,
// materialized views, functions, catalogs, repositories, BACKUP and RESTORE; user_admin covers
// users and grants; SELECT / INSERT grants cover reading and loading tables. Every handler asks
// here before it changes anything.
#pragma once

#include "sql/errors.hh"
#include "sql/context.hh"
#include "sql/result.hh"
#include "storage/catalog_types.hh"
#include "storage/error.hh"

#include <string_view>

namespace tv::sql {

/// Error 1227 unless the session's user is root or holds `role`. `operation` names what was
/// refused in the message ("CREATE DATABASE").
sql_result<void> require_role(const exec_context& ctx, std::string_view role, std::string_view operation);

/// Error 1142 unless the session's user may read (SELECT) or load (INSERT) db.table.
sql_result<void> require_table_privilege(const exec_context& ctx, storage::privilege p, std::string_view db,
                                         std::string_view table);

/// Which statement failed: MySQL reports a missing table as 1051 for DROP, 1146 otherwise.

/// OK, or the mapped error, for a catalog change's outcome.
template <class T>
statement_result done(const storage::storage_result<T>& r, failed_statement kind = failed_statement::other) {
    if (!r) {
        return to_sql_error(r.error(), kind);
    }
    return ok_result{};
}

}  // namespace tv::sql
