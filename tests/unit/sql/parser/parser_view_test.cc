// SPDX-License-Identifier: Apache-2.0
// Views, materialized views, functions, external catalogs, users and privileges.
#include "unit/sql/parser/parser_test_util.hh"
#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

using namespace tv::sql;
using namespace tv::sql::testing;

TEST(parser_view, create_view_keeps_query_text) {
    auto v = one<create_view_stmt>(
        "CREATE OR REPLACE VIEW IF NOT EXISTS db.v (a COMMENT 'first', b) COMMENT 'my view' AS\n"
        "  SELECT k, SUM(v) FROM t /* note */ GROUP BY k ;");
    EXPECT_TRUE(v.or_replace);
    EXPECT_TRUE(v.if_not_exists);
    EXPECT_EQ(v.name, (qualified_name{"db", "v"}));
    ASSERT_EQ(v.columns.size(), 2u);
    EXPECT_EQ(v.columns[0].comment, "first");
    EXPECT_FALSE(v.columns[1].comment.has_value());
    EXPECT_EQ(v.comment, "my view");
    EXPECT_EQ(v.query_text, "SELECT k, SUM(v) FROM t /* note */ GROUP BY k");
    EXPECT_EQ(v.query.group_by.size(), 1u);
    EXPECT_FALSE(one<create_view_stmt>("CREATE VIEW v AS SELECT 1").or_replace);
}

TEST(parser_view, alter_and_drop_view) {
    auto a = one<alter_view_stmt>("ALTER VIEW v (x) AS SELECT 2");
    EXPECT_EQ(a.query_text, "SELECT 2");
    EXPECT_EQ(a.columns.size(), 1u);
    auto d = one<drop_view_stmt>("DROP VIEW IF EXISTS db.v");
    EXPECT_TRUE(d.if_exists);
    EXPECT_EQ(d.name, (qualified_name{"db", "v"}));
}

TEST(parser_view, async_materialized_view_clauses_in_any_order) {
    auto mv = one<create_materialized_view_stmt>(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS sr_hub.mv1 COMMENT 'daily'\n"
        "REFRESH DEFERRED ASYNC START('2024-01-01 10:00:00') EVERY (INTERVAL 1 DAY)\n"
        "DISTRIBUTED BY HASH(k) BUCKETS 2\n"
        "PARTITION BY date_trunc('day', dt)\n"
        "ORDER BY (k)\n"
        "PROPERTIES (\"replication_num\" = \"1\")\n"
        "AS SELECT k, dt, count(*) FROM t GROUP BY k, dt");
    EXPECT_TRUE(mv.if_not_exists);
    EXPECT_EQ(mv.name, (qualified_name{"sr_hub", "mv1"}));
    EXPECT_EQ(mv.comment, "daily");
    EXPECT_TRUE(mv.has_refresh_clause);
    ASSERT_TRUE(mv.refresh.has_value());
    EXPECT_EQ(mv.refresh->moment, refresh_moment::deferred);
    EXPECT_EQ(mv.refresh->kind, refresh_kind::async);
    EXPECT_EQ(mv.refresh->start, "2024-01-01 10:00:00");
    EXPECT_EQ(to_sql(*mv.refresh->every), "INTERVAL 1 DAY");
    EXPECT_EQ(mv.distribution->columns, names{"k"});
    ASSERT_EQ(mv.partition_by.size(), 1u);
    EXPECT_EQ(mv.partition_by_text, "date_trunc('day', dt)");
    EXPECT_EQ(mv.order_by, names{"k"});
    EXPECT_EQ(mv.properties, (property_list{{"replication_num", "1"}}));
    EXPECT_EQ(mv.query_text, "SELECT k, dt, count(*) FROM t GROUP BY k, dt");
}

