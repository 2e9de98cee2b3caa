// SPDX-License-Identifier: Apache-2.0
// Local repository locations: normalization, symlinks resolved before the checks, the data
// directory refused (itself, inside, around), local_repository_roots enforced and parsed.
#include "remote/local_location.hh"

#include "support/co_test.hh"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>

namespace tv::remote {
namespace {

namespace fs = std::filesystem;

struct layout {
    tv::testing::temp_dir tmp;
    std::string data = tmp.file("data");
    std::string allowed = tmp.file("allowed");
    std::string outside = tmp.file("outside");
    layout() {
        fs::create_directories(data);
        fs::create_directories(allowed);
        fs::create_directories(outside);
        fs::create_directory_symlink(outside, allowed + "/link");
        fs::create_directory_symlink(data, allowed + "/to-data");
    }
};

std::string refused(const std::string& path, const local_location_rules& rules) {
    auto r = check_local_location(path, path, rules);
    EXPECT_FALSE(r.has_value()) << path << " was accepted as " << (r ? *r : "");
    if (r) {
        return {};
    }
    EXPECT_EQ(r.error().code, remote_errc::bad_config);
    return r.error().message;
}

TEST(LocalLocation, NormalizeRemovesEmptyAndDotSegmentsAndRefusesDotDot) {
    EXPECT_EQ(*normalize_local_path("/a//b/./c/", "x"), "/a/b/c");
    EXPECT_EQ(*normalize_local_path("/", "x"), "/");
    EXPECT_EQ(*normalize_local_path("//./", "x"), "/");
    EXPECT_EQ(normalize_local_path("/a/../b", "repository location").error().message,
              "Invalid repository location '/a/../b': '..' segments are not allowed");
    EXPECT_EQ(normalize_local_path("a/b", "repository location").error().message,
              "Invalid repository location 'a/b': it must be an absolute path");
}

TEST(LocalLocation, TheDataDirectoryItsInsideAndItsParentsAreRefused) {
    layout l;
    local_location_rules rules{l.data, {}};
    EXPECT_EQ(refused(l.data, rules), fmt::format("Repository location '{0}' is inside the server's data directory "
                                                  "{0}: choose a directory outside it",
                                                  l.data));
    EXPECT_NE(refused(l.data + "/storage/new", rules).find("is inside the server's data directory"), std::string::npos);
    EXPECT_NE(refused(l.tmp.path(), rules).find("contains the server's data directory"), std::string::npos);
    EXPECT_NE(refused("/", rules).find("contains the server's data directory"), std::string::npos);
    // Through a symlink: the resolved path is what counts, and the message shows it.
    auto via_link = refused(l.allowed + "/to-data/x", rules);
    EXPECT_NE(via_link.find(fmt::format("(resolved to {}/x) is inside", l.data)), std::string::npos) << via_link;
    // A sibling whose name starts like the data directory's is not inside it.
    auto sibling = check_local_location(l.data + "-backups", l.data + "-backups", rules);
    ASSERT_TRUE(sibling.has_value()) << sibling.error().message;
    EXPECT_EQ(*sibling, l.data + "-backups");
}

TEST(LocalLocation, RootsConfineLocationsAfterSymlinksAreResolved) {
    layout l;
    local_location_rules rules{l.data, {l.allowed, l.tmp.file("second")}};
    auto inside = check_local_location(l.allowed + "/r/s", l.allowed + "/r/s", rules);
    ASSERT_TRUE(inside.has_value()) << inside.error().message;
    EXPECT_EQ(*inside, l.allowed + "/r/s");
    auto root_itself = check_local_location(l.tmp.file("second"), l.tmp.file("second"), rules);
    EXPECT_TRUE(root_itself.has_value()) << "a root that does not exist yet is still a root";
    EXPECT_EQ(refused(l.outside + "/r", rules),
              fmt::format("Repository location '{0}/r' is outside the directories local repositories may use "
                          "(local_repository_roots: {1}, {2})",
                          l.outside, l.allowed, l.tmp.file("second")));
    auto through_link = refused(l.allowed + "/link/r", rules);
    EXPECT_NE(through_link.find(fmt::format("(resolved to {}/r) is outside", l.outside)), std::string::npos)
        << through_link;
    EXPECT_NE(refused("/etc", rules).find("is outside the directories"), std::string::npos);
    EXPECT_NE(refused(l.allowed + "x", rules).find("is outside"), std::string::npos) << "a prefix is not a parent";
}

TEST(LocalLocation, RootsParseAsACommaList) {
    EXPECT_TRUE(parse_local_roots("")->empty());
    EXPECT_TRUE(parse_local_roots(" , ")->empty());
    EXPECT_EQ(*parse_local_roots(" /backups/ ,/mnt//nfs/./tv"), (std::vector<std::string>{"/backups", "/mnt/nfs/tv"}));
    EXPECT_EQ(parse_local_roots("/ok,relative").error().message,
              "Invalid local_repository_roots entry 'relative': it must be an absolute path");
    EXPECT_NE(parse_local_roots("/a/../b").error().message.find("'..' segments are not allowed"), std::string::npos);
}

}  // namespace
}  // namespace tv::remote
