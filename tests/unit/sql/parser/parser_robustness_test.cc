// SPDX-License-Identifier: Apache-2.0
// Robustness: every prefix of real statements and a deterministic soup of SQL fragments either
// parse or fail with an error that points at the input; nothing crashes (run under ASan/UBSan).
#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

#include <random>

using namespace tv::sql;

namespace {

const char* const statements[] = {
    "CREATE REPOSITORY test_repo WITH BROKER ON LOCATION \"s3a://bucket/backup\" PROPERTIES(\"aws.s3.region\" = \"us-east-1\")",
    "BACKUP DATABASE sr_hub SNAPSHOT lbl TO repo ON (TABLE t PARTITION (p1, p2) AS x, ALL MATERIALIZED VIEWS) PROPERTIES ('type' = 'FULL')",
    "RESTORE SNAPSHOT sr_hub.lbl FROM `repo` EXTERNAL CATALOG (c AS d) DATABASE a AS b ON (t2 AS t3) PROPERTIES (\"backup_timestamp\" = \"x\")",
    "CREATE TABLE IF NOT EXISTS db.t (k INT NOT NULL COMMENT 'k', v BIGINT SUM DEFAULT '0') AGGREGATE KEY (k) "
    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (\"10\"), START (\"10\") END (\"20\") EVERY (5)) "
    "DISTRIBUTED BY HASH(k) BUCKETS 3 PROPERTIES (\"replication_num\" = \"1\")",
    "SELECT DISTINCT a, COUNT(*) AS n, CASE WHEN b IS NULL THEN -1 ELSE b END FROM t WHERE a IN (1, 2) AND c NOT "
    "LIKE 'x%' OR d BETWEEN 1 AND 2 GROUP BY a HAVING n > 1 ORDER BY n DESC LIMIT 10 OFFSET 5",
    "CREATE MATERIALIZED VIEW mv REFRESH ASYNC EVERY (INTERVAL 1 DAY) AS SELECT k, SUM(v) FROM t GROUP BY k",
    "GRANT SELECT, INSERT ON ALL TABLES IN DATABASE d TO USER 'u'@'%' WITH GRANT OPTION",
    "SET GLOBAL a = 1, @@session.b = 'x', @c := DEFAULT; SET NAMES utf8mb4 COLLATE utf8mb4_bin",
    "INSERT INTO t PARTITION (p1) WITH LABEL l (a, b) VALUES (1, 'a'), (2, DEFAULT)",
    "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'a' AND TIMESTAMP = 'b'; DROP SNAPSHOT lbl ON repo FORCE",
};

// Byte offset of a 1-based (line, character column) position.
size_t offset_of(std::string_view sql, int line, int column) {
    size_t i = 0;
    for (int l = 1; l < line && i < sql.size(); ++i) {
        if (sql[i] == '\n') {
            ++l;
        }
    }
    for (int c = 1; c < column && i < sql.size();) {
        ++i;
        while (i < sql.size() && (static_cast<unsigned char>(sql[i]) & 0xC0) == 0x80) {
            ++i;
        }
        ++c;
    }
    return i;
}

// Whatever the outcome, it must be coherent with the input.
void check_outcome(std::string_view sql) {
    auto result = parse_sql(sql);
    if (auto* error = std::get_if<parse_error>(&result)) {
        ASSERT_EQ(error->message.rfind("Getting syntax error at line ", 0), 0u) << sql;
        ASSERT_GE(error->line, 1) << sql;
        ASSERT_GE(error->column, 1) << sql;
        size_t at = offset_of(sql, error->line, error->column);
        ASSERT_LE(at, sql.size()) << sql;
        bool verbatim = error->near.find("\\x") == std::string::npos &&
                        error->near.find("...") == std::string::npos;
        if (verbatim) {
            EXPECT_EQ(sql.substr(at, error->near.size()), error->near) << sql << "\n" << error->message;
        }
        return;
    }
    for (const auto& p : std::get<std::vector<parsed_statement>>(result)) {
        ASSERT_NE(sql.find(p.text), std::string_view::npos) << sql;
        // A statement's own text parses to exactly one statement of the same kind.
        auto again = parse_sql(p.text);
        ASSERT_TRUE(std::holds_alternative<std::vector<parsed_statement>>(again)) << p.text;
        const auto& list = std::get<std::vector<parsed_statement>>(again);
        ASSERT_EQ(list.size(), 1u) << p.text;
        EXPECT_EQ(list[0].stmt.index(), p.stmt.index()) << p.text;
        EXPECT_EQ(list[0].text, p.text);
    }
}

}  // namespace

TEST(parser_robustness, every_prefix_of_real_statements) {
    size_t failures = 0;
    for (std::string_view sql : statements) {
        for (size_t n = 0; n <= sql.size(); ++n) {
            std::string_view prefix = sql.substr(0, n);
            check_outcome(prefix);
            failures += std::holds_alternative<parse_error>(parse_sql(prefix)) ? 1 : 0;
        }
        // The whole statement is valid.
        EXPECT_TRUE(std::holds_alternative<std::vector<parsed_statement>>(parse_sql(sql))) << sql;
    }
    EXPECT_GT(failures, 0u);
}

TEST(parser_robustness, shuffled_fragments) {
    static const char* const fragments[] = {
        "SELECT", "FROM", "WHERE", "(", ")", ",", ";", "*", "+", "-", "=", "<=>", "NOT", "IN", "LIKE", "BETWEEN",
        "AND", "OR", "IS", "NULL", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "INT", "DECIMAL(10,2)",
        "INTERVAL", "DAY", "@@x", "@y", "t", "db.t", "`q``b`", "'s'", "\"d\"", "1", "1.5", "1e3", "COUNT(*)",
        "CREATE", "TABLE", "BACKUP", "RESTORE", "SNAPSHOT", "TO", "ON", "PARTITION", "ALL", "TABLES", "VIEW",
        "MATERIALIZED", "FUNCTION", "PROPERTIES", "(\"k\"=\"v\")", "DATABASE", "EXTERNAL", "CATALOG", "GRANT",
        "SET", "SHOW", "LIMIT", "-- c\n", "/* c */", "\n", "VALUES", "[", "...", "DEFAULT", "表",
    };
    std::mt19937 rng(20240601);
    std::uniform_int_distribution<size_t> pick(0, std::size(fragments) - 1);
    std::uniform_int_distribution<int> length(1, 24);
    for (int round = 0; round < 5000; ++round) {
        std::string sql;
        for (int i = length(rng); i > 0; --i) {
            sql += fragments[pick(rng)];
            sql += ' ';
        }
        check_outcome(sql);
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
    }
}
