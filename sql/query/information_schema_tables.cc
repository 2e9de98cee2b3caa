// SPDX-License-Identifier: Apache-2.0
// information_schema tables about table internals: columns, partitions_meta (what backup tools
// read to find partitions that changed since their last run), tables_config and
// materialized_views.
#include "sql/query/information_schema_detail.hh"

#include "io/ascii.hh"
#include "sql/query/query_source.hh"
#include "storage/catalog.hh"
#include "storage/table_scan.hh"
#include "storage/values.hh"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <functional>
#include <map>

namespace tv::sql::infoschema {

namespace {

std::string datetime_string(int64_t unix_ms) {
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms));
    return fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(t));
}

/// "Never" as StarRocks prints a partition's cooldown time.
constexpr int64_t never_ms = 253402300799000;  // 9999-12-31 23:59:59 UTC

struct type_text {
    std::string data_type;    ///< "int"
    std::string column_type;  ///< "int(11)"
    std::optional<int64_t> char_length, precision, scale;
};

type_text describe(const storage::column_type& t) {
    using storage::type_kind;
    auto integer = [](const char* name, int display, int64_t precision) {
        return type_text{name, fmt::format("{}({})", name, display), std::nullopt, precision, 0};
    };
    switch (t.kind) {
    case type_kind::boolean: return {"boolean", "boolean", std::nullopt, std::nullopt, std::nullopt};
    case type_kind::tinyint: return integer("tinyint", 4, 3);
    case type_kind::smallint: return integer("smallint", 6, 5);
    case type_kind::int_: return integer("int", 11, 10);
    case type_kind::bigint: return integer("bigint", 20, 19);
    case type_kind::largeint: return integer("largeint", 40, 39);
    case type_kind::float_: return {"float", "float", std::nullopt, 12, std::nullopt};
    case type_kind::double_: return {"double", "double", std::nullopt, 22, std::nullopt};
    case type_kind::decimal:
        return {"decimal", fmt::format("decimal({},{})", t.precision, t.scale), std::nullopt, t.precision, t.scale};
    case type_kind::date: return {"date", "date", std::nullopt, std::nullopt, std::nullopt};
    case type_kind::datetime: return {"datetime", "datetime", std::nullopt, std::nullopt, std::nullopt};
    case type_kind::char_: return {"char", fmt::format("char({})", t.length), t.length, std::nullopt, std::nullopt};
    case type_kind::varchar:
        return {"varchar", fmt::format("varchar({})", t.length), t.length, std::nullopt, std::nullopt};
    case type_kind::string: return {"varchar", "varchar(65533)", 65533, std::nullopt, std::nullopt};
    case type_kind::json: return {"json", "json", std::nullopt, std::nullopt, std::nullopt};
    }
    return {"", "", std::nullopt, std::nullopt, std::nullopt};
}

const char* key_mark(storage::key_model m) {
    switch (m) {
    case storage::key_model::duplicate: return "DUP";
    case storage::key_model::aggregate: return "AGG";
    case storage::key_model::unique: return "UNI";
    case storage::key_model::primary: return "PRI";
    }
    return "";
}

const char* model_name(storage::key_model m) {
    switch (m) {
    case storage::key_model::duplicate: return "DUP_KEYS";
    case storage::key_model::aggregate: return "AGG_KEYS";
    case storage::key_model::unique: return "UNQ_KEYS";
    case storage::key_model::primary: return "PRI_KEYS";
    }
    return "";
}

row_builder& optional_integer(row_builder& rows, const std::optional<int64_t>& v) {
    return v ? rows.integer(*v) : rows.null();
}

