// SPDX-License-Identifier: Apache-2.0
// Renames in the catalog: one record each, replayed from the journal and from the image to the
// same state; what follows the name (an unpartitioned table's partition, the base index,
// grants) and what does not (materialized views go inactive); a job's hold refuses them; a
// load that began before a rename publishes into the renamed table.
#include "load_test_util.hh"

namespace tv::testing {
namespace {

CO_TEST(CatalogRename, EachIsOneRecordAndReplaysTheSame) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("u", 2)));
    CO_ASSERT_OK(co_await c.create_user("alice", "%", ""));
    std::vector<privilege> select{privilege::select};
    CO_ASSERT_OK(co_await c.grant_privileges("alice", "%", select, "d", "u"));
    object_id u_id = c.find_table("d", "u")->id;

    uint64_t before = c.last_sequence();
    CO_ASSERT_OK(co_await c.rename_table("d", "u", "u2"));
    CO_ASSERT_OK(co_await c.swap_tables("d", "u2", "t"));
    CO_ASSERT_OK(co_await c.rename_partition("d", "u2", "p1", "p_low"));
    CO_ASSERT_OK(co_await c.rename_database("d", "d2"));
    EXPECT_EQ(c.last_sequence(), before + 4) << "one record each";

    const table* t = c.find_table("d2", "t");
    CO_ASSERT_TRUE(t != nullptr);
    EXPECT_EQ(t->id, u_id);
    EXPECT_EQ(t->partitioning.partitions[0].name, "t") << "an unpartitioned table's partition follows it";
    EXPECT_EQ(t->indexes[0].name, "t") << "so does its base index";
    CO_ASSERT_TRUE(c.find_table("d2", "u2") != nullptr);
    EXPECT_TRUE(c.find_table("d2", "u2")->find_partition("p_low") != nullptr);
    EXPECT_EQ(c.find_database("d"), nullptr);
    EXPECT_EQ(c.find_user("alice", "%")->grants.begin()->db, "d2");
    EXPECT_EQ(c.find_user("alice", "%")->grants.begin()->table, "t") << "the grant follows the table";

    std::string live = c.dump();
    CO_ASSERT_OK(co_await c.close());
    auto replayed = co_await open_catalog(dir.path());
    CO_ASSERT_OK(replayed);
    EXPECT_EQ((*replayed)->dump(), live);
    CO_ASSERT_OK(co_await (*replayed)->close());
    auto imaged = co_await open_catalog(dir.path());
    CO_ASSERT_OK(imaged);
    EXPECT_EQ((*imaged)->dump(), live);
    CO_ASSERT_OK(co_await (*imaged)->close());
}

