// SPDX-License-Identifier: Apache-2.0
// Expressions: literals, names, variables, functions, operators with MySQL precedence, the
// special forms (CASE, CAST, INTERVAL, IN, BETWEEN, LIKE, IS NULL), and the canonical printer.
#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

using namespace tv::sql;

namespace {

// The first select item of "SELECT <text>".
expr parse_expr(std::string_view text) {
    std::string sql = "SELECT " + std::string(text);
    auto result = parse_sql(sql);
    if (auto* error = std::get_if<parse_error>(&result)) {
        ADD_FAILURE() << error->message;
        return {};
    }
    auto& list = std::get<std::vector<parsed_statement>>(result);
    auto& select = std::get<select_stmt>(list.at(0).stmt);
    if (select.items.size() != 1 || !select.items[0].value) {
        ADD_FAILURE() << "not one expression: " << sql;
        return {};
    }
    return std::move(*select.items[0].value);
}

std::string canonical(std::string_view text) {
    return to_sql(parse_expr(text));
}

}  // namespace

TEST(parser_expr, literals) {
    auto i = parse_expr("170141183460469231731687303715884105727");
    ASSERT_NE(i.as<literal>(), nullptr);
    EXPECT_EQ(i.as<literal>()->kind, literal_kind::integer);
    EXPECT_EQ(i.as<literal>()->value, "170141183460469231731687303715884105727");
    EXPECT_EQ(parse_expr("1.50").as<literal>()->kind, literal_kind::decimal);
    EXPECT_EQ(parse_expr("1.50").as<literal>()->value, "1.50");
    EXPECT_EQ(parse_expr("2.5e3").as<literal>()->kind, literal_kind::floating);
    EXPECT_EQ(parse_expr("'x'").as<literal>()->kind, literal_kind::string);
    EXPECT_EQ(parse_expr("\"it\"\"s\"").as<literal>()->value, "it\"s");
    EXPECT_EQ(parse_expr("NULL").as<literal>()->kind, literal_kind::null);
    EXPECT_EQ(parse_expr("true").as<literal>()->kind, literal_kind::boolean);
    EXPECT_EQ(parse_expr("true").as<literal>()->value, "TRUE");
    EXPECT_EQ(parse_expr("False").as<literal>()->value, "FALSE");
}

TEST(parser_expr, negative_numbers_are_unary_minus_so_large_values_survive) {
    auto e = parse_expr("-170141183460469231731687303715884105728");
    const auto* u = e.as<unary_op>();
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->op, unary_operator::minus);
    EXPECT_EQ(u->operand->as<literal>()->value, "170141183460469231731687303715884105728");
    EXPECT_EQ(to_sql(e), "-170141183460469231731687303715884105728");
}

TEST(parser_expr, column_references_qualified_and_quoted) {
    auto c = parse_expr("db.`my tbl`.Col");
    const auto* ref = c.as<column_ref>();
    ASSERT_NE(ref, nullptr);
    EXPECT_EQ(ref->db, "db");
    EXPECT_EQ(ref->table, "my tbl");
    EXPECT_EQ(ref->column, "Col");
    EXPECT_EQ(to_sql(c), "db.`my tbl`.Col");
    EXPECT_EQ(parse_expr("t.select").as<column_ref>()->column, "select");  // any word after a dot
    EXPECT_EQ(canonical("`order`"), "`order`");
}

TEST(parser_expr, system_and_user_variables) {
    auto plain = parse_expr("@@version_comment");
    ASSERT_NE(plain.as<variable_ref>(), nullptr);
    EXPECT_EQ(plain.as<variable_ref>()->scope, variable_scope::system);
    EXPECT_EQ(plain.as<variable_ref>()->name, "version_comment");
    EXPECT_EQ(parse_expr("@@session.auto_increment_increment").as<variable_ref>()->scope, variable_scope::session);
    EXPECT_EQ(parse_expr("@@SESSION.x").as<variable_ref>()->name, "x");
    EXPECT_EQ(parse_expr("@@local.x").as<variable_ref>()->scope, variable_scope::session);
    EXPECT_EQ(parse_expr("@@GLOBAL.max_connections").as<variable_ref>()->scope, variable_scope::global);
    auto user = parse_expr("@my_var");
    EXPECT_EQ(user.as<variable_ref>()->scope, variable_scope::user);
    EXPECT_EQ(user.as<variable_ref>()->name, "my_var");
    EXPECT_EQ(canonical("@@global.x + @y"), "@@global.x + @y");
}

