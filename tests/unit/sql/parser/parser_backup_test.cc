// SPDX-License-Identifier: Apache-2.0
// Repositories, BACKUP, RESTORE and their companions: every form of the spec's §1 grammar
// (old and v3.4 syntax, every ON-object kind, AS renames, catalogs) and the Doris forms (§8).
#include "unit/sql/parser/parser_test_util.hh"
#include "sql/parser/parser.hh"

#include <gtest/gtest.h>

using namespace tv::sql;
using namespace tv::sql::testing;

TEST(parser_repository, create_with_broker_named_unnamed_and_read_only) {
    auto r = one<create_repository_stmt>(
        "CREATE REPOSITORY test_repo WITH BROKER ON LOCATION \"s3a://bucket_s3/backup\" PROPERTIES("
        "\"aws.s3.access_key\" = \"AK\", \"aws.s3.secret_key\" = \"SK\", \"aws.s3.endpoint\" = \"s3.us-east-1.amazonaws.com\")");
    EXPECT_FALSE(r.read_only);
    EXPECT_EQ(r.name, "test_repo");
    EXPECT_EQ(r.kind, repository_kind::broker);
    EXPECT_FALSE(r.broker_name.has_value());
    EXPECT_EQ(r.location, "s3a://bucket_s3/backup");
    ASSERT_EQ(r.properties.size(), 3u);
    EXPECT_EQ(r.properties[0], (std::pair<std::string, std::string>{"aws.s3.access_key", "AK"}));
    EXPECT_EQ(r.properties[2].first, "aws.s3.endpoint");

    auto named = one<create_repository_stmt>(
        "CREATE READ ONLY REPOSITORY `example_repo` WITH BROKER `hdfs_broker` ON LOCATION 'hdfs://nn:54310/repo/'");
    EXPECT_TRUE(named.read_only);
    EXPECT_EQ(named.name, "example_repo");
    EXPECT_EQ(named.broker_name, "hdfs_broker");
    EXPECT_TRUE(named.properties.empty());
}

TEST(parser_repository, doris_s3_and_hdfs_kinds) {
    auto s3 = one<create_repository_stmt>(
        "CREATE REPOSITORY s3_repo WITH S3 ON LOCATION \"s3://bucket_name/test\" PROPERTIES (\"AWS_ENDPOINT\" = \"\", "
        "\"AWS_ACCESS_KEY\" = \"xxxx\", \"AWS_SECRET_KEY\" = \"xxx\", \"AWS_REGION\" = \"xxx\")");
    EXPECT_EQ(s3.kind, repository_kind::s3);
    EXPECT_EQ(s3.properties[0], (std::pair<std::string, std::string>{"AWS_ENDPOINT", ""}));
    auto hdfs = one<create_repository_stmt>(
        "CREATE REPOSITORY h WITH HDFS ON LOCATION 'hdfs://x/y' PROPERTIES ('fs.defaultFS' = 'hdfs://x', "
        "'hadoop.username' = 'u')");
    EXPECT_EQ(hdfs.kind, repository_kind::hdfs);
    EXPECT_EQ(error_of("CREATE REPOSITORY r WITH FTP ON LOCATION 'x'"),
              "Getting syntax error at line 1, column 26. Detail message: Unexpected input 'FTP', the most similar "
              "input is {S3, HDFS, BROKER}.");
}

TEST(parser_repository, drop_alter_show) {
    EXPECT_EQ(one<drop_repository_stmt>("DROP REPOSITORY `test_repo`").name, "test_repo");
    auto alter = one<alter_repository_stmt>("ALTER REPOSITORY r PROPERTIES (\"s3.access_key\" = \"k2\")");
    EXPECT_EQ(alter.name, "r");
    EXPECT_EQ(alter.properties.size(), 1u);
    EXPECT_FALSE(one<show_repositories_stmt>("SHOW REPOSITORIES").predicate.where.has_value());
    EXPECT_TRUE(one<show_repositories_stmt>("SHOW REPOSITORIES WHERE RepoName = 'r'").predicate.where.has_value());
}

