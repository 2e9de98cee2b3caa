// SPDX-License-Identifier: Apache-2.0
// AST for database and table DDL: CREATE/DROP DATABASE, CREATE TABLE (columns, keys, RANGE /
// LIST / expression partitioning, distribution), DROP/ALTER/TRUNCATE TABLE.
#pragma once

#include "sql/parser/ast_select.hh"

namespace tv::sql {

/// CREATE {DATABASE | SCHEMA} [IF NOT EXISTS] [catalog.]d [PROPERTIES (...)]
struct create_database_stmt {
    bool if_not_exists = false;
    std::string catalog;
    std::string name;
    property_list properties;
};

/// DROP {DATABASE | SCHEMA} [IF EXISTS] [catalog.]d [FORCE]
struct drop_database_stmt {
    bool if_exists = false;
    std::string catalog;
    std::string name;
    bool force = false;
};

enum class default_kind : uint8_t {
    literal,            ///< DEFAULT "x" / DEFAULT 10 / DEFAULT -1: `value` is the text (strings decoded)
    null,               ///< DEFAULT NULL
    current_timestamp,  ///< DEFAULT CURRENT_TIMESTAMP [()]
    expression,         ///< DEFAULT (expr): `value` is the expression's source text
};

struct column_default {
    default_kind kind = default_kind::literal;
    std::string value;
};

/// name type [KEY] [aggregate] [NULL | NOT NULL] [DEFAULT ... | AUTO_INCREMENT] [COMMENT 's'].
/// StarRocks writes the aggregate right after the type; modifiers are accepted in any order.
struct column_def {
    std::string name;
    data_type type;
    bool is_key = false;                   ///< the optional KEY word (StarRocks SHOW CREATE output)
    std::optional<std::string> aggregate;  ///< SUM, MIN, MAX, REPLACE, REPLACE_IF_NOT_NULL, HLL_UNION, BITMAP_UNION, PERCENTILE_UNION
    std::optional<bool> nullable;          ///< empty when neither NULL nor NOT NULL was written
    std::optional<column_default> default_value;
    bool auto_increment = false;
    std::optional<std::string> comment;
};

/// INDEX name (cols) [USING BITMAP] [COMMENT 's'] inside the column list
struct index_def {
    std::string name;
    std::vector<std::string> columns;
    std::string using_type;  ///< "BITMAP", "NGRAMBF", ... upper case; empty when not written
    std::optional<std::string> comment;
};

enum class key_kind : uint8_t { duplicate, aggregate, unique, primary };

/// {DUPLICATE | AGGREGATE | UNIQUE | PRIMARY} KEY (cols)
struct key_desc {
    key_kind kind = key_kind::duplicate;
    std::vector<std::string> columns;
};

/// One bound value: a quoted or numeric value (text as written, strings decoded) or MAXVALUE.
struct partition_value {
    std::string value;
    bool max_value = false;

