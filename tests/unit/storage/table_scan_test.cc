// SPDX-License-Identifier: Apache-2.0
// table_scan: key-model merges (AGGREGATE with each aggregation, UNIQUE, PRIMARY) within and
// across loads, corrupt files, scans pinning files against DROP, start-up orphan removal, and
// the per-tablet figures for SHOW.
#include "io/log.hh"
#include "load_test_util.hh"

#include <fmt/format.h>

#include <filesystem>

namespace tv::testing {
namespace {

namespace fs = std::filesystem;

io::task<storage_result<std::unique_ptr<catalog>>> catalog_with(std::string dir, table_definition def) {
    auto cat = co_await open_catalog(dir);
    if (!cat) {
        co_return cat;
    }
    auto db = co_await (*cat)->create_database("d");
    if (!db) {
        co_return db.error();
    }
    auto t = co_await (*cat)->create_table("d", std::move(def));
    if (!t) {
        co_return t.error();
    }
    co_return std::move(*cat);
}

table_definition aggregate_table() {
    table_definition def;
    def.name = "agg";
    def.keys = key_model::aggregate;
    def.columns = cols(col("k", "INT", false), col("s", "BIGINT", true, aggregation::sum),
                       col("mn", "INT", true, aggregation::min), col("mx", "VARCHAR(10)", true, aggregation::max),
                       col("r", "VARCHAR(10)", true, aggregation::replace),
                       col("rn", "DECIMAL(6, 2)", true, aggregation::replace_if_not_null));
    def.key_columns = {"k"};
    def.dist = distribution{{"k"}, 3, false};
    return def;
}

CO_TEST(TableScan, AggregateKeyMergesWithinAndAcrossLoads) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), aggregate_table());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows first{{"1", "10", "5", "b", "x", "1.50"}, {"2", "NULL", "NULL", "NULL", "y", "NULL"},
                    {"1", "NULL", "3", "a", "NULL", "NULL"}, {"3", "7", "9", "z", "z", "3.00"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "agg", first));
    text_rows second{{"1", "5", "8", "c", "w", "2.25"}, {"2", "NULL", "4", "q", "NULL", "0.10"},
                     {"2", "1", "NULL", "NULL", "v", "NULL"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "agg", second));
    auto all = co_await scan_all(c, data, "d", "agg");
    CO_ASSERT_EQ(all.error, "");
    EXPECT_EQ(sorted(all.rows), (text_rows{
                                    // SUM skips NULL; MIN/MAX ignore NULL; REPLACE takes the latest (NULL too);
                                    // REPLACE_IF_NOT_NULL the latest non-NULL.
                                    {"1", "15", "3", "c", "w", "2.25"},
                                    {"2", "1", "4", "q", "v", "0.10"},
                                    {"3", "7", "9", "z", "z", "3.00"},
                                }));
    // Each batch is one tablet's rows, sorted by key.
    for (const auto& batch : all.batches) {
        EXPECT_TRUE(std::is_sorted(batch.begin(), batch.end(), [](const auto& a, const auto& b) {
            return std::stoi(a[0]) < std::stoi(b[0]);
        }));
    }
    // A key whose SUM column only ever saw NULL stays NULL.
    text_rows third{{"4", "NULL", "1", "a", "a", "1.00"}, {"4", "NULL", "2", "b", "b", "NULL"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "agg", third));
    all = co_await scan_all(c, data, "d", "agg");
    auto rows = sorted(all.rows);
    CO_ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[3], (std::vector<std::string>{"4", "NULL", "1", "b", "b", "1.00"}));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(TableScan, ReplaceTakesALatestNull) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), aggregate_table());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows first{{"1", "1", "1", "a", "x", "1.00"}};
    text_rows second{{"1", "1", "1", "a", "NULL", "NULL"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "agg", first));
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "agg", second));
    auto all = co_await scan_all(c, data, "d", "agg");
    CO_ASSERT_EQ(all.error, "");
    EXPECT_EQ(all.rows, (text_rows{{"1", "2", "1", "a", "NULL", "1.00"}}));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(TableScan, UniqueAndPrimaryKeepTheLatestRow) {
    temp_dir dir;
    std::vector<key_model> models{key_model::unique, key_model::primary};
    for (key_model model : models) {
        temp_dir sub;
        table_definition def;
        def.name = "u";
        def.keys = model;
        def.columns = cols(col("k1", "INT", false), col("k2", "VARCHAR(5)", false), col("v", "VARCHAR(10)"));
        def.key_columns = {"k1", "k2"};
        def.dist = distribution{{"k1"}, 2, false};
        auto cat = co_await catalog_with(sub.path(), def);
        CO_ASSERT_OK(cat);
        catalog& c = **cat;
        auto data = data_in(sub.path());
        text_rows first{{"1", "a", "old"}, {"1", "b", "b1"}, {"1", "a", "newer"}, {"2", "a", "x"}};
        CO_ASSERT_OK(co_await load_rows(c, data, "d", "u", first));
        text_rows second{{"2", "a", "NULL"}, {"3", "c", "c1"}};
        CO_ASSERT_OK(co_await load_rows(c, data, "d", "u", second));
        auto all = co_await scan_all(c, data, "d", "u");
        CO_ASSERT_EQ(all.error, "");
        EXPECT_EQ(sorted(all.rows), (text_rows{{"1", "a", "newer"}, {"1", "b", "b1"}, {"2", "a", "NULL"},
                                               {"3", "c", "c1"}}))
            << key_model_name(model);
        CO_ASSERT_OK(co_await c.close());
    }
}

