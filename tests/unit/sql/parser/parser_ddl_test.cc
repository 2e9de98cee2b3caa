// SPDX-License-Identifier: Apache-2.0
// Catalog DDL: databases, tables (columns, types, keys, partitions, distribution, CTAS, LIKE),
// ALTER/TRUNCATE/DROP TABLE.
#include "unit/sql/parser/parser_test_util.hh"
#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

using namespace tv::sql;
using namespace tv::sql::testing;

namespace {

partition_tuple values(std::initializer_list<const char*> list) {
    partition_tuple t;
    for (const char* v : list) {
        t.push_back(partition_value{v, false});
    }
    return t;
}

}  // namespace

TEST(parser_ddl, create_and_drop_database) {
    auto c = one<create_database_stmt>("CREATE DATABASE IF NOT EXISTS sr_hub PROPERTIES (\"replication_num\" = \"1\")");
    EXPECT_TRUE(c.if_not_exists);
    EXPECT_EQ(c.name, "sr_hub");
    EXPECT_EQ(c.properties, (property_list{{"replication_num", "1"}}));
    EXPECT_FALSE(one<create_database_stmt>("create schema d").if_not_exists);
    auto d = one<drop_database_stmt>("DROP DATABASE IF EXISTS sr_hub FORCE");
    EXPECT_TRUE(d.if_exists);
    EXPECT_TRUE(d.force);
    EXPECT_EQ(d.name, "sr_hub");
    EXPECT_FALSE(one<drop_database_stmt>("DROP DATABASE d").force);
}

TEST(parser_ddl, column_definitions_every_attribute) {
    auto t = one<create_table_stmt>(
        "CREATE TABLE IF NOT EXISTS db.orders (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'row id',\n"
        "  k1 int(11) NULL DEFAULT \"10\",\n"
        "  v1 BIGINT SUM DEFAULT '0' COMMENT \"total\",\n"
        "  v2 VARCHAR(65533) REPLACE_IF_NOT_NULL NULL,\n"
        "  v3 DECIMAL(27, 9) MAX,\n"
        "  h HLL HLL_UNION,\n"
        "  b BITMAP BITMAP_UNION,\n"
        "  ts DATETIME DEFAULT CURRENT_TIMESTAMP,\n"
        "  n INT DEFAULT NULL,\n"
        "  m INT DEFAULT -1,\n"
        "  e DOUBLE DEFAULT (rand() * 2),\n"
        "  s STRING, j JSON, d DATE, f FLOAT, c CHAR(10), l LARGEINT, bo BOOLEAN, ti TINYINT, si SMALLINT,\n"
        "  d2 DECIMALV3(10, 2), d3 DECIMAL128(38, 10), d4 DECIMAL, i2 INTEGER,\n"
        "  INDEX idx_v2 (v2) USING BITMAP COMMENT 'bitmap index'\n"
        ") ENGINE = OLAP AGGREGATE KEY (id, k1) COMMENT 'orders'");
    EXPECT_TRUE(t.if_not_exists);
    EXPECT_EQ(t.name, (qualified_name{"db", "orders"}));
    ASSERT_EQ(t.columns.size(), 24u);
    const auto& id = t.columns[0];
    EXPECT_EQ(id.name, "id");
    EXPECT_EQ(id.type, (data_type{"BIGINT", {}}));
    EXPECT_EQ(id.nullable, false);
    EXPECT_TRUE(id.auto_increment);
    EXPECT_EQ(id.comment, "row id");
    EXPECT_EQ(t.columns[1].type, (data_type{"INT", {11}}));
    EXPECT_EQ(t.columns[1].nullable, true);
    EXPECT_EQ(t.columns[1].default_value->kind, default_kind::literal);
    EXPECT_EQ(t.columns[1].default_value->value, "10");
    EXPECT_EQ(t.columns[2].aggregate, "SUM");
    EXPECT_EQ(t.columns[2].comment, "total");
    EXPECT_FALSE(t.columns[2].nullable.has_value());
    EXPECT_EQ(t.columns[3].type, (data_type{"VARCHAR", {65533}}));
    EXPECT_EQ(t.columns[3].aggregate, "REPLACE_IF_NOT_NULL");
    EXPECT_EQ(t.columns[4].type, (data_type{"DECIMAL", {27, 9}}));
    EXPECT_EQ(t.columns[4].aggregate, "MAX");
    EXPECT_EQ(t.columns[5].aggregate, "HLL_UNION");
    EXPECT_EQ(t.columns[6].aggregate, "BITMAP_UNION");
    EXPECT_EQ(t.columns[7].default_value->kind, default_kind::current_timestamp);
    EXPECT_EQ(t.columns[8].default_value->kind, default_kind::null);
    EXPECT_EQ(t.columns[9].default_value->value, "-1");
    EXPECT_EQ(t.columns[10].default_value->kind, default_kind::expression);
    EXPECT_EQ(t.columns[10].default_value->value, "rand() * 2");
    EXPECT_EQ(t.columns[19].type.name, "SMALLINT");
    EXPECT_EQ(t.columns[20].type, (data_type{"DECIMALV3", {10, 2}}));
    EXPECT_EQ(t.columns[21].type, (data_type{"DECIMAL128", {38, 10}}));
    EXPECT_EQ(t.columns[22].type, (data_type{"DECIMAL", {}}));
    EXPECT_EQ(t.columns[23].type, (data_type{"INT", {}}));  // INTEGER is folded to INT
    ASSERT_EQ(t.indexes.size(), 1u);
    EXPECT_EQ(t.indexes[0].name, "idx_v2");
    EXPECT_EQ(t.indexes[0].columns, names{"v2"});
    EXPECT_EQ(t.indexes[0].using_type, "BITMAP");
    EXPECT_EQ(t.engine, "OLAP");
    EXPECT_EQ(t.keys->kind, key_kind::aggregate);
    EXPECT_EQ(t.keys->columns, (names{"id", "k1"}));
    EXPECT_EQ(t.comment, "orders");
}

