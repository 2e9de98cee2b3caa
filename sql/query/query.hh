// SPDX-License-Identifier: Apache-2.0
// The query engine: SELECT over one source of column batches (a table scan, generate_series,
// VALUES rows, or another query, so views nest), planned once and run a batch at a time.
#pragma once

#include "io/task.hh"
#include "sql/parser/ast_select.hh"
#include "sql/errors.hh"
#include "sql/query_guard.hh"
#include "sql/result.hh"
#include "sql/session.hh"
#include "storage/catalog_types.hh"
#include "storage/column_batch.hh"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tv::sql {

/// Where a query's rows come from: a table scan, generate_series, VALUES rows, another query.
class batch_source {
public:
    virtual ~batch_source() = default;
    virtual const std::vector<storage::column_desc>& schema() const = 0;
    /// The next batch, or nullopt at the end. Batches may be empty.
    virtual io::task<sql_result<std::optional<storage::column_batch>>> next() = 0;
};

/// A running query: its batches carry the plan's output_schema(). It owns its source and
/// everything of the plan it needs, so it outlives the query_plan that opened it.
using cursor = std::unique_ptr<batch_source>;

struct plan_state;

class query_plan {
public:
    explicit query_plan(std::shared_ptr<const plan_state> state) : _state(std::move(state)) {}

    /// One column per select item (`*` expanded), named as MySQL names them: the alias, else
    /// the item's text, else the source column's name.
    const std::vector<storage::column_desc>& output_schema() const;
    /// The WHERE clause as written, for partition pruning.
    const std::optional<expr>& where() const;
    /// Starts the query over `source`, whose schema must be the one the plan was made for.
    /// Without aggregates, ORDER BY or DISTINCT's whole-input work, batches stream through and
    /// LIMIT stops reading the source as soon as it is satisfied. With a `guard`, the cursor
    /// ends with its error once it is stopped, and charges what it holds (DISTINCT keys, groups,
    /// rows kept for ORDER BY) to it.
    cursor open(std::unique_ptr<batch_source> source, query_guard* guard = nullptr) const;

private:
    std::shared_ptr<const plan_state> _state;
};

/// Plans `stmt` against the schema its FROM resolved to; `source_name` is the table name or
/// alias qualified references may use. Errors in MySQL's numbers and words: unknown column
/// 1054, aggregate misuse 1111, a column neither grouped nor aggregated 1055, wrong argument
/// count 1582, unknown function 1305.
sql_result<std::unique_ptr<query_plan>> plan_select(const select_stmt& stmt,
                                                    const std::vector<storage::column_desc>& source_schema,
                                                    std::string source_name, const session& s);

/// Drains `rows` into a text result set: every value as storage::format_typed() shows it,
/// columns typed for the client (column_kind_of). With a `guard`, it stops between batches when
/// the guard says so, yields to its loop after each batch, and charges the rows it keeps.
io::task<sql_result<result_set>> to_result(batch_source& rows, query_guard* guard = nullptr);
io::task<sql_result<result_set>> to_result(cursor rows);

/// The client-side type of a column type (BOOLEAN shows as TINYINT 1/0).
column_kind column_kind_of(const storage::column_type& t);
column_meta column_meta_of(const storage::column_desc& c);

/// The partitions of `t` that may hold rows satisfying `where` (RANGE and LIST): a partition is
/// left out only when no row it can hold could match, so the result is always safe to scan.
/// All partitions when `where` is empty or says nothing about the partition columns.
std::vector<storage::object_id> prune_partitions(const storage::table& t, const std::optional<expr>& where);

/// Rows start, start + step, ... up to end inclusive (down to it for a negative step), in
/// batches of 65536, as one BIGINT NOT NULL column named "generate_series". A step of 0 is an
/// error on the first next().
std::unique_ptr<batch_source> make_generate_series(int64_t start, int64_t end, int64_t step);

/// INSERT ... VALUES rows as one batch of `target` (each value converted as a strict load
/// converts it). A DEFAULT (empty optional) takes `defaults[column]` when given (its literal, or
/// the current time for CURRENT_TIMESTAMP), else NULL. Values may not name columns (1054).
sql_result<std::unique_ptr<batch_source>> make_values_source(
    const std::vector<std::vector<std::optional<expr>>>& rows, const std::vector<storage::column_desc>& target,
    const session& s, const std::vector<std::optional<storage::column_default>>& defaults = {});

/// A source over batches already in memory (tests, and callers that hold rows).
std::unique_ptr<batch_source> make_memory_source(std::vector<storage::column_desc> schema,
                                                 std::vector<storage::column_batch> batches);

}  // namespace tv::sql
