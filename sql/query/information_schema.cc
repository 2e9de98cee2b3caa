// SPDX-License-Identifier: Apache-2.0
// information_schema: which tables it has, who sees what, the shared row builder, and the
// schemata, tables and views tables (the others are in information_schema_tables.cc).
#include "sql/query/information_schema.hh"

#include "io/ascii.hh"
#include "sql/query/information_schema_detail.hh"
#include "storage/catalog.hh"
#include "storage/table_scan.hh"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

namespace tv::sql {

namespace infoschema {

namespace {

storage::column_desc column_of(std::string name, storage::type_kind kind, int length = 0) {
    storage::column_type type;
    type.kind = kind;
    type.length = length;
    return {std::move(name), type, true};
}

}  // namespace

storage::column_desc varchar_column(std::string name, int length) {
    return column_of(std::move(name), storage::type_kind::varchar, length);
}
storage::column_desc bigint_column(std::string name) {
    return column_of(std::move(name), storage::type_kind::bigint);
}
storage::column_desc int_column(std::string name) {
    return column_of(std::move(name), storage::type_kind::int_);
}
storage::column_desc datetime_column(std::string name) {
    return column_of(std::move(name), storage::type_kind::datetime);
}
storage::column_desc boolean_column(std::string name) {
    return column_of(std::move(name), storage::type_kind::boolean);
}
storage::column_desc double_column(std::string name) {
    return column_of(std::move(name), storage::type_kind::double_);
}

row_builder& row_builder::text(std::string value) {
    _texts.push_back(std::move(value));
    _cells.emplace_back(std::string_view(_texts.back()));
    return *this;
}

row_builder& row_builder::text_or_null(const std::string& value) {
    return value.empty() ? null() : text(value);
}

row_builder& row_builder::integer(int64_t value) {
    // BIGINT and INT columns share this: the cell takes the column's physical width.
    if (_batch.schema()[_cells.size()].type.kind == storage::type_kind::int_) {
        _cells.emplace_back(static_cast<int32_t>(value));
    } else {
        _cells.emplace_back(value);
    }
    return *this;
}

row_builder& row_builder::boolean(bool value) {
    _cells.emplace_back(value);
    return *this;
}

row_builder& row_builder::real(double value) {
    _cells.emplace_back(value);
    return *this;
}

row_builder& row_builder::datetime_ms(int64_t unix_ms) {
    if (unix_ms == 0) {
        return null();
    }
    // DATETIME is microseconds since the epoch; StarRocks shows these times to the second.
    _cells.emplace_back(unix_ms / 1000 * 1000000);
    return *this;
}

row_builder& row_builder::null() {
    _cells.emplace_back(std::monostate{});
    return *this;
}

void row_builder::end_row() {
    _batch.append_row(_cells);
    _cells.clear();
    _texts.clear();
}

std::unique_ptr<batch_source> rows_source(row_builder&& rows) {
    storage::column_batch batch = rows.take();
    std::vector<storage::column_desc> schema = batch.schema();
    std::vector<storage::column_batch> batches;
    batches.push_back(std::move(batch));
    return make_memory_source(std::move(schema), std::move(batches));
}

std::string quoted_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "`" : ", `") + n + "`";
    }
    return out;
}

std::string plain_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

namespace {

std::string json_text(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<int>(c));
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

}  // namespace

std::string properties_json(const storage::properties& props) {
    std::string out = "{";
    for (const auto& [k, v] : props) {
        out += (out.size() > 1 ? "," : "") + json_text(k) + ":" + json_text(v);
    }
    return out + "}";
}