TEST(MergeRows, KeysSortNullFirstAndSumWraps) {
    std::vector<column_desc> schema{{"k", *column_type::from_sql("INT"), true},
                                    {"s", *column_type::from_sql("TINYINT"), true}};
    text_rows rows{{"5", "100"}, {"NULL", "1"}, {"5", "100"}, {"-1", "NULL"}};
    column_batch b = batch_of(schema, rows);
    merge_spec spec{key_model::aggregate, {0}, {aggregation::none, aggregation::sum}};
    EXPECT_EQ(text_of(merge_rows(spec, b)), (text_rows{{"NULL", "1"}, {"-1", "NULL"}, {"5", "-56"}}));
    merge_spec dup{key_model::duplicate, {0}, {}};
    EXPECT_EQ(text_of(merge_rows(dup, b)), rows);
}

CO_TEST(TableScan, CorruptFileIsAnErrorNamingIt) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), simple_table("t", 1));
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"1", "a"}, {"2", "b"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    auto files = data_files(dir.path());
    CO_ASSERT_EQ(files.size(), 1u);
    std::string path = dir.path() + "/storage/data/" + files[0];
    std::string bytes = file_bytes(path);
    bytes[10] = static_cast<char>(bytes[10] ^ 0x40);
    put_file(path, bytes);
    auto all = co_await scan_all(c, data, "d", "t");
    EXPECT_TRUE(all.rows.empty());
    EXPECT_NE(all.error.find(path), std::string::npos) << all.error;
    EXPECT_NE(all.error.find("corrupt"), std::string::npos) << all.error;
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(TableScan, ScanKeepsFilesOfADroppedTableUntilItEnds) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), simple_table("t", 2));
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"1", "a"}, {"2", "b"}, {"3", "c"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    auto files = data_files(dir.path());
    CO_ASSERT_FALSE(files.empty());
    scan_request req{"d", "t", {}};
    auto scan = table_scan::open(c, data, req);
    CO_ASSERT_OK(scan);
    CO_ASSERT_OK(co_await c.drop_table("d", "t"));
    EXPECT_EQ(data_files(dir.path()), files) << "the open scan pins them";
    EXPECT_EQ(c.reclaimer().pending(), 1u);
    text_rows seen;
    while (true) {
        auto b = co_await (*scan)->next();
        CO_ASSERT_TRUE(b.has_value());
        if (!b->has_value()) {
            break;
        }
        auto t = text_of(**b);
        seen.insert(seen.end(), t.begin(), t.end());
    }
    EXPECT_EQ(sorted(seen), sorted(rows));
    scan->reset();
    EXPECT_EQ(data_files(dir.path()), std::vector<std::string>{}) << "deleted once the scan is gone";
    EXPECT_EQ(c.reclaimer().pending(), 0u);
    EXPECT_EQ(c.reclaimer().deleted_files(), files.size());
    EXPECT_FALSE(fs::exists(dir.path() + "/storage/data/" + fs::path(files[0]).parent_path().string()))
        << "and the tablet directory";

    // A scan opened after the change does not hold back what the change removed.
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("t2", 1)));
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t2", rows));
    scan_request req2{"d", "t2", {}};
    auto early = table_scan::open(c, data, req2);
    CO_ASSERT_OK(co_await c.truncate_table("d", "t2"));
    auto late = table_scan::open(c, data, req2);
    CO_ASSERT_OK(late);
    EXPECT_EQ((*late)->file_count(), 0u);
    EXPECT_FALSE(data_files(dir.path()).empty());
    early->reset();
    EXPECT_TRUE(data_files(dir.path()).empty());
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(TableScan, StartUpRemovesOrphansAndKeepsPublishedFiles) {
    temp_dir dir;
    std::vector<std::string> published;
    object_id tablet = 0;
    {
        auto cat = co_await catalog_with(dir.path(), simple_table("t", 1));
        CO_ASSERT_OK(cat);
        text_rows rows{{"1", "a"}};
        CO_ASSERT_OK(co_await load_rows(**cat, data_in(dir.path()), "d", "t", rows));
        published = data_files(dir.path());
        tablet = tablets_of(*(*cat)->find_table("d", "t"), "t")[0];
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    std::string tdir = tablet_dir(dir.path(), tablet);
    put_file(tdir + "/99999_0.dat.tvtmp-1-0", "half a segment"); // a write cut short
    put_file(tdir + "/99999_1.dat", "an unpublished segment");    // a load that never published
    fs::create_directories(tablet_dir(dir.path(), 424242));     // a dropped tablet
    put_file(tablet_dir(dir.path(), 424242) + "/5_0.dat", "x");
    fs::create_directories(tablet_dir(dir.path(), 434343));     // an empty one
    fs::create_directories(tablets_root(dir.path()) + "/not-a-tablet");
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    EXPECT_EQ(data_files(dir.path()), published);
    EXPECT_FALSE(fs::exists(tablet_dir(dir.path(), 424242)));
    EXPECT_FALSE(fs::exists(tablet_dir(dir.path(), 434343)));
    EXPECT_TRUE(fs::exists(tablets_root(dir.path()) + "/not-a-tablet")) << "not ours: left alone";
    auto all = co_await scan_all(**cat, data_in(dir.path()), "d", "t");
    EXPECT_EQ(all.rows, (text_rows{{"1", "a"}}));
    CO_ASSERT_OK(co_await (*cat)->close());
}

/// The server sweeps after its job tracker has read the restores it resumes: the directory of a
/// tablet a restore placed before publishing is kept whole, the rest is swept as at open.
CO_TEST(TableScan, DeferredSweepKeepsTheTabletsItIsTold) {
    temp_dir dir;
    {
        auto cat = co_await catalog_with(dir.path(), simple_table("t", 1));
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    fs::create_directories(tablet_dir(dir.path(), 424242));  // placed by a restore, not published
    put_file(tablet_dir(dir.path(), 424242) + "/5_0.dat", "restored");
    fs::create_directories(tablet_dir(dir.path(), 434343));  // a dropped tablet's
    put_file(tablet_dir(dir.path(), 434343) + "/6_0.dat", "dropped");
    catalog_options options;
    options.sweep_orphans_at_open = false;
    auto cat = co_await catalog::open(dir.path(), options);
    CO_ASSERT_OK(cat);
    EXPECT_TRUE(fs::exists(tablet_dir(dir.path(), 434343) + "/6_0.dat")) << "nothing swept at open";
    (*cat)->sweep_orphan_files({424242});
    EXPECT_TRUE(fs::exists(tablet_dir(dir.path(), 424242) + "/5_0.dat"));
    EXPECT_FALSE(fs::exists(tablet_dir(dir.path(), 434343)));
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(TableScan, StatsComeFromTheCatalog) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), simple_table("t", 1));
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"1", "a"}, {"1", "b"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    const table* t = c.find_table("d", "t");
    object_id tablet = tablets_of(*t, "t")[0];
    tablet_stats s = stats_of(c, tablet);
    EXPECT_EQ(s.version, 3);
    EXPECT_EQ(s.data_version, 3);
    EXPECT_EQ(s.rows, 4u);
    EXPECT_EQ(s.files, 2u);
    EXPECT_EQ(s.rowsets, 2u);
    uint64_t on_disk = 0;
    for (const auto& f : data_files(dir.path())) {
        on_disk += fs::file_size(dir.path() + "/storage/data/" + f);
    }
    EXPECT_EQ(s.data_size, on_disk);
    partition_stats p = stats_of_partition(c, t->partitioning.partitions[0], t->indexes[0].id);
    EXPECT_EQ(p.rows, 4u);
    EXPECT_EQ(p.data_size, on_disk);
    EXPECT_EQ(stats_of(c, 1).version, 0) << "unknown tablet";
    scan_request req{"d", "nope", {}};
    auto missing = table_scan::open(c, data, req);
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().message, "Unknown table 'd.nope'");
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