/// One row of information_schema.columns. `key` is "" for a column that is not a key.
void column_row(row_builder& rows, const std::string& db, const std::string& table, size_t position,
                const std::string& name, const std::optional<storage::column_type>& type, bool nullable,
                const std::optional<std::string>& default_text, const std::string& key, const std::string& extra,
                const std::string& comment) {
    rows.text("def").text(db).text(table).text(name).integer(static_cast<int64_t>(position));
    if (default_text) {
        rows.text(*default_text);
    } else {
        rows.null();
    }
    rows.text(nullable ? "YES" : "NO");
    if (!type) {  // a view column whose type could not be worked out for this user
        rows.null().null().null().null().null().null().null().null().null();
    } else {
        type_text t = describe(*type);
        const bool is_string = type->is_string();
        rows.text(t.data_type);
        optional_integer(rows, t.char_length);
        optional_integer(rows, t.char_length);
        optional_integer(rows, t.precision);
        optional_integer(rows, t.scale);
        if (type->kind == storage::type_kind::datetime) {
            rows.integer(0);
        } else {
            rows.null();
        }
        if (is_string) {
            rows.text("utf8").text("utf8_general_ci");
        } else {
            rows.null().null();
        }
        rows.text(t.column_type);
    }
    rows.text(key).text(extra).text("select,insert").text(comment);
    if (!type) {
        rows.null().null();
    } else {
        type_text t = describe(*type);
        optional_integer(rows, t.char_length ? t.char_length : t.precision);
        optional_integer(rows, t.scale);
    }
    rows.null().null();  // GENERATION_EXPRESSION, SRS_ID
    rows.end_row();
}

std::optional<std::string> default_of(const storage::column& c) {
    if (!c.default_value) {
        return std::nullopt;
    }
    switch (c.default_value->kind) {
    case storage::default_kind::literal: return c.default_value->text;
    case storage::default_kind::null: return std::nullopt;
    case storage::default_kind::current_timestamp: return "CURRENT_TIMESTAMP";
    }
    return std::nullopt;
}

/// A view's columns: its query planned (and opened, which reads nothing) for their types.
/// When this user may not read what the view reads, its declared names without types.
void view_columns(exec_context& ctx, row_builder& rows, const std::string& db, const storage::view& v) {
    table_ref ref;
    ref.name.db = db;
    ref.name.name = v.name;
    from_clause from = ref;
    auto opened = open_from(ctx, from, std::nullopt);
    if (opened) {
        const auto& schema = opened->source->schema();
        for (size_t i = 0; i < schema.size(); ++i) {
            std::string comment = i < v.columns.size() ? v.columns[i].comment : "";
            column_row(rows, db, v.name, i + 1, schema[i].name, schema[i].type, schema[i].nullable, std::nullopt, "",
                       "", comment);
        }
        return;
    }
    for (size_t i = 0; i < v.columns.size(); ++i) {
        column_row(rows, db, v.name, i + 1, v.columns[i].name, std::nullopt, true, std::nullopt, "", "",
                   v.columns[i].comment);
    }
}

}  // namespace

std::vector<storage::column_desc> columns_schema() {
    return {varchar_column("TABLE_CATALOG", 512),   varchar_column("TABLE_SCHEMA", 64),
            varchar_column("TABLE_NAME", 64),       varchar_column("COLUMN_NAME", 64),
            bigint_column("ORDINAL_POSITION"),      varchar_column("COLUMN_DEFAULT", 1024),
            varchar_column("IS_NULLABLE", 3),       varchar_column("DATA_TYPE", 64),
            bigint_column("CHARACTER_MAXIMUM_LENGTH"), bigint_column("CHARACTER_OCTET_LENGTH"),
            bigint_column("NUMERIC_PRECISION"),     bigint_column("NUMERIC_SCALE"),
            bigint_column("DATETIME_PRECISION"),    varchar_column("CHARACTER_SET_NAME", 32),
            varchar_column("COLLATION_NAME", 32),   varchar_column("COLUMN_TYPE", 32),
            varchar_column("COLUMN_KEY", 3),        varchar_column("EXTRA", 27),
            varchar_column("PRIVILEGES", 80),       varchar_column("COLUMN_COMMENT", 255),
            bigint_column("COLUMN_SIZE"),           bigint_column("DECIMAL_DIGITS"),
            varchar_column("GENERATION_EXPRESSION", 64), varchar_column("SRS_ID", 20)};
}

