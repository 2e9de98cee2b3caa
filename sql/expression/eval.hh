// SPDX-License-Identifier: Apache-2.0
// Vectorized expressions: an AST expression is compiled once against the schema of the batches
// it will read (types resolved, implicit conversions inserted, constants folded), then evaluated
// a whole column at a time over storage::column_batch.
#pragma once

#include "sql/parser/ast_expr.hh"
#include "sql/errors.hh"
#include "sql/session.hh"
#include "storage/column_batch.hh"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace tv::sql {

/// The values an expression produced over a batch: one per row, or (constant) one value that
/// stands for every row. It either borrows a column (of the input batch, of a folded constant)
/// or owns the column it computed.
class value_vector {
public:
    static value_vector borrow(const storage::column_vector& column, bool constant = false);
    static value_vector own(storage::column_vector column, bool constant = false);

    const storage::column_vector& column() const { return _borrowed != nullptr ? *_borrowed : *_owned; }
    bool constant() const { return _constant; }
    /// The slot holding row `i`'s value.
    size_t slot(size_t i) const { return _constant ? 0 : i; }
    bool is_null(size_t i) const { return column().is_null(slot(i)); }
    /// Exactly `rows` values (a constant repeated), as an owned column.
    storage::column_vector materialize(size_t rows) &&;

private:
    value_vector() = default;
    const storage::column_vector* _borrowed = nullptr;
    std::optional<storage::column_vector> _owned;
    bool _constant = false;
};

/// A compiled expression: its result type and nullability are fixed at compile time, and every
/// evaluation produces a column of exactly that physical type and nullability.
class compiled_expr {
public:
    compiled_expr(storage::column_type type, bool nullable) : _type(type), _nullable(nullable) {}
    virtual ~compiled_expr() = default;
    compiled_expr(const compiled_expr&) = delete;
    compiled_expr& operator=(const compiled_expr&) = delete;

    const storage::column_type& type() const { return _type; }
    bool nullable() const { return _nullable; }
    /// True when the value does not depend on the rows: a literal, or an expression of them.
    virtual bool constant() const { return false; }
    /// The NULL literal, which has no type of its own: contexts give it theirs.
    virtual bool null_literal() const { return false; }
    /// The batch column this is a plain reference to, if it is one.
    virtual std::optional<size_t> column_slot() const { return std::nullopt; }
    /// For a conversion (CAST or an implicit one), the expression converted.
    virtual std::shared_ptr<const compiled_expr> cast_input() const { return nullptr; }

    /// Values for the `in.num_rows()` rows of `in` (a constant when constant()).
    sql_result<value_vector> eval(const storage::column_batch& in) const;

protected:
    virtual sql_result<value_vector> run(const storage::column_batch& in) const = 0;

private:
    storage::column_type _type;
    bool _nullable;
};

using expr_ptr = std::shared_ptr<const compiled_expr>;

/// What names mean while compiling: the columns of the batches the expression will read, and
/// hooks the planner uses to put GROUP BY keys and aggregates in place of sub-expressions.
class compile_scope {
public:
    virtual ~compile_scope() = default;
    virtual const std::vector<storage::column_desc>& columns() const = 0;
    virtual const session& current_session() const = 0;
    /// A batch column that stands for all of `e` (a GROUP BY key, an aggregate's result), an
    /// error, or nullopt to compile `e` itself. Called for every node before it is compiled.
    virtual std::optional<sql_result<size_t>> substitute(const expr& e);
    /// The batch column a reference names, or error 1054.
    virtual sql_result<size_t> resolve(const column_ref& c) = 0;
};

/// A scope over one schema: names match case-insensitively; a qualifier must name `source`.
/// `clause` words the unknown-column error ("field list", "where clause", ...).
class schema_scope : public compile_scope {
public:
    schema_scope(const std::vector<storage::column_desc>& columns, std::string source, std::string clause,
                 const session& s)
        : _columns(columns), _source(std::move(source)), _clause(std::move(clause)), _session(s) {}
    const std::vector<storage::column_desc>& columns() const override { return _columns; }
    const session& current_session() const override { return _session; }
    sql_result<size_t> resolve(const column_ref& c) override;
    const std::string& clause() const { return _clause; }
    void set_clause(std::string clause) { _clause = std::move(clause); }

private:
    const std::vector<storage::column_desc>& _columns;
    std::string _source;
    std::string _clause;
    const session& _session;
};

/// "Unknown column 't.x' in 'where clause'" (error 1054), naming the reference as written.
sql_error unknown_column(const column_ref& c, std::string_view clause);

/// Compiles `e`. Aggregate calls are error 1111 unless the scope substitutes them.
sql_result<expr_ptr> compile(const expr& e, compile_scope& scope);

/// `e` converted to `t` as CAST does (a value that does not convert becomes NULL).
sql_result<expr_ptr> convert(expr_ptr e, const storage::column_type& t);

/// A constant holding one typed value (NULL when `value` is monostate).
expr_ptr make_constant(const storage::column_type& t, const storage::cell& value);

/// COUNT, SUM, MIN, MAX, AVG (case-insensitive).
bool is_aggregate_function(std::string_view name);

/// Calls f on each direct sub-expression of e.
void visit_children(const expr& e, const std::function<void(const expr&)>& f);

/// True when `e` contains an aggregate call.
bool contains_aggregate(const expr& e);

/// The rows (ascending) where a BOOLEAN result is TRUE: NULL and FALSE drop the row.
std::vector<uint32_t> true_rows(const value_vector& v, size_t rows);

/// Types of expression results: VARCHAR of StarRocks' default length, BIGINT, DOUBLE, ...
storage::column_type varchar_type();
storage::column_type simple_type(storage::type_kind k);

}  // namespace tv::sql
