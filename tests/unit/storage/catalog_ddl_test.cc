// SPDX-License-Identifier: Apache-2.0
// Catalog DDL: databases, tables, truncation, synchronous MVs; their validation and messages.
#include "storage_test_util.hh"

#include "io/when_all.hh"

#include <fmt/format.h>

namespace tv::testing {
namespace {

CO_TEST(CatalogDatabase, CreateDropAndMessages) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto id = co_await c.create_database("d1", props_of("k", "v"));
    CO_ASSERT_OK(id);
    EXPECT_EQ(*id, first_object_id);
    CO_ASSERT_CAT_ERROR(co_await c.create_database("d1"), storage_errc::database_exists,
                        "Can't create database 'd1'; database exists");
    uint64_t seq = c.last_sequence();
    auto again = co_await c.create_database("d1", {}, true);
    CO_ASSERT_OK(again);
    EXPECT_EQ(*again, 0);
    EXPECT_EQ(c.last_sequence(), seq) << "IF NOT EXISTS on an existing database writes nothing";
    CO_ASSERT_OK(co_await c.create_database("D1"));  // names are case-sensitive
    EXPECT_EQ(c.list_databases(), (std::vector<std::string>{"D1", "d1"}));
    EXPECT_EQ(c.find_database("d1")->props, (properties{{"k", "v"}}));
    CO_ASSERT_CAT_ERROR(co_await c.create_database(""), storage_errc::bad_name, "Incorrect database name ''");
    CO_ASSERT_CAT_ERROR(co_await c.drop_database("nope"), storage_errc::unknown_database,
                        "Can't drop database 'nope'; database doesn't exist");
    CO_ASSERT_OK(co_await c.drop_database("nope", true));
    CO_ASSERT_OK(co_await c.drop_database("d1"));
    EXPECT_EQ(c.find_database("d1"), nullptr);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogDatabase, BadNamesAreRefusedWithCappedEscapedMessages) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_CAT_ERROR(co_await c.create_database("   "), storage_errc::bad_name,
                        "Incorrect database name '   ': a name cannot be only spaces");
    CO_ASSERT_CAT_ERROR(co_await c.create_database("\xff\xfe"), storage_errc::bad_name,
                        "Incorrect database name '\\xFF\\xFE': not valid UTF-8");
    CO_ASSERT_CAT_ERROR(co_await c.create_database("a\nb"), storage_errc::bad_name, "Incorrect database name 'a\\nb'");
    CO_ASSERT_CAT_ERROR(co_await c.create_database(std::string(10000, 'n')), storage_errc::bad_name,
                        "Incorrect database name '" + std::string(100, 'n') + "...': longer than 256 bytes");
    CO_ASSERT_CAT_ERROR(co_await c.create_user("root ", "%", "", false), storage_errc::bad_name,
                        "Incorrect user name 'root ': a name cannot end with a space");
    CO_ASSERT_OK(co_await c.create_database(" leading"));
    CO_ASSERT_OK(co_await c.create_database("caf\xc3\xa9"));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogExternal, PropertiesHaveLimits) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    properties many{{"type", "hive"}};
    for (int i = 0; i < 100; ++i) {
        many.emplace_back(fmt::format("p{}", i), "v");
    }
    CO_ASSERT_CAT_ERROR(co_await c.create_external_catalog("c", "", many), storage_errc::bad_definition,
                        "External catalog 'c' has 101 properties; at most 100 are allowed");
    properties big{{"type", "hive"}, {"jdbc.pwd", std::string(64 * 1024 + 1, 'x')}};
    CO_ASSERT_CAT_ERROR(co_await c.create_external_catalog("c", "", big), storage_errc::bad_definition,
                        "Property 'jdbc.pwd' of external catalog 'c' is 65537 bytes; at most 65536 are allowed");
    properties long_name{{"type", "hive"}, {std::string(2000, 'k'), "v"}};
    CO_ASSERT_CAT_ERROR(co_await c.create_external_catalog("c", "", long_name), storage_errc::bad_definition,
                        "Property name '" + std::string(100, 'k') +
                            "...' of external catalog 'c' is 2000 bytes; at most 1024 are allowed");
    many.pop_back();
    big.back().second.pop_back();
    CO_ASSERT_OK(co_await c.create_external_catalog("c", "", many));
    CO_ASSERT_OK(co_await c.create_external_catalog("d", "", big));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogTable, CreateBuildsIndexPartitionAndTablets) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    auto def = simple_table("t", 3);
    def.comment = "a table";
    def.props = {{"replication_num", "1"}, {"storage_medium", "SSD"}, {"zzz", "kept as written"}};
    def.columns[1].comment = "value";
    def.columns[1].default_value = column_default{default_kind::literal, "x"};
    auto id = co_await c.create_table("d", def);
    CO_ASSERT_OK(id);
    const table* t = c.find_table("d", "t");
    CO_ASSERT_TRUE(t != nullptr);
    EXPECT_EQ(t->id, *id);
    EXPECT_EQ(t->comment, "a table");
    EXPECT_EQ(t->props, def.props);
    EXPECT_EQ(t->key_columns, (std::vector<std::string>{"k"}));
    EXPECT_TRUE(t->columns[0].is_key);
    EXPECT_FALSE(t->columns[1].is_key);
    EXPECT_EQ(t->columns[1].default_value->text, "x");
    CO_ASSERT_EQ(t->indexes.size(), 1u);
    EXPECT_EQ(t->indexes[0].name, "t");
    EXPECT_EQ(t->partitioning.kind, partition_kind::none);
    CO_ASSERT_EQ(t->partitioning.partitions.size(), 1u);
    const partition& p = t->partitioning.partitions[0];
    EXPECT_EQ(p.name, "t");  // an unpartitioned table has one partition named as the table
    EXPECT_EQ(p.visible_version, 1);
    EXPECT_EQ(p.buckets, 3);
    CO_ASSERT_EQ(p.tablets.size(), 1u);
    EXPECT_EQ(p.tablets[0].index_id, t->indexes[0].id);
    EXPECT_EQ(p.tablets[0].tablet_ids.size(), 3u);
    // Every object its own id from the one counter.
    std::set<object_id> ids{t->id, t->indexes[0].id, p.id};
    ids.insert(p.tablets[0].tablet_ids.begin(), p.tablets[0].tablet_ids.end());
    EXPECT_EQ(ids.size(), 6u);
    EXPECT_EQ(c.next_id(), *std::max_element(ids.begin(), ids.end()) + 1);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogTable, ExistsUnknownAndDrop) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("t")));
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", simple_table("t")), storage_errc::table_exists,
                        "Table 't' already exists");
    auto again = co_await c.create_table("d", simple_table("t"), true);
    CO_ASSERT_OK(again);
    EXPECT_EQ(*again, 0);
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("T")));  // case-sensitive
    CO_ASSERT_CAT_ERROR(co_await c.create_table("nodb", simple_table("t")), storage_errc::unknown_database,
                        "Unknown database 'nodb'");
    CO_ASSERT_CAT_ERROR(co_await c.drop_table("d", "nope"), storage_errc::unknown_table, "Unknown table 'd.nope'");
    CO_ASSERT_CAT_ERROR(co_await c.drop_table("nodb", "t"), storage_errc::unknown_database, "Unknown database 'nodb'");
    CO_ASSERT_OK(co_await c.drop_table("d", "nope", true));
    CO_ASSERT_OK(co_await c.drop_table("d", "t"));
    EXPECT_EQ(c.find_table("d", "t"), nullptr);
    EXPECT_NE(c.find_table("d", "T"), nullptr);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogTable, IdsAreNeverReused) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    std::set<object_id> seen;
    CO_ASSERT_OK(co_await (*cat)->create_database("d"));
    for (int round = 0; round < 3; ++round) {
        auto id = co_await (*cat)->create_table("d", simple_table("t"));
        CO_ASSERT_OK(id);
        const table* t = (*cat)->find_table("d", "t");
        for (object_id x : {t->id, t->indexes[0].id, t->partitioning.partitions[0].id}) {
            EXPECT_TRUE(seen.insert(x).second) << "id " << x << " reused";
        }
        CO_ASSERT_OK(co_await (*cat)->drop_table("d", "t"));
        CO_ASSERT_OK(co_await (*cat)->drop_database("d"));
        auto db = co_await (*cat)->create_database("d");
        CO_ASSERT_OK(db);
        EXPECT_TRUE(seen.insert(*db).second);
    }
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(CatalogTable, SchemaValidation) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));

    auto dup = simple_table("t");
    dup.columns.push_back(col("K", "INT"));
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", dup), storage_errc::duplicate_column, "Duplicate column name 'K'");

    auto not_prefix = simple_table("t");
    not_prefix.key_columns = {"v"};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", not_prefix), storage_errc::bad_definition,
                        "Key columns should be a ordered prefix of the schema.");

    auto missing_key = simple_table("t");
    missing_key.key_columns = {"x"};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", missing_key), storage_errc::bad_definition,
                        "Key column 'x' does not exist in table 't'");

    auto float_key = simple_table("t");
    float_key.columns[0] = col("k", "DOUBLE");
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", float_key), storage_errc::bad_definition,
                        "Float or double can not used as a key, use decimal instead.");

    auto pk_nullable = simple_table("t");
    pk_nullable.keys = key_model::primary;
    pk_nullable.columns[0].nullable = true;
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", pk_nullable), storage_errc::bad_definition,
                        "Primary key column 'k' can not be nullable");

    auto unique_no_keys = simple_table("t");
    unique_no_keys.keys = key_model::unique;
    unique_no_keys.key_columns.clear();
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", unique_no_keys), storage_errc::bad_definition,
                        "Key columns must be specified for UNIQUE KEY tables");

    auto agg_no_agg = simple_table("t");
    agg_no_agg.keys = key_model::aggregate;
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", agg_no_agg), storage_errc::bad_definition,
                        "Value column 'v' of an AGGREGATE KEY table needs an aggregation (SUM, MIN, MAX, REPLACE, "
                        "REPLACE_IF_NOT_NULL)");

    auto sum_on_text = agg_no_agg;
    sum_on_text.columns[1].agg = aggregation::sum;
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", sum_on_text), storage_errc::bad_definition,
                        "SUM can not be used on VARCHAR(20) column 'v'");

    auto agg_in_dup = simple_table("t");
    agg_in_dup.columns[1].agg = aggregation::max;
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", agg_in_dup), storage_errc::bad_definition,
                        "Aggregation MAX of column 'v' is only allowed in AGGREGATE KEY tables");

    auto random_unique = simple_table("t");
    random_unique.keys = key_model::unique;
    random_unique.dist = distribution{{}, 2, true};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", random_unique), storage_errc::bad_definition,
                        "Random distribution is only supported for DUPLICATE KEY tables, not UNIQUE KEY");

    auto hash_on_value = simple_table("t");
    hash_on_value.keys = key_model::unique;
    hash_on_value.dist = distribution{{"v"}, 2, false};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", hash_on_value), storage_errc::bad_definition,
                        "Distribution column 'v' must be a key column of a UNIQUE KEY table");

    auto too_many = simple_table("t", 5000);
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", too_many), storage_errc::bad_definition,
                        "Number of buckets should be between 1 and 1024, got 5000");

    auto bad_default = simple_table("t");
    bad_default.columns[0].default_value = column_default{default_kind::literal, "abc"};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", bad_default), storage_errc::bad_definition,
                        "Invalid default value for 'k': Invalid INT value: 'abc'");
    bad_default.columns[0].default_value = column_default{default_kind::null, ""};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", bad_default), storage_errc::bad_definition,
                        "Invalid default value for 'k': the column is NOT NULL");
    bad_default.columns[0].default_value = column_default{default_kind::current_timestamp, ""};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", bad_default), storage_errc::bad_definition,
                        "Invalid default value for 'k': CURRENT_TIMESTAMP needs a DATETIME column");

    auto bad_replication = simple_table("t");
    bad_replication.props = {{"replication_num", "zero"}};
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", bad_replication), storage_errc::bad_definition,
                        "Invalid replication_num: 'zero'");

    auto no_columns = simple_table("t");
    no_columns.columns.clear();
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", no_columns), storage_errc::bad_definition,
                        "Table 't' must have at least one column");

    EXPECT_EQ(c.last_sequence(), 1u) << "no failed statement reached the journal";
    EXPECT_EQ(c.next_id(), first_object_id + 1) << "no failed statement consumed ids";
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogTable, ModelDefaults) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));

    // DUPLICATE KEY with no key: up to three leading columns that can be keys, RANDOM, 1 bucket.
    table_definition dup;
    dup.name = "dup";
    dup.columns = {col("a", "INT"), col("b", "DATE"), col("c", "FLOAT"), col("e", "INT")};
    CO_ASSERT_OK(co_await c.create_table("d", dup));
    const table* t = c.find_table("d", "dup");
    EXPECT_EQ(t->key_columns, (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(t->dist.random);
    EXPECT_EQ(t->dist.buckets, default_buckets);

    // AGGREGATE KEY with no key: the columns without aggregation; HASH(keys) by default.
    table_definition agg;
    agg.name = "agg";
    agg.keys = key_model::aggregate;
    agg.columns = {col("k1", "INT"), col("k2", "VARCHAR(5)"), col("s", "BIGINT", true, aggregation::sum),
                   col("r", "STRING", true, aggregation::replace)};
    CO_ASSERT_OK(co_await c.create_table("d", agg));
    t = c.find_table("d", "agg");
    EXPECT_EQ(t->key_columns, (std::vector<std::string>{"k1", "k2"}));
    EXPECT_FALSE(t->dist.random);
    EXPECT_EQ(t->dist.columns, (std::vector<std::string>{"k1", "k2"}));
    EXPECT_EQ(t->columns[2].agg, aggregation::sum);

    // Key names resolve case-insensitively to the schema's spelling.
    table_definition pk;
    pk.name = "pk";
    pk.keys = key_model::primary;
    pk.columns = {col("Id", "BIGINT", false), col("v", "JSON")};
    pk.key_columns = {"id"};
    pk.dist = distribution{{"ID"}, 4, false};
    CO_ASSERT_OK(co_await c.create_table("d", pk));
    t = c.find_table("d", "pk");
    EXPECT_EQ(t->key_columns, (std::vector<std::string>{"Id"}));
    EXPECT_EQ(t->dist.columns, (std::vector<std::string>{"Id"}));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogTable, TruncateRenewsPartitionsAndTablets) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    CO_ASSERT_OK(co_await c.create_table(
        "d", range_table("r", "INT", parts(less_than("p1", strs("10")), less_than("p2", strs("20"))))));
    table before = *c.find_table("d", "r");
    CO_ASSERT_OK(co_await c.truncate_table("d", "r", strs("P2")));  // partition names are case-insensitive
    const table* after = c.find_table("d", "r");
    EXPECT_EQ(after->partitioning.partitions[0].id, before.partitioning.partitions[0].id);
    const partition& old2 = before.partitioning.partitions[1];
    const partition& new2 = after->partitioning.partitions[1];
    EXPECT_EQ(new2.name, "p2");
    EXPECT_GT(new2.id, before.partitioning.partitions[1].id);
    EXPECT_EQ(new2.upper, old2.upper);
    EXPECT_EQ(new2.tablets[0].tablet_ids.size(), old2.tablets[0].tablet_ids.size());
    EXPECT_NE(new2.tablets[0].tablet_ids, old2.tablets[0].tablet_ids);
    CO_ASSERT_OK(co_await c.truncate_table("d", "r"));
    EXPECT_GT(c.find_table("d", "r")->partitioning.partitions[0].id, before.partitioning.partitions[0].id);
    CO_ASSERT_CAT_ERROR(co_await c.truncate_table("d", "r", strs("p9")), storage_errc::unknown_partition,
                        "Partition p9 does not exist");
    CO_ASSERT_CAT_ERROR(co_await c.truncate_table("d", "x"), storage_errc::unknown_table, "Unknown table 'd.x'");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogTable, SyncMaterializedViewIsAnIndexWithTablets) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    CO_ASSERT_OK(co_await c.create_table("d", range_table("r", "INT", parts(less_than("p1", strs("10"))))));
    auto mv = co_await c.create_sync_materialized_view("d", "r", "mv1", "SELECT d, SUM(v) FROM r GROUP BY d",
                                                       cols(col("d", "INT", false), col("sum_v", "BIGINT")));
    CO_ASSERT_OK(mv);
    const table* t = c.find_table("d", "r");
    CO_ASSERT_EQ(t->indexes.size(), 2u);
    EXPECT_EQ(t->indexes[1].id, *mv);
    EXPECT_EQ(t->indexes[1].query_text, "SELECT d, SUM(v) FROM r GROUP BY d");
    CO_ASSERT_EQ(t->partitioning.partitions[0].tablets.size(), 2u);
    EXPECT_EQ(t->partitioning.partitions[0].tablets[1].index_id, *mv);
    EXPECT_EQ(t->partitioning.partitions[0].tablets[1].tablet_ids.size(), 2u);
    // A partition added later gets tablets for both indexes.
    CO_ASSERT_OK(co_await c.add_partition("d", "r", less_than("p2", strs("20"))));
    EXPECT_EQ(c.find_table("d", "r")->partitioning.partitions[1].tablets.size(), 2u);
    CO_ASSERT_CAT_ERROR(co_await c.create_sync_materialized_view("d", "r", "mv1", "q", cols(col("d", "INT"))),
                        storage_errc::table_exists, "Materialized view 'mv1' already exists");
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", simple_table("mv1")), storage_errc::table_exists,
                        "Table 'mv1' already exists");
    CO_ASSERT_OK(co_await c.drop_materialized_view("d", "mv1"));
    t = c.find_table("d", "r");
    EXPECT_EQ(t->indexes.size(), 1u);
    for (const auto& p : t->partitioning.partitions) {
        EXPECT_EQ(p.tablets.size(), 1u);
    }
    CO_ASSERT_CAT_ERROR(co_await c.drop_materialized_view("d", "mv1"), storage_errc::unknown_materialized_view,
                        "Unknown materialized view 'd.mv1'");
    CO_ASSERT_CAT_ERROR(co_await c.drop_materialized_view("d", "r"), storage_errc::wrong_object_type,
                        "'d.r' is not MATERIALIZED VIEW");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogConcurrency, ChangesOnOneLoopAreSerialized) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    // Five sessions create the same database at once: each change validates only after the
    // previous one is journaled and applied, so exactly one wins.
    std::vector<io::task<storage_result<object_id>>> same;
    for (int i = 0; i < 5; ++i) {
        same.push_back(c.create_database("same"));
    }
    auto results = co_await io::when_all(std::move(same));
    int won = 0;
    for (const auto& r : results) {
        if (r.has_value()) {
            ++won;
        } else {
            EXPECT_EQ(r.error().code, storage_errc::database_exists);
        }
    }
    EXPECT_EQ(won, 1);
    std::vector<io::task<storage_result<object_id>>> distinct;
    for (int i = 0; i < 5; ++i) {
        distinct.push_back(c.create_database(fmt::format("d{}", i)));
    }
    auto created = co_await io::when_all(std::move(distinct));
    std::set<object_id> ids;
    for (const auto& r : created) {
        CO_ASSERT_OK(r);
        ids.insert(*r);
    }
    EXPECT_EQ(ids.size(), 5u);
    EXPECT_EQ(c.last_sequence(), 6u);
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
