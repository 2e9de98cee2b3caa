// SPDX-License-Identifier: Apache-2.0
// Credential sources: static keys, the environment (read at every request, used on Ceph RGW),
// service endpoint parsing, and the instance profile through IMDSv2 on moto_server and on the
// small IMDS server of credentials_test_util.hh (token required, credentials fetched again
// before they expire, one fetch shared by concurrent callers, clear errors).
#include "unit/remote/credentials_test_util.hh"

using namespace tv;
using namespace tv::remote;
using namespace tv::testing;
using namespace std::chrono_literals;

// ---- static keys, environment, endpoints ------------------------------------------------------

CO_TEST(credentials, environment_is_read_at_every_request) {
    scoped_env access("AWS_ACCESS_KEY_ID", "AKIDFIRST");
    scoped_env secret("AWS_SECRET_ACCESS_KEY", "first-secret");
    scoped_env token("AWS_SESSION_TOKEN", std::nullopt);
    environment_credentials_provider provider;
    auto first = co_await provider.get();
    CO_ASSERT_RESULT(first);
    EXPECT_EQ(first->access_key, "AKIDFIRST");
    EXPECT_EQ(first->secret_key, "first-secret");
    EXPECT_EQ(first->session_token, "");

    ::setenv("AWS_ACCESS_KEY_ID", "AKIDROTATED", 1);
    ::setenv("AWS_SESSION_TOKEN", "rotated-token", 1);
    auto rotated = co_await provider.get();
    CO_ASSERT_RESULT(rotated);
    EXPECT_EQ(rotated->access_key, "AKIDROTATED");
    EXPECT_EQ(rotated->session_token, "rotated-token");

    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    auto gone = co_await provider.get();
    CO_ASSERT_FALSE(gone.has_value());
    EXPECT_EQ(gone.error().code, remote_errc::bad_config);
    EXPECT_EQ(gone.error().message, "no credentials: set aws.s3.access_key and aws.s3.secret_key, or "
                                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the server's environment");

    static_credentials_provider fixed(aws_credentials{"AKIDSTATIC", "static-secret", "static-token"});
    auto keys = co_await fixed.get();
    CO_ASSERT_RESULT(keys);
    EXPECT_EQ(keys->access_key, "AKIDSTATIC");
    EXPECT_EQ(keys->session_token, "static-token");
}

CO_TEST(credentials, environment_keys_sign_requests_on_rgw) {
    REQUIRE_RGW();
    const auto& gw = tv::testing::rgw();
    scoped_env access("AWS_ACCESS_KEY_ID", gw.access_key);
    scoped_env secret("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    scoped_env token("AWS_SESSION_TOKEN", std::nullopt);
    s3_client client(tv::testing::rgw_options("tv-creds-env"), std::make_shared<environment_credentials_provider>());
    auto refused = co_await client.create_bucket();
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, "SignatureDoesNotMatch") << refused.error().message;

    ::setenv("AWS_SECRET_ACCESS_KEY", gw.secret_key.c_str(), 1);  // fixed in place: the next request uses it
    auto made = co_await client.create_bucket();
    if (!made) {
        CO_ASSERT_EQ(made.error().code, "BucketAlreadyOwnedByYou");
    }
    std::string body = "signed with keys from the environment";
    CO_ASSERT_RESULT(co_await client.put_object("env.txt", bytes_of(body)));
    auto back = co_await client.get_object("env.txt");
    CO_ASSERT_RESULT(back);
    EXPECT_EQ(*back, body);
}

TEST(credentials, service_endpoints) {
    auto plain = parse_service_endpoint("http://169.254.169.254", "IMDS endpoint");
    ASSERT_TRUE(plain.has_value());
    EXPECT_FALSE(plain->https);
    EXPECT_EQ(plain->host, "169.254.169.254");
    EXPECT_EQ(plain->port, 80);
    EXPECT_EQ(plain->host_header(), "169.254.169.254");
    auto tls = parse_service_endpoint("https://sts.eu-west-1.amazonaws.com/", "STS endpoint");
    ASSERT_TRUE(tls.has_value());
    EXPECT_TRUE(tls->https);
    EXPECT_EQ(tls->port, 443);
    EXPECT_EQ(tls->url, "https://sts.eu-west-1.amazonaws.com");
    auto v6 = parse_service_endpoint("http://[fd00:ec2::254]:8080", "IMDS endpoint");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->host, "fd00:ec2::254");
    EXPECT_EQ(v6->port, 8080);
    EXPECT_EQ(v6->host_header(), "[fd00:ec2::254]:8080");
    EXPECT_EQ(parse_service_endpoint("169.254.169.254", "IMDS endpoint").error().message,
              "invalid IMDS endpoint '169.254.169.254': expected http://host[:port] or https://host[:port]");
    EXPECT_EQ(parse_service_endpoint("http://h:99999", "STS endpoint").error().message,
              "invalid STS endpoint 'http://h:99999': the port must be a number from 1 to 65535");
    EXPECT_FALSE(parse_service_endpoint("http://h/path", "STS endpoint").has_value());

    {
        scoped_env unset("AWS_EC2_METADATA_SERVICE_ENDPOINT", std::nullopt);
        EXPECT_EQ(default_imds_endpoint(), "http://169.254.169.254");
    }
    scoped_env set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338");
    EXPECT_EQ(default_imds_endpoint(), "http://127.0.0.1:1338");
    EXPECT_EQ(imds_credentials_provider::create({})->get()->describe(),
              "instance profile (IMDS at http://127.0.0.1:1338)");
    imds_options tls_imds;
    tls_imds.endpoint = "https://127.0.0.1";
    EXPECT_EQ(imds_credentials_provider::create(tls_imds).error().message,
              "instance profile credentials: invalid IMDS endpoint 'https://127.0.0.1': the instance metadata "
              "service speaks plain HTTP only (http://)");
}

