// SPDX-License-Identifier: Apache-2.0
// Tablet data in the catalog: publish_load (versions, overwrite, labels, validation), replay and
// image round trips, torn publish records, DDL dropping rowsets, rowset ids, async MV storage.
#include "io/log.hh"
#include "io/when_all.hh"
#include "load_test_util.hh"

#include <filesystem>
#include <set>

namespace tv::testing {
namespace {

namespace fs = std::filesystem;

rowset fake_rowset(object_id id, std::string name, uint64_t rows) {
    rowset rs;
    rs.id = id;
    rs.files.push_back(segment_file{std::move(name), rows * 10, rows, 0x1234 + rows});
    return rs;
}

load_publication publication(const catalog& c, std::string table, std::string label = "") {
    load_publication p;
    p.db = "d";
    p.table = table;
    p.table_id = c.find_table("d", table) != nullptr ? c.find_table("d", table)->id
                                                      : c.find_materialized_view("d", table)->id;
    p.label = std::move(label);
    return p;
}

CO_TEST(CatalogRowsets, PublishBumpsEachTouchedPartitionOnce) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    const table* t = c.find_table("d", "t");
    auto p1 = tablets_of(*t, "p1");
    auto p2 = tablets_of(*t, "p2");
    CO_ASSERT_EQ(p1.size(), 2u);

    object_id r1 = c.allocate_id();
    auto pub = publication(c, "t", "first");
    pub.rowsets.emplace_back(p1[0], fake_rowset(r1, fmt::format("{}_0.dat", r1), 3));
    pub.rowsets.emplace_back(p1[1], fake_rowset(r1, fmt::format("{}_0.dat", r1), 4));
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    t = c.find_table("d", "t");
    EXPECT_EQ(t->find_partition("p1")->visible_version, 2) << "two tablets of one partition: one version";
    EXPECT_EQ(t->find_partition("p2")->visible_version, 1) << "untouched";
    CO_ASSERT_EQ(c.tablet_rowsets(p1[0]).size(), 1u);
    EXPECT_EQ(c.tablet_rowsets(p1[0])[0].version, 2);
    EXPECT_EQ(c.tablet_rowsets(p1[0])[0].rows(), 3u);
    EXPECT_EQ(c.tablet_rowsets(p1[0])[0].data_size(), 30u);
    EXPECT_TRUE(c.tablet_rowsets(p2[0]).empty());

    object_id r2 = c.allocate_id();
    EXPECT_GT(r2, r1);
    pub = publication(c, "t");
    pub.rowsets.emplace_back(p1[0], fake_rowset(r2, fmt::format("{}_0.dat", r2), 1));
    pub.rowsets.emplace_back(p2[1], fake_rowset(r2, fmt::format("{}_0.dat", r2), 2));
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    t = c.find_table("d", "t");
    EXPECT_EQ(t->find_partition("p1")->visible_version, 3);
    EXPECT_EQ(t->find_partition("p2")->visible_version, 2);
    CO_ASSERT_EQ(c.tablet_rowsets(p1[0]).size(), 2u);
    EXPECT_EQ(c.tablet_rowsets(p1[0])[1].version, 3);
    EXPECT_EQ(c.tablet_rowsets(p2[1])[0].version, 2);
    EXPECT_TRUE(c.label_used("d", "first"));
    EXPECT_FALSE(c.label_used("d", "second"));
    EXPECT_FALSE(c.label_used("other", "first"));

