// SPDX-License-Identifier: Apache-2.0
// AST for the other catalog objects: views, materialized views, user-defined functions and
// external catalogs.
#pragma once

#include "sql/parser/ast_table.hh"

namespace tv::sql {

/// One entry of a view's or materialized view's column list: name [COMMENT 's']
struct view_column {
    std::string name;
    std::optional<std::string> comment;
};

/// CREATE [OR REPLACE] VIEW [IF NOT EXISTS] [db.]v [(c [COMMENT 's'], ...)] [COMMENT 's'] AS select
struct create_view_stmt {
    bool or_replace = false;
    bool if_not_exists = false;
    qualified_name name;
    std::vector<view_column> columns;
    std::optional<std::string> comment;
    select_stmt query;
    std::string query_text;  ///< exact source text of the query, what SHOW CREATE VIEW prints back
};

/// ALTER VIEW [db.]v [(cols)] AS select
struct alter_view_stmt {
    qualified_name name;
    std::vector<view_column> columns;
    select_stmt query;
    std::string query_text;
};

/// DROP VIEW [IF EXISTS] [db.]v
struct drop_view_stmt {
    bool if_exists = false;
    qualified_name name;
};

enum class refresh_moment : uint8_t { immediate, deferred };
enum class refresh_kind : uint8_t { async, manual, incremental };

/// REFRESH [IMMEDIATE | DEFERRED] {ASYNC [START ('ts')] [EVERY (INTERVAL n unit)] | MANUAL | INCREMENTAL}
struct refresh_scheme {
    std::optional<refresh_moment> moment;
    refresh_kind kind = refresh_kind::async;
    std::optional<std::string> start;  ///< ASYNC START ('2024-01-01 00:00:00')
    std::optional<expr> every;         ///< ASYNC EVERY (INTERVAL 1 HOUR): the interval_expr
};

/// CREATE MATERIALIZED VIEW [IF NOT EXISTS] [db.]mv [(cols)] [COMMENT 's'] [PARTITION BY expr]
/// [DISTRIBUTED BY ...] [ORDER BY (cols)] [REFRESH ...] [PROPERTIES (...)] AS select.
/// A synchronous MV is the form without REFRESH (and usually without DISTRIBUTED) over one
/// table; the parser does not decide, it reports `has_refresh_clause`.
struct create_materialized_view_stmt {
    bool if_not_exists = false;
    qualified_name name;
    std::vector<view_column> columns;
    std::optional<std::string> comment;
    std::vector<expr> partition_by;
    std::string partition_by_text;  ///< source text after PARTITION BY
    std::optional<distribution_desc> distribution;
    std::vector<std::string> order_by;
    bool has_refresh_clause = false;
    std::optional<refresh_scheme> refresh;
    property_list properties;
    select_stmt query;
    std::string query_text;
};

/// DROP MATERIALIZED VIEW [IF EXISTS] [db.]mv
struct drop_materialized_view_stmt {
    bool if_exists = false;
    qualified_name name;
};

enum class mv_alter_action : uint8_t { active, inactive, rename, set_properties, refresh };

/// ALTER MATERIALIZED VIEW [db.]mv {ACTIVE | INACTIVE | RENAME new | SET ("k"="v") | REFRESH ...}
struct alter_materialized_view_stmt {
    qualified_name name;
    mv_alter_action action = mv_alter_action::active;
    std::string new_name;              ///< rename
    property_list properties;          ///< set_properties
    std::optional<refresh_scheme> refresh;  ///< refresh
};

/// REFRESH MATERIALIZED VIEW [db.]mv [PARTITION START ('a') END ('b')] [FORCE] [WITH {SYNC | ASYNC} MODE]
struct refresh_materialized_view_stmt {
    qualified_name name;
    std::optional<std::string> partition_start;
    std::optional<std::string> partition_end;
    bool force = false;
    bool sync_mode = false;
};

enum class function_kind : uint8_t { scalar, aggregate, table };

/// CREATE [GLOBAL] [AGGREGATE | TABLE] FUNCTION [IF NOT EXISTS] [db.]f(type, ... [, ...])
/// RETURNS type [INTERMEDIATE type] [PROPERTIES (...)]
struct create_function_stmt {
    bool global = false;
    function_kind kind = function_kind::scalar;
    bool if_not_exists = false;
    qualified_name name;
    std::vector<data_type> arg_types;
    bool variadic = false;  ///< the argument list ends with `...`
    data_type return_type;
    std::optional<data_type> intermediate_type;
    property_list properties;
};

/// DROP [GLOBAL] FUNCTION [IF EXISTS] [db.]f(type, ... [, ...])
struct drop_function_stmt {
    bool global = false;
    bool if_exists = false;
    qualified_name name;
    std::vector<data_type> arg_types;
    bool variadic = false;
};

/// CREATE EXTERNAL CATALOG [IF NOT EXISTS] c [COMMENT 's'] PROPERTIES (...)
struct create_catalog_stmt {
    bool if_not_exists = false;
    std::string name;
    std::optional<std::string> comment;
    property_list properties;
};

/// DROP CATALOG [IF EXISTS] c
struct drop_catalog_stmt {
    bool if_exists = false;
    std::string name;
};

}  // namespace tv::sql
