// SPDX-License-Identifier: Apache-2.0
// What the credential tests share: a small IMDSv2 server run on the test's own loop, IAM set-up
// and STS records on moto_server, and scoped environment variables. Header-only: the test
// executable is made of the *_test.cc files of this folder.
#pragma once

#include "support/co_test.hh"
#include "unit/remote/s3_test_util.hh"

#include "io/ops.hh"
#include "io/when_all.hh"
#include "remote/credentials.hh"
#include "remote/s3_client.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <optional>

namespace tv::testing {

using namespace tv::remote;
using namespace std::chrono_literals;

inline constexpr std::string_view role_arn = "arn:aws:iam::123456789012:role/tv-role";
inline constexpr std::string_view imds_role = "tv-instance-role";

/// Sets (or, with nullopt, unsets) an environment variable for one scope.
class scoped_env {
public:
    scoped_env(const char* name, std::optional<std::string> value) : _name(name) {
        if (const char* old = std::getenv(name)) {
            _old = old;
        }
        set(value);
    }
    ~scoped_env() { set(_old); }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(_name, value->c_str(), 1);
        } else {
            ::unsetenv(_name);
        }
    }
    const char* _name;
    std::optional<std::string> _old;
};

inline std::string iso8601(std::chrono::system_clock::time_point t) {
    std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

inline uint16_t closed_port() {
    auto l = io::listen_tcp("127.0.0.1", 0);
    return l ? l->port : 1;  // the listener closes here: nothing listens on the port now
}

/// A small IMDSv2 server. moto_server answers the IMDS paths too (the first IMDS test uses it),
/// but it ignores the session token and always hands out day-long credentials, so it can show
/// neither that the token is sent nor that credentials are fetched again near their expiry.
/// This one requires a token it issued on every metadata GET (401 otherwise, as IMDSv2 does),
/// and its credentials expire `lifetime` after they are handed out.
struct imds_server {
    aws_credentials handed{"AKIDIMDSTEST", "imds-test-secret", "imds-session"};  ///< token "" = none
    std::chrono::seconds lifetime{3600};
    bool role_attached = true;
    bool refuse_tokens = false;  ///< answer the token PUT with 403 (an IMDSv1-only endpoint)
    int token_requests = 0;
    int credential_requests = 0;
    int rejected = 0;  ///< metadata requests without a valid token
    std::string ttl_header;
    std::vector<std::string> issued;
    io::listener listener;
    io::gate gate;
    std::stop_source stop;

    bool bind() {
        auto l = io::listen_tcp("127.0.0.1", 0);
        if (!l) {
            return false;
        }
        listener = std::move(*l);
        return true;
    }
    std::string url() const { return fmt::format("http://127.0.0.1:{}", listener.port); }

    io::http_response answer(const io::http_request& req) {
        io::http_response out;
        out.content_type = "text/plain";
        std::string path(req.path());
        std::string token(req.header("X-aws-ec2-metadata-token"));
        std::string prefix = "/latest/meta-data/iam/security-credentials/";
        if (req.method == "PUT" && path == "/latest/api/token") {
            ++token_requests;
            ttl_header = std::string(req.header("X-aws-ec2-metadata-token-ttl-seconds"));
            if (refuse_tokens) {
                out.status = 403;
            } else if (ttl_header.empty()) {
                out.status = 400;
            } else {
                issued.push_back(fmt::format("tv-imds-token-{}", issued.size() + 1));
                out.body = issued.back();
            }
        } else if (req.method != "GET") {
            out.status = 405;
        } else if (std::find(issued.begin(), issued.end(), token) == issued.end()) {
            ++rejected;
            out.status = 401;
        } else if (path == prefix) {
            out.status = role_attached ? 200 : 404;
            out.body = role_attached ? std::string(imds_role) : "";
        } else if (path == prefix + std::string(imds_role) && role_attached) {
            ++credential_requests;
            std::string session =
                handed.session_token.empty() ? "" : fmt::format("{}-{}", handed.session_token, credential_requests);
            auto now = std::chrono::system_clock::now();
            out.content_type = "application/json";
            out.body = fmt::format(
                R"({{"Code":"Success","LastUpdated":"{}","Type":"AWS-HMAC","AccessKeyId":"{}",)"
                R"("SecretAccessKey":"{}","Token":"{}","Expiration":"{}"}})",
                iso8601(now), handed.access_key, handed.secret_key, session, iso8601(now + lifetime));
        } else {
            out.status = 404;
        }
        return out;
    }

    io::task<void> run();
};

inline io::task<void> serve_imds(imds_server* server, io::socket_fd client) {
    std::string carry;
    for (;;) {
        auto request = co_await io::read_request(client.get(), carry, 64 * 1024, server->stop.get_token());
        if (!request || !*request) {
            co_return;
        }
        std::string text = io::serialize(server->answer(**request), true);
        auto sent = co_await io::send_all(client.get(), bytes_of(text));
        if (!sent) {
            co_return;
        }
    }
}

inline io::task<void> imds_server::run() {
    for (;;) {
        auto fd = co_await io::accept(listener.fd.get(), stop.get_token());
        if (!fd) {
            break;
        }
        io::spawn(gate, serve_imds(this, io::socket_fd(*fd)), "test IMDS connection");
    }
    co_await gate.close();
}

inline io::task<void> then_stop(imds_server* server, io::task<void> scenario) {
    try {
        co_await std::move(scenario);
    } catch (...) {
        server->stop.request_stop();
        throw;
    }
    server->stop.request_stop();
}

/// Runs `scenario` while `server` serves on the same loop.
inline io::task<void> with_imds(imds_server* server, io::task<void> scenario) {
    auto serving = server->run();
    auto body = then_stop(server, std::move(scenario));
    co_await io::when_all(std::move(serving), std::move(body));
}

// ---- moto: IAM set-up and what its STS recorded ------------------------------------------------

inline io::task<io::result<io::http_client_response>> moto_iam(std::string form) {
    const auto& m = tv::testing::moto();
    sigv4_signer signer("us-east-1", "iam");
    aws_credentials keys{m.access_key, m.secret_key, ""};
    auto out = signed_form_post(signer, fmt::format("127.0.0.1:{}", m.port), form, keys);
    http_client client;
    http_endpoint where{"127.0.0.1", m.port};
    auto r = co_await client.send(std::move(where), std::move(out));
    co_return r;
}

/// tv-role with a trust policy anyone may assume and an allow-all policy, so that moto's S3
/// authorizes the role's temporary keys. Empty on success.
inline io::task<std::string> ensure_moto_role() {
    std::string trust = uri_encode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":)"
                                   R"({"AWS":"*"},"Action":"sts:AssumeRole"}]})",
                                   false);
    auto created = co_await moto_iam("Action=CreateRole&RoleName=tv-role&Version=2010-05-08&AssumeRolePolicyDocument=" +
                                     trust);
    if (!created || (created->status != 200 && created->body.find("EntityAlreadyExists") == std::string::npos)) {
        co_return "CreateRole failed: " + (created ? created->body : created.error().message());
    }
    std::string policy =
        uri_encode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})", false);
    auto put = co_await moto_iam(
        "Action=PutRolePolicy&RoleName=tv-role&PolicyName=all&Version=2010-05-08&PolicyDocument=" + policy);
    if (!put || put->status != 200) {
        co_return "PutRolePolicy failed: " + (put ? put->body : put.error().message());
    }
    co_return std::string();
}

