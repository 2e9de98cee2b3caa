// SPDX-License-Identifier: Apache-2.0
// BACKUP's submission checks against a real catalog (StarRocks' messages), and the snapshot cut:
// the chosen partitions' files at their visible version, pinned by hard links so that a DROP
// TABLE after the cut changes nothing in it.
#include "jobs/backup_plan.hh"
#include "jobs/local_snapshot.hh"
#include "unit/storage/load_test_util.hh"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

namespace tv::testing {
namespace {

namespace fs = std::filesystem;
using jobs::backup_request;
using jobs::object_kind;
using jobs::requested_object;

/// Database d with t (RANGE on d: p1 < 10, p2 < 20), rows loaded into both partitions.
io::task<storage_result<std::unique_ptr<catalog>>> sales(std::string dir) {
    auto cat = co_await range_catalog(dir);
    if (!cat) {
        co_return cat;
    }
    text_rows rows{{"1", "100"}, {"2", "200"}, {"15", "1500"}};
    if (auto loaded = co_await load_rows(**cat, data_in(dir), "d", "t", rows); !loaded) {
        co_return loaded.error();
    }
    co_return std::move(*cat);
}

requested_object table_object(std::string name, std::vector<std::string> partitions = {}) {
    requested_object o;
    o.kind = object_kind::table;
    o.name = std::move(name);
    o.partitions = std::move(partitions);
    return o;
}

std::string refusal(const jobs::job_result<jobs::resolved_backup>& r) {
    return r ? std::string("accepted: ") + r->objects_text : r.error().message;
}

CO_TEST(backup_plan, resolves_what_statements_choose_with_starrocks_messages) {
    temp_dir dir;
    auto cat = co_await sales(dir.path());
    CO_ASSERT_OK(cat);
    backup_request whole;
    whole.db = "d";
    whole.label = "l1";
    auto all = jobs::resolve_backup(**cat, whole);
    CO_ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->objects_text, "[d.t]");

    backup_request some = whole;
    some.objects.push_back(table_object("t", {"p1"}));
    auto p1 = jobs::resolve_backup(**cat, some);
    CO_ASSERT_TRUE(p1.has_value());
    EXPECT_EQ(p1->objects_text, "[d.t PARTITION (p1)]");
    EXPECT_EQ(p1->selection.tables.at(0).partitions, std::vector<std::string>{"p1"});

    backup_request bad = whole;
    bad.objects.push_back(table_object("t", {"p9"}));
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, bad)), "Unknown partition p9 in tablet");
    bad.objects = {table_object("zz")};
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, bad)), "Unknown table 'zz'");
    bad.objects = {table_object("t")};
    bad.objects[0].alias = "t2";
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, bad)), "Can not set alias for table in Backup Stmt: t");
    requested_object fn;
    fn.kind = object_kind::function;
    fn.name = "nope";
    bad.objects = {fn};
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, bad)), "Invalid backup function(s), function name: nope");

    backup_request catalogs;
    catalogs.catalog_job = true;
    catalogs.all_catalogs = true;
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, catalogs)), "No external catalog can be backed up");
    catalogs.all_catalogs = false;
    catalogs.catalogs = {"hive1"};
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, catalogs)), "external catalog hive1 does not existed.");
    // A database or objects beside catalogs would be ignored: refused.
    catalogs.db = "d";
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, catalogs)), "Can not specify database for external catalog snapshot");
    catalogs.db.clear();
    catalogs.objects = {table_object("t")};
    EXPECT_EQ(refusal(jobs::resolve_backup(**cat, catalogs)), "Can not specify database for external catalog snapshot");
    CO_ASSERT_OK(co_await (*cat)->close());
}