namespace {

std::vector<storage::column_desc> schemata_schema() {
    return {varchar_column("CATALOG_NAME", 512), varchar_column("SCHEMA_NAME", 32),
            varchar_column("DEFAULT_CHARACTER_SET_NAME", 32), varchar_column("DEFAULT_COLLATION_NAME", 32),
            varchar_column("SQL_PATH", 512)};
}

std::vector<storage::column_desc> tables_schema() {
    return {varchar_column("TABLE_CATALOG", 512), varchar_column("TABLE_SCHEMA", 64), varchar_column("TABLE_NAME", 64),
            varchar_column("TABLE_TYPE", 64),     varchar_column("ENGINE", 64),       bigint_column("VERSION"),
            varchar_column("ROW_FORMAT", 10),     bigint_column("TABLE_ROWS"),        bigint_column("AVG_ROW_LENGTH"),
            bigint_column("DATA_LENGTH"),         bigint_column("MAX_DATA_LENGTH"),   bigint_column("INDEX_LENGTH"),
            bigint_column("DATA_FREE"),           bigint_column("AUTO_INCREMENT"),    datetime_column("CREATE_TIME"),
            datetime_column("UPDATE_TIME"),       datetime_column("CHECK_TIME"),      varchar_column("TABLE_COLLATION", 32),
            bigint_column("CHECKSUM"),            varchar_column("CREATE_OPTIONS", 255),
            varchar_column("TABLE_COMMENT", 2048)};
}

std::vector<storage::column_desc> views_schema() {
    return {varchar_column("TABLE_CATALOG", 512),        varchar_column("TABLE_SCHEMA", 64),
            varchar_column("TABLE_NAME", 64),            varchar_column("VIEW_DEFINITION", 1048576),
            varchar_column("CHECK_OPTION", 8),           varchar_column("IS_UPDATABLE", 3),
            varchar_column("DEFINER", 77),               varchar_column("SECURITY_TYPE", 7),
            varchar_column("CHARACTER_SET_CLIENT", 32),  varchar_column("COLLATION_CONNECTION", 32)};
}

std::unique_ptr<batch_source> schemata_rows(exec_context& ctx) {
    row_builder rows(schemata_schema());
    rows.text("def").text(std::string(information_schema_name)).text("utf8").text("utf8_general_ci").null();
    rows.end_row();
    for (const auto& [name, d] : ctx.catalog.databases()) {
        if (may_see_database(ctx, d)) {
            rows.text("def").text(d.name).text("utf8").text("utf8_general_ci").null();
            rows.end_row();
        }
    }
    return rows_source(std::move(rows));
}

/// Rows, bytes and the last load's time of a partition's stored data (its base index).
struct stored {
    uint64_t rows = 0;
    uint64_t bytes = 0;
    int64_t updated_ms = 0;

