// SPDX-License-Identifier: Apache-2.0
// Manifests, job-info JSON and job statuses: round trips, StarRocks' field names and Status
// text, and refusals of what a hostile or newer repository could hold, each naming the object.
#include "jobs/job_error.hh"
#include "jobs/job_info.hh"
#include "jobs/snapshot_manifest.hh"
#include "remote/snapshot_layout.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace jobs = tv::jobs;
namespace json = boost::json;

namespace {

jobs::snapshot_manifest sample_manifest() {
    jobs::snapshot_manifest m;
    m.format_version = tv::remote::repository_format_version;
    m.label = "snap1";
    m.timestamp = "2026-12-04-10-11-12-345";
    m.cluster_id = "c0ffee";
    jobs::manifest_file f;
    f.db = "d";
    f.table = "t";
    f.partition = "p1";
    f.index = "t";
    f.tablet_id = 10010;
    f.name = "10016_0.dat";
    f.size = 465;
    f.rows = 3;
    f.version = 7;
    f.hash = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    f.segment_checksum = 18265071909576215115ULL;
    f.key = "__tabletvault_repository_r/__data/c0ffee/10010/10016_0.dat";
    m.files.push_back(f);
    f.name = "10017_0.dat";
    f.packed = true;
    f.offset = 4096;
    f.key = "__tabletvault_repository_r/__data/c0ffee/__packs/p_1";
    m.files.push_back(f);
    return m;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) {
        text.replace(at, from.size(), to);
    }
    return text;
}

}  // namespace

TEST(manifest, round_trips_every_field) {
    auto m = sample_manifest();
    auto back = jobs::decode_manifest(jobs::encode_manifest(m), "k");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->label, "snap1");
    EXPECT_EQ(back->cluster_id, "c0ffee");
    EXPECT_TRUE(back->complete);
    ASSERT_EQ(back->files.size(), 2u);
    const auto& f = back->files[1];
    EXPECT_EQ(f.tablet_id, 10010u);
    EXPECT_EQ(f.name, "10017_0.dat");
    EXPECT_EQ(f.size, 465u);
    EXPECT_EQ(f.hash.hex(), "0123456789abcdeffedcba9876543210");
    EXPECT_EQ(f.segment_checksum, 18265071909576215115ULL);
    EXPECT_TRUE(f.packed);
    EXPECT_EQ(f.offset, 4096u);
    EXPECT_EQ(f.encoding, "none");
    EXPECT_EQ(f.version, 7);
    EXPECT_FALSE(back->files[0].packed);
}

TEST(manifest, is_read_a_file_at_a_time_with_unknown_fields_skipped) {
    // The reader builds no document of the whole manifest: what it must still do.
    jobs::snapshot_manifest many = sample_manifest();
    while (many.files.size() < 2000) {
        jobs::manifest_file f = many.files[many.files.size() % 2];
        f.name = fmt::format("{}_0.dat", 20000 + many.files.size());
        many.files.push_back(f);
    }
    std::string text = jobs::encode_manifest(many);
    auto back = jobs::decode_manifest(text, "k");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    ASSERT_EQ(back->files.size(), 2000u);
    EXPECT_EQ(back->files[1999].name, "21999_0.dat");
    EXPECT_EQ(jobs::encode_manifest(*back), text);

    // Fields a newer writer may add, nested or not, at the root and in a file; escapes in keys
    // and values.
    std::string extended = replace(replace(replace(text, "{\"format_version\"", "{\"future\":{\"a\":[1,{\"b\":null}]},\"format_version\""),
                                           "\"rows\":", "\"more\":[[],{\"x\":\"y\"}],\"rows\":"),
                                   "\"label\":\"snap1\"", "\"l\\u0061bel\":\"sn\\u0061p1\"");
    auto read = jobs::decode_manifest(extended, "k");
    ASSERT_TRUE(read.has_value()) << read.error().message;
    EXPECT_EQ(read->label, "snap1");
    EXPECT_EQ(jobs::encode_manifest(*read), text);

    // Not a file where a file belongs, "files" of the wrong type, trailing bytes, not an object.
    for (auto [input, message] : {std::pair<std::string, std::string>{replace(text, "\"files\":[{", "\"files\":[7,{"),
                                                                        "manifest k is not valid: file 0 is not an object"},
                                  {replace(text, "\"files\":[{", "\"files\":[[],{"),
                                   "manifest k is not valid: file 0 is not an object"},
                                  {replace(replace(text, "\"files\":[", "\"files\":{\"x\":["), "]}", "]}}"),
                                   "manifest k is not valid: label, timestamp, cluster_id, complete or files is missing "
                                   "or of the wrong type"},
                                  {"{\"format_version\":1,\"label\":\"a\",\"timestamp\":\"t\",\"cluster_id\":\"c\","
                                   "\"complete\":true,\"files\":\"none\"}",
                                   "manifest k is not valid: label, timestamp, cluster_id, complete or files is missing "
                                   "or of the wrong type"},
                                  {text + "x", "manifest k is not valid: not JSON (extra data)"},
                                  {"[1]", "manifest k is not valid: not a JSON object"},
                                  {" 5", "manifest k is not valid: not a JSON object"}}) {
        auto got = jobs::decode_manifest(input, "k");
        ASSERT_FALSE(got.has_value()) << input.substr(0, 80);
        EXPECT_EQ(got.error().code, jobs::status_code::bad_file);
        EXPECT_EQ(got.error().message.substr(0, message.size()), message) << got.error().message;
    }
}