/// The ExternalId moto's STS recorded for the session whose access key is `access_key`.
inline io::task<std::string> moto_external_id(std::string access_key) {
    http_client client;
    http_client_request req;
    req.method = "GET";
    req.target = "/moto-api/data.json";
    http_endpoint where{"127.0.0.1", tv::testing::moto().port};
    auto r = co_await client.send(std::move(where), std::move(req));
    if (!r || r->status != 200) {
        co_return "(moto-api/data.json unavailable)";
    }
    // IAM's access-key records carry the same id: look in STS's section only.
    auto at = r->body.find(fmt::format(R"("access_key_id": "{}")", access_key), r->body.find(R"("sts": {)"));
    if (at == std::string::npos) {
        co_return "(no such assumed role)";
    }
    std::string_view object = std::string_view(r->body).substr(at, r->body.find('}', at) - at);
    constexpr std::string_view field = R"("external_id": ")";
    auto value = object.find(field);
    if (value == std::string_view::npos) {
        co_return "(no external_id)";
    }
    object.remove_prefix(value + field.size());
    co_return std::string(object.substr(0, object.find('"')));
}

inline std::shared_ptr<credentials_provider> moto_keys(std::string secret = {}) {
    const auto& m = tv::testing::moto();
    return std::make_shared<static_credentials_provider>(
        aws_credentials{m.access_key, secret.empty() ? m.secret_key : secret, ""});
}

inline assume_role_options moto_role_options() {
    assume_role_options options;
    options.role_arn = std::string(role_arn);
    options.endpoint = tv::testing::moto().endpoint_url();
    options.session_name = "tv-credentials-test";
    return options;
}

inline s3_client_options fast_retries(s3_client_options options) {
    options.retry.base_delay = 1ms;
    options.retry.max_delay = 5ms;
    options.retry.throttled_base_delay = 1ms;
    options.retry.throttled_max_delay = 5ms;
    return options;
}

}  // namespace tv::testing

#define REQUIRE_MOTO()                                        \
    do {                                                      \
        if (!tv::testing::moto().running) {                   \
            CO_SKIP(tv::testing::moto().skip_reason);         \
        }                                                     \
    } while (0)

#define REQUIRE_RGW()                                         \
    do {                                                      \
        if (!tv::testing::rgw().running) {                    \
            CO_SKIP(tv::testing::rgw().skip_reason);          \
        }                                                     \
    } while (0)

#define CO_ASSERT_RESULT(r)                                                                        \
    do {                                                                                           \
        auto&& tv_r_ = (r);                                                                        \
        TV_CO_ASSERT(ASSERT_TRUE(tv_r_.has_value()) << #r << ": " << tv_r_.error().message);       \
    } while (0)