    // Replay from the journal, then from an image: the same state, field for field.
    std::string live = c.dump();
    EXPECT_NE(live.find(fmt::format("tablet {} rowset id={} version=3", p1[0], r2)), std::string::npos) << live;
    EXPECT_NE(live.find("label \"first\""), std::string::npos) << live;
    cat->reset();
    auto replayed = co_await open_catalog(dir.path());
    CO_ASSERT_OK(replayed);
    EXPECT_EQ((*replayed)->dump(), live);
    CO_ASSERT_OK(co_await (*replayed)->close());  // writes an image
    auto imaged = co_await open_catalog(dir.path());
    CO_ASSERT_OK(imaged);
    EXPECT_EQ((*imaged)->dump(), live);
    EXPECT_TRUE((*imaged)->label_used("d", "first")) << "labels survive a restart";
    CO_ASSERT_OK(co_await (*imaged)->close());
}

CO_TEST(CatalogRowsets, OverwriteReplacesEveryTabletOfThePartition) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    const table* t = c.find_table("d", "t");
    auto p1 = tablets_of(*t, "p1");
    auto p2 = tablets_of(*t, "p2");
    object_id r1 = c.allocate_id();
    auto pub = publication(c, "t");
    for (object_id tablet : {p1[0], p1[1], p2[0]}) {
        pub.rowsets.emplace_back(tablet, fake_rowset(r1, fmt::format("{}_0.dat", r1), 5));
    }
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));

    object_id r2 = c.allocate_id();
    pub = publication(c, "t");
    pub.overwritten_partitions = {c.find_table("d", "t")->find_partition("p1")->id};
    pub.rowsets.emplace_back(p1[1], fake_rowset(r2, fmt::format("{}_0.dat", r2), 1));
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    t = c.find_table("d", "t");
    EXPECT_EQ(t->find_partition("p1")->visible_version, 3);
    EXPECT_EQ(t->find_partition("p2")->visible_version, 2);
    EXPECT_TRUE(c.tablet_rowsets(p1[0]).empty());
    CO_ASSERT_EQ(c.tablet_rowsets(p1[1]).size(), 1u);
    EXPECT_EQ(c.tablet_rowsets(p1[1])[0].id, r2);
    EXPECT_EQ(c.tablet_rowsets(p2[0]).size(), 1u) << "another partition keeps its rows";

    // An overwrite with no rows still empties the partition and bumps its version.
    pub = publication(c, "t");
    pub.overwritten_partitions = {c.find_table("d", "t")->find_partition("p1")->id};
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    EXPECT_TRUE(c.tablet_rowsets(p1[1]).empty());
    EXPECT_EQ(c.find_table("d", "t")->find_partition("p1")->visible_version, 4);
    std::string live = c.dump();
    cat->reset();
    auto again = co_await open_catalog(dir.path());
    CO_ASSERT_OK(again);
    EXPECT_EQ((*again)->dump(), live);
    CO_ASSERT_OK(co_await (*again)->close());
}