// ---- IMDSv2 -------------------------------------------------------------------------------------

CO_TEST(imds, moto_serves_instance_profile_credentials) {
    REQUIRE_MOTO();
    imds_options options;
    options.endpoint = tv::testing::moto().endpoint_url();
    auto provider = imds_credentials_provider::create(options);
    CO_ASSERT_RESULT(provider);
    auto got = co_await (*provider)->get();
    CO_ASSERT_RESULT(got);
    // moto's fixed instance-profile answer.
    EXPECT_EQ(got->access_key, "test-key");
    EXPECT_EQ(got->secret_key, "test-secret-key");
    EXPECT_EQ(got->session_token, "test-session-token");
    auto again = co_await (*provider)->get();
    CO_ASSERT_RESULT(again);
    EXPECT_EQ((*provider)->fetches(), 1u) << "day-long credentials are cached";
}

static io::task<void> token_and_refresh(imds_server* server) {
    imds_options options;
    options.endpoint = server->url();
    options.refresh_ahead = 2s;
    auto provider = imds_credentials_provider::create(options);
    CO_ASSERT_RESULT(provider);
    auto& imds = **provider;
    auto started = std::chrono::steady_clock::now();
    auto first = co_await imds.get();
    CO_ASSERT_RESULT(first);
    EXPECT_EQ(first->access_key, "AKIDIMDSTEST");
    EXPECT_EQ(first->secret_key, "imds-test-secret");
    EXPECT_EQ(first->session_token, "imds-session-1");
    EXPECT_EQ(server->token_requests, 1);
    EXPECT_EQ(server->ttl_header, "21600");
    EXPECT_EQ(server->rejected, 0) << "every metadata GET carried the session token";
    EXPECT_EQ(server->credential_requests, 1);

    // The credentials expire 4-5 s after they were handed out (whole seconds); with a 2 s lead
    // they are fetched again between 2 and 3 s after the first fetch, and not before.
    co_await io::sleep(started + 1s - std::chrono::steady_clock::now());
    auto cached = co_await imds.get();
    CO_ASSERT_RESULT(cached);
    EXPECT_EQ(cached->session_token, "imds-session-1");
    EXPECT_EQ(server->credential_requests, 1) << "fetched again long before the expiry";
    EXPECT_EQ(imds.fetches(), 1u);

    co_await io::sleep(started + 3500ms - std::chrono::steady_clock::now());
    auto refreshed = co_await imds.get();
    CO_ASSERT_RESULT(refreshed);
    EXPECT_EQ(refreshed->session_token, "imds-session-2") << "new credentials before the old ones expired";
    EXPECT_EQ(server->credential_requests, 2);
    EXPECT_EQ(server->token_requests, 2);
    EXPECT_EQ(server->rejected, 0);
    EXPECT_EQ(imds.fetches(), 2u);
}

CO_TEST(imds, token_required_and_credentials_refreshed_before_expiry) {
    imds_server server;
    server.lifetime = 5s;
    CO_ASSERT_TRUE(server.bind());
    co_await with_imds(&server, token_and_refresh(&server));
}

static io::task<remote_result<aws_credentials>> get_from(credentials_provider* provider) {
    co_return co_await provider->get();
}

static io::task<std::string> put_one(s3_client* client, int i) {
    std::string body = fmt::format("object {} signed with instance-profile keys", i);
    auto r = co_await client->put_object(fmt::format("imds/{}.txt", i), bytes_of(body));
    co_return r ? std::string() : r.error().message;
}

