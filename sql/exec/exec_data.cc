// SPDX-License-Identifier: Apache-2.0
// Statements over table data: SELECT with FROM, INSERT (VALUES, SELECT, OVERWRITE), CHECKSUM
// TABLE, REFRESH MATERIALIZED VIEW, SHOW PARTITIONS and SHOW TABLET. UPDATE and DELETE are in
// exec_dml.cc.
#include "io/ascii.hh"
#include "io/loop_group.hh"
#include "sql/expression/cast.hh"
#include "sql/exec/exec_data.hh"
#include "sql/load/index_deriver.hh"
#include "sql/load/load_columns.hh"
#include "sql/parser/parser.hh"
#include "sql/privileges.hh"
#include "sql/query/query_source.hh"
#include "storage/catalog.hh"
#include "storage/load_writer.hh"
#include "storage/row_checksum.hh"
#include "storage/table_scan.hh"

#include <fmt/format.h>


namespace tv::sql {

namespace {

io::task<statement_result> run_query(exec_context& ctx, const select_stmt& select) {
    auto rows = open_select(ctx, select);
    if (!rows) {
        co_return rows.error();
    }
    // Opened here, where the catalog lives; drained on another loop, so that loop 0 keeps
    // answering other clients, health checks and job steps however long the query takes. The
    // cursor stays owned (and is destroyed) here.
    io::loop* worker = query_loop(ctx.options.data.loops);
    sql_result<result_set> result = result_set{};
    if (worker != nullptr) {
        auto drain = to_result(**rows, ctx.guard);
        result = co_await io::submit_to(*worker, std::move(drain));
    } else {
        result = co_await to_result(**rows, ctx.guard);
    }
    if (!result) {
        co_return result.error();
    }
    co_return std::move(*result);
}

io::task<statement_result> run_insert(exec_context& ctx, const insert_stmt& s) {
    auto db = resolve_db(ctx, s.table.db);
    if (!db) {
        co_return db.error();
    }
    const std::string& database = *db;
    if (ctx.catalog.find_database(database) == nullptr) {
        co_return make_error(errc::bad_db, "Unknown database '{}'", database);
    }
    const storage::table* t = ctx.catalog.find_table(database, s.table.name);
    if (t == nullptr) {
        if (ctx.catalog.find_view(database, s.table.name) || ctx.catalog.find_materialized_view(database, s.table.name)) {
            co_return make_error(errc::wrong_object, "'{}.{}' is not a table: INSERT needs a table", database,
                                 s.table.name);
        }
        co_return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", database, s.table.name);
    }
    if (auto allowed = require_table_privilege(ctx, storage::privilege::insert, database, t->name); !allowed) {
        co_return allowed.error();
    }
    auto resolved = load_columns::resolve(*t, s.columns);
    if (!resolved) {
        co_return resolved.error();
    }
    const load_columns& columns = *resolved;

    std::unique_ptr<batch_source> rows;
    if (s.query) {
        auto opened = open_select(ctx, *s.query);
        if (!opened) {
            co_return opened.error();
        }
        rows = std::move(*opened);
    } else {
        for (const auto& values : s.rows) {
            if (values.size() != columns.supplied().size()) {
                co_return make_error(errc::column_count_mismatch, "Column count doesn't match value count.");
            }
        }
        std::vector<std::optional<storage::column_default>> defaults;
        for (const auto& c : columns.supplied()) {
            defaults.push_back(t->find_column(c.name)->default_value);
        }
        auto opened = make_values_source(s.rows, columns.supplied(), ctx.s, defaults);
        if (!opened) {
            co_return opened.error();
        }
        rows = std::move(*opened);
    }
    if (rows->schema().size() != columns.supplied().size()) {
        co_return make_error(errc::column_count_mismatch, "Column count doesn't match value count.");
    }

    storage::load_options options;
    options.label = s.label.value_or("");
    options.overwrite = s.overwrite;
    options.partitions = s.partitions;
    auto writer = storage::load_writer::begin(ctx.catalog, ctx.options.data, database, t->name, options,
                                              make_index_deriver(ctx.s));
    if (!writer) {
        co_return to_sql_error(writer.error());
    }
    auto committed = co_await load_all(*rows, columns.supplied(), &columns, **writer, ctx.guard);
    if (!committed) {
        co_return committed.error();
    }
    std::string label = s.label.value_or(generated_load_label("insert"));
    co_return ok_result{committed->rows, fmt::format("{{'label':'{}', 'status':'VISIBLE', 'txnId':'{}'}}", label,
                                                     ctx.catalog.last_sequence())};
}

io::task<statement_result> run_checksum(exec_context& ctx, const checksum_table_stmt& s) {
    result_set rs = make_result({"Table", "Checksum"});
    rs.columns[1].kind = column_kind::bigint;
    for (const auto& name : s.tables) {
        select_stmt all;
        select_item star;
        star.star = true;
        all.items.push_back(std::move(star));
        all.from = table_ref{name, std::nullopt};
        auto db = resolve_db(ctx, name.db);
        if (!db) {
            co_return db.error();
        }
        auto from = open_from(ctx, *all.from, std::nullopt);
        if (!from) {
            co_return from.error();
        }
        auto& source = *from->source;
        storage::row_checksum sum;
        for (;;) {
            auto alive = co_await between_batches(ctx.guard);
            if (!alive) {
                co_return alive.error();
            }
            auto next = co_await source.next();
            if (!next) {
                co_return next.error();
            }
            auto& batch = *next;
            if (!batch) {
                break;
            }
            sum.add(*batch);
        }
        rs.rows.push_back({fmt::format("{}.{}", *db, name.name), std::to_string(sum.value())});
    }
    co_return rs;
}

io::task<statement_result> run_refresh(exec_context& ctx, const refresh_materialized_view_stmt& s) {
    if (auto allowed = require_role(ctx, storage::role_db_admin, "REFRESH MATERIALIZED VIEW"); !allowed) {
        co_return allowed.error();
    }
    auto db = resolve_db(ctx, s.name.db);
    if (!db) {
        co_return db.error();
    }
    const std::string& database = *db;
    const storage::materialized_view* mv = ctx.catalog.find_materialized_view(database, s.name.name);
    if (mv == nullptr) {
        co_return make_error(errc::no_such_table, "Materialized view '{}.{}' doesn't exist (a synchronous one "
                             "needs no refresh)", database, s.name.name);
    }
    if (!mv->active) {
        co_return make_error(errc::unknown, "Materialized view '{}' is inactive: {}", mv->name, mv->inactive_reason);
    }
    if (s.partition_start || s.partition_end) {
        co_return not_supported("REFRESH MATERIALIZED VIEW ... PARTITION");
    }
    auto refreshed = co_await refresh_materialized_view(ctx, database, mv->name);
    if (!refreshed) {
        co_return refreshed.error();
    }
    co_return ok_result{};
}

}  // namespace

/// Pulls every batch of `rows`, converts it to `cast_to` (completed to full table rows by
/// `columns` when given) and appends it. On failure the caller aborts the writer, so nothing
/// written stays behind.
io::task<sql_result<void>> pump(batch_source& rows, std::vector<storage::column_desc> cast_to,
                                const load_columns* columns, storage::load_writer& writer, query_guard* guard) {
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
            co_return sql_result<void>{};
        }
        if (batch->num_rows() == 0) {
            continue;
        }
        auto converted = cast_batch(std::move(*batch), cast_to, true);
        if (!converted) {
            co_return converted.error();
        }
        // A named batch, moved in: GCC 12 mishandles a temporary built inside the co_await.
        storage::column_batch rows_out = std::move(converted->rows);
        if (columns != nullptr) {
            rows_out = columns->complete(std::move(rows_out));
        }
        auto appended = co_await writer.append(std::move(rows_out));
        if (!appended) {
            co_return to_sql_error(appended.error());
        }
    }
}

