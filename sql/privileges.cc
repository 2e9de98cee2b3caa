// SPDX-License-Identifier: Apache-2.0
// Role and table-privilege checks.
#include "sql/privileges.hh"

#include "storage/catalog.hh"

namespace tv::sql {

sql_result<void> require_role(const exec_context& ctx, std::string_view role, std::string_view operation) {
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    if (u != nullptr && (u->name == "root" || u->roles.contains(std::string(role)))) {
        return {};
    }
    return make_error(errc::specific_access_denied,
                      "Access denied; you need (at least one of) the {} privilege(s) for this operation: "
                      "grant the {} role or use root",
                      operation, role);
}

sql_result<void> require_table_privilege(const exec_context& ctx, storage::privilege p, std::string_view db,
                                         std::string_view table) {
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    if (u != nullptr && ctx.catalog.has_table_privilege(*u, p, db, table)) {
        return {};
    }
    return make_error(errc::table_access_denied, "{} command denied to user '{}'@'{}' for table '{}'",
                      storage::privilege_name(p), ctx.s.user, ctx.s.host, table);
}

}  // namespace tv::sql
