// SPDX-License-Identifier: Apache-2.0
// Databases and tables: CREATE/DROP/ALTER DATABASE, SHOW DATABASES, CREATE/DROP/ALTER/TRUNCATE TABLE,
// SHOW TABLES, SHOW CREATE ..., DESC and SHOW COLUMNS.
#include "io/ascii.hh"
#include "sql/exec/executor.hh"
#include "sql/privileges.hh"
#include "sql/query/information_schema.hh"
#include "sql/exec/show_create.hh"
#include "sql/variables.hh"
#include "storage/catalog.hh"

namespace tv::sql {

namespace {

using maybe_result = std::optional<statement_result>;

// ---- From the AST to the catalog's definitions ----------------------------------------------

std::vector<std::string> partition_values(const partition_tuple& tuple) {
    std::vector<std::string> out;
    for (const auto& v : tuple) {
        out.push_back(v.max_value ? std::string(storage::max_value) : v.value);
    }
    return out;
}

sql_result<storage::partition_desc> to_partition_desc(const partition_def& def) {
    if (!def.properties.empty()) {
        return not_supported("PROPERTIES on a single partition");
    }
    storage::partition_desc desc;
    desc.name = def.name;
    if (const auto* lt = std::get_if<less_than_bound>(&def.bound)) {
        desc.kind = storage::partition_desc::form::less_than;
        desc.upper = partition_values(lt->upper);
    } else if (const auto* fixed = std::get_if<fixed_range_bound>(&def.bound)) {
        desc.kind = storage::partition_desc::form::fixed_range;
        desc.lower = partition_values(fixed->lower);
        desc.upper = partition_values(fixed->upper);
    } else {
        desc.kind = storage::partition_desc::form::list;
        for (const auto& tuple : std::get<list_bound>(def.bound).values) {
            desc.values.push_back(partition_values(tuple));
        }
    }
    return desc;
}

sql_result<storage::column> to_column(const column_def& def) {
    storage::column c;
    c.name = def.name;
    auto type = storage::column_type::from_name(def.type.name, def.type.params);
    if (!type) {
        return make_error(errc::parse, "{}", type.error().message);
    }
    c.type = *type;
    c.nullable = def.nullable.value_or(true);
    if (def.auto_increment) {
        return not_supported("AUTO_INCREMENT");
    }
    if (def.default_value) {
        switch (def.default_value->kind) {
        case default_kind::literal: c.default_value = {storage::default_kind::literal, def.default_value->value}; break;
        case default_kind::null: c.default_value = {storage::default_kind::null, ""}; break;
        case default_kind::current_timestamp:
            c.default_value = {storage::default_kind::current_timestamp, ""};
            break;
        case default_kind::expression: return not_supported("DEFAULT (expression)");
        }
    }
    if (def.aggregate) {
        static const std::pair<std::string_view, storage::aggregation> names[] = {
            {"SUM", storage::aggregation::sum},
            {"MIN", storage::aggregation::min},
            {"MAX", storage::aggregation::max},
            {"REPLACE", storage::aggregation::replace},
            {"REPLACE_IF_NOT_NULL", storage::aggregation::replace_if_not_null},
            {"HLL_UNION", storage::aggregation::hll_union},
            {"BITMAP_UNION", storage::aggregation::bitmap_union},
        };
        bool found = false;
        for (const auto& [name, agg] : names) {
            if (*def.aggregate == name) {
                c.agg = agg;
                found = true;
            }
        }
        if (!found) {
            return not_supported(*def.aggregate + " aggregation");
        }
    }
    c.comment = def.comment.value_or("");
    return c;
}

sql_result<storage::distribution> to_distribution(const distribution_desc& d) {
    auto buckets = written_buckets(d.buckets);
    if (!buckets) {
        return buckets.error();
    }
    storage::distribution out;
    out.random = d.kind == distribution_kind::random;
    out.columns = d.columns;
    out.buckets = *buckets;
    return out;
}

sql_result<storage::table_definition> to_table_definition(const create_table_stmt& stmt) {
    if (stmt.external) {
        return not_supported("CREATE EXTERNAL TABLE");
    }
    if (stmt.as_select) {
        return not_supported("CREATE TABLE ... AS SELECT");
    }
    if (!stmt.indexes.empty()) {
        return not_supported("INDEX definitions in CREATE TABLE");
    }
    if (!stmt.order_by.empty()) {
        return not_supported("ORDER BY in CREATE TABLE");
    }
    if (stmt.engine && ascii_lower(*stmt.engine) != "olap") {
        return make_error(errc::unknown, "Unknown table engine '{}': only OLAP tables are supported", *stmt.engine);
    }
    storage::table_definition def;
    def.name = stmt.name.name;
    for (const auto& c : stmt.columns) {
        auto column = to_column(c);
        if (!column) {
            return column.error();
        }
        def.columns.push_back(std::move(*column));
    }
    if (stmt.keys) {
        static const storage::key_model models[] = {storage::key_model::duplicate, storage::key_model::aggregate,
                                                    storage::key_model::unique, storage::key_model::primary};
        def.keys = models[static_cast<int>(stmt.keys->kind)];
        def.key_columns = stmt.keys->columns;
    }
    if (stmt.partition) {
        const auto& p = *stmt.partition;
        if (p.kind == partition_kind::expression) {
            return not_supported("expression partitioning (PARTITION BY expr)");
        }
        if (!p.batches.empty()) {
            return not_supported("START ... END ... EVERY partitions");
        }
        if (p.columns.size() != p.exprs.size()) {
            return not_supported("partitioning by expressions");
        }
        def.partition_by = p.kind == partition_kind::range ? storage::partition_kind::range : storage::partition_kind::list;
        def.partition_columns = p.columns;
        for (const auto& part : p.partitions) {
            auto desc = to_partition_desc(part);
            if (!desc) {
                return desc.error();
            }
            def.partitions.push_back(std::move(*desc));
        }
    }
    if (stmt.distribution) {
        auto dist = to_distribution(*stmt.distribution);
        if (!dist) {
            return dist.error();
        }
        def.dist = std::move(*dist);
    }
    def.props = stmt.properties;
    def.comment = stmt.comment.value_or("");
    return def;
}

// ---- Handlers ---------------------------------------------------------------------------------

io::task<statement_result> run(exec_context& ctx, const create_database_stmt& s) {
    if (!s.catalog.empty() && s.catalog != "default_catalog") {
        co_return not_supported("databases in external catalogs");
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "CREATE DATABASE"); !allowed) {
        co_return allowed.error();
    }
    co_return done(co_await ctx.catalog.create_database(s.name, s.properties, s.if_not_exists));
}

io::task<statement_result> run(exec_context& ctx, const drop_database_stmt& s) {
    if (!s.catalog.empty() && s.catalog != "default_catalog") {
        co_return not_supported("databases in external catalogs");
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "DROP DATABASE"); !allowed) {
        co_return allowed.error();
    }
    auto r = co_await ctx.catalog.drop_database(s.name, s.if_exists);
    if (!r && r.error().code == storage::storage_errc::unknown_database) {
        co_return sql_error{errc::db_drop_missing, r.error().message};
    }
    if (r && ctx.s.current_db == s.name) {
        ctx.s.current_db.clear();
    }
    co_return done(r);
}