TEST(parser_ddl, repeated_column_attribute_is_an_error) {
    EXPECT_EQ(error_of("CREATE TABLE t (a INT NULL NOT NULL)"),
              "Getting syntax error at line 1, column 28. Detail message: Unexpected input 'NOT', column 'a' "
              "already has this attribute.");
}

TEST(parser_ddl, key_models) {
    EXPECT_EQ(one<create_table_stmt>("CREATE TABLE t (a INT) DUPLICATE KEY(a)").keys->kind, key_kind::duplicate);
    EXPECT_EQ(one<create_table_stmt>("CREATE TABLE t (a INT) UNIQUE KEY(a)").keys->kind, key_kind::unique);
    EXPECT_EQ(one<create_table_stmt>("CREATE TABLE t (a INT) PRIMARY KEY(a)").keys->kind, key_kind::primary);
    EXPECT_FALSE(one<create_table_stmt>("CREATE TABLE t (a INT)").keys.has_value());
}

TEST(parser_ddl, range_partitions_less_than_fixed_and_batches) {
    auto t = one<create_table_stmt>(
        "CREATE TABLE t (dt DATE, k INT) DUPLICATE KEY(dt)\n"
        "PARTITION BY RANGE(dt) (\n"
        "  PARTITION p1 VALUES LESS THAN (\"2024-01-01\"),\n"
        "  PARTITION p2 VALUES [(\"2024-01-01\"), (\"2024-02-01\")),\n"
        "  START (\"2024-02-01\") END (\"2024-05-01\") EVERY (INTERVAL 1 MONTH),\n"
        "  PARTITION p9 VALUES LESS THAN MAXVALUE (\"replication_num\" = \"1\")\n"
        ") DISTRIBUTED BY HASH(k) BUCKETS 8 ORDER BY (k, dt) PROPERTIES (\"replication_num\" = \"1\", \"a\" = \"b\")");
    ASSERT_TRUE(t.partition.has_value());
    const auto& p = *t.partition;
    EXPECT_EQ(p.kind, partition_kind::range);
    EXPECT_EQ(p.columns, names{"dt"});
    ASSERT_EQ(p.partitions.size(), 3u);
    EXPECT_EQ(p.partitions[0].name, "p1");
    EXPECT_EQ(std::get<less_than_bound>(p.partitions[0].bound).upper, values({"2024-01-01"}));
    const auto& fixed = std::get<fixed_range_bound>(p.partitions[1].bound);
    EXPECT_EQ(fixed.lower, values({"2024-01-01"}));
    EXPECT_EQ(fixed.upper, values({"2024-02-01"}));
    const auto& max = std::get<less_than_bound>(p.partitions[2].bound);
    ASSERT_EQ(max.upper.size(), 1u);
    EXPECT_TRUE(max.upper[0].max_value);
    EXPECT_EQ(p.partitions[2].properties, (property_list{{"replication_num", "1"}}));
    ASSERT_EQ(p.batches.size(), 1u);
    EXPECT_EQ(p.batches[0].start, values({"2024-02-01"}));
    EXPECT_EQ(p.batches[0].end, values({"2024-05-01"}));
    EXPECT_EQ(to_sql(p.batches[0].every), "INTERVAL 1 MONTH");
    EXPECT_EQ(t.distribution->kind, distribution_kind::hash);
    EXPECT_EQ(t.distribution->columns, names{"k"});
    EXPECT_EQ(t.distribution->buckets, 8);
    EXPECT_EQ(t.order_by, (names{"k", "dt"}));
    EXPECT_EQ(t.properties, (property_list{{"replication_num", "1"}, {"a", "b"}}));
}

