// SPDX-License-Identifier: Apache-2.0
// Expressions evaluated column-at-a-time: literal types, arithmetic and its result types,
// overflow and division by zero, comparisons across types, three-valued logic, IN, BETWEEN,
// LIKE, IS NULL, CASE and the conditional functions.
#include "unit/sql/query/query_test_util.hh"

using namespace tv::sql;
using namespace tv::sql::qtest;

TEST(eval_literals, types_as_starrocks_gives_them) {
    EXPECT_EQ(type_of("1"), "BIGINT");
    EXPECT_EQ(type_of("170141183460469231731687303715884105727"), "LARGEINT");
    EXPECT_EQ(type_of("1.50"), "DECIMAL(3, 2)");
    EXPECT_EQ(type_of("0.5"), "DECIMAL(1, 1)");
    EXPECT_EQ(type_of("1e3"), "DOUBLE");
    EXPECT_EQ(type_of("'abc'"), "VARCHAR(65533)");
    EXPECT_EQ(type_of("TRUE"), "BOOLEAN");
    EXPECT_EQ(value("1.50"), "1.50");
    EXPECT_EQ(value("1e3"), "1000");
    EXPECT_EQ(value("TRUE"), "1");
    EXPECT_EQ(value("NULL"), "NULL");
    EXPECT_EQ(value("170141183460469231731687303715884105727"), "170141183460469231731687303715884105727");
}

TEST(eval_arithmetic, integers_are_bigint) {
    EXPECT_EQ(value("1 + 2 * 3"), "7");
    EXPECT_EQ(type_of("x + 1"), "BIGINT");
    EXPECT_EQ(value("x - 10"), "-9");
    EXPECT_EQ(value("7 DIV 2"), "3");
    EXPECT_EQ(value("-7 DIV 2"), "-3");
    EXPECT_EQ(value("7 % 3"), "1");
    EXPECT_EQ(value("-7 % 3"), "-1");
    EXPECT_EQ(value("MOD(7, 3)"), "1");
    EXPECT_EQ(value("-(x)"), "-1");
}

TEST(eval_arithmetic, division_is_double_and_by_zero_is_null) {
    EXPECT_EQ(type_of("x / 2"), "DOUBLE");
    EXPECT_EQ(value("x / 2"), "0.5");
    EXPECT_EQ(value("x / 0"), "NULL");
    EXPECT_EQ(value("x DIV 0"), "NULL");
    EXPECT_EQ(value("x % 0"), "NULL");
    EXPECT_EQ(value("1.5 / 0"), "NULL");
    EXPECT_EQ(value("1e0 / 0"), "NULL");
}

TEST(eval_arithmetic, decimal_scale_rules) {
    EXPECT_EQ(type_of("1.5 + 2.25"), "DECIMAL(4, 2)");
    EXPECT_EQ(value("1.5 + 2.25"), "3.75");
    EXPECT_EQ(value("1.5 - 2.25"), "-0.75");
    EXPECT_EQ(type_of("1.5 * 2.25"), "DECIMAL(5, 3)");
    EXPECT_EQ(value("1.5 * 2.25"), "3.375");
    EXPECT_EQ(value("1.50 * x"), "1.50");
    EXPECT_EQ(type_of("1.5 / 3"), "DECIMAL(38, 7)");
    EXPECT_EQ(value("1.5 / 3"), "0.5000000");
    EXPECT_EQ(value("2.0 / 3"), "0.6666667");
    EXPECT_EQ(value("10.5 % 3"), "1.5");
    EXPECT_EQ(value("10.5 DIV 3"), "3");
    EXPECT_EQ(type_of("1.5 + 1e0"), "DOUBLE");
    EXPECT_EQ(value("1.5 + 1e0"), "2.5");
}

