// SPDX-License-Identifier: Apache-2.0
// UPDATE and DELETE. Both read the rows they change through the SELECT engine and write the
// outcome back as one ordinary load, so what they leave is plain rowsets that scans, BACKUP
// (hard links of every rowset file) and RESTORE already carry: UPDATE on a PRIMARY KEY table
// loads the new version of each matched row (the latest row of a key wins at read time);
// DELETE rewrites each partition holding a matched row without those rows (an overwrite of that
// partition). One journal record publishes either, and only if the partitions read are still
// at the versions read (no load in between is lost or overwritten with old values).
#include "sql/exec/exec_data.hh"
#include "sql/load/load_columns.hh"
#include "sql/load/index_deriver.hh"
#include "sql/query/query_source.hh"
#include "storage/catalog.hh"
#include "storage/load_writer.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::sql {

namespace {

using storage::object_id;
using version_list = std::vector<std::pair<object_id, int64_t>>;

/// The table a statement changes, copied: catalog pointers do not survive a co_await.
struct dml_target {
    std::string db;
    storage::table table;
};

sql_result<dml_target> find_target(exec_context& ctx, const qualified_name& name, std::string_view what) {
    if (!name.catalog.empty() && name.catalog != "default_catalog") {
        return not_supported(fmt::format("{} on a table of an external catalog", what));
    }
    auto db = resolve_db(ctx, name.db);
    if (!db) {
        return db.error();
    }
    if (ctx.catalog.find_database(*db) == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", *db);
    }
    const storage::table* t = ctx.catalog.find_table(*db, name.name);
    if (t == nullptr) {
        if (ctx.catalog.find_view(*db, name.name) || ctx.catalog.find_materialized_view(*db, name.name)) {
            return make_error(errc::wrong_object, "'{}.{}' is not a table: {} needs a table", *db, name.name, what);
        }
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", *db, name.name);
    }
    // The INSERT privilege covers UPDATE and DELETE (docs/security.md); the message names the
    // statement refused, as MySQL's does. SELECT is needed too, as MySQL asks for a WHERE that
    // reads columns: affected-row counts would otherwise tell a writer what the rows hold.
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    if (u == nullptr || !ctx.catalog.has_table_privilege(*u, storage::privilege::insert, *db, t->name)) {
        return make_error(errc::table_access_denied, "{} command denied to user '{}'@'{}' for table '{}'", what,
                          ctx.s.user, ctx.s.host, t->name);
    }
    if (!ctx.catalog.has_table_privilege(*u, storage::privilege::select, *db, t->name)) {
        return make_error(errc::table_access_denied, "SELECT command denied to user '{}'@'{}' for table '{}'",
                          ctx.s.user, ctx.s.host, t->name);
    }
    return dml_target{*db, *t};
}

version_list versions_of(const storage::table& t, const std::vector<object_id>& ids) {
    version_list out;
    for (object_id id : ids) {
        for (const auto& p : t.partitioning.partitions) {
            if (p.id == id) {
                out.emplace_back(id, p.visible_version);
            }
        }
    }
    return out;
}

std::string partition_name(const storage::table& t, object_id id) {
    for (const auto& p : t.partitioning.partitions) {
        if (p.id == id) {
            return p.name;
        }
    }
    return {};
}

expr column_expr(const std::string& name) {
    return expr{column_ref{"", "", name}};
}

select_item item_of(expr value, const std::string& alias) {
    select_item item;
    item.value = std::move(value);
    item.alias = alias;
    item.text = alias;
    return item;
}

/// `SELECT items FROM db.t WHERE where` over the partitions `parts` only.
sql_result<cursor> open_filtered(exec_context& ctx, const dml_target& target, std::vector<object_id> parts,
                                 std::vector<select_item> items, const std::optional<expr>& where) {
    select_stmt select;
    select.items = std::move(items);
    select.from = table_ref{qualified_name{target.db, target.table.name, ""}, std::nullopt};
    select.where = where;
    auto source = open_table_partitions(ctx, target.db, target.table.name, std::move(parts));
    if (!source) {
        return source.error();
    }
    auto plan = plan_select(select, (*source)->schema(), target.table.name, ctx.s);
    if (!plan) {
        return plan.error();
    }
    return (std::move(*plan))->open(std::move(*source), ctx.guard);
}

io::task<sql_result<uint64_t>> count_rows(batch_source& rows, query_guard* guard) {
    uint64_t n = 0;
    for (;;) {
        auto alive = co_await between_batches(guard);
        if (!alive) {
            co_return alive.error();
        }
        auto next = co_await rows.next();
        if (!next) {
            co_return next.error();
        }
        auto& batch = *next;
        if (!batch) {
            co_return n;
        }
        n += batch->num_rows();
    }
}

/// The partitions among `candidates` holding a row `where` is TRUE for, and how many such rows.
struct matched_partitions {
    uint64_t rows = 0;
    std::vector<object_id> ids;
    std::vector<std::string> names;
};

io::task<sql_result<matched_partitions>> find_matches(exec_context& ctx, const dml_target& target,
                                                      std::vector<object_id> candidates, const expr& where) {
    matched_partitions out;
    std::optional<expr> condition = where;
    for (object_id id : candidates) {
        std::vector<select_item> one;
        one.push_back(item_of(expr{literal{literal_kind::integer, "1"}}, "matched"));
        std::vector<object_id> just{id};
        auto matched = open_filtered(ctx, target, std::move(just), std::move(one), condition);
        if (!matched) {
            co_return matched.error();
        }
        auto n = co_await count_rows(**matched, ctx.guard);
        if (!n) {
            co_return n.error();
        }
        if (*n > 0) {
            out.rows += *n;
            out.ids.push_back(id);
            out.names.push_back(partition_name(target.table, id));
        }
    }
    co_return out;
}

version_list only_versions_of(const version_list& versions, const std::vector<object_id>& ids) {
    version_list out;
    for (const auto& v : versions) {
        if (std::find(ids.begin(), ids.end(), v.first) != ids.end()) {
            out.push_back(v);
        }
    }
    return out;
}

/// CASE WHEN condition THEN then_value ELSE else_value END
expr case_of(const expr& condition, expr then_value, expr else_value) {
    case_expr c;
    c.whens.push_back(case_when{condition, std::move(then_value)});
    c.else_result = box<expr>(std::move(else_value));
    return expr{std::move(c)};
}

/// Writes what `rows` yields as one load into the target (overwriting `overwrite` partitions,
/// by name, when not empty) and publishes it if the partitions are still at `versions`.
io::task<sql_result<uint64_t>> write_back(exec_context& ctx, const dml_target& target, batch_source& rows,
                                      std::vector<std::string> overwrite, version_list versions) {
    storage::load_options options;
    options.overwrite = !overwrite.empty();
    options.partitions = std::move(overwrite);
    options.expected_versions = std::move(versions);
    auto writer = storage::load_writer::begin(ctx.catalog, ctx.options.data, target.db, target.table.name, options,
                                              make_index_deriver(ctx.s));
    if (!writer) {
        co_return to_sql_error(writer.error());
    }
    auto committed = co_await load_all(rows, (*writer)->schema(), nullptr, **writer, ctx.guard);
    if (!committed) {
        co_return committed.error();
    }
    co_return committed->rows;
}

std::string visible_info(exec_context& ctx, std::string_view kind) {
    return fmt::format("{{'label':'{}', 'status':'VISIBLE', 'txnId':'{}'}}", generated_load_label(kind),
                       ctx.catalog.last_sequence());
}

bool is_distribution_or_partition_column(const storage::table& t, const std::string& name) {
    for (const auto& c : t.partitioning.columns) {
        if (storage::iequals(c, name)) {
            return true;
        }
    }
    for (const auto& c : t.dist.columns) {
        if (storage::iequals(c, name)) {
            return true;
        }
    }
    return false;
}

// ---- DELETE's conditions on tables other than PRIMARY KEY: StarRocks' rules and words.

sql_error delete_condition_error(std::string_view detail) {
    return make_error(errc::parse, "{}", detail);
}

bool is_value(const expr& e) {
    if (e.as<literal>() != nullptr) {
        return true;
    }
    const auto* u = e.as<unary_op>();
    return u != nullptr && (u->op == unary_operator::minus || u->op == unary_operator::plus) &&
           u->operand->as<literal>() != nullptr;
}

sql_result<void> check_delete_column(const storage::table& t, const column_ref& ref) {
    const storage::column* c = t.find_column(ref.column);
    if (c == nullptr) {
        return make_error(errc::bad_field, "Unknown column '{}' in '{}'", ref.column, t.name);
    }
    bool floating = c->type.kind == storage::type_kind::float_ || c->type.kind == storage::type_kind::double_;
    if ((!c->is_key && t.keys != storage::key_model::duplicate) || floating) {
        return make_error(errc::parse,
                          "Column[{}] is not key column or storage model is not duplicate or column type is float "
                          "or double.",
                          c->name);
    }
    return {};
}

sql_result<void> check_delete_condition(const storage::table& t, const expr& e) {
    if (const auto* b = e.as<binary_op>()) {
        switch (b->op) {
        case binary_operator::logical_and: {
            if (auto left = check_delete_condition(t, *b->left); !left) {
                return left;
            }
            return check_delete_condition(t, *b->right);
        }
        case binary_operator::logical_or:
        case binary_operator::logical_xor: return delete_condition_error("Compound predicate's op should be AND");
        case binary_operator::eq:
        case binary_operator::ne:
        case binary_operator::lt:
        case binary_operator::le:
        case binary_operator::gt:
        case binary_operator::ge: {
            const auto* column = b->left->as<column_ref>();
            if (column == nullptr) {
                return delete_condition_error("Left expr of binary predicate should be column name");
            }
            if (!is_value(*b->right)) {
                return delete_condition_error("Right expr of binary predicate should be value");
            }
            return check_delete_column(t, *column);
        }
        default: break;
        }
    } else if (const auto* u = e.as<unary_op>(); u != nullptr && u->op == unary_operator::logical_not) {
        return delete_condition_error("Compound predicate's op should be AND");
    } else if (const auto* n = e.as<is_null_expr>()) {
        const auto* column = n->value->as<column_ref>();
        if (column == nullptr) {
            return delete_condition_error("Left expr of is_null predicate should be column name");
        }
        return check_delete_column(t, *column);
    } else if (const auto* in = e.as<in_expr>()) {
        const auto* column = in->value->as<column_ref>();
        if (column == nullptr) {
            return delete_condition_error("Left expr of in predicate should be column name");
        }
        for (const auto& item : in->list) {
            if (!is_value(item)) {
                return delete_condition_error("Child of in predicate should be value");
            }
        }
        return check_delete_column(t, *column);
    }
    return delete_condition_error(
        "Where clause only supports compound predicate, binary predicate, is_null predicate and in predicate");
}

}  // namespace

