// SPDX-License-Identifier: Apache-2.0
// SELECT over in-memory tables of several batches: projections, `*` and `t.*`, WHERE with NULLs,
// ORDER BY (expressions, aliases, ordinals, NULL placement), LIMIT / OFFSET streaming (the
// source stops being read), DISTINCT, and the errors of each clause.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

using strings = std::vector<std::string>;

std::vector<column_desc> emp_schema() {
    return {col("id", "INT", false), col("name", "VARCHAR(20)"), col("dept", "VARCHAR(10)"),
            col("salary", "DECIMAL(10, 2)"), col("hired", "DATE"), col("bonus", "DOUBLE")};
}

std::unique_ptr<tv::sql::batch_source> emp(size_t per_batch = 2) {
    return table(emp_schema(),
                 {{"1", "ann", "eng", "100.50", "2020-01-15", "1.5"},
                  {"2", "bob", "eng", "90.00", "2021-03-01", std::nullopt},
                  {"3", "cid", "ops", "70.25", "2019-07-30", "0.5"},
                  {"4", "dee", std::nullopt, "60.00", std::nullopt, "2.0"},
                  {"5", "eve", "ops", std::nullopt, "2022-12-31", "1.0"}},
                 per_batch);
}

}  // namespace

TEST(query_select, star_and_qualified_star) {
    EXPECT_EQ(rows("SELECT * FROM t", emp()),
              (strings{"1|ann|eng|100.50|2020-01-15|1.5", "2|bob|eng|90.00|2021-03-01|NULL",
                       "3|cid|ops|70.25|2019-07-30|0.5", "4|dee|NULL|60.00|NULL|2", "5|eve|ops|NULL|2022-12-31|1"}));
    EXPECT_EQ(rows("SELECT t.*, id * 10 FROM t WHERE id = 3", emp()),
              (strings{"3|cid|ops|70.25|2019-07-30|0.5|30"}));
    auto e = error("SELECT u.* FROM t", emp());
    EXPECT_EQ(e.number(), 1051);
    EXPECT_EQ(e.message, "Unknown table 'u'");
}

TEST(query_select, names_of_output_columns) {
    auto r = query("SELECT id, name AS who, id + 1, * FROM t LIMIT 1", emp());
    ASSERT_TRUE(r.has_value());
    const auto& rs = *r;
    std::vector<std::string> names;
    for (const auto& c : rs.columns) {
        names.push_back(c.name);
    }
    EXPECT_EQ(names, (strings{"id", "who", "id + 1", "id", "name", "dept", "salary", "hired", "bonus"}));
}

