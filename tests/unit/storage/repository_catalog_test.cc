// SPDX-License-Identifier: Apache-2.0
// Repositories in the catalog: create / drop with their errors, replay from the journal and
// from an image, the dump's masking of property values, and the metadata files' permissions
// now that they hold repository secrets.
#include "storage_test_util.hh"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tv::testing {
namespace {

namespace fs = std::filesystem;

repository make_repo(std::string name, bool read_only = false) {
    repository r;
    r.name = std::move(name);
    r.create_time_ms = 1700000000123;
    r.read_only = read_only;
    r.location = "s3://bucket/prefix";
    r.props = {{"aws.s3.access_key", "AKIAREPOTEST"}, {"aws.s3.secret_key", "s3cr3t-value"}};
    return r;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

CO_TEST(RepositoryCatalog, CreateFindDropAndErrors) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    auto r1 = make_repo("r1");
    auto id = co_await (*cat)->create_repository(std::move(r1));
    CO_ASSERT_OK(id);
    const repository* found = (*cat)->find_repository("r1");
    CO_ASSERT_TRUE(found != nullptr);
    EXPECT_EQ(found->id, *id);
    EXPECT_EQ(found->create_time_ms, 1700000000123);
    EXPECT_EQ(found->props.size(), 2u);

    auto again = make_repo("r1");
    CO_ASSERT_CAT_ERROR(co_await (*cat)->create_repository(std::move(again)), storage_errc::repository_exists,
                        "repository with same name already exist: r1");
    auto bad = make_repo("a/b");
    CO_ASSERT_CAT_ERROR(co_await (*cat)->create_repository(std::move(bad)), storage_errc::bad_name,
                        "Incorrect repository name 'a/b': '/' is not allowed");
    CO_ASSERT_CAT_ERROR(co_await (*cat)->drop_repository("nope"), storage_errc::unknown_repository,
                        "Repository [nope] does not exist");

    // No time given: now.
    repository r2 = make_repo("r2");
    r2.create_time_ms = 0;
    CO_ASSERT_OK(co_await (*cat)->create_repository(std::move(r2)));
    EXPECT_GT((*cat)->find_repository("r2")->create_time_ms, 1700000000123);

    CO_ASSERT_OK(co_await (*cat)->drop_repository("r1"));
    EXPECT_EQ((*cat)->find_repository("r1"), nullptr);
    EXPECT_EQ((*cat)->repositories().size(), 1u);
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(RepositoryCatalog, SurvivesReplayAndImage) {
    temp_dir dir;
    std::string before;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->create_repository(make_repo("keep", true)));
        CO_ASSERT_OK(co_await (*cat)->create_repository(make_repo("gone")));
        CO_ASSERT_OK(co_await (*cat)->drop_repository("gone"));
        before = (*cat)->dump();
        // No close(): the next open replays the journal alone.
    }
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        EXPECT_EQ((*cat)->dump(), before);
        const repository* r = (*cat)->find_repository("keep");
        CO_ASSERT_TRUE(r != nullptr);
        EXPECT_TRUE(r->read_only);
        EXPECT_EQ(r->location, "s3://bucket/prefix");
        EXPECT_EQ(r->props, make_repo("keep").props) << "secrets are kept: the server needs them";
        CO_ASSERT_OK(co_await (*cat)->checkpoint());
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    auto cat = co_await open_catalog(dir.path());  // from the image
    CO_ASSERT_OK(cat);
    EXPECT_EQ((*cat)->dump(), before);
    EXPECT_EQ((*cat)->find_repository("gone"), nullptr);
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(RepositoryCatalog, DumpMasksPropertyValuesAndFilesArePrivate) {
    temp_dir dir;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        CO_ASSERT_OK(co_await (*cat)->create_repository(make_repo("r")));
        std::string dump = (*cat)->dump();
        EXPECT_NE(dump.find("repository \"r\""), std::string::npos) << dump;
        EXPECT_NE(dump.find("\"aws.s3.secret_key\"=\"******\""), std::string::npos) << dump;
        EXPECT_EQ(dump.find("s3cr3t-value"), std::string::npos) << dump;
        EXPECT_EQ(dump.find("AKIAREPOTEST"), std::string::npos) << dump;
        CO_ASSERT_OK(co_await (*cat)->checkpoint());
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    struct stat st{};
    CO_ASSERT_EQ(::stat(dir.file("meta").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    bool secret_seen = false;
    for (const auto& e : fs::directory_iterator(dir.file("meta"))) {
        CO_ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
        secret_seen = secret_seen || read_file(e.path()).find("s3cr3t-value") != std::string::npos;
    }
    EXPECT_TRUE(secret_seen) << "the journal or image keeps the secret, in files only the owner reads";
}

}  // namespace
}  // namespace tv::testing