io::task<statement_result> run_update(exec_context& ctx, const update_stmt& s) {
    auto found = find_target(ctx, s.table, "UPDATE");
    if (!found) {
        co_return found.error();
    }
    const dml_target& target = *found;
    const storage::table& t = target.table;
    if (t.keys != storage::key_model::primary) {
        co_return make_error(errc::parse, "Table {} does not support update: UPDATE needs a PRIMARY KEY table",
                             t.name);
    }
    if (s.has_from) {
        co_return not_supported("UPDATE ... FROM");
    }
    if (!s.where) {
        co_return make_error(errc::parse, "must specify where clause to prevent full table update");
    }
    std::vector<const expr*> values(t.columns.size(), nullptr);
    for (const auto& a : s.assignments) {
        size_t i = 0;
        while (i < t.columns.size() && !storage::iequals(t.columns[i].name, a.column)) {
            ++i;
        }
        if (i == t.columns.size()) {
            co_return make_error(errc::bad_field, "Unknown column '{}' in '{}'", a.column, t.name);
        }
        const storage::column& c = t.columns[i];
        if (c.is_key) {
            co_return make_error(errc::parse, "primary key column cannot be updated: {}", c.name);
        }
        if (is_distribution_or_partition_column(t, c.name)) {
            co_return make_error(errc::parse, "partition or distribution column cannot be updated: {}", c.name);
        }
        if (values[i] != nullptr) {
            co_return make_error(errc::parse, "Duplicate column name '{}' in SET", c.name);
        }
        values[i] = &a.value;
    }
    std::vector<object_id> parts = prune_partitions(t, s.where);
    if (parts.empty()) {
        co_return ok_result{0, visible_info(ctx, "update")};
    }
    version_list versions = versions_of(t, parts);
    if (t.indexes.size() > 1) {
        // Synchronous materialized views derive their rows from the rows loaded, and cannot
        // take back what an old row of a key gave them: the partitions holding a matched row
        // are rewritten whole, every row through CASE WHEN condition THEN new ELSE old END.
        auto matches = co_await find_matches(ctx, target, parts, *s.where);
        if (!matches) {
            co_return matches.error();
        }
        if (matches->rows == 0) {
            co_return ok_result{0, visible_info(ctx, "update")};
        }
        std::vector<select_item> items;
        for (size_t i = 0; i < t.columns.size(); ++i) {
            expr old_value = column_expr(t.columns[i].name);
            expr value = values[i] != nullptr ? case_of(*s.where, *values[i], std::move(old_value))
                                              : std::move(old_value);
            items.push_back(item_of(std::move(value), t.columns[i].name));
        }
        std::optional<expr> every_row;
        auto rows = open_filtered(ctx, target, matches->ids, std::move(items), every_row);
        if (!rows) {
            co_return rows.error();
        }
        version_list expected = only_versions_of(versions, matches->ids);
        auto written = co_await write_back(ctx, target, **rows, matches->names, std::move(expected));
        if (!written) {
            co_return written.error();
        }
        co_return ok_result{matches->rows, visible_info(ctx, "update")};
    }
    std::vector<select_item> items;
    for (size_t i = 0; i < t.columns.size(); ++i) {
        expr value = values[i] != nullptr ? *values[i] : column_expr(t.columns[i].name);
        items.push_back(item_of(std::move(value), t.columns[i].name));
    }
    auto rows = open_filtered(ctx, target, parts, std::move(items), s.where);
    if (!rows) {
        co_return rows.error();
    }
    std::vector<std::string> no_overwrite;
    auto written = co_await write_back(ctx, target, **rows, std::move(no_overwrite), std::move(versions));
    if (!written) {
        co_return written.error();
    }
    // Every matched row is written once, changed or not: StarRocks counts them all.
    co_return ok_result{*written, visible_info(ctx, "update")};
}

