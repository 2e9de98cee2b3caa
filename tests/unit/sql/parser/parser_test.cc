// SPDX-License-Identifier: Apache-2.0
// Parser as a whole: statement splitting and texts, exact syntax error messages, and hostile
// input (empty, comments only, deep nesting, huge names, NUL bytes).
#include "sql/parser/parser.hh"
#include "unit/sql/parser/parser_test_util.hh"

#include <gtest/gtest.h>

using namespace tv::sql;
using namespace tv::sql::testing;

namespace {

std::vector<parsed_statement> parse_ok(std::string_view sql) {
    auto result = parse_sql(sql);
    if (auto* error = std::get_if<parse_error>(&result)) {
        ADD_FAILURE() << "parse failed: " << error->message;
        return {};
    }
    return std::get<std::vector<parsed_statement>>(std::move(result));
}

parse_error parse_fails(std::string_view sql) {
    auto result = parse_sql(sql);
    if (auto* error = std::get_if<parse_error>(&result)) {
        return *error;
    }
    ADD_FAILURE() << "expected a syntax error for: " << sql;
    return {};
}

}  // namespace

TEST(parser, several_statements_in_one_query_with_their_exact_texts) {
    auto list = parse_ok("  USE db1 ;SELECT 1 AS `x`  -- trailing\n;\n/* c */ SHOW\n  TABLES;");
    ASSERT_EQ(list.size(), 3u);
    EXPECT_TRUE(std::holds_alternative<use_stmt>(list[0].stmt));
    EXPECT_EQ(list[0].text, "USE db1");
    EXPECT_TRUE(std::holds_alternative<select_stmt>(list[1].stmt));
    EXPECT_EQ(list[1].text, "SELECT 1 AS `x`");
    EXPECT_TRUE(std::holds_alternative<show_tables_stmt>(list[2].stmt));
    EXPECT_EQ(list[2].text, "SHOW\n  TABLES");
}

TEST(parser, comments_inside_a_statement_stay_in_its_text) {
    auto list = parse_ok("SELECT /* keep */ 1");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].text, "SELECT /* keep */ 1");
}

TEST(parser, empty_statements_are_skipped) {
    EXPECT_TRUE(parse_ok("").empty());
    EXPECT_TRUE(parse_ok(";;").empty());
    EXPECT_TRUE(parse_ok("  ; -- nothing\n ; /* x */ # y").empty());
    EXPECT_EQ(parse_ok(";;SELECT 1;;;SELECT 2;").size(), 2u);
}

TEST(parser, statements_need_a_separator) {
    auto e = parse_fails("SELECT 1 SELECT 2");
    EXPECT_EQ(e.line, 1);
    EXPECT_EQ(e.column, 10);
    EXPECT_EQ(e.near, "SELECT");
}

TEST(parser, one_bad_statement_fails_the_whole_query) {
    auto e = parse_fails("SELECT 1; SELEC 2; SELECT 3");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 11. Detail message: Unexpected input 'SELEC', the most "
              "similar input is {SELECT, DELETE, SET, ...}.");
}

TEST(parser, misspelled_keyword_names_the_nearest_candidates) {
    auto e = parse_fails("CREATE TABEL t (a INT)");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 8. Detail message: Unexpected input 'TABEL', the most similar "
              "input is {TABLE, VIEW, GLOBAL, ...}.");
    EXPECT_EQ(e.line, 1);
    EXPECT_EQ(e.column, 8);
    EXPECT_EQ(e.near, "TABEL");
}

TEST(parser, missing_closing_parenthesis_at_end_of_input) {
    auto e = parse_fails("SELECT (1 + 2");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 14. Detail message: Unexpected end of input, expected ')'.");
    EXPECT_EQ(e.near, "");
}

TEST(parser, missing_closing_parenthesis_before_another_token) {
    auto e = parse_fails("BACKUP SNAPSHOT db.l TO repo ON (t1, t2 PROPERTIES (\"type\" = \"full\")");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 41. Detail message: Unexpected input 'PROPERTIES', the most "
              "similar input is {',', ')', PARTITION, ...}.");
}

TEST(parser, unterminated_string_reports_where_it_starts) {
    auto e = parse_fails("SELECT 1;\nSELECT 'abc");
    EXPECT_EQ(e.message, "Getting syntax error at line 2, column 8. Detail message: Unterminated string literal.");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 8);
    EXPECT_EQ(e.near, "'abc");
}