TEST(parser_backup, old_form_label_with_db_and_bare_tables) {
    auto b = one<backup_stmt>(
        "BACKUP SNAPSHOT example_db.snapshot_label2 TO example_repo ON (example_tbl PARTITION (p1,p2), example_tbl2) "
        "PROPERTIES (\"type\" = \"full\", \"timeout\" = \"3600\")");
    EXPECT_EQ(b.catalogs_scope, catalog_scope::none);
    EXPECT_FALSE(b.database.has_value());
    EXPECT_EQ(b.label, (qualified_name{"example_db", "snapshot_label2"}));
    EXPECT_EQ(b.repository, "example_repo");
    EXPECT_EQ(b.filter, object_filter::on);
    ASSERT_EQ(b.objects.size(), 2u);
    EXPECT_TRUE(b.objects[0].bare);
    EXPECT_EQ(b.objects[0].kind, backup_object_kind::table);
    EXPECT_EQ(b.objects[0].name.name, "example_tbl");
    EXPECT_EQ(b.objects[0].partitions, (names{"p1", "p2"}));
    EXPECT_TRUE(b.objects[1].partitions.empty());
    EXPECT_EQ(b.properties, (property_list{{"type", "full"}, {"timeout", "3600"}}));
}

TEST(parser_backup, v34_database_clause_and_every_object_kind) {
    auto b = one<backup_stmt>(
        "BACKUP DATABASE sr_hub SNAPSHOT lbl TO repo ON (TABLE t PARTITION (p1), TABLES t2, MATERIALIZED VIEW mv, "
        "MATERIALIZED VIEWS mv2, VIEW v, VIEWS v2, FUNCTION f, FUNCTIONS f2, ALL TABLES, ALL TABLE, "
        "ALL MATERIALIZED VIEWS, ALL MATERIALIZED VIEW, ALL VIEWS, ALL VIEW, ALL FUNCTIONS, ALL FUNCTION)");
    EXPECT_EQ(b.database, "sr_hub");
    EXPECT_EQ(b.label, (qualified_name{"", "lbl"}));
    ASSERT_EQ(b.objects.size(), 16u);
    auto expect = [&](size_t i, backup_object_kind kind, bool all, const char* name) {
        SCOPED_TRACE(i);
        EXPECT_EQ(b.objects[i].kind, kind);
        EXPECT_EQ(b.objects[i].all, all);
        EXPECT_FALSE(b.objects[i].bare);
        EXPECT_EQ(b.objects[i].name.name, name);
    };
    expect(0, backup_object_kind::table, false, "t");
    EXPECT_EQ(b.objects[0].partitions, names{"p1"});
    expect(1, backup_object_kind::table, false, "t2");
    expect(2, backup_object_kind::materialized_view, false, "mv");
    expect(3, backup_object_kind::materialized_view, false, "mv2");
    expect(4, backup_object_kind::view, false, "v");
    expect(5, backup_object_kind::view, false, "v2");
    expect(6, backup_object_kind::function, false, "f");
    expect(7, backup_object_kind::function, false, "f2");
    expect(8, backup_object_kind::table, true, "");
    expect(9, backup_object_kind::table, true, "");
    expect(10, backup_object_kind::materialized_view, true, "");
    expect(11, backup_object_kind::materialized_view, true, "");
    expect(12, backup_object_kind::view, true, "");
    expect(13, backup_object_kind::view, true, "");
    expect(14, backup_object_kind::function, true, "");
    expect(15, backup_object_kind::function, true, "");
}

TEST(parser_backup, aliases_are_parsed_even_though_backup_rejects_them) {
    auto b = one<backup_stmt>("BACKUP SNAPSHOT db.l TO r ON (t AS t_new, TABLE t2 PARTITION (p) AS t3, VIEW v AS v2)");
    EXPECT_EQ(b.objects[0].alias, "t_new");
    EXPECT_EQ(b.objects[1].alias, "t3");
    EXPECT_EQ(b.objects[1].partitions, names{"p"});
    EXPECT_EQ(b.objects[2].alias, "v2");
}

