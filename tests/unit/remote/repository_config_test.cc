// SPDX-License-Identifier: Apache-2.0
// parse_repository_config: schemes, every property alias, contradictions and unknown names,
// defaults (addressing, transport, payload signing), and that no secret value reaches a
// message or the redacted view.
#include "remote/repository_config.hh"

#include <gtest/gtest.h>

namespace tv::remote {
namespace {

const property_list keys{{"aws.s3.access_key", "AKIAEXAMPLEKEY"}, {"aws.s3.secret_key", "wJalrSECRET/K7MDENG"}};

repository_config ok(std::string_view location, const property_list& props = {}) {
    auto c = parse_repository_config(location, props);
    EXPECT_TRUE(c.has_value()) << location << ": " << c.error().message;
    return c ? *c : repository_config{};
}

std::string error(std::string_view location, const property_list& props, remote_errc want = remote_errc::bad_config) {
    auto c = parse_repository_config(location, props);
    EXPECT_FALSE(c.has_value()) << location << " was accepted";
    if (c) {
        return {};
    }
    EXPECT_EQ(static_cast<int>(c.error().code), static_cast<int>(want)) << c.error().message;
    for (const auto& [name, value] : props) {
        if (is_secret_property(name)) {
            EXPECT_EQ(c.error().message.find(value), std::string::npos) << "secret in: " << c.error().message;
        }
    }
    return c.error().message;
}

TEST(RepositoryConfig, LocalLocations) {
    auto a = ok("/backups/tv/");
    EXPECT_EQ(a.kind, store_kind::local);
    EXPECT_EQ(a.local_path, "/backups/tv");
    EXPECT_EQ(a.location, "/backups/tv");
    auto b = ok("file:///backups/tv");
    EXPECT_EQ(b.local_path, "/backups/tv");
    EXPECT_EQ(b.location, "file:///backups/tv");
    EXPECT_EQ(b.redacted(), "local /backups/tv");
    EXPECT_NE(error("file://host/backups", {}).find("file:///absolute/path"), std::string::npos);
    EXPECT_NE(error("backups", {}).find("Invalid repository location 'backups'"), std::string::npos);
    EXPECT_NE(error("/b", {{"aws.s3.region", "x"}}).find("'aws.s3.region' does not apply to a local location"),
              std::string::npos);
}

TEST(RepositoryConfig, UnsupportedSchemesNameTheSupportedOnes) {
    for (std::string_view loc : {"hdfs://nn:8020/b", "oss://bucket/b", "cos://b/p"}) {
        auto message = error(loc, {}, remote_errc::not_supported);
        EXPECT_NE(message.find("repositories are not supported"), std::string::npos) << message;
        EXPECT_NE(message.find(supported_locations()), std::string::npos) << message;
    }
    EXPECT_EQ(error("hdfs://nn:8020/b", {}, remote_errc::not_supported),
              "hdfs:// repositories are not supported; supported locations: file:///absolute/path, an absolute "
              "path, s3://bucket/prefix, s3a://, s3n:// or gs://");
}

TEST(RepositoryConfig, S3SchemesBucketAndPrefix) {
    for (std::string_view scheme : {"s3", "s3a", "s3n"}) {
        auto c = ok(std::string(scheme) + "://my-bucket/a/b/", keys);
        EXPECT_EQ(c.kind, store_kind::s3);
        EXPECT_EQ(c.scheme, scheme);
        EXPECT_EQ(c.bucket, "my-bucket");
        EXPECT_EQ(c.prefix, "a/b");
        EXPECT_EQ(c.location, std::string(scheme) + "://my-bucket/a/b");
    }
    EXPECT_EQ(ok("s3://only-bucket", keys).prefix, "");
    EXPECT_NE(error("s3:///prefix", keys).find("expected s3://bucket[/prefix]"), std::string::npos);
}

TEST(RepositoryConfig, AwsDefaultsAreVirtualHostedHttpsUnsigned) {
    auto c = ok("s3://b/p", keys);
    EXPECT_EQ(c.endpoint_host, "s3.us-east-1.amazonaws.com");
    EXPECT_FALSE(c.endpoint_given);
    EXPECT_FALSE(c.path_style);
    EXPECT_TRUE(c.use_https);
    EXPECT_EQ(c.signing, payload_signing::unsigned_payload);
    EXPECT_EQ(c.credentials, credential_source::static_keys);
    EXPECT_EQ(c.region, "us-east-1");
    property_list with_region = keys;
    with_region.push_back({"aws.s3.region", "eu-west-1"});
    EXPECT_EQ(ok("s3://b/p", with_region).endpoint_host, "s3.eu-west-1.amazonaws.com");
    EXPECT_EQ(ok("s3://b", {}).credentials, credential_source::environment);
}

TEST(RepositoryConfig, EndpointForms) {
    property_list p = keys;
    p.push_back({"aws.s3.endpoint", "http://127.0.0.1:9000/"});
    auto c = ok("s3://b/p", p);
    EXPECT_EQ(c.endpoint_host, "127.0.0.1:9000");
    EXPECT_FALSE(c.use_https);
    EXPECT_TRUE(c.path_style) << "path-style when an endpoint is given";
    EXPECT_EQ(c.signing, payload_signing::signed_payload) << "plain HTTP signs the payload";

    p.back().second = "minio.local:9000";
    c = ok("s3://b/p", p);
    EXPECT_TRUE(c.use_https);
    EXPECT_EQ(c.endpoint_host, "minio.local:9000");

    p.back().second = "https://s3.example.com";
    p.push_back({"aws.s3.enable_path_style_access", "false"});
    c = ok("s3://b/p", p);
    EXPECT_FALSE(c.path_style);

    p.push_back({"aws.s3.enable_ssl", "false"});
    EXPECT_NE(error("s3://b/p", p).find("'aws.s3.endpoint' and 'aws.s3.enable_ssl' contradict each other"),
              std::string::npos);
    p.back().second = "true";
    ok("s3://b/p", p);

    property_list no_scheme = keys;
    no_scheme.push_back({"aws.s3.endpoint", "storage.local"});
    no_scheme.push_back({"aws.s3.enable_ssl", "false"});
    EXPECT_FALSE(ok("s3://b/p", no_scheme).use_https);

    property_list bad = keys;
    bad.push_back({"aws.s3.endpoint", "ftp://host"});
    EXPECT_NE(error("s3://b/p", bad).find("unsupported scheme"), std::string::npos);
    bad.back().second = "http://host/path";
    EXPECT_NE(error("s3://b/p", bad).find("Invalid endpoint"), std::string::npos);
}

TEST(RepositoryConfig, GcsUsesTheInteroperabilityEndpoint) {
    auto c = ok("gs://bucket/backups", {{"fs.s3a.access.key", "GOOG1E"}, {"fs.s3a.secret.key", "gsecret"},
                                        {"fs.s3a.endpoint", "storage.googleapis.com"}});
    EXPECT_EQ(c.endpoint_host, "storage.googleapis.com");
    EXPECT_EQ(c.access_key, "GOOG1E");
    EXPECT_EQ(c.secret_key, "gsecret");
    auto d = ok("gs://bucket", {});
    EXPECT_EQ(d.endpoint_host, "storage.googleapis.com");
    EXPECT_TRUE(d.path_style);
    EXPECT_EQ(d.region, "auto");
}

TEST(RepositoryConfig, EveryAliasMapsToTheSameSetting) {
    struct family {
        std::vector<std::string> names;
        std::string repository_config::*field;
    };
    std::vector<family> families{
        {{"aws.s3.access_key", "fs.s3a.access.key", "AWS_ACCESS_KEY", "s3.access_key"}, &repository_config::access_key},
        {{"aws.s3.secret_key", "fs.s3a.secret.key", "AWS_SECRET_KEY", "s3.secret_key"}, &repository_config::secret_key},
        {{"aws.s3.session_token", "fs.s3a.session.token", "AWS_TOKEN", "s3.session_token"},
         &repository_config::session_token},
        {{"aws.s3.region", "AWS_REGION", "s3.region"}, &repository_config::region},
        {{"aws.s3.endpoint", "fs.s3a.endpoint", "AWS_ENDPOINT", "s3.endpoint"}, &repository_config::endpoint_host},
    };
    for (const auto& f : families) {
        for (const auto& name : f.names) {
            property_list p{{"AWS_ACCESS_KEY", "ak"}, {"AWS_SECRET_KEY", "sk"}};
            std::erase_if(p, [&](const auto& kv) {
                return (f.field == &repository_config::access_key || f.field == &repository_config::secret_key) &&
                       kv.first == (f.field == &repository_config::access_key ? "AWS_ACCESS_KEY" : "AWS_SECRET_KEY");
            });
            p.push_back({name, "value-1"});
            auto c = ok("s3://b", p);
            EXPECT_EQ(c.*f.field, "value-1") << name;
        }
    }
    for (std::string_view name : {"aws.s3.enable_path_style_access", "fs.s3a.path.style.access", "use_path_style"}) {
        property_list p{{std::string(name), "TRUE"}};
        EXPECT_TRUE(ok("s3://b", p).path_style) << name;
    }
    property_list role{{"aws.s3.use_instance_profile", "true"}, {"aws.s3.iam_role_arn", "arn:aws:iam::1:role/r"},
                       {"aws.s3.external_id", "ext-secret"}};
    auto c = ok("s3://b", role);
    EXPECT_EQ(c.credentials, credential_source::instance_profile);
    EXPECT_EQ(c.iam_role_arn, "arn:aws:iam::1:role/r");
    EXPECT_EQ(c.external_id, "ext-secret");
    property_list signing{{"aws.s3.payload_signing", "signed"}, {"aws.s3.ca_file", "/etc/ssl/ca.pem"},
                          {std::string(tls_verify_property), "false"}};
    c = ok("s3://b", signing);
    EXPECT_EQ(c.signing, payload_signing::signed_payload);
    EXPECT_EQ(c.ca_file, "/etc/ssl/ca.pem");
    EXPECT_FALSE(c.verify_tls);
}

TEST(RepositoryConfig, UnknownAndContradictoryProperties) {
    EXPECT_EQ(error("s3://b", {{"aws.s3.acess_key", "x"}}),
              "Unknown repository property 'aws.s3.acess_key'; accepted names are aws.s3.*, fs.s3a.*, AWS_* and "
              "s3.* (see docs/sql/repository.md)");
    EXPECT_EQ(error("s3://b", {{"aws.s3.access_key", "AK1"}, {"aws.s3.secret_key", "S1"}, {"AWS_ACCESS_KEY", "AK2"}}),
              "Repository properties 'aws.s3.access_key' and 'AWS_ACCESS_KEY' both set the access key, to different "
              "values");
    EXPECT_EQ(error("s3://b", {{"aws.s3.region", "us-east-1"}, {"s3.region", "eu-west-1"}}),
              "Repository properties 'aws.s3.region' and 's3.region' both set the region, to different values");
    // The same value under two names is not a contradiction.
    ok("s3://b", {{"aws.s3.region", "us-east-1"}, {"AWS_REGION", "us-east-1"}});

    EXPECT_EQ(error("s3://b", {{"s3.access_key", "AK"}}),
              "Repository property 's3.access_key' is set without a secret key (aws.s3.secret_key)");
    EXPECT_EQ(error("s3://b", {{"fs.s3a.secret.key", "SK"}}),
              "Repository property 'fs.s3a.secret.key' is set without an access key (aws.s3.access_key)");
    EXPECT_NE(error("s3://b", {{"aws.s3.session_token", "tok-SECRET-123"}}).find("needs an access key and a secret key"),
              std::string::npos);
    property_list both = keys;
    both.push_back({"aws.s3.use_instance_profile", "true"});
    EXPECT_EQ(error("s3://b", both),
              "Repository properties 'aws.s3.use_instance_profile' and 'aws.s3.access_key' contradict each other: "
              "use either the instance profile or static keys");
    EXPECT_NE(error("s3://b", {{"aws.s3.iam_role_arn", "arn:aws:iam::1:role/r"}})
                  .find("'aws.s3.iam_role_arn' needs a credential source"),
              std::string::npos);
    EXPECT_NE(error("s3://b", {{"aws.s3.external_id", "ext-SECRET-456"}}).find("needs aws.s3.iam_role_arn"), std::string::npos);
    EXPECT_NE(error("s3://b", {{"aws.s3.use_instance_profile", "yes"}})
                  .find("Invalid value 'yes' for repository property 'aws.s3.use_instance_profile'"),
              std::string::npos);
    EXPECT_NE(error("s3://b", {{"aws.s3.payload_signing", "sometimes"}}).find("expected signed or unsigned"),
              std::string::npos);
    EXPECT_NE(error("s3://b", {{"aws.s3.endpoint", "http://h"}, {"aws.s3.ca_file", "/ca.pem"}})
                  .find("needs an HTTPS endpoint"),
              std::string::npos);
}

TEST(RepositoryConfig, RedactionNeverShowsSecrets) {
    property_list p{{"aws.s3.access_key", "AKIAEXAMPLEKEY"}, {"aws.s3.secret_key", "wJalrSECRET/K7MDENG"},
                    {"aws.s3.session_token", "FQoGZXIvYXdzSESSION"}, {"aws.s3.endpoint", "http://127.0.0.1:9000"},
                    {"aws.s3.region", "us-west-2"}};
    auto c = ok("s3://bucket/prefix", p);
    std::string text = c.redacted();
    for (std::string_view secret : {"AKIAEXAMPLEKEY", "wJalrSECRET/K7MDENG", "FQoGZXIvYXdzSESSION"}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << text;
    }
    EXPECT_EQ(text,
              "s3://bucket/prefix bucket=bucket prefix=prefix endpoint=http://127.0.0.1:9000 region=us-west-2 "
              "addressing=path-style credentials=static access_key=****** secret_key=****** session_token=****** "
              "payload=signed");
    auto shown = redact_properties(p);
    EXPECT_EQ(shown[0].second, "******");
    EXPECT_EQ(shown[1].second, "******");
    EXPECT_EQ(shown[2].second, "******");
    EXPECT_EQ(shown[3].second, "http://127.0.0.1:9000");
    EXPECT_EQ(shown[4].second, "us-west-2");
    EXPECT_TRUE(is_secret_property("AWS_SECRET_KEY"));
    EXPECT_TRUE(is_secret_property("fs.s3a.secret.key"));
    EXPECT_TRUE(is_secret_property("aws.s3.secret_kye")) << "a mistyped secret is still masked";
    EXPECT_FALSE(is_secret_property("aws.s3.region"));
}

TEST(RepositoryConfig, StsAndImdsEndpoints) {
    property_list role = keys;
    role.push_back({"aws.s3.iam_role_arn", "arn:aws:iam::1:role/r"});
    // AWS: the region's STS; an S3-compatible store: its own endpoint (MinIO and RGW serve STS).
    property_list aws = role;
    aws.push_back({"aws.s3.region", "eu-west-1"});
    EXPECT_EQ(ok("s3://b", aws).sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
    property_list store = role;
    store.push_back({"aws.s3.endpoint", "http://127.0.0.1:9000"});
    EXPECT_EQ(ok("s3://b", store).sts_endpoint, "http://127.0.0.1:9000");
    property_list given = store;
    given.push_back({"aws.s3.sts_endpoint", "sts.internal:8443"});  // no scheme: the repository's
    EXPECT_EQ(ok("s3://b", given).sts_endpoint, "http://sts.internal:8443");
    given.back().second = "https://sts.internal/";
    auto c = ok("s3://b", given);
    EXPECT_EQ(c.sts_endpoint, "https://sts.internal");
    EXPECT_EQ(c.redacted(), "s3://b bucket=b prefix=(none) endpoint=http://127.0.0.1:9000 region=us-east-1 "
                            "addressing=path-style credentials=static access_key=****** secret_key=****** "
                            "assume_role=arn:aws:iam::1:role/r sts_endpoint=https://sts.internal payload=signed");
    EXPECT_EQ(ok("s3://b", keys).sts_endpoint, "") << "no role, no STS";

    property_list profile{{"aws.s3.use_instance_profile", "true"}, {"aws.s3.imds_endpoint", "127.0.0.1:1338"}};
    EXPECT_EQ(ok("s3://b", profile).imds_endpoint, "http://127.0.0.1:1338");
    EXPECT_EQ(ok("s3://b", {{"aws.s3.use_instance_profile", "true"}}).imds_endpoint, "")
        << "empty: AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254 when the store opens";

    EXPECT_EQ(error("s3://b", {{"aws.s3.sts_endpoint", "http://h"}}),
              "Repository property 'aws.s3.sts_endpoint' needs aws.s3.iam_role_arn");
    EXPECT_EQ(error("s3://b", {{"aws.s3.imds_endpoint", "http://h"}}),
              "Repository property 'aws.s3.imds_endpoint' needs aws.s3.use_instance_profile = true");
    profile.back().second = "https://169.254.169.254";
    EXPECT_EQ(error("s3://b", profile),
              "Repository property 'aws.s3.imds_endpoint' must be an http:// URL: the instance metadata service speaks "
              "plain HTTP only");
    profile.back().second = "http://h/latest";
    EXPECT_EQ(error("s3://b", profile),
              "Invalid endpoint 'http://h/latest' in repository property 'aws.s3.imds_endpoint': expected host[:port], "
              "with or without http:// or https://");
    given.back().second = "ftp://sts";
    EXPECT_EQ(error("s3://b", given),
              "Repository property 'aws.s3.sts_endpoint' has an unsupported scheme in 'ftp://sts': use http:// or "
              "https://");
}

}  // namespace
}  // namespace tv::remote

namespace tv::remote {
namespace {

// ---- control characters: every value reaches a header, a URL or a path ----------------------

TEST(RepositoryConfig, ControlCharactersInAnyValueAreRefusedNamingTheProperty) {
    const property_list base{{"aws.s3.access_key", "AKIAEXAMPLEKEY"},
                             {"aws.s3.secret_key", "wJalrSECRET/K7MDENG"},
                             {"aws.s3.session_token", "FwoGZXIvYXdzEXAMPLE"},
                             {"aws.s3.endpoint", "http://127.0.0.1:9000"},
                             {"aws.s3.region", "us-east-1"}};
    for (size_t i = 0; i < base.size(); ++i) {
        for (std::string bad : {std::string("\r\n\r\nDELETE /x HTTP/1.1\r\nHost: y\r\n\r\n"), std::string("\n"),
                                std::string("\r"), std::string("\0", 1), std::string("\x7f"), std::string("\t"),
                                std::string("\x1b[31m")}) {
            property_list props = base;
            props[i].second += bad;
            auto message = error("s3://bucket/prefix", props);
            EXPECT_TRUE(message.starts_with("Invalid value for repository property '" + props[i].first +
                                            "': it contains the control character 0x"))
                << message;
            EXPECT_EQ(message.find("DELETE"), std::string::npos) << "the value is not echoed: " << message;
        }
    }
    EXPECT_EQ(error("s3://bucket/prefix", {{"aws.s3.session_token", "tok\r\nen"}}),
              "Invalid value for repository property 'aws.s3.session_token': it contains the control character "
              "0x0D; control characters (0x00-0x1F, 0x7F) are not allowed");
    // Checked before anything else: an unknown or misplaced property with a bad value, too.
    EXPECT_TRUE(error("s3://b/p", {{"fs.s3a.session.token", "a\nb"}}).find("'fs.s3a.session.token'") !=
                std::string::npos);
    EXPECT_TRUE(error("/local", {{"aws.s3.region", "a\nb"}}).find("'aws.s3.region'") != std::string::npos);
    EXPECT_EQ(error("s3://b/p", {{"aws.s3.re\ngion", "x"}}),
              "Invalid repository property name: it contains a control character (0x00-0x1F, 0x7F)");
    // Bytes above 0x7F (UTF-8) are not control characters.
    ok("s3://bucket/préfixe", {{"aws.s3.access_key", "AKIA"}, {"aws.s3.secret_key", "sécret"}});
}

TEST(RepositoryConfig, ControlCharactersInTheLocationAreRefused) {
    for (std::string_view loc : {"s3://bucket/p\r\nX: y", "/backups/a\nb", "file:///backups/\x01", "gs://b\x7f/p"}) {
        auto message = error(loc, {});
        EXPECT_TRUE(message.starts_with("Invalid repository location: it contains the control character 0x"))
            << message;
    }
}

// ---- local paths: normalized, no '..' ---------------------------------------------------------

TEST(RepositoryConfig, LocalPathsAreNormalizedAndRefuseDotDot) {
    EXPECT_EQ(ok("/backups//tv/./x/").local_path, "/backups/tv/x");
    EXPECT_EQ(ok("file:///backups/./tv").local_path, "/backups/tv");
    EXPECT_EQ(ok("/backups//tv/").location, "/backups//tv");  // shown as written
    for (std::string_view loc : {"/backups/../etc", "file:///a/../b", "/..", "/a/b/.."}) {
        auto message = error(loc, {});
        EXPECT_NE(message.find("'..' segments are not allowed"), std::string::npos) << message;
    }
    // '..' inside a name is just a name.
    EXPECT_EQ(ok("/backups/..x/y..").local_path, "/backups/..x/y..");
}

// ---- the endpoint as the user wrote it --------------------------------------------------------

TEST(RepositoryConfig, EndpointTextIsAsGiven) {
    auto c = ok("s3://b/p", {{"aws.s3.access_key", "A"}, {"aws.s3.secret_key", "S"}, {"aws.s3.endpoint", "127.0.0.1:9000/"}});
    EXPECT_EQ(c.endpoint_text, "127.0.0.1:9000/");
    auto aws = ok("s3://b/p", {{"aws.s3.access_key", "A"}, {"aws.s3.secret_key", "S"}, {"aws.s3.region", "eu-west-1"}});
    EXPECT_EQ(aws.endpoint_text, "https://s3.eu-west-1.amazonaws.com");
    auto role = ok("s3://b/p", {{"aws.s3.access_key", "A"},
                                {"aws.s3.secret_key", "S"},
                                {"aws.s3.iam_role_arn", "arn:aws:iam::1:role/r"},
                                {"aws.s3.sts_endpoint", "sts.local:8443"}});
    EXPECT_EQ(role.sts_endpoint_text, "sts.local:8443");
    EXPECT_EQ(role.sts_endpoint, "https://sts.local:8443");
}

}  // namespace
}  // namespace tv::remote
