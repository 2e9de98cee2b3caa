// SPDX-License-Identifier: Apache-2.0
// RESTORE's choice of objects from a snapshot: everything, or what ON names (with AS renames and
// partitions), into which database; StarRocks' messages for what the snapshot does not hold,
// for duplicates, and for external-catalog snapshots.
#include "jobs/restore_plan.hh"

#include <gtest/gtest.h>

namespace jobs = tv::jobs;
namespace storage = tv::storage;

namespace {

jobs::snapshot_contents database_snapshot() {
    jobs::snapshot_contents s;
    s.info.name = "l";
    s.info.database = "d";
    storage::database& d = s.meta.objects;
    d.name = "d";
    for (std::string name : {"t1", "t2"}) {
        storage::table t;
        t.name = name;
        for (std::string p : {"p1", "p2"}) {
            storage::partition part;
            part.name = p;
            t.partitioning.partitions.push_back(part);
        }
        d.tables.emplace(name, t);
    }
    storage::view v;
    v.name = "v";
    d.views.emplace("v", v);
    storage::materialized_view m;
    m.name = "m";
    d.mvs.emplace("m", m);
    storage::function f;
    f.name = "f";
    d.functions.push_back(f);
    f.arg_types = {"INT"};
    d.functions.push_back(f);  // an overload: one restored name
    return s;
}

jobs::requested_object object(jobs::object_kind kind, std::string name, std::vector<std::string> partitions = {},
                              std::optional<std::string> alias = {}) {
    jobs::requested_object o;
    o.kind = kind;
    o.name = std::move(name);
    o.partitions = std::move(partitions);
    o.alias = std::move(alias);
    return o;
}

std::string refusal(const jobs::snapshot_contents& s, const jobs::restore_request& r) {
    auto selected = jobs::select_restore(s, r);
    return selected ? std::string("accepted") : selected.error().message;
}

}  // namespace

TEST(restore_plan, without_on_everything_into_the_snapshots_database) {
    jobs::restore_request r;
    r.label = "l";
    auto s = jobs::select_restore(database_snapshot(), r);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(s->target_db, "d");
    EXPECT_EQ(s->objects_text, "t1, t2, m, v, f");
    r.target_db = "d2";
    EXPECT_EQ(jobs::select_restore(database_snapshot(), r)->target_db, "d2");
}

TEST(restore_plan, on_names_objects_partitions_and_renames) {
    jobs::restore_request r;
    r.label = "l";
    r.snapshot_db = "d";
    r.objects = {object(jobs::object_kind::table, "t1", {"p1"}, "t9"), object(jobs::object_kind::view, "v", {}, "v2"),
                 object(jobs::object_kind::materialized_view, "m"), object(jobs::object_kind::function, "f")};
    auto s = jobs::select_restore(database_snapshot(), r);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    ASSERT_EQ(s->tables.size(), 1u);
    EXPECT_EQ(s->tables[0].local_name, "t9");
    EXPECT_EQ(s->tables[0].partitions, std::vector<std::string>{"p1"});
    EXPECT_EQ(s->objects_text, "t1 PARTITIONS [p1] AS t9, m, v AS v2, f");

    jobs::requested_object bare = object(jobs::object_kind::table, "v");
    bare.bare = true;
    r.objects = {bare};
    s = jobs::select_restore(database_snapshot(), r);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(s->views.size(), 1u) << "the old form's bare name finds a view";

    jobs::requested_object all_tables = object(jobs::object_kind::table, "");
    all_tables.all = true;
    r.objects = {all_tables};
    EXPECT_EQ(jobs::select_restore(database_snapshot(), r)->objects_text, "t1, t2");
}