TEST(parser_backup, type_words_alone_are_bare_table_names) {
    auto b = one<backup_stmt>("BACKUP SNAPSHOT l TO r ON (views, functions PARTITION (p1), `table`)");
    ASSERT_EQ(b.objects.size(), 3u);
    for (const auto& o : b.objects) {
        EXPECT_TRUE(o.bare);
        EXPECT_EQ(o.kind, backup_object_kind::table);
    }
    EXPECT_EQ(b.objects[0].name.name, "views");
    EXPECT_EQ(b.objects[1].name.name, "functions");
    EXPECT_EQ(b.objects[2].name.name, "table");
}

TEST(parser_backup, external_catalogs) {
    auto one_catalog = one<backup_stmt>("BACKUP EXTERNAL CATALOG (iceberg) SNAPSHOT iceberg_backup TO test_repo");
    EXPECT_EQ(one_catalog.catalogs_scope, catalog_scope::listed);
    ASSERT_EQ(one_catalog.catalogs.size(), 1u);
    EXPECT_EQ(one_catalog.catalogs[0].name, "iceberg");
    auto two = one<backup_stmt>("BACKUP EXTERNAL CATALOGS (iceberg, hive) SNAPSHOT iceberg_hive_backup TO test_repo");
    EXPECT_EQ(two.catalogs.size(), 2u);
    auto all = one<backup_stmt>("BACKUP ALL EXTERNAL CATALOGS SNAPSHOT all_catalog_backup TO test_repo");
    EXPECT_EQ(all.catalogs_scope, catalog_scope::all);
    EXPECT_TRUE(all.catalogs.empty());
    EXPECT_EQ(one<backup_stmt>("BACKUP EXTERNAL CATALOG (c AS d) SNAPSHOT s TO r").catalogs[0].alias, "d");
}

TEST(parser_backup, doris_exclude) {
    auto b = one<backup_stmt>("BACKUP SNAPSHOT db.l TO r EXCLUDE (t1, t2)");
    EXPECT_EQ(b.filter, object_filter::exclude);
    EXPECT_EQ(b.objects.size(), 2u);
    EXPECT_EQ(one<backup_stmt>("BACKUP SNAPSHOT db.l TO r").filter, object_filter::none);
}

TEST(parser_backup, bad_backups) {
    EXPECT_EQ(error_of("BACKUP SNAPSHOT l TO r ON ()"),
              "Getting syntax error at line 1, column 28. Detail message: Unexpected input ')', the most similar "
              "input is {ALL, TABLE, TABLES, ...}.");
    EXPECT_NE(error_of("BACKUP SNAPSHOT l ON (t)").find("Unexpected input 'ON'"), std::string::npos);
    EXPECT_NE(error_of("BACKUP ALL TABLES SNAPSHOT l TO r")
                  .find("Unexpected input 'TABLES', the most similar input is {EXTERNAL}."),
              std::string::npos);
    EXPECT_NE(error_of("BACKUP SNAPSHOT l TO r ON (ALL t)").find("Unexpected input 't'"), std::string::npos);
    EXPECT_NE(error_of("BACKUP SNAPSHOT l TO r ON (MATERIALIZED t)").find("Unexpected input 't'"), std::string::npos);
}

TEST(parser_restore, old_form) {
    auto r = one<restore_stmt>(
        "RESTORE SNAPSHOT sr_hub.sr_member_backup FROM test_repo ON (sr_member PARTITION (p1), t2 AS new_t) "
        "PROPERTIES (\"backup_timestamp\"=\"2023-02-07-14-45-53-143\", \"replication_num\" = \"1\")");
    EXPECT_EQ(r.label, (qualified_name{"sr_hub", "sr_member_backup"}));
    EXPECT_EQ(r.repository, "test_repo");
    EXPECT_FALSE(r.database.has_value());
    ASSERT_EQ(r.objects.size(), 2u);
    EXPECT_TRUE(r.objects[0].bare);
    EXPECT_EQ(r.objects[0].partitions, names{"p1"});
    EXPECT_EQ(r.objects[1].alias, "new_t");
    EXPECT_EQ(r.properties,
              (property_list{{"backup_timestamp", "2023-02-07-14-45-53-143"}, {"replication_num", "1"}}));
}