TEST(manifest, a_file_version_is_optional_and_checked) {
    std::string text = jobs::encode_manifest(sample_manifest());
    // Manifests written before versions were kept have none: 0, restored in rowset-id order.
    auto older = jobs::decode_manifest(replace(replace(text, "\"version\":7,", ""), "\"version\":7,", ""), "k");
    ASSERT_TRUE(older.has_value()) << older.error().message;
    EXPECT_EQ(older->files[0].version, 0);
    auto bad = jobs::decode_manifest(replace(text, "\"version\":7", "\"version\":\"7\""), "k");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("file 0 has a bad version"), std::string::npos) << bad.error().message;
}

TEST(manifest, refuses_paths_that_escape_and_names_the_object) {
    std::string text = jobs::encode_manifest(sample_manifest());
    for (auto [from, to] : {std::pair<std::string, std::string>{"\"p1\"", "\"../p1\""},
                            {"\"10016_0.dat\"", "\"/etc/passwd\""},
                            {"\"10016_0.dat\"", "\"..\""},
                            {"\"10016_0.dat\"", "\"a\\u0000b\""},
                            {"\"key\":\"__tabletvault_repository_r/__data", "\"key\":\"/__tabletvault_repository_r/__data"}}) {
        auto got = jobs::decode_manifest(replace(text, from, to), "repo/__ss_x/__manifest_ts.abc");
        ASSERT_FALSE(got.has_value()) << to;
        EXPECT_EQ(got.error().code, jobs::status_code::bad_file);
        EXPECT_NE(got.error().message.find("repo/__ss_x/__manifest_ts.abc"), std::string::npos) << got.error().message;
    }
}

TEST(manifest, refuses_absurd_sizes_deep_nesting_and_garbage) {
    std::string text = jobs::encode_manifest(sample_manifest());
    auto huge = jobs::decode_manifest(replace(text, "\"size\":465", "\"size\":18446744073709551615"), "k");
    ASSERT_FALSE(huge.has_value());
    EXPECT_NE(huge.error().message.find("claims 18446744073709551615 bytes"), std::string::npos);
    std::string deep = std::string(10000, '[') + std::string(10000, ']');
    auto nested = jobs::decode_manifest(deep, "k");
    ASSERT_FALSE(nested.has_value());
    EXPECT_NE(nested.error().message.find("not JSON"), std::string::npos);
    EXPECT_FALSE(jobs::decode_manifest("", "k").has_value());
    EXPECT_FALSE(jobs::decode_manifest("{\"format_version\":1}", "k").has_value());
    EXPECT_FALSE(jobs::decode_manifest(replace(text, "\"xxh3_128\":\"0123", "\"xxh3_128\":\"X123"), "k").has_value());
}

