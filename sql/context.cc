// SPDX-License-Identifier: Apache-2.0
// Which database a statement means: the one it names, or the session's current one.
#include "sql/context.hh"

#include "storage/catalog.hh"

namespace tv::sql {

std::variant<std::string, sql_error> resolve_db(const exec_context& ctx, const std::string& db) {
    if (!db.empty()) {
        return db;
    }
    if (ctx.s.current_db.empty()) {
        return make_error(errc::no_db_selected, "No database selected");
    }
    return ctx.s.current_db;
}

std::variant<const storage::database*, sql_error> need_database(const exec_context& ctx, const std::string& db) {
    auto name = resolve_db(ctx, db);
    if (auto* e = std::get_if<sql_error>(&name)) {
        return *e;
    }
    const storage::database* d = ctx.catalog.find_database(std::get<std::string>(name));
    if (d == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", std::get<std::string>(name));
    }
    return d;
}

}  // namespace tv::sql