std::unique_ptr<batch_source> columns_rows(exec_context& ctx) {
    row_builder rows(columns_schema());
    for (const auto& [db_name, d] : ctx.catalog.databases()) {
        std::map<std::string, std::function<void()>> objects;  // listed by name, as StarRocks does
        for (const auto& [name, t] : d.tables) {
            if (!may_see_object(ctx, d.name, name)) {
                continue;
            }
            objects.emplace(name, [&, tp = &t] {
                for (size_t i = 0; i < tp->columns.size(); ++i) {
                    const storage::column& c = tp->columns[i];
                    column_row(rows, d.name, tp->name, i + 1, c.name, c.type, c.nullable, default_of(c),
                               c.is_key ? key_mark(tp->keys) : "", std::string(storage::aggregation_name(c.agg)),
                               c.comment);
                }
            });
        }
        for (const auto& [name, v] : d.views) {
            if (may_see_object(ctx, d.name, name)) {
                objects.emplace(name, [&, vp = &v] { view_columns(ctx, rows, d.name, *vp); });
            }
        }
        for (const auto& [name, mv] : d.mvs) {
            if (may_see_object(ctx, d.name, name)) {
                objects.emplace(name, [&, mvp = &mv] {
                    for (size_t i = 0; i < mvp->columns.size(); ++i) {
                        const storage::column& c = mvp->columns[i];
                        column_row(rows, d.name, mvp->name, i + 1, c.name, c.type, c.nullable, default_of(c), "", "",
                                   c.comment);
                    }
                });
            }
        }
        for (auto& [name, emit] : objects) {
            emit();
        }
    }
    return rows_source(std::move(rows));
}

std::vector<storage::column_desc> partitions_meta_schema() {
    return {varchar_column("DB_NAME"),          varchar_column("TABLE_NAME"),
            varchar_column("PARTITION_NAME"),   bigint_column("PARTITION_ID"),
            bigint_column("COMPACT_VERSION"),   bigint_column("VISIBLE_VERSION"),
            datetime_column("VISIBLE_VERSION_TIME"), bigint_column("NEXT_VERSION"),
            varchar_column("PARTITION_KEY"),    varchar_column("PARTITION_VALUE"),
            varchar_column("DISTRIBUTION_KEY"), int_column("BUCKETS"),
            int_column("REPLICATION_NUM"),      varchar_column("STORAGE_MEDIUM"),
            datetime_column("COOLDOWN_TIME"),   datetime_column("LAST_CONSISTENCY_CHECK_TIME"),
            boolean_column("IS_IN_MEMORY"),     boolean_column("IS_TEMP"),
            bigint_column("DATA_SIZE"),         bigint_column("ROW_COUNT"),
            boolean_column("ENABLE_DATACACHE"), double_column("AVG_CS"),
            double_column("P50_CS"),            double_column("MAX_CS"),
            varchar_column("STORAGE_PATH")};
}

namespace {

/// PARTITION_VALUE as StarRocks prints a partition's range or list (as SHOW PARTITIONS' Range).
std::string partition_value(const storage::table& t, const storage::partition& p) {
    std::vector<storage::column_type> types;
    for (const auto& name : t.partitioning.columns) {
        const storage::column* c = t.find_column(name);
        types.push_back(c != nullptr ? c->type : storage::column_type{});
    }
    if (t.partitioning.kind == storage::partition_kind::range) {
        return storage::format_range(types, p.lower, p.upper);
    }
    if (t.partitioning.kind == storage::partition_kind::list) {
        std::string out = "(";
        for (size_t i = 0; i < p.values.size(); ++i) {
            out += (i > 0 ? ", " : "") + storage::format_tuple(p.values[i]);
        }
        return out + ")";
    }
    return "";
}

int replication_num(const storage::properties& props) {
    auto text = storage::find_property(props, "replication_num");
    int n = 1;
    if (text) {
        std::from_chars(text->data(), text->data() + text->size(), n);
    }
    return n;
}

void partition_row(exec_context& ctx, row_builder& rows, const std::string& db, const std::string& table,
                   const storage::partition& p, storage::object_id index, const std::string& key,
                   const std::string& value, const storage::distribution& dist, const storage::properties& props) {
    auto stats = storage::stats_of_partition(ctx.catalog, p, index);
    rows.text(db).text(table).text(p.name).integer(p.id).integer(0).integer(p.visible_version)
        .datetime_ms(p.visible_version_time_ms).integer(p.visible_version + 1).text(key).text(value)
        .text(dist.random ? "ALL KEY" : plain_list(dist.columns)).integer(p.buckets)
        .integer(replication_num(props)).text("HDD").datetime_ms(never_ms).null().boolean(false).boolean(false)
        .integer(static_cast<int64_t>(stats.data_size)).integer(static_cast<int64_t>(stats.rows)).boolean(false)
        .real(0).real(0).real(0).null();
    rows.end_row();
}

}  // namespace