TEST(parser_ddl, multi_column_range_and_numeric_bounds) {
    auto t = one<create_table_stmt>(
        "CREATE TABLE t (a INT, b INT) PARTITION BY RANGE(a, b) (PARTITION p1 VALUES LESS THAN (\"10\", \"20\"), "
        "PARTITION p2 VALUES LESS THAN (100, -5), PARTITION p3 VALUES LESS THAN (MAXVALUE)) DISTRIBUTED BY RANDOM");
    const auto& p = *t.partition;
    EXPECT_EQ(p.columns, (names{"a", "b"}));
    EXPECT_EQ(std::get<less_than_bound>(p.partitions[0].bound).upper, values({"10", "20"}));
    EXPECT_EQ(std::get<less_than_bound>(p.partitions[1].bound).upper, values({"100", "-5"}));
    EXPECT_TRUE(std::get<less_than_bound>(p.partitions[2].bound).upper[0].max_value);
    EXPECT_EQ(t.distribution->kind, distribution_kind::random);
    EXPECT_FALSE(t.distribution->buckets.has_value());
}

TEST(parser_ddl, list_partitions_single_and_multi_column) {
    auto single = one<create_table_stmt>(
        "CREATE TABLE t (city VARCHAR(20), id INT) PARTITION BY LIST (city) ("
        "PARTITION pLos_Angeles VALUES IN (\"Los Angeles\", \"San Francisco\"), PARTITION pOther VALUES IN ('x'))");
    const auto& p = *single.partition;
    EXPECT_EQ(p.kind, partition_kind::list);
    const auto& in = std::get<list_bound>(p.partitions[0].bound);
    ASSERT_EQ(in.values.size(), 2u);
    EXPECT_EQ(in.values[0], values({"Los Angeles"}));
    EXPECT_EQ(in.values[1], values({"San Francisco"}));
    auto multi = one<create_table_stmt>(
        "CREATE TABLE t (dt DATE, city VARCHAR(20)) PARTITION BY LIST (dt, city) ("
        "PARTITION p1 VALUES IN ((\"2022-04-01\", \"LA\"), (\"2022-04-01\", \"SF\")))");
    const auto& m = std::get<list_bound>(multi.partition->partitions[0].bound);
    ASSERT_EQ(m.values.size(), 2u);
    EXPECT_EQ(m.values[1], values({"2022-04-01", "SF"}));
    // A RANGE table does not take IN, nor LIST a LESS THAN.
    EXPECT_NE(error_of("CREATE TABLE t (a INT) PARTITION BY RANGE(a) (PARTITION p VALUES IN (1))").find("'IN'"),
              std::string::npos);
    EXPECT_NE(error_of("CREATE TABLE t (a INT) PARTITION BY LIST(a) (PARTITION p VALUES LESS THAN (1))").find("'LESS'"),
              std::string::npos);
}

TEST(parser_ddl, expression_partitioning) {
    auto t = one<create_table_stmt>(
        "CREATE TABLE t (dt DATETIME, v INT) PARTITION BY date_trunc('day', dt) DISTRIBUTED BY HASH(v)");
    EXPECT_EQ(t.partition->kind, partition_kind::expression);
    ASSERT_EQ(t.partition->exprs.size(), 1u);
    EXPECT_EQ(to_sql(t.partition->exprs[0]), "date_trunc('day', dt)");
    EXPECT_TRUE(t.partition->columns.empty());
    auto cols = one<create_table_stmt>("CREATE TABLE t (dt DATE, city STRING) PARTITION BY (dt, city)");
    EXPECT_EQ(cols.partition->columns, (names{"dt", "city"}));
    auto empty_range = one<create_table_stmt>("CREATE TABLE t (dt DATE) PARTITION BY RANGE(dt) ()");
    EXPECT_TRUE(empty_range.partition->partitions.empty());
}