TEST(manifest, refuses_a_newer_format_or_an_unknown_encoding_as_unsupported) {
    std::string text = jobs::encode_manifest(sample_manifest());
    auto newer = jobs::decode_manifest(replace(text, "\"format_version\":1", "\"format_version\":2"), "key1");
    ASSERT_FALSE(newer.has_value());
    EXPECT_EQ(newer.error().code, jobs::status_code::unsupported);
    EXPECT_EQ(newer.error().message,
              "manifest key1 has format version 2, newer than this server reads (1); upgrade tabletvault to restore "
              "it");
    auto zstd = jobs::decode_manifest(replace(text, "\"encoding\":\"none\"", "\"encoding\":\"zstd\""), "key2");
    ASSERT_FALSE(zstd.has_value());
    EXPECT_EQ(zstd.error().code, jobs::status_code::unsupported);
    EXPECT_NE(zstd.error().message.find("encoding 'zstd'"), std::string::npos);
}

TEST(manifest, parse_hash128_takes_only_32_lowercase_hex) {
    EXPECT_TRUE(jobs::parse_hash128("0123456789abcdeffedcba9876543210").has_value());
    EXPECT_FALSE(jobs::parse_hash128("0123456789ABCDEFfedcba9876543210").has_value());
    EXPECT_FALSE(jobs::parse_hash128("0123").has_value());
    EXPECT_FALSE(jobs::parse_hash128("+123456789abcdeffedcba9876543210").has_value());
}

namespace {

jobs::job_info sample_info() {
    jobs::job_info info;
    info.name = "snap1";
    info.database = "sales";
    info.db_id = 10001;
    info.backup_time_ms = 1795276775782;
    info.format_version = 1;
    info.cluster_id = "c0ffee";
    info.meta_key = "__tabletvault_repository_r/__ss_snap1/__meta_ts.0123456789abcdeffedcba9876543210";
    info.manifest_key = "__tabletvault_repository_r/__ss_snap1/__manifest_ts.0123456789abcdeffedcba9876543210";
    jobs::info_table t{"orders", 10002, {}};
    t.partitions.push_back({"p1", 10003, 4, {{"orders", 10004, 0, {10010, 10011}}}});
    info.tables.push_back(t);
    info.tables.push_back({"v_orders", 10020, {}});
    info.functions.push_back("my_add");
    return info;
}

}  // namespace

TEST(job_info, uses_starrocks_field_names) {
    json::value v = json::parse(jobs::encode_job_info(sample_info()));
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("name").as_string(), "snap1");
    EXPECT_EQ(o.at("database").as_string(), "sales");
    EXPECT_EQ(o.at("id").to_number<uint64_t>(), 10001u);
    EXPECT_EQ(o.at("backup_time").to_number<int64_t>(), 1795276775782);
    EXPECT_EQ(o.at("backup_result").as_string(), "succeed");
    const auto& p1 = o.at("backup_objects").at("orders").at("partitions").at("p1").as_object();
    EXPECT_EQ(p1.at("version").to_number<uint64_t>(), 4u);
    EXPECT_EQ(p1.at("version_hash").to_number<int>(), 0);
    const auto& index = p1.at("indexes").at("orders").as_object();
    EXPECT_EQ(json::serialize(index.at("tablets_order")), R"(["10010","10011"])");
    EXPECT_TRUE(index.at("tablets").as_object().contains("10011"));
    EXPECT_TRUE(o.at("backup_objects").at("v_orders").at("partitions").as_object().empty()) << "a view";
}

TEST(job_info, round_trips) {
    auto back = jobs::decode_job_info(jobs::encode_job_info(sample_info()), "k");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    ASSERT_EQ(back->tables.size(), 2u);
    EXPECT_EQ(back->tables[0].partitions[0].indexes[0].tablets, (std::vector<int64_t>{10010, 10011}));
    EXPECT_EQ(back->manifest_key, sample_info().manifest_key);
    EXPECT_EQ(back->functions, std::vector<std::string>{"my_add"});
}