std::unique_ptr<batch_source> partitions_meta_rows(exec_context& ctx) {
    row_builder rows(partitions_meta_schema());
    for (const auto& [db_name, d] : ctx.catalog.databases()) {
        std::map<std::string, std::function<void()>> objects;
        for (const auto& [name, t] : d.tables) {
            if (may_see_object(ctx, d.name, name)) {
                objects.emplace(name, [&, tp = &t] {
                    const std::string key = plain_list(tp->partitioning.columns);
                    for (const auto& p : tp->partitioning.partitions) {
                        partition_row(ctx, rows, d.name, tp->name, p, tp->indexes.empty() ? 0 : tp->indexes[0].id,
                                      key, partition_value(*tp, p), tp->dist, tp->props);
                    }
                });
            }
        }
        for (const auto& [name, mv] : d.mvs) {
            if (may_see_object(ctx, d.name, name) && !mv.columns.empty()) {
                objects.emplace(name, [&, mvp = &mv] {
                    partition_row(ctx, rows, d.name, mvp->name, mvp->storage, mvp->id, "", "", mvp->dist, mvp->props);
                });
            }
        }
        for (auto& [name, emit] : objects) {
            emit();
        }
    }
    return rows_source(std::move(rows));
}

std::vector<storage::column_desc> tables_config_schema() {
    return {varchar_column("TABLE_SCHEMA", 64),    varchar_column("TABLE_NAME", 64),
            varchar_column("TABLE_ENGINE", 64),    varchar_column("TABLE_MODEL", 64),
            varchar_column("PRIMARY_KEY", 2048),   varchar_column("PARTITION_KEY", 2048),
            varchar_column("DISTRIBUTE_KEY", 2048), varchar_column("DISTRIBUTE_TYPE", 64),
            int_column("DISTRIBUTE_BUCKET"),       varchar_column("SORT_KEY", 2048),
            varchar_column("PROPERTIES", 8192),    bigint_column("TABLE_ID")};
}

std::unique_ptr<batch_source> tables_config_rows(exec_context& ctx) {
    row_builder rows(tables_config_schema());
    for (const auto& [db_name, d] : ctx.catalog.databases()) {
        std::map<std::string, std::function<void()>> objects;
        for (const auto& [name, t] : d.tables) {
            if (may_see_object(ctx, d.name, name)) {
                objects.emplace(name, [&, tp = &t] {
                    rows.text(d.name).text(tp->name).text("OLAP").text(model_name(tp->keys))
                        .text(quoted_list(tp->key_columns)).text(quoted_list(tp->partitioning.columns))
                        .text(quoted_list(tp->dist.columns)).text(tp->dist.random ? "RANDOM" : "HASH")
                        .integer(tp->dist.buckets).text(quoted_list(tp->key_columns))
                        .text(properties_json(tp->props)).integer(tp->id);
                    rows.end_row();
                });
            }
        }
        for (const auto& [name, mv] : d.mvs) {
            if (may_see_object(ctx, d.name, name)) {
                objects.emplace(name, [&, mvp = &mv] {
                    rows.text(d.name).text(mvp->name).text("MATERIALIZED_VIEW").text("DUP_KEYS").text("").text("")
                        .text(quoted_list(mvp->dist.columns)).text(mvp->dist.random ? "RANDOM" : "HASH")
                        .integer(mvp->dist.buckets).text("").text(properties_json(mvp->props)).integer(mvp->id);
                    rows.end_row();
                });
            }
        }
        for (auto& [name, emit] : objects) {
            emit();
        }
    }
    return rows_source(std::move(rows));
}