CO_TEST(CatalogRowsets, PublishValidation) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto p1 = tablets_of(*c.find_table("d", "t"), "p1");
    auto pub = publication(c, "t", "l1");
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    EXPECT_TRUE(c.label_used("d", "l1")) << "a load of no rows still records its label";
    uint64_t seq = c.last_sequence();
    pub = publication(c, "t", "l1");
    CO_ASSERT_CAT_ERROR(co_await c.publish_load(std::move(pub)), storage_errc::bad_definition,
                        "Label [l1] has already been used.");
    EXPECT_EQ(c.last_sequence(), seq);

    pub = publication(c, "t");
    pub.table_id += 1000;
    CO_ASSERT_CAT_ERROR(co_await c.publish_load(std::move(pub)), storage_errc::bad_definition,
                        "Table 't' changed during load: it was dropped and created again");
    pub = publication(c, "t");
    pub.db = "nope";
    CO_ASSERT_CAT_ERROR(co_await c.publish_load(std::move(pub)), storage_errc::unknown_database,
                        "Unknown database 'nope'");

    // A partition truncated during the load: its old tablets are gone.
    auto stale = publication(c, "t");
    stale.rowsets.emplace_back(p1[0], fake_rowset(c.allocate_id(), "x_0.dat", 1));
    CO_ASSERT_OK(co_await c.truncate_table("d", "t", strs("p1")));
    CO_ASSERT_CAT_ERROR(co_await c.publish_load(std::move(stale)), storage_errc::bad_definition,
                        "Table 't' changed during load: a partition or index it wrote to was dropped or truncated");
    auto dropped = publication(c, "t");
    CO_ASSERT_OK(co_await c.drop_table("d", "t"));
    CO_ASSERT_CAT_ERROR(co_await c.publish_load(std::move(dropped)), storage_errc::bad_definition,
                        "Table 't' changed during load: it was dropped");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRowsets, DdlDropsRowsets) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("u", 2)));
    CO_ASSERT_OK(co_await c.create_sync_materialized_view("d", "u", "mv1", "select k from u",
                                                              cols(col("k", "INT", false))));
    auto fill = [&](std::string table) -> io::task<storage_result<void>> {
        auto pub = publication(c, table);
        object_id id = c.allocate_id();
        const storage::table* tt = c.find_table("d", table);
        for (const auto& p : tt->partitioning.partitions) {
            for (const auto& index : p.tablets) {
                for (object_id tablet : index.tablet_ids) {
                    pub.rowsets.emplace_back(tablet, fake_rowset(id, fmt::format("{}_0.dat", id), 1));
                }
            }
        }
        co_return co_await c.publish_load(std::move(pub));
    };
    CO_ASSERT_OK(co_await fill("t"));
    CO_ASSERT_OK(co_await fill("u"));
    const table* t = c.find_table("d", "t");
    auto p1 = tablets_of(*t, "p1");
    auto p2 = tablets_of(*t, "p2");
    const table* u = c.find_table("d", "u");
    auto u_base = tablets_of(*u, "u", 0);
    auto u_mv = tablets_of(*u, "u", 1);
    EXPECT_EQ(c.tablet_rowsets(u_mv[0]).size(), 1u);

    CO_ASSERT_OK(co_await c.drop_partition("d", "t", "p1"));
    EXPECT_TRUE(c.tablet_rowsets(p1[0]).empty());
    EXPECT_FALSE(c.tablet_rowsets(p2[0]).empty());
    CO_ASSERT_OK(co_await c.truncate_table("d", "t"));
    EXPECT_TRUE(c.tablet_rowsets(p2[0]).empty());
    CO_ASSERT_OK(co_await c.drop_materialized_view("d", "mv1"));
    EXPECT_TRUE(c.tablet_rowsets(u_mv[0]).empty());
    EXPECT_FALSE(c.tablet_rowsets(u_base[0]).empty());
    CO_ASSERT_OK(co_await c.drop_table("d", "u"));
    EXPECT_TRUE(c.tablet_rowsets(u_base[0]).empty());
    std::string live = c.dump();
    EXPECT_EQ(live.find("rowset"), std::string::npos) << live;
    cat->reset();
    auto again = co_await open_catalog(dir.path());
    CO_ASSERT_OK(again);
    EXPECT_EQ((*again)->dump(), live);
    CO_ASSERT_OK(co_await (*again)->close());
}

CO_TEST(CatalogRowsets, DropDatabaseDropsRowsets) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto p1 = tablets_of(*c.find_table("d", "t"), "p1");
    auto pub = publication(c, "t");
    pub.rowsets.emplace_back(p1[0], fake_rowset(c.allocate_id(), "a_0.dat", 1));
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    CO_ASSERT_OK(co_await c.drop_database("d"));
    EXPECT_TRUE(c.tablet_rowsets(p1[0]).empty());
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogRowsets, TornPublishLeavesThePreviousVersion) {
    temp_dir dir;
    std::string before;
    size_t good_size = 0;
    {
        auto cat = co_await range_catalog(dir.path());
        CO_ASSERT_OK(cat);
        catalog& c = **cat;
        auto p1 = tablets_of(*c.find_table("d", "t"), "p1");
        object_id id = c.allocate_id();
        CO_ASSERT_OK(co_await c.ensure_ids_durable(id));
        before = c.dump();
        good_size = fs::file_size(dir.file("meta/journal.1"));
        auto pub = publication(c, "t");
        pub.rowsets.emplace_back(p1[0], fake_rowset(id, fmt::format("{}_0.dat", id), 3));
        CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
        EXPECT_EQ(c.find_table("d", "t")->find_partition("p1")->visible_version, 2);
    }
    const std::string full = file_bytes(dir.file("meta/journal.1"));
    CO_ASSERT_LT(good_size, full.size());
    log::level saved = log::current_level();
    log::set_level(log::level::error);
    std::vector<size_t> cuts{good_size + 1, (good_size + full.size()) / 2, full.size() - 1};
    for (size_t cut : cuts) {
        temp_dir copy;
        fs::create_directory(copy.file("meta"));
        put_file(copy.file("meta/journal.1"), full.substr(0, cut));
        auto cat = co_await open_catalog(copy.path());
        CO_ASSERT_OK(cat);
        EXPECT_EQ((*cat)->dump(), before) << "cut at " << cut;
        EXPECT_EQ((*cat)->find_table("d", "t")->find_partition("p1")->visible_version, 1);
    }
    log::set_level(saved);
}

