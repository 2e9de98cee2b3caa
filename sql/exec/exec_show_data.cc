// SPDX-License-Identifier: Apache-2.0
// SHOW PARTITIONS and SHOW TABLET: versions, rows, sizes and files of a table's partitions and
// tablets, from the catalog alone, in StarRocks' column sets.
#include "io/ascii.hh"
#include "sql/exec/exec_data.hh"
#include "sql/privileges.hh"
#include "storage/catalog.hh"
#include "storage/table_scan.hh"
#include "storage/values.hh"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace tv::sql {

namespace {

/// StarRocks' readable size: "0.000 B", "1.442 KB", "3.000 GB" (1024-based units).
std::string readable_size(uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.3f} {}", value, units[unit]);
}

sql_result<std::pair<std::string, const storage::table*>> need_table(exec_context& ctx,
                                                                                 const qualified_name& name) {
    auto db = resolve_db(ctx, name.db);
    if (!db) {
        return db.error();
    }
    const std::string& database = *db;
    if (ctx.catalog.find_database(database) == nullptr) {
        return make_error(errc::bad_db, "Unknown database '{}'", database);
    }
    const storage::table* t = ctx.catalog.find_table(database, name.name);
    if (t == nullptr) {
        return make_error(errc::no_such_table, "Table '{}.{}' doesn't exist", database, name.name);
    }
    if (auto allowed = require_table_privilege(ctx, storage::privilege::select, database, t->name); !allowed) {
        return allowed.error();
    }
    return std::pair(database, t);
}

std::string partition_bounds(const storage::table& t, const storage::partition& p) {
    std::vector<storage::column_type> types;
    for (const auto& name : t.partitioning.columns) {
        types.push_back(t.find_column(name)->type);
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

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

}  // namespace

statement_result show_partitions(exec_context& ctx, const show_partitions_stmt& s) {
    if (s.temporary) {
        return make_result({"PartitionId", "PartitionName"});  // temporary partitions do not exist here
    }
    auto found = need_table(ctx, s.table);
    if (!found) {
        return found.error();
    }
    const storage::table& t = *std::get<1>(*found);
    result_set rs = make_result({"PartitionId", "PartitionName", "VisibleVersion", "VisibleVersionTime",
                                 "VisibleVersionHash", "State", "PartitionKey", "Range", "DistributionKey", "Buckets",
                                 "ReplicationNum", "StorageMedium", "CooldownTime", "LastConsistencyCheckTime",
                                 "DataSize", "IsInMemory", "RowCount"});
    std::string distribution_key = t.dist.random ? "ALL KEY" : joined(t.dist.columns);
    for (const auto& p : t.partitioning.partitions) {
        auto stats = storage::stats_of_partition(ctx.catalog, p, t.indexes.empty() ? 0 : t.indexes[0].id);
        rs.rows.push_back({std::to_string(p.id), p.name, std::to_string(p.visible_version),
                           p.visible_version_time_ms > 0 ? datetime_text(p.visible_version_time_ms) : "NULL", "0", "NORMAL", joined(t.partitioning.columns),
                           partition_bounds(t, p), distribution_key, std::to_string(p.buckets), "1", "HDD",
                           "9999-12-31 23:59:59", "NULL", readable_size(stats.data_size), "false",
                           std::to_string(stats.rows)});
    }
    if (auto filtered = apply_show_predicate(ctx, s.predicate, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

statement_result show_tablet(exec_context& ctx, const show_tablet_stmt& s) {
    if (s.tablet_id) {
        result_set rs = make_result({"DbName", "TableName", "PartitionName", "IndexName", "DbId", "TableId",
                                     "PartitionId", "IndexId", "IsSync", "DetailCmd"});
        for (const auto& [db_name, d] : ctx.catalog.databases()) {
            for (const auto& [table_name, t] : d.tables) {
                for (const auto& p : t.partitioning.partitions) {
                    for (const auto& it : p.tablets) {
                        if (std::find(it.tablet_ids.begin(), it.tablet_ids.end(), *s.tablet_id) == it.tablet_ids.end()) {
                            continue;
                        }
                        std::string index_name = t.name;
                        for (const auto& idx : t.indexes) {
                            if (idx.id == it.index_id) {
                                index_name = idx.name;
                            }
                        }
                        rs.rows.push_back({d.name, t.name, p.name, index_name, std::to_string(d.id),
                                           std::to_string(t.id), std::to_string(p.id), std::to_string(it.index_id),
                                           "true",
                                           fmt::format("SHOW TABLET FROM {}.{} PARTITION ({})", d.name, t.name, p.name)});
                    }
                }
            }
        }
        if (rs.rows.empty()) {
            return make_error(errc::unknown, "Tablet {} does not exist", *s.tablet_id);
        }
        return rs;
    }
    auto found = need_table(ctx, s.table);
    if (!found) {
        return found.error();
    }
    const storage::table& t = *std::get<1>(*found);
    for (const auto& name : s.partitions) {
        if (t.find_partition(name) == nullptr) {
            return make_error(errc::unknown, "Unknown partition '{}' in table '{}'", name, t.name);
        }
    }
    result_set rs = make_result({"TabletId", "ReplicaId", "BackendId", "SchemaHash", "Version", "VersionHash",
                                 "LstSuccessVersion", "LstSuccessVersionHash", "LstFailedVersion",
                                 "LstFailedVersionHash", "LstFailedTime", "DataSize", "RowCount", "State",
                                 "LstConsistencyCheckTime", "CheckVersion", "CheckVersionHash", "VersionCount",
                                 "PathHash", "MetaUrl", "CompactionStatus", "FileCount"});
    for (const auto& p : t.partitioning.partitions) {
        if (!s.partitions.empty() && std::none_of(s.partitions.begin(), s.partitions.end(), [&](const auto& n) {
                return storage::iequals(n, p.name);
            })) {
            continue;
        }
        for (const auto& it : p.tablets) {
            for (storage::object_id id : it.tablet_ids) {
                auto stats = storage::stats_of(ctx.catalog, id);
                std::string version = std::to_string(p.visible_version);
                rs.rows.push_back({std::to_string(id), std::to_string(id), "1", "0", version, "0", version, "0", "-1",
                                   "0", "NULL", std::to_string(stats.data_size), std::to_string(stats.rows), "NORMAL",
                                   "NULL", "-1", "-1", std::to_string(stats.rowsets), "0", "N/A", "N/A",
                                   std::to_string(stats.files)});
            }
        }
    }
    if (auto filtered = apply_show_predicate(ctx, s.predicate, rs); !filtered) {
        return filtered.error();
    }
    return rs;
}

}  // namespace tv::sql
