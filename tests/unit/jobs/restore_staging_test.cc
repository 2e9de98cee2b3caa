// SPDX-License-Identifier: Apache-2.0
// RESTORE's plan against a real catalog: a new database and table get new ids everywhere and
// the snapshot's files new names (one new rowset id per backed-up rowset) with versions ending
// at the partition's; an existing matching table gets its partitions replaced (and is locked),
// a missing partition with a free range is added; StarRocks' refusals for a different column,
// other key columns, a synchronous MV with other columns,
// an overlapping range and a different range; the plan's JSON round trip.
#include "jobs/restore_staging.hh"
#include "unit/storage/load_test_util.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace tv::testing {
namespace {

/// A snapshot of d.t as the catalog has it, p1 at version 3 with rowsets 500 and 600 in its
/// first tablet and 500 in its second.
jobs::snapshot_contents snapshot_of(const catalog& c) {
    jobs::snapshot_contents s;
    s.info.name = "snap";
    s.info.database = "d";
    s.meta.objects = *c.find_database("d");
    storage::table& t = s.meta.objects.tables.at("t");
    t.partitioning.partitions[0].visible_version = 3;
    auto tablets = tablets_of(t, "p1");
    auto file = [&](object_id tablet, std::string name, uint64_t size) {
        jobs::manifest_file f;
        f.db = "d";
        f.table = "t";
        f.partition = "p1";
        f.index = "t";
        f.tablet_id = static_cast<uint64_t>(tablet);
        f.name = std::move(name);
        f.size = size;
        f.rows = 1;
        f.hash = pipeline::xxh3_128({});
        f.segment_checksum = 42;
        f.key = "repo/__data/c/" + std::to_string(tablet) + "/" + f.name;
        return f;
    };
    s.manifest.files = {file(tablets[0], "500_0.dat", 100), file(tablets[0], "600_0.dat", 50),
                        file(tablets[1], "500_0.dat", 70)};
    return s;
}

jobs::restore_selection select_t(std::string db, std::string local = "t") {
    jobs::restore_selection s;
    s.target_db = std::move(db);
    s.tables.push_back(jobs::restored_object{"t", std::move(local), {}});
    return s;
}

CO_TEST(RestoreStaging, ANewDatabaseAndTableGetNewIdsNamesAndVersions) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto snapshot = snapshot_of(c);
    auto plan = jobs::stage_restore(c, snapshot, select_t("d2", "t_new"));
    CO_ASSERT_TRUE(plan.has_value());
    CO_ASSERT_TRUE(plan->commit.new_database.has_value());
    EXPECT_EQ(plan->commit.new_database->name, "d2");
    CO_ASSERT_EQ(plan->commit.tables.size(), 1u);
    const storage::table& t = plan->commit.tables[0];
    EXPECT_EQ(t.name, "t_new");
    EXPECT_EQ(t.indexes[0].name, "t_new");
    const storage::table& source = snapshot.meta.objects.tables.at("t");
    EXPECT_NE(t.id, source.id);
    std::set<object_id> source_tablets;
    for (const auto& p : source.partitioning.partitions) {
        for (object_id id : p.tablets[0].tablet_ids) {
            source_tablets.insert(id);
        }
    }
    for (const auto& p : t.partitioning.partitions) {
        EXPECT_EQ(p.tablets[0].index_id, t.indexes[0].id);
        for (object_id id : p.tablets[0].tablet_ids) {
            EXPECT_FALSE(source_tablets.contains(id)) << "tablet " << id << " kept its source id";
        }
    }
    EXPECT_TRUE(plan->locked_tables.empty()) << "nothing existing is overwritten";

    CO_ASSERT_EQ(plan->files.size(), 3u);
    // One new rowset id per backed-up rowset, shared across tablets, and versions ending at 3.
    EXPECT_EQ(plan->files[0].name, plan->files[2].name);
    EXPECT_NE(plan->files[0].name, plan->files[1].name);
    EXPECT_NE(plan->files[0].name, "500_0.dat");
    CO_ASSERT_EQ(plan->commit.tablets.size(), 2u);
    const auto& first = plan->commit.tablets[0];
    CO_ASSERT_EQ(first.rowsets.size(), 2u);
    EXPECT_EQ(first.rowsets[0].version, 2);
    EXPECT_EQ(first.rowsets[1].version, 3);
    EXPECT_EQ(first.rowsets[0].files[0].checksum, 42u);
    EXPECT_EQ(plan->commit.tablets[1].rowsets[0].version, 2);