TEST(parser_ddl, ctas_and_like) {
    auto ctas = one<create_table_stmt>(
        "CREATE TABLE t2 DUPLICATE KEY(a) DISTRIBUTED BY HASH(a) BUCKETS 1 AS SELECT a, b FROM t1 WHERE a > 0");
    ASSERT_TRUE(ctas.as_select.has_value());
    EXPECT_EQ(ctas.as_select_text, "SELECT a, b FROM t1 WHERE a > 0");
    EXPECT_TRUE(ctas.columns.empty());
    auto like = one<create_table_like_stmt>("CREATE TABLE IF NOT EXISTS db.t2 LIKE db.t1");
    EXPECT_TRUE(like.if_not_exists);
    EXPECT_EQ(like.name, (qualified_name{"db", "t2"}));
    EXPECT_EQ(like.source, (qualified_name{"db", "t1"}));
    auto external = one<create_table_stmt>("CREATE EXTERNAL TABLE e (a INT) ENGINE = mysql PROPERTIES (\"host\" = \"h\")");
    EXPECT_TRUE(external.external);
    EXPECT_EQ(external.engine, "mysql");
}

TEST(parser_ddl, create_table_needs_columns_or_a_query) {
    EXPECT_EQ(error_of("CREATE TABLE t"),
              "Getting syntax error at line 1, column 15. Detail message: Unexpected end of input, expected one of "
              "{'(', LIKE, ENGINE, ...}.");
}

TEST(parser_ddl, drop_truncate_alter_table) {
    auto d = one<drop_table_stmt>("DROP TABLE IF EXISTS db.t FORCE");
    EXPECT_TRUE(d.if_exists);
    EXPECT_TRUE(d.force);
    EXPECT_EQ(d.name, (qualified_name{"db", "t"}));
    auto tr = one<truncate_table_stmt>("TRUNCATE TABLE t PARTITION (p1, p2)");
    EXPECT_EQ(tr.partitions, (names{"p1", "p2"}));
    EXPECT_TRUE(one<truncate_table_stmt>("TRUNCATE TABLE t").partitions.empty());

    auto add = one<alter_table_stmt>(
        "ALTER TABLE t ADD PARTITION IF NOT EXISTS p5 VALUES LESS THAN (\"2024-06-01\") DISTRIBUTED BY HASH(k) BUCKETS 4");
    const auto& a = std::get<add_partition_clause>(add.clause);
    ASSERT_TRUE(a.partition.has_value());
    EXPECT_TRUE(a.partition->if_not_exists);
    EXPECT_EQ(a.partition->name, "p5");
    EXPECT_EQ(a.distribution->buckets, 4);
    auto add_list = one<alter_table_stmt>("ALTER TABLE t ADD TEMPORARY PARTITION p6 VALUES IN ('x')");
    EXPECT_TRUE(std::get<add_partition_clause>(add_list.clause).temporary);
    auto batch = one<alter_table_stmt>(
        "ALTER TABLE t ADD PARTITIONS START (\"2024-01-01\") END (\"2024-01-10\") EVERY (INTERVAL 1 DAY)");
    EXPECT_TRUE(std::get<add_partition_clause>(batch.clause).batch.has_value());
    auto drop = one<alter_table_stmt>("ALTER TABLE db.t DROP PARTITION IF EXISTS p1 FORCE");
    const auto& dp = std::get<drop_partition_clause>(drop.clause);
    EXPECT_TRUE(dp.if_exists);
    EXPECT_TRUE(dp.force);
    EXPECT_EQ(dp.name, "p1");
    EXPECT_EQ(std::get<rename_table_clause>(one<alter_table_stmt>("ALTER TABLE t RENAME t2").clause).new_name, "t2");
    EXPECT_EQ(std::get<swap_table_clause>(one<alter_table_stmt>("ALTER TABLE t SWAP WITH `t2`").clause).other, "t2");
    auto rp = std::get<rename_partition_clause>(one<alter_table_stmt>("ALTER TABLE db.t RENAME PARTITION p1 `p 2`").clause);
    EXPECT_EQ(rp.name, "p1");
    EXPECT_EQ(rp.new_name, "p 2");
    auto db = one<alter_database_stmt>("ALTER DATABASE default_catalog.`d` RENAME d2");
    EXPECT_EQ(db.name.db, "default_catalog");
    EXPECT_EQ(db.name.name, "d");
    EXPECT_EQ(db.new_name, "d2");
    EXPECT_NE(error_of("ALTER DATABASE c.d.x RENAME d2").find("Unexpected input"), std::string::npos);
    EXPECT_NE(error_of("ALTER TABLE t SWAP t2").find("the most similar input is {WITH}"), std::string::npos);
    auto set = one<alter_table_stmt>("ALTER TABLE tbl1 SET (\"dynamic_partition.enable\"=\"true\")");
    EXPECT_EQ(std::get<set_table_properties_clause>(set.clause).properties,
              (property_list{{"dynamic_partition.enable", "true"}}));
}