io::task<sql_result<storage::load_summary>> load_all(batch_source& rows, std::vector<storage::column_desc> cast_to,
                                                    const load_columns* columns, storage::load_writer& writer,
                                                    query_guard* guard) {
    auto pumped = co_await pump(rows, std::move(cast_to), columns, writer, guard);
    if (!pumped) {
        co_await writer.abort();
        co_return pumped.error();
    }
    auto committed = co_await writer.commit();
    if (!committed) {
        co_return to_sql_error(committed.error());
    }
    co_return std::move(*committed);
}

io::task<sql_result<void>> refresh_materialized_view(exec_context& ctx, std::string db, std::string name) {
    const storage::materialized_view* mv = ctx.catalog.find_materialized_view(db, name);
    if (mv == nullptr) {
        co_return make_error(errc::no_such_table, "Materialized view '{}.{}' doesn't exist", db, name);
    }
    auto select = parse_stored_select(mv->query_text);
    if (!select) {
        co_return make_error(errc::unknown, "Materialized view '{}' has a definition that no longer parses", name);
    }
    std::string saved_db = ctx.s.current_db;
    ctx.s.current_db = db;
    auto opened = open_select(ctx, *select);
    ctx.s.current_db = saved_db;
    if (!opened) {
        co_return opened.error();
    }
    auto& rows = **opened;
    storage::load_options options;
    options.overwrite = true;
    auto writer = storage::load_writer::begin(ctx.catalog, ctx.options.data, db, name, options, make_index_deriver(ctx.s));
    if (!writer) {
        co_return to_sql_error(writer.error());
    }
    auto committed = co_await load_all(rows, (*writer)->schema(), nullptr, **writer, ctx.guard);
    if (!committed) {
        co_return committed.error();
    }
    co_return sql_result<void>{};
}

