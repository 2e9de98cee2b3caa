// SPDX-License-Identifier: Apache-2.0
// The catalog model as plain structs: types, columns, tables and partitions, views, materialized
// views, functions, external catalogs, databases and users. No behaviour beyond small helpers.
#pragma once

#include "storage/error.hh"

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tv::storage {

/// Every catalog object (database, table, index, partition, tablet, view, MV, function,
/// external catalog) takes its id from one counter that survives restarts, so an id is never
/// reused. int64 because StarRocks ids are Java longs and appear in backup metadata.
using object_id = int64_t;

/// PROPERTIES as written, in order: keys and values are kept verbatim.
using properties = std::vector<std::pair<std::string, std::string>>;

/// The value of `key` in `props`, if set.
std::optional<std::string_view> find_property(const properties& props, std::string_view key);

enum class type_kind : uint8_t {
    boolean, tinyint, smallint, int_, bigint, largeint, float_, double_,
    decimal, date, datetime, char_, varchar, string, json,
};

struct column_type {
    type_kind kind = type_kind::int_;
    int precision = 0;  // DECIMAL only
    int scale = 0;      // DECIMAL only
    int length = 0;     // CHAR and VARCHAR only

    /// "INT", "DECIMAL(10, 2)", "VARCHAR(20)".
    std::string to_sql() const;

    /// Resolves a type as written ("int", "DECIMAL64", "varchar") with its parenthesised numbers.
    /// Fails with bad_definition for an unknown name or out-of-range parameters.
    static storage_result<column_type> from_name(std::string_view name, std::span<const int> params);
    /// Parses to_sql()'s output back ("DECIMAL(10, 2)"); used by the metadata codec.
    static storage_result<column_type> from_sql(std::string_view text);

    bool is_integer() const;  // TINYINT..LARGEINT
    bool is_string() const;   // CHAR, VARCHAR, STRING
    bool is_floating() const;

    friend bool operator==(const column_type&, const column_type&) = default;
};

/// Aggregation of a value column in an AGGREGATE KEY table.
enum class aggregation : uint8_t {
    none, sum, min, max, replace, replace_if_not_null, hll_union, bitmap_union,
};
std::string_view aggregation_name(aggregation a);  // "SUM", "" for none

enum class default_kind : uint8_t { literal, null, current_timestamp };

struct column_default {
    default_kind kind = default_kind::literal;
    std::string text;  // the literal's value, without quotes (literal only)
};

struct column {
    std::string name;
    column_type type;
    bool nullable = true;
    std::optional<column_default> default_value;
    aggregation agg = aggregation::none;
    bool is_key = false;  // derived by the catalog from the key columns
    std::string comment;
};

enum class key_model : uint8_t { duplicate, aggregate, unique, primary };
std::string_view key_model_name(key_model m);  // "DUPLICATE KEY"

enum class partition_kind : uint8_t { none, range, list };

/// Range bounds hold one value per partition column, normalized for the column's type; these
/// two words stand for the open ends (range partitions are never on string columns).
inline constexpr std::string_view min_value = "MINVALUE";
inline constexpr std::string_view max_value = "MAXVALUE";

/// The tablets of one materialized index in one partition: `buckets` of them.
struct index_tablets {
    object_id index_id = 0;
    std::vector<object_id> tablet_ids;
};

/// One published segment file of a rowset, in <data_dir>/storage/data/<tablet_id>/.
struct segment_file {
    std::string name;       // "<rowset_id>_<n>.dat"
    uint64_t size = 0;      // bytes
    uint64_t rows = 0;
    uint64_t checksum = 0;  // the file checksum stored in the segment (XXH3-64 of every byte before it)

    friend bool operator==(const segment_file&, const segment_file&) = default;
};

/// What one load added to one tablet: its segment files, visible from `version` on.
struct rowset {
    object_id id = 0;      // one id per load, shared by the load's rowsets in every tablet
    int64_t version = 0;   // the partition's visible_version the load published
    std::vector<segment_file> files;

    uint64_t rows() const;
    uint64_t data_size() const;

    friend bool operator==(const rowset&, const rowset&) = default;
};

struct partition {
    object_id id = 0;
    std::string name;
    std::vector<std::string> lower;                // range: [lower, upper)
    std::vector<std::string> upper;
    std::vector<std::vector<std::string>> values;  // list: one tuple per value
    int64_t visible_version = 1;
    int64_t visible_version_time_ms = 0;           // unix ms of the load that made visible_version; 0: none yet
    int buckets = 0;
    std::vector<index_tablets> tablets;            // one entry per materialized index
};

struct partition_info {
    partition_kind kind = partition_kind::none;
    std::vector<std::string> columns;
    std::vector<partition> partitions;  // in creation order
};

struct distribution {
    std::vector<std::string> columns;  // HASH columns; empty when random
    int buckets = 0;
    bool random = false;
};

/// A materialized index: the base index (indexes[0], named as the table, `columns` empty since
/// it is the table's schema) or a synchronous materialized view over the one table.
struct materialized_index {
    object_id id = 0;
    std::string name;
    std::string query_text;
    std::vector<column> columns;
};

struct table {
    object_id id = 0;
    std::string name;
    std::vector<column> columns;
    key_model keys = key_model::duplicate;
    std::vector<std::string> key_columns;
    partition_info partitioning;
    distribution dist;
    properties props;
    std::string comment;
    std::vector<materialized_index> indexes;

    const column* find_column(std::string_view name) const;  // case-insensitive, as StarRocks
    const partition* find_partition(std::string_view name) const;
    const materialized_index* find_index(std::string_view name) const;
};

struct view_column {
    std::string name;
    std::string comment;
};

struct view {
    object_id id = 0;
    std::string name;
    std::vector<view_column> columns;  // empty: the query's own column names
    std::string query_text;
    std::string comment;
};

/// REFRESH clause of an asynchronous materialized view, kept as text: mode ("ASYNC",
/// "MANUAL", "INCREMENTAL", ...), START ('2024-01-01 00:00:00') and EVERY (INTERVAL 1 DAY).
struct refresh_scheme {
    std::string mode;
    std::string start;
    std::string interval;
};

struct materialized_view {
    object_id id = 0;
    std::string name;
    std::string query_text;
    refresh_scheme refresh;
    distribution dist;
    std::string partition_expr;             // PARTITION BY text, empty when none
    properties props;
    std::string comment;
    bool active = true;
    std::string inactive_reason;
    std::vector<std::string> base_tables;   // "db.table"; dropping one makes the view inactive
    /// The view's stored rows: its columns, and one partition named as the view whose tablets
    /// (dist.buckets of them) form one index with the view's id. Empty columns: no storage.
    std::vector<column> columns;
    partition storage;
};

enum class function_kind : uint8_t { scalar, aggregate, table };

struct function {
    object_id id = 0;
    std::string name;
    std::vector<std::string> arg_types;  // as written ("INT", "VARCHAR(10)")
    bool variadic = false;
    std::string return_type;
    std::string intermediate_type;       // aggregate functions only
    function_kind kind = function_kind::scalar;
    properties props;                    // symbol, file, type, ...
    bool global = false;

    /// "f(INT, VARCHAR, ...)": the identity used in messages; name and types are compared
    /// case-insensitively.
    std::string signature() const;
};

struct external_catalog {
    object_id id = 0;
    std::string name;
    std::string comment;
    properties props;
};

struct database {
    object_id id = 0;
    std::string name;
    properties props;
    std::map<std::string, table> tables;
    std::map<std::string, view> views;
    std::map<std::string, materialized_view> mvs;  // asynchronous ones; sync MVs live in tables
    std::vector<function> functions;
    /// Load labels used in this database (label -> unix milliseconds when published); a label
    /// names one load forever.
    std::map<std::string, int64_t> load_labels;
};

enum class privilege : uint8_t { select, insert };
std::string_view privilege_name(privilege p);  // "SELECT"

/// A table-level privilege; db or table "*" for all.
struct table_grant {
    privilege priv = privilege::select;
    std::string db;
    std::string table;

    friend auto operator<=>(const table_grant&, const table_grant&) = default;
};

/// A backup repository (CREATE REPOSITORY). The properties are kept as given, secrets included:
/// the server needs them to reach the store after a restart, which is why the journal and the
/// image are readable by the server's user only. Show them through remote's redacted view.
struct repository {
    object_id id = 0;
    std::string name;
    int64_t create_time_ms = 0;  // wall clock, milliseconds since the epoch
    bool read_only = false;
    std::string location;  // as given (a trailing '/' removed)
    std::string broker;    // WITH BROKER name; empty for brokerless (and WITH S3)
    properties props;
};

/// The roles a user can be granted.
inline constexpr std::string_view role_db_admin = "db_admin";
inline constexpr std::string_view role_user_admin = "user_admin";

struct user {
    std::string name;
    std::string host = "%";
    std::string password_hash;  // mysql_native_password: "*" + 40 uppercase hex, or empty
    std::set<std::string> roles;
    std::set<table_grant> grants;

    /// "'name'@'host'" as MySQL prints it.
    std::string identity() const;
};

/// Case-insensitive ASCII equality, for column, partition and function names.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tv::storage