io::task<statement_result> run_delete(exec_context& ctx, const delete_stmt& s) {
    auto found = find_target(ctx, s.table, "DELETE");
    if (!found) {
        co_return found.error();
    }
    const dml_target& target = *found;
    const storage::table& t = target.table;
    if (s.has_using) {
        co_return not_supported("DELETE ... USING");
    }
    if (!s.where) {
        if (t.keys == storage::key_model::primary) {
            co_return make_error(errc::parse, "Delete must specify where clause to prevent full table delete");
        }
        co_return make_error(errc::parse, "Where clause is not set");
    }
    if (t.keys != storage::key_model::primary) {
        if (auto checked = check_delete_condition(t, *s.where); !checked) {
            co_return checked.error();
        }
    }
    std::vector<object_id> candidates = prune_partitions(t, s.where);
    if (!s.partitions.empty()) {
        std::vector<object_id> named;
        for (const auto& name : s.partitions) {
            const storage::partition* match = nullptr;
            for (const auto& p : t.partitioning.partitions) {
                if (storage::iequals(p.name, name)) {
                    match = &p;
                }
            }
            if (match == nullptr) {
                co_return make_error(errc::unknown, "Partition does not exist. name: {}", name);
            }
            if (std::find(candidates.begin(), candidates.end(), match->id) != candidates.end() &&
                std::find(named.begin(), named.end(), match->id) == named.end()) {
                named.push_back(match->id);
            }
        }
        candidates = std::move(named);
    }
    // The versions before any row is read: a load into a partition after this fails the publish.
    version_list versions = versions_of(t, candidates);
    auto matches = co_await find_matches(ctx, target, candidates, *s.where);
    if (!matches) {
        co_return matches.error();
    }
    if (matches->rows == 0) {
        co_return ok_result{0, visible_info(ctx, "delete")};
    }
    // Rows kept: those the condition is not TRUE for (FALSE or NULL).
    std::optional<expr> keep_where = case_of(*s.where, expr{literal{literal_kind::boolean, "FALSE"}},
                                             expr{literal{literal_kind::boolean, "TRUE"}});
    std::vector<select_item> all;
    for (const auto& c : t.columns) {
        all.push_back(item_of(column_expr(c.name), c.name));
    }
    auto kept = open_filtered(ctx, target, matches->ids, std::move(all), keep_where);
    if (!kept) {
        co_return kept.error();
    }
    version_list expected = only_versions_of(versions, matches->ids);
    auto written = co_await write_back(ctx, target, **kept, matches->names, std::move(expected));
    if (!written) {
        co_return written.error();
    }
    co_return ok_result{matches->rows, visible_info(ctx, "delete")};
}

}  // namespace tv::sql
