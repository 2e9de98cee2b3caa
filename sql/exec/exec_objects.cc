// SPDX-License-Identifier: Apache-2.0
// Views, materialized views (synchronous and asynchronous), functions and external catalogs,
// with their SHOW statements.
#include "io/ascii.hh"
#include "sql/exec/exec_data.hh"
#include "sql/exec/executor.hh"
#include "sql/query/query_source.hh"
#include "sql/privileges.hh"
#include "sql/query/information_schema.hh"
#include "sql/exec/show_create.hh"
#include "sql/variables.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

namespace tv::sql {

namespace {

/// The database a statement works in, after the db_admin check.
sql_result<std::string> writable_db(exec_context& ctx, const std::string& db, std::string_view operation) {
    auto resolved = resolve_db(ctx, db);
    if (!resolved) {
        return resolved;
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, operation); !allowed) {
        return allowed.error();
    }
    return resolved;
}

/// The table, view or materialized view a query reads from must exist ("db.name" for
/// materialized view bookkeeping), or error 1146.
sql_result<std::string> query_source(exec_context& ctx, const std::string& db, const select_stmt& q) {
    if (!q.from) {
        return std::string{};
    }
    const auto* ref = std::get_if<table_ref>(&*q.from);
    if (ref == nullptr) {
        return std::string{};  // a table function
    }
    std::string source_db = ref->name.db.empty() ? db : ref->name.db;
    if (is_information_schema(source_db) && information_schema_schema(ref->name.name)) {
        return std::string(information_schema_name) + "." + ascii_lower(ref->name.name);
    }
    if (ctx.catalog.find_table(source_db, ref->name.name) == nullptr &&
        ctx.catalog.find_view(source_db, ref->name.name) == nullptr &&
        ctx.catalog.find_materialized_view(source_db, ref->name.name) == nullptr) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", source_db, ref->name.name);
    }
    return source_db + "." + ref->name.name;
}

io::task<statement_result> create_view(exec_context& ctx, const create_view_stmt& s) {
    auto db = writable_db(ctx, s.name.db, "CREATE VIEW");
    if (!db) {
        co_return db.error();
    }
    const std::string& database = *db;
    auto source = query_source(ctx, database, s.query);
    if (!source) {
        co_return source.error();
    }
    storage::view v;
    v.name = s.name.name;
    for (const auto& c : s.columns) {
        v.columns.push_back({c.name, c.comment.value_or("")});
    }
    v.query_text = s.query_text;
    v.comment = s.comment.value_or("");
    co_return done(co_await ctx.catalog.create_view(database, std::move(v), s.if_not_exists, s.or_replace));
}

io::task<statement_result> alter_view(exec_context& ctx, const alter_view_stmt& s) {
    auto db = writable_db(ctx, s.name.db, "ALTER VIEW");
    if (!db) {
        co_return db.error();
    }
    auto source = query_source(ctx, *db, s.query);
    if (!source) {
        co_return source.error();
    }
    storage::view v;
    v.name = s.name.name;
    for (const auto& c : s.columns) {
        v.columns.push_back({c.name, c.comment.value_or("")});
    }
    v.query_text = s.query_text;
    co_return done(co_await ctx.catalog.alter_view(*db, std::move(v)));
}

/// The columns of a synchronous materialized view: plain columns of the base table and
/// SUM / MIN / MAX / COUNT over them, named as StarRocks names them (mv_sum_x).
sql_result<std::vector<storage::column>> sync_view_columns(const storage::table& base,
                                                           const select_stmt& q) {
    if (!q.group_by.empty() && q.group_by.size() >= q.items.size()) {
        return make_error(errc::parse, "A synchronous materialized view needs at least one aggregated column");
    }
    std::vector<storage::column> columns;
    for (const auto& item : q.items) {
        if (item.star) {
            return make_error(errc::parse, "A synchronous materialized view must name its columns, not *");
        }
        const expr& e = *item.value;
        if (const auto* ref = e.as<column_ref>()) {
            const storage::column* c = base.find_column(ref->column);
            if (c == nullptr) {
                return make_error(errc::bad_field, "Unknown column '{}' in '{}'", ref->column, base.name);
            }
            storage::column copy = *c;
            copy.agg = storage::aggregation::none;
            if (item.alias) {
                copy.name = *item.alias;
            }
            columns.push_back(std::move(copy));
            continue;
        }
        const auto* call = e.as<function_call>();
        const column_ref* arg = (call != nullptr && call->args.size() == 1) ? call->args[0].as<column_ref>() : nullptr;
        if (arg == nullptr) {
            return make_error(errc::parse,
                              "A synchronous materialized view column must be a column or SUM/MIN/MAX/COUNT of one: {}",
                              item.text);
        }
        const storage::column* c = base.find_column(arg->column);
        if (c == nullptr) {
            return make_error(errc::bad_field, "Unknown column '{}' in '{}'", arg->column, base.name);
        }
        std::string fn = ascii_lower(call->name);
        storage::column out = *c;
        out.nullable = true;
        if (fn == "sum") {
            out.agg = storage::aggregation::sum;
        } else if (fn == "min") {
            out.agg = storage::aggregation::min;
        } else if (fn == "max") {
            out.agg = storage::aggregation::max;
        } else if (fn == "count") {
            out.agg = storage::aggregation::sum;
            out.type = storage::column_type{storage::type_kind::bigint};
            out.nullable = false;
        } else {
            return not_supported(fmt::format("{} in a synchronous materialized view", call->name));
        }
        out.name = item.alias.value_or(fmt::format("mv_{}_{}", fn, c->name));
        out.default_value.reset();
        columns.push_back(std::move(out));
    }
    return columns;
}

