// SPDX-License-Identifier: Apache-2.0
// AST for queries and loads: SELECT (one table or table function, no joins), INSERT, UPDATE,
// DELETE, and the
// WHERE / ORDER BY / LIMIT tails that SHOW statements share.
#pragma once

#include "sql/parser/ast_expr.hh"

namespace tv::sql {

struct order_item {
    expr value;
    bool descending = false;
};

/// LIMIT count [OFFSET offset] and LIMIT offset, count both end up here.
struct limit_clause {
    uint64_t count = 0;
    uint64_t offset = 0;
};

/// One entry of the select list: an expression with an optional alias, `*`, or `t.*`.
struct select_item {
    bool star = false;               ///< `*` or `t.*`
    qualified_name star_table;       ///< for `t.*` / `db.t.*`; empty for a bare `*`
    std::optional<expr> value;       ///< set unless `star`
    std::optional<std::string> alias;
    std::string text;  ///< source text of the item without its alias: MySQL names result columns by it
};

/// FROM [db.]t [[AS] alias]
struct table_ref {
    qualified_name name;
    std::optional<std::string> alias;
};

/// FROM TABLE(f(args)) [[AS] alias[(col, ...)]], e.g. TABLE(generate_series(1, 10, 2)).
struct table_function_ref {
    std::string name;  ///< as written
    std::vector<expr> args;
    std::optional<std::string> alias;
    std::vector<std::string> column_aliases;
};

using from_clause = std::variant<table_ref, table_function_ref>;

struct select_stmt {
    bool distinct = false;
    std::vector<select_item> items;
    std::optional<from_clause> from;  ///< empty for SELECT without FROM
    std::optional<expr> where;
    std::vector<expr> group_by;
    std::optional<expr> having;
    std::vector<order_item> order_by;
    std::optional<limit_clause> limit;
};

/// INSERT {INTO | OVERWRITE} [db.]t [PARTITION (p, ...)] [WITH LABEL l] [(cols)]
/// {VALUES (...), ... | select}
struct insert_stmt {
    bool overwrite = false;
    qualified_name table;
    std::vector<std::string> partitions;
    std::optional<std::string> label;
    std::vector<std::string> columns;
    /// VALUES rows; an empty optional is the DEFAULT keyword.
    std::vector<std::vector<std::optional<expr>>> rows;
    std::optional<select_stmt> query;  ///< set instead of rows for INSERT ... SELECT
    std::string query_text;            ///< source text of `query`
};

/// `c = expr` in UPDATE's SET list.
struct update_assignment {
    std::string column;
    expr value;
};

/// UPDATE [db.]t SET c = expr [, ...] [WHERE cond]
struct update_stmt {
    qualified_name table;
    std::vector<update_assignment> assignments;
    std::optional<expr> where;
    bool has_from = false;  ///< UPDATE ... FROM other tables (a join): refused as not supported
};

/// DELETE FROM [db.]t [PARTITION p | PARTITIONS (p, ...)] [WHERE cond]
struct delete_stmt {
    qualified_name table;
    std::vector<std::string> partitions;
    std::optional<expr> where;
    bool has_using = false;  ///< DELETE ... USING other tables (a join): refused as not supported
};

/// [LIKE 'pattern' | WHERE expr], as in SHOW TABLES / SHOW VARIABLES.
struct show_filter {
    std::optional<std::string> like;
    std::optional<expr> where;
};

/// [WHERE expr] [ORDER BY ...] [LIMIT ...], as in SHOW BACKUP / SHOW SNAPSHOT / SHOW PARTITIONS.
struct show_predicate {
    std::optional<expr> where;
    std::vector<order_item> order_by;
    std::optional<limit_clause> limit;
};

}  // namespace tv::sql