TEST(parser, unexpected_end_of_input_lists_what_could_follow) {
    auto e = parse_fails("RESTORE SNAPSHOT lbl FROM");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 26. Detail message: Unexpected end of input, expected a legal "
              "identifier.");
    auto f = parse_fails("SHOW");
    EXPECT_EQ(f.line, 1);
    EXPECT_EQ(f.column, 5);
    EXPECT_NE(f.message.find("Unexpected end of input, expected one of {CREATE, FULL, TABLES, ...}."),
              std::string::npos)
        << f.message;
}

TEST(parser, errors_on_later_lines_count_lines_and_columns_there) {
    auto e = parse_fails("SELECT a\nFROM t\nWHERE a = = 1");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.column, 11);
    EXPECT_EQ(e.near, "=");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 3, column 11. Detail message: Unexpected input '=', the most similar "
              "input is {an expression}.");
}

TEST(parser, unknown_type_names_are_errors_with_suggestions) {
    auto e = parse_fails("CREATE TABLE t (a VARHCAR(10))");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 19. Detail message: Unexpected input 'VARHCAR', the most "
              "similar input is {VARCHAR, CHAR, VARBINARY, ...}.");
}

TEST(parser, reserved_words_need_backquotes_as_names) {
    auto e = parse_fails("CREATE TABLE select (a INT)");
    EXPECT_EQ(e.column, 14);
    EXPECT_EQ(e.near, "select");
    EXPECT_EQ(parse_ok("CREATE TABLE `select` (a INT) DUPLICATE KEY (a)").size(), 1u);
}

TEST(parser, integer_out_of_range_is_named) {
    auto e = parse_fails("SELECT 1 LIMIT 99999999999999999999");
    EXPECT_EQ(e.message,
              "Getting syntax error at line 1, column 16. Detail message: Integer value '99999999999999999999' is out "
              "of range.");
}

TEST(parser, very_deep_parentheses_are_refused_not_crashed_on) {
    std::string sql = "SELECT " + std::string(10000, '(') + "1" + std::string(10000, ')');
    auto e = parse_fails(sql);
    EXPECT_NE(e.message.find("Expression is too deeply nested (the limit is 1000 levels)."), std::string::npos)
        << e.message;
    EXPECT_EQ(e.line, 1);
}

TEST(parser, nesting_just_under_the_limit_parses) {
    // parse_expr is entered once per level plus once for the statement's own expression.
    int depth = max_expression_depth - 1;
    std::string sql = "SELECT " + std::string(depth, '(') + "1" + std::string(depth, ')');
    auto list = parse_ok(sql);
    ASSERT_EQ(list.size(), 1u);
}

TEST(parser, long_operator_chains_are_capped_by_tree_height) {
    std::string ok = "SELECT 1";
    for (int i = 0; i < 500; ++i) {
        ok += " + 1";
    }
    EXPECT_EQ(parse_ok(ok).size(), 1u);
    std::string deep = "SELECT 1";
    for (int i = 0; i < 100000; ++i) {
        deep += " OR 1";
    }
    EXPECT_NE(parse_fails(deep).message.find("too deeply nested"), std::string::npos);
}

TEST(parser, deep_unary_and_not_chains_are_refused) {
    std::string minuses;
    for (int i = 0; i < 20000; ++i) {
        minuses += "- ";  // "--" would start a comment
    }
    EXPECT_NE(parse_fails("SELECT " + minuses + "1").message.find("too deeply nested"), std::string::npos);
    std::string nots;
    for (int i = 0; i < 5000; ++i) {
        nots += "NOT ";
    }
    EXPECT_NE(parse_fails("SELECT " + nots + "1").message.find("too deeply nested"), std::string::npos);
}

TEST(parser, huge_identifiers_parse_and_errors_cut_them_short) {
    std::string name(100000, 'a');
    auto list = parse_ok("SELECT * FROM " + name);
    ASSERT_EQ(list.size(), 1u);
    const auto& select = std::get<select_stmt>(list[0].stmt);
    EXPECT_EQ(std::get<table_ref>(*select.from).name.name.size(), name.size());
    auto e = parse_fails("SELECT 1 " + name + " " + name);
    EXPECT_EQ(e.near, std::string(64, 'a') + "...");
}