TEST(eval_arithmetic, bigint_overflow_is_error_1690) {
    auto e = value_error("9223372036854775807 + x");
    EXPECT_EQ(e.number(), 1690);
    EXPECT_EQ(e.message, "BIGINT value is out of range in '(9223372036854775807 + x)'");
    EXPECT_EQ(value_error("-9223372036854775807 - 2").number(), 1690);
    EXPECT_EQ(value_error("4294967296 * 4294967296").number(), 1690);
    EXPECT_EQ(value_error("-(-9223372036854775807 - 1)").number(), 1690);
    EXPECT_EQ(value("(-9223372036854775807 - 1) % -1"), "0");
    EXPECT_EQ(value_error("(-9223372036854775807 - 1) DIV -1").number(), 1690);
}

TEST(eval_arithmetic, null_operands_give_null) {
    EXPECT_EQ(value("NULL + 1"), "NULL");
    EXPECT_EQ(value("x * NULL"), "NULL");
    EXPECT_EQ(value("-NULL"), "NULL");
}

TEST(eval_arithmetic, text_takes_part_as_double) {
    EXPECT_EQ(value("'2' + 1"), "3");
    EXPECT_EQ(type_of("'2' + 1"), "DOUBLE");
}

TEST(eval_compare, across_types) {
    EXPECT_EQ(value("x = 1"), "1");
    EXPECT_EQ(value("x = 1.0"), "1");
    EXPECT_EQ(value("x < 1.5"), "1");
    EXPECT_EQ(value("x > 0.5e0"), "1");
    EXPECT_EQ(value("'abc' < 'abd'"), "1");
    EXPECT_EQ(value("'b' > 'abc'"), "1");
    EXPECT_EQ(value("x <> 1"), "0");
    EXPECT_EQ(value("x != 2"), "1");
    EXPECT_EQ(value("x = NULL"), "NULL");
    EXPECT_EQ(value("NULL <=> NULL"), "1");
    EXPECT_EQ(value("x <=> NULL"), "0");
    EXPECT_EQ(value("x <=> 1"), "1");
    EXPECT_EQ(value("CAST('2024-01-02' AS DATE) = '2024-1-2'"), "1");
    EXPECT_EQ(value("CAST('2024-01-02' AS DATE) < '2024-01-10'"), "1");
    EXPECT_EQ(value("CAST('2024-01-02' AS DATE) = CAST('2024-01-02 00:00:00' AS DATETIME)"), "1");
}

TEST(eval_logic, three_valued) {
    // AND: FALSE beats NULL; OR: TRUE beats NULL.
    EXPECT_EQ(value("NULL AND FALSE"), "0");
    EXPECT_EQ(value("NULL AND TRUE"), "NULL");
    EXPECT_EQ(value("TRUE AND TRUE"), "1");
    EXPECT_EQ(value("NULL OR TRUE"), "1");
    EXPECT_EQ(value("NULL OR FALSE"), "NULL");
    EXPECT_EQ(value("FALSE OR FALSE"), "0");
    EXPECT_EQ(value("NOT NULL"), "NULL");
    EXPECT_EQ(value("NOT (x = 1)"), "0");
    EXPECT_EQ(value("NULL XOR TRUE"), "NULL");
    EXPECT_EQ(value("TRUE XOR FALSE"), "1");
    EXPECT_EQ(value("x AND 0"), "0");
    EXPECT_EQ(value("x AND 2"), "1");
}