io::task<statement_result> run(exec_context& ctx, const create_table_stmt& s) {
    auto db = resolve_db(ctx, s.name.db);
    if (!db) {
        co_return db.error();
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "CREATE TABLE"); !allowed) {
        co_return allowed.error();
    }
    auto def = to_table_definition(s);
    if (!def) {
        co_return def.error();
    }
    co_return done(co_await ctx.catalog.create_table(*db,
                                                      std::move(*def),
                                                      s.if_not_exists));
}

io::task<statement_result> run(exec_context& ctx, const drop_table_stmt& s) {
    auto db = resolve_db(ctx, s.name.db);
    if (!db) {
        co_return db.error();
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "DROP TABLE"); !allowed) {
        co_return allowed.error();
    }
    co_return done(co_await ctx.catalog.drop_table(*db, s.name.name, s.if_exists),
                   failed_statement::drop);
}

io::task<statement_result> run(exec_context& ctx, const alter_table_stmt& s) {
    auto db = resolve_db(ctx, s.name.db);
    if (!db) {
        co_return db.error();
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "ALTER TABLE"); !allowed) {
        co_return allowed.error();
    }
    const std::string& database = *db;
    if (const auto* add = std::get_if<add_partition_clause>(&s.clause)) {
        if (add->temporary || add->batch) {
            co_return not_supported(add->temporary ? "temporary partitions" : "ADD PARTITIONS START ... END ... EVERY");
        }
        auto desc = to_partition_desc(*add->partition);
        if (!desc) {
            co_return desc.error();
        }
        auto& d = *desc;
        if (add->distribution) {
            auto buckets = written_buckets(add->distribution->buckets);
            if (!buckets) {
                co_return buckets.error();
            }
            d.buckets = *buckets;
        }
        co_return done(co_await ctx.catalog.add_partition(database, s.name.name, std::move(d),
                                                          add->partition->if_not_exists));
    }
    if (const auto* drop = std::get_if<drop_partition_clause>(&s.clause)) {
        if (drop->temporary) {
            co_return not_supported("temporary partitions");
        }
        co_return done(co_await ctx.catalog.drop_partition(database, s.name.name, drop->name, drop->if_exists));
    }
    if (const auto* rename = std::get_if<rename_table_clause>(&s.clause)) {
        co_return done(co_await ctx.catalog.rename_table(database, s.name.name, rename->new_name));
    }
    if (const auto* swap = std::get_if<swap_table_clause>(&s.clause)) {
        co_return done(co_await ctx.catalog.swap_tables(database, s.name.name, swap->other));
    }
    if (const auto* rename = std::get_if<rename_partition_clause>(&s.clause)) {
        co_return done(co_await ctx.catalog.rename_partition(database, s.name.name, rename->name, rename->new_name));
    }
    co_return not_supported("ALTER TABLE SET");
}

