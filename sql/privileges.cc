// SPDX-License-Identifier: Apache-2.0
// Role checks and the catalog-error to MySQL-error table.
#include "sql/privileges.hh"

#include "storage/catalog.hh"

namespace tv::sql {

std::optional<sql_error> require_role(const exec_context& ctx, std::string_view role, std::string_view operation) {
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    if (u != nullptr && (u->name == "root" || u->roles.contains(std::string(role)))) {
        return std::nullopt;
    }
    return make_error(errc::specific_access_denied,
                      "Access denied; you need (at least one of) the {} privilege(s) for this operation: "
                      "grant the {} role or use root",
                      operation, role);
}

std::optional<sql_error> require_table_privilege(const exec_context& ctx, storage::privilege p, std::string_view db,
                                                 std::string_view table) {
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    if (u != nullptr && ctx.catalog.has_table_privilege(*u, p, db, table)) {
        return std::nullopt;
    }
    return make_error(errc::table_access_denied, "{} command denied to user '{}'@'{}' for table '{}'",
                      storage::privilege_name(p), ctx.s.user, ctx.s.host, table);
}

sql_error to_sql_error(const storage::catalog_error& e, failed_statement kind) {
    using storage::catalog_errc;
    errc code = errc::unknown;
    switch (e.code) {
    case catalog_errc::database_exists: code = errc::db_create_exists; break;
    case catalog_errc::unknown_database: code = errc::bad_db; break;
    case catalog_errc::table_exists: code = errc::table_exists; break;
    case catalog_errc::unknown_table:
    case catalog_errc::unknown_view:
    case catalog_errc::unknown_materialized_view:
        code = kind == failed_statement::drop ? errc::bad_table : errc::no_such_table;
        break;
    case catalog_errc::wrong_object_type: code = errc::wrong_object; break;
    case catalog_errc::duplicate_column: code = errc::duplicate_field; break;
    case catalog_errc::partition_exists: code = errc::same_partition_name; break;
    case catalog_errc::unknown_partition: code = errc::drop_partition_missing; break;
    case catalog_errc::function_exists: code = errc::function_exists; break;
    case catalog_errc::unknown_function: code = errc::no_such_function; break;
    case catalog_errc::catalog_exists: code = errc::db_create_exists; break;
    case catalog_errc::unknown_catalog: code = errc::bad_db; break;
    case catalog_errc::repository_exists: code = errc::db_create_exists; break;
    case catalog_errc::unknown_repository: code = errc::bad_db; break;
    case catalog_errc::user_exists:
    case catalog_errc::unknown_user: code = errc::cannot_user; break;
    case catalog_errc::unknown_role: code = errc::parse; break;
    case catalog_errc::no_such_grant: code = errc::no_such_grant; break;
    case catalog_errc::bad_name: code = errc::bad_table_name; break;
    case catalog_errc::bad_definition: code = errc::parse; break;
    case catalog_errc::not_allowed: code = errc::specific_access_denied; break;
    case catalog_errc::io_error:
    case catalog_errc::corrupt_metadata: code = errc::unknown; break;
    }
    return sql_error{code, e.message};
}

}  // namespace tv::sql