std::vector<storage::column_desc> materialized_views_schema() {
    return {varchar_column("MATERIALIZED_VIEW_ID", 50),
            varchar_column("TABLE_SCHEMA", 20),
            varchar_column("TABLE_NAME", 50),
            varchar_column("REFRESH_TYPE", 20),
            varchar_column("IS_ACTIVE", 10),
            varchar_column("INACTIVE_REASON", 1024),
            varchar_column("PARTITION_TYPE", 16),
            varchar_column("TASK_ID", 20),
            varchar_column("TASK_NAME", 50),
            varchar_column("LAST_REFRESH_START_TIME", 20),
            varchar_column("LAST_REFRESH_FINISHED_TIME", 20),
            varchar_column("LAST_REFRESH_DURATION", 20),
            varchar_column("LAST_REFRESH_STATE", 20),
            varchar_column("LAST_REFRESH_FORCE_REFRESH", 8),
            varchar_column("LAST_REFRESH_START_PARTITION", 1024),
            varchar_column("LAST_REFRESH_END_PARTITION", 1024),
            varchar_column("LAST_REFRESH_BASE_REFRESH_PARTITIONS", 1024),
            varchar_column("LAST_REFRESH_MV_REFRESH_PARTITIONS", 1024),
            varchar_column("LAST_REFRESH_ERROR_CODE", 20),
            varchar_column("LAST_REFRESH_ERROR_MESSAGE", 1024),
            varchar_column("TABLE_ROWS", 50),
            varchar_column("MATERIALIZED_VIEW_DEFINITION", 1048576),
            varchar_column("EXTRA_MESSAGE", 1024),
            varchar_column("QUERY_REWRITE_STATUS", 64),
            varchar_column("CREATOR", 64),
            varchar_column("LAST_REFRESH_PROCESS_TIME", 20),
            varchar_column("LAST_REFRESH_JOB_ID", 20)};
}

std::unique_ptr<batch_source> materialized_views_rows(exec_context& ctx) {
    row_builder rows(materialized_views_schema());
    for (const auto& [db_name, d] : ctx.catalog.databases()) {
        for (const auto& [name, mv] : d.mvs) {
            if (!may_see_object(ctx, d.name, name)) {
                continue;
            }
            // A refresh is a load into the view's storage partition, so its version and time
            // say whether and when the last one finished. Refresh history is not kept: the
            // columns about the run itself are NULL.
            const bool stored = !mv.columns.empty();
            const bool refreshed = stored && mv.storage.visible_version > 1;
            uint64_t row_count = stored ? storage::stats_of_partition(ctx.catalog, mv.storage, mv.id).rows : 0;
            rows.text(std::to_string(mv.id)).text(d.name).text(mv.name).text(mv.refresh.mode)
                .text(mv.active ? "true" : "false").text(mv.inactive_reason)
                .text(mv.partition_expr.empty() ? "UNPARTITIONED" : "EXPR").null().null().null();
            if (refreshed) {
                rows.text(datetime_string(mv.storage.visible_version_time_ms));
            } else {
                rows.null();
            }
            rows.null().text(refreshed ? "SUCCESS" : "").null().null().null().null().null().null().null()
                .text(std::to_string(row_count)).text(mv.query_text).text("").text("").null().null().null();
            rows.end_row();
        }
    }
    return rows_source(std::move(rows));
}

}  // namespace tv::sql::infoschema
