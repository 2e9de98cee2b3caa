// SPDX-License-Identifier: Apache-2.0
// Opening FROM clauses: storage scans behind the batch_source interface, views as nested
// queries, generate_series with constant arguments.
#include "sql/query/query_source.hh"

#include "io/ascii.hh"
#include "sql/expression/const_eval.hh"
#include "sql/privileges.hh"
#include "sql/query/information_schema.hh"
#include "sql/parser/parser.hh"
#include "storage/catalog.hh"
#include "storage/table_scan.hh"

namespace tv::sql {

namespace {

/// Views may name views; a cycle (possible through CREATE OR REPLACE) ends here.
constexpr int k_max_view_depth = 32;

class scan_source final : public batch_source {
public:
    explicit scan_source(std::unique_ptr<storage::table_scan> scan) : _scan(std::move(scan)) {}
    const std::vector<storage::column_desc>& schema() const override { return _scan->schema(); }
    io::task<sql_result<std::optional<storage::column_batch>>> next() override {
        auto batch = co_await _scan->next();
        if (!batch) {
            co_return make_error(errc::unknown, "{}", batch.error().message);
        }
        co_return std::move(*batch);
    }

private:
    std::unique_ptr<storage::table_scan> _scan;
};

/// A view's rows under its declared column names (CREATE VIEW v (a, b) AS ...).
class renamed_source final : public batch_source {
public:
    renamed_source(std::unique_ptr<batch_source> inner, std::vector<storage::column_desc> schema)
        : _inner(std::move(inner)), _schema(std::move(schema)) {}
    const std::vector<storage::column_desc>& schema() const override { return _schema; }
    io::task<sql_result<std::optional<storage::column_batch>>> next() override {
        auto r = co_await _inner->next();
        if (r && *r) {
            co_return std::optional(storage::column_batch(_schema, (*r)->release_columns()));
        }
        co_return r;
    }

private:
    std::unique_ptr<batch_source> _inner;
    std::vector<storage::column_desc> _schema;
};

sql_result<void> require_select_through(const exec_context& ctx, const std::string& db, const std::string& name,
                                        int depth);

/// SELECT on what a stored definition (a view's or an asynchronous materialized view's query)
/// reads, named relative to the object's database `db`. `base_tables` ("db.table") stand in
/// for a definition that does not parse here (a materialized view restored from StarRocks
/// with a join): a view like that cannot be read at all, and opening it says why.
sql_result<void> require_select_beneath(const exec_context& ctx, const std::string& db, std::string_view object,
                                        std::string_view query_text, const std::vector<std::string>& base_tables,
                                        int depth) {
    if (depth >= k_max_view_depth) {
        return make_error(errc::unknown, "View '{}' nests views deeper than {}: is it defined through itself?",
                          object, k_max_view_depth);
    }
    auto select = parse_stored_select(query_text);
    if (!select) {
        for (const auto& qualified : base_tables) {
            size_t dot = qualified.find('.');
            std::string base_db = dot == std::string::npos ? db : qualified.substr(0, dot);
            std::string base = dot == std::string::npos ? qualified : qualified.substr(dot + 1);
            if (auto allowed = require_select_through(ctx, base_db, base, depth + 1); !allowed) {
                return allowed.error();
            }
        }
        return {};
    }
    if (!select->from) {
        return {};  // constants only
    }
    const auto* ref = std::get_if<table_ref>(&*select->from);
    if (ref == nullptr) {
        return {};  // TABLE(generate_series(...)) reads no table
    }
    const std::string& base_db = ref->name.db.empty() ? db : ref->name.db;
    return require_select_through(ctx, base_db, ref->name.name, depth + 1);
}

/// SELECT on db.name and on everything beneath it: a view or a materialized view shows its base
/// tables' rows, so reading it needs SELECT on them too, at every depth and across databases
/// (docs/security.md#privileges). A synchronous materialized view needs SELECT on its table.
/// Checked once, before anything is opened, so a refusal names the first object the user may
/// not read.
sql_result<void> require_select_through(const exec_context& ctx, const std::string& db, const std::string& name,
                                        int depth) {
    if (is_information_schema(db)) {
        return {};  // everyone may read it; its rows are only what the reader may see
    }
    if (auto allowed = require_table_privilege(ctx, storage::privilege::select, db, name); !allowed) {
        return allowed.error();
    }
    if (const storage::view* v = ctx.catalog.find_view(db, name)) {
        return require_select_beneath(ctx, db, v->name, v->query_text, {}, depth);
    }
    if (const storage::materialized_view* mv = ctx.catalog.find_materialized_view(db, name)) {
        return require_select_beneath(ctx, db, mv->name, mv->query_text, mv->base_tables, depth);
    }
    const storage::database* d = ctx.catalog.find_database(db);
    if (d == nullptr || d->tables.contains(name)) {
        return {};
    }
    for (const auto& [table_name, t] : d->tables) {
        const storage::materialized_index* index = t.find_index(name);
        if (index != nullptr && index != &t.indexes.front()) {
            return require_table_privilege(ctx, storage::privilege::select, db, table_name);
        }
    }
    return {};
}

sql_result<opened_source> open_table_function(exec_context& ctx, const table_function_ref& f) {
    if (ascii_lower(f.name) != "generate_series") {
        return make_error(errc::no_such_function, "Unknown table function '{}'", f.name);
    }
    if (f.args.size() < 2 || f.args.size() > 3) {
        return make_error(errc::unknown, "generate_series takes (start, end[, step]), got {} arguments", f.args.size());
    }
    int64_t values[3] = {0, 0, 1};
    for (size_t i = 0; i < f.args.size(); ++i) {
        auto not_integer = [&] {
            return make_error(errc::unknown, "generate_series arguments must be integers: {}", to_sql(f.args[i]));
        };
        auto arg = compile_constant(f.args[i], ctx.s);
        if (!arg) {
            return arg.error();
        }
        using storage::type_kind;
        const type_kind kind = (*arg)->type().kind;
        const bool integer = kind == type_kind::bigint || kind == type_kind::int_ || kind == type_kind::smallint ||
                             kind == type_kind::tinyint || kind == type_kind::boolean;
        if (!integer || (*arg)->null_literal()) {
            return not_integer();
        }
        auto as_bigint = convert(std::move(*arg), simple_type(type_kind::bigint));
        if (!as_bigint) {
            return as_bigint.error();
        }
        auto v = evaluate_compiled(*as_bigint);
        if (!v) {
            return v.error();
        }
        if (v->is_null()) {
            return not_integer();
        }
        values[i] = v->column.values<int64_t>()[0];
    }
    if (values[2] == 0) {
        return make_error(errc::unknown, "generate_series step must not be 0");
    }
    opened_source out;
    out.source = make_generate_series(values[0], values[1], values[2]);
    out.name = f.alias.value_or("generate_series");
    if (!f.column_aliases.empty()) {
        if (f.column_aliases.size() != 1) {
            return make_error(errc::unknown, "generate_series has one column, {} names given", f.column_aliases.size());
        }
        auto schema = out.source->schema();
        schema[0].name = f.column_aliases[0];
        out.source = std::make_unique<renamed_source>(std::move(out.source), std::move(schema));
    }
    return out;
}

sql_result<opened_source> open_view(exec_context& ctx, const std::string& db, const storage::view& v,
                                    int depth);

sql_result<std::unique_ptr<batch_source>> open_select_at(exec_context& ctx, const select_stmt& select,
                                                         int depth);

sql_result<opened_source> open_from_at(exec_context& ctx, const from_clause& from,
                                       const std::optional<expr>& where, int depth) {
    if (const auto* f = std::get_if<table_function_ref>(&from)) {
        return open_table_function(ctx, *f);
    }
    const auto& ref = std::get<table_ref>(from);
    auto db = resolve_db(ctx, ref.name.db);
    if (!db) {
        return db.error();
    }
    const std::string& database = *db;
    if (is_information_schema(database)) {
        auto rows = open_information_schema(ctx, ref.name.name);
        if (!rows) {
            return rows.error();
        }
        return opened_source{std::move(*rows), ref.alias.value_or(ref.name.name)};
    }
    if (ctx.catalog.find_database(database) == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", database);
    }
    const std::string& name = ref.name.name;
    if (const storage::view* v = ctx.catalog.find_view(database, name)) {
        if (depth >= k_max_view_depth) {
            return make_error(errc::unknown, "View '{}' nests views deeper than {}: is it defined through itself?",
                              name, k_max_view_depth);
        }
        if (depth == 0) {
            if (auto allowed = require_select_through(ctx, database, name, 0); !allowed) {
                return allowed.error();
            }
        }
        auto opened = open_view(ctx, database, *v, depth + 1);
        if (opened && ref.alias) {
            opened->name = *ref.alias;
        }
        return opened;
    }
    storage::scan_request request;
    request.db = database;
    request.table = name;
    if (const storage::table* t = ctx.catalog.find_table(database, name)) {
        request.table = t->name;
        request.partitions = prune_partitions(*t, where);
        if (request.partitions.empty() && !t->partitioning.partitions.empty() && where) {
            // Nothing can match: scan no partition at all rather than all of them.
            request.partitions.push_back(0);
        }
    }
    // What a view reads was checked where the outermost object was named.
    if (depth == 0) {
        if (auto allowed = require_select_through(ctx, database, request.table, 0); !allowed) {
            return allowed.error();
        }
    }
    auto scan = storage::table_scan::open(ctx.catalog, ctx.options.data, std::move(request));
    if (!scan) {
        return to_sql_error(scan.error());
    }
    opened_source out;
    out.source = std::make_unique<scan_source>(std::move(*scan));
    out.name = ref.alias.value_or(name);
    return out;
}

sql_result<opened_source> open_view(exec_context& ctx, const std::string& db, const storage::view& v,
                                    int depth) {
    auto select = parse_stored_select(v.query_text);
    if (!select) {
        return make_error(errc::unknown, "View '{}' has a definition that no longer parses: {}", v.name, v.query_text);
    }
    // The view's query names tables relative to the view's database, not the session's.
    std::string saved = ctx.s.current_db;
    ctx.s.current_db = db;
    auto rows = open_select_at(ctx, *select, depth);
    ctx.s.current_db = saved;
    if (!rows) {
        // A view keeps its text when a table it reads is renamed or dropped (as in StarRocks):
        // say which view still names it.
        if (rows.error().code == errc::no_such_table && rows.error().message.find(" named by view '") == std::string::npos) {
            return make_error(errc::no_such_table, "{} named by view '{}.{}'", rows.error().message, db, v.name);
        }
        return rows.error();
    }
    opened_source out;
    out.source = std::move(*rows);
    out.name = v.name;
    if (!v.columns.empty()) {
        auto schema = out.source->schema();
        if (schema.size() != v.columns.size()) {
            return make_error(errc::unknown, "View '{}' names {} columns but its query has {}", v.name,
                              v.columns.size(), schema.size());
        }
        for (size_t i = 0; i < schema.size(); ++i) {
            schema[i].name = v.columns[i].name;
        }
        out.source = std::make_unique<renamed_source>(std::move(out.source), std::move(schema));
    }
    return out;
}

/// The one row a SELECT without FROM reads (a view or materialized view defined as constants).
std::unique_ptr<batch_source> one_empty_row() {
    storage::column_type flag;
    flag.kind = storage::type_kind::boolean;
    std::vector<storage::column_desc> schema{{"__no_table", flag, false}};
    storage::column_batch row(schema);
    std::vector<storage::cell> cells{storage::cell(true)};
    row.append_row(cells);
    std::vector<storage::column_batch> batches;
    batches.push_back(std::move(row));
    return make_memory_source(std::move(schema), std::move(batches));
}

sql_result<std::unique_ptr<batch_source>> open_select_at(exec_context& ctx, const select_stmt& select,
                                                         int depth) {
    if (!select.from) {
        for (const auto& item : select.items) {
            if (item.star) {
                return make_error(errc::unknown, "No tables used");
            }
        }
        auto dual = one_empty_row();
        auto plan = plan_select(select, dual->schema(), "", ctx.s);
        if (!plan) {
            return plan.error();
        }
        return (std::move(*plan))->open(std::move(dual), ctx.guard);
    }
    auto from = open_from_at(ctx, *select.from, select.where, depth);
    if (!from) {
        return from.error();
    }
    auto& opened = *from;
    auto plan = plan_select(select, opened.source->schema(), opened.name, ctx.s);
    if (!plan) {
        return plan.error();
    }
    return (std::move(*plan))->open(std::move(opened.source), ctx.guard);
}

}  // namespace

std::optional<select_stmt> parse_stored_select(std::string_view text) {
    auto parsed = parse_sql(text);
    auto* statements = std::get_if<std::vector<parsed_statement>>(&parsed);
    if (statements == nullptr || statements->size() != 1) {
        return std::nullopt;
    }
    auto* select = std::get_if<select_stmt>(&(*statements)[0].stmt);
    if (select == nullptr) {
        return std::nullopt;
    }
    return std::move(*select);
}

sql_result<opened_source> open_from(exec_context& ctx, const from_clause& from,
                                    const std::optional<expr>& where) {
    return open_from_at(ctx, from, where, 0);
}

sql_result<std::unique_ptr<batch_source>> open_select(exec_context& ctx, const select_stmt& select) {
    return open_select_at(ctx, select, 0);
}

sql_result<std::unique_ptr<batch_source>> open_table_partitions(exec_context& ctx, const std::string& db,
                                                                const std::string& table,
                                                                std::vector<storage::object_id> partitions) {
    storage::scan_request request;
    request.db = db;
    request.table = table;
    request.partitions = std::move(partitions);
    auto scan = storage::table_scan::open(ctx.catalog, ctx.options.data, std::move(request));
    if (!scan) {
        return to_sql_error(scan.error());
    }
    return std::unique_ptr<batch_source>(std::make_unique<scan_source>(std::move(*scan)));
}

}  // namespace tv::sql