CO_TEST(CatalogRename, ErrorsInStarRocksWords) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("u")));
    CO_ASSERT_OK(co_await c.create_database("e"));
    std::string before = c.dump();
    CO_ASSERT_CAT_ERROR(co_await c.rename_table("d", "u", "t"), storage_errc::table_exists,
                        "Table name[t] is already used");
    CO_ASSERT_CAT_ERROR(co_await c.rename_table("d", "u", "u"), storage_errc::bad_definition, "Same table name");
    CO_ASSERT_CAT_ERROR(co_await c.rename_table("d", "x", "y"), storage_errc::unknown_table, "Unknown table 'd.x'");
    CO_ASSERT_CAT_ERROR(co_await c.swap_tables("d", "u", "x"), storage_errc::unknown_table, "Unknown table 'd.x'");
    CO_ASSERT_CAT_ERROR(co_await c.rename_partition("d", "t", "p9", "p10"), storage_errc::unknown_partition,
                        "Partition[p9] does not exist");
    CO_ASSERT_CAT_ERROR(co_await c.rename_partition("d", "t", "p1", "P2"), storage_errc::partition_exists,
                        "Partition name[P2] is already used");
    CO_ASSERT_CAT_ERROR(co_await c.rename_partition("d", "u", "u", "v"), storage_errc::bad_definition,
                        "Table[u] is single partitioned. no need to rename partition name.");
    CO_ASSERT_CAT_ERROR(co_await c.rename_database("d", "e"), storage_errc::database_exists,
                        "Database name[e] is already used");
    CO_ASSERT_CAT_ERROR(co_await c.rename_database("x", "y"), storage_errc::unknown_database,
                        "Unknown database 'x'");
    EXPECT_EQ(c.dump(), before) << "nothing changed";
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRename, AJobsHoldRefusesRenamesSwapsAndDrops) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("free")));
    c.set_hold_finder([](std::string_view db, std::string_view object) -> std::optional<job_hold> {
        if (db == "d" && (object.empty() || object == "t" || object == "planned")) {
            return job_hold{"BACKUP", "snap1"};
        }
        return std::nullopt;
    });
    std::string held = "Table [t] is under BACKUP job 'snap1': ";
    CO_ASSERT_CAT_ERROR(co_await c.rename_table("d", "t", "t2"), storage_errc::bad_definition,
                        held + "RENAME is refused until the job ends (SHOW BACKUP, or CANCEL BACKUP FROM d)");
    CO_ASSERT_CAT_ERROR(co_await c.rename_table("d", "free", "planned"), storage_errc::bad_definition,
                        "Table [planned] is under BACKUP job 'snap1': RENAME is refused until the job ends "
                        "(SHOW BACKUP, or CANCEL BACKUP FROM d)");
    CO_ASSERT_CAT_ERROR(co_await c.swap_tables("d", "free", "t"), storage_errc::bad_definition,
                        held + "SWAP is refused until the job ends (SHOW BACKUP, or CANCEL BACKUP FROM d)");
    CO_ASSERT_CAT_ERROR(co_await c.drop_table("d", "t"), storage_errc::bad_definition,
                        held + "DROP TABLE is refused until the job ends (SHOW BACKUP, or CANCEL BACKUP FROM d)");
    CO_ASSERT_CAT_ERROR(co_await c.rename_database("d", "d2"), storage_errc::bad_definition,
                        "Database [d] is under BACKUP job 'snap1': RENAME is refused until the job ends (SHOW "
                        "BACKUP, or CANCEL BACKUP FROM d)");
    CO_ASSERT_OK(co_await c.rename_table("d", "free", "free2"));
    c.set_hold_finder({});
    CO_ASSERT_OK(co_await c.rename_table("d", "t", "t2"));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRename, MaterializedViewsOnARenamedTableGoInactive) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    materialized_view mv;
    mv.name = "mv";
    mv.query_text = "SELECT k FROM t";
    mv.base_tables = {"d.t"};
    CO_ASSERT_OK(co_await c.create_materialized_view("d", mv));
    CO_ASSERT_OK(co_await c.rename_table("d", "t", "t2"));
    const materialized_view* got = c.find_materialized_view("d", "mv");
    EXPECT_FALSE(got->active);
    EXPECT_EQ(got->inactive_reason, "base-table renamed: d.t");
    CO_ASSERT_OK(co_await c.rename_table("d", "t2", "t"));
    CO_ASSERT_OK(co_await c.set_materialized_view_active("d", "mv", true));
    // In a renamed database, a view whose query names its tables relative to it follows.
    CO_ASSERT_OK(co_await c.rename_database("d", "d2"));
    got = c.find_materialized_view("d2", "mv");
    EXPECT_TRUE(got->active);
    EXPECT_EQ(got->base_tables, std::vector<std::string>{"d2.t"});
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRename, ALoadBegunBeforeARenamePublishesIntoTheRenamedTable) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    load_publication p;
    p.db = "d";
    p.table = "t";
    p.table_id = c.find_table("d", "t")->id;
    p.label = "l1";
    CO_ASSERT_OK(co_await c.rename_table("d", "t", "t2"));
    CO_ASSERT_OK(co_await c.publish_load(std::move(p)));
    EXPECT_TRUE(c.label_used("d", "l1"));
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
