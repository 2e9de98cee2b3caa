// SPDX-License-Identifier: Apache-2.0
// Virtual-hosted addressing against the RADOS Gateway (bucket in the Host name, as AWS wants it;
// the gateway serves BUCKET.localhost), and how repository properties choose the addressing.
#include "support/co_test.hh"
#include "unit/remote/s3_test_util.hh"

#include "remote/repository_config.hh"
#include "remote/s3_client.hh"

using namespace tv;
using namespace tv::remote;
using tv::testing::bytes_of;

namespace {

CO_TEST(s3_addressing, virtual_hosted_requests_put_get_list_and_delete) {
    CO_REQUIRE_RGW();
    std::string bucket = tv::testing::unique_bucket("tv-vhost");
    auto path_client = tv::testing::rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await path_client.create_bucket());

    auto options = tv::testing::rgw_options(bucket);
    options.addressing = s3_addressing::virtual_hosted;
    options.endpoint_host = "localhost";  // the request goes to <bucket>.localhost
    options.connect_host = tv::testing::rgw().host;
    s3_client client(options, tv::testing::rgw_credentials());
    std::string body = tv::testing::pattern_bytes(70'000, 3);
    S3_CO_ASSERT_OK(co_await client.put_object("dir/v key+1", bytes_of(body)));
    auto got = co_await client.get_object("dir/v key+1");
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == body);
    auto listed = co_await client.list_all("dir/");
    S3_CO_ASSERT_OK(listed);
    TV_CO_ASSERT(ASSERT_EQ(listed->size(), 1u));
    EXPECT_EQ((*listed)[0].key, "dir/v key+1");
    // The same object through path-style addressing: one bucket, two ways to name it.
    auto through_path = co_await path_client.get_object("dir/v key+1");
    S3_CO_ASSERT_OK(through_path);
    EXPECT_TRUE(*through_path == body);
    S3_CO_ASSERT_OK(co_await client.delete_object("dir/v key+1"));
    auto gone = co_await path_client.head_object("dir/v key+1");
    EXPECT_FALSE(gone.has_value());
}

TEST(s3_addressing, an_endpoint_means_path_style_and_aws_means_virtual_hosted) {
    auto custom = parse_repository_config("s3://b/p", {{"aws.s3.endpoint", "http://10.0.0.5:7480"},
                                                       {"aws.s3.access_key", "AK"},
                                                       {"aws.s3.secret_key", "SK"}});
    ASSERT_TRUE(custom.has_value()) << custom.error().message;
    EXPECT_TRUE(custom->path_style);
    auto aws = parse_repository_config("s3://b/p", {{"aws.s3.region", "eu-west-1"},
                                                    {"aws.s3.access_key", "AK"},
                                                    {"aws.s3.secret_key", "SK"}});
    ASSERT_TRUE(aws.has_value()) << aws.error().message;
    EXPECT_FALSE(aws->path_style);
    auto forced = parse_repository_config("s3://b/p", {{"aws.s3.endpoint", "http://10.0.0.5:7480"},
                                                       {"aws.s3.enable_path_style_access", "false"},
                                                       {"aws.s3.access_key", "AK"},
                                                       {"aws.s3.secret_key", "SK"}});
    ASSERT_TRUE(forced.has_value()) << forced.error().message;
    EXPECT_FALSE(forced->path_style);
}

}  // namespace
