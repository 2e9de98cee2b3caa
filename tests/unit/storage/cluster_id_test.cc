// SPDX-License-Identifier: Apache-2.0
// The data dir's cluster id: made once, the same after a reopen, different per data dir, and a
// damaged id file stops the catalog from opening rather than minting a new identity.
#include "storage/cluster_id.hh"
#include "unit/storage/storage_test_util.hh"

#include <fstream>

namespace tv::testing {
namespace {

using namespace tv::storage;

CO_TEST(cluster_id, made_once_and_kept_across_reopens) {
    temp_dir dir;
    std::string first;
    {
        auto cat = co_await open_catalog(dir.path());
        CO_ASSERT_OK(cat);
        first = (*cat)->cluster_id();
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    EXPECT_EQ(first.size(), 32u);
    EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos) << first;
    auto again = co_await open_catalog(dir.path());
    CO_ASSERT_OK(again);
    EXPECT_EQ((*again)->cluster_id(), first);
    CO_ASSERT_OK(co_await (*again)->close());

    temp_dir other;
    auto second = co_await open_cluster_id(other.path());
    CO_ASSERT_OK(second);
    EXPECT_NE(*second, first) << "another data dir is another cluster";
}

CO_TEST(cluster_id, a_damaged_id_file_is_an_error_not_a_new_identity) {
    temp_dir dir;
    std::ofstream(dir.file("cluster_id")) << "not-an-id\n";
    auto id = co_await open_cluster_id(dir.path());
    CO_ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error().code, storage_errc::corrupt_metadata);
    EXPECT_NE(id.error().message.find(dir.file("cluster_id")), std::string::npos) << id.error().message;
}

}  // namespace
}  // namespace tv::testing