CO_TEST(CatalogRowsets, RowsetIdsAreNeverHandedOutTwice) {
    temp_dir dir;
    object_id durable = 0;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        catalog& c = **cat;
        durable = c.allocate_id();
        uint64_t seq = c.last_sequence();
        CO_ASSERT_OK(co_await c.ensure_ids_durable(durable));
        EXPECT_EQ(c.last_sequence(), seq + 1) << "one record leases a block of ids";
        object_id more = c.allocate_id();
        EXPECT_GT(more, durable);
        CO_ASSERT_OK(co_await c.ensure_ids_durable(more));
        EXPECT_EQ(c.last_sequence(), seq + 1) << "ids from the lease are durable already";
        // New objects never collide with leased ids.
        auto db = co_await c.create_database("d");
        CO_ASSERT_OK(db);
        EXPECT_GT(*db, more);
        // A crash: no close, no image.
    }
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    EXPECT_GT((*cat)->allocate_id(), durable);
    auto db2 = co_await (*cat)->create_database("d2");
    CO_ASSERT_OK(db2);
    EXPECT_GT(*db2, durable);
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(CatalogRowsets, AsyncMaterializedViewStorage) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    materialized_view mv;
    mv.name = "mv";
    mv.query_text = "select k, sum(v) from t group by k";
    mv.refresh.mode = "MANUAL";
    mv.dist = distribution{{"k"}, 3, false};
    mv.columns = cols(col("k", "INT"), col("s", "BIGINT"));
    auto id = co_await c.create_materialized_view("d", mv);
    CO_ASSERT_OK(id);
    const materialized_view* m = c.find_materialized_view("d", "mv");
    CO_ASSERT_TRUE(m != nullptr);
    EXPECT_EQ(m->storage.name, "mv");
    EXPECT_EQ(m->storage.visible_version, 1);
    CO_ASSERT_EQ(m->storage.tablets.size(), 1u);
    EXPECT_EQ(m->storage.tablets[0].index_id, *id);
    EXPECT_EQ(m->storage.tablets[0].tablet_ids.size(), 3u);
    object_id tablet = m->storage.tablets[0].tablet_ids[1];

    // A refresh: the one partition overwritten.
    auto pub = publication(c, "mv");
    pub.overwritten_partitions = {m->storage.id};
    pub.rowsets.emplace_back(tablet, fake_rowset(c.allocate_id(), "r_0.dat", 2));
    CO_ASSERT_OK(co_await c.publish_load(std::move(pub)));
    EXPECT_EQ(c.find_materialized_view("d", "mv")->storage.visible_version, 2);
    EXPECT_EQ(c.tablet_rowsets(tablet).size(), 1u);

    // No columns: no storage, as before.
    materialized_view bare;
    bare.name = "bare";
    bare.query_text = "select 1";
    CO_ASSERT_OK(co_await c.create_materialized_view("d", bare));
    EXPECT_TRUE(c.find_materialized_view("d", "bare")->storage.tablets.empty());

    mv.name = "dup";
    mv.columns = cols(col("k", "INT"), col("K", "BIGINT"));
    CO_ASSERT_CAT_ERROR(co_await c.create_materialized_view("d", mv), storage_errc::duplicate_column,
                        "Duplicate column name 'K'");

    std::string live = c.dump();
    EXPECT_NE(live.find("column \"s\" BIGINT"), std::string::npos) << live;
    cat->reset();
    auto again = co_await open_catalog(dir.path());
    CO_ASSERT_OK(again);
    EXPECT_EQ((*again)->dump(), live);
    CO_ASSERT_OK(co_await (*again)->drop_materialized_view("d", "mv"));
    EXPECT_TRUE((*again)->tablet_rowsets(tablet).empty());
    CO_ASSERT_OK(co_await (*again)->close());
}