TEST(parser_view, sync_materialized_view_has_no_refresh_clause) {
    auto mv = one<create_materialized_view_stmt>("CREATE MATERIALIZED VIEW mv2 AS SELECT k, SUM(v) FROM t GROUP BY k");
    EXPECT_FALSE(mv.has_refresh_clause);
    EXPECT_FALSE(mv.refresh.has_value());
    EXPECT_FALSE(mv.distribution.has_value());
    EXPECT_EQ(one<create_materialized_view_stmt>("CREATE MATERIALIZED VIEW m REFRESH MANUAL AS SELECT 1").refresh->kind,
              refresh_kind::manual);
    EXPECT_EQ(
        one<create_materialized_view_stmt>("CREATE MATERIALIZED VIEW m REFRESH IMMEDIATE INCREMENTAL AS SELECT 1")
            .refresh->kind,
        refresh_kind::incremental);
    EXPECT_TRUE(fails("CREATE MATERIALIZED VIEW m REFRESH MANUAL REFRESH ASYNC AS SELECT 1"));
    EXPECT_TRUE(fails("CREATE MATERIALIZED VIEW m REFRESH ASYNC EVERY (1) AS SELECT 1"));
}

TEST(parser_view, alter_refresh_drop_materialized_view) {
    EXPECT_EQ(one<alter_materialized_view_stmt>("ALTER MATERIALIZED VIEW db.mv ACTIVE").action, mv_alter_action::active);
    EXPECT_EQ(one<alter_materialized_view_stmt>("alter materialized view mv inactive").action,
              mv_alter_action::inactive);
    auto rename = one<alter_materialized_view_stmt>("ALTER MATERIALIZED VIEW mv RENAME mv2");
    EXPECT_EQ(rename.new_name, "mv2");
    auto r = one<refresh_materialized_view_stmt>("REFRESH MATERIALIZED VIEW db.mv WITH SYNC MODE");
    EXPECT_EQ(r.name, (qualified_name{"db", "mv"}));
    EXPECT_TRUE(r.sync_mode);
    auto p = one<refresh_materialized_view_stmt>(
        "REFRESH MATERIALIZED VIEW mv PARTITION START ('2024-01-01') END ('2024-02-01') FORCE");
    EXPECT_EQ(p.partition_start, "2024-01-01");
    EXPECT_EQ(p.partition_end, "2024-02-01");
    EXPECT_TRUE(p.force);
    EXPECT_FALSE(p.sync_mode);
    auto d = one<drop_materialized_view_stmt>("DROP MATERIALIZED VIEW IF EXISTS mv");
    EXPECT_TRUE(d.if_exists);
}

TEST(parser_view, create_and_drop_function) {
    auto f = one<create_function_stmt>(
        "CREATE GLOBAL AGGREGATE FUNCTION IF NOT EXISTS db.my_sum(BIGINT, VARCHAR(10), ...) RETURNS BIGINT "
        "INTERMEDIATE DOUBLE PROPERTIES (\"symbol\" = \"MySum\", \"type\" = \"StarrocksJar\", \"file\" = \"http://x/u.jar\")");
    EXPECT_TRUE(f.global);
    EXPECT_EQ(f.kind, function_kind::aggregate);
    EXPECT_TRUE(f.if_not_exists);
    EXPECT_EQ(f.name, (qualified_name{"db", "my_sum"}));
    ASSERT_EQ(f.arg_types.size(), 2u);
    EXPECT_EQ(f.arg_types[1], (data_type{"VARCHAR", {10}}));
    EXPECT_TRUE(f.variadic);
    EXPECT_EQ(f.return_type.name, "BIGINT");
    EXPECT_EQ(f.intermediate_type->name, "DOUBLE");
    EXPECT_EQ(f.properties.size(), 3u);
    auto scalar = one<create_function_stmt>("CREATE FUNCTION f(INT) RETURNS INT");
    EXPECT_EQ(scalar.kind, function_kind::scalar);
    EXPECT_FALSE(scalar.global);
    EXPECT_EQ(one<create_function_stmt>("CREATE TABLE FUNCTION t(STRING) RETURNS INT").kind, function_kind::table);
    auto d = one<drop_function_stmt>("DROP GLOBAL FUNCTION IF EXISTS my_sum(BIGINT, ...)");
    EXPECT_TRUE(d.global);
    EXPECT_TRUE(d.if_exists);
    EXPECT_EQ(d.arg_types.size(), 1u);
    EXPECT_TRUE(d.variadic);
    EXPECT_TRUE(one<drop_function_stmt>("DROP FUNCTION f()").arg_types.empty());
}

