// SPDX-License-Identifier: Apache-2.0
// Aggregation: COUNT / SUM / MIN / MAX / AVG with their result types, DISTINCT aggregates,
// GROUP BY by expression, alias and ordinal (NULL keys form one group), HAVING, ORDER BY over
// groups, empty inputs, overflow, and the misuse errors.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using strings = std::vector<std::string>;

std::unique_ptr<tv::sql::batch_source> emp(size_t per_batch = 2) {
    return table({col("id", "INT", false), col("name", "VARCHAR(20)"), col("dept", "VARCHAR(10)"),
                  col("salary", "DECIMAL(10, 2)"), col("hired", "DATE"), col("bonus", "DOUBLE")},
                 {{"1", "ann", "eng", "100.50", "2020-01-15", "1.5"},
                  {"2", "bob", "eng", "90.00", "2021-03-01", std::nullopt},
                  {"3", "cid", "ops", "70.25", "2019-07-30", "0.5"},
                  {"4", "dee", std::nullopt, "60.00", std::nullopt, "2.0"},
                  {"5", "eve", "ops", std::nullopt, "2022-12-31", "1.0"}},
                 per_batch);
}

std::unique_ptr<tv::sql::batch_source> empty_emp() {
    return table({col("id", "INT", false), col("salary", "DECIMAL(10, 2)")}, {});
}

std::string output_type(std::string_view sql, size_t column = 0) {
    session s;
    auto source = emp();
    auto plan = plan_select(parse_select(sql), source->schema(), "t", s);
    if (!plan) {
        return "error: " + plan.error().message;
    }
    return (*plan)->output_schema()[column].type.to_sql();
}

}  // namespace

TEST(query_aggregate, whole_table) {
    EXPECT_EQ(rows("SELECT COUNT(*), COUNT(dept), COUNT(DISTINCT dept), SUM(salary), MIN(hired), MAX(name) FROM t",
                   emp()),
              (strings{"5|4|2|320.75|2019-07-30|eve"}));
    EXPECT_EQ(rows("SELECT SUM(id), AVG(id), AVG(salary), AVG(bonus), MIN(bonus), MAX(salary) FROM t", emp()),
              (strings{"15|3|80.18750000|1.25|0.5|100.50"}));
    EXPECT_EQ(rows("SELECT COUNT(*) + 1, SUM(id) * 2, MAX(id) - MIN(id) FROM t", emp()), (strings{"6|30|4"}));
}

TEST(query_aggregate, result_types) {
    EXPECT_EQ(output_type("SELECT COUNT(*) FROM t"), "BIGINT");
    EXPECT_EQ(output_type("SELECT SUM(id) FROM t"), "BIGINT");
    EXPECT_EQ(output_type("SELECT SUM(salary) FROM t"), "DECIMAL(38, 2)");
    EXPECT_EQ(output_type("SELECT SUM(bonus) FROM t"), "DOUBLE");
    EXPECT_EQ(output_type("SELECT AVG(id) FROM t"), "DOUBLE");
    EXPECT_EQ(output_type("SELECT AVG(salary) FROM t"), "DECIMAL(38, 8)");
    EXPECT_EQ(output_type("SELECT MIN(salary) FROM t"), "DECIMAL(10, 2)");
    EXPECT_EQ(output_type("SELECT MAX(name) FROM t"), "VARCHAR(20)");
    EXPECT_EQ(output_type("SELECT MAX(hired) FROM t"), "DATE");
}

TEST(query_aggregate, empty_input) {
    EXPECT_EQ(rows("SELECT COUNT(*), SUM(salary), MIN(id), AVG(id) FROM t", empty_emp()), (strings{"0|NULL|NULL|NULL"}));
    EXPECT_EQ(rows("SELECT id, COUNT(*) FROM t GROUP BY id", empty_emp()), (strings{}));
    EXPECT_EQ(rows("SELECT COUNT(*) FROM t WHERE id > 100", emp()), (strings{"0"}));
}

TEST(query_aggregate, group_by_with_null_keys) {
    EXPECT_EQ(rows("SELECT dept, COUNT(*) AS n, SUM(salary) FROM t GROUP BY dept ORDER BY dept", emp()),
              (strings{"NULL|1|60.00", "eng|2|190.50", "ops|2|70.25"}));
    // One-row batches: groups meet across batches.
    EXPECT_EQ(rows("SELECT dept, COUNT(*) FROM t GROUP BY dept ORDER BY 2 DESC, 1", emp(1)),
              (strings{"eng|2", "ops|2", "NULL|1"}));
}

TEST(query_aggregate, group_by_expressions_aliases_ordinals) {
    EXPECT_EQ(rows("SELECT id % 2, COUNT(*) FROM t GROUP BY id % 2 ORDER BY 1", emp()), (strings{"0|2", "1|3"}));
    EXPECT_EQ(rows("SELECT id % 2 AS parity, SUM(id) FROM t GROUP BY parity ORDER BY parity", emp()),
              (strings{"0|6", "1|9"}));
    EXPECT_EQ(rows("SELECT dept, year(hired) AS y, COUNT(*) FROM t GROUP BY 1, 2 ORDER BY 1, 2", emp()),
              (strings{"NULL|NULL|1", "eng|2020|1", "eng|2021|1", "ops|2019|1", "ops|2022|1"}));
    EXPECT_EQ(rows("SELECT (id % 2) + 10 FROM t GROUP BY id % 2 ORDER BY 1", emp()), (strings{"10", "11"}));
    EXPECT_EQ(rows("SELECT T.DEPT FROM t GROUP BY dept ORDER BY 1", emp()), (strings{"NULL", "eng", "ops"}));
    EXPECT_EQ(rows("SELECT * FROM t GROUP BY id, name, dept, salary, hired, bonus ORDER BY id LIMIT 1", emp()),
              (strings{"1|ann|eng|100.50|2020-01-15|1.5"}));
}

