// SPDX-License-Identifier: Apache-2.0
// LIKE patterns as SHOW ... LIKE and WHERE ... LIKE use them.
#include "sql/expression/like.hh"

#include <gtest/gtest.h>

using tv::sql::like_match;

TEST(like, wildcards_escapes_and_case) {
    EXPECT_TRUE(like_match("autocommit", "auto%"));
    EXPECT_TRUE(like_match("autocommit", "%commit"));
    EXPECT_TRUE(like_match("autocommit", "%to%it"));
    EXPECT_TRUE(like_match("abc", "a_c"));
    EXPECT_FALSE(like_match("abbc", "a_c"));
    EXPECT_TRUE(like_match("", "%"));
    EXPECT_FALSE(like_match("", "_"));
    EXPECT_TRUE(like_match("a_b", "a\\_b"));
    EXPECT_FALSE(like_match("axb", "a\\_b"));
    EXPECT_TRUE(like_match("50%", "50\\%"));
    EXPECT_FALSE(like_match("AUTOCOMMIT", "auto%"));
    EXPECT_TRUE(like_match("AUTOCOMMIT", "auto%", true));
    EXPECT_TRUE(like_match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%b"));
    EXPECT_FALSE(like_match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "%a%a%a%a%a%b"));
}