TEST(parser_view, external_catalogs) {
    auto c = one<create_catalog_stmt>(
        "CREATE EXTERNAL CATALOG IF NOT EXISTS hive_c COMMENT 'hive' PROPERTIES (\"type\" = \"hive\", "
        "\"hive.metastore.uris\" = \"thrift://h:9083\")");
    EXPECT_TRUE(c.if_not_exists);
    EXPECT_EQ(c.name, "hive_c");
    EXPECT_EQ(c.comment, "hive");
    EXPECT_EQ(c.properties.size(), 2u);
    EXPECT_TRUE(fails("CREATE EXTERNAL CATALOG c"));  // PROPERTIES is required
    auto d = one<drop_catalog_stmt>("DROP CATALOG IF EXISTS hive_c");
    EXPECT_TRUE(d.if_exists);
    EXPECT_EQ(d.name, "hive_c");
}

TEST(parser_user, create_alter_drop_user) {
    auto u = one<create_user_stmt>("CREATE USER IF NOT EXISTS 'jack'@'192.168.%' IDENTIFIED BY '123456' DEFAULT ROLE db_admin, r2");
    EXPECT_TRUE(u.if_not_exists);
    EXPECT_EQ(u.user, (user_identity{"jack", "192.168.%"}));
    ASSERT_TRUE(u.auth.has_value());
    EXPECT_EQ(u.auth->password, "123456");
    EXPECT_FALSE(u.auth->hashed);
    EXPECT_EQ(u.default_roles, (names{"db_admin", "r2"}));
    auto plugin = one<create_user_stmt>("CREATE USER u1 IDENTIFIED WITH mysql_native_password AS '*ABC'");
    EXPECT_EQ(plugin.user, (user_identity{"u1", "%"}));
    EXPECT_EQ(plugin.auth->plugin, "mysql_native_password");
    EXPECT_EQ(plugin.auth->password, "*ABC");
    EXPECT_TRUE(plugin.auth->hashed);
    auto by = one<create_user_stmt>("CREATE USER u2@'localhost' IDENTIFIED WITH 'mysql_native_password' BY 'pw'");
    EXPECT_EQ(by.user.host, "localhost");
    EXPECT_FALSE(by.auth->hashed);
    EXPECT_FALSE(one<create_user_stmt>("CREATE USER 'x'").auth.has_value());
    auto alter = one<alter_user_stmt>("ALTER USER 'jack' IDENTIFIED BY 'new'");
    EXPECT_EQ(alter.auth->password, "new");
    EXPECT_TRUE(fails("ALTER USER jack"));
    auto drop = one<drop_user_stmt>("DROP USER IF EXISTS 'jack'@'%'");
    EXPECT_TRUE(drop.if_exists);
    EXPECT_EQ(drop.user.name, "jack");
    EXPECT_EQ(one<create_role_stmt>("CREATE ROLE analyst").name, "analyst");
    EXPECT_TRUE(one<drop_role_stmt>("DROP ROLE IF EXISTS analyst").if_exists);
}

TEST(parser_user, grant_and_revoke_roles) {
    auto g = one<grant_role_stmt>("GRANT db_admin, user_admin TO USER 'jack'@'%'");
    EXPECT_EQ(g.roles, (names{"db_admin", "user_admin"}));
    EXPECT_FALSE(g.to.is_role);
    EXPECT_EQ(g.to.user, (user_identity{"jack", "%"}));
    auto to_role = one<grant_role_stmt>("GRANT r1 TO ROLE r2");
    EXPECT_TRUE(to_role.to.is_role);
    EXPECT_EQ(to_role.to.role, "r2");
    auto r = one<revoke_role_stmt>("REVOKE db_admin FROM jack");
    EXPECT_EQ(r.from.user.name, "jack");
}

