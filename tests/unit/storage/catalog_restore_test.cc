// SPDX-License-Identifier: Apache-2.0
// RESTORE's catalog record: a new table with its rowsets and an overwritten partition published
// in one record, replayed and imaged identically; restore_published before and after; a name
// taken meanwhile refused with nothing changed; tables under restore refuse loads and DDL.
#include "load_test_util.hh"

#include <fmt/format.h>

namespace tv::testing {
namespace {

rowset restored_rowset(object_id id, int64_t version, uint64_t rows) {
    rowset rs;
    rs.id = id;
    rs.version = version;
    rs.files.push_back(segment_file{fmt::format("{}_0.dat", id), rows * 10, rows, 0x77 + rows});
    return rs;
}

/// A restore of `t` as `t2` (new, whole) and of t's partition p1 (overwritten) at version 5.
ops::publish_restore plan(catalog& c) {
    const table* t = c.find_table("d", "t");
    ops::publish_restore op;
    op.db = "d";
    table fresh = *t;
    fresh.id = c.allocate_id();
    fresh.name = "t2";
    fresh.indexes[0].id = c.allocate_id();
    fresh.indexes[0].name = "t2";
    for (auto& p : fresh.partitioning.partitions) {
        p.id = c.allocate_id();
        p.visible_version = 5;
        p.tablets = {index_tablets{fresh.indexes[0].id, {c.allocate_id(), c.allocate_id()}}};
    }
    partition p1 = *t->find_partition("p1");
    p1.id = c.allocate_id();
    p1.visible_version = 5;
    p1.tablets = {index_tablets{t->indexes[0].id, {c.allocate_id(), c.allocate_id()}}};
    object_id rs = c.allocate_id();
    for (const auto& p : fresh.partitioning.partitions) {
        op.tablets.push_back(ops::restored_tablet{p.tablets[0].tablet_ids[0], {restored_rowset(rs, 5, 3)}});
    }
    op.tablets.push_back(ops::restored_tablet{p1.tablets[0].tablet_ids[1], {restored_rowset(rs, 4, 2), restored_rowset(rs + 1, 5, 1)}});
    op.tables.push_back(std::move(fresh));
    op.partitions.push_back(ops::restored_partitions{"t", t->id, {std::move(p1)}, {}});
    return op;
}

CO_TEST(CatalogRestore, PublishesEverythingInOneRecordAndReplaysIt) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    object_id old_p2 = c.find_table("d", "t")->find_partition("p2")->id;
    ops::publish_restore op = plan(c);
    CO_ASSERT_OK(co_await c.ensure_ids_durable(c.allocate_id()));
    EXPECT_FALSE(c.restore_published(op));
    uint64_t before = c.last_sequence();
    CO_ASSERT_OK(co_await c.publish_restore(op));
    EXPECT_EQ(c.last_sequence(), before + 1) << "one record";
    EXPECT_TRUE(c.restore_published(op));

    const table* t2 = c.find_table("d", "t2");
    CO_ASSERT_TRUE(t2 != nullptr);
    EXPECT_EQ(t2->find_partition("p1")->visible_version, 5);
    EXPECT_EQ(c.tablet_rowsets(tablets_of(*t2, "p1")[0]).size(), 1u);
    const table* t = c.find_table("d", "t");
    EXPECT_EQ(t->find_partition("p1")->visible_version, 5);
    EXPECT_EQ(t->find_partition("p2")->id, old_p2) << "the other partition is untouched";
    auto p1 = tablets_of(*t, "p1");
    CO_ASSERT_EQ(c.tablet_rowsets(p1[1]).size(), 2u);
    EXPECT_EQ(c.tablet_rowsets(p1[1])[1].version, 5);

    std::string live = c.dump();
    CO_ASSERT_OK(co_await c.close());
    auto replayed = co_await open_catalog(dir.path());
    CO_ASSERT_OK(replayed);
    EXPECT_EQ((*replayed)->dump(), live);
    EXPECT_TRUE((*replayed)->restore_published(op));
    CO_ASSERT_OK(co_await (*replayed)->close());  // writes an image
    auto imaged = co_await open_catalog(dir.path());
    CO_ASSERT_OK(imaged);
    EXPECT_EQ((*imaged)->dump(), live);
    CO_ASSERT_OK(co_await (*imaged)->close());
}

CO_TEST(CatalogRestore, ANameTakenMeanwhileRefusesTheWholeRecord) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    ops::publish_restore op = plan(c);
    CO_ASSERT_OK(co_await c.create_table("d", range_table("t2", "INT", parts(less_than("p1", strs("10"))))));
    std::string before = c.dump();
    CO_ASSERT_CAT_ERROR(co_await c.publish_restore(op), storage_errc::table_exists,
                        "Table 't2' was created while the restore ran; nothing was restored");
    EXPECT_EQ(c.dump(), before);
    EXPECT_FALSE(c.restore_published(op));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRestore, ATableDroppedMeanwhileRefusesTheWholeRecord) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    ops::publish_restore op = plan(c);
    CO_ASSERT_OK(co_await c.drop_table("d", "t"));
    CO_ASSERT_OK(co_await c.create_table("d", range_table("t", "INT", parts(less_than("p1", strs("10"))))));
    std::string before = c.dump();
    CO_ASSERT_CAT_ERROR(co_await c.publish_restore(op), storage_errc::unknown_table,
                        "Table 't' was dropped or recreated while the restore ran; nothing was restored");
    EXPECT_EQ(c.dump(), before);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRestore, TablesUnderRestoreRefuseLoadsAndDdl) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_table("d", range_table("other", "INT", parts(less_than("p1", strs("10"))))));
    CO_ASSERT_OK(co_await c.create_sync_materialized_view("d", "t", "mv1", "select d from t",
                                                          cols(col("d", "INT", false))));
    c.mark_restoring("d", "t", "snap1");
    std::string busy = "Table 't' is being restored by RESTORE job 'snap1'; loads and DDL on it are refused until "
                       "the job ends (SHOW RESTORE)";
    load_publication p;
    p.db = "d";
    p.table = "t";
    p.table_id = c.find_table("d", "t")->id;
    CO_ASSERT_CAT_ERROR(co_await c.publish_load(std::move(p)), storage_errc::bad_definition, busy);
    CO_ASSERT_CAT_ERROR(co_await c.drop_table("d", "t"), storage_errc::bad_definition, busy);
    CO_ASSERT_CAT_ERROR(co_await c.truncate_table("d", "t"), storage_errc::bad_definition, busy);
    CO_ASSERT_CAT_ERROR(co_await c.drop_partition("d", "t", "p2"), storage_errc::bad_definition, busy);
    CO_ASSERT_CAT_ERROR(co_await c.drop_database("d"), storage_errc::bad_definition, busy);
    // Its synchronous materialized views are part of it: the restore publishes their tablets.
    CO_ASSERT_CAT_ERROR(co_await c.drop_materialized_view("d", "mv1"), storage_errc::bad_definition, busy);
    CO_ASSERT_CAT_ERROR(co_await c.create_sync_materialized_view("d", "t", "mv2", "select d from t",
                                                                 cols(col("d", "INT", false))),
                        storage_errc::bad_definition, busy);
    CO_ASSERT_OK(co_await c.truncate_table("d", "other"));
    c.unmark_restoring("d", "t");
    CO_ASSERT_OK(co_await c.truncate_table("d", "t"));
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
