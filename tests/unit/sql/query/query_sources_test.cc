// SPDX-License-Identifier: Apache-2.0
// The engine's sources: generate_series (batching, steps, the ends of BIGINT), VALUES rows for
// INSERT (conversion, DEFAULT, errors), and queries over queries (a cursor as the source of
// another plan, as views nest), with cursors outliving their plans.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using strings = std::vector<std::string>;

/// Every value of a source, one line per row.
std::vector<std::string> drain(std::unique_ptr<batch_source> source, std::vector<size_t>* batch_sizes = nullptr) {
    std::vector<std::string> out;
    for (;;) {
        auto r = run_inline(source->next());
        if (!r) {
            out.push_back("error: " + r.error().message);
            return out;
        }
        auto& b = *r;
        if (!b) {
            return out;
        }
        if (batch_sizes != nullptr) {
            batch_sizes->push_back(b->num_rows());
        }
        for (size_t i = 0; i < b->num_rows(); ++i) {
            std::string line;
            for (size_t c = 0; c < b->num_columns(); ++c) {
                auto cell = b->get(i, c);
                line += (c == 0 ? "" : "|") + (tv::storage::is_null(cell)
                                                   ? std::string("NULL")
                                                   : tv::storage::format_typed(b->schema()[c].type, cell));
            }
            out.push_back(line);
        }
    }
}

std::vector<std::vector<std::optional<expr>>> values_rows(std::string_view sql) {
    auto parsed = parse_sql(sql);
    auto& stmt = std::get<insert_stmt>(std::get<std::vector<parsed_statement>>(parsed).at(0).stmt);
    return stmt.rows;
}

}  // namespace

TEST(query_sources, generate_series_steps_and_batches) {
    EXPECT_EQ(drain(make_generate_series(1, 5, 1)), (strings{"1", "2", "3", "4", "5"}));
    EXPECT_EQ(drain(make_generate_series(1, 10, 4)), (strings{"1", "5", "9"}));
    EXPECT_EQ(drain(make_generate_series(5, 1, -2)), (strings{"5", "3", "1"}));
    EXPECT_EQ(drain(make_generate_series(5, 1, 1)), (strings{}));
    EXPECT_EQ(drain(make_generate_series(3, 3, 1)), (strings{"3"}));
    EXPECT_EQ(drain(make_generate_series(1, 2, 0)), (strings{"error: generate_series step size cannot equal zero"}));
    EXPECT_EQ(drain(make_generate_series(9223372036854775806, 9223372036854775807, 1)),
              (strings{"9223372036854775806", "9223372036854775807"}));
    EXPECT_EQ(drain(make_generate_series(-9223372036854775807 - 1, 9223372036854775807, 9223372036854775807)),
              (strings{"-9223372036854775808", "-1", "9223372036854775806"}));
    std::vector<size_t> sizes;
    auto all = drain(make_generate_series(1, 140000, 1), &sizes);
    EXPECT_EQ(all.size(), 140000u);
    EXPECT_EQ(all.back(), "140000");
    EXPECT_EQ(sizes, (std::vector<size_t>{65536, 65536, 8928}));
    auto schema = make_generate_series(1, 2, 1)->schema();
    EXPECT_EQ(schema[0].name, "generate_series");
    EXPECT_EQ(schema[0].type.to_sql(), "BIGINT");
    EXPECT_FALSE(schema[0].nullable);
}

TEST(query_sources, values_convert_to_the_target) {
    std::vector<column_desc> target = {col("d", "DATE", false), col("id", "BIGINT", false), col("amount", "INT"),
                                       col("note", "VARCHAR(8)")};
    auto src = make_values_source(values_rows("INSERT INTO t VALUES ('2023-05-01', 1, 10, 'a'), "
                                              "('2024-02-02', 1 + 1, NULL, concat('b', 'c'))"),
                                  target, session{});
    ASSERT_TRUE(src.has_value());
    EXPECT_EQ(drain(std::move(*src)),
              (strings{"2023-05-01|1|10|a", "2024-02-02|2|NULL|bc"}));
}