    bool operator==(const partition_value&) const = default;
};

using partition_tuple = std::vector<partition_value>;

/// VALUES LESS THAN (v, ...) or VALUES LESS THAN MAXVALUE (then one max_value entry)
struct less_than_bound {
    partition_tuple upper;
};

/// VALUES [(lower...), (upper...))
struct fixed_range_bound {
    partition_tuple lower;
    partition_tuple upper;
};

/// VALUES IN ("a", "b") -> {{a}, {b}};  VALUES IN (("a", "1"), ("b", "2")) -> {{a, 1}, {b, 2}}
struct list_bound {
    std::vector<partition_tuple> values;
};

using partition_bound = std::variant<less_than_bound, fixed_range_bound, list_bound>;

/// PARTITION [IF NOT EXISTS] name VALUES ... [("k" = "v", ...)]
struct partition_def {
    std::string name;
    bool if_not_exists = false;
    partition_bound bound;
    property_list properties;
};

/// START ("a") END ("b") EVERY (INTERVAL 1 DAY | n): many range partitions at once
struct partition_batch {
    partition_tuple start;
    partition_tuple end;
    expr every;
};

enum class partition_kind : uint8_t {
    range,       ///< PARTITION BY RANGE (cols) (...)
    list,        ///< PARTITION BY LIST (cols) (...)
    expression,  ///< PARTITION BY expr[, ...] or PARTITION BY (expr, ...): automatic partitioning
};

struct partition_desc {
    partition_kind kind = partition_kind::range;
    /// The RANGE(...) / LIST(...) items or the partitioning expressions, as parsed.
    std::vector<expr> exprs;
    /// The same items when every one is a plain column name; empty otherwise.
    std::vector<std::string> columns;
    std::vector<partition_def> partitions;  ///< explicit partitions, in order
    std::vector<partition_batch> batches;   ///< START/END/EVERY groups, in order
};

enum class distribution_kind : uint8_t { hash, random };

/// DISTRIBUTED BY HASH (cols) [BUCKETS n] | DISTRIBUTED BY RANDOM [BUCKETS n]
struct distribution_desc {
    distribution_kind kind = distribution_kind::hash;
    std::vector<std::string> columns;
    std::optional<int64_t> buckets;
};

/// CREATE [EXTERNAL] TABLE [IF NOT EXISTS] [db.]t (columns, indexes) [ENGINE = e] [key desc]
/// [COMMENT 's'] [partitioning] [distribution] [ORDER BY (cols)] [PROPERTIES (...)]
/// or the same without the column list and with AS select (CTAS).
struct create_table_stmt {
    bool external = false;
    bool if_not_exists = false;
    qualified_name name;
    std::vector<column_def> columns;
    std::vector<index_def> indexes;
    std::optional<std::string> engine;  ///< as written, e.g. "OLAP"
    std::optional<key_desc> keys;
    std::optional<std::string> comment;
    std::optional<partition_desc> partition;
    std::optional<distribution_desc> distribution;
    std::vector<std::string> order_by;
    property_list properties;
    std::optional<select_stmt> as_select;  ///< CREATE TABLE ... AS SELECT
    std::string as_select_text;
};

/// CREATE TABLE [IF NOT EXISTS] [db.]t LIKE [db.]src
struct create_table_like_stmt {
    bool if_not_exists = false;
    qualified_name name;
    qualified_name source;
};

/// DROP TABLE [IF EXISTS] [db.]t [FORCE]
struct drop_table_stmt {
    bool if_exists = false;
    qualified_name name;
    bool force = false;
};

/// ADD [TEMPORARY] PARTITION [IF NOT EXISTS] p VALUES ... [DISTRIBUTED BY ...] [("k"="v")]
/// or ADD PARTITIONS START (...) END (...) EVERY (...) [DISTRIBUTED BY ...]
struct add_partition_clause {
    bool temporary = false;
    std::optional<partition_def> partition;  ///< the single-partition form
    std::optional<partition_batch> batch;    ///< the START/END/EVERY form
    std::optional<distribution_desc> distribution;
};

/// DROP [TEMPORARY] PARTITION [IF EXISTS] p [FORCE]
struct drop_partition_clause {
    bool temporary = false;
    bool if_exists = false;
    std::string name;
    bool force = false;
};

/// RENAME new_name
struct rename_table_clause {
    std::string new_name;
};

/// SET ("k" = "v", ...)
struct set_table_properties_clause {
    property_list properties;
};

/// SWAP WITH other
struct swap_table_clause {
    std::string other;
};

/// RENAME PARTITION p new_name
struct rename_partition_clause {
    std::string name;
    std::string new_name;
};

using alter_table_clause = std::variant<add_partition_clause, drop_partition_clause, rename_table_clause,
                                        set_table_properties_clause, swap_table_clause, rename_partition_clause>;

/// ALTER TABLE [db.]t clause
struct alter_table_stmt {
    qualified_name name;
    alter_table_clause clause;
};

/// ALTER DATABASE [catalog.]d RENAME new_name
struct alter_database_stmt {
    qualified_name name;  ///< `db` holds the catalog when one is written
    std::string new_name;
};

/// TRUNCATE TABLE [db.]t [PARTITION (p, ...)]
struct truncate_table_stmt {
    qualified_name name;
    std::vector<std::string> partitions;
};

}  // namespace tv::sql