TEST(query_aggregate, having_and_order_by_aggregates) {
    EXPECT_EQ(rows("SELECT dept, COUNT(*) FROM t GROUP BY dept HAVING COUNT(*) > 1 ORDER BY 1", emp()),
              (strings{"eng|2", "ops|2"}));
    EXPECT_EQ(rows("SELECT dept, COUNT(*) AS n FROM t GROUP BY dept HAVING n = 1", emp()), (strings{"NULL|1"}));
    EXPECT_EQ(rows("SELECT dept FROM t GROUP BY dept HAVING MAX(id) >= 4 ORDER BY SUM(id) DESC", emp()),
              (strings{"ops", "NULL"}));
    EXPECT_EQ(rows("SELECT dept, SUM(salary) AS s FROM t GROUP BY dept ORDER BY s DESC LIMIT 1", emp()),
              (strings{"eng|190.50"}));
    EXPECT_EQ(rows("SELECT COUNT(*) FROM t HAVING COUNT(*) > 10", emp()), (strings{}));
}

TEST(query_aggregate, distinct_aggregates) {
    auto src = [] {
        return table({col("k", "INT"), col("v", "INT")},
                     {{"1", "10"}, {"1", "10"}, {"1", "20"}, {"2", "10"}, {"2", std::nullopt}, {"2", "10"}});
    };
    EXPECT_EQ(rows("SELECT k, COUNT(DISTINCT v), SUM(DISTINCT v), COUNT(v), SUM(v) FROM t GROUP BY k ORDER BY k", src()),
              (strings{"1|2|30|3|40", "2|1|10|2|20"}));
    EXPECT_EQ(rows("SELECT COUNT(DISTINCT k, v) FROM t", src()), (strings{"3"}));
    EXPECT_EQ(rows("SELECT DISTINCT COUNT(*) FROM t GROUP BY k", src()), (strings{"3"}));
}

TEST(query_aggregate, sum_overflow_is_error_1690) {
    auto src = table({col("v", "BIGINT")}, {{"9223372036854775807"}, {"1"}});
    auto e = error("SELECT SUM(v) FROM t", std::move(src));
    EXPECT_EQ(e.number(), 1690);
    EXPECT_EQ(e.message, "BIGINT value is out of range in 'SUM(v)'");
}

TEST(query_aggregate, misuse_errors) {
    auto e = error("SELECT name, COUNT(*) FROM t GROUP BY dept", emp());
    EXPECT_EQ(e.number(), 1055);
    EXPECT_EQ(e.message, "'name' must be an aggregate expression or appear in GROUP BY clause");
    EXPECT_EQ(error("SELECT id, COUNT(*) FROM t", emp()).number(), 1055);
    EXPECT_EQ(error("SELECT SUM(COUNT(*)) FROM t", emp()).number(), 1111);
    EXPECT_EQ(error("SELECT COUNT(*) FROM t GROUP BY COUNT(*)", emp()).number(), 1111);
    EXPECT_EQ(error("SELECT SUM(id, id) FROM t", emp()).number(), 1582);
    EXPECT_EQ(error("SELECT id FROM t GROUP BY 7", emp()).message, "Unknown column '7' in 'group statement'");
    EXPECT_EQ(error("SELECT dept FROM t GROUP BY dept HAVING nope > 1", emp()).message,
              "Unknown column 'nope' in 'having clause'");
    EXPECT_EQ(error("SELECT dept FROM t GROUP BY dept ORDER BY id", emp()).number(), 1055);
}

TEST(query_aggregate, many_groups_over_generate_series) {
    EXPECT_EQ(rows("SELECT generate_series % 3 AS r, COUNT(*), SUM(generate_series), MIN(generate_series) FROM t "
                   "GROUP BY r ORDER BY r",
                   make_generate_series(1, 300000, 1)),
              (strings{"0|100000|15000150000|3", "1|100000|14999950000|1", "2|100000|15000050000|2"}));
    EXPECT_EQ(rows("SELECT COUNT(*), SUM(generate_series) FROM t", make_generate_series(1, 1000000, 1)),
              (strings{"1000000|500000500000"}));
    EXPECT_EQ(rows("SELECT COUNT(DISTINCT generate_series % 1000) FROM t", make_generate_series(1, 200000, 1)),
              (strings{"1000"}));
}

TEST(query_aggregate, constant_and_null_arguments) {
    EXPECT_EQ(rows("SELECT COUNT(1), COUNT(NULL), SUM(1), SUM(NULL), MIN(NULL), AVG(DISTINCT id % 2) FROM t", emp()),
              (strings{"5|0|5|NULL|NULL|0.5"}));
    EXPECT_EQ(rows("SELECT dept, COUNT(*) FROM t GROUP BY dept ORDER BY NULL, 1", emp()),
              (strings{"NULL|1", "eng|2", "ops|2"}));
}