    auto decoded = jobs::decode_staging(jobs::encode_staging(*plan));
    CO_ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(jobs::encode_staging(*decoded), jobs::encode_staging(*plan));
    EXPECT_FALSE(jobs::decode_staging("{\"commit\": 1}").has_value());
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RestoreStaging, AMatchingTableHasItsPartitionsReplacedOrAdded) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto snapshot = snapshot_of(c);
    storage::table& source = snapshot.meta.objects.tables.at("t");
    storage::partition p3 = source.partitioning.partitions[1];
    p3.name = "p3";
    p3.lower = {"20"};
    p3.upper = {"30"};
    source.partitioning.partitions.push_back(p3);
    auto plan = jobs::stage_restore(c, snapshot, select_t("d"));
    CO_ASSERT_TRUE(plan.has_value());
    EXPECT_FALSE(plan->commit.new_database.has_value());
    EXPECT_TRUE(plan->commit.tables.empty());
    CO_ASSERT_EQ(plan->commit.partitions.size(), 1u);
    const auto& change = plan->commit.partitions[0];
    EXPECT_EQ(change.table_id, c.find_table("d", "t")->id);
    EXPECT_EQ(change.replaced.size(), 2u);
    CO_ASSERT_EQ(change.added.size(), 1u);
    EXPECT_EQ(change.added[0].name, "p3");
    EXPECT_EQ(plan->locked_tables, std::vector<std::string>{"t"});
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RestoreStaging, RefusesWhatDoesNotMatch) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto refusal = [&](jobs::snapshot_contents s) {
        auto plan = jobs::stage_restore(c, s, select_t("d"));
        return plan ? std::string("accepted") : plan.error().message;
    };
    auto other_type = snapshot_of(c);
    other_type.meta.objects.tables.at("t").columns[1].type.kind = storage::type_kind::int_;
    EXPECT_EQ(refusal(other_type), "Table t already exist but column: v BIGINT in existed table is different from "
                                   "the column in backup snapshot, column: v INT");
    auto other_keys = snapshot_of(c);
    other_keys.meta.objects.tables.at("t").keys = storage::key_model::unique;
    EXPECT_EQ(refusal(other_keys), "Table t already exist but with different key type");
    auto other_range = snapshot_of(c);
    other_range.meta.objects.tables.at("t").partitioning.partitions[1].upper = {"25"};
    EXPECT_EQ(refusal(other_range), "Partition p2 in table t has different range with partition in repository");
    auto overlapping = snapshot_of(c);
    storage::partition p3 = overlapping.meta.objects.tables.at("t").partitioning.partitions[1];
    p3.name = "p3";
    p3.lower = {"15"};
    p3.upper = {"30"};
    overlapping.meta.objects.tables.at("t").partitioning.partitions.push_back(p3);
    EXPECT_EQ(refusal(overlapping), "Partition p3 in table t has conflict range with existing ranges");
    // The same columns, keyed differently: the files' rows would merge (or sort) by other keys.
    auto other_key_columns = snapshot_of(c);
    auto& keyed = other_key_columns.meta.objects.tables.at("t");
    keyed.key_columns.push_back(keyed.columns.back().name);
    EXPECT_EQ(refusal(other_key_columns), "Table t already exist but with different schema, errMsg: its key columns "
                                          "are (d), the snapshot's table's (d, v)");
    // Names compare as StarRocks compares them, case-insensitively.
    auto upper_case_partition_column = snapshot_of(c);
    for (auto& name : upper_case_partition_column.meta.objects.tables.at("t").partitioning.columns) {
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::toupper(ch); });
    }
    EXPECT_EQ(refusal(upper_case_partition_column), "accepted");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RestoreStaging, EveryFileOfAManifestIsStagedUnderANameOfItsOwn) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    // "05_0.dat" is not rowset 5 as we write it: a rowset of its own, beside "500_0.dat".
    auto padded = snapshot_of(c);
    padded.manifest.files.push_back(padded.manifest.files[0]);
    padded.manifest.files.back().name = "0500_0.dat";
    auto plan = jobs::stage_restore(c, padded, select_t("d2"));
    CO_ASSERT_TRUE(plan.has_value());
    std::set<std::pair<int64_t, std::string>> staged;
    for (const auto& f : plan->files) {
        EXPECT_TRUE(staged.emplace(f.tablet_id, f.name).second) << f.name;
    }
    EXPECT_EQ(staged.size(), 4U);
    // The same file twice: both would write one staged file.
    auto doubled = snapshot_of(c);
    doubled.manifest.files.push_back(doubled.manifest.files[1]);
    auto refused = jobs::stage_restore(c, doubled, select_t("d2"));
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().message, fmt::format("The snapshot's manifest lists file 600_0.dat of tablet {} twice",
                                                   doubled.manifest.files[1].tablet_id));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(RestoreStaging, RefusesASynchronousMaterializedViewOfTheSameNameWithOtherColumns) {
    temp_dir dir;
    auto cat = co_await range_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_sync_materialized_view("d", "t", "mv1", "select d from t",
                                                          cols(col("d", "INT", false))));
    auto same = snapshot_of(c);
    auto same_plan = jobs::stage_restore(c, same, select_t("d"));
    EXPECT_TRUE(same_plan.has_value()) << same_plan.error().message;
    auto other = snapshot_of(c);
    storage::materialized_index& index = other.meta.objects.tables.at("t").indexes.at(1);
    index.columns.at(0).type.kind = storage::type_kind::bigint;
    auto refused = jobs::stage_restore(c, other, select_t("d"));
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().message, "Table t already exist but with different schema, errMsg: its materialized "
                                       "index mv1 has other columns than the snapshot's");
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