static io::task<void> shared_refresh_on_rgw(imds_server* server) {
    imds_options options;
    options.endpoint = server->url();
    auto provider = imds_credentials_provider::create(options);
    CO_ASSERT_RESULT(provider);
    // Eight callers at once on one loop: one fetch, the others wait for it.
    std::vector<io::task<remote_result<aws_credentials>>> callers;
    for (int i = 0; i < 8; ++i) {
        callers.push_back(get_from(provider->get()));
    }
    auto results = co_await io::when_all(std::move(callers));
    for (auto& r : results) {
        CO_ASSERT_RESULT(r);
        EXPECT_EQ(r->access_key, tv::testing::rgw().access_key);
    }
    EXPECT_EQ(server->credential_requests, 1);
    EXPECT_EQ((*provider)->fetches(), 1u);

    // The same through the S3 client: concurrent uploads signed with the instance profile's keys.
    auto fresh = imds_credentials_provider::create(options);
    CO_ASSERT_RESULT(fresh);
    s3_client client(tv::testing::rgw_options("tv-creds-imds"), *fresh);
    auto made = co_await client.create_bucket();
    if (!made) {
        CO_ASSERT_EQ(made.error().code, "BucketAlreadyOwnedByYou");
    }
    std::vector<io::task<std::string>> uploads;
    for (int i = 0; i < 6; ++i) {
        uploads.push_back(put_one(&client, i));
    }
    auto failures = co_await io::when_all(std::move(uploads));
    for (const auto& f : failures) {
        EXPECT_EQ(f, "");
    }
    EXPECT_EQ(server->credential_requests, 2) << "one fetch per provider";
    auto back = co_await client.get_object("imds/3.txt");
    CO_ASSERT_RESULT(back);
    EXPECT_EQ(*back, "object 3 signed with instance-profile keys");
}

CO_TEST(imds, concurrent_requests_share_one_fetch_and_sign_on_rgw) {
    REQUIRE_RGW();
    imds_server server;
    server.handed = aws_credentials{tv::testing::rgw().access_key, tv::testing::rgw().secret_key, ""};
    CO_ASSERT_TRUE(server.bind());
    co_await with_imds(&server, shared_refresh_on_rgw(&server));
}

static io::task<void> imds_errors(imds_server* server) {
    imds_options options;
    options.endpoint = server->url();
    server->role_attached = false;
    auto no_role = imds_credentials_provider::create(options);
    CO_ASSERT_RESULT(no_role);
    auto none = co_await (*no_role)->get();
    CO_ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code, remote_errc::permission_denied);
    EXPECT_EQ(none.error().message,
              fmt::format("instance profile credentials: no IAM role is attached to this instance (IMDS at {} "
                          "answered 404 for /latest/meta-data/iam/security-credentials/)",
                          server->url()));
    // Through the client: a refusal is not retried.
    s3_client client(fast_retries(tv::testing::moto_options("tv-creds-none")), *no_role);
    auto put = co_await client.put_object("k", bytes_of("x"));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().kind, s3_error_kind::credentials);
    EXPECT_EQ(put.error().attempts, 1);
    EXPECT_EQ(put.error().message, "PutObject s3://tv-creds-none/k: " + none.error().message);
    EXPECT_EQ(put.error().to_remote_error().code, remote_errc::permission_denied);

    server->refuse_tokens = true;
    auto v1_only = imds_credentials_provider::create(options);
    auto refused = co_await (*v1_only)->get();
    CO_ASSERT_FALSE(refused.has_value());
    // Without a session token nothing says IMDS answered: the refusal reads like any failure to
    // reach the endpoint (the server log has "HTTP 403").
    EXPECT_EQ(refused.error().message,
              fmt::format("instance profile credentials: could not reach endpoint {}: connection failed",
                          server->url()));
}

CO_TEST(imds, no_role_and_no_token_are_clear_errors) {
    imds_server server;
    CO_ASSERT_TRUE(server.bind());
    co_await with_imds(&server, imds_errors(&server));
}

CO_TEST(imds, unreachable_endpoint_is_a_clear_retried_error) {
    imds_options options;
    options.endpoint = fmt::format("http://127.0.0.1:{}", closed_port());
    auto provider = imds_credentials_provider::create(options);
    CO_ASSERT_RESULT(provider);
    auto got = co_await (*provider)->get();
    CO_ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, remote_errc::io_error);
    EXPECT_EQ(got.error().message,
              fmt::format("instance profile credentials: could not reach endpoint {}: connection failed",
                          options.endpoint));
    s3_client client(fast_retries(tv::testing::moto_options("tv-creds-none", closed_port())), *provider);
    auto put = co_await client.put_object("k", bytes_of("x"));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().kind, s3_error_kind::credentials);
    EXPECT_EQ(put.error().attempts, 4) << "an unreachable IMDS may come back: retried like a network error";
    EXPECT_EQ(put.error().message, "PutObject s3://tv-creds-none/k: " + got.error().message + " (after 4 attempts)");
    // Users (CREATE REPOSITORY, BACKUP) read only which endpoint could not be reached.
    EXPECT_EQ(put.error().to_remote_error().message,
              fmt::format("could not reach endpoint {}: connection failed", options.endpoint));
}

