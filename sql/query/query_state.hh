// SPDX-License-Identifier: Apache-2.0
// A planned SELECT as the executor runs it: compiled expressions for each stage (filter,
// grouping, aggregation, having, projection), the sort keys and the limit.
#pragma once

#include "sql/expression/eval.hh"
#include "sql/query/query.hh"

namespace tv::sql {

enum class aggregate_kind : uint8_t { count_star, count, sum, min, max, avg };

struct aggregate_spec {
    aggregate_kind kind = aggregate_kind::count_star;
    bool distinct = false;
    std::vector<expr_ptr> args;  ///< over the source rows (COUNT(DISTINCT a, b) has several)
    storage::column_type type;   ///< of the result
    bool nullable = true;
    std::string text;            ///< the call as SQL, for overflow messages
};

struct sort_key {
    size_t column = 0;  ///< in the projected rows
    bool descending = false;
};

struct plan_state {
    std::vector<storage::column_desc> source_schema;
    std::optional<expr> where_ast;
    expr_ptr where;   ///< over source rows; null when there is none
    expr_ptr filter;  ///< HAVING of a query without grouping: over source rows, after WHERE

    bool aggregate = false;
    std::vector<expr_ptr> group_keys;  ///< over source rows
    std::vector<aggregate_spec> aggregates;
    std::vector<storage::column_desc> grouped_schema;  ///< the keys, then the aggregates' results
    expr_ptr having;                                   ///< over grouped rows

    /// Over grouped rows when aggregating, else source rows: the select items, then ORDER BY
    /// expressions that are not select items (dropped before output).
    std::vector<expr_ptr> projections;
    std::vector<storage::column_desc> projected_schema;
    size_t visible = 0;

    bool distinct = false;
    std::vector<sort_key> order;
    std::optional<limit_clause> limit;
    std::vector<storage::column_desc> output_schema;
};

/// Rows per batch the engine produces when it has a choice.
inline constexpr size_t batch_rows = 65536;

/// The executor's side of query_plan::open().
cursor open_cursor(std::shared_ptr<const plan_state> plan, std::unique_ptr<batch_source> source,
                   query_guard* guard);

}  // namespace tv::sql
