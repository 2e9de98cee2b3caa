// SPDX-License-Identifier: Apache-2.0
// Configuration: defaults, validation messages, the file format, and docs kept in step with
// the registry.
#include "server/config.hh"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using tv::server::config;

namespace {

std::string write_temp(const std::string& text) {
    std::string path = ::testing::TempDir() + "tv-config-test.conf";
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST(config, defaults_are_those_documented) {
    config c;
    EXPECT_EQ(c.get<"http_port">(), 8030);
    EXPECT_EQ(c.get<"io_threads">(), 0);
    EXPECT_EQ(c.get<"data_dir">(), "./tv-data");
    EXPECT_EQ(c.get<"log_level">(), "info");
}

TEST(config, unknown_key_is_named) {
    config c;
    auto error = c.set("max_bandwith", "10");
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(*error, "unknown config key 'max_bandwith' (`tabletvault config-reference` lists every key)");
}

TEST(config, bad_values_name_key_value_and_what_is_allowed) {
    config c;
    auto not_a_number = c.set("io_threads", "many");
    ASSERT_TRUE(not_a_number.has_value());
    EXPECT_EQ(*not_a_number, "config key 'io_threads': invalid value 'many'; allowed: an integer from 0 to 256");
    auto out_of_range = c.set("http_port", "70000");
    ASSERT_TRUE(out_of_range.has_value());
    EXPECT_EQ(*out_of_range, "config key 'http_port': invalid value '70000'; allowed: an integer from 0 to 65535");
    auto bad_choice = c.set("log_level", "verbose");
    ASSERT_TRUE(bad_choice.has_value());
    EXPECT_EQ(*bad_choice, "config key 'log_level': invalid value 'verbose'; allowed: one of debug, info, warn, error");
    EXPECT_EQ(c.get<"io_threads">(), 0) << "a rejected value changes nothing";
}

TEST(config, sizes_accept_binary_suffixes) {
    EXPECT_EQ(tv::server::parse_size("4096"), 4096);
    EXPECT_EQ(tv::server::parse_size("256M"), 256 << 20);
    EXPECT_EQ(tv::server::parse_size("1g"), int64_t{1} << 30);
    EXPECT_EQ(tv::server::parse_size("2K"), 2048);
    EXPECT_FALSE(tv::server::parse_size("-1").has_value());
    EXPECT_FALSE(tv::server::parse_size("1.5G").has_value());
    EXPECT_FALSE(tv::server::parse_size("G").has_value());
}

TEST(config, file_with_comments_blank_lines_and_spaces) {
    config c;
    auto path = write_temp("# tabletvault\n\n  http_port = 9999   # trailing comment\nlog_level=debug\n");
    EXPECT_FALSE(c.load_file(path).has_value());
    EXPECT_EQ(c.get<"http_port">(), 9999);
    EXPECT_EQ(c.get<"log_level">(), "debug");
}

TEST(config, file_errors_name_the_line) {
    config c;
    auto path = write_temp("http_port = 1\nthis line has no equals\n");
    auto error = c.load_file(path);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(*error, path + ":2: expected 'key = value', got 'this line has no equals'");
    auto path2 = write_temp("io_threads = -3\n");
    auto error2 = config{}.load_file(path2);
    ASSERT_TRUE(error2.has_value());
    EXPECT_EQ(*error2, path2 + ":1: config key 'io_threads': invalid value '-3'; allowed: an integer from 0 to 256");
    auto missing = config{}.load_file("/nonexistent/tv.conf");
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(*missing, "cannot read config file '/nonexistent/tv.conf'");
}

TEST(config, docs_list_every_key_exactly_as_the_registry_does) {
    std::ifstream doc(std::string(TV_SOURCE_DIR) + "/docs/configuration.md");
    ASSERT_TRUE(doc.good()) << "docs/configuration.md is missing";
    std::stringstream text;
    text << doc.rdbuf();
    const std::string begin = "<!-- config-keys:begin -->\n";
    const std::string end = "<!-- config-keys:end -->";
    auto b = text.str().find(begin);
    auto e = text.str().find(end);
    ASSERT_NE(b, std::string::npos);
    ASSERT_NE(e, std::string::npos);
    EXPECT_EQ(text.str().substr(b + begin.size(), e - b - begin.size()), tv::server::config_reference_markdown())
        << "regenerate the table with `tabletvault config-reference`";
}
