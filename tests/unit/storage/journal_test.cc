// SPDX-License-Identifier: Apache-2.0
// Durability: journal replay, images and checkpoints, torn tails at every byte, corruption in
// the middle, sequence gaps, damaged images, and the files' permissions.
#include "io/log.hh"
#include "storage/journal.hh"
#include "storage_test_util.hh"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tv::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

std::vector<std::string> meta_files(const std::string& data_dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(data_dir + "/meta")) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// Quiets the expected warnings of a loop of recoveries.
struct quiet_log {
    log::level saved = log::current_level();
    quiet_log() { log::set_level(log::level::error); }
    ~quiet_log() { log::set_level(saved); }
};

#define STEP(expr)                                                  \
    do {                                                            \
        auto tv_step_ = (expr);                                     \
        if (!tv_step_.has_value()) {                                \
            ADD_FAILURE() << #expr << ": " << tv_step_.error().message; \
            co_return false;                                        \
        }                                                           \
    } while (0)

/// One of every kind of change.
io::task<bool> populate(catalog& c) {
    STEP(co_await c.create_database("sales", props_of("note", "q")));
    STEP(co_await c.create_database("scratch"));
    auto orders = range_table("orders", "DATE", {less_than("p2023", {"2024-01-01"}),
                                                 fixed_range("p2024", {"2024-01-01"}, {"2025-01-01"})});
    orders.columns.push_back(col("amount", "DECIMAL(12, 2)"));
    orders.columns.back().default_value = column_default{default_kind::literal, "0.00"};
    orders.columns.push_back(col("at", "DATETIME"));
    orders.columns.back().default_value = column_default{default_kind::current_timestamp, ""};
    orders.comment = "orders by day";
    STEP(co_await c.create_table("sales", orders));
    STEP(co_await c.add_partition("sales", "orders", less_than("p2025", strs("2026-01-01"))));
    STEP(co_await c.drop_partition("sales", "orders", "p2023"));
    STEP(co_await c.truncate_table("sales", "orders", strs("p2024")));
    table_definition cities;
    cities.name = "cities";
    cities.keys = key_model::unique;
    cities.columns = {col("city", "VARCHAR(32)", false), col("pop", "BIGINT")};
    cities.key_columns = {"city"};
    cities.partition_by = partition_kind::list;
    cities.partition_columns = {"city"};
    cities.partitions = {in_list("eu", {{"Paris"}, {"Rome"}}), in_list("asia", {{"Tokyo"}})};
    cities.dist = distribution{{"city"}, 2, false};
    STEP(co_await c.create_table("sales", cities));
    STEP(co_await c.create_table("scratch", simple_table("tmp")));
    STEP(co_await c.drop_table("scratch", "tmp"));
    STEP(co_await c.create_sync_materialized_view("sales", "orders", "orders_by_day", "SELECT d, SUM(v) FROM orders",
                                                  cols(col("d", "DATE", false), col("s", "BIGINT"))));
    view v;
    v.name = "big_orders";
    v.query_text = "SELECT * FROM orders WHERE amount > 100";
    v.columns = {{"d", "day"}, {"v", ""}, {"amount", ""}, {"at", ""}};
    STEP(co_await c.create_view("sales", v));
    materialized_view mv;
    mv.name = "pop_mv";
    mv.query_text = "SELECT SUM(pop) FROM sales.cities";
    mv.refresh = refresh_scheme{"ASYNC", "", "INTERVAL 1 HOUR"};
    mv.base_tables = {"sales.cities"};
    STEP(co_await c.create_materialized_view("sales", mv));
    function f;
    f.name = "my_add";
    f.arg_types = {"INT", "INT"};
    f.return_type = "INT";
    f.props = {{"symbol", "Add"}, {"type", "StarrocksJar"}};
    STEP(co_await c.create_function("", f));
    STEP(co_await c.create_function("sales", f));
    STEP(co_await c.create_external_catalog("hive", "lake", props_of("type", "hive", "uri", "thrift://x")));
    STEP(co_await c.create_user("ann", "%", native_password_hash("pw")));
    STEP(co_await c.grant_roles("ann", "%", strs("user_admin")));
    STEP(co_await c.grant_privileges("ann", "%", privs(privilege::select), "sales", "orders"));
    STEP(co_await c.drop_table("sales", "cities"));  // makes pop_mv inactive
    co_return true;
}