TEST(parser_restore, v34_database_alias_and_objects) {
    auto r = one<restore_stmt>(
        "RESTORE SNAPSHOT sr_member_backup FROM test_repo DATABASE sr_hub AS sr_hub_new "
        "ON (TABLE sr_member AS sr_member_new, ALL VIEWS) PROPERTIES (\"backup_timestamp\" = \"2024-12-09-10-52-10-940\")");
    EXPECT_EQ(r.label, (qualified_name{"", "sr_member_backup"}));
    EXPECT_EQ(r.database, "sr_hub");
    EXPECT_EQ(r.database_alias, "sr_hub_new");
    ASSERT_EQ(r.objects.size(), 2u);
    EXPECT_FALSE(r.objects[0].bare);
    EXPECT_EQ(r.objects[0].alias, "sr_member_new");
    EXPECT_TRUE(r.objects[1].all);
    EXPECT_EQ(r.objects[1].kind, backup_object_kind::view);
    EXPECT_EQ(one<restore_stmt>("RESTORE SNAPSHOT s FROM `test_repo`").repository, "test_repo");
}

TEST(parser_restore, external_catalogs_with_aliases) {
    auto r = one<restore_stmt>(
        "RESTORE SNAPSHOT iceberg_backup FROM test_repo EXTERNAL CATALOG (iceberg AS iceberg_new, hive) "
        "PROPERTIES (\"backup_timestamp\" = \"2024-12-09-10-52-10-940\")");
    EXPECT_EQ(r.catalogs_scope, catalog_scope::listed);
    ASSERT_EQ(r.catalogs.size(), 2u);
    EXPECT_EQ(r.catalogs[0].alias, "iceberg_new");
    EXPECT_FALSE(r.catalogs[1].alias.has_value());
    EXPECT_EQ(one<restore_stmt>("RESTORE SNAPSHOT s FROM r ALL EXTERNAL CATALOGS").catalogs_scope, catalog_scope::all);
    EXPECT_EQ(one<restore_stmt>("RESTORE SNAPSHOT s FROM r EXCLUDE (t) PROPERTIES (\"a\"=\"b\")").filter,
              object_filter::exclude);
}

TEST(parser_backup_jobs, show_backup_and_restore) {
    auto b = one<show_backup_stmt>("SHOW BACKUP FROM sr_hub WHERE SnapshotName LIKE 'snap%' ORDER BY CreateTime DESC LIMIT 1");
    EXPECT_EQ(b.db, "sr_hub");
    ASSERT_TRUE(b.predicate.where.has_value());
    EXPECT_EQ(to_sql(*b.predicate.where), "SnapshotName LIKE 'snap%'");
    EXPECT_TRUE(b.predicate.order_by[0].descending);
    EXPECT_EQ(b.predicate.limit->count, 1u);
    EXPECT_FALSE(one<show_backup_stmt>("show BACKUP").db.has_value());
    EXPECT_EQ(one<show_backup_stmt>("SHOW BACKUP IN d").db, "d");
    auto r = one<show_restore_stmt>("SHOW RESTORE FROM d WHERE State = 'FINISHED'");
    EXPECT_EQ(r.db, "d");
    EXPECT_FALSE(r.brief);
    EXPECT_TRUE(one<show_restore_stmt>("SHOW BRIEF RESTORE").brief);
}