TEST(parser_user, grant_privileges_on_every_object_form) {
    auto table = one<grant_privilege_stmt>("GRANT SELECT, INSERT ON TABLE db.t1, db.t2 TO USER 'u'@'%' WITH GRANT OPTION");
    EXPECT_EQ(table.privileges, (names{"SELECT", "INSERT"}));
    EXPECT_EQ(table.object.type, privilege_object_type::table);
    ASSERT_EQ(table.object.names.size(), 2u);
    EXPECT_EQ(table.object.names[1], (qualified_name{"db", "t2"}));
    EXPECT_FALSE(table.object.legacy_syntax);
    EXPECT_TRUE(table.with_grant_option);

    auto legacy = one<grant_privilege_stmt>("grant select on db.t to u");
    EXPECT_TRUE(legacy.object.legacy_syntax);
    EXPECT_EQ(legacy.object.names[0], (qualified_name{"db", "t"}));

    auto db_star = one<grant_privilege_stmt>("GRANT ALL PRIVILEGES ON db.* TO u");
    EXPECT_EQ(db_star.privileges, names{"ALL"});
    EXPECT_TRUE(db_star.object.all);
    EXPECT_EQ(db_star.object.in_database, "db");
    EXPECT_TRUE(db_star.object.names.empty());

    auto star_star = one<grant_privilege_stmt>("GRANT SELECT ON *.* TO u");
    EXPECT_TRUE(star_star.object.all);
    EXPECT_TRUE(star_star.object.all_databases);

    auto all_in_db = one<grant_privilege_stmt>("GRANT SELECT ON ALL TABLES IN DATABASE sr_hub TO u");
    EXPECT_TRUE(all_in_db.object.all);
    EXPECT_EQ(all_in_db.object.in_database, "sr_hub");
    EXPECT_FALSE(all_in_db.object.all_databases);

    auto all_all = one<grant_privilege_stmt>("GRANT SELECT ON ALL TABLES IN ALL DATABASES TO u");
    EXPECT_TRUE(all_all.object.all_databases);

    auto create = one<grant_privilege_stmt>("GRANT CREATE TABLE, CREATE MATERIALIZED VIEW ON DATABASE d TO ROLE r");
    EXPECT_EQ(create.privileges, (names{"CREATE TABLE", "CREATE MATERIALIZED VIEW"}));
    EXPECT_EQ(create.object.type, privilege_object_type::database);
    EXPECT_EQ(create.object.names[0].name, "d");
    EXPECT_TRUE(create.to.is_role);

    auto system = one<grant_privilege_stmt>("GRANT REPOSITORY, OPERATE ON SYSTEM TO u");
    EXPECT_EQ(system.object.type, privilege_object_type::system);

    auto mvs = one<grant_privilege_stmt>("GRANT REFRESH ON ALL MATERIALIZED VIEWS IN DATABASE d TO u");
    EXPECT_EQ(mvs.object.type, privilege_object_type::materialized_view);
    EXPECT_EQ(one<grant_privilege_stmt>("GRANT USAGE ON ALL GLOBAL FUNCTIONS TO u").object.type,
              privilege_object_type::global_function);
    EXPECT_EQ(one<grant_privilege_stmt>("GRANT USAGE ON CATALOG hive_c TO u").object.type,
              privilege_object_type::catalog);

    auto revoke = one<revoke_privilege_stmt>("REVOKE SELECT ON ALL TABLES IN ALL DATABASES FROM 'u'@'%'");
    EXPECT_EQ(revoke.privileges, names{"SELECT"});
    EXPECT_TRUE(revoke.object.all_databases);
    EXPECT_EQ(revoke.from.user.name, "u");
}

TEST(parser_user, bad_grants) {
    EXPECT_TRUE(fails("GRANT SELECT ON TO u"));
    EXPECT_TRUE(fails("GRANT TO u"));
    EXPECT_TRUE(fails("GRANT CREATE TABLE TO u"));  // a two-word "role"
    EXPECT_TRUE(fails("GRANT SELECT ON ALL TABLES TO u"));  // IN ... is required
}