TEST(parser_expr, function_calls) {
    auto count = parse_expr("COUNT(*)");
    ASSERT_NE(count.as<function_call>(), nullptr);
    EXPECT_TRUE(count.as<function_call>()->star);
    EXPECT_TRUE(count.as<function_call>()->args.empty());
    auto distinct = parse_expr("count(DISTINCT a, b)");
    EXPECT_TRUE(distinct.as<function_call>()->distinct);
    EXPECT_EQ(distinct.as<function_call>()->args.size(), 2u);
    EXPECT_EQ(distinct.as<function_call>()->name, "count");
    EXPECT_EQ(parse_expr("DATABASE()").as<function_call>()->name, "DATABASE");
    EXPECT_EQ(parse_expr("CONNECTION_ID()").as<function_call>()->args.size(), 0u);
    auto udf = parse_expr("my_db.my_udf(1)");
    EXPECT_EQ(udf.as<function_call>()->db, "my_db");
    EXPECT_EQ(udf.as<function_call>()->name, "my_udf");
    EXPECT_EQ(canonical("date_trunc('day', dt)"), "date_trunc('day', dt)");
    EXPECT_EQ(canonical("IF(a, LEFT(b, 2), RIGHT(c, 1))"), "IF(a, LEFT(b, 2), RIGHT(c, 1))");
    EXPECT_EQ(canonical("sum(DISTINCT x)"), "sum(DISTINCT x)");
}

TEST(parser_expr, keyword_functions_without_parentheses) {
    auto now = parse_expr("CURRENT_TIMESTAMP");
    ASSERT_NE(now.as<function_call>(), nullptr);
    EXPECT_EQ(now.as<function_call>()->name, "CURRENT_TIMESTAMP");
    EXPECT_EQ(canonical("current_user"), "current_user");
    EXPECT_EQ(canonical("CURRENT_TIMESTAMP()"), "CURRENT_TIMESTAMP");
}

TEST(parser_expr, arithmetic_precedence) {
    EXPECT_EQ(canonical("1 + 2 * 3"), "1 + (2 * 3)");
    EXPECT_EQ(canonical("(1 + 2) * 3"), "(1 + 2) * 3");
    EXPECT_EQ(canonical("1 - 2 - 3"), "(1 - 2) - 3");
    EXPECT_EQ(canonical("a / b DIV c MOD d % e"), "(((a / b) DIV c) % d) % e");
    EXPECT_EQ(canonical("-a * b"), "(-a) * b");
    EXPECT_EQ(canonical("- - 1"), "-(-1)");
    EXPECT_EQ(parse_expr("7 MOD 2").as<binary_op>()->op, binary_operator::modulo);
    EXPECT_EQ(parse_expr("7 DIV 2").as<binary_op>()->op, binary_operator::int_divide);
}

TEST(parser_expr, comparisons_bind_tighter_than_not_and_or) {
    EXPECT_EQ(canonical("a = 1 AND b <> 2 OR c != 3"), "((a = 1) AND (b <> 2)) OR (c <> 3)");
    EXPECT_EQ(canonical("a OR b XOR c AND d"), "a OR (b XOR (c AND d))");
    EXPECT_EQ(canonical("NOT a = b"), "NOT (a = b)");
    EXPECT_EQ(canonical("NOT a AND b"), "(NOT a) AND b");
    EXPECT_EQ(canonical("!a = b"), "(NOT a) = b");
    EXPECT_EQ(canonical("a || b && c"), "a OR (b AND c)");
    EXPECT_EQ(canonical("a <=> NULL"), "a <=> NULL");
    EXPECT_EQ(canonical("a < b + 1"), "a < (b + 1)");
    EXPECT_EQ(canonical("a >= 1 = TRUE"), "(a >= 1) = TRUE");
}