CO_TEST(Journal, ReplayWithoutImageEqualsLiveState) {
    temp_dir dir;
    std::string live;
    uint64_t seq = 0;
    object_id next = 0;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_TRUE(co_await populate(**cat));
        live = (*cat)->dump();
        seq = (*cat)->last_sequence();
        next = (*cat)->next_id();
        // No close(): no image, as after a crash.
    }
    EXPECT_EQ(meta_files(dir.path()), (std::vector<std::string>{"journal.1"}));
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    EXPECT_EQ((*cat)->dump(), live);
    EXPECT_EQ((*cat)->last_sequence(), seq);
    EXPECT_EQ((*cat)->next_id(), next);
    EXPECT_FALSE((*cat)->find_materialized_view("sales", "pop_mv")->active);
    // Ids continue after a restart.
    auto id = co_await (*cat)->create_database("later");
    CO_ASSERT_OK(id);
    EXPECT_EQ(*id, next);
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(Journal, CloseWritesImageThatReloads) {
    temp_dir dir;
    std::string live;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_TRUE(co_await populate(**cat));
        live = (*cat)->dump();
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    uint64_t seq = 0;
    {
        auto files = meta_files(dir.path());
        // The image, the journal it covers (kept until a second image), the empty next journal.
        CO_ASSERT_EQ(files.size(), 3u);
        EXPECT_EQ(files[1], "journal.1");
        seq = std::stoull(files[2].substr(std::string("journal.").size())) - 1;
        EXPECT_EQ(files[0], fmt::format("image.{}", seq));
    }
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    EXPECT_EQ((*cat)->dump(), live);
    EXPECT_EQ((*cat)->last_sequence(), seq);
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(Journal, CheckpointsRotateAndPrune) {
    temp_dir dir;
    std::string live;
    {
        auto cat = co_await open_catalog(dir.path(), 5);
        CO_ASSERT_OK(cat);
        for (int i = 0; i < 12; ++i) {
            CO_ASSERT_OK(co_await (*cat)->create_database(fmt::format("db{}", i)));
        }
        live = (*cat)->dump();
    }
    // Images at 5 and 10; journal.1 went with the image before the older kept one.
    EXPECT_EQ(meta_files(dir.path()),
              (std::vector<std::string>{"image.10", "image.5", "journal.11", "journal.6"}));
    {
        auto cat = co_await open_catalog(dir.path(), 5);
        CO_ASSERT_OK(cat);
        EXPECT_EQ((*cat)->dump(), live);
        EXPECT_EQ((*cat)->last_sequence(), 12u);
    }
    // A damaged newest image: the older one plus the journals rebuild the same state.
    std::string image10 = dir.file("meta/image.10");
    std::string data = read_file(image10);
    data[data.size() / 2] ^= 0x20;
    write_file(image10, data);
    {
        // checkpoint_every high: a checkpoint at open (7 records replayed) would write a fresh
        // image and hide the next step.
        quiet_log quiet;
        auto cat = co_await open_catalog(dir.path(), 10000);
        CO_ASSERT_OK(cat);
        EXPECT_EQ((*cat)->dump(), live);
    }
    // Both images damaged: records 1..5 are gone, and open says so instead of starting empty.
    std::string image5 = dir.file("meta/image.5");
    data = read_file(image5);
    data[data.size() / 2] ^= 0x20;
    write_file(image5, data);
    {
        quiet_log quiet;
        auto cat = co_await open_catalog(dir.path(), 5);
        CO_ASSERT_FALSE(cat.has_value());
        EXPECT_EQ(cat.error().code, storage_errc::corrupt_metadata);
        EXPECT_NE(cat.error().message.find("journal records 1..5 are missing"), std::string::npos)
            << cat.error().message;
    }
}

CO_TEST(Journal, CheckpointThenMoreChangesThenCrash) {
    temp_dir dir;
    std::string live;
    object_id next = 0;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_TRUE(co_await populate(**cat));
        CO_ASSERT_OK(co_await (*cat)->checkpoint());
        CO_ASSERT_OK(co_await (*cat)->drop_database("scratch"));
        CO_ASSERT_OK(co_await (*cat)->create_table("sales", simple_table("after_image")));
        CO_ASSERT_OK(co_await (*cat)->set_password("ann", "%", native_password_hash("pw2")));
        live = (*cat)->dump();
        next = (*cat)->next_id();
    }
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    EXPECT_EQ((*cat)->dump(), live);
    EXPECT_EQ((*cat)->next_id(), next);
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(Journal, TornTailAtEveryOffsetIsDropped) {
    temp_dir dir;
    std::string before_last;
    std::string after_last;
    size_t good_size = 0;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->create_database("d"));
        CO_ASSERT_OK(co_await (*cat)->create_table("d", simple_table("t1")));
        before_last = (*cat)->dump();
        good_size = fs::file_size(dir.file("meta/journal.1"));
        CO_ASSERT_OK(co_await (*cat)->create_table(
            "d", range_table("t2", "INT", parts(less_than("p1", strs("10")), less_than("p2", strs("20"))))));
        after_last = (*cat)->dump();
    }
    const std::string full = read_file(dir.file("meta/journal.1"));
    CO_ASSERT_LT(good_size, full.size());
    quiet_log quiet;
    for (size_t cut = good_size; cut < full.size(); ++cut) {
        temp_dir copy;
        fs::create_directory(copy.file("meta"));
        write_file(copy.file("meta/journal.1"), full.substr(0, cut));
        auto cat = co_await open_catalog(copy.path());
        CO_ASSERT_OK(cat);
        EXPECT_EQ((*cat)->dump(), before_last) << "cut at " << cut;
        EXPECT_EQ(fs::file_size(copy.file("meta/journal.1")), good_size) << "truncated to the last good record";
        if ((cut - good_size) % 8 != 0) {
            continue;
        }
        // The next change lands where the torn one was, and survives another restart.
        CO_ASSERT_OK(co_await (*cat)->create_database("next"));
        std::string with_next = (*cat)->dump();
        cat->reset();
        auto again = co_await open_catalog(copy.path());
        CO_ASSERT_OK(again);
        EXPECT_EQ((*again)->dump(), with_next) << "cut at " << cut;
        if (::testing::Test::HasFailure()) {
            co_return;
        }
    }
    // A tail of zeros (a size extended without its data) after whole records.
    temp_dir zeros;
    fs::create_directory(zeros.file("meta"));
    write_file(zeros.file("meta/journal.1"), full + std::string(4096, '\0'));
    auto cat = co_await open_catalog(zeros.path());
    CO_ASSERT_OK(cat);
    EXPECT_EQ((*cat)->dump(), after_last);
    EXPECT_EQ(fs::file_size(zeros.file("meta/journal.1")), full.size());
}

