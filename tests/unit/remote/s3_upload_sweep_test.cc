// SPDX-License-Identifier: Apache-2.0
// Orphaned multipart uploads against the RADOS Gateway: ListMultipartUploads under a prefix,
// paged by key and upload-id markers, with the time each began; and the S3 store's sweep, which
// aborts only the uploads of its repository that nobody keeps and that are past the grace.
#include "support/co_test.hh"
#include "unit/remote/s3_test_util.hh"

#include "remote/s3_client.hh"

#include <algorithm>
#include <chrono>
#include <set>

using namespace tv;
using namespace tv::remote;
using tv::testing::rgw_client;
using tv::testing::unique_bucket;

namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// "key upload-id" of every upload under `prefix`, sorted.
io::task<std::set<std::string>> open_uploads(s3_client* client, std::string prefix) {
    std::set<std::string> out;
    auto listed = co_await client->list_all_multipart_uploads(std::move(prefix));
    if (listed) {
        for (const auto& u : *listed) {
            out.insert(u.key + " " + u.upload_id);
        }
    } else {
        out.insert("<error> " + listed.error().message);
    }
    co_return out;
}

}  // namespace

CO_TEST(s3_upload_sweep, list_multipart_uploads_pages_by_markers_and_reads_initiated) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-mpu-list");
    auto client = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    int64_t before = now_ms();
    std::set<std::string> expected;
    // Two uploads of one key: the upload-id marker, not only the key marker, must move a page on.
    for (std::string key : {"p/a", "p/a", "p/b", "p/c d", "p/e"}) {
        auto id = co_await client.create_multipart_upload(key);
        S3_CO_ASSERT_OK(id);
        expected.insert(key + " " + *id);
    }
    S3_CO_ASSERT_OK(co_await client.create_multipart_upload("pother/x"));
    int64_t after = now_ms();

    auto first = co_await client.list_multipart_uploads("p/", "", "", 2);
    S3_CO_ASSERT_OK(first);
    EXPECT_EQ(first->uploads.size(), 2u);
    EXPECT_TRUE(first->truncated);
    EXPECT_FALSE(first->next_key_marker.empty());

    auto all = co_await client.list_all_multipart_uploads("p/", 2);
    S3_CO_ASSERT_OK(all);
    std::set<std::string> seen;
    for (const auto& u : *all) {
        seen.insert(u.key + " " + u.upload_id);
        // The gateway's clock is this machine's; its dates have second precision.
        EXPECT_GE(u.initiated_ms, before - 2000) << u.key;
        EXPECT_LE(u.initiated_ms, after + 2000) << u.key;
    }
    EXPECT_EQ(all->size(), 5u) << "each upload once, none from pother/";
    EXPECT_EQ(seen, expected);
}

CO_TEST(s3_upload_sweep, sweep_aborts_only_unkept_uploads_of_its_repository_past_the_grace) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-mpu-sweep");
    auto client = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    s3_object_store store(tv::testing::rgw_options(bucket), tv::testing::rgw_credentials(), "loc/");
    const std::string root = "__tabletvault_repository_r/";
    auto resumed = co_await client.create_multipart_upload("loc/" + root + "data/kept");
    auto orphan1 = co_await client.create_multipart_upload("loc/" + root + "data/orphan");
    auto orphan2 = co_await client.create_multipart_upload("loc/" + root + "pack/orphan");
    auto other_repo = co_await client.create_multipart_upload("loc/__tabletvault_repository_r2/data/x");
    auto outside = co_await client.create_multipart_upload("elsewhere/" + root + "data/y");
    S3_CO_ASSERT_OK(resumed);
    S3_CO_ASSERT_OK(orphan1);
    S3_CO_ASSERT_OK(orphan2);
    S3_CO_ASSERT_OK(other_repo);
    S3_CO_ASSERT_OK(outside);
    auto before = co_await open_uploads(&client, "");
    CO_ASSERT_EQ(before.size(), 5u);

    // Within the grace every upload may be another server's live one: none goes.
    sweep_scope young{root, {*resumed}, 3'600'000, now_ms()};
    auto none = co_await store.sweep_abandoned_writes(young);
    S3_CO_ASSERT_OK(none);
    EXPECT_EQ(*none, 0u);
    auto after_young = co_await open_uploads(&client, "");
    EXPECT_EQ(after_young, before);

    // Past it, the two orphans of the repository go; the kept one, the other repository's and
    // the one outside the store's prefix stay.
    sweep_scope old{root, {*resumed}, 1'000, now_ms() + 10'000};
    auto swept = co_await store.sweep_abandoned_writes(old);
    S3_CO_ASSERT_OK(swept);
    EXPECT_EQ(*swept, 2u);
    std::set<std::string> left{
        "loc/" + root + "data/kept " + *resumed,
        "loc/__tabletvault_repository_r2/data/x " + *other_repo,
        "elsewhere/" + root + "data/y " + *outside,
    };
    auto after_old = co_await open_uploads(&client, "");
    EXPECT_EQ(after_old, left);

    // The kept upload is still usable: its owner completes it.
    std::string body = "resumed after the sweep";
    auto etag = co_await client.upload_part("loc/" + root + "data/kept", *resumed, 1, tv::testing::bytes_of(body));
    S3_CO_ASSERT_OK(etag);
    std::vector<s3_part> parts{s3_part{1, *etag, body.size()}};
    S3_CO_ASSERT_OK(co_await client.complete_multipart_upload("loc/" + root + "data/kept", *resumed, parts));
    auto got = co_await store.get(root + "data/kept");
    S3_CO_ASSERT_OK(got);
    EXPECT_EQ(*got, body);

    // A second sweep finds nothing more to do.
    sweep_scope again{root, {}, 1'000, now_ms() + 10'000};
    auto nothing = co_await store.sweep_abandoned_writes(again);
    S3_CO_ASSERT_OK(nothing);
    EXPECT_EQ(*nothing, 0u);
}

CO_TEST(s3_upload_sweep, another_clusters_data_uploads_stay_whatever_their_age) {
    CO_REQUIRE_RGW();
    std::string bucket = unique_bucket("tv-mpu-own");
    auto client = rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await client.create_bucket());
    s3_object_store store(tv::testing::rgw_options(bucket), tv::testing::rgw_credentials(), "loc/");
    const std::string root = "__tabletvault_repository_r/";
    auto ours = co_await client.create_multipart_upload("loc/" + root + "__data/c1/10/1_0.dat");
    auto theirs = co_await client.create_multipart_upload("loc/" + root + "__data/c2/10/1_0.dat");
    auto manifest = co_await client.create_multipart_upload("loc/" + root + "__ss_l/__manifest_x");
    S3_CO_ASSERT_OK(ours);
    S3_CO_ASSERT_OK(theirs);
    S3_CO_ASSERT_OK(manifest);
    // Past the grace: ours and the manifest's go; the other cluster's file, maybe hours into a
    // slow upload, stays.
    sweep_scope old{root, {}, 1'000, now_ms() + 10'000};
    old.shared_prefix = root + "__data/";
    old.own_prefix = root + "__data/c1/";
    auto swept = co_await store.sweep_abandoned_writes(old);
    S3_CO_ASSERT_OK(swept);
    EXPECT_EQ(*swept, 2u);
    auto left = co_await open_uploads(&client, "");
    EXPECT_EQ(left, (std::set<std::string>{"loc/" + root + "__data/c2/10/1_0.dat " + *theirs}));
}