io::task<statement_result> run(exec_context& ctx, const alter_database_stmt& s) {
    const std::string& catalog = s.name.db;
    if (!catalog.empty() && catalog != "default_catalog") {
        co_return not_supported("databases in external catalogs");
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "ALTER DATABASE"); !allowed) {
        co_return allowed.error();
    }
    co_return done(co_await ctx.catalog.rename_database(s.name.name, s.new_name));
}

io::task<statement_result> run(exec_context& ctx, const truncate_table_stmt& s) {
    auto db = resolve_db(ctx, s.name.db);
    if (!db) {
        co_return db.error();
    }
    if (auto allowed = require_role(ctx, storage::role_db_admin, "TRUNCATE TABLE"); !allowed) {
        co_return allowed.error();
    }
    co_return done(co_await ctx.catalog.truncate_table(*db, s.name.name, s.partitions));
}

statement_result show_databases(exec_context& ctx, const show_databases_stmt& s) {
    if (!s.catalog.empty() && s.catalog != "default_catalog") {
        return not_supported("SHOW DATABASES FROM an external catalog");
    }
    result_set rs = make_result({"Database"});
    std::vector<std::string> names = ctx.catalog.list_databases();
    names.emplace_back(information_schema_name);  // listed as StarRocks lists it
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        rs.rows.push_back({name});
    }
    if (auto filtered = apply_show_filter(ctx, s.filter, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result show_tables(exec_context& ctx, const show_tables_stmt& s) {
    auto found = need_database(ctx, s.db);
    if (!found) {
        return found.error();
    }
    const storage::database* d = *found;
    std::string column = "Tables_in_" + d->name;
    result_set rs = s.full ? make_result({column.c_str(), "Table_type"}) : make_result({column.c_str()});
    std::map<std::string, std::string> names;  // sorted, as StarRocks lists them
    for (const auto& [name, t] : d->tables) {
        names.emplace(name, "BASE TABLE");
    }
    for (const auto& [name, v] : d->views) {
        names.emplace(name, "VIEW");
    }
    for (const auto& [name, mv] : d->mvs) {
        names.emplace(name, "VIEW");
    }
    for (const auto& [name, type] : names) {
        rs.rows.push_back(s.full ? row{name, type} : row{name});
    }
    if (auto filtered = apply_show_filter(ctx, s.filter, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result show_create(exec_context& ctx, const show_create_stmt& s) {
    if (s.kind == show_create_kind::catalog) {
        // StarRocks asks for a privilege on the catalog (USAGE); catalog privileges cannot be
        // granted here yet, and db_admin holds them all in StarRocks, so it is db_admin or root.
        if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW CREATE CATALOG"); !allowed) {
            return allowed.error();
        }
        const storage::external_catalog* c = ctx.catalog.find_external_catalog(s.name.name);
        if (c == nullptr) {
            return make_error(errc::bad_db, "Unknown catalog '{}'", s.name.name);
        }
        return one_row({"Catalog", "Create Catalog"}, {c->name, show_create_catalog(*c)});
    }
    if (s.kind == show_create_kind::database) {
        const storage::database* d = ctx.catalog.find_database(s.name.name);
        if (d == nullptr) {
            return make_error(errc::bad_db, "Unknown database '{}'", s.name.name);
        }
        return one_row({"Database", "Create Database"}, {d->name, show_create_database(*d)});
    }
    if (s.kind == show_create_kind::repository) {
        if (auto allowed = require_role(ctx, storage::role_db_admin, "SHOW CREATE REPOSITORY"); !allowed) {
            return allowed.error();
        }
        return not_supported("SHOW CREATE REPOSITORY");
    }
    auto found = need_database(ctx, s.name.db);
    if (!found) {
        return found.error();
    }
    const std::string& database = (*found)->name;
    const auto* mv = ctx.catalog.find_materialized_view(database, s.name.name);
    const auto* v = ctx.catalog.find_view(database, s.name.name);
    const auto* t = ctx.catalog.find_table(database, s.name.name);
    if (s.kind == show_create_kind::materialized_view || (s.kind == show_create_kind::table && mv != nullptr)) {
        if (mv == nullptr) {
            return make_error(errc::bad_table, "Unknown materialized view '{}.{}'", database, s.name.name);
        }
        return one_row({"Materialized View", "Create Materialized View"}, {mv->name, show_create_materialized_view(*mv)});
    }
    if (v != nullptr) {
        return one_row({"View", "Create View", "character_set_client", "collation_connection"},
                       {v->name, show_create_view(*v), "utf8", "utf8_general_ci"});
    }
    if (s.kind == show_create_kind::view || t == nullptr) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", database, s.name.name);
    }
    return one_row({"Table", "Create Table"}, {t->name, show_create_table(*t)});
}

sql_result<const storage::table*> need_table(exec_context& ctx, const qualified_name& name) {
    auto found = need_database(ctx, name.db);
    if (!found) {
        return found.error();
    }
    const std::string& database = (*found)->name;
    const storage::table* t = ctx.catalog.find_table(database, name.name);
    if (t == nullptr) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", database, name.name);
    }
    return t;
}

statement_result describe(exec_context& ctx, const qualified_name& name, const show_filter* filter, bool full) {
    auto t = need_table(ctx, name);
    if (!t) {
        return t.error();
    }
    result_set rs = describe_table(**t);
    if (full) {
        const auto& columns = (*t)->columns;
        for (const char* extra : {"Collation", "Privileges", "Comment"}) {
            rs.columns.push_back({extra, column_kind::varchar});
        }
        for (size_t i = 0; i < rs.rows.size(); ++i) {
            rs.rows[i].push_back(columns[i].type.is_string() ? cell{"utf8_general_ci"} : cell{});
            rs.rows[i].push_back("select,insert");
            rs.rows[i].push_back(columns[i].comment);
        }
    }
    if (filter != nullptr) {
        if (auto filtered = apply_show_filter(ctx, *filter, rs); !filtered) {
            return filtered.error();
        }
    }
    return rs;
}

}  // namespace

io::task<std::optional<statement_result>> execute_schema_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<create_database_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_database_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<create_table_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<drop_table_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<alter_table_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<truncate_table_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<alter_database_stmt>(&stmt)) {
        co_return co_await run(ctx, *s);
    }
    if (const auto* s = std::get_if<show_databases_stmt>(&stmt)) {
        co_return show_databases(ctx, *s);
    }
    if (const auto* s = std::get_if<show_tables_stmt>(&stmt)) {
        co_return show_tables(ctx, *s);
    }
    if (const auto* s = std::get_if<show_create_stmt>(&stmt)) {
        co_return show_create(ctx, *s);
    }
    if (const auto* s = std::get_if<describe_stmt>(&stmt)) {
        co_return describe(ctx, s->table, nullptr, false);
    }
    if (const auto* s = std::get_if<show_columns_stmt>(&stmt)) {
        co_return describe(ctx, s->table, &s->filter, s->full);
    }
    co_return maybe_result{};
}

}  // namespace tv::sql