TEST(parser_backup_jobs, cancel) {
    auto b = one<cancel_backup_stmt>("CANCEL BACKUP FROM sr_hub");
    EXPECT_EQ(b.db, "sr_hub");
    EXPECT_FALSE(b.external_catalog);
    EXPECT_TRUE(one<cancel_backup_stmt>("CANCEL BACKUP FOR EXTERNAL CATALOG").external_catalog);
    EXPECT_FALSE(one<cancel_backup_stmt>("CANCEL BACKUP").db.has_value());
    EXPECT_EQ(one<cancel_restore_stmt>("CANCEL RESTORE IN d").db, "d");
    EXPECT_TRUE(one<cancel_restore_stmt>("CANCEL RESTORE FOR EXTERNAL CATALOG").external_catalog);
}

TEST(parser_backup_jobs, show_snapshot_where_forms) {
    auto s = one<show_snapshot_stmt>("SHOW SNAPSHOT ON test_repo");
    EXPECT_EQ(s.repository, "test_repo");
    EXPECT_FALSE(s.predicate.where.has_value());
    auto eq = one<show_snapshot_stmt>(
        "SHOW SNAPSHOT ON example_repo WHERE SNAPSHOT = \"snapshot_label1\" AND TIMESTAMP = '2018-04-18-19-19-10'");
    EXPECT_EQ(to_sql(*eq.predicate.where), "(SNAPSHOT = 'snapshot_label1') AND (TIMESTAMP = '2018-04-18-19-19-10')");
    auto in = one<show_snapshot_stmt>("SHOW SNAPSHOT ON r WHERE SNAPSHOT IN ('a', 'b')");
    EXPECT_NE(in.predicate.where->as<in_expr>(), nullptr);
}

TEST(parser_backup_jobs, verify_snapshot_show_and_cancel) {
    auto v = one<verify_snapshot_stmt>("ADMIN VERIFY SNAPSHOT my_label ON test_repo");
    EXPECT_EQ(v.label, "my_label");
    EXPECT_EQ(v.repository, "test_repo");
    EXPECT_TRUE(v.properties.empty());
    auto p = one<verify_snapshot_stmt>(
        "admin verify snapshot `l` on r PROPERTIES (\"mode\" = \"full\", \"backup_timestamp\" = \"2024-01-01-00-00-00-000\")");
    ASSERT_EQ(p.properties.size(), 2u);
    EXPECT_EQ(p.properties[0], (std::pair<std::string, std::string>{"mode", "full"}));
    auto s = one<show_verify_stmt>("SHOW VERIFY FROM test_repo WHERE State = 'RUNNING' LIMIT 1");
    EXPECT_EQ(s.repository, "test_repo");
    EXPECT_TRUE(s.predicate.where.has_value());
    EXPECT_FALSE(one<show_verify_stmt>("SHOW VERIFY").repository.has_value());
    EXPECT_EQ(one<cancel_verify_stmt>("CANCEL VERIFY IN r").repository, "r");
    EXPECT_FALSE(one<cancel_verify_stmt>("CANCEL VERIFY").repository.has_value());
    EXPECT_EQ(error_of("ADMIN VERIFY SNAPSHOT l"),
              "Getting syntax error at line 1, column 24. Detail message: Unexpected end of input, expected ON.");
}

TEST(parser_backup_jobs, drop_snapshot_both_variants) {
    auto d = one<drop_snapshot_stmt>("DROP SNAPSHOT my_label ON test_repo FORCE");
    EXPECT_EQ(d.label, "my_label");
    EXPECT_EQ(d.repository, "test_repo");
    EXPECT_TRUE(d.force);
    EXPECT_FALSE(d.where.has_value());
    auto w = one<drop_snapshot_stmt>("DROP SNAPSHOT ON r WHERE SNAPSHOT = 'a' AND TIMESTAMP <= '2024-01-01-00-00-00'");
    EXPECT_FALSE(w.label.has_value());
    EXPECT_TRUE(w.where.has_value());
    EXPECT_FALSE(w.force);
    EXPECT_EQ(error_of("DROP SNAPSHOT ON r"),
              "Getting syntax error at line 1, column 19. Detail message: Unexpected end of input, expected one of "
              "{WHERE, FORCE}.");
}