TEST(backup_plan, properties_are_checked_and_unknown_ones_named) {
    auto ok = jobs::parse_backup_properties({{"type", "full"}, {"timeout", "60"}, {"max_upload_speed_kbps", "1024"}},
                                            86400);
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
    EXPECT_EQ(ok->timeout_s, 60);
    EXPECT_EQ(ok->max_upload_speed_kbps, 1024);
    EXPECT_EQ(jobs::parse_backup_properties({}, 86400)->timeout_s, 86400);
    EXPECT_TRUE(jobs::parse_backup_properties({{"type", "INCREMENTAL"}}, 1)->incremental)
        << "StarRocks' other type: every backup here is incremental";
    EXPECT_FALSE(jobs::parse_backup_properties({{"type", "Full"}}, 1)->incremental);
    EXPECT_EQ(jobs::parse_backup_properties({{"type", "differential"}}, 1).error().message,
              "Invalid backup job type: differential");
    EXPECT_EQ(jobs::parse_backup_properties({{"timeout", "soon"}}, 1).error().message, "Invalid timeout format: soon");
    EXPECT_EQ(jobs::parse_backup_properties({{"a", "1"}, {"b", "2"}}, 1).error().message,
              "Unknown backup job properties: [a, b]");
}

TEST(backup_plan, ttl_is_a_count_and_a_unit_and_empty_means_forever) {
    auto ttl = [](std::string_view value) { return jobs::parse_backup_properties({{"TTL", std::string(value)}}, 1); };
    EXPECT_EQ(ttl("7 DAY")->ttl_s, 7 * 86400);
    EXPECT_EQ(ttl("12 hours")->ttl_s, 12 * 3600);
    EXPECT_EQ(ttl(" 5  Second ")->ttl_s, 5);
    EXPECT_EQ(ttl("30 MINUTES")->ttl_s, 1800);
    EXPECT_EQ(ttl("")->ttl_s, 0);
    EXPECT_EQ(jobs::parse_backup_properties({}, 1)->ttl_s, 0);
    for (std::string_view bad : {"7", "DAY", "7 WEEK", "0 DAY", "-1 HOUR", "1.5 DAY", "7 DAYSS", "7DAY",
                                 "99999999999999 SECOND", "3651 DAY"}) {
        auto refused = ttl(bad);
        ASSERT_FALSE(refused.has_value()) << bad;
        EXPECT_EQ(refused.error().message, fmt::format("Invalid ttl: '{}'; it should look like '7 DAY': a whole number "
                                                       "above 0 and SECOND, MINUTE, HOUR or DAY",
                                                       bad));
    }
}