    void add(const storage::catalog& c, const storage::partition& p, storage::object_id index) {
        auto stats = storage::stats_of_partition(c, p, index);
        rows += stats.rows;
        bytes += stats.data_size;
        updated_ms = std::max(updated_ms, p.visible_version_time_ms);
    }
};

void table_row(row_builder& rows, const std::string& db, const std::string& name, const char* type,
               const char* engine, const stored* data, const std::string& comment) {
    rows.text("def").text(db).text(name).text(type);
    if (engine != nullptr) {
        rows.text(engine);
    } else {
        rows.null();
    }
    rows.null().null();  // VERSION, ROW_FORMAT
    if (data != nullptr) {
        rows.integer(static_cast<int64_t>(data->rows))
            .integer(data->rows == 0 ? 0 : static_cast<int64_t>(data->bytes / data->rows))
            .integer(static_cast<int64_t>(data->bytes));
    } else {
        rows.null().null().null();
    }
    rows.null().null().null().null();  // MAX_DATA_LENGTH, INDEX_LENGTH, DATA_FREE, AUTO_INCREMENT
    rows.null();                        // CREATE_TIME: the catalog does not keep it
    if (data != nullptr) {
        rows.datetime_ms(data->updated_ms);
    } else {
        rows.null();
    }
    rows.null().text("utf8_general_ci").null().text("").text(comment);
}

std::unique_ptr<batch_source> tables_rows(exec_context& ctx) {
    row_builder rows(tables_schema());
    for (const auto& name : information_schema_tables()) {
        table_row(rows, std::string(information_schema_name), name, "SYSTEM VIEW", nullptr, nullptr, "");
        rows.end_row();
    }
    for (const auto& [db_name, d] : ctx.catalog.databases()) {
        // One namespace per database: list tables, views and materialized views by name.
        std::map<std::string, std::function<void()>> entries;
        for (const auto& [name, t] : d.tables) {
            if (!may_see_object(ctx, d.name, name)) {
                continue;
            }
            entries.emplace(name, [&, tp = &t] {
                stored data;
                for (const auto& p : tp->partitioning.partitions) {
                    data.add(ctx.catalog, p, tp->indexes.empty() ? 0 : tp->indexes[0].id);
                }
                table_row(rows, d.name, tp->name, "BASE TABLE", "StarRocks", &data, tp->comment);
            });
        }
        for (const auto& [name, v] : d.views) {
            if (may_see_object(ctx, d.name, name)) {
                entries.emplace(name, [&, vp = &v] {
                    table_row(rows, d.name, vp->name, "VIEW", nullptr, nullptr, vp->comment);
                });
            }
        }
        for (const auto& [name, mv] : d.mvs) {
            if (may_see_object(ctx, d.name, name)) {
                entries.emplace(name, [&, mvp = &mv] {
                    stored data;
                    if (!mvp->columns.empty()) {
                        data.add(ctx.catalog, mvp->storage, mvp->id);
                    }
                    // StarRocks lists an asynchronous materialized view as a VIEW here.
                    table_row(rows, d.name, mvp->name, "VIEW", "StarRocks", &data, mvp->comment);
                });
            }
        }
        for (auto& [name, emit] : entries) {
            emit();
            rows.end_row();
        }
    }
    return rows_source(std::move(rows));
}

std::unique_ptr<batch_source> views_rows(exec_context& ctx) {
    row_builder rows(views_schema());
    for (const auto& [db_name, d] : ctx.catalog.databases()) {
        for (const auto& [name, v] : d.views) {
            if (!may_see_object(ctx, d.name, name)) {
                continue;
            }
            rows.text("def").text(d.name).text(v.name).text(v.query_text).text("NONE").text("NO").text("")
                .text("").text("utf8").text("utf8_general_ci");
            rows.end_row();
        }
    }
    return rows_source(std::move(rows));
}

struct table_entry {
    std::string_view name;
    std::vector<storage::column_desc> (*schema)();
    std::unique_ptr<batch_source> (*rows)(exec_context&);
};

const std::vector<table_entry>& entries() {
    static const std::vector<table_entry> all = {
        {"columns", columns_schema, columns_rows},
        {"materialized_views", materialized_views_schema, materialized_views_rows},
        {"partitions_meta", partitions_meta_schema, partitions_meta_rows},
        {"schemata", schemata_schema, schemata_rows},
        {"tables", tables_schema, tables_rows},
        {"tables_config", tables_config_schema, tables_config_rows},
        {"views", views_schema, views_rows},
    };
    return all;
}

const table_entry* find_entry(std::string_view table) {
    const std::string lower = ascii_lower(table);
    for (const auto& e : entries()) {
        if (e.name == lower) {
            return &e;
        }
    }
    return nullptr;
}

}  // namespace

}  // namespace infoschema

bool is_information_schema(std::string_view db) {
    return storage::iequals(db, information_schema_name);
}

std::vector<std::string> information_schema_tables() {
    std::vector<std::string> names;
    for (const auto& e : infoschema::entries()) {
        names.emplace_back(e.name);
    }
    return names;
}

std::optional<std::vector<storage::column_desc>> information_schema_schema(std::string_view table) {
    const auto* e = infoschema::find_entry(table);
    if (e == nullptr) {
        return std::nullopt;
    }
    return e->schema();
}

sql_result<std::unique_ptr<batch_source>> open_information_schema(exec_context& ctx, std::string_view table) {
    const auto* e = infoschema::find_entry(table);
    if (e == nullptr) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", information_schema_name, table);
    }
    return e->rows(ctx);
}

sql_error information_schema_denied(const exec_context& ctx) {
    return make_error(errc::access_denied_db, "Access denied for user '{}'@'{}' to database '{}'", ctx.s.user,
                      ctx.s.host, information_schema_name);
}

bool may_see_object(const exec_context& ctx, std::string_view db, std::string_view name) {
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    return u != nullptr && (ctx.catalog.has_table_privilege(*u, storage::privilege::select, db, name) ||
                            ctx.catalog.has_table_privilege(*u, storage::privilege::insert, db, name));
}

bool may_see_database(const exec_context& ctx, const storage::database& db) {
    const storage::user* u = ctx.catalog.find_user(ctx.s.user, ctx.s.host);
    if (u == nullptr) {
        return false;
    }
    if (u->name == "root" || u->roles.contains(std::string(storage::role_db_admin))) {
        return true;
    }
    return std::any_of(u->grants.begin(), u->grants.end(),
                       [&](const storage::table_grant& g) { return g.db == "*" || g.db == db.name; });
}

}  // namespace tv::sql
