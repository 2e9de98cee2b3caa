// SPDX-License-Identifier: Apache-2.0
// STS AssumeRole against moto_server with signature checking on: the temporary credentials
// (session token included) used on moto's S3, the external id, a wrong base secret, a role
// assumed with instance-profile keys; and repositories opened with a role or an instance profile.
#include "unit/remote/credentials_test_util.hh"

#include "remote/repository.hh"
#include "remote/repository_config.hh"

using namespace tv;
using namespace tv::remote;
using namespace tv::testing;
using namespace std::chrono_literals;

// ---- STS AssumeRole on moto ------------------------------------------------------------------------

CO_TEST(assume_role, temporary_credentials_work_on_moto_s3) {
    REQUIRE_MOTO();
    auto role_ready = co_await ensure_moto_role();
    CO_ASSERT_EQ(role_ready, "");
    auto options = moto_role_options();
    options.external_id = "tv-external-42";
    auto provider = assume_role_credentials_provider::create(options, moto_keys());
    CO_ASSERT_RESULT(provider);
    auto& role = **provider;
    auto temporary = co_await role.get();
    CO_ASSERT_RESULT(temporary);
    EXPECT_TRUE(temporary->access_key.starts_with("ASIA")) << temporary->access_key;
    EXPECT_NE(temporary->access_key, tv::testing::moto().access_key);
    EXPECT_FALSE(temporary->session_token.empty());
    EXPECT_EQ(co_await moto_external_id(temporary->access_key), "tv-external-42");

    // moto checks the signature and that the session token belongs to the temporary key.
    s3_client client(tv::testing::moto_options("tv-creds-role"), *provider);
    auto made = co_await client.create_bucket();
    CO_ASSERT_RESULT(made);
    std::string body = "written with assumed-role credentials";
    auto put = co_await client.put_object("role.txt", bytes_of(body));
    CO_ASSERT_RESULT(put);
    auto back = co_await client.get_object("role.txt");
    CO_ASSERT_RESULT(back);
    EXPECT_EQ(*back, body);
    EXPECT_EQ(role.fetches(), 1u) << "an hour-long session is assumed once";

    s3_client no_token(tv::testing::moto_options("tv-creds-role"),
                       aws_credentials{temporary->access_key, temporary->secret_key, ""});
    auto refused = co_await no_token.get_object("role.txt");
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().http_status, 403) << refused.error().message;
}

CO_TEST(assume_role, wrong_base_secret_is_a_clear_sts_error) {
    REQUIRE_MOTO();
    auto provider = assume_role_credentials_provider::create(moto_role_options(), moto_keys("WrongSecret0123456789"));
    CO_ASSERT_RESULT(provider);
    auto got = co_await (*provider)->get();
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, remote_errc::permission_denied);
    std::string want = fmt::format(
        "assume role {}: SignatureDoesNotMatch: The request signature we calculated does not match the signature you "
        "provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details. (HTTP 403 from STS at {})",
        role_arn, moto().endpoint_url());
    EXPECT_EQ(got.error().message.substr(0, want.size()), want) << got.error().message;
    EXPECT_EQ(got.error().message.find("WrongSecret"), std::string::npos) << "no secret in messages";

    // Through the client: refused at once, not retried, and the store sees permission_denied.
    s3_client client(fast_retries(moto_options("tv-creds-role")), *provider);
    auto put = co_await client.put_object("k", bytes_of("x"));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().kind, s3_error_kind::credentials);
    EXPECT_EQ(put.error().attempts, 1);
    EXPECT_EQ(put.error().message, "PutObject s3://tv-creds-role/k: " + got.error().message);
    EXPECT_EQ(put.error().to_remote_error().code, remote_errc::permission_denied);
}

CO_TEST(assume_role, invalid_request_is_a_configuration_error) {
    REQUIRE_MOTO();
    auto options = moto_role_options();
    options.session_name = std::string(70, 's');  // STS allows 64 characters
    auto provider = assume_role_credentials_provider::create(options, moto_keys());
    CO_ASSERT_RESULT(provider);
    auto got = co_await (*provider)->get();
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, remote_errc::bad_config);
    EXPECT_FALSE(got.error().retryable);
    EXPECT_TRUE(got.error().message.starts_with(fmt::format("assume role {}: ValidationError: ", role_arn)))
        << got.error().message;
}

CO_TEST(assume_role, unreachable_sts_is_a_clear_error) {
    auto options = moto_role_options();
    options.endpoint = fmt::format("http://127.0.0.1:{}", closed_port());
    auto provider = assume_role_credentials_provider::create(options, moto_keys("unused"));
    CO_ASSERT_RESULT(provider);
    auto got = co_await (*provider)->get();
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, remote_errc::io_error);
    EXPECT_TRUE(got.error().retryable);
    EXPECT_EQ(got.error().message,
              fmt::format("assume role {}: could not reach endpoint {}: connection failed", role_arn, options.endpoint));
    EXPECT_EQ(got.error().unreachable_endpoint, options.endpoint);
}

