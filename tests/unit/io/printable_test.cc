// SPDX-License-Identifier: Apache-2.0
// Escaping for logs and error messages: control bytes, invalid UTF-8, caps on a character boundary.
#include "io/printable.hh"

#include <gtest/gtest.h>

#include <string>

namespace tv {
namespace {

TEST(printable, valid_utf8) {
    EXPECT_TRUE(valid_utf8(""));
    EXPECT_TRUE(valid_utf8("plain"));
    EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe6\x95\xb0 \xf0\x9f\x98\x80"));
    EXPECT_FALSE(valid_utf8("\xff\xfe"));
    EXPECT_FALSE(valid_utf8("d\xc3")) << "cut inside a character";
    EXPECT_FALSE(valid_utf8("\xc0\xaf")) << "overlong '/'";
    EXPECT_FALSE(valid_utf8("\xed\xa0\x80")) << "a surrogate";
    EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80")) << "past U+10FFFF";
}

TEST(printable, escape_control_keeps_one_line) {
    EXPECT_EQ(escape_control("user\nforged"), "user\\nforged");
    EXPECT_EQ(escape_control("a\r\tb"), "a\\r\\tb");
    EXPECT_EQ(escape_control(std::string("\x1b[2K\x7f\0", 6)), "\\x1B[2K\\x7F\\x00");
    EXPECT_EQ(escape_control("caf\xc3\xa9"), "caf\xc3\xa9") << "UTF-8 passes";
    EXPECT_EQ(escape_control("\xff"), "\xff") << "logs keep other bytes as they are";
}

TEST(printable, excerpt_escapes_and_caps) {
    EXPECT_EQ(printable_excerpt("\xff\xfe", 100), "\\xFF\\xFE");
    EXPECT_EQ(printable_excerpt("a\nb", 100), "a\\nb");
    EXPECT_EQ(printable_excerpt(std::string(300, 'n'), 100), std::string(100, 'n') + "...");
    EXPECT_EQ(printable_excerpt("abc", 3), "abc");
    // A two-byte character that would cross the cap is left out whole.
    EXPECT_EQ(printable_excerpt("ab\xc3\xa9", 3), "ab...");
}

TEST(printable, value_says_the_size_when_cut) {
    EXPECT_EQ(printable_value("short"), "short");
    EXPECT_EQ(printable_value(std::string(300, 'x')), std::string(256, 'x') + "... (300 bytes)");
    EXPECT_EQ(printable_value("\x1b[31m" + std::string(100, 'x'), 8), "\\x1B[31mxxx... (105 bytes)");
}

}  // namespace
}  // namespace tv
