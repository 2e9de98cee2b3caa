// SPDX-License-Identifier: Apache-2.0
// Session, utility and SHOW statements, SELECT and INSERT: the AST fields each one sets.
#include "unit/sql/parser/parser_test_util.hh"
#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

using namespace tv::sql;
using namespace tv::sql::testing;

TEST(parser_select, client_connect_queries) {
    auto version = one<select_stmt>("select @@version_comment limit 1");
    ASSERT_EQ(version.items.size(), 1u);
    EXPECT_EQ(version.items[0].text, "@@version_comment");
    ASSERT_TRUE(version.limit.has_value());
    EXPECT_EQ(version.limit->count, 1u);
    EXPECT_FALSE(version.from.has_value());
    auto db = one<select_stmt>("SELECT DATABASE()");
    EXPECT_EQ(db.items[0].text, "DATABASE()");
    EXPECT_EQ(db.items[0].value->as<function_call>()->name, "DATABASE");
    auto id = one<select_stmt>("SELECT CONNECTION_ID()");
    EXPECT_EQ(id.items[0].value->as<function_call>()->name, "CONNECTION_ID");
    auto jdbc = one<select_stmt>(
        "SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client "
        "AS character_set_client, @@max_allowed_packet AS max_allowed_packet");
    ASSERT_EQ(jdbc.items.size(), 3u);
    EXPECT_EQ(jdbc.items[0].alias, "auto_increment_increment");
    EXPECT_EQ(jdbc.items[0].text, "@@session.auto_increment_increment");
}

TEST(parser_select, full_query_shape) {
    auto s = one<select_stmt>(
        "SELECT DISTINCT k, SUM(v) total, t.*, * FROM db1.t1 AS t WHERE k > 1 AND v IS NOT NULL "
        "GROUP BY k, v HAVING SUM(v) > 10 ORDER BY total DESC, k ASC, v LIMIT 5, 10");
    EXPECT_TRUE(s.distinct);
    ASSERT_EQ(s.items.size(), 4u);
    EXPECT_EQ(s.items[1].alias, "total");
    EXPECT_EQ(s.items[1].text, "SUM(v)");
    EXPECT_TRUE(s.items[2].star);
    EXPECT_EQ(s.items[2].star_table.name, "t");
    EXPECT_TRUE(s.items[3].star);
    EXPECT_TRUE(s.items[3].star_table.name.empty());
    const auto& from = std::get<table_ref>(*s.from);
    EXPECT_EQ(from.name, (qualified_name{"db1", "t1"}));
    EXPECT_EQ(from.alias, "t");
    EXPECT_EQ(to_sql(*s.where), "(k > 1) AND (v IS NOT NULL)");
    EXPECT_EQ(s.group_by.size(), 2u);
    EXPECT_EQ(to_sql(*s.having), "SUM(v) > 10");
    ASSERT_EQ(s.order_by.size(), 3u);
    EXPECT_TRUE(s.order_by[0].descending);
    EXPECT_FALSE(s.order_by[1].descending);
    EXPECT_EQ(s.limit->offset, 5u);
    EXPECT_EQ(s.limit->count, 10u);
    EXPECT_EQ(one<select_stmt>("SELECT 1 LIMIT 10 OFFSET 20").limit->offset, 20u);
}

TEST(parser_select, aliases_strings_and_qualified_stars) {
    auto s = one<select_stmt>("SELECT a AS 'x y', b \"z\", db.t.* FROM t u");
    EXPECT_EQ(s.items[0].alias, "x y");
    EXPECT_EQ(s.items[1].alias, "z");
    EXPECT_EQ(s.items[2].star_table, (qualified_name{"db", "t"}));
    EXPECT_EQ(std::get<table_ref>(*s.from).alias, "u");
}

TEST(parser_select, generate_series_table_function) {
    auto s = one<select_stmt>("SELECT * FROM TABLE(generate_series(1, 100, 2)) AS g(n)");
    const auto& f = std::get<table_function_ref>(*s.from);
    EXPECT_EQ(f.name, "generate_series");
    ASSERT_EQ(f.args.size(), 3u);
    EXPECT_EQ(to_sql(f.args[2]), "2");
    EXPECT_EQ(f.alias, "g");
    EXPECT_EQ(f.column_aliases, (std::vector<std::string>{"n"}));
    auto plain = one<select_stmt>("select count(*) from table(generate_series(1, 10))");
    EXPECT_EQ(std::get<table_function_ref>(*plain.from).args.size(), 2u);
}