TEST(eval_predicates, in_between_like_is_null) {
    EXPECT_EQ(value("x IN (1, 2)"), "1");
    EXPECT_EQ(value("x IN (2, 3)"), "0");
    EXPECT_EQ(value("x IN (2, NULL)"), "NULL");
    EXPECT_EQ(value("x IN (1, NULL)"), "1");
    EXPECT_EQ(value("x NOT IN (2, NULL)"), "NULL");
    EXPECT_EQ(value("x NOT IN (2, 3)"), "1");
    EXPECT_EQ(value("NULL IN (1)"), "NULL");
    EXPECT_EQ(value("x BETWEEN 0 AND 1"), "1");
    EXPECT_EQ(value("x BETWEEN 2 AND 3"), "0");
    EXPECT_EQ(value("x NOT BETWEEN 2 AND 3"), "1");
    EXPECT_EQ(value("x BETWEEN NULL AND 3"), "NULL");
    EXPECT_EQ(value("x BETWEEN NULL AND 0"), "0");
    EXPECT_EQ(value("'abc' LIKE 'a%'"), "1");
    EXPECT_EQ(value("'abc' LIKE '%c'"), "1");
    EXPECT_EQ(value("'abc' LIKE '%b%'"), "1");
    EXPECT_EQ(value("'abc' LIKE 'a_c'"), "1");
    EXPECT_EQ(value("'abc' LIKE 'abc'"), "1");
    EXPECT_EQ(value("'abc' NOT LIKE 'b%'"), "1");
    EXPECT_EQ(value("'a%c' LIKE 'a\\\\%c'"), "1");
    EXPECT_EQ(value("NULL LIKE 'a'"), "NULL");
    EXPECT_EQ(value("x IS NULL"), "0");
    EXPECT_EQ(value("NULL IS NULL"), "1");
    EXPECT_EQ(value("NULL IS NOT NULL"), "0");
}

TEST(eval_conditional, case_if_coalesce_nullif) {
    EXPECT_EQ(value("CASE WHEN x = 1 THEN 'one' ELSE 'other' END"), "one");
    EXPECT_EQ(value("CASE x WHEN 2 THEN 'two' WHEN 1 THEN 'one' END"), "one");
    EXPECT_EQ(value("CASE x WHEN 2 THEN 'two' END"), "NULL");
    EXPECT_EQ(value("CASE WHEN NULL THEN 1 ELSE 2 END"), "2");
    EXPECT_EQ(type_of("CASE WHEN x = 1 THEN 1 ELSE 2.5 END"), "DECIMAL(19, 1)");
    EXPECT_EQ(value("CASE WHEN x = 1 THEN 1 ELSE 2.5 END"), "1.0");
    EXPECT_EQ(value("IF(x = 1, 'y', 'n')"), "y");
    EXPECT_EQ(value("IF(NULL, 'y', 'n')"), "n");
    EXPECT_EQ(value("COALESCE(NULL, NULL, 3)"), "3");
    EXPECT_EQ(value("COALESCE(NULL, NULL)"), "NULL");
    EXPECT_EQ(value("IFNULL(NULL, 'z')"), "z");
    EXPECT_EQ(value("IFNULL(x, 'z')"), "1");
    EXPECT_EQ(value("NULLIF(x, 1)"), "NULL");
    EXPECT_EQ(value("NULLIF(x, 2)"), "1");
}

TEST(eval_conditional, case_evaluates_a_branch_only_on_its_rows) {
    // The THEN branch would overflow on the row that does not take it.
    auto src = table({col("v", "BIGINT")}, {{"1"}, {"9223372036854775807"}});
    EXPECT_EQ(rows("SELECT CASE WHEN v < 100 THEN v * 1000 ELSE -1 END FROM t", std::move(src)),
              (std::vector<std::string>{"1000", "-1"}));
}

TEST(eval_errors, unknown_function_and_argument_count) {
    auto e = value_error("no_such_fn(x)");
    EXPECT_EQ(e.number(), 1305);
    EXPECT_EQ(e.message, "No matching function with signature: no_such_fn(INT).");
    auto c = value_error("upper(x, x)");
    EXPECT_EQ(c.number(), 1582);
    EXPECT_EQ(c.message, "Incorrect parameter count in the call to native function 'upper'");
    EXPECT_EQ(value_error("substr('a')").number(), 1582);
    EXPECT_EQ(value_error("nope").number(), 1054);
    EXPECT_EQ(value_error("nope").message, "Unknown column 'nope' in 'field list'");
}

TEST(eval_session, constant_functions_come_from_the_session) {
    EXPECT_EQ(value("database()"), "db");
    EXPECT_EQ(type_of("now()"), "DATETIME");
    EXPECT_EQ(type_of("curdate()"), "DATE");
}