TEST(query_sources, values_default_takes_the_column_default) {
    std::vector<column_desc> target = {col("id", "BIGINT", false), col("amount", "INT"), col("at", "DATETIME")};
    std::vector<std::optional<tv::storage::column_default>> defaults = {
        std::nullopt, tv::storage::column_default{tv::storage::default_kind::literal, "7"},
        tv::storage::column_default{tv::storage::default_kind::current_timestamp, ""}};
    auto src = make_values_source(values_rows("INSERT INTO t VALUES (1, DEFAULT, DEFAULT)"), target, session{}, defaults);
    auto rows = drain(std::move(*src));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].substr(0, 4), "1|7|");
    EXPECT_EQ(rows[0].size(), 4u + 19u);  // a current DATETIME
}

TEST(query_sources, values_errors) {
    std::vector<column_desc> target = {col("id", "BIGINT", false), col("note", "VARCHAR(8)")};
    auto too_long = make_values_source(values_rows("INSERT INTO t VALUES (1, 'ok'), (2, 'too long for eight')"), target,
                                       session{});
    ASSERT_TRUE(too_long.has_error());
    EXPECT_EQ(too_long.error().number(), 1406);
    EXPECT_EQ(too_long.error().message,
              "Data too long for column 'note' (VARCHAR(8)) at row 2: 'too long for eight'");
    auto null = make_values_source(values_rows("INSERT INTO t VALUES (NULL, 'x')"), target, session{});
    EXPECT_EQ(null.error().number(), 1048);
    auto bad = make_values_source(values_rows("INSERT INTO t VALUES ('abc', 'x')"), target, session{});
    EXPECT_EQ(bad.error().message, "Incorrect BIGINT value: 'abc' for column 'id' at row 1");
    auto column = make_values_source(values_rows("INSERT INTO t VALUES (id, 'x')"), target, session{});
    EXPECT_EQ(column.error().message, "Unknown column 'id' in 'field list'");
    auto count = make_values_source(values_rows("INSERT INTO t VALUES (1)"), target, session{});
    EXPECT_TRUE(count.has_error());
}

TEST(query_sources, queries_nest_over_cursors) {
    session s;
    auto base = table({col("id", "INT", false), col("dept", "VARCHAR(10)"), col("salary", "DECIMAL(10, 2)")},
                      {{"1", "eng", "100.50"}, {"2", "eng", "90.00"}, {"3", "ops", "70.25"}, {"4", std::nullopt, "60"}});
    // CREATE VIEW eng AS SELECT id AS k, salary * 2 AS double_pay FROM emp WHERE dept = 'eng'
    auto inner = plan_select(parse_select("SELECT id AS k, salary * 2 AS double_pay FROM emp WHERE dept = 'eng'"),
                             base->schema(), "emp", s);
    ASSERT_TRUE(inner.has_value());
    cursor view = (*inner)->open(std::move(base));
    inner = sql_error{};  // the plan is gone; the cursor keeps what it needs
    EXPECT_EQ(view->schema()[0].name, "k");
    EXPECT_EQ(view->schema()[1].type.to_sql(), "DECIMAL(28, 2)");
    // SELECT ... FROM eng v
    auto outer = plan_select(parse_select("SELECT v.k, double_pay FROM v WHERE double_pay > 190 ORDER BY k DESC"),
                             view->schema(), "v", s);
    ASSERT_TRUE(outer.has_value());
    cursor top = (*outer)->open(std::move(view));
    auto r = run_inline(to_result(std::move(top)));
    EXPECT_EQ(rows_of(*r), (strings{"1|201.00"}));
}

TEST(query_sources, aggregate_over_a_view) {
    session s;
    auto base = make_generate_series(1, 100, 1);
    auto inner = plan_select(parse_select("SELECT generate_series AS n, generate_series % 10 AS r FROM t WHERE "
                                          "generate_series > 50"),
                             base->schema(), "t", s);
    cursor view = (*inner)->open(std::move(base));
    auto outer = plan_select(parse_select("SELECT r, COUNT(*), SUM(n) FROM v GROUP BY r HAVING SUM(n) >= 395 ORDER BY r"),
                             view->schema(), "v", s);
    cursor top = (*outer)->open(std::move(view));
    auto r = run_inline(to_result(std::move(top)));
    EXPECT_EQ(rows_of(*r), (strings{"0|5|400", "9|5|395"}));
}