io::task<sql_result<void>> backfill_sync_materialized_view(exec_context& ctx, std::string db,
                                                          std::string table, std::string view) {
    auto holds_rows = [&] {
        const storage::table* t = ctx.catalog.find_table(db, table);
        if (t == nullptr) {
            return false;
        }
        for (const auto& p : t->partitioning.partitions) {
            for (const auto& index : p.tablets) {
                for (storage::object_id tablet : index.tablet_ids) {
                    if (!ctx.catalog.tablet_rowsets(tablet).empty()) {
                        return true;
                    }
                }
            }
        }
        return false;
    };
    if (!holds_rows()) {
        co_return sql_result<void>{};  // nothing to fill, and no rowset id spent on it
    }
    from_clause from = table_ref{qualified_name{db, table, ""}, std::nullopt};
    std::optional<expr> no_filter;
    auto opened = open_from(ctx, from, no_filter);
    if (!opened) {
        co_return opened.error();
    }
    auto& rows = *opened->source;
    storage::load_options options;
    options.backfill_index = view;
    auto writer = storage::load_writer::begin(ctx.catalog, ctx.options.data, db, table, options, make_index_deriver(ctx.s));
    if (!writer) {
        co_return to_sql_error(writer.error());
    }
    auto pumped = co_await pump(rows, (*writer)->schema(), nullptr, **writer, ctx.guard);
    if (!pumped || (*writer)->rows_appended() == 0) {
        co_await (*writer)->abort();
        co_return pumped;
    }
    auto committed = co_await (*writer)->commit();
    if (!committed) {
        co_return to_sql_error(committed.error());
    }
    co_return sql_result<void>{};
}

io::task<std::optional<statement_result>> execute_data_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<select_stmt>(&stmt); s && s->from) {
        co_return co_await run_query(ctx, *s);
    }
    if (const auto* s = std::get_if<insert_stmt>(&stmt)) {
        co_return co_await run_insert(ctx, *s);
    }
    if (const auto* s = std::get_if<update_stmt>(&stmt)) {
        co_return co_await run_update(ctx, *s);
    }
    if (const auto* s = std::get_if<delete_stmt>(&stmt)) {
        co_return co_await run_delete(ctx, *s);
    }
    if (const auto* s = std::get_if<checksum_table_stmt>(&stmt)) {
        co_return co_await run_checksum(ctx, *s);
    }
    if (const auto* s = std::get_if<refresh_materialized_view_stmt>(&stmt)) {
        co_return co_await run_refresh(ctx, *s);
    }
    if (const auto* s = std::get_if<show_partitions_stmt>(&stmt)) {
        co_return show_partitions(ctx, *s);
    }
    if (const auto* s = std::get_if<show_tablet_stmt>(&stmt)) {
        co_return show_tablet(ctx, *s);
    }
    co_return std::nullopt;
}

}  // namespace tv::sql