/// Record start offsets in a journal file.
std::vector<size_t> record_offsets(const std::string& data) {
    std::vector<size_t> out;
    size_t at = 0;
    while (at + journal_header_size <= data.size()) {
        out.push_back(at);
        uint32_t length = 0;
        std::memcpy(&length, data.data() + at, 4);  // little-endian host, as the test machines
        at += journal_header_size + length;
    }
    return out;
}

CO_TEST(Journal, DamageInTheMiddleRefusesToOpen) {
    temp_dir dir;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_TRUE(co_await populate(**cat));
    }
    const std::string full = read_file(dir.file("meta/journal.1"));
    auto offsets = record_offsets(full);
    CO_ASSERT_GE(offsets.size(), 10u);
    quiet_log quiet;
    struct damage {
        size_t at;
        const char* what;
    };
    // A payload byte of record 3, its length field, its checksum, its sequence.
    for (damage d : {damage{offsets[2] + journal_header_size + 5, "payload"}, damage{offsets[2] + 1, "length"},
                     damage{offsets[2] + 13, "checksum"}, damage{offsets[2] + 4, "sequence"}}) {
        temp_dir copy;
        fs::create_directory(copy.file("meta"));
        std::string data = full;
        data[d.at] ^= 0x01;
        write_file(copy.file("meta/journal.1"), data);
        auto cat = co_await open_catalog(copy.path());
        CO_ASSERT_FALSE(cat.has_value());
        EXPECT_EQ(cat.error().code, storage_errc::corrupt_metadata) << d.what;
        EXPECT_NE(cat.error().message.find("journal.1 is damaged at offset " + std::to_string(offsets[2])),
                  std::string::npos)
            << d.what << ": " << cat.error().message;
        EXPECT_NE(cat.error().message.find("valid records follow"), std::string::npos) << cat.error().message;
        EXPECT_EQ(read_file(copy.file("meta/journal.1")), data) << "a refused journal is left as it was";
    }
}

CO_TEST(Journal, SequenceGapRefusesToOpen) {
    temp_dir dir;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->create_database("a"));
        CO_ASSERT_OK(co_await (*cat)->create_database("b"));
    }
    // A well-formed record with sequence 4 after 2: something in between is missing.
    std::string path = dir.file("meta/journal.1");
    std::string data = read_file(path);
    auto offsets = record_offsets(data);
    std::string payload = data.substr(offsets[1] + journal_header_size);
    write_file(path, data + frame_record(4, payload));
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_FALSE(cat.has_value());
    EXPECT_EQ(cat.error().code, storage_errc::corrupt_metadata);
    EXPECT_NE(cat.error().message.find("has sequence 4 at offset " + std::to_string(data.size()) +
                                       " where 3 was expected"),
              std::string::npos)
        << cat.error().message;
}

CO_TEST(Journal, UndecodableRecordRefusesToOpen) {
    temp_dir dir;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->create_database("a"));
    }
    std::string path = dir.file("meta/journal.1");
    write_file(path, read_file(path) + frame_record(2, R"({"op":"launch_rockets","next_id":1,"body":{}})"));
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_FALSE(cat.has_value());
    EXPECT_EQ(cat.error().code, storage_errc::corrupt_metadata);
    EXPECT_NE(cat.error().message.find("journal record 2"), std::string::npos) << cat.error().message;
    EXPECT_NE(cat.error().message.find("unknown record type 'launch_rockets'"), std::string::npos);
}

CO_TEST(Journal, FilesArePrivateAndTempImagesAreCleared) {
    temp_dir dir;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->create_user("u", "%", native_password_hash("secret")));
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    struct stat st{};
    CO_ASSERT_EQ(::stat(dir.file("meta").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    for (const auto& name : meta_files(dir.path())) {
        CO_ASSERT_EQ(::stat(dir.file("meta/" + name).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
        EXPECT_EQ(read_file(dir.file("meta/" + name)).find("secret"), std::string::npos) << "no plain password";
    }
    write_file(dir.file("meta/image.99.tvtmp-1-1"), "half an image");
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    EXPECT_FALSE(fs::exists(dir.file("meta/image.99.tvtmp-1-1")));
    CO_ASSERT_OK(co_await (*cat)->close());
}

}  // namespace
}  // namespace tv::testing