CO_TEST(backup_plan, the_cut_holds_the_chosen_files_and_links_keep_them_after_a_drop) {
    temp_dir dir;
    auto cat = co_await sales(dir.path());
    CO_ASSERT_OK(cat);
    jobs::job_record job;
    job.id = 777;
    job.db = "d";
    job.label = "l1";
    job.selection.tables.push_back({"t", {"p1"}});
    auto cut = jobs::capture_snapshot(**cat, job);
    CO_ASSERT_TRUE(cut.has_value());
    CO_ASSERT_FALSE(cut->files.empty());
    const table* t = (*cat)->find_table("d", "t");
    std::vector<object_id> p1_tablets = tablets_of(*t, "p1");
    uint64_t rows = 0;
    for (const auto& f : cut->files) {
        EXPECT_EQ(f.partition, "p1");
        EXPECT_NE(std::find(p1_tablets.begin(), p1_tablets.end(), static_cast<object_id>(f.tablet_id)),
                  p1_tablets.end());
        EXPECT_EQ(fs::file_size(f.source_path), f.size);
        rows += f.rows;
    }
    EXPECT_EQ(rows, 2u) << "p1 holds the rows 1 and 2";
    CO_ASSERT_EQ(cut->info.tables.size(), 1u);
    EXPECT_EQ(cut->info.tables[0].partitions.at(0).name, "p1");
    EXPECT_EQ(cut->info.tables[0].partitions.at(0).version, t->find_partition("p1")->visible_version);

    auto back = jobs::decode_cut(jobs::encode_cut(*cut));
    CO_ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->files.size(), cut->files.size());
    EXPECT_EQ(back->meta, cut->meta);

    std::vector<jobs::snapshot_link> links;
    for (const auto& f : cut->files) {
        links.push_back({f.tablet_id, f.name, f.source_path});
    }
    auto linked = co_await jobs::link_snapshot(dir.path(), job.id, links);
    CO_ASSERT_TRUE(linked.has_value());
    auto again = co_await jobs::link_snapshot(dir.path(), job.id, links);
    CO_ASSERT_TRUE(again.has_value());  // a resumed job finds its links in place
    CO_ASSERT_OK(co_await (*cat)->drop_table("d", "t"));
    CO_ASSERT_OK(co_await (*cat)->close());
    for (const auto& f : cut->files) {
        std::string link = jobs::snapshot_file_path(dir.path(), job.id, f.tablet_id, f.name);
        EXPECT_EQ(fs::file_size(link), f.size) << "the snapshot keeps the bytes the table no longer has";
    }
    std::set<uint64_t> live{job.id};
    size_t kept = co_await jobs::sweep_snapshots(dir.path(), live);
    EXPECT_EQ(kept, 0u);
    size_t swept = co_await jobs::sweep_snapshots(dir.path(), std::set<uint64_t>());
    EXPECT_EQ(swept, 1u);
    EXPECT_FALSE(fs::exists(jobs::snapshot_file_path(dir.path(), job.id, cut->files[0].tablet_id, cut->files[0].name)));
}

/// Many tablets at once, as a restore's staging and COMMIT take them: every directory made, every
/// link in place (made durable by one syncfs, more directories than are fsynced one by one), and
/// a second run (an fsync per directory, as a snapshot's) keeps what is there.
CO_TEST(backup_plan, directories_and_links_for_many_tablets_are_made_together) {
    temp_dir dir;
    std::string staging = dir.path() + "/snapshot/9/staging";
    std::vector<std::string> names;
    for (int tablet = 1; tablet <= 40; ++tablet) {
        names.push_back(std::to_string(1000 + tablet));
    }
    auto made = co_await jobs::make_directories_in(staging, names);
    CO_ASSERT_TRUE(made.has_value());
    for (const auto& name : names) {
        EXPECT_TRUE(fs::is_directory(staging + "/" + name)) << name;
    }
    auto remade = co_await jobs::make_directories_in(staging, names);
    CO_ASSERT_TRUE(remade.has_value());  // existing ones are fine

    std::vector<jobs::snapshot_link> links;
    for (const auto& name : names) {
        for (int file = 0; file < 2; ++file) {
            std::string source = fmt::format("{}/{}/{}.dat", staging, name, file);
            std::ofstream(source) << source;
            links.push_back({std::stoull(name), fmt::format("{}.dat", file), source});
        }
    }
    std::string tablets = dir.path() + "/storage/data";
    auto linked = co_await jobs::link_into(tablets, links, jobs::link_sync::file_system_when_many);
    CO_ASSERT_TRUE(linked.has_value());
    auto again = co_await jobs::link_into(tablets, links, jobs::link_sync::each_directory);
    CO_ASSERT_TRUE(again.has_value());  // links already in place are kept
    for (const auto& l : links) {
        std::string target = fmt::format("{}/{}/{}", tablets, l.tablet_id, l.name);
        std::string text;
        std::getline(std::ifstream(target), text);
        EXPECT_EQ(text, l.source_path) << target;
        EXPECT_EQ(fs::hard_link_count(target), 2u) << target;
    }
}