io::task<statement_result> create_mv(exec_context& ctx, const create_materialized_view_stmt& s) {
    auto db = writable_db(ctx, s.name.db, "CREATE MATERIALIZED VIEW");
    if (!db) {
        co_return db.error();
    }
    const std::string& database = *db;
    auto source = query_source(ctx, database, s.query);
    if (!source) {
        co_return source.error();
    }
    const bool synchronous = !s.has_refresh_clause && !s.distribution && s.partition_by.empty();
    if (synchronous) {
        const auto* ref = s.query.from ? std::get_if<table_ref>(&*s.query.from) : nullptr;
        const storage::table* base = nullptr;
        if (ref != nullptr) {
            base = ctx.catalog.find_table(ref->name.db.empty() ? database : ref->name.db, ref->name.name);
        }
        if (base == nullptr || (ref != nullptr && !ref->name.db.empty() && ref->name.db != database)) {
            co_return make_error(errc::parse,
                                 "A synchronous materialized view (no REFRESH clause) must select from one table of "
                                 "its own database; add a REFRESH clause for an asynchronous one");
        }
        auto columns = sync_view_columns(*base, s.query);
        if (!columns) {
            co_return columns.error();
        }
        std::string base_name = base->name;
        auto created = co_await ctx.catalog.create_sync_materialized_view(
            database, base_name, s.name.name, s.query_text,
            std::move(*columns), s.if_not_exists);
        if (!created || *created == 0) {
            co_return done(created);
        }
        // The rows already in the table go into the new index before anyone reads it; a view
        // that cannot be filled is dropped again rather than left holding part of them.
        auto filled = co_await backfill_sync_materialized_view(ctx, database, base_name, s.name.name);
        if (!filled) {
            co_await ctx.catalog.drop_materialized_view(database, s.name.name, true);
            co_return filled.error();
        }
        co_return ok_result{};
    }
    storage::materialized_view mv;
    mv.name = s.name.name;
    mv.query_text = s.query_text;
    if (s.refresh) {
        static const char* kinds[] = {"ASYNC", "MANUAL", "INCREMENTAL"};
        mv.refresh.mode = kinds[static_cast<int>(s.refresh->kind)];
        if (s.refresh->moment) {
            mv.refresh.mode =
                std::string(*s.refresh->moment == refresh_moment::immediate ? "IMMEDIATE " : "DEFERRED ") + mv.refresh.mode;
        }
        mv.refresh.start = s.refresh->start.value_or("");
        if (s.refresh->every) {
            mv.refresh.interval = to_sql(*s.refresh->every);
        }
    } else {
        mv.refresh.mode = "MANUAL";
    }
    if (s.distribution) {
        mv.dist.random = s.distribution->kind == distribution_kind::random;
        mv.dist.columns = s.distribution->columns;
        auto buckets = written_buckets(s.distribution->buckets);
        if (!buckets) {
            co_return buckets.error();
        }
        mv.dist.buckets = *buckets;
    }
    // The view's rows live in tablets of their own: their columns are the query's output.
    std::string saved_db = ctx.s.current_db;
    ctx.s.current_db = database;
    auto rows = open_select(ctx, s.query);
    ctx.s.current_db = saved_db;
    if (!rows) {
        co_return rows.error();
    }
    const auto& output = (*rows)->schema();
    if (!s.columns.empty() && s.columns.size() != output.size()) {
        co_return make_error(errc::unknown, "Materialized view '{}' names {} columns but its query has {}", mv.name,
                             s.columns.size(), output.size());
    }
    for (size_t i = 0; i < output.size(); ++i) {
        storage::column c;
        c.name = s.columns.empty() ? output[i].name : s.columns[i].name;
        c.type = output[i].type;
        c.nullable = true;
        mv.columns.push_back(std::move(c));
    }
    if (!s.distribution) {
        mv.dist.random = true;  // StarRocks' default for a view without DISTRIBUTED BY
    }
    mv.partition_expr = s.partition_by_text;
    mv.props = s.properties;
    mv.comment = s.comment.value_or("");
    if (!source->empty()) {
        mv.base_tables.push_back(*source);
    }
    co_return done(co_await ctx.catalog.create_materialized_view(database, std::move(mv), s.if_not_exists));
}