TEST(parser_ddl, unknown_types_and_bad_parameters) {
    EXPECT_NE(error_of("CREATE TABLE t (a ARRAY<INT>)").find("Unexpected input 'ARRAY'"), std::string::npos);
    EXPECT_NE(error_of("CREATE TABLE t (a VARCHAR(99999999999))").find("Type parameter '99999999999' is out of range."),
              std::string::npos);
    EXPECT_NE(error_of("CREATE TABLE t (a DECIMAL(1, 2, 3))").find("Unexpected input ','"), std::string::npos);
    EXPECT_NE(error_of("CREATE TABLE t (a DATE(3))").find("Unexpected input '('"), std::string::npos);
}

TEST(parser_ddl, starrocks_show_create_output_parses_back) {
    // What StarRocks' SHOW CREATE TABLE prints, which users paste into other clusters.
    auto t = one<create_table_stmt>(
        "CREATE TABLE `sr_member` (\n"
        "  `sr_id` int(11) NULL COMMENT \"\",\n"
        "  `name` varchar(64) NULL COMMENT \"\",\n"
        "  `reg_date` date NULL COMMENT \"\",\n"
        "  `verified` boolean NULL COMMENT \"\"\n"
        ") ENGINE=OLAP \n"
        "DUPLICATE KEY(`sr_id`)\n"
        "PARTITION BY RANGE(`reg_date`)\n"
        "(PARTITION p1 VALUES [(\"2022-03-13\"), (\"2022-03-14\")),\n"
        "PARTITION p2 VALUES [(\"2022-03-14\"), (\"2022-03-15\")))\n"
        "DISTRIBUTED BY HASH(`sr_id`) BUCKETS 4 \n"
        "PROPERTIES (\n"
        "\"replication_num\" = \"3\",\n"
        "\"in_memory\" = \"false\",\n"
        "\"compression\" = \"LZ4\"\n"
        ");");
    EXPECT_EQ(t.name.name, "sr_member");
    ASSERT_EQ(t.columns.size(), 4u);
    EXPECT_EQ(t.columns[1].type, (data_type{"VARCHAR", {64}}));
    EXPECT_EQ(t.columns[1].comment, "");
    EXPECT_EQ(t.columns[3].type.name, "BOOLEAN");
    EXPECT_EQ(t.partition->partitions.size(), 2u);
    EXPECT_EQ(t.properties.size(), 3u);

    auto mv = one<create_materialized_view_stmt>(
        "CREATE MATERIALIZED VIEW `mv1` (`k`, `c`)\n"
        "DISTRIBUTED BY HASH(`k`) BUCKETS 10\n"
        "REFRESH ASYNC START(\"2023-01-01 00:00:00\") EVERY(INTERVAL 1 DAY)\n"
        "PROPERTIES (\n\"replication_num\" = \"1\"\n)\n"
        "AS SELECT `db`.`t`.`k` AS `k`, sum(`db`.`t`.`v`) AS `c` FROM `db`.`t` GROUP BY `db`.`t`.`k`;");
    EXPECT_EQ(mv.columns.size(), 2u);
    EXPECT_EQ(mv.refresh->start, "2023-01-01 00:00:00");
    EXPECT_EQ(mv.query_text, "SELECT `db`.`t`.`k` AS `k`, sum(`db`.`t`.`v`) AS `c` FROM `db`.`t` GROUP BY `db`.`t`.`k`");
    const auto* k = mv.query.items[0].value->as<column_ref>();
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->db, "db");
    EXPECT_EQ(k->table, "t");
    EXPECT_EQ(k->column, "k");

    auto v = one<create_view_stmt>("CREATE VIEW `v1` (`k` COMMENT \"key\", `c`) COMMENT \"view\" AS SELECT k, c FROM t;");
    EXPECT_EQ(v.columns[0].comment, "key");
    EXPECT_EQ(v.comment, "view");
}

TEST(parser_ddl, common_words_stay_usable_as_column_names) {
    auto t = one<create_table_stmt>(
        "CREATE TABLE t (date DATE, comment STRING, status INT, type INT, name STRING, value INT, "
        "timestamp DATETIME, label STRING, snapshot STRING, sum BIGINT SUM, `key` INT)");
    ASSERT_EQ(t.columns.size(), 11u);
    EXPECT_EQ(t.columns[0].name, "date");
    EXPECT_EQ(t.columns[9].name, "sum");
    EXPECT_EQ(t.columns[9].aggregate, "SUM");
    EXPECT_EQ(t.columns[10].name, "key");
    EXPECT_NE(error_of("CREATE TABLE t (key INT)").find("Unexpected input 'key'"), std::string::npos);
}