static io::task<void> role_on_instance_profile(imds_server* server) {
    imds_options imds;
    imds.endpoint = server->url();
    auto base = imds_credentials_provider::create(imds);
    CO_ASSERT_RESULT(base);
    auto provider = assume_role_credentials_provider::create(moto_role_options(), *base);
    CO_ASSERT_RESULT(provider);
    s3_client client(moto_options("tv-creds-role-imds"), *provider);
    auto made = co_await client.create_bucket();
    CO_ASSERT_RESULT(made);
    std::string body = "instance profile -> AssumeRole -> S3";
    CO_ASSERT_RESULT(co_await client.put_object("chain.txt", bytes_of(body)));
    auto back = co_await client.get_object("chain.txt");
    CO_ASSERT_RESULT(back);
    EXPECT_EQ(*back, body);
    EXPECT_EQ(server->credential_requests, 1);
    EXPECT_EQ((*provider)->fetches(), 1u);
    EXPECT_EQ((*provider)->describe(), fmt::format("assume role {} at {} with instance profile (IMDS at {})", role_arn,
                                                   moto().endpoint_url(), server->url()));

    // A base that fails names both layers.
    server->role_attached = false;
    auto lonely = imds_credentials_provider::create(imds);
    auto failing = assume_role_credentials_provider::create(moto_role_options(), *lonely);
    auto got = co_await (*failing)->get();
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().message,
              fmt::format("assume role {}: base credentials: instance profile credentials: no IAM role is attached "
                          "to this instance (IMDS at {} answered 404 for /latest/meta-data/iam/security-credentials/)",
                          role_arn, server->url()));
}

CO_TEST(assume_role, with_instance_profile_keys) {
    REQUIRE_MOTO();
    auto role_ready = co_await ensure_moto_role();
    CO_ASSERT_EQ(role_ready, "");
    imds_server server;
    // Long-term IAM keys with no token: moto refuses a session token on an IAM user's key.
    server.handed = aws_credentials{moto().access_key, moto().secret_key, ""};
    CO_ASSERT_TRUE(server.bind());
    co_await with_imds(&server, role_on_instance_profile(&server));
}

// ---- repositories ----------------------------------------------------------------------------------

CO_TEST(repository_credentials, role_with_static_keys_opens_a_store) {
    REQUIRE_MOTO();
    auto role_ready = co_await ensure_moto_role();
    CO_ASSERT_EQ(role_ready, "");
    s3_client setup(moto_options("tv-creds-repo"), aws_credentials{moto().access_key, moto().secret_key, ""});
    CO_ASSERT_RESULT(co_await setup.create_bucket());
    property_list props{{"aws.s3.endpoint", moto().endpoint_url()},
                        {"aws.s3.access_key", moto().access_key},
                        {"aws.s3.secret_key", moto().secret_key},
                        {"aws.s3.iam_role_arn", std::string(role_arn)},
                        {"aws.s3.external_id", "tv-repo-external"}};
    auto config = parse_repository_config("s3://tv-creds-repo/backups", props);
    CO_ASSERT_RESULT(config);
    // No aws.s3.sts_endpoint: the repository's own endpoint serves STS.
    EXPECT_EQ(config->sts_endpoint, moto().endpoint_url());
    auto store = open_store(*config);
    CO_ASSERT_RESULT(store);
    auto created = co_await ping_repository(**store, "role_repo", false, 1700000000000);
    CO_ASSERT_RESULT(created);
    auto info = co_await setup.get_object("backups/__tabletvault_repository_role_repo/__repo_info");
    CO_ASSERT_RESULT(info);
    EXPECT_NE(info->find("role_repo"), std::string::npos);

    // A role the base keys cannot assume (wrong secret): CREATE REPOSITORY's store error.
    props[2].second = "WrongSecret0123456789";
    auto wrong = parse_repository_config("s3://tv-creds-repo/backups", props);
    CO_ASSERT_RESULT(wrong);
    auto wrong_store = open_store(*wrong);
    CO_ASSERT_RESULT(wrong_store);
    auto refused = co_await ping_repository(**wrong_store, "role_repo", true, 1700000000000);
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, remote_errc::permission_denied);
    EXPECT_TRUE(refused.error().message.starts_with(
        fmt::format("GetObject s3://tv-creds-repo/backups/__tabletvault_repository_role_repo/__repo_info: assume "
                    "role {}: SignatureDoesNotMatch: ",
                    role_arn)))
        << refused.error().message;
}

static io::task<void> instance_profile_repository(imds_server* server) {
    property_list props{{"aws.s3.endpoint", rgw().endpoint_url()},
                        {"aws.s3.region", rgw().region},
                        {"aws.s3.use_instance_profile", "true"},
                        {"aws.s3.imds_endpoint", server->url()}};
    auto config = parse_repository_config("s3://tv-creds-profile/repo", props);
    CO_ASSERT_RESULT(config);
    s3_client setup(rgw_options("tv-creds-profile"), aws_credentials{rgw().access_key, rgw().secret_key, ""});
    auto made = co_await setup.create_bucket();
    if (!made) {
        CO_ASSERT_EQ(made.error().code, "BucketAlreadyOwnedByYou");
    }
    auto store = open_store(*config);
    CO_ASSERT_RESULT(store);
    auto created = co_await ping_repository(**store, "profile_repo", false, 1700000000000);
    CO_ASSERT_RESULT(created);
    auto again = co_await ping_repository(**store, "profile_repo", true, 1800000000000);
    CO_ASSERT_RESULT(again);
    EXPECT_EQ(again->create_time_ms, created->create_time_ms);
    EXPECT_EQ(server->credential_requests, 1) << "the store's requests share the cached credentials";
}

CO_TEST(repository_credentials, instance_profile_opens_a_store_on_rgw) {
    REQUIRE_RGW();
    imds_server server;
    server.handed = aws_credentials{rgw().access_key, rgw().secret_key, ""};
    CO_ASSERT_TRUE(server.bind());
    co_await with_imds(&server, instance_profile_repository(&server));
}
