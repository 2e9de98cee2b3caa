// SPDX-License-Identifier: Apache-2.0
// From a CREATE TABLE / ADD PARTITION as written to a validated table or partition with ids:
// key models, defaults, distribution, and the RANGE / LIST partition rules of StarRocks.
#pragma once

#include "storage/catalog_types.hh"
#include "storage/error.hh"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::storage {

/// Tables without BUCKETS get this many tablets per partition and index. StarRocks picks a
/// number from the cluster size and data volume; one node with no data yet gives 1 here.
inline constexpr int default_buckets = 1;
inline constexpr int max_buckets = 1024;

/// One PARTITION clause as written. Values are literal text; the keyword MAXVALUE is passed as
/// the string "MAXVALUE".
struct partition_desc {
    enum class form : uint8_t {
        less_than,    // VALUES LESS THAN (v, ...) | MAXVALUE: lower bound from the partition below
        fixed_range,  // VALUES [(lower, ...), (upper, ...))
        list,         // VALUES IN (v, ...) or IN ((a, b), ...)
    };
    std::string name;
    form kind = form::less_than;
    std::vector<std::string> lower;
    std::vector<std::string> upper;
    std::vector<std::vector<std::string>> values;  // list: one tuple per value, one item each for one column
    int buckets = 0;                               // ADD PARTITION ... BUCKETS n; 0: the table's
};

/// CREATE TABLE as written, before validation and ids.
struct table_definition {
    std::string name;
    std::vector<column> columns;
    key_model keys = key_model::duplicate;
    std::vector<std::string> key_columns;  // empty: the model's default (see build_table)
    partition_kind partition_by = partition_kind::none;
    std::vector<std::string> partition_columns;
    std::vector<partition_desc> partitions;
    std::optional<distribution> dist;      // nullopt: DISTRIBUTED BY omitted; buckets 0: default
    properties props;
    std::string comment;
};

/// Hands out ids from a copy of the catalog's counter; the journal record carries next() so
/// that a replayed catalog continues where the live one stopped.
class id_allocator {
public:
    explicit id_allocator(object_id next) noexcept : _next(next) {}
    object_id take() noexcept { return _next++; }
    object_id next() const noexcept { return _next; }

private:
    object_id _next;
};

enum class name_kind : uint8_t { database, table, column, partition, view, function, catalog, user, repository };

/// A user-facing error when `name` cannot name an object of that kind ("Incorrect table name"):
/// empty, too long, a control byte, a backquote (not for users), not UTF-8, or a trailing space
/// (the last three say why after a colon). The name is echoed escaped and cut after 100 bytes.
storage_result<void> check_name(name_kind kind, std::string_view name);

/// Validates `def` and builds the table with ids for it, its base index, partitions and tablets.
/// Defaults: DUPLICATE KEY with no key columns takes up to the first three columns (stopping
/// at one that cannot be a key); AGGREGATE KEY takes the columns without aggregation; no
/// DISTRIBUTED BY means RANDOM for DUPLICATE KEY and HASH(key columns) otherwise; no PARTITION
/// BY means one partition named as the table.
storage_result<table> build_table(const table_definition& def, id_allocator& ids);

/// Resolves one partition of `t` (range bounds, list values), checks it against the partitions
/// `t` already has, and gives it ids and tablets for every index of `t`.
storage_result<partition> build_partition(const table& t, const partition_desc& desc, id_allocator& ids);

/// A fresh copy of `p` for TRUNCATE: new partition and tablet ids, version 1, same bounds.
partition renew_partition(const partition& p, id_allocator& ids);

/// Checks the columns of a synchronous materialized view on `t`.
storage_result<void> check_index_columns(const table& t, const std::vector<column>& columns);

}  // namespace tv::storage
