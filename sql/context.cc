// SPDX-License-Identifier: Apache-2.0
// Which database a statement means: the one it names, or the session's current one.
#include "sql/context.hh"

#include "storage/catalog.hh"

namespace tv::sql {

sql_result<std::string> resolve_db(const exec_context& ctx, const std::string& db) {
    if (!db.empty()) {
        return db;
    }
    if (ctx.s.current_db.empty()) {
        return make_error(errc::no_db_selected, "No database selected");
    }
    return ctx.s.current_db;
}

sql_result<const storage::database*> need_database(const exec_context& ctx, const std::string& db) {
    auto name = resolve_db(ctx, db);
    if (!name) {
        return name.error();
    }
    const storage::database* d = ctx.catalog.find_database(*name);
    if (d == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", *name);
    }
    return d;
}

}  // namespace tv::sql