TEST(parser, nul_bytes_are_reported_readably) {
    auto e = parse_fails(std::string_view("SELECT 1\0", 9));
    EXPECT_EQ(e.message, "Getting syntax error at line 1, column 9. Detail message: Unexpected character.");
    EXPECT_EQ(e.near, "\\x00");
    auto list = parse_ok(std::string_view("SELECT 'a\0b'", 12));
    ASSERT_EQ(list.size(), 1u);
    const auto& select = std::get<select_stmt>(list[0].stmt);
    EXPECT_EQ(select.items[0].value->as<literal>()->value, std::string("a\0b", 3));
}

TEST(parser, garbage_inputs_fail_cleanly) {
    for (std::string_view sql : {")", "(", "SELECT", "SELECT ,", "CREATE", "BACKUP", "RESTORE SNAPSHOT",
                                 "GRANT", "SET", "SHOW CREATE", "@@", "'x'", "1", "SELECT 1 +", "SELECT CASE END",
                                 "CREATE TABLE t (", "INSERT INTO t VALUES (1", "DROP SNAPSHOT ON r"}) {
        auto result = parse_sql(sql);
        ASSERT_TRUE(std::holds_alternative<parse_error>(result)) << sql;
        const auto& e = std::get<parse_error>(result);
        EXPECT_EQ(e.message.rfind("Getting syntax error at line ", 0), 0u) << e.message;
        EXPECT_EQ(e.message.back(), '.') << e.message;
    }
}

TEST(parser, statements_are_copyable_and_movable) {
    auto list = parse_ok("SELECT a + 1 FROM t WHERE b IN (1, 2) ORDER BY a DESC");
    ASSERT_EQ(list.size(), 1u);
    parsed_statement copy = list[0];
    parsed_statement moved = std::move(list[0]);
    const auto& a = std::get<select_stmt>(copy.stmt);
    const auto& b = std::get<select_stmt>(moved.stmt);
    EXPECT_EQ(*a.items[0].value, *b.items[0].value);
    EXPECT_EQ(*a.where, *b.where);
    EXPECT_EQ(copy.text, moved.text);
}

TEST(parser, update_with_assignments_and_where) {
    auto u = one<update_stmt>("UPDATE db1.t SET v = v + 1, `s` = 'x' WHERE k IN (1, 2)");
    EXPECT_EQ(u.table.db, "db1");
    EXPECT_EQ(u.table.name, "t");
    ASSERT_EQ(u.assignments.size(), 2u);
    EXPECT_EQ(u.assignments[0].column, "v");
    EXPECT_EQ(to_sql(u.assignments[0].value), "v + 1");
    EXPECT_EQ(u.assignments[1].column, "s");
    ASSERT_TRUE(u.where.has_value());
    EXPECT_FALSE(u.has_from);
    EXPECT_TRUE(one<update_stmt>("UPDATE t SET v = 1 FROM t2 WHERE t.k = t2.k").has_from);
    EXPECT_FALSE(one<update_stmt>("UPDATE t SET v = 1").where.has_value());
    EXPECT_TRUE(fails("UPDATE t WHERE k = 1"));
    EXPECT_TRUE(fails("UPDATE t SET v WHERE k = 1"));
}

TEST(parser, delete_with_partitions_and_where) {
    auto d = one<delete_stmt>("DELETE FROM t PARTITION p1 WHERE k = 1 AND v IS NULL");
    EXPECT_EQ(d.table.name, "t");
    EXPECT_EQ(d.partitions, std::vector<std::string>{"p1"});
    ASSERT_TRUE(d.where.has_value());
    auto many = one<delete_stmt>("DELETE FROM db1.t PARTITIONS (p1, p2) WHERE k > 3");
    EXPECT_EQ(many.table.db, "db1");
    EXPECT_EQ(many.partitions, (std::vector<std::string>{"p1", "p2"}));
    EXPECT_FALSE(one<delete_stmt>("DELETE FROM t").where.has_value());
    EXPECT_TRUE(one<delete_stmt>("DELETE FROM t USING t2 WHERE t.k = t2.k").has_using);
    EXPECT_TRUE(fails("DELETE t WHERE k = 1"));
}