io::task<object_id> make_ids_durable(catalog& c, object_id id) {
    auto durable = co_await c.ensure_ids_durable(id);
    EXPECT_TRUE(durable.has_value());
    co_return 0;
}

/// CREATE DATABASE; yields its id, 0 when it failed.
io::task<object_id> create_database(catalog& c, std::string name) {
    auto created = co_await c.create_database(std::move(name));
    EXPECT_TRUE(created.has_value());
    co_return created ? *created : 0;
}

/// Takes `n` ids at once (no suspension between them), into `out`; yields the first.
io::task<object_id> take_ids(catalog& c, int n, std::vector<object_id>* out) {
    for (int i = 0; i < n; ++i) {
        out->push_back(c.allocate_id());
    }
    co_return out->front();
}

// An id taken while the record leasing the next ids is being written (a load starting while
// another one makes its rowset id durable) must not be handed out again once the lease is in
// place: two loads would write the same <rowset>_0.dat into one tablet (found by the soak).
CO_TEST(CatalogRowsets, AnIdTakenWhileALeaseIsJournaledIsNeverHandedOutAgain) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    std::set<object_id> handed;
    object_id first = c.allocate_id();  // beyond any lease: not durable yet
    handed.insert(first);
    // Meanwhile more ids than one lease holds: some come from the lease being journaled, the
    // rest from the counter past it.
    std::vector<object_id> taken;
    std::vector<io::task<object_id>> both;
    both.push_back(make_ids_durable(c, first));  // suspends in the journal write
    both.push_back(take_ids(c, 1500, &taken));   // runs meanwhile
    auto results = co_await io::when_all(std::move(both));
    object_id meanwhile = results[1];
    for (object_id id : taken) {
        EXPECT_TRUE(handed.insert(id).second) << "id " << id << " handed out twice (during the lease's record)";
    }
    for (int i = 0; i < 3000; ++i) {
        object_id id = c.allocate_id();
        EXPECT_TRUE(handed.insert(id).second) << "id " << id << " handed out twice (after " << i << ")";
        CO_ASSERT_OK(co_await c.ensure_ids_durable(id));
    }
    CO_ASSERT_OK(co_await c.ensure_ids_durable(meanwhile));
    CO_ASSERT_OK(co_await c.ensure_ids_durable(taken.back()));
    // Another change journaled while ids are taken past the lease: applying it must not take
    // the counter back (that aborted the process).
    std::vector<object_id> more;
    std::vector<io::task<object_id>> ddl;
    ddl.push_back(create_database(c, "during"));  // suspends in the journal write
    ddl.push_back(take_ids(c, 2000, &more));      // past the lease meanwhile
    auto ddl_results = co_await io::when_all(std::move(ddl));
    EXPECT_NE(ddl_results[0], 0u);
    // Nor may an id taken then be one the DDL's record gives its objects (a restore's plan
    // taking ids while a table is created: two tablets with one id).
    EXPECT_TRUE(handed.insert(ddl_results[0]).second) << "the new database's id " << ddl_results[0]
                                                      << " was handed out during its record";
    for (object_id id : more) {
        EXPECT_TRUE(handed.insert(id).second) << "id " << id << " handed out twice (during DDL)";
    }
    CO_ASSERT_OK(co_await c.ensure_ids_durable(more.back()));
    for (int i = 0; i < 1100; ++i) {
        object_id id = c.allocate_id();
        EXPECT_TRUE(handed.insert(id).second) << "id " << id << " handed out twice";
    }
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
