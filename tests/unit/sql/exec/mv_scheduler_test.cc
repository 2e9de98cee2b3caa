// SPDX-License-Identifier: Apache-2.0
// The refresh schedule's arithmetic: EVERY intervals as the catalog keeps them, and due times.
#include "sql/exec/mv_scheduler.hh"

#include <gtest/gtest.h>

namespace tv::sql {
namespace {

using std::chrono::seconds;

TEST(MvSchedule, ParsesIntervals) {
    EXPECT_EQ(parse_refresh_interval("INTERVAL 1 SECOND"), seconds(1));
    EXPECT_EQ(parse_refresh_interval("INTERVAL 5 MINUTE"), seconds(300));
    EXPECT_EQ(parse_refresh_interval("INTERVAL 2 HOUR"), seconds(7200));
    EXPECT_EQ(parse_refresh_interval("INTERVAL 1 DAY"), seconds(86400));
    EXPECT_EQ(parse_refresh_interval("INTERVAL 1 WEEK"), seconds(7 * 86400));
    EXPECT_EQ(parse_refresh_interval("INTERVAL 1 MONTH"), seconds(30 * 86400));
    EXPECT_EQ(parse_refresh_interval("INTERVAL 0 DAY"), std::nullopt);
    EXPECT_EQ(parse_refresh_interval("INTERVAL -1 DAY"), std::nullopt);
    EXPECT_EQ(parse_refresh_interval("INTERVAL 1 FORTNIGHT"), std::nullopt);
    EXPECT_EQ(parse_refresh_interval("1 DAY"), std::nullopt);
    EXPECT_EQ(parse_refresh_interval(""), std::nullopt);
}

TEST(MvSchedule, NextDueTimeFollowsTheGridFromStart) {
    auto start = std::chrono::system_clock::time_point(seconds(1000));
    EXPECT_EQ(next_refresh(start, seconds(60), start - seconds(5)), start);  // start still ahead
    EXPECT_EQ(next_refresh(start, seconds(60), start), start + seconds(60));
    EXPECT_EQ(next_refresh(start, seconds(60), start + seconds(59)), start + seconds(60));
    EXPECT_EQ(next_refresh(start, seconds(60), start + seconds(60)), start + seconds(120));
    // Missed periods are skipped, not replayed one by one.
    EXPECT_EQ(next_refresh(start, seconds(60), start + seconds(601)), start + seconds(660));
}

}  // namespace
}  // namespace tv::sql