/// The database of a function statement ("" for GLOBAL ones), after the db_admin check.
sql_result<std::string> function_db(exec_context& ctx, bool global, const std::string& db,
                                    std::string_view operation) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, operation); !allowed) {
        return allowed.error();
    }
    return global ? std::string{} : resolve_db(ctx, db);
}

io::task<statement_result> create_function(exec_context& ctx, const create_function_stmt& s) {
    auto db = function_db(ctx, s.global, s.name.db, "CREATE FUNCTION");
    if (!db) {
        co_return db.error();
    }
    const std::string& database = *db;
    storage::function fn;
    fn.name = s.name.name;
    for (const auto& t : s.arg_types) {
        fn.arg_types.push_back(to_sql(t));
    }
    fn.variadic = s.variadic;
    fn.return_type = to_sql(s.return_type);
    fn.intermediate_type = s.intermediate_type ? to_sql(*s.intermediate_type) : "";
    fn.kind = static_cast<storage::function_kind>(s.kind);
    fn.props = s.properties;
    co_return done(co_await ctx.catalog.create_function(database, std::move(fn), s.if_not_exists));
}

io::task<statement_result> drop_function(exec_context& ctx, const drop_function_stmt& s) {
    auto db = function_db(ctx, s.global, s.name.db, "DROP FUNCTION");
    if (!db) {
        co_return db.error();
    }
    const std::string& database = *db;
    std::vector<std::string> types;
    for (const auto& t : s.arg_types) {
        types.push_back(to_sql(t));
    }
    co_return done(co_await ctx.catalog.drop_function(database, s.name.name, std::move(types), s.variadic, s.if_exists));
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string properties_text(const storage::properties& props) {
    std::string out = "{";
    for (const auto& [k, v] : props) {
        out += fmt::format("{}{}: {}", out.size() > 1 ? ", " : "", json_string(k), json_string(v));
    }
    return out + "}";
}

statement_result show_functions(exec_context& ctx, const show_functions_stmt& s) {
    if (s.builtin) {
        return not_supported("SHOW BUILTIN FUNCTIONS");
    }
    const std::vector<storage::function>* list = &ctx.catalog.global_functions();
    if (!s.global) {
        auto found = need_database(ctx, s.db);
        if (!found) {
            return found.error();
        }
        list = &(*found)->functions;
    }
    static const char* kinds[] = {"Scalar", "Aggregate", "Table"};
    result_set rs = s.full ? make_result({"Signature", "Return Type", "Function Type", "Intermediate Type", "Properties"})
                           : make_result({"Function Name"});
    for (const auto& f : *list) {
        if (s.full) {
            rs.rows.push_back({f.signature(), f.return_type, kinds[static_cast<int>(f.kind)],
                               f.intermediate_type.empty() ? cell{} : cell{f.intermediate_type}, properties_text(f.props)});
        } else {
            rs.rows.push_back({f.name});
        }
    }
    if (auto filtered = apply_show_filter(ctx, s.filter, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result show_mvs(exec_context& ctx, const show_materialized_views_stmt& s) {
    auto found = need_database(ctx, s.db);
    if (!found) {
        return found.error();
    }
    const storage::database* d = *found;
    // The name column first so that LIKE filters on it.
    result_set rs = make_result({"name", "id", "database_name", "refresh_type", "is_active", "inactive_reason",
                                 "partition_type", "text"});
    for (const auto& [name, mv] : d->mvs) {
        rs.rows.push_back({mv.name, std::to_string(mv.id), d->name, mv.refresh.mode, mv.active ? "true" : "false",
                           mv.inactive_reason, mv.partition_expr.empty() ? "UNPARTITIONED" : "EXPR", mv.query_text});
    }
    for (const auto& [table_name, t] : d->tables) {
        for (size_t i = 1; i < t.indexes.size(); ++i) {  // indexes[0] is the base index
            const auto& index = t.indexes[i];
            rs.rows.push_back({index.name, std::to_string(index.id), d->name, "ROLLUP", "true", "", "UNPARTITIONED",
                               index.query_text});
        }
    }
    if (auto filtered = apply_show_filter(ctx, s.filter, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result show_catalogs(exec_context& ctx) {
    result_set rs = make_result({"Catalog", "Type", "Comment"});
    rs.rows.push_back({"default_catalog", "Internal", "An internal catalog contains this cluster's self-managed tables."});
    // As StarRocks, a user sees the external catalogs it holds a privilege on: here db_admin
    // (and root), the only holders of catalog privileges.
    if (!require_role(ctx, storage::role_db_admin, "SHOW CATALOGS")) {
        return rs;
    }
    for (const auto& [name, c] : ctx.catalog.external_catalogs()) {
        auto type = storage::find_property(c.props, "type");
        rs.rows.push_back({c.name, type ? cell{std::string(*type)} : cell{}, c.comment});
    }
    return rs;
}

}  // namespace

io::task<std::optional<statement_result>> execute_object_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<create_view_stmt>(&stmt)) {
        co_return co_await create_view(ctx, *s);
    }
    if (const auto* s = std::get_if<alter_view_stmt>(&stmt)) {
        co_return co_await alter_view(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_view_stmt>(&stmt)) {
        auto db = writable_db(ctx, s->name.db, "DROP VIEW");
        if (!db) {
            co_return db.error();
        }
        co_return done(co_await ctx.catalog.drop_view(*db, s->name.name, s->if_exists),
                       failed_statement::drop);
    }
    if (const auto* s = std::get_if<create_materialized_view_stmt>(&stmt)) {
        co_return co_await create_mv(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_materialized_view_stmt>(&stmt)) {
        auto db = writable_db(ctx, s->name.db, "DROP MATERIALIZED VIEW");
        if (!db) {
            co_return db.error();
        }
        co_return done(
            co_await ctx.catalog.drop_materialized_view(*db, s->name.name, s->if_exists),
            failed_statement::drop);
    }
    if (const auto* s = std::get_if<alter_materialized_view_stmt>(&stmt)) {
        if (s->action != mv_alter_action::active && s->action != mv_alter_action::inactive) {
            co_return not_supported("ALTER MATERIALIZED VIEW other than ACTIVE / INACTIVE");
        }
        auto db = writable_db(ctx, s->name.db, "ALTER MATERIALIZED VIEW");
        if (!db) {
            co_return db.error();
        }
        co_return done(co_await ctx.catalog.set_materialized_view_active(*db, s->name.name,
                                                                          s->action == mv_alter_action::active));
    }
    if (const auto* s = std::get_if<create_function_stmt>(&stmt)) {
        co_return co_await create_function(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_function_stmt>(&stmt)) {
        co_return co_await drop_function(ctx, *s);
    }
    if (const auto* s = std::get_if<create_catalog_stmt>(&stmt)) {
        if (auto allowed = require_role(ctx, storage::role_db_admin, "CREATE EXTERNAL CATALOG"); !allowed) {
            co_return allowed.error();
        }
        co_return done(co_await ctx.catalog.create_external_catalog(s->name, s->comment.value_or(""), s->properties,
                                                                     s->if_not_exists));
    }
    if (const auto* s = std::get_if<drop_catalog_stmt>(&stmt)) {
        if (auto allowed = require_role(ctx, storage::role_db_admin, "DROP CATALOG"); !allowed) {
            co_return allowed.error();
        }
        co_return done(co_await ctx.catalog.drop_external_catalog(s->name, s->if_exists));
    }
    if (const auto* s = std::get_if<show_functions_stmt>(&stmt)) {
        co_return show_functions(ctx, *s);
    }
    if (const auto* s = std::get_if<show_materialized_views_stmt>(&stmt)) {
        co_return show_mvs(ctx, *s);
    }
    if (std::holds_alternative<show_catalogs_stmt>(stmt)) {
        co_return show_catalogs(ctx);
    }
    co_return std::optional<statement_result>{};
}

}  // namespace tv::sql