/// A restore's COMMIT moves each staging tablet directory into place whole. Run again after an
/// interruption it finds what was moved; a destination that holds files already (linked by an
/// earlier version's interrupted COMMIT) is left to the caller; a directory in neither place is
/// an error naming it. Both ways of making the moves durable: one syncfs (many) and fsyncs (few).
CO_TEST(backup_plan, staging_directories_are_moved_into_place_whole) {
    for (int count : {40, 3}) {
        temp_dir dir;
        std::string staging = dir.path() + "/snapshot/9/staging";
        std::string tablets = dir.path() + "/storage/data";
        std::vector<std::string> names;
        for (int tablet = 1; tablet <= count; ++tablet) {
            names.push_back(std::to_string(1000 + tablet));
            fs::create_directories(staging + "/" + names.back());
            for (int file = 0; file < 2; ++file) {
                std::ofstream(fmt::format("{}/{}/{}.dat", staging, names.back(), file)) << names.back() << file;
            }
        }
        fs::create_directories(tablets);
        fs::rename(staging + "/" + names[0], tablets + "/" + names[0]);  // moved before a crash
        std::string occupied = names[1];
        fs::create_directories(tablets + "/" + occupied);
        fs::create_hard_link(staging + "/" + occupied + "/0.dat", tablets + "/" + occupied + "/0.dat");

        auto moved = co_await jobs::move_directories(staging, tablets, names);
        CO_ASSERT_TRUE(moved.has_value());
        EXPECT_EQ(moved->occupied, std::vector<std::string>{occupied});
        EXPECT_EQ(moved->moved_earlier, std::vector<std::string>{names[0]});
        for (const auto& name : names) {
            for (int file = 0; file < 2; ++file) {
                std::string text;
                std::getline(std::ifstream(fmt::format("{}/{}/{}.dat", tablets, name, file)), text);
                if (name != occupied || file == 0) {
                    EXPECT_EQ(text, name + std::to_string(file)) << name << " " << count;
                }
            }
            EXPECT_EQ(fs::exists(staging + "/" + name), name == occupied) << name;
        }
        auto again = co_await jobs::move_directories(staging, tablets, names);
        CO_ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->occupied, std::vector<std::string>{occupied});
        std::vector<std::string> all_but_occupied = names;
        std::erase(all_but_occupied, occupied);
        EXPECT_EQ(again->moved_earlier, all_but_occupied);

        std::vector<std::string> neither_place{"777"};
        auto missing = co_await jobs::move_directories(staging, tablets, neither_place);
        CO_ASSERT_FALSE(missing.has_value());
        EXPECT_NE(missing.error().message.find("move " + staging + "/777 to " + tablets + "/777"), std::string::npos)
            << missing.error().message;
    }
}

/// A resumed COMMIT checks the directories an interrupted run moved before it publishes them:
/// every planned file there with its size, else an error naming the first that is not.
CO_TEST(backup_plan, placed_files_are_checked_by_name_and_size) {
    temp_dir dir;
    std::string tablets = dir.path() + "/storage/data";
    fs::create_directories(tablets + "/1001");
    fs::create_directories(tablets + "/1002");
    std::ofstream(tablets + "/1001/0.dat") << "abcd";
    std::ofstream(tablets + "/1002/0.dat") << "efghij";
    std::vector<jobs::placed_file> planned{{1001, "0.dat", 4}, {1002, "0.dat", 6}};
    CO_ASSERT_TRUE((co_await jobs::check_placed(tablets, planned)).has_value());

    std::vector<jobs::placed_file> one_more = planned;
    one_more.push_back(jobs::placed_file{1002, "1.dat", 3});
    auto missing = co_await jobs::check_placed(tablets, one_more);
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().message.find("find restored file " + tablets + "/1002/1.dat"), std::string::npos)
        << missing.error().message;

    fs::resize_file(tablets + "/1002/0.dat", 2);
    auto short_file = co_await jobs::check_placed(tablets, planned);
    CO_ASSERT_FALSE(short_file.has_value());
    EXPECT_EQ(short_file.error().message, "restored file " + tablets + "/1002/0.dat has 2 bytes, expected 6");
}

}  // namespace
}  // namespace tv::testing