TEST(job_info, expire_time_is_written_only_when_set_and_read_back) {
    json::value forever = json::parse(jobs::encode_job_info(sample_info()));
    EXPECT_FALSE(forever.as_object().contains("expire_time")) << "a snapshot without ttl reads as older ones do";
    EXPECT_EQ(jobs::decode_job_info(json::serialize(forever), "k")->expire_time_ms, 0);
    jobs::job_info info = sample_info();
    info.expire_time_ms = 1795277375782;
    auto back = jobs::decode_job_info(jobs::encode_job_info(info), "k");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->expire_time_ms, 1795277375782);
    json::value bad = json::parse(jobs::encode_job_info(info));
    bad.as_object()["expire_time"] = "tomorrow";
    EXPECT_EQ(jobs::decode_job_info(json::serialize(bad), "k").error().message,
              "snapshot info k is not valid: expire_time is not a time in milliseconds");
    bad.as_object()["expire_time"] = uint64_t{1} << 62;  // far past year 9999
    EXPECT_FALSE(jobs::decode_job_info(json::serialize(bad), "k").has_value());
}

TEST(job_info, brief_is_pretty_with_one_space_and_no_ids) {
    jobs::job_info info = sample_info();
    info.functions.clear();
    info.tables.pop_back();
    EXPECT_EQ(jobs::brief_job_info(info), "{\n"
                                          " \"name\": \"snap1\",\n"
                                          " \"database\": \"sales\",\n"
                                          " \"backup_time\": 1795276775782,\n"
                                          " \"backup_result\": \"succeed\",\n"
                                          " \"backup_objects\": {\n"
                                          "  \"orders\": {\n"
                                          "   \"partitions\": {\n"
                                          "    \"p1\": {}\n"
                                          "   }\n"
                                          "  }\n"
                                          " }\n"
                                          "}");
}

TEST(job_info, refuses_foreign_newer_and_hostile_input) {
    auto starrocks = jobs::decode_job_info(R"({"name":"l","database":"d","backup_objects":{}})", "k1");
    ASSERT_FALSE(starrocks.has_value());
    EXPECT_NE(starrocks.error().message.find("not written by tabletvault"), std::string::npos);
    std::string text = jobs::encode_job_info(sample_info());
    auto newer = jobs::decode_job_info(replace(text, "\"tabletvault_format_version\":1",
                                               "\"tabletvault_format_version\":7"), "k2");
    ASSERT_FALSE(newer.has_value());
    EXPECT_EQ(newer.error().code, jobs::status_code::unsupported);
    auto escaping = jobs::decode_job_info(replace(text, "\"meta_key\":\"__tabletvault", "\"meta_key\":\"../x/__tabletvault"),
                                          "k3");
    EXPECT_FALSE(escaping.has_value());
    EXPECT_FALSE(jobs::decode_job_info(std::string(5000, '{'), "k4").has_value());
    // Past int64 (found by job_info_fuzz): refused by name, not wrapped into a negative time
    // that would be written back as a number no reader takes.
    auto huge = jobs::decode_job_info(replace(text, "\"backup_time\":1795276775782", "\"backup_time\":17965101796510459920"),
                                      "k5");
    ASSERT_FALSE(huge.has_value());
    EXPECT_EQ(huge.error().message, "snapshot info k5 is not valid: the number 17965101796510459920 is out of range");
    auto huge_id = jobs::decode_job_info(replace(text, "\"id\":10002", "\"id\":9223372036854775808"), "k6");
    ASSERT_FALSE(huge_id.has_value());
    EXPECT_EQ(huge_id.error().message, "snapshot info k6 is not valid: the number 9223372036854775808 is out of range");
}

TEST(job_error, status_text_is_starrocks_form) {
    EXPECT_EQ(jobs::make_job_error(jobs::status_code::ok, "").status_text(), "[OK]");
    EXPECT_EQ(jobs::make_job_error(jobs::status_code::common_error, "user cancelled").status_text(),
              "[COMMON_ERROR, msg: user cancelled]");
    EXPECT_EQ(jobs::make_job_error(jobs::status_code::timeout, "backup job with label: l timeout after 5 seconds.")
                  .status_text(),
              "[TIMEOUT, msg: backup job with label: l timeout after 5 seconds.]");
}
