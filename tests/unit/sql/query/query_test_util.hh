// SPDX-License-Identifier: Apache-2.0
// Helpers for the query engine tests: in-memory tables from text rows, running a SELECT over a
// source to a result set (the sources here never suspend, so tasks run inline), rows as text.
#pragma once

#include "sql/expression/cast.hh"
#include "sql/parser/parser.hh"
#include "sql/query/query.hh"
#include "storage/values.hh"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tv::sql::qtest {

using storage::column_desc;
using storage::column_type;
using storage::type_kind;

/// Runs `t` to its end now; the engine's in-memory sources complete without suspending.
template <class T>
T run_inline(io::task<T> t) {
    auto handle = t.handle();
    handle.resume();
    if (!handle.done()) {
        throw std::logic_error("a task suspended in an inline test");
    }
    return handle.promise().take();
}

inline column_type type(std::string_view sql) {
    auto t = column_type::from_sql(sql);
    if (!t) {
        throw std::invalid_argument(t.error().message);
    }
    return *t;
}

inline column_desc col(std::string name, std::string_view sql_type, bool nullable = true) {
    return column_desc{std::move(name), type(sql_type), nullable};
}

using text_row = std::vector<std::optional<std::string>>;

/// A batch from text values (parse_typed per cell; nullopt is NULL).
inline storage::column_batch batch_of(const std::vector<column_desc>& schema, const std::vector<text_row>& rows) {
    storage::column_batch b(schema);
    for (const auto& r : rows) {
        std::vector<storage::owned_value> owned;
        std::vector<storage::cell> cells;
        for (size_t c = 0; c < schema.size(); ++c) {
            if (!r[c]) {
                owned.emplace_back();
                continue;
            }
            auto v = storage::parse_typed(schema[c].type, *r[c]);
            if (!v) {
                throw std::invalid_argument(v.error().message);
            }
            owned.push_back(std::move(*v));
        }
        for (const auto& o : owned) {
            cells.push_back(o.as_cell());
        }
        b.append_row(cells);
    }
    return b;
}

/// Counts how many batches were pulled from the source it wraps (to see LIMIT stop early).
class counting_source final : public batch_source {
public:
    counting_source(std::unique_ptr<batch_source> inner, int* pulls) : _inner(std::move(inner)), _pulls(pulls) {}
    const std::vector<column_desc>& schema() const override { return _inner->schema(); }
    io::task<sql_result<std::optional<storage::column_batch>>> next() override {
        ++*_pulls;
        auto r = co_await _inner->next();
        co_return r;
    }

private:
    std::unique_ptr<batch_source> _inner;
    int* _pulls;
};

/// An in-memory table cut into batches of `per_batch` rows.
inline std::unique_ptr<batch_source> table(const std::vector<column_desc>& schema, const std::vector<text_row>& rows,
                                           size_t per_batch = 2) {
    std::vector<storage::column_batch> batches;
    for (size_t i = 0; i < rows.size(); i += per_batch) {
        std::vector<text_row> part(rows.begin() + static_cast<ptrdiff_t>(i),
                                   rows.begin() + static_cast<ptrdiff_t>(std::min(rows.size(), i + per_batch)));
        batches.push_back(batch_of(schema, part));
    }
    return make_memory_source(schema, std::move(batches));
}

inline select_stmt parse_select(std::string_view sql) {
    auto parsed = parse_sql(sql);
    if (auto* e = std::get_if<parse_error>(&parsed)) {
        throw std::invalid_argument(e->message);
    }
    return std::get<select_stmt>(std::get<std::vector<parsed_statement>>(parsed).at(0).stmt);
}

/// Plans `sql` against `source` (named `name`) and returns its result or error.
inline sql_result<result_set> query(std::string_view sql, std::unique_ptr<batch_source> source,
                                    std::string name = "t") {
    session s;
    s.current_db = "db";
    auto plan = plan_select(parse_select(sql), source->schema(), std::move(name), s);
    if (!plan) {
        return plan.error();
    }
    auto c = (*plan)->open(std::move(source));
    return run_inline(to_result(std::move(c)));
}

/// Rows joined with '|', NULL as "NULL".
inline std::vector<std::string> rows_of(const result_set& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs.rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += (i == 0 ? "" : "|") + r[i].value_or("NULL");
        }
        out.push_back(line);
    }
    return out;
}

/// The rows of a query that must succeed (a test failure and no rows otherwise).
inline std::vector<std::string> rows(std::string_view sql, std::unique_ptr<batch_source> source) {
    auto r = query(sql, std::move(source));
    if (!r) {
        ADD_FAILURE() << sql << ": error " << r.error().number() << " " << r.error().message;
        return {};
    }
    return rows_of(*r);
}

/// The error of a query that must fail.
inline sql_error error(std::string_view sql, std::unique_ptr<batch_source> source) {
    auto r = query(sql, std::move(source));
    if (r) {
        ADD_FAILURE() << sql << ": no error, " << r->rows.size() << " rows";
        return {};
    }
    return r.error();
}

/// One row, one column: x INT = 1, for expression tests.
inline std::unique_ptr<batch_source> one_row() {
    return table({col("x", "INT")}, {{"1"}});
}

/// The single value `expr` evaluates to ("NULL" for NULL).
inline std::string value(std::string_view expr) {
    auto r = rows("SELECT " + std::string(expr) + " FROM t", one_row());
    return r.size() == 1 ? r[0] : "<" + std::to_string(r.size()) + " rows>";
}

/// The type an expression's result column has.
inline std::string type_of(std::string_view expr) {
    session s;
    auto source = one_row();
    auto plan = plan_select(parse_select("SELECT " + std::string(expr) + " FROM t"), source->schema(), "t", s);
    if (!plan) {
        return "error: " + plan.error().message;
    }
    return (*plan)->output_schema()[0].type.to_sql();
}

/// The error an expression gives.
inline sql_error value_error(std::string_view expr) {
    return error("SELECT " + std::string(expr) + " FROM t", one_row());
}

}  // namespace tv::sql::qtest