TEST(parser_select, joins_and_subqueries_are_not_supported) {
    EXPECT_TRUE(fails("SELECT * FROM a JOIN b ON a.x = b.x"));
    EXPECT_TRUE(fails("SELECT * FROM a, b"));
    EXPECT_TRUE(fails("SELECT * FROM (SELECT 1) t"));
    EXPECT_TRUE(fails("SELECT 1 UNION SELECT 2"));
}

TEST(parser_insert, values_rows_with_default) {
    auto i = one<insert_stmt>("INSERT INTO db.t PARTITION (p1, p2) WITH LABEL load_1 (a, b) VALUES (1, 'x'), (2, DEFAULT), ()");
    EXPECT_FALSE(i.overwrite);
    EXPECT_EQ(i.table, (qualified_name{"db", "t"}));
    EXPECT_EQ(i.partitions, (std::vector<std::string>{"p1", "p2"}));
    EXPECT_EQ(i.label, "load_1");
    EXPECT_EQ(i.columns, (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(i.rows.size(), 3u);
    EXPECT_EQ(to_sql(*i.rows[0][1]), "'x'");
    EXPECT_FALSE(i.rows[1][1].has_value());
    EXPECT_TRUE(i.rows[2].empty());
    EXPECT_FALSE(i.query.has_value());
}

TEST(parser_insert, overwrite_and_select) {
    auto i = one<insert_stmt>("INSERT OVERWRITE t SELECT * FROM TABLE(generate_series(1, 3))");
    EXPECT_TRUE(i.overwrite);
    ASSERT_TRUE(i.query.has_value());
    EXPECT_EQ(i.query_text, "SELECT * FROM TABLE(generate_series(1, 3))");
    EXPECT_TRUE(i.rows.empty());
    EXPECT_TRUE(fails("INSERT t VALUES (1)"));
}

TEST(parser_session, use) {
    EXPECT_EQ(one<use_stmt>("use `My Db`").db, "My Db");
    auto qualified = one<use_stmt>("USE default_catalog.db1");
    EXPECT_EQ(qualified.catalog, "default_catalog");
    EXPECT_EQ(qualified.db, "db1");
}

TEST(parser_session, set_variables_with_scopes) {
    auto s = one<set_stmt>("SET GLOBAL a = 1, b = 'x', SESSION c = 2, @@global.d = ON, @u := 5, e = DEFAULT");
    ASSERT_EQ(s.variables.size(), 6u);
    EXPECT_EQ(s.variables[0].scope, variable_scope::global);
    EXPECT_EQ(s.variables[1].scope, variable_scope::global);  // GLOBAL carries over (MySQL 8)
    EXPECT_EQ(s.variables[2].scope, variable_scope::session);
    EXPECT_EQ(s.variables[3].scope, variable_scope::global);
    EXPECT_EQ(s.variables[3].name, "d");
    EXPECT_EQ(to_sql(*s.variables[3].value), "'ON'");
    EXPECT_EQ(s.variables[4].scope, variable_scope::user);
    EXPECT_EQ(s.variables[4].name, "u");
    EXPECT_EQ(s.variables[5].scope, variable_scope::session);
    EXPECT_FALSE(s.variables[5].value.has_value());

    auto autocommit = one<set_stmt>("SET autocommit=1");
    EXPECT_EQ(autocommit.variables[0].scope, variable_scope::system);
    EXPECT_EQ(autocommit.variables[0].name, "autocommit");
    EXPECT_EQ(to_sql(*autocommit.variables[0].value), "1");
    auto session = one<set_stmt>("SET @@session.autocommit = OFF");
    EXPECT_EQ(session.variables[0].scope, variable_scope::session);
    EXPECT_EQ(session.variables[0].value->as<literal>()->value, "OFF");
    auto expr_value = one<set_stmt>("SET query_timeout = 60 * 5");
    EXPECT_EQ(to_sql(*expr_value.variables[0].value), "60 * 5");
    auto null_value = one<set_stmt>("SET character_set_results = NULL");
    EXPECT_EQ(null_value.variables[0].value->as<literal>()->kind, literal_kind::null);
}

TEST(parser_session, set_names_and_charset) {
    auto n = one<set_names_stmt>("SET NAMES utf8mb4 COLLATE utf8mb4_general_ci");
    EXPECT_EQ(n.charset, "utf8mb4");
    EXPECT_EQ(n.collation, "utf8mb4_general_ci");
    EXPECT_EQ(one<set_names_stmt>("SET NAMES 'utf8'").charset, "utf8");
    EXPECT_EQ(one<set_names_stmt>("SET NAMES DEFAULT").charset, "");
    auto c = one<set_names_stmt>("SET CHARACTER SET utf8");
    EXPECT_TRUE(c.character_set_form);
    EXPECT_EQ(c.charset, "utf8");
}

TEST(parser_session, set_password) {
    auto plain = one<set_password_stmt>("SET PASSWORD = PASSWORD('secret')");
    EXPECT_FALSE(plain.user.has_value());
    EXPECT_EQ(plain.password, "secret");
    EXPECT_FALSE(plain.hashed);
    auto hashed = one<set_password_stmt>("SET PASSWORD FOR 'jack'@'%' = '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'");
    EXPECT_EQ(hashed.user, (user_identity{"jack", "%"}));
    EXPECT_TRUE(hashed.hashed);
}

TEST(parser_session, transactions) {
    EXPECT_EQ(one<transaction_stmt>("BEGIN").action, transaction_action::begin);
    EXPECT_EQ(one<transaction_stmt>("START TRANSACTION").action, transaction_action::begin);
    EXPECT_EQ(one<transaction_stmt>("commit work").action, transaction_action::commit);
    EXPECT_EQ(one<transaction_stmt>("ROLLBACK").action, transaction_action::rollback);
}

TEST(parser_show, variables) {
    auto v = one<show_variables_stmt>("SHOW VARIABLES LIKE 'version%'");
    EXPECT_EQ(v.scope, variable_scope::system);
    EXPECT_EQ(v.filter.like, "version%");
    auto g = one<show_variables_stmt>("SHOW GLOBAL VARIABLES WHERE Variable_name = 'time_zone'");
    EXPECT_EQ(g.scope, variable_scope::global);
    EXPECT_EQ(to_sql(*g.filter.where), "Variable_name = 'time_zone'");
    EXPECT_EQ(one<show_variables_stmt>("SHOW SESSION VARIABLES").scope, variable_scope::session);
}

TEST(parser_show, databases_tables_columns) {
    EXPECT_EQ(one<show_databases_stmt>("SHOW DATABASES LIKE 'sr%'").filter.like, "sr%");
    auto t = one<show_tables_stmt>("SHOW FULL TABLES FROM sr_hub LIKE 'm%'");
    EXPECT_TRUE(t.full);
    EXPECT_EQ(t.db, "sr_hub");
    EXPECT_EQ(t.filter.like, "m%");
    EXPECT_EQ(one<show_tables_stmt>("SHOW TABLES IN d").db, "d");
    auto c = one<show_columns_stmt>("SHOW FULL COLUMNS FROM t FROM db");
    EXPECT_TRUE(c.full);
    EXPECT_EQ(c.table, (qualified_name{"db", "t"}));
    auto d = one<describe_stmt>("DESC db.t");
    EXPECT_EQ(d.table, (qualified_name{"db", "t"}));
    EXPECT_TRUE(one<describe_stmt>("DESCRIBE t ALL").all);
}

TEST(parser_show, show_create_kinds) {
    auto t = one<show_create_stmt>("SHOW CREATE TABLE db.t");
    EXPECT_EQ(t.kind, show_create_kind::table);
    EXPECT_EQ(t.name, (qualified_name{"db", "t"}));
    EXPECT_EQ(one<show_create_stmt>("SHOW CREATE VIEW v").kind, show_create_kind::view);
    EXPECT_EQ(one<show_create_stmt>("SHOW CREATE MATERIALIZED VIEW mv").kind, show_create_kind::materialized_view);
    auto c = one<show_create_stmt>("SHOW CREATE CATALOG hive_c");
    EXPECT_EQ(c.kind, show_create_kind::catalog);
    EXPECT_EQ(c.name.name, "hive_c");
    EXPECT_EQ(one<show_create_stmt>("SHOW CREATE DATABASE d").kind, show_create_kind::database);
    EXPECT_EQ(one<show_create_stmt>("SHOW CREATE REPOSITORY r").kind, show_create_kind::repository);
}

TEST(parser_show, partitions_and_tablets) {
    auto p = one<show_partitions_stmt>("SHOW PARTITIONS FROM sr_member WHERE PartitionName = 'p1' ORDER BY PartitionId LIMIT 3");
    EXPECT_FALSE(p.temporary);
    EXPECT_EQ(p.table.name, "sr_member");
    ASSERT_TRUE(p.predicate.where.has_value());
    EXPECT_EQ(p.predicate.order_by.size(), 1u);
    EXPECT_EQ(p.predicate.limit->count, 3u);
    EXPECT_TRUE(one<show_partitions_stmt>("SHOW TEMPORARY PARTITIONS FROM t").temporary);
    auto t = one<show_tablet_stmt>("SHOW TABLET FROM db.t PARTITION (p1, p2)");
    EXPECT_EQ(t.table, (qualified_name{"db", "t"}));
    EXPECT_EQ(t.partitions.size(), 2u);
    EXPECT_FALSE(t.tablet_id.has_value());
    EXPECT_EQ(one<show_tablet_stmt>("SHOW TABLET 10086").tablet_id, 10086);
    EXPECT_EQ(one<show_tablet_stmt>("SHOW TABLETS FROM table_name").table.name, "table_name");
}

TEST(parser_show, frontends_backends_proc) {
    auto fe = one<show_proc_stmt>("SHOW FRONTENDS");
    EXPECT_EQ(fe.path, "/frontends");
    EXPECT_FALSE(fe.proc);
    EXPECT_EQ(one<show_proc_stmt>("show backends").path, "/backends");
    auto proc = one<show_proc_stmt>("SHOW PROC '/backends'");
    EXPECT_EQ(proc.path, "/backends");
    EXPECT_TRUE(proc.proc);
    EXPECT_EQ(one<show_proc_stmt>("SHOW PROC \"/dbs/10001\"").path, "/dbs/10001");
}

TEST(parser_show, grants_processlist_catalogs_functions_mvs) {
    auto g = one<show_grants_stmt>("SHOW GRANTS FOR 'u1'@'%'");
    EXPECT_EQ(g.user, (user_identity{"u1", "%"}));
    EXPECT_FALSE(one<show_grants_stmt>("SHOW GRANTS").user.has_value());
    EXPECT_EQ(one<show_grants_stmt>("SHOW GRANTS FOR ROLE db_admin").role, "db_admin");
    EXPECT_TRUE(one<show_grants_stmt>("SHOW ALL GRANTS").all);
    EXPECT_FALSE(one<show_processlist_stmt>("SHOW PROCESSLIST").full);
    EXPECT_TRUE(one<show_processlist_stmt>("SHOW FULL PROCESSLIST").full);
    one<show_catalogs_stmt>("SHOW CATALOGS");
    one<show_broker_stmt>("SHOW BROKER");
    auto f = one<show_functions_stmt>("SHOW FUNCTIONS FROM db LIKE 'my%'");
    EXPECT_EQ(f.db, "db");
    EXPECT_EQ(f.filter.like, "my%");
    EXPECT_FALSE(f.global);
    auto gf = one<show_functions_stmt>("SHOW FULL GLOBAL FUNCTIONS");
    EXPECT_TRUE(gf.global);
    EXPECT_TRUE(gf.full);
    EXPECT_TRUE(one<show_functions_stmt>("SHOW BUILTIN FUNCTIONS").builtin);
    auto mv = one<show_materialized_views_stmt>("SHOW MATERIALIZED VIEWS FROM sr_hub WHERE NAME = 'mv1'");
    EXPECT_EQ(mv.db, "sr_hub");
    EXPECT_TRUE(mv.filter.where.has_value());
    EXPECT_EQ(one<show_warnings_stmt>("SHOW WARNINGS LIMIT 5").limit->count, 5u);
    EXPECT_TRUE(one<show_warnings_stmt>("SHOW ERRORS").errors);
    EXPECT_TRUE(fails("SHOW FULL DATABASES"));
}

TEST(parser_admin, frontend_config) {
    auto set = one<admin_set_config_stmt>("ADMIN SET FRONTEND CONFIG (\"max_upload_speed_kbps\" = \"1024\")");
    EXPECT_EQ(set.config, (property_list{{"max_upload_speed_kbps", "1024"}}));
    EXPECT_EQ(one<admin_show_config_stmt>("ADMIN SHOW FRONTEND CONFIG LIKE '%speed%'").like, "%speed%");
    EXPECT_FALSE(one<admin_show_config_stmt>("ADMIN SHOW FRONTEND CONFIG").like.has_value());
}

TEST(parser_admin, checksum_and_kill) {
    auto c = one<checksum_table_stmt>("CHECKSUM TABLE db.t1, t2 EXTENDED");
    ASSERT_EQ(c.tables.size(), 2u);
    EXPECT_EQ(c.tables[0], (qualified_name{"db", "t1"}));
    EXPECT_EQ(c.mode, "EXTENDED");
    auto k = one<kill_stmt>("KILL QUERY 42");
    EXPECT_TRUE(k.query_only);
    EXPECT_EQ(k.connection_id, 42);
    EXPECT_FALSE(one<kill_stmt>("KILL CONNECTION 7").query_only);
}