TEST(query_select, where_with_nulls_and_three_valued_logic) {
    EXPECT_EQ(rows("SELECT id, name FROM t WHERE salary > 65 AND dept = 'eng'", emp()), (strings{"1|ann", "2|bob"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE dept IS NULL OR salary IS NULL", emp()), (strings{"4", "5"}));
    // dept <> 'eng' is NULL for the NULL dept: the row is not returned, and NOT keeps it NULL.
    EXPECT_EQ(rows("SELECT id FROM t WHERE NOT (dept = 'eng')", emp()), (strings{"3", "5"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE dept = 'eng' OR bonus > 1", emp()), (strings{"1", "2", "4"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE id IN (1, 3, 9)", emp()), (strings{"1", "3"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE id NOT IN (1, 3) AND id BETWEEN 2 AND 4", emp()), (strings{"2", "4"}));
    EXPECT_EQ(rows("SELECT id, dept IN ('eng', NULL), dept NOT IN ('ops') FROM t", emp()),
              (strings{"1|1|1", "2|1|1", "3|NULL|0", "4|NULL|NULL", "5|NULL|0"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE hired IN ('2020-01-15', '2019-7-30')", emp()), (strings{"1", "3"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE salary IN (90, 70.25)", emp()), (strings{"2", "3"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE 7 IN (id, id + 3)", emp()), (strings{"4"}));
    EXPECT_EQ(rows("SELECT name FROM t WHERE name LIKE '_e%'", emp()), (strings{"dee"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE hired >= '2021-01-01'", emp()), (strings{"2", "5"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE t.id > 4", emp()), (strings{"5"}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE NULL", emp()), (strings{}));
    EXPECT_EQ(rows("SELECT id FROM t WHERE 1 = 1 AND id < 2", emp()), (strings{"1"}));
}

TEST(query_select, expressions_over_vectors_with_nulls) {
    EXPECT_EQ(rows("SELECT id, salary * 2, id % 2, concat(name, '-', dept) FROM t", emp()),
              (strings{"1|201.00|1|ann-eng", "2|180.00|0|bob-eng", "3|140.50|1|cid-ops", "4|120.00|0|NULL",
                       "5|NULL|1|eve-ops"}));
    EXPECT_EQ(rows("SELECT bonus + id, bonus > 1, coalesce(dept, name) FROM t", emp()),
              (strings{"2.5|1|eng", "NULL|NULL|eng", "3.5|0|ops", "6|1|dee", "6|0|ops"}));
    EXPECT_EQ(rows("SELECT CASE WHEN bonus IS NULL THEN 'none' WHEN bonus > 1 THEN 'big' END FROM t", emp()),
              (strings{"big", "none", "NULL", "big", "NULL"}));
}

TEST(query_select, order_by_forms_and_null_placement) {
    EXPECT_EQ(rows("SELECT bonus FROM t ORDER BY bonus DESC", emp()), (strings{"2", "1.5", "1", "0.5", "NULL"}));
    EXPECT_EQ(rows("SELECT bonus FROM t ORDER BY bonus", emp()), (strings{"NULL", "0.5", "1", "1.5", "2"}));
    EXPECT_EQ(rows("SELECT dept, id FROM t ORDER BY dept DESC, id DESC", emp()),
              (strings{"ops|5", "ops|3", "eng|2", "eng|1", "NULL|4"}));
    EXPECT_EQ(rows("SELECT id, name AS n FROM t ORDER BY n DESC", emp()),
              (strings{"5|eve", "4|dee", "3|cid", "2|bob", "1|ann"}));
    EXPECT_EQ(rows("SELECT name, id FROM t ORDER BY 2 DESC LIMIT 2", emp()), (strings{"eve|5", "dee|4"}));
    // Sorting by something not selected.
    EXPECT_EQ(rows("SELECT name FROM t ORDER BY salary", emp()), (strings{"eve", "dee", "cid", "bob", "ann"}));
    EXPECT_EQ(rows("SELECT name FROM t ORDER BY id % 2, id DESC", emp()), (strings{"dee", "bob", "eve", "cid", "ann"}));
    EXPECT_EQ(rows("SELECT id * 2 AS d FROM t ORDER BY d DESC LIMIT 1", emp()), (strings{"10"}));
    EXPECT_EQ(rows("SELECT hired FROM t ORDER BY hired", emp()),
              (strings{"NULL", "2019-07-30", "2020-01-15", "2021-03-01", "2022-12-31"}));
    auto e = error("SELECT id FROM t ORDER BY 3", emp());
    EXPECT_EQ(e.number(), 1054);
    EXPECT_EQ(e.message, "Unknown column '3' in 'order clause'");
    EXPECT_EQ(error("SELECT id FROM t ORDER BY nope", emp()).message, "Unknown column 'nope' in 'order clause'");
}

TEST(query_select, limit_and_offset) {
    EXPECT_EQ(rows("SELECT id FROM t ORDER BY id LIMIT 2 OFFSET 3", emp()), (strings{"4", "5"}));
    EXPECT_EQ(rows("SELECT id FROM t ORDER BY id LIMIT 1, 2", emp()), (strings{"2", "3"}));
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 3", emp()), (strings{"1", "2", "3"}));
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 2 OFFSET 1", emp()), (strings{"2", "3"}));
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 10 OFFSET 4", emp()), (strings{"5"}));
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 0", emp()), (strings{}));
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 2 OFFSET 9", emp()), (strings{}));
}

TEST(query_select, limit_stops_reading_the_source) {
    int pulls = 0;
    auto source = std::make_unique<counting_source>(emp(1), &pulls);
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 2", std::move(source)), (strings{"1", "2"}));
    EXPECT_EQ(pulls, 2);  // five one-row batches: only two were read

    pulls = 0;
    source = std::make_unique<counting_source>(emp(1), &pulls);
    EXPECT_EQ(rows("SELECT id FROM t WHERE id > 1 LIMIT 1 OFFSET 1", std::move(source)), (strings{"3"}));
    EXPECT_EQ(pulls, 3);

    pulls = 0;
    source = std::make_unique<counting_source>(emp(1), &pulls);
    EXPECT_EQ(rows("SELECT id FROM t LIMIT 0", std::move(source)), (strings{}));
    EXPECT_EQ(pulls, 0);

    // generate_series of a billion rows answers LIMIT at once.
    EXPECT_EQ(rows("SELECT generate_series * 2 FROM t LIMIT 3", make_generate_series(1, 1000000000, 1)),
              (strings{"2", "4", "6"}));
}

TEST(query_select, distinct_streams_and_sorts) {
    EXPECT_EQ(rows("SELECT DISTINCT dept FROM t", emp()), (strings{"eng", "ops", "NULL"}));
    EXPECT_EQ(rows("SELECT DISTINCT dept FROM t ORDER BY dept", emp()), (strings{"NULL", "eng", "ops"}));
    EXPECT_EQ(rows("SELECT DISTINCT dept, id % 2 FROM t ORDER BY 1, 2", emp()),
              (strings{"NULL|0", "eng|0", "eng|1", "ops|1"}));
    EXPECT_EQ(rows("SELECT DISTINCT dept FROM t LIMIT 2", emp()), (strings{"eng", "ops"}));
    int pulls = 0;
    auto source = std::make_unique<counting_source>(emp(1), &pulls);
    EXPECT_EQ(rows("SELECT DISTINCT dept FROM t LIMIT 1", std::move(source)), (strings{"eng"}));
    EXPECT_EQ(pulls, 1);
    EXPECT_EQ(error("SELECT DISTINCT dept FROM t ORDER BY id", emp()).number(), 1105);
}

TEST(query_select, having_without_grouping_filters_rows) {
    EXPECT_EQ(rows("SELECT id AS k FROM t HAVING k > 3", emp()), (strings{"4", "5"}));
}

TEST(query_select, unknown_columns_name_the_clause) {
    EXPECT_EQ(error("SELECT nope FROM t", emp()).message, "Unknown column 'nope' in 'field list'");
    EXPECT_EQ(error("SELECT id FROM t WHERE nope = 1", emp()).message, "Unknown column 'nope' in 'where clause'");
    EXPECT_EQ(error("SELECT u.id FROM t", emp()).message, "Unknown column 'u.id' in 'field list'");
    EXPECT_EQ(error("SELECT id FROM t GROUP BY nope", emp()).message, "Unknown column 'nope' in 'group statement'");
    EXPECT_EQ(error("SELECT id FROM t WHERE COUNT(*) > 1", emp()).number(), 1111);
    EXPECT_EQ(error("SELECT id FROM t WHERE COUNT(*) > 1", emp()).message, "Invalid use of group function");
}

TEST(query_select, columns_resolve_case_insensitively_and_through_the_alias) {
    EXPECT_EQ(error("SELECT e.name FROM t", emp()).number(), 1054);  // e is not the source's name
    auto r = query("SELECT ID, e.Name FROM e WHERE E.id = 2", emp(), "e");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(rows_of(*r), (strings{"2|bob"}));
}

TEST(query_select, order_by_limit_keeps_only_the_top_rows_while_reading) {
    // 600000 rows pass through the sort's pruning several times; the result is the true top.
    EXPECT_EQ(rows("SELECT generate_series FROM t ORDER BY generate_series % 1000 DESC, generate_series LIMIT 3 "
                   "OFFSET 1",
                   make_generate_series(1, 600000, 1)),
              (strings{"1999", "2999", "3999"}));
    EXPECT_EQ(rows("SELECT generate_series FROM t ORDER BY 1 DESC LIMIT 2", make_generate_series(1, 600000, 1)),
              (strings{"600000", "599999"}));
}

TEST(query_select, batches_that_disagree_with_the_schema_about_nulls_are_adapted) {
    // The schema says nullable; the batches carry columns that are not (and the other way).
    auto not_null = batch_of({col("a", "INT", false)}, {{"1"}, {"2"}});
    std::vector<tv::storage::column_batch> batches;
    batches.push_back(std::move(not_null));
    EXPECT_EQ(rows("SELECT a + 1, a IS NULL FROM t", make_memory_source({col("a", "INT", true)}, std::move(batches))),
              (strings{"2|0", "3|0"}));
    std::vector<tv::storage::column_batch> with_null;
    with_null.push_back(batch_of({col("a", "INT", true)}, {{"1"}, {std::nullopt}}));
    auto e = error("SELECT a FROM t", make_memory_source({col("a", "INT", false)}, std::move(with_null)));
    EXPECT_EQ(e.number(), 1048);
}

TEST(query_select, empty_batches_pass_through) {
    auto schema = std::vector<column_desc>{col("a", "INT"), col("s", "VARCHAR(5)")};
    auto make = [&] {
        std::vector<tv::storage::column_batch> batches;
        batches.push_back(batch_of(schema, {{"1", "x"}, {"2", std::nullopt}}));
        batches.push_back(batch_of(schema, {}));
        batches.push_back(batch_of(schema, {{"3", "z"}}));
        batches.push_back(batch_of(schema, {}));
        return make_memory_source(schema, std::move(batches));
    };
    EXPECT_EQ(rows("SELECT a, s FROM t WHERE a > 1", make()), (strings{"2|NULL", "3|z"}));
    EXPECT_EQ(rows("SELECT COUNT(*), COUNT(s), MAX(s) FROM t", make()), (strings{"3|2|z"}));
    EXPECT_EQ(rows("SELECT s FROM t ORDER BY s DESC", make()), (strings{"z", "x", "NULL"}));
    EXPECT_EQ(rows("SELECT DISTINCT a > 1 FROM t", make()), (strings{"0", "1"}));
}