TEST(parser_expr, predicates) {
    auto like = parse_expr("name NOT LIKE 'a%'");
    ASSERT_NE(like.as<like_expr>(), nullptr);
    EXPECT_TRUE(like.as<like_expr>()->negated);
    auto in = parse_expr("x IN (1, 2, 3)");
    ASSERT_NE(in.as<in_expr>(), nullptr);
    EXPECT_FALSE(in.as<in_expr>()->negated);
    EXPECT_EQ(in.as<in_expr>()->list.size(), 3u);
    auto between = parse_expr("x NOT BETWEEN 1 AND 10");
    ASSERT_NE(between.as<between_expr>(), nullptr);
    EXPECT_TRUE(between.as<between_expr>()->negated);
    auto is = parse_expr("x IS NOT NULL");
    ASSERT_NE(is.as<is_null_expr>(), nullptr);
    EXPECT_TRUE(is.as<is_null_expr>()->negated);
    EXPECT_EQ(canonical("a BETWEEN 1 AND 2 AND b"), "(a BETWEEN 1 AND 2) AND b");
    EXPECT_EQ(canonical("a + 1 IN (1, b * 2) OR c LIKE 'x'"), "((a + 1) IN (1, b * 2)) OR (c LIKE 'x')");
    EXPECT_EQ(canonical("NOT a IS NULL"), "NOT (a IS NULL)");
    EXPECT_EQ(canonical("SNAPSHOT IN ('a', 'b')"), "SNAPSHOT IN ('a', 'b')");
}

TEST(parser_expr, cast_case_interval) {
    auto cast = parse_expr("CAST(a AS DECIMAL(10, 2))");
    ASSERT_NE(cast.as<cast_expr>(), nullptr);
    EXPECT_EQ(cast.as<cast_expr>()->type, (data_type{"DECIMAL", {10, 2}}));
    EXPECT_EQ(parse_expr("CAST(a AS SIGNED INTEGER)").as<cast_expr>()->type.name, "SIGNED");
    EXPECT_EQ(canonical("cast('1' as integer)"), "CAST('1' AS INT)");
    auto simple = parse_expr("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END");
    const auto* c = simple.as<case_expr>();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->operand.has_value());
    EXPECT_EQ(c->whens.size(), 2u);
    ASSERT_TRUE(c->else_result.has_value());
    auto searched = parse_expr("CASE WHEN a > 1 THEN 1 END");
    EXPECT_FALSE(searched.as<case_expr>()->operand.has_value());
    EXPECT_FALSE(searched.as<case_expr>()->else_result.has_value());
    EXPECT_EQ(to_sql(searched), "CASE WHEN a > 1 THEN 1 END");
    auto interval = parse_expr("INTERVAL 1 day");
    ASSERT_NE(interval.as<interval_expr>(), nullptr);
    EXPECT_EQ(interval.as<interval_expr>()->unit, "DAY");
    EXPECT_EQ(canonical("dt + INTERVAL 2 * 3 HOUR"), "dt + INTERVAL (2 * 3) HOUR");
}

TEST(parser_expr, strings_print_back_escaped) {
    EXPECT_EQ(canonical(R"('it''s \n')"), R"('it\'s \n')");
    EXPECT_EQ(canonical(R"('a\\b')"), R"('a\\b')");
    // The canonical text parses back to the same tree.
    for (std::string_view text : {"'x\\'y'", "a + b * -c", "CASE WHEN `a b` THEN @@global.x END",
                                  "x NOT IN (1, 'two', NULL)", "CAST(a AS VARCHAR(10))", "COUNT(*) > 1"}) {
        auto first = parse_expr(text);
        EXPECT_EQ(parse_expr(to_sql(first)), first) << text;
    }
}

TEST(parser_expr, trees_compare_by_value) {
    EXPECT_EQ(parse_expr("a + (b * c)"), parse_expr("a+b*c"));
    EXPECT_NE(parse_expr("(a + b) * c"), parse_expr("a+b*c"));
    EXPECT_NE(parse_expr("x IN (1)"), parse_expr("x NOT IN (1)"));
}

TEST(parser_expr, bad_expressions) {
    for (std::string_view sql : {"SELECT 1 +", "SELECT (1", "SELECT f(1,", "SELECT CASE x END",
                                 "SELECT CAST(1 AS BLOB)", "SELECT INTERVAL 1 FORTNIGHT", "SELECT a IS 1",
                                 "SELECT @@x.y", "SELECT a NOT", "SELECT FROM t"}) {
        EXPECT_TRUE(std::holds_alternative<parse_error>(parse_sql(sql))) << sql;
    }
}