TEST(restore_plan, starrocks_messages_for_what_the_snapshot_does_not_hold) {
    auto s = database_snapshot();
    jobs::restore_request r;
    r.label = "l";
    r.objects = {object(jobs::object_kind::table, "nope")};
    EXPECT_EQ(refusal(s, r), "Table nope does not exist in snapshot l");
    r.objects = {object(jobs::object_kind::table, "t1", {"p9"})};
    EXPECT_EQ(refusal(s, r), "Partition p9 of table t1 does not exist in snapshot l");
    r.objects = {object(jobs::object_kind::function, "g")};
    EXPECT_EQ(refusal(s, r), "Can not find restore function: g");
    r.objects = {object(jobs::object_kind::view, "t1")};
    EXPECT_EQ(refusal(s, r), "Table t1 does not exist in snapshot l");
    r.objects = {object(jobs::object_kind::table, "t1"), object(jobs::object_kind::table, "t1")};
    EXPECT_EQ(refusal(s, r), "Duplicated table: t1");
    r.objects = {object(jobs::object_kind::table, "t1", {}, "x"), object(jobs::object_kind::view, "v", {}, "x")};
    EXPECT_EQ(refusal(s, r), "Duplicated alias name: x");
    r.objects = {object(jobs::object_kind::table, "t1", {}, "t2"), object(jobs::object_kind::table, "t2")};
    EXPECT_EQ(refusal(s, r), "Duplicated alias name: t2");
    r.objects = {};
    r.snapshot_db = "other";
    EXPECT_EQ(refusal(s, r), "target database: other is not existed in snapshot");
}

TEST(restore_plan, external_catalog_snapshots) {
    jobs::snapshot_contents s;
    s.info.name = "c";
    storage::external_catalog hive;
    hive.name = "hive";
    s.meta.catalogs = {hive};
    jobs::restore_request r;
    r.label = "c";
    auto all = jobs::select_restore(s, r);
    ASSERT_TRUE(all.has_value()) << all.error().message;
    EXPECT_EQ(all->objects_text, "hive") << "a catalog-only snapshot restores its catalogs without a clause";
    r.catalog_job = true;
    r.catalogs = {{"hive", std::string("hive2")}};
    auto renamed = jobs::select_restore(s, r);
    ASSERT_TRUE(renamed.has_value()) << renamed.error().message;
    EXPECT_EQ(renamed->objects_text, "hive AS hive2");
    r.catalogs = {{"nope", std::nullopt}};
    EXPECT_EQ(refusal(s, r), "Can not find restore catalog: nope");
    r.catalogs = {};
    r.target_db = "d";
    EXPECT_EQ(refusal(s, r), "Can not specify database for external catalog snapshot");
    r.target_db.clear();
    jobs::requested_object t;
    t.kind = jobs::object_kind::table;
    t.name = "t";
    r.objects = {t};
    EXPECT_EQ(refusal(s, r), "Can not specify database for external catalog snapshot")
        << "ON (...) beside a catalog restore would be ignored";
    jobs::restore_request on_database;
    on_database.label = "l";
    on_database.catalog_job = true;
    EXPECT_EQ(refusal(database_snapshot(), on_database),
              "This is not a snapshot for external catalog restore, snapshot: l");
}

TEST(restore_plan, all_and_named_objects_select_the_same_in_either_order) {
    auto s = database_snapshot();
    jobs::restore_request r;
    r.label = "l";
    jobs::requested_object all_tables = object(jobs::object_kind::table, "");
    all_tables.all = true;
    jobs::requested_object renamed = object(jobs::object_kind::table, "t1", {}, "x");
    r.objects = {all_tables, renamed};
    auto all_first = jobs::select_restore(s, r);
    ASSERT_TRUE(all_first.has_value()) << all_first.error().message;
    r.objects = {renamed, all_tables};
    auto named_first = jobs::select_restore(s, r);
    ASSERT_TRUE(named_first.has_value()) << named_first.error().message;
    EXPECT_EQ(all_first->objects_text, named_first->objects_text);
    ASSERT_EQ(all_first->tables.size(), 2U);
    EXPECT_EQ(all_first->tables[0].local_name, "x") << "t1 goes in as named, once";
    EXPECT_EQ(all_first->tables[1].local_name, "t2");
}

TEST(restore_plan, function_names_match_in_any_case) {
    auto s = database_snapshot();
    jobs::restore_request r;
    r.label = "l";
    r.objects = {object(jobs::object_kind::function, "F")};
    auto selected = jobs::select_restore(s, r);
    ASSERT_TRUE(selected.has_value()) << selected.error().message;
    ASSERT_EQ(selected->functions.size(), 1U);
    EXPECT_EQ(selected->functions[0].name, "f");
    EXPECT_EQ(selected->functions[0].local_name, "f") << "restored under the snapshot's spelling";
}
